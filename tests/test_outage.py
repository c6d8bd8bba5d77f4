"""The database circuit breaker: after a failed connection, quick 503s; then one probe; recovery logged once.

Time is a fake clock handed to a fresh breaker, and the outage is a switch on
the backend's connection opener that also counts every attempt, so each test
states exactly how many times the site tried to reach the database. The probe
runs in a thread of its own; tests join it through the request that started it,
and choose how long that request waits for it: as long as it takes (`patient`),
or not at all.
"""

import threading

import pytest
from django.db import OperationalError, connections
from django.test import Client

from recognition import health
from tests.outage import FakeClock, Outage, fresh_breaker, request_in_own_thread, start_in_own_thread

pytestmark = pytest.mark.django_db

PAGE = "/states/al/"  # a page that needs the database (every test starts with an empty cache)
OTHER_PAGE = "/api/resolutions/"
RECOVERED = "Database reachable again."


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def breaker(monkeypatch, clock):
    return fresh_breaker(monkeypatch, clock)


@pytest.fixture
def outage(monkeypatch):
    return Outage(monkeypatch)


@pytest.fixture
def patient(monkeypatch):
    """The probing request waits for the probe's verdict, however long it takes."""
    monkeypatch.setattr(health, "PROBE_WAIT_SECONDS", 30)


def probe_of(response):
    """The probe a request started (joined: its verdict is in), or None."""
    probe = getattr(response.wsgi_request, "database_probe", None)
    if probe is not None:
        probe.join(timeout=30)
        assert not probe.is_alive(), "the probe did not finish"
    return probe


def logged(caplog, text):
    return [record for record in caplog.records if text in record.getMessage()]


def assert_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()


def test_a_failed_connection_makes_the_next_requests_answer_at_once_without_connecting(
    outage, breaker, clock, caplog
):
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    assert outage.attempts == 1
    clock.advance(1)
    assert_503(request_in_own_thread(PAGE))
    assert_503(request_in_own_thread(OTHER_PAGE))
    assert outage.attempts == 1  # neither tried to connect
    assert len(logged(caplog, "Database unreachable")) == 1


def test_the_window_lasts_a_few_seconds_even_if_the_database_is_back(outage, breaker, clock, patient):
    assert 2 <= health.BREAKER_OPEN_SECONDS <= 10
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    outage.down = False
    clock.advance(2)
    assert_503(request_in_own_thread(PAGE))
    assert outage.attempts == 1
    clock.advance(breaker.open_seconds)
    assert request_in_own_thread(PAGE).status_code == 200
    assert outage.attempts == 3  # the probe's connection, then the page's own


def test_after_the_window_one_probe_succeeds_and_recovery_is_logged_once(
    outage, breaker, clock, patient, caplog
):
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    outage.down = False
    clock.advance(breaker.open_seconds)
    assert not logged(caplog, RECOVERED)
    response = request_in_own_thread(PAGE)
    assert response.status_code == 200  # the probe answered in time: this request is served
    assert probe_of(response) is not None
    assert outage.attempts == 3  # the first failure, the probe's connection, the page's own
    assert len(logged(caplog, RECOVERED)) == 1
    assert request_in_own_thread(OTHER_PAGE).status_code == 200
    assert request_in_own_thread(PAGE).status_code == 200
    assert len(logged(caplog, RECOVERED)) == 1


def test_a_failed_probe_opens_a_full_new_window(outage, breaker, clock, patient, caplog):
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    clock.advance(breaker.open_seconds)
    assert_503(request_in_own_thread(PAGE))  # the probe
    assert outage.attempts == 2
    clock.advance(breaker.open_seconds - 0.5)
    assert_503(request_in_own_thread(PAGE))
    assert outage.attempts == 2
    assert not logged(caplog, RECOVERED)
    assert len(logged(caplog, "Database unreachable")) == 1  # one outage, one line


def test_while_one_request_probes_the_others_are_answered_at_once(
    outage, breaker, clock, monkeypatch, caplog
):
    """Even the request that started the probe is answered without waiting for a hung server."""
    monkeypatch.setattr(health, "PROBE_WAIT_SECONDS", 0)
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    outage.down = False
    clock.advance(breaker.open_seconds)
    release = outage.hold()
    try:
        starter = request_in_own_thread(PAGE)
        assert outage.entered.wait(timeout=30), "the probe never tried to connect"
        assert_503(starter)  # answered while its probe is still waiting for the server
        for path in (PAGE, OTHER_PAGE, PAGE):
            assert_503(request_in_own_thread(path))
        assert outage.attempts == 2  # the first failure and the probe, nothing else
        assert not logged(caplog, RECOVERED)
    finally:
        release.set()
    probe_of(starter)
    assert len(logged(caplog, RECOVERED)) == 1
    assert request_in_own_thread(OTHER_PAGE).status_code == 200
    assert request_in_own_thread(PAGE).status_code == 200
    assert len(logged(caplog, RECOVERED)) == 1


def test_a_probe_that_connects_but_whose_query_fails_is_no_recovery(outage, breaker, clock, patient, caplog):
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    outage.down, outage.queries_fail = False, True
    clock.advance(breaker.open_seconds)
    assert_503(request_in_own_thread(PAGE))
    outage.queries_fail = False
    assert not logged(caplog, RECOVERED)
    clock.advance(1)
    assert_503(request_in_own_thread(PAGE))  # a new window began
    assert outage.attempts == 2


def test_answers_under_500_during_an_outage_are_not_recovery(outage, breaker, clock, caplog):
    """A page that needs no query (a 404 here; a cached page likewise) says nothing about the database."""
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    clock.advance(breaker.open_seconds)
    assert request_in_own_thread("/no-such-page/").status_code == 404
    assert not logged(caplog, RECOVERED)


def test_healthz_is_let_through_and_reports_what_it_finds(outage, breaker, clock):
    outage.down = True
    assert_503(request_in_own_thread(PAGE))
    down = request_in_own_thread("/healthz")
    assert down.status_code == 503
    assert down.json() == {"database": "unreachable", "cache": "ok"}
    outage.down = False
    assert request_in_own_thread("/healthz").json() == {"database": "ok", "cache": "ok"}
    assert outage.attempts == 3


def test_an_error_of_one_query_on_a_working_connection_opens_nothing(outage, breaker, caplog):
    """A cancelled statement or a deadlock is an OperationalError too: that request fails, not the site."""

    def cancel(execute, sql, params, many, context):
        raise OperationalError("canceling statement due to statement timeout (simulated)")

    def failing_request():
        with connections["default"].execute_wrapper(cancel):
            return Client(raise_request_exception=False).get(PAGE)

    assert_503(start_in_own_thread(failing_request)())
    assert request_in_own_thread(PAGE).status_code == 200
    assert not logged(caplog, "Database unreachable")


def test_one_probe_among_many_threads():
    clock = FakeClock()
    breaker = health.CircuitBreaker(open_seconds=5, clock=clock)
    assert breaker.admit() == breaker.PASS
    breaker.failed()
    assert breaker.admit() == breaker.REFUSE
    clock.advance(5)
    threads, start, answers = 16, threading.Barrier(16), []

    def ask():
        start.wait(timeout=30)
        answers.append(breaker.admit())

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(answers) == sorted([breaker.PROBE] + [breaker.REFUSE] * (threads - 1))
    breaker.release_probe()  # the probe ended without a verdict: the next caller probes
    assert breaker.admit() == breaker.PROBE
    assert breaker.succeeded() is True
    assert breaker.admit() == breaker.PASS
    assert breaker.succeeded() is False  # already closed: nothing to announce
