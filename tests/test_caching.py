"""Cached pages are never stale: every change is visible on the next request; revisits get a 304."""

import os
import uuid

import pytest
import redis
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone

from recognition import caching
from recognition.models import DataVersion, Resolution, Source
from tests.conftest import ResolutionFactory, get_county, get_state
from tests.html import map_regions

pytestmark = pytest.mark.django_db

WYOMING_ALBANY = "56001"


def albany_status(client):
    return map_regions(client.get("/states/wy/").content.decode())[WYOMING_ALBANY]


@pytest.fixture
def draft(starter_dataset):
    return ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY), published=False)


def test_second_visit_is_served_from_the_cache(client, starter_dataset, django_assert_max_num_queries):
    first = client.get("/states/al/")
    with django_assert_max_num_queries(1):  # the data version, nothing else
        second = client.get("/states/al/")
    assert second.content == first.content


def test_publish_shows_on_the_next_request(client, draft):
    assert albany_status(client) == "none"
    draft.published = True
    draft.save()
    assert albany_status(client) == "county"
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_unpublish_shows_on_the_next_request(client, draft):
    draft.published = True
    draft.save()
    assert albany_status(client) == "county"
    Resolution.objects.filter(pk=draft.pk).update(published=False)  # a bulk write, as an admin action might
    assert albany_status(client) == "none"
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_editing_a_source_shows_on_the_next_request(client, starter_dataset):
    law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
    assert "Ivey signs bill" in client.get(law.get_absolute_url()).content.decode()
    source = law.sources.get()
    source.title = "Governor signs the telecommunicator bill"
    source.save()
    page = client.get(law.get_absolute_url()).content.decode()
    assert "Governor signs the telecommunicator bill" in page and "Ivey signs bill" not in page


def test_deleting_shows_on_the_next_request(client, starter_dataset):
    mobile = get_county("01097")
    resolution = Resolution.objects.get(jurisdiction=mobile)
    assert map_regions(client.get("/states/al/").content.decode())["01097"] == "county"
    Source.objects.filter(resolution=resolution).delete()
    resolution.delete()
    # The City of Mobile still recognizes its dispatchers: the county falls back to "place".
    assert map_regions(client.get("/states/al/").content.decode())["01097"] == "place"


def test_conditional_revisit_gets_a_304_until_the_data_changes(client, starter_dataset):
    first = client.get("/")
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert first["Cache-Control"] == "public, max-age=0, must-revalidate"

    revisit = client.get("/", headers={"If-None-Match": etag})
    assert revisit.status_code == 304
    assert client.get("/", headers={"If-Modified-Since": last_modified}).status_code == 304

    ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
    after_change = client.get("/", headers={"If-None-Match": etag})
    assert after_change.status_code == 200
    assert after_change["ETag"] != etag
    assert map_regions(after_change.content.decode())["56"] == "law"


def test_each_address_has_its_own_etag(client, starter_dataset):
    assert client.get("/states/al/")["ETag"] != client.get("/states/tx/")["ETag"]


def test_errors_are_not_cached(client, starter_dataset):
    assert client.get("/resolutions/", {"state": "ZZ"}).status_code == 400
    assert client.get("/resolutions/", {"state": "ZZ"}).status_code == 400
    assert "ETag" not in client.get("/resolutions.csv")


def test_html_is_gzipped_for_browsers_that_accept_it(client, starter_dataset):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans and GIN indexes are PostgreSQL's"
)
@pytest.mark.parametrize(
    "params",
    [
        {"state": "TX"},
        {"q": "dispatchers"},
        {"q": "Mobile"},
        {"state": "TX", "level": "county", "status": "adopted"},
    ],
)
def test_filtered_list_never_scans_the_resolutions_table(params):
    from urllib.parse import urlencode

    from django.core.management import call_command
    from django.http import QueryDict

    from recognition.filters import ResolutionFilter

    call_command("seed_demo", resolutions=20000, places=2000, seed=5, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE recognition_resolution")
        cursor.execute("ANALYZE recognition_jurisdiction")
    data = QueryDict(urlencode(params, doseq=True))
    filterset = ResolutionFilter(data)
    assert filterset.is_valid(), filterset.errors
    # The page the list shows, and the count its pagination asks for.
    plans = [filterset.qs[:50].explain(), filterset.qs.order_by().values("pk").explain()]
    for plan in plans:
        assert "Seq Scan on recognition_resolution" not in plan, plan


def call_wsgi(application, path, **headers):
    """One request through a WSGI application, as gunicorn would make it: status, headers and body."""
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    environ = {"PATH_INFO": path, "HTTP_HOST": "testserver", "wsgi.input": BytesIO()}
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    # As Django's test client does: starting or finishing a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer["body"] = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer


class TestFinishedPageCache:
    """The WSGI layer in front of Django (config/wsgi.py) serves repeat visits from the cache."""

    @staticmethod
    def call(path, **headers):
        from config.wsgi import application

        return call_wsgi(application, path, **headers)

    def test_repeat_visit_is_identical_and_never_reaches_django(
        self, starter_dataset, django_assert_num_queries
    ):
        first = self.call("/states/al/")
        assert first["status"].startswith("200")
        assert "X-Tracker-Page-Version" not in first["headers"]
        with django_assert_num_queries(0):
            second = self.call("/states/al/")
        assert second == first
        assert second["headers"]["Content-Security-Policy"] == first["headers"]["Content-Security-Policy"]

    def test_conditional_revisit_gets_a_304(self, starter_dataset):
        etag = self.call("/")["headers"]["ETag"]
        assert self.call("/", IF_NONE_MATCH=etag)["status"].startswith("304")

    def test_a_change_is_visible_on_the_next_request(self, starter_dataset):
        before = map_regions(self.call("/states/wy/")["body"].decode())[WYOMING_ALBANY]
        ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
        after = map_regions(self.call("/states/wy/")["body"].decode())[WYOMING_ALBANY]
        assert (before, after) == ("none", "county")

    def test_requests_with_cookies_and_non_public_pages_go_to_django(self, starter_dataset):
        self.call("/states/al/")
        assert self.call("/healthz")["status"].startswith("200")
        assert "X-Tracker-Page-Version" not in self.call("/states/al/", COOKIE="sessionid=x")["headers"]


# --- The version mirror ------------------------------------------------------------------------------


def test_a_reader_that_read_the_row_before_a_commit_cannot_put_it_back(monkeypatch, starter_dataset):
    stale = caching.current_version()
    cache.delete(caching.VERSION_KEY)  # nothing mirrored: the next reader goes to the database
    committed = ("c" * 32, timezone.now())

    def row_read_while_another_process_commits():
        cache.set(caching.VERSION_KEY, committed)  # that commit stores its row (_store_committed_version)
        return stale  # while this reader still got the row as it was

    monkeypatch.setattr(caching, "_database_row", row_read_while_another_process_commits)
    assert caching.current_version() == stale  # this request answers with what it read...
    assert cache.get(caching.VERSION_KEY) == committed  # ...but the mirror keeps the newer row


def test_the_mirror_ends_on_the_latest_commit_when_commits_overlap(monkeypatch, starter_dataset):
    first, second = ("1" * 32, timezone.now()), ("2" * 32, timezone.now())
    # The row changes (another commit) between this commit's set and its check.
    rows = iter([first, second, second])
    monkeypatch.setattr(caching, "_database_row", lambda: next(rows))
    cache.set(caching.VERSION_KEY, ("0" * 32, timezone.now()))

    caching._store_committed_version()

    assert cache.get(caching.VERSION_KEY) == second


def test_a_commit_stores_its_version_for_every_reader(starter_dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
    assert cache.get(caching.VERSION_KEY) == DataVersion.objects.values_list("token", "changed_at").get()


# --- With Redis, as in production: the version watched, not read per request -------------------------


@pytest.fixture
def redis_cache(settings):
    """The site's cache on Redis (REDIS_URL's backend), in a database and key prefix of its own."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {url}: {error}")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """time.monotonic as recognition.caching sees it, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: now[0])
    return now


class TestFinishedPageCacheOnRedis:
    @pytest.fixture
    def application(self, redis_cache):
        from django.core.wsgi import get_wsgi_application

        application = caching.FinishedPageCache(get_wsgi_application())
        assert isinstance(application._read_version, caching.VersionWatch)
        return application

    def test_a_repeat_visit_reads_nothing_from_redis_or_the_database(
        self, application, starter_dataset, monkeypatch, django_assert_num_queries
    ):
        first = self.warm(application, "/states/al/")
        reads = []
        monkeypatch.setattr(caches["default"], "get", lambda *args, **kwargs: reads.append(args))
        monkeypatch.setattr(caching.VersionWatch, "_read", lambda watch: reads.append("version"))
        with django_assert_num_queries(0):
            second = call_wsgi(application, "/states/al/")
        assert second == first
        assert reads == []

    @staticmethod
    def warm(application, path):
        """Two visits: Django answers the first and mirrors the version; the watch keeps it on the second."""
        call_wsgi(application, path)
        return call_wsgi(application, path)

    def test_a_change_is_visible_on_the_next_request(self, application, starter_dataset):
        before = map_regions(self.warm(application, "/states/wy/")["body"].decode())[WYOMING_ALBANY]
        ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
        after = map_regions(call_wsgi(application, "/states/wy/")["body"].decode())[WYOMING_ALBANY]
        assert (before, after) == ("none", "county")

    def test_a_committed_change_is_visible_on_the_next_request(
        self, application, starter_dataset, django_capture_on_commit_callbacks
    ):
        etag = self.warm(application, "/")["headers"]["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
        answer = call_wsgi(application, "/", IF_NONE_MATCH=etag)
        assert answer["status"].startswith("200")
        assert map_regions(answer["body"].decode())["56"] == "law"


class TestVersionWatch:
    """The watch trusts its copy until told, and never longer than KNOWN_VERSION_SECONDS."""

    def test_reads_again_when_a_change_is_announced_and_only_then(self, redis_cache, clock):
        watch = caching.VersionWatch(redis_cache)
        cache.set(caching.VERSION_KEY, ("a" * 32, None))
        assert watch() == ("a" * 32, None)
        cache.set(caching.VERSION_KEY, ("b" * 32, None))  # changed behind its back: not announced
        assert watch() == ("a" * 32, None)
        caching._announce_change()
        assert watch() == ("b" * 32, None)

    def test_an_unannounced_change_is_seen_once_the_copy_is_old(self, redis_cache, clock):
        watch = caching.VersionWatch(redis_cache)
        cache.set(caching.VERSION_KEY, ("a" * 32, None))
        watch()
        cache.set(caching.VERSION_KEY, ("b" * 32, None))
        clock[0] += caching.KNOWN_VERSION_SECONDS / 2
        assert watch() == ("a" * 32, None)
        clock[0] += caching.KNOWN_VERSION_SECONDS
        assert watch() == ("b" * 32, None)

    def test_a_lost_subscription_makes_it_read_again(self, redis_cache, clock):
        watch = caching.VersionWatch(redis_cache)
        cache.set(caching.VERSION_KEY, ("a" * 32, None))
        watch()
        watch._pubsub.connection.disconnect()  # e.g. Redis restarted: announcements may have been missed
        cache.set(caching.VERSION_KEY, ("b" * 32, None))
        assert watch() == ("b" * 32, None)

    def test_without_a_subscription_it_reads_every_time(self, redis_cache, clock, monkeypatch):
        watch = caching.VersionWatch(redis_cache)

        def refused(pubsub, *channels):
            raise redis.ResponseError("unknown command 'SUBSCRIBE'")  # as a Redis without pub/sub answers

        monkeypatch.setattr(redis.client.PubSub, "subscribe", refused)
        cache.set(caching.VERSION_KEY, ("a" * 32, None))
        assert watch() == ("a" * 32, None)
        cache.set(caching.VERSION_KEY, ("b" * 32, None))
        assert watch() == ("b" * 32, None)
