"""Helpers for tests of a database outage: a fake clock, a switchable outage, a request in its own thread.

The outage replaces the database backend's connection opener, the one place every new
connection is opened, so a test can both cut the database off and count how
many times the site tried to reach it.
"""

import threading

from django.db import OperationalError, connections
from django.db.backends.utils import CursorWrapper
from django.test import Client

from recognition import health


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Outage:
    """While `down`, every new connection fails as an unreachable server's would; `attempts` counts tries.

    While `queries_fail`, connections open but every statement fails (a server shutting down).

    `hold()` makes the next attempt wait (wherever it runs) until `release()`, and
    `entered` is set once it is waiting: a probe caught in the middle.
    """

    def __init__(self, monkeypatch):
        wrapper_class = type(connections["default"])
        real = wrapper_class.get_new_connection
        self.down = False
        self.queries_fail = False
        self.attempts = 0
        self.entered = threading.Event()
        self._release = None
        self._lock = threading.Lock()

        def get_new_connection(wrapper, conn_params):
            with self._lock:
                self.attempts += 1
                release, self._release = self._release, None
            if release is not None:
                self.entered.set()
                assert release.wait(timeout=30), "the held connection attempt was never released"
            if self.down:
                raise wrapper.Database.OperationalError("connection timed out (simulated outage)")
            return real(wrapper, conn_params)

        monkeypatch.setattr(wrapper_class, "get_new_connection", get_new_connection)
        real_execute = CursorWrapper.execute

        def execute(cursor, sql, params=None):
            if self.queries_fail:
                raise OperationalError("the database system is shutting down (simulated)")
            return real_execute(cursor, sql, params)

        monkeypatch.setattr(CursorWrapper, "execute", execute)

    def hold(self):
        self._release = threading.Event()
        self.entered.clear()
        return self._release


def fresh_breaker(monkeypatch, clock=None):
    """A closed breaker for this test alone (the module's own is per process and would carry over)."""
    breaker = health.CircuitBreaker(clock=clock or FakeClock())
    monkeypatch.setattr(health, "breaker", breaker)
    return breaker


def request_in_own_thread(path, client=None):
    """GET `path` in a new thread with its own database connection, as a server worker would."""
    return run_in_own_thread(lambda: (client or Client(raise_request_exception=False)).get(path))


def run_in_own_thread(function):
    """Call `function` in a new thread (closing its connection after) and return what it returned."""
    return start_in_own_thread(function)()


def start_in_own_thread(function):
    """Start `function` in a new thread; the returned `finish()` waits for it and returns its result."""
    results, errors = [], []

    def run():
        try:
            results.append(function())
        except BaseException as error:
            errors.append(error)
        finally:
            connections["default"].close()

    worker = threading.Thread(target=run)
    worker.start()

    def finish():
        worker.join(timeout=60)
        assert not worker.is_alive(), "the request did not finish"
        if errors:
            raise errors[0]
        return results[0]

    return finish
