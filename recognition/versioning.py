"""The data version: one token that changes with every change to the public data.

Every change to a resolution, source or jurisdiction replaces the token of one
database row (`DataVersion`), inside the transaction that makes the change, once
per transaction: a transaction that saves ten thousand rows writes the row once.
Cached pages and ETags are keyed by the token, so a publish shows on the very next
request, on every worker and server, and a revisit of an unchanged page gets a 304.

The token is random rather than a counter, so a rolled-back transaction or a
restored backup can never bring back pages cached for other data (a restore also
writes a fresh token).

Reading it costs one cache lookup: the row is mirrored in the cache, under a key
named after the database (engine, host, port, name), so that two databases sharing
one Redis (a restored copy beside the original, say) never read each other's
version. A bump deletes the mirror at once and, when its transaction commits,
stores the committed row there; readers that find no mirror only ever *add* one,
so a reader that read the row just before a commit cannot put the old token back.
Inside a transaction that changed the data, readers read the row itself: the
mirror cannot hold an uncommitted token. With Redis every change to the mirror is
announced on a channel, and `VersionWatch` keeps a copy per process that it reads
again only when told.

When the cache is unreachable the row is read from the database on each request;
when it answers again the mirror is dropped, since a change made meanwhile could
not delete it (see recognition.sharedcache).
"""

import hashlib
import os
import threading
import time
import uuid

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import sharedcache

VERSION_KEY = "data-version"
# With Redis: also how long a change that could not reach the cache (it was down) may go unseen.
SHARED_MIRROR_SECONDS = 5 * 60
LOCAL_MIRROR_SECONDS = 2  # local memory: other processes sharing the database change it unannounced


def database_namespace():
    """A short name for the database in use: it scopes the mirror and every page cached from it."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    identity = "|".join(str(settings_dict.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.blake2b(identity.encode(), digest_size=6).hexdigest()


def mirror_key():
    return f"{VERSION_KEY}:{database_namespace()}"


def _mirror_seconds():
    return SHARED_MIRROR_SECONDS if isinstance(caches["default"], RedisCache) else LOCAL_MIRROR_SECONDS


class _PendingBump:
    """The on_commit callback of a bump; `observed` once the transaction read the token it wrote."""

    def __init__(self):
        self.observed = False

    def __call__(self):
        store_committed_version()


def _pending_bump(connection):
    """This transaction's latest bump still to commit (a rolled-back savepoint takes its bump along)."""
    if not connection.in_atomic_block:
        return None
    for _savepoints, callback, _robust in reversed(connection.run_on_commit):
        if isinstance(callback, _PendingBump):
            return callback
    return None


def current_version():
    """(token, changed_at) of the data: from the cache, else from its database row."""
    pending = _pending_bump(connections[DEFAULT_DB_ALIAS])
    if pending is not None:
        # This transaction changed the data: its own token is in the row, and nowhere else yet. A
        # later change in the same transaction needs a token of its own (the current one may be in keys).
        pending.observed = True
        return _database_row()
    key = mirror_key()
    row = sharedcache.attempt(lambda: cache.get(key))
    if row is None:
        row = _database_row() or bump_data_version()
        # add, never set: this row may have been read just before a commit that has since stored
        # its own (see store_committed_version); an old token must not replace it.
        sharedcache.attempt(lambda: cache.add(key, row, _mirror_seconds()))
    return row


def _database_row():
    from .models import DataVersion

    return DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("token", "changed_at").first()


def bump_data_version(**_signal_kwargs):
    """Give the data a new version (once per transaction, unless read since): every cached page is stale."""
    from django.utils import timezone

    from .models import DataVersion

    connection = connections[DEFAULT_DB_ALIAS]
    pending = _pending_bump(connection)
    if pending is not None and not pending.observed:
        return None  # this transaction already has a token of its own that nobody has read yet
    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        updated = DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(token=token, changed_at=now)
        if not updated:
            DataVersion.objects.update_or_create(
                pk=DataVersion.SINGLETON, defaults={"token": token, "changed_at": now}
            )
    forget_version_mirror()
    transaction.on_commit(_PendingBump())
    return token, now


def forget_version_mirror():
    """Drop the cached copy of the data version (and tell every process): the next reader takes the database's."""
    key = mirror_key()
    sharedcache.attempt(lambda: cache.delete(key))
    _announce_change()


def store_committed_version():
    """After a commit: put the committed row in the mirror, whatever other commits did meanwhile.

    Set the row, then read it again: if another commit replaced it in between, set that one
    too. The last set is always checked against the database after it was made, and a later
    commit makes its own, so the mirror ends on the latest committed row.
    """
    key, row = mirror_key(), _database_row()
    for _attempt in range(5):
        if row is None:
            break
        if sharedcache.attempt(lambda row=row: cache.set(key, row, _mirror_seconds()) or True) is None:
            return  # the cache is down: readers use the database, and the mirror goes when it is back
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
        channel = backend.make_and_validate_key(mirror_key())
        sharedcache.attempt(lambda: backend._cache.get_client(write=True).publish(channel, b""))


sharedcache.on_recovery(forget_version_mirror)


# --- Per process, without a Redis read per request -----------------------------------------------

# How long a process trusts its copy of the version without any announcement: only a safety net,
# should the subscription break without the socket noticing (announcements are what keep it exact).
KNOWN_VERSION_SECONDS = 2.0
RESUBSCRIBE_SECONDS = 5.0
clock = time.monotonic  # for those two delays; replaced by tests that move time


class VersionWatch:
    """The data version, per process, without a Redis read per request (Redis only).

    Each change to the version mirror is announced on a Redis channel (named after
    the mirror's own full key, so sites and databases sharing a Redis never mix).
    The watch subscribes to it and, per request, polls the subscription's socket
    (microseconds); it reads the mirror again only when something arrived, when its
    copy is KNOWN_VERSION_SECONDS old, or when it has no copy. A request that starts
    after a change was announced therefore sees the new version. Without a
    subscription (Redis refused it) it reads the mirror on every call. While the
    cache is down it answers None at once (callers then go to the database).
    """

    def __init__(self, backend):
        # One client on the backend's connection pool, built once: Django's Redis backend builds a new
        # client object for every call, which would be most of the cost of a hit.
        self._client = backend._cache.get_client(write=False)
        self._serializer = backend._cache._serializer
        self._key = backend.make_and_validate_key(mirror_key())
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; this keeps threads safe
        self._pubsub, self._pid, self._retry_at, self._reconnected = None, None, 0.0, False
        self._known, self._read_at = None, 0.0
        self._recoveries = sharedcache.recoveries

    def __call__(self):
        with self._lock:
            return sharedcache.attempt(self._current)

    def _current(self):
        if self._recoveries != sharedcache.recoveries:
            # The cache was unreachable meanwhile: announcements were lost, and the copy may be stale.
            self._recoveries = sharedcache.recoveries
            if self._pubsub is not None:
                self._unsubscribe()
            self._known = None
        if not self._subscribed():
            return self._read()
        now = clock()
        if self._announced() or self._known is None or now - self._read_at > KNOWN_VERSION_SECONDS:
            self._known, self._read_at = None, now
            self._known = self._read()
        return self._known

    def _read(self):
        value = self._client.get(self._key)
        return None if value is None else self._serializer.loads(value)

    def _subscribed(self):
        if self._pubsub is not None and self._pid == os.getpid():
            return True
        # New, or a forked child: the parent's socket is not ours to use (nor to close).
        self._pubsub, self._known = None, None
        if clock() < self._retry_at:
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
        except (RedisConnectionError, RedisTimeoutError):
            pubsub.close()
            raise  # Redis is down: the caller notes it, and tries again when it is due
        except RedisError:
            pass  # refused (a Redis without pub/sub): read the mirror on every call for a while
        pubsub.close()
        self._retry_at = clock() + RESUBSCRIBE_SECONDS
        return False

    def _announced(self):
        """Whether the copy may be stale: something arrived, or the subscription was interrupted."""
        arrived = False
        try:
            while self._pubsub.get_message(timeout=0) is not None:
                arrived = True
        except (RedisError, OSError):
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
        except (RedisError, OSError, ValueError, AttributeError):
            pass  # it is being dropped anyway


def version_reader():
    """A callable giving the mirrored (token, changed_at), or None when unknown or the cache is down:
    a VersionWatch with Redis, else a plain cache read."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return VersionWatch(backend)
    return lambda: sharedcache.attempt(lambda: cache.get(mirror_key()))
