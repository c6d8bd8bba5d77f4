"""The shared cache may go away; the site then answers from the database.

Redis (REDIS_URL) holds only what can be rebuilt: finished pages, the mirror of the
data version, the `/submit/` rate-limit counts. Every use of it that could meet an
unreachable server goes through `attempt`, which turns a failure into "not cached"
instead of an error. After a failure the cache is left alone for RETRY_SECONDS, so
an outage costs requests nothing (no connect timeout per request); the first call
after that tries again. One WARNING is logged when the cache is lost and one INFO
when it answers again, per process, and the callbacks registered with
`on_recovery` run then (a change made meanwhile may not have reached the cache).

`cache_available()` says whether the cache answers now, for code that must not go
on without it: the submission form cannot enforce its rate limit while the counts
are out of reach, so it refuses posts (503) rather than accept them unlimited.
"""

import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger("recognition.cache")

RETRY_SECONDS = 2.0  # while down: how often one request may try the cache again
clock = time.monotonic  # replaced by tests that move time

_lock = threading.Lock()
_down = False
_retry_at = 0.0
_recovery_callbacks = []
recoveries = 0  # how many outages ended in this process: copies of cached values older than that are suspect


def on_recovery(callback):
    """Run `callback()` each time the cache answers again after an outage."""
    _recovery_callbacks.append(callback)
    return callback


def attempt(operation, default=None):
    """`operation()`, or `default` when the cache is down or fails now (noted, see the module)."""
    if _down and not _probe():
        return default
    try:
        return operation()
    except (RedisError, OSError) as error:
        _lost(error)
        return default


def cache_available():
    """Whether the shared cache answers now. False at once, without a network call, while it is known
    to be down and not yet due for another try; otherwise one PING (with Redis; local memory always answers)."""
    return attempt(_ping, default=False) is True


def is_down():
    """Whether the last use of the cache failed (no network call)."""
    return _down


def _ping():
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=True).ping()
    return True


def _probe():
    """While down: whether the cache answers again, trying at most once per RETRY_SECONDS (per process).
    When it does, the recovery callbacks run before anything else reads from it."""
    global _retry_at
    with _lock:
        now = clock()
        if now < _retry_at:
            return False
        _retry_at = now + RETRY_SECONDS  # this caller tries; the others wait for its verdict
    try:
        _ping()
    except (RedisError, OSError) as error:
        _lost(error)
        return False
    _reached()
    return True


def _lost(error):
    global _down, _retry_at
    with _lock:
        _retry_at = clock() + RETRY_SECONDS
        if _down:
            return
        _down = True
    logger.warning(
        "Cache unreachable, serving every page from the database until it answers (retrying every %.0f s): %s",
        RETRY_SECONDS,
        error,
    )


def _reached():
    global _down, recoveries
    with _lock:
        if not _down:
            return
        _down = False
        recoveries += 1
    logger.info("Cache reachable again.")
    for callback in _recovery_callbacks:
        callback()


def reset():
    """Forget any outage (tests, and a cache configuration that changed)."""
    global _down, _retry_at
    with _lock:
        _down, _retry_at = False, 0.0


class _ReusedClients(RedisCacheClient):
    """Django's Redis cache client, with one redis-py client per server, built once. Django builds a new
    one for every call (a dict of some 170 reply parsers each time): three calls to a cold page cost
    about half a millisecond. redis-py clients are safe to share between threads; their pool is the same."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # {connection pool: its client}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class SharedRedisCache(RedisCache):
    """The Redis cache backend of settings.CACHES: Django's, with its clients reused."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClients
