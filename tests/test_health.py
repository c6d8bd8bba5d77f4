"""Failing politely: 503 while the database is unreachable, recovery without a restart, /healthz."""

import logging
import threading

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from recognition import health
from tests.outage import FakeClock, fresh_breaker

pytestmark = pytest.mark.django_db


def unreachable(settings_dict):
    """The same database settings, pointed at something that cannot answer."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return {
            **settings_dict,
            "NAME": "/nonexistent-directory/tracker.sqlite3",
            "TEST": settings_dict["TEST"],
        }
    return {**settings_dict, "HOST": "127.0.0.1", "PORT": "9"}  # discard port: nothing listens


def in_own_thread(steps):
    """Run `steps` in a thread with its own database connection, as a server worker would."""
    results = []

    def run():
        try:
            results.extend(steps())
        finally:
            connections["default"].close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    return results


def test_database_down_gives_503_then_recovers_without_restart(caplog, monkeypatch):
    clock = FakeClock()
    breaker = fresh_breaker(monkeypatch, clock)
    # The first request after the window waits for its probe's answer, and is then served.
    monkeypatch.setattr(health, "PROBE_WAIT_SECONDS", 30)

    def steps():
        wrapper = connections["default"]
        real = wrapper.settings_dict
        client = Client(raise_request_exception=False)
        wrapper.close()
        wrapper.settings_dict = unreachable(real)
        down = [client.get("/"), client.get("/states/al/"), client.get("/api/resolutions/")]
        wrapper.close()
        wrapper.settings_dict = real
        clock.advance(breaker.open_seconds)  # the breaker's window is over: the next request probes
        return [*down, client.get("/")]

    *down, back = in_own_thread(steps)
    for response in down:
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert "briefly unavailable" in response.content.decode()
        assert "Traceback" not in response.content.decode()
    assert back.status_code == 200
    outage_logs = [r for r in caplog.records if "Database unreachable" in r.getMessage()]
    assert len(outage_logs) == 1  # logged once per outage, not once per request
    assert len([r for r in caplog.records if r.getMessage() == "Database reachable again."]) == 1


@pytest.mark.postgres  # connect_timeout is a PostgreSQL setting
def test_postgres_connect_timeout_is_short():
    assert int(settings.DATABASES["default"]["OPTIONS"]["connect_timeout"]) <= 5


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_names_what_failed():
    def steps():
        wrapper = connections["default"]
        real = wrapper.settings_dict
        wrapper.close()
        wrapper.settings_dict = unreachable(real)
        response = Client().get("/healthz")
        wrapper.close()
        wrapper.settings_dict = real
        return [response]

    (response,) = in_own_thread(steps)
    assert response.status_code == 503
    assert response.json() == {"database": "unreachable", "cache": "ok"}


def test_healthz_reports_a_broken_cache(client, monkeypatch, caplog):
    from recognition import health

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(health.cache, "set", broken)
    with caplog.at_level(logging.INFO, logger="recognition.cache"):
        for _ in range(3):
            response = client.get("/healthz")
            assert response.status_code == 503
            assert response.json() == {"database": "ok", "cache": "unreachable"}
    # Logged once per outage, not once per check.
    logged = [record.levelname for record in caplog.records if record.name == "recognition.cache"]
    assert logged == ["WARNING"]


def test_redis_is_given_short_timeouts():
    """A lost or hung Redis costs a request at most this long, and only one request per retry interval."""
    from config.settings import redis_cache_settings

    options = redis_cache_settings("redis://127.0.0.1:6379/0")["OPTIONS"]
    assert options["socket_connect_timeout"] <= 1 and options["socket_timeout"] <= 1


def test_error_pages_show_no_traceback_or_settings():
    client = Client(raise_request_exception=False)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We cannot find that page" in body
    for leak in ("Traceback", "SECRET_KEY", "DATABASES", "settings.py"):
        assert leak not in body
