"""The page cache: one layer, in front of Django, with one key function.

A view decorated with `public_page` declares that its answer is the same for
every visitor and which query parameters it reads (`@public_page(params=("layer",))`).
`FinishedPageCache` (config/wsgi.py) keeps its finished answers, every header
included, and serves repeat visits without running Django's middleware or views.

What an answer may depend on is fixed before the view runs (`canonicalize`): the
scheme, the host (lower-cased), the path, the declared parameters (in their order;
any other parameter is removed, so `/?utm_source=x` is `/` and creates no entry),
whether the client takes gzip, and, for the API's views, the media type content
negotiation picks (HTML or JSON; an Accept with parameters is not cached). The
view sees exactly that, so the key (`page_address`, with the data version and the
database, see recognition.versioning) determines the answer. An answer is kept
only when it is a 200 marked by `public_page`, sets no cookie and varies on
nothing the key does not hold; hop-by-hop headers are not kept.

Why one layer and not also a view-level cache: a hit here costs a dictionary
lookup in the worker's memory (the version comes from a VersionWatch), while a
hit inside Django would still run every middleware. Requests with cookies are
served from it too: a kept answer neither reads nor sets a cookie (Django adds
`Vary: Cookie` whenever a view touches the session or a CSRF token).

While the shared cache is unreachable every request goes to Django and is
answered from the database (see recognition.sharedcache).
"""

import datetime
import hashlib
import re
import threading
from collections import OrderedDict
from functools import wraps
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import get_path_info
from django.http import Http404, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from django.views.decorators.http import condition

from . import sharedcache
from .versioning import current_version, database_namespace, version_reader

PAGE_TIMEOUT = 60 * 60 * 24  # a day; the version in the key is what keeps pages fresh
STORE_HEADER = "X-Tracker-Page-Version"  # internal: marks a keepable answer, never sent to a browser
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # the test Django's GZipMiddleware applies


class PagePolicy:
    """What a public page reads from the request: its query parameters and, for an API view, Accept."""

    def __init__(self, params, renderer_classes=None):
        self.renderer_classes = tuple(renderer_classes or ())
        # An API view also reads ?format= (Django REST framework's URL_FORMAT_OVERRIDE).
        self.params = frozenset(params) | ({"format"} if self.renderer_classes else set())

    @property
    def negotiates(self):
        return bool(self.renderer_classes)

    def query(self, query_string):
        """The declared parameters of a query string, in their order (which may matter: ?ordering=)."""
        pairs = parse_qsl(query_string, keep_blank_values=True)
        return urlencode([(name, value) for name, value in pairs if name in self.params])

    def media_type(self, accept, query):
        """The media type negotiation picks for this Accept header, without its q; None when the
        answer would be a 404 or 406, or would depend on parameters of the media type (indent=...)."""
        from rest_framework.exceptions import NotAcceptable
        from rest_framework.negotiation import DefaultContentNegotiation

        shim = SimpleNamespace(
            query_params=QueryDict(query), headers={} if accept is None else {"accept": accept}
        )
        renderers = [renderer() for renderer in self.renderer_classes]
        try:
            _renderer, media_type = DefaultContentNegotiation().select_renderer(shim, renderers)
        except (NotAcceptable, Http404):
            return None
        main, *parameters = (part.strip() for part in media_type.split(";"))
        if any(not part.lower().startswith("q=") for part in parameters if part):
            return None
        return main.lower()


def _host_header(environ):
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return "HTTP_X_FORWARDED_HOST"
    return "HTTP_HOST" if "HTTP_HOST" in environ else None


def _scheme(environ):
    """As Django's request.scheme: the proxy's header when configured and sent, else the server's."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return environ.get("wsgi.url_scheme", "http")


def canonicalize(environ, policy):
    """Reduce a request (its WSGI environ, or request.META) to what the page's answer may depend on.

    Returns whether the answer may be cached: False for an Accept the API would refuse or
    answer in a parameterized media type (the request then keeps its Accept header).
    """
    environ["QUERY_STRING"] = policy.query(environ.get("QUERY_STRING", ""))
    host_header = _host_header(environ)
    if host_header is not None:
        environ[host_header] = environ[host_header].lower()
    if ACCEPTS_GZIP.search(environ.get("HTTP_ACCEPT_ENCODING", "")):
        environ["HTTP_ACCEPT_ENCODING"] = "gzip"
    else:
        environ.pop("HTTP_ACCEPT_ENCODING", None)
    if not policy.negotiates:
        return True
    media_type = policy.media_type(environ.get("HTTP_ACCEPT"), environ["QUERY_STRING"])
    if media_type is None:
        return False
    environ["HTTP_ACCEPT"] = media_type
    return True


def page_address(environ, policy):
    """The one key function: what a canonicalized request's answer depends on, except the data version."""
    host_header = _host_header(environ)
    host = (
        environ[host_header] if host_header else f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    )
    accept = environ.get("HTTP_ACCEPT", "") if policy.negotiates else ""
    path = get_path_info(environ)
    return f"{_scheme(environ)}://{host}{path}?{environ.get('QUERY_STRING', '')}|{accept}"


def page_day():
    """Today, in the site's time zone: part of every key, since a page can say what today makes true
    (a session that ended yesterday), so no page outlives the day it was made on."""
    return timezone.localdate().isoformat()


def page_key(token, environ, policy):
    gzip = "HTTP_ACCEPT_ENCODING" in environ
    address = page_address(environ, policy)
    identity = f"{database_namespace()}|{token}|{page_day()}|{gzip}|{address}"
    return "page:" + hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()


# --- Inside Django: the view's side of the contract -------------------------------------------------


def _etag(request, *args, **kwargs):
    token, _changed = request._data_version
    address = f"{page_day()}|{page_address(request.META, request._page_policy)}"
    return f"{token[:16]}-{hashlib.blake2b(address.encode(), digest_size=6).hexdigest()}"


def _last_modified(request, *args, **kwargs):
    """The data's last change, or the start of today if later (see `page_day`)."""
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    return max(request._data_version[1], midnight)


def public_page(view=None, *, params=()):
    """A public, anonymous page: the same for every visitor, reading only the query parameters `params`.

    The view sees only those parameters; answers get conditional GET (ETag and
    Last-Modified from the data version) and, when 200, the mark that lets
    FinishedPageCache keep them. A Django REST framework view also varies on Accept
    (HTML or JSON) and reads `format`. Only for pages without a form (a CSRF token)
    and with nothing per user.
    """
    if view is None:
        return lambda view: public_page(view, params=params)
    policy = PagePolicy(params, getattr(getattr(view, "cls", None), "renderer_classes", None))
    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(view)

    @wraps(view)
    def page(request, *args, **kwargs):
        canonicalize(request.META, policy)
        request.GET = QueryDict(request.META["QUERY_STRING"])
        request._page_policy = policy
        request._data_version = current_version()
        response = conditional(request, *args, **kwargs)
        # Revalidate on every visit: cheap (a 304), and never stale after a publish.
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        if "Last-Modified" not in response:
            response["Last-Modified"] = http_date(_last_modified(request).timestamp())
        if response.status_code == 200 and not response.streaming:
            response[STORE_HEADER] = request._data_version[0]
        return response

    page.page_policy = policy
    return page


def policy_for(path):
    """The PagePolicy of the public page at `path`, or None (not a public page, or no page at all)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return getattr(match.func, "page_policy", None)


# --- In front of Django ------------------------------------------------------------------------------


def _without_mark(start_response):
    """start_response that drops the internal STORE_HEADER before anything reaches the client."""

    def send(status, headers, exc_info=None):
        public = [(name, value) for name, value in headers if name != STORE_HEADER]
        return start_response(status, public, exc_info) if exc_info else start_response(status, public)

    return send


def _weak(etag):
    return etag.removeprefix("W/")


def _not_modified(headers, environ):
    """Whether a conditional GET of this kept answer gets a 304, as Django's `condition` decides it."""
    etag, last_modified = headers.get("ETag"), headers.get("Last-Modified")
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        return etag is not None and ("*" in tags or _weak(etag) in {_weak(tag) for tag in tags})
    since = parse_http_date_safe(environ.get("HTTP_IF_MODIFIED_SINCE") or "")
    modified = parse_http_date_safe(last_modified or "")
    return since is not None and modified is not None and modified <= since


def _keepable(headers, policy):
    """The headers to keep with an answer, or None if it must not be kept (it sets a cookie, or
    varies on a request header the key does not hold)."""
    covered = {"accept-encoding", "accept"} if policy.negotiates else {"accept-encoding"}
    kept = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie":
            return None
        if lowered == "vary" and {part.strip().lower() for part in value.split(",")} - covered:
            return None
        if lowered not in HOP_BY_HOP and name != STORE_HEADER:
            kept.append((name, value))
    return kept


class FinishedPageCache:
    """WSGI middleware: answers a repeated GET of a public page straight from the cache.

    For a path whose view is a `public_page` (resolved once per path), the request
    is canonicalized and looked up under the current data version: first in this
    process's memory, then in the shared cache. A hit is answered here, or as a 304
    when If-None-Match names its ETag; a miss runs Django and keeps its answer if
    keepable. Every other request (POST, the admin, static files, /healthz) goes to
    Django untouched.
    """

    LOCAL_BYTES = 32 * 1024 * 1024  # per worker process
    KNOWN_PATHS = 10_000  # paths whose policy is remembered (bounded: any path can be requested)

    def __init__(self, application):
        self.application = application
        self._read_version = version_reader()
        self._policies = {}
        # Finished pages this process served lately: the key holds the data version, so a
        # local copy can never be stale, and a hit skips moving the page out of Redis.
        self._local = OrderedDict()
        self._local_bytes = 0
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; runserver has several

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.application(environ, _without_mark(start_response))
        policy = self._policy(environ)
        if policy is None or not canonicalize(environ, policy):
            return self.application(environ, _without_mark(start_response))
        version = self._read_version()
        if version is None:  # unknown yet, or the cache is down: Django answers from the database
            return self.application(environ, _without_mark(start_response))
        key = page_key(version[0], environ, policy)
        with self._lock:
            stored = self._local.get(key)
            if stored is not None:
                self._local.move_to_end(key)
        if stored is None:
            stored = sharedcache.attempt(lambda: cache.get(key))
            if stored is not None:
                self._remember(key, stored)
        if stored is not None:
            return self._answer(stored, environ, start_response)
        return self._run_and_keep(key, version[0], policy, environ, start_response)

    def forget(self):
        """Drop this worker's copies of pages (a benchmark's cold start; the shared cache is apart)."""
        with self._lock:
            self._local.clear()
            self._local_bytes = 0

    def _policy(self, environ):
        path = environ.get("PATH_INFO", "")
        try:
            return self._policies[path]
        except KeyError:
            pass
        if len(self._policies) >= self.KNOWN_PATHS:
            self._policies.clear()
        policy = self._policies[path] = policy_for(get_path_info(environ))
        return policy

    def _remember(self, key, stored):
        with self._lock:
            previous = self._local.pop(key, None)
            if previous is not None:
                self._local_bytes -= len(previous[2])
            self._local[key] = stored
            self._local_bytes += len(stored[2])
            while self._local_bytes > self.LOCAL_BYTES and self._local:
                _key, (_status, _headers, body) = self._local.popitem(last=False)
                self._local_bytes -= len(body)

    @staticmethod
    def _answer(stored, environ, start_response):
        status, headers, body = stored
        if _not_modified(dict(headers), environ):
            kept = [
                (name, value) for name, value in headers if name not in ("Content-Length", "Content-Type")
            ]
            start_response("304 Not Modified", kept)
            return [b""]
        start_response(status, headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    def _run_and_keep(self, key, token, policy, environ, start_response):
        captured = {}
        send_headers = _without_mark(start_response)

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return send_headers(status, headers, exc_info)

        result = self.application(environ, capture)
        marked = [value for name, value in captured.get("headers", []) if name == STORE_HEADER]
        if not marked or marked[0] != token or environ["REQUEST_METHOD"] != "GET":
            return result
        headers = _keepable(captured["headers"], policy)
        if headers is None:
            return result
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        stored = (captured["status"], headers, body)
        sharedcache.attempt(lambda: cache.set(key, stored, PAGE_TIMEOUT))
        self._remember(key, stored)
        return [body]
