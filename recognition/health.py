"""Failing politely: a 503 while the database is away, and a health check for operators.

When a connection to the database fails, a per-process circuit breaker opens:
for a few seconds every request is answered 503 at once instead of each one
waiting the whole connect timeout (with a hung server they would queue behind
each other). Then one request starts a probe, a trivial query on a connection
of its own in a background thread, while the others keep getting the quick
503; the breaker closes, and recovery is logged, only once that query has
answered. The probing request waits for the answer briefly (PROBE_WAIT_SECONDS)
and then answers 503 too: a sync worker is never held for a whole connect
timeout, so workers probing at the same moment cannot stall the site.
"""

import logging
import sys
import threading
import time

from django.core.cache import cache
from django.db import (
    DatabaseError,
    DataError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    connection,
    connections,
)
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

from . import sharedcache

logger = logging.getLogger("recognition.health")

RETRY_AFTER_SECONDS = 30
# How long the breaker answers 503 without trying, after a failed connection: short enough that a
# database back after a restart is used again within seconds, long enough that an outage costs each
# process one probe (a thread waiting out the connect timeout) every few seconds, not one per request.
BREAKER_OPEN_SECONDS = 5.0
# How long the request that starts a probe waits for its answer: a database that is back answers in
# milliseconds (the request is then served), a hung one not at all (the request gets its 503).
PROBE_WAIT_SECONDS = 0.1


def _is_database_unreachable(error):
    return isinstance(error, OperationalError | InterfaceError)


def _connection_lost():
    """Whether this thread's database connection failed to open or has been dropped.

    Tells an outage apart from an error of one query (a deadlock or a cancelled
    statement is an OperationalError too, on a connection that still works):
    only an outage opens the breaker.
    """
    for wrapper in connections.all(initialized_only=True):
        raw = wrapper.connection
        if raw is None or getattr(raw, "closed", 0):
            return True
    return False


class CircuitBreaker:
    """Closed (requests go through), open (refused at once) or half-open (one probe at a time).

    Per process and thread-safe. `clock` is injectable so tests can move time.
    """

    PASS, PROBE, REFUSE = "pass", "probe", "refuse"

    def __init__(self, open_seconds=BREAKER_OPEN_SECONDS, clock=time.monotonic):
        self.open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = None  # None while closed
        self._probing = False

    @property
    def closed(self):
        return self._open_until is None

    def admit(self):
        """PASS while closed; once the window is over, PROBE for exactly one caller; REFUSE otherwise."""
        if self._open_until is None:  # the common case needs no lock
            return self.PASS
        with self._lock:
            if self._open_until is None:
                return self.PASS
            if self._probing or self._clock() < self._open_until:
                return self.REFUSE
            self._probing = True
            return self.PROBE

    def failed(self):
        """A connection failed: (re)open for a full window. True when this opened a closed breaker."""
        with self._lock:
            was_closed = self._open_until is None
            self._open_until = self._clock() + self.open_seconds
            self._probing = False
            return was_closed

    def succeeded(self):
        """A query answered: close. True when the breaker was open (an outage just ended)."""
        with self._lock:
            was_open = self._open_until is not None
            self._open_until = None
            self._probing = False
            return was_open

    def release_probe(self):
        """The probe ended without a verdict (an unexpected error): let the next request probe."""
        with self._lock:
            self._probing = False


breaker = CircuitBreaker()


def database_recovered():
    """Called after a query succeeded: closes the breaker and logs the end of an outage, once."""
    if breaker.succeeded():
        logger.warning("Database reachable again.")


def database_failed(error):
    """Called when a connection failed: opens the breaker and logs the start of an outage, once."""
    if breaker.failed():
        logger.error("Database unreachable, answering 503 until it is back: %s", error)


class Probe(threading.Thread):
    """One trivial query on a connection of the probe's own; its verdict opens or closes the breaker.

    `answered` is set once the verdict is in (tests join the thread).
    """

    def __init__(self):
        super().__init__(name="database-probe", daemon=True)
        self.answered = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SELECT 1")
        except DatabaseError as error:
            database_failed(error)
        except BaseException:
            breaker.release_probe()
            raise
        else:
            database_recovered()
        finally:
            connection.close()
            self.answered.set()


def start_probe():
    probe = Probe()
    probe.start()
    return probe


def service_unavailable(request, error):
    """The 503 page with Retry-After; an `error` that lost the connection opens the breaker."""
    if error is not None:
        if _connection_lost():
            database_failed(error)
        else:  # one query failed on a working connection (a deadlock, a cancelled statement)
            logger.warning("Database error, answering 503: %s", error)
    html = loader.render_to_string("503.html", request=None)
    response = _plain_response(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _plain_response(html, status):
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    """handler500: a 503 with Retry-After when the database is unreachable, else the 500 page.

    Rendered without a request context and without touching the database, so it
    works whatever failed.
    """
    error = sys.exc_info()[1]
    if error is not None and _is_database_unreachable(error):
        return service_unavailable(request, error)
    return _plain_response(loader.render_to_string("500.html"), status=500)


class DatabaseOutageMiddleware:
    """Turns "database unreachable" into a 503, and answers at once while the breaker is open.

    Checked before the view (process_view), so /healthz is let through and keeps
    reporting what it finds. While the breaker is open no connection is tried;
    the request that finds the window over starts the probe and is served only
    if the probe's query has answered within PROBE_WAIT_SECONDS.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is healthz:
            return None
        admitted = breaker.admit()
        if admitted == CircuitBreaker.PASS:
            return None
        if admitted == CircuitBreaker.PROBE:
            request.database_probe = start_probe()
            request.database_probe.answered.wait(PROBE_WAIT_SECONDS)
            if breaker.closed:
                return None
        return service_unavailable(request, None)

    def process_exception(self, request, exception):
        if _is_database_unreachable(exception):
            return service_unavailable(request, exception)
        if _is_refused_search(request, exception):
            return search_refused(request, exception)
        return None


def _is_refused_search(request, error):
    """A search that PostgreSQL's text-search parser refused (the search box's text is rebuilt from
    plain words first, so this is a last resort): the reader's text, not the site, is at fault."""
    return isinstance(error, DataError | ProgrammingError | InternalError) and bool(
        request.GET.get("q", "").strip()
    )


def search_refused(request, error):
    """A 400 naming the search, as JSON on the API and as plain text elsewhere, never a 500."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    message = f"This search cannot be run as written ({reason}); try fewer or plainer words."
    logger.warning("Search refused by the database, answering 400: %s", reason)
    match = request.resolver_match
    if match is not None and "api" in match.namespaces:
        return JsonResponse({"q": [message]}, status=400)
    response = HttpResponse(
        f"This search cannot be run:\n- Search: {message}\n",
        status=400,
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def healthz(request):
    """`{"database": "ok", "cache": "ok"}` with 200, or 503 naming what failed. One query, one cache round trip."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: database failed: %s", error)
        return "unreachable"
    return "ok"


def _check_cache():
    """One write and one read. An unreachable cache is logged once per outage (recognition.sharedcache),
    and while it is known to be down the check answers at once, without a connect timeout."""

    def write_and_read():
        cache.set("healthz", "ok", 10)
        return cache.get("healthz")

    try:
        value = sharedcache.attempt(write_and_read, default=_UNREACHABLE)
    except Exception as error:  # not an outage but a backend that cannot work (misconfigured)
        logger.warning("Health check: cache failed: %s", error)
        return "unreachable"
    if value is _UNREACHABLE:
        return "unreachable"
    return "ok" if value == "ok" else "not storing values"


_UNREACHABLE = object()
