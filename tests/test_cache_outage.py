"""Redis is a cache, not a dependency: while it is unreachable every page is answered from the database.

Each test starts a redis-server of its own (on a free port, no persistence), points the site's
cache at it, and kills it (or freezes it, as a hung server) mid-test; the fixture stops it at the
end. Requests go through config/wsgi.py's application. The back-off between tries is timed with
a clock moved by hand, so nothing waits.
"""

import json
import logging
import os
import signal

import pytest
import redis
from django.core.cache import caches

from config.settings import redis_cache_settings
from recognition import sharedcache, versioning
from recognition.models import Resolution, Submission
from recognition.sharedcache import SharedRedisCache, cache_available
from tests.conftest import ResolutionFactory, get_county, start_redis
from tests.html import map_regions
from tests.redis_server import CuttableProxy
from tests.test_caching import call_wsgi, commit, wsgi_application

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PUBLIC = [
    "/",
    "/?layer=counties",
    "/states/al/",
    "/states/al/mobile-county/",
    "/united-states/",
    "/resolutions/",
    "/resolutions/?state=TX&q=dispatchers",
    "/data/",
    "/about/",
    "/embed/map/",
    "/embed/states/al/",
    "/api/resolutions/?state=AL",
    "/api/jurisdictions/?state=WY",
    "/api/states/",
]


@pytest.fixture
def own_redis(tmp_path, settings):
    """A redis-server for this test alone, as the site's cache; stopped however the test ends."""
    server = start_redis(tmp_path)
    try:
        settings.CACHES = {"default": redis_cache_settings(server.url)}
        sharedcache.reset()
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sharedcache, "clock", lambda: now[0])
    monkeypatch.setattr(versioning, "clock", lambda: now[0])
    return now


@pytest.fixture
def published(starter_dataset):
    commit()
    return [*PUBLIC, Resolution.objects.published().first().get_absolute_url()]


@pytest.fixture
def connects(monkeypatch):
    """Every connection redis-py opens (or tries to), listed."""
    attempts = []
    connect = redis.connection.AbstractConnection.connect

    def counted(connection):
        attempts.append(connection)
        return connect(connection)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counted)
    return attempts


class Recorded(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelname, record.getMessage()))


@pytest.fixture
def cache_log():
    """What recognition.cache logs, (level, message) each. On the logger itself: building the WSGI
    application sets logging up again, which replaces the root logger's handlers (pytest's too)."""
    logger = logging.getLogger("recognition.cache")
    handler, level = Recorded(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_pages_answer_from_the_database_while_redis_is_down_and_the_cache_comes_back_by_itself(
    own_redis, published, clock, cache_log, connects, client, django_assert_num_queries
):
    application = wsgi_application()
    warm = {}
    for url in published:
        call_wsgi(application, url)
        warm[url] = call_wsgi(application, url)
        assert warm[url]["status"].startswith("200"), url
    with django_assert_num_queries(0):
        assert call_wsgi(application, "/") == warm["/"]
    assert json.loads(call_wsgi(application, "/healthz")["body"]) == {"database": "ok", "cache": "ok"}

    own_redis.kill()

    for url in published:
        answer = call_wsgi(application, url)
        assert answer["status"].startswith("200"), url
        assert answer["body"] == warm[url]["body"], url  # the same page, built from the database
    health = call_wsgi(application, "/healthz")
    assert health["status"].startswith("503")
    assert json.loads(health["body"]) == {"database": "ok", "cache": "unreachable"}
    assert client.get("/states/al/").status_code == 200  # Django on its own, without the layer in front
    assert cache_available() is False
    # Cheap while down: until the next try is due, no request tries to reach Redis at all.
    del connects[:]
    for url in published:
        assert call_wsgi(application, url)["status"].startswith("200")
    assert call_wsgi(application, "/healthz")["status"].startswith("503")
    assert connects == []
    assert [level for level, _message in cache_log] == ["WARNING"]
    assert "Cache unreachable" in cache_log[0][1]

    own_redis.start()  # the same port: the same REDIS_URL, nothing restarted on the site's side
    clock[0] += sharedcache.RETRY_SECONDS
    assert call_wsgi(application, "/")["status"].startswith("200")
    assert json.loads(call_wsgi(application, "/healthz")["body"]) == {"database": "ok", "cache": "ok"}
    assert cache_available() is True
    assert [level for level, _message in cache_log] == ["WARNING", "INFO"]
    assert cache_log[1][1] == "Cache reachable again."
    call_wsgi(application, "/")  # keeps the page again
    with django_assert_num_queries(0):
        assert call_wsgi(application, "/")["body"] == warm["/"]["body"]


def test_a_hung_redis_costs_one_timeout_per_try_not_per_request(
    own_redis, published, clock, cache_log, connects, django_assert_num_queries
):
    application = wsgi_application()
    call_wsgi(application, "/states/al/")
    os.kill(own_redis.process.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        del connects[:]
        for url in published:
            assert call_wsgi(application, url)["status"].startswith("200"), url
        assert call_wsgi(application, "/healthz")["status"].startswith("503")
        assert len(connects) <= 2  # the request that found Redis gone (its read, perhaps a reconnect)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert [level for level, _message in cache_log] == ["WARNING"]


@pytest.fixture
def redis_behind_proxy(own_redis, settings):
    """The site reaches its redis-server through a proxy that the test can cut and restore."""
    proxy = CuttableProxy(own_redis.port)
    try:
        settings.CACHES = {"default": redis_cache_settings(proxy.url)}
        yield proxy
    finally:
        proxy.stop()


def test_a_change_made_while_redis_was_unreachable_shows_once_it_answers(
    redis_behind_proxy, published, clock
):
    """Redis kept its data (the network failed, not Redis): the mirror still names the version from
    before the change, which could not replace it. The first process to reach Redis again drops it."""
    application = wsgi_application()
    albany = "56001"
    for _ in range(2):
        assert map_regions(call_wsgi(application, "/states/wy/")["body"].decode())[albany] == "none"
    redis_behind_proxy.cut()
    ResolutionFactory(jurisdiction=get_county(albany))
    commit()  # the new version reaches the database, not the mirror
    assert map_regions(call_wsgi(application, "/states/wy/")["body"].decode())[albany] == "county"
    redis_behind_proxy.restore()
    clock[0] += sharedcache.RETRY_SECONDS
    for _ in range(3):
        assert map_regions(call_wsgi(application, "/states/wy/")["body"].decode())[albany] == "county"


def test_submissions_pause_while_the_rate_limit_cannot_be_counted(own_redis, clock, client):
    """No Redis, no counts: a post is refused with 503 and Retry-After, never accepted unlimited."""
    report = {"state": "WY", "jurisdiction_name": "Albany County", "url": "https://example.org/albany"}
    assert client.post("/submit/", report).status_code == 302
    own_redis.kill()
    for _ in range(8):  # more than the hourly limit, had it been lifted
        response = client.post("/submit/", report)
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert "Submissions are paused" in response.content.decode()
    assert client.get("/submit/").status_code == 200  # the form itself still shows
    assert Submission.objects.count() == 1

    own_redis.start()
    clock[0] += sharedcache.RETRY_SECONDS
    assert client.post("/submit/", report).status_code == 302
    assert Submission.objects.count() == 2


def test_the_cache_builds_one_redis_client_per_server_not_one_per_call(own_redis, monkeypatch):
    built = []
    build = redis.Redis.__init__

    def counted(client, *args, **kwargs):
        built.append(client)
        build(client, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    cache = caches["default"]
    assert isinstance(cache, SharedRedisCache)
    for n in range(20):
        cache.set(f"reuse-{n}", n)
        assert cache.get(f"reuse-{n}") == n

    assert len(built) == 1
