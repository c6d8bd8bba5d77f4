"""Caching with exact invalidation.

Every change to a resolution, source or jurisdiction bumps one data version
(a row in the database, changed inside the same transaction as the change).
The version is part of every cache key and of every ETag, so a publish shows on
the very next request, on every worker and server, and a revisit of an
unchanged page gets a 304 for the price of one primary-key read.

The version is a random token rather than a counter, so a rolled-back
transaction or a restored backup can never bring back a key that was cached
for other data.

Reading it costs one cache lookup: the database row is mirrored in the cache,
and a bump deletes the mirror (at once, and again when the transaction commits),
so the next reader fetches the new token. With Redis (REDIS_URL) every worker
shares the mirror; with the local-memory cache of a single-process local run the
mirror lives a few seconds at most, in case several processes share a database.
"""

import hashlib
import uuid
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import condition

PAGE_TIMEOUT = 60 * 60 * 24  # a day; the version in the key is what keeps pages fresh
VERSION_KEY = "data-version"


def _version_mirror_seconds():
    shared = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    return 60 * 60 if shared else 2


def current_version():
    """(token, changed_at) of the data: from the cache, else from its database row."""
    row = cache.get(VERSION_KEY)
    if row is None:
        from .models import DataVersion

        row = DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("token", "changed_at").first()
        if row is None:
            row = bump_data_version()
        cache.set(VERSION_KEY, row, _version_mirror_seconds())
    return row


def _forget_mirror():
    cache.delete(VERSION_KEY)


def bump_data_version(**_signal_kwargs):
    """Give the data a new version: every cached page and ETag is now stale."""
    from django.utils import timezone

    from .models import DataVersion

    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        updated = DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(token=token, changed_at=now)
        if not updated:
            DataVersion.objects.update_or_create(
                pk=DataVersion.SINGLETON, defaults={"token": token, "changed_at": now}
            )
    _forget_mirror()
    transaction.on_commit(_forget_mirror)
    return token, now


def _request_version(request):
    if not hasattr(request, "_data_version"):
        request._data_version = current_version()
    return request._data_version


def _etag(request, *args, **kwargs):
    token, _changed = _request_version(request)
    path_hash = hashlib.blake2b(_address(request).encode(), digest_size=6).hexdigest()
    return f"{token[:16]}-{path_hash}"


def _address(request):
    """What a cached answer depends on: the address, and the Accept header (the API answers
    HTML to browsers and JSON to programs at the same address)."""
    return f"{request.get_full_path()}|{request.headers.get('Accept', '')}"


def _last_modified(request, *args, **kwargs):
    return _request_version(request)[1]


def public_page(view):
    """A public, anonymous page: conditional GET (ETag, Last-Modified) and a versioned page cache.

    Only for pages that are the same for every visitor (no form with a CSRF
    token, nothing per user). Only successful answers are cached.
    """

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        token, _changed = _request_version(request)
        key = "page:" + hashlib.blake2b(f"{token}|{_address(request)}".encode(), digest_size=16).hexdigest()
        stored = cache.get(key)
        if stored is not None:
            content, content_type, headers = stored
            response = HttpResponse(content, content_type=content_type)
            for name, value in headers.items():
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # a DRF or template response: cache what will be sent
        if response.status_code == 200 and not response.streaming:
            kept = {
                name: response[name]
                for name in ("Content-Disposition", "X-Frame-Options")
                if name in response
            }
            cache.set(key, (response.content, response["Content-Type"], kept), PAGE_TIMEOUT)
        return response

    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(cached_view)

    @wraps(view)
    def page(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        # Revalidate on every visit: cheap (a 304), and never stale after a publish.
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        if "Last-Modified" not in response and hasattr(request, "_data_version"):
            response["Last-Modified"] = http_date(request._data_version[1].timestamp())
        if response.status_code == 200 and hasattr(request, "_data_version"):
            # The finished answer (after every middleware) may be kept by FinishedPageCache.
            response[STORE_HEADER] = request._data_version[0]
        return response

    return page


# --- The finished-page cache, in front of Django ----------------------------------------------------

STORE_HEADER = "X-Tracker-Page-Version"  # internal: never sent to a browser


def _version_reader():
    """A function reading the data version from the cache, as cheaply as the backend allows.

    Django's Redis backend builds a new client object for every call, which is most
    of the cost of this layer's hit path; with Redis this keeps one client (on the
    same connection pool) per process instead. Same key, same serializer.
    """
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return lambda: cache.get(VERSION_KEY)
    client = backend._cache.get_client(write=False)
    raw_key = backend.make_and_validate_key(VERSION_KEY)
    serializer = backend._cache._serializer

    def read():
        value = client.get(raw_key)
        return None if value is None else serializer.loads(value)

    return read


def _without_mark(start_response):
    """start_response that drops the internal STORE_HEADER before anything reaches the client."""

    def send(status, headers, exc_info=None):
        public = [(name, value) for name, value in headers if name != STORE_HEADER]
        return start_response(status, public, exc_info) if exc_info else start_response(status, public)

    return send


class FinishedPageCache:
    """WSGI middleware: answers a repeated GET of a public page straight from the cache.

    `public_page` marks answers that are the same for every visitor with the data
    version they were built from. This layer keeps such finished answers (every
    header included: CSP, HSTS, ETag...) under the current data version and the
    request's address and encoding, and serves them, or a 304, without running
    Django's middleware and views: two cache reads. Anything else, including
    every POST, a request with cookies and the admin, goes to Django as usual.
    """

    LOCAL_BYTES = 32 * 1024 * 1024  # per worker process

    def __init__(self, application):
        self.application = application
        self._read_version = _version_reader()
        # Finished pages this process served lately: the key holds the data version, so a
        # local copy can never be stale, and a hit skips moving the page out of Redis.
        self._local = OrderedDict()
        self._local_bytes = 0

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("HTTP_COOKIE"):
            return self.application(environ, _without_mark(start_response))
        version = self._read_version()
        if version is None:
            return self.application(environ, _without_mark(start_response))
        key = self._key(version[0], environ)
        stored = self._local.get(key)
        if stored is None:
            stored = cache.get(key)
            if stored is not None:
                self._remember(key, stored)
        else:
            self._local.move_to_end(key)
        if stored is not None:
            return self._answer(stored, environ, start_response)
        return self._run_and_keep(key, version[0], environ, start_response)

    def _remember(self, key, stored):
        self._local[key] = stored
        self._local_bytes += len(stored[2])
        while self._local_bytes > self.LOCAL_BYTES and self._local:
            _key, (_status, _headers, body) = self._local.popitem(last=False)
            self._local_bytes -= len(body)

    @staticmethod
    def _key(token, environ):
        gzip = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        address = "|".join(
            [
                environ.get("HTTP_HOST", ""),
                f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}",
                environ.get("HTTP_ACCEPT", ""),  # the API answers HTML or JSON at one address
            ]
        )
        return "finished:" + hashlib.blake2b(f"{token}|{gzip}|{address}".encode(), digest_size=16).hexdigest()

    @staticmethod
    def _answer(stored, environ, start_response):
        status, headers, body = stored
        etag = dict(headers).get("ETag")
        if etag and environ.get("HTTP_IF_NONE_MATCH") == etag:
            kept = [
                (name, value) for name, value in headers if name not in ("Content-Length", "Content-Type")
            ]
            start_response("304 Not Modified", kept)
            return [b""]
        start_response(status, headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    def _run_and_keep(self, key, token, environ, start_response):
        captured = {}
        send_headers = _without_mark(start_response)

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return send_headers(status, headers, exc_info)

        result = self.application(environ, capture)
        marked = [value for name, value in captured.get("headers", []) if name == STORE_HEADER]
        if not marked or marked[0] != token or environ["REQUEST_METHOD"] != "GET":
            return result
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        headers = [(name, value) for name, value in captured["headers"] if name != STORE_HEADER]
        if not any(name == "Set-Cookie" for name, _value in headers):
            stored = (captured["status"], headers, body)
            cache.set(key, stored, PAGE_TIMEOUT)
            self._remember(key, stored)
        return [body]
