"""Caching with exact invalidation.

Every change to a resolution, source or jurisdiction bumps one data version
(a row in the database, changed inside the same transaction as the change).
The version is part of every cache key and of every ETag, so a publish shows on
the very next request, on every worker and server, and a revisit of an
unchanged page gets a 304 for the price of one primary-key read.

The version is a random token rather than a counter, so a rolled-back
transaction or a restored backup can never bring back a key that was cached
for other data.

Reading it costs one cache lookup: the database row is mirrored in the cache.
A bump deletes the mirror at once (so the changing transaction itself reads its
new token) and, when the transaction commits, stores the committed row there;
readers that find no mirror only ever *add* one, so a reader that read the row
just before a commit can never put the old token back. With Redis (REDIS_URL)
every worker shares the mirror, and each change to it is announced on a Redis
channel: the finished-page cache in front of Django keeps a copy of the version
per process and reads it again only when told (see `VersionWatch`). With the
local-memory cache of a single-process local run the mirror lives a few seconds
at most, in case several processes share a database.
"""

import hashlib
import os
import threading
import time
import uuid
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import condition
from redis.exceptions import RedisError

PAGE_TIMEOUT = 60 * 60 * 24  # a day; the version in the key is what keeps pages fresh
VERSION_KEY = "data-version"


def _version_mirror_seconds():
    shared = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    return 60 * 60 if shared else 2


def current_version():
    """(token, changed_at) of the data: from the cache, else from its database row."""
    row = cache.get(VERSION_KEY)
    if row is None:
        row = _database_row() or bump_data_version()
        # add, never set: this row may have been read just before a commit that has since stored
        # its own (see _store_committed_version); an old token must not replace it.
        cache.add(VERSION_KEY, row, _version_mirror_seconds())
    return row


def _database_row():
    from .models import DataVersion

    return DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("token", "changed_at").first()


def forget_version_mirror():
    """Drop the cached copy of the data version (and tell every process): the next reader takes the database's."""
    cache.delete(VERSION_KEY)
    _announce_change()


def _store_committed_version():
    """After a commit: put the committed row in the mirror, whatever other commits did meanwhile.

    Set the row, then read it again: if another commit replaced it in between, set that one
    too. The last set is always checked against the database after it was made, and a later
    commit makes its own, so the mirror ends on the latest committed row.
    """
    row = _database_row()
    for _attempt in range(5):
        if row is None:
            break
        cache.set(VERSION_KEY, row, _version_mirror_seconds())
        latest = _database_row()
        if latest == row:
            _announce_change()
            return
        row = latest
    forget_version_mirror()  # changing faster than this loop: let the next reader fetch it


def _announce_change():
    """Tell every process's VersionWatch that the mirror changed (Redis only; others read it each time)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        backend._cache.get_client(write=True).publish(_channel(backend), b"")


def _channel(backend):
    # The mirror's own full key: prefixed like every key of this site, so sites sharing a Redis never mix.
    return backend.make_and_validate_key(VERSION_KEY)


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
    forget_version_mirror()
    transaction.on_commit(_store_committed_version)
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


# How long a process trusts its copy of the version without any announcement: only a safety net,
# should the subscription break without the socket noticing (announcements are what keep it exact).
KNOWN_VERSION_SECONDS = 2.0
RESUBSCRIBE_SECONDS = 5.0


class VersionWatch:
    """The data version, per process, without a Redis read per request (Redis only).

    Each change to the version mirror is announced on a Redis channel
    (`_announce_change`). The watch subscribes to it and, per request, polls the
    subscription's socket (microseconds); it reads the mirror again only when
    something arrived, when its copy is KNOWN_VERSION_SECONDS old, or when it has
    no copy. A request that starts after a change was announced therefore sees
    the new version. Without a subscription (Redis refused it) it reads the
    mirror on every call, as the local-memory fallback does.
    """

    def __init__(self, backend):
        # One client on the backend's connection pool, built once: Django's Redis backend builds a new
        # client object for every call, which would be most of the cost of a hit.
        self._client = backend._cache.get_client(write=False)
        self._serializer = backend._cache._serializer
        self._key = _channel(backend)
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; this keeps threads safe
        self._pubsub, self._pid, self._retry_at, self._reconnected = None, None, 0.0, False
        self._known, self._read_at = None, 0.0

    def __call__(self):
        with self._lock:
            if not self._subscribed():
                return self._read()
            now = time.monotonic()
            if self._announced() or self._known is None or now - self._read_at > KNOWN_VERSION_SECONDS:
                self._known, self._read_at = self._read(), now
            return self._known

    def _read(self):
        value = self._client.get(self._key)
        return None if value is None else self._serializer.loads(value)

    def _subscribed(self):
        if self._pubsub is not None and self._pid == os.getpid():
            return True
        # New, or a forked child: the parent's socket is not ours to use (nor to close).
        self._pubsub, self._known = None, None
        if time.monotonic() < self._retry_at:
            return False
        pubsub = self._client.pubsub()
        try:
            pubsub.subscribe(self._key)
            # Only once Redis confirms is every later announcement sure to reach this process.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=0.1)
                if message is not None and message["type"] == "subscribe":
                    self._pubsub, self._pid, self._reconnected = pubsub, os.getpid(), False
                    pubsub.connection.register_connect_callback(self._on_reconnect)
                    return True
        except RedisError:
            pass
        pubsub.close()
        self._retry_at = time.monotonic() + RESUBSCRIBE_SECONDS
        return False

    def _announced(self):
        """Whether the copy may be stale: something arrived, or the subscription was interrupted."""
        arrived = False
        try:
            while self._pubsub.get_message(timeout=0) is not None:
                arrived = True
        except RedisError:
            self._unsubscribe()
            return True
        if self._reconnected:
            # redis-py reconnected and subscribed again by itself, unconfirmed as yet, and announcements
            # made meanwhile are lost: read now, and subscribe afresh on the next call.
            self._unsubscribe()
            return True
        return arrived

    def _on_reconnect(self, _connection):
        self._reconnected = True

    def _unsubscribe(self):
        pubsub, self._pubsub = self._pubsub, None
        try:
            pubsub.connection.deregister_connect_callback(self._on_reconnect)
            pubsub.close()
        except (RedisError, OSError, ValueError):
            pass  # it is being dropped anyway


def _version_reader():
    """The finished-page cache's way to read the data version: a VersionWatch with Redis, else a cache read."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return VersionWatch(backend)
    return lambda: cache.get(VERSION_KEY)


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
    Django's middleware and views. A page this process served lately is kept in
    its memory too, and with Redis the version comes from a `VersionWatch`: a
    repeat visit then costs no cache read at all. Anything else, including every
    POST, a request with cookies and the admin, goes to Django as usual.
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
