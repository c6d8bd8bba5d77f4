"""One settings module, driven by the environment.

Every variable is documented in README.md ("Configuration"). Defaults are
safe: DEBUG is off unless DJANGO_DEBUG is set, and with DEBUG off a secret key
must be supplied.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            "For a local run, use `make run` (it sets DJANGO_DEBUG=1)."
        )
    SECRET_KEY = "insecure-local-development-key-never-used-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    # The task queue in the database (django.tasks backend): `manage.py db_worker` runs what is queued.
    "django_tasks_db",
    "recognition",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Hashed, compressed static files straight from the app server (or a CDN in front of it).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "recognition.security.PermissionsPolicyMiddleware",
    # Compress HTML, JSON and CSV answers (static files come precompressed), pages at a cheaper level.
    "recognition.compression.FasterGZipMiddleware",
    "recognition.health.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change (django-simple-history), for saves that happen in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login attempt into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out username and address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL: sqlite:///db.sqlite3 by default (embedded, for a first run);
# postgres://user@host:port/name in production and CI (psycopg2).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the database is unreachable: pages answer 503 within seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "3")
    )

# REDIS_URL: a cache shared by every worker and server (production); local memory otherwise.
# Redis is a cache, not a dependency: while it is unreachable pages are answered from the database
# (recognition/sharedcache.py). Short timeouts, so a lost or hung Redis costs a request at most half a
# second, and only one request per process every couple of seconds (the others do not try).
REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache_settings(url):
    """The cache configuration for a Redis at `url` (tests use it for a redis-server of their own)."""
    return {
        "BACKEND": "recognition.sharedcache.SharedRedisCache",
        "LOCATION": url,
        "TIMEOUT": 60 * 60 * 24,
        "KEY_PREFIX": "tracker",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


if REDIS_URL:
    CACHES = {"default": redis_cache_settings(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tracker",
            "TIMEOUT": 60 * 60 * 24,
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

# The admin's address can be moved away from the well-known /admin/.
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"

# The press and corrections contact shown in the footer, on /about/ and on /data/ (empty: not shown; the
# correction form stays the way to reach staff). Checked here so a typo fails at start, not on every page.
CONTACT_EMAIL = os.environ.get("DJANGO_CONTACT_EMAIL", "").strip()
if CONTACT_EMAIL:
    try:
        validate_email(CONTACT_EMAIL)
    except ValidationError as error:
        raise ImproperlyConfigured(f"DJANGO_CONTACT_EMAIL is not an email address: {CONTACT_EMAIL!r}") from error

# The site's public address (https://tracker.example.org), for what leaves without a request to read it
# from: the source-link checker names it in its User-Agent so that sites it visits can see who asks.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "").strip().rstrip("/")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# After collectstatic (`make serve`, production) the files have hashed, compressed copies that
# whitenoise serves with far-future caching. Before it (tests, `make run`) the plain files are
# served from the app folders.
# DJANGO_STATIC_MANIFEST=1 (production, `make serve`): collectstatic writes the manifest and pages use it.
STATIC_COLLECTED = env_bool("DJANGO_STATIC_MANIFEST")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

# --- Security ---------------------------------------------------------------------------------------
# Safe by default: with DEBUG off every setting below is on; `manage.py check --deploy` agrees.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
if BEHIND_PROXY:
    # nginx or the load balancer terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Redirect plain HTTP to HTTPS where TLS exists: behind the TLS-terminating proxy. Without one
# (`make serve` on 127.0.0.1, the test server) there is no HTTPS to send anyone to.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", BEHIND_PROXY and not DEBUG)
# The header in which the reverse proxy passes the visitor's address on (nginx: `proxy_set_header X-Real-IP
# $remote_addr;`), read by recognition.security.client_ip for rate limits and lockouts. Empty: REMOTE_ADDR.
# Name only a header the proxy sets (and overwrites): clients can send any header they like.
CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "").strip()
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers poll over plain HTTP
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # the two embed views opt out (recognition/embeds.py)
# Django's built-in Content-Security-Policy: nothing inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# recognition.security.PermissionsPolicyMiddleware: no powerful browser features anywhere.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The read-only JSON API (/api/): public, anonymous, paginated; filters through django-filter.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "recognition.api.Pagination",
    "PAGE_SIZE": 50,
    # Every API view is read-only (GET, HEAD, OPTIONS): anyone may read, nobody logs in.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Dispatcher Recognition Tracker API",
    "DESCRIPTION": (
        "Read-only access to the US jurisdictions and the laws and resolutions that recognize "
        "911 dispatchers (public safety telecommunicators) as first responders. Only published, "
        "verified records appear. Dates are partial: `2022`, `2022-04` or `2022-04-18`, with "
        "their precision alongside."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package (static files): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl None: Swagger UI would otherwise load a badge from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name for the choice set that three fields share (introduced/adopted/effective precision).
    "ENUM_NAME_OVERRIDES": {"DatePrecisionEnum": "recognition.dates.Precision"},
}

# Admin sign-in is protected against guessing (django-axes): 5 failed attempts for one username from one
# address lock that pair out for an hour; the same person can still sign in from another address. Failed
# attempts are kept in the database (shared by every worker and server). The client address comes from
# recognition.security.client_ip, as for the submission rate limit below.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_LOCKOUT_CALLABLE = "recognition.security.lockout_response"  # the template, with Retry-After
AXES_VERBOSE = False  # no start-up banner on every manage.py command; lockouts are still logged
AXES_CLIENT_IP_CALLABLE = "recognition.security.client_ip"

# Public submissions are rate-limited per client address (django-ratelimit, recognition/views.py): the
# counts live in the default cache, so they are shared by every worker only with REDIS_URL set (local
# memory counts per process). django-ratelimit is used as a decorator, not an installed app, so its system
# check (which calls every cache but memcached and Redis unfit) does not stop a local run on local memory.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "recognition.security.client_ip"

# --- Background tasks and email (follow by email: recognition/alerts.py) ---------------------------
# DJANGO_TASKS_BACKEND: "database" (the default: tasks wait in the database for `manage.py db_worker`,
# as many workers on as many machines as wanted) or "immediate" (run at once in the caller's process).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
_task_backend = os.environ.get("DJANGO_TASKS_BACKEND", "database").strip().lower() or "database"
if _task_backend not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"DJANGO_TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}.")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}

# DJANGO_WARM_PAGES (on by default): after a change to the public data commits, the task worker makes
# the pages it made cold (/, the county layer, /resolutions/, the states, counties and places it touched)
# so that the first visitor does not wait (recognition/warming.py). Needs REDIS_URL: the worker's pages
# reach the web servers only through the shared cache. They are made for visitors of DJANGO_SITE_URL.
WARM_PAGES = env_bool("DJANGO_WARM_PAGES", True)

# Mail goes out through SMTP, configured by the EMAIL_* variables (Django 6.1's MAILERS setting); with DEBUG
# on and no EMAIL_HOST it is printed to the console instead (`make run`).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Dispatcher Recognition Tracker <alerts@localhost>")
if DEBUG and not EMAIL_HOST:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST or "localhost",
                "port": int(os.environ.get("EMAIL_PORT", "") or 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS"),
                "timeout": 30,
            },
        }
    }
del EMAIL_HOST  # deprecated as a setting in Django 6.1: MAILERS above carries it

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
