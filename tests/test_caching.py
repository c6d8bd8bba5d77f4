"""The page cache is never stale, has one key, keeps answers exactly and cannot be made to grow by junk.

Requests go through config.wsgi's application, as gunicorn makes them (`site`): the page
cache in front of Django. A hit is told from a miss by what it costs: no database query.
A test runs inside one transaction that never commits, so `commit()` does what a commit
would after the changes so far (the on-commit callbacks: the new version is mirrored).
"""

import ast
import gzip
import importlib.util
import json
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recognition import pagecache, versioning
from recognition.models import DataVersion, Jurisdiction, Resolution, Source
from tests.conftest import ResolutionFactory, get_county, get_state
from tests.html import map_regions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
WYOMING_ALBANY = "56001"
STORE_HEADER = "X-Tracker-Page-Version"


def wsgi_application():
    """config/wsgi.py's application, built afresh with the current settings (nothing in its memory)."""
    spec = importlib.util.spec_from_file_location("config_wsgi_under_test", ROOT / "config" / "wsgi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.application


def call_wsgi(application, url, method="GET", **headers):
    """One request through a WSGI application, as gunicorn would make it: status, headers (a list, in
    order) and body. `headers` by CGI name without HTTP_: HOST="localhost", ACCEPT_ENCODING="gzip"."""
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "testserver",
        "wsgi.input": BytesIO(),
    }
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, list(response_headers)

    # As Django's test client does: starting or finishing a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        answer["body"] = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer


def header(answer, name):
    values = [value for key, value in answer["headers"] if key.lower() == name.lower()]
    return values[0] if values else None


def commit():
    """What committing the test's transaction would do now: run (and forget) its on-commit callbacks."""
    callbacks, connection.run_on_commit = connection.run_on_commit, []
    for _savepoints, callback, _robust in callbacks:
        callback()


class Site:
    """config.wsgi's application, fresh: `site(url, **headers)` makes a request."""

    def __init__(self):
        self.application = wsgi_application()

    def __call__(self, url, **headers):
        return call_wsgi(self.application, url, **headers)

    def kept(self):
        """How many answers this process keeps in its memory."""
        return len(self.application._local)


@pytest.fixture(autouse=True)
def _mirror_outlives_the_test(monkeypatch):
    """The local copy of the data version lasts 2 seconds; on a slow machine that can end between two
    requests of a test and cost the second one a query. What is tested here is never that expiry."""
    monkeypatch.setattr(versioning, "LOCAL_MIRROR_SECONDS", 600)


@pytest.fixture
def site():
    return Site()


@pytest.fixture
def published(starter_dataset):
    """The starter dataset, committed."""
    commit()


def albany_status(site):
    return map_regions(site("/states/wy/")["body"].decode())[WYOMING_ALBANY]


# --- Never stale ---------------------------------------------------------------------------------


def test_a_repeat_visit_is_the_same_answer_and_costs_no_query(site, published, django_assert_num_queries):
    first = site("/states/al/")
    assert first["status"].startswith("200")
    assert header(first, STORE_HEADER) is None
    with django_assert_num_queries(0):
        second = site("/states/al/")
    assert second == first


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "in-transaction"])
class TestAChangeShowsOnTheNextRequest:
    """Committed, as in production; and inside the changing transaction, which sees its own change."""

    @pytest.fixture
    def draft(self, published):
        draft = ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY), published=False)
        commit()
        return draft

    def test_publish(self, site, draft, committed):
        assert [albany_status(site), albany_status(site)] == ["none", "none"]  # the second from the cache
        draft.published = True
        draft.save()
        if committed:
            commit()
        assert albany_status(site) == "county"
        assert site(draft.get_absolute_url())["status"].startswith("200")

    def test_unpublish_by_a_bulk_update(self, site, draft, committed):
        draft.published = True
        draft.save()
        commit()
        assert [albany_status(site), albany_status(site)] == ["county", "county"]
        Resolution.objects.filter(pk=draft.pk).update(published=False)  # as an admin action might
        if committed:
            commit()
        assert albany_status(site) == "none"
        assert site(draft.get_absolute_url())["status"].startswith("404")

    def test_editing_a_source(self, site, published, committed):
        law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
        site(law.get_absolute_url())
        assert "Ivey signs bill" in site(law.get_absolute_url())["body"].decode()
        source = law.sources.get()
        source.title = "Governor signs the telecommunicator bill"
        source.save()
        if committed:
            commit()
        page = site(law.get_absolute_url())["body"].decode()
        assert "Governor signs the telecommunicator bill" in page and "Ivey signs bill" not in page

    def test_deleting(self, site, published, committed):
        resolution = Resolution.objects.get(jurisdiction=get_county("01097"))
        site("/states/al/")
        assert map_regions(site("/states/al/")["body"].decode())["01097"] == "county"
        Source.objects.filter(resolution=resolution).delete()
        resolution.delete()
        if committed:
            commit()
        # The City of Mobile still recognizes its dispatchers: the county falls back to "place".
        assert map_regions(site("/states/al/")["body"].decode())["01097"] == "place"


def test_conditional_revisit_gets_a_304_until_the_data_changes(site, published):
    first = site("/")
    etag, last_modified = header(first, "ETag"), header(first, "Last-Modified")
    assert header(first, "Cache-Control") == "public, max-age=0, must-revalidate"
    assert site("/", IF_NONE_MATCH=etag)["status"].startswith("304")  # from the cache
    assert site("/", IF_MODIFIED_SINCE=last_modified)["status"].startswith("304")  # from Django

    ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
    commit()
    after_change = site("/", IF_NONE_MATCH=etag)
    assert after_change["status"].startswith("200")
    assert header(after_change, "ETag") != etag
    assert map_regions(after_change["body"].decode())["56"] == "law"


def test_each_address_has_its_own_etag(site, published):
    assert header(site("/states/al/"), "ETag") != header(site("/states/tx/"), "ETag")


def test_errors_are_not_kept(site, published):
    assert site("/resolutions/?state=ZZ")["status"].startswith("400")
    assert site("/resolutions/999999/")["status"].startswith("404")
    assert site.kept() == 0
    assert header(site("/resolutions.csv"), "ETag") is None


def test_html_is_gzipped_for_browsers_that_accept_it(site, published):
    plain = site("/")
    zipped = site("/", ACCEPT_ENCODING="gzip, deflate, br")
    assert header(zipped, "Content-Encoding") == "gzip" and header(plain, "Content-Encoding") is None
    assert site("/", ACCEPT_ENCODING="gzip, deflate, br") == zipped


# --- Kept exactly ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, accept",
    [
        ("/", None),
        ("/states/al/", None),
        ("/resolutions/?state=TX", None),
        ("/embed/map/", None),
        ("/api/resolutions/", "application/json"),
        ("/api/resolutions/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("/api/states/", "application/json"),
    ],
)
@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_kept_answer_is_the_answer_django_gave(
    site, published, django_assert_num_queries, url, accept, encoding
):
    headers = {"ACCEPT": accept} if accept else {}
    if encoding:
        headers["ACCEPT_ENCODING"] = encoding
    django_only = call_wsgi(get_wsgi_application(), url, **headers)  # no page cache in front
    uncached = site(url, **headers)
    with django_assert_num_queries(0):
        cached = site(url, **headers)
    assert cached == uncached  # every header, in order, and the body
    assert cached["status"] == django_only["status"]
    # Django's gzip pads each answer with a few random bytes (against BREACH): the length and the
    # compressed bytes differ from one answer to the next, what they say does not.
    varying = {STORE_HEADER, "Content-Length"} if encoding else {STORE_HEADER}
    assert [(name, value) for name, value in cached["headers"] if name not in varying] == [
        (name, value) for name, value in django_only["headers"] if name not in varying
    ]
    assert body_text(cached) == body_text(django_only)
    if url.startswith("/api/"):
        assert "Accept" in header(cached, "Vary") and header(cached, "Allow") == "GET, HEAD, OPTIONS"


def body_text(answer):
    zipped = header(answer, "Content-Encoding") == "gzip"
    return gzip.decompress(answer["body"]) if zipped else answer["body"]


def test_what_is_kept_of_an_answer():
    policy = pagecache.PagePolicy(params=())
    kept = pagecache._keepable(
        [
            ("Content-Type", "text/html"),
            ("Vary", "Accept-Encoding"),
            ("Connection", "close"),
            (STORE_HEADER, "x"),
        ],
        policy,
    )
    assert kept == [("Content-Type", "text/html"), ("Vary", "Accept-Encoding")]
    assert pagecache._keepable([("Set-Cookie", "csrftoken=x")], policy) is None
    assert pagecache._keepable([("Vary", "Cookie, Accept-Encoding")], policy) is None
    assert pagecache._keepable([("Vary", "Accept")], policy) is None  # this page's key does not hold Accept


# --- One key: the host, the path, the parameters the view reads ----------------------------------


def test_parameters_the_view_does_not_read_share_the_entry_of_the_page_without_them(
    site, published, django_assert_num_queries
):
    first = site("/resolutions/?state=TX")
    with django_assert_num_queries(0):
        for junk in ("state=TX&utm_source=newsletter", "fbclid=1&state=TX", "state=TX&page_size=&x"):
            assert site(f"/resolutions/?{junk}") == first


def test_the_view_never_sees_parameters_it_does_not_read(client, published):
    page = client.get("/resolutions/?state=TX&utm_source=newsletter").content.decode()
    assert "state=TX" in page  # the CSV, feed and API links carry the search...
    assert "utm_source" not in page  # ...and nothing else


def test_declared_parameters_keep_their_order(client, published):
    """The order can matter (?ordering=state&ordering=-adopted), and links repeat the search as typed."""
    page = client.get("/resolutions/?ordering=-adopted&utm_source=x&state=AL&ordering=state").content.decode()
    assert "ordering=-adopted&amp;ordering=state&amp;state=AL" in page and "utm_source" not in page


def test_a_parameter_the_view_reads_has_its_own_entry(site, published):
    states, counties = (map_regions(site(url)["body"].decode()) for url in ("/", "/?layer=counties"))
    assert WYOMING_ALBANY in counties and WYOMING_ALBANY not in states
    assert map_regions(site("/?layer=counties")["body"].decode()) == counties  # from the cache


def test_the_host_is_part_of_the_key(site, published, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

    def next_link(host):
        answer = site("/api/resolutions/?page_size=1", HOST=host, ACCEPT="application/json")
        return urlsplit(json.loads(answer["body"])["next"]).netloc

    assert next_link("localhost") == "localhost"
    assert next_link("127.0.0.1") == "127.0.0.1"
    assert next_link("LOCALHOST") == "localhost"  # host names are case-insensitive: one entry


def test_the_scheme_is_part_of_the_key(site, published, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def next_link(**headers):
        answer = site("/api/resolutions/?page_size=1", ACCEPT="application/json", **headers)
        return urlsplit(json.loads(answer["body"])["next"]).scheme

    assert next_link(X_FORWARDED_PROTO="https") == "https"
    assert next_link() == "http"


def test_html_and_json_are_separate_entries_and_parameterized_media_types_are_not_kept(
    site, published, django_assert_num_queries
):
    json_answer = site("/api/resolutions/", ACCEPT="application/json")
    html_answer = site("/api/resolutions/", ACCEPT="text/html")
    assert header(json_answer, "Content-Type") == "application/json"
    assert header(html_answer, "Content-Type").startswith("text/html")
    with django_assert_num_queries(0):
        assert site("/api/resolutions/", ACCEPT="*/*") == json_answer  # JSON is what */* gets
        assert site("/api/resolutions/", ACCEPT="text/html;q=0.9") == html_answer
    indented = site("/api/resolutions/", ACCEPT="application/json; indent=4")
    assert indented["body"].startswith(b"{\n    ")  # answered as asked...
    with CaptureQueriesContext(connection) as queries:
        site("/api/resolutions/", ACCEPT="application/json; indent=4")
    assert len(queries) > 0  # ...and not kept: every indent would be an entry
    assert site("/api/resolutions/", ACCEPT="application/xml")["status"].startswith("406")


def test_requests_with_cookies_are_served_from_the_cache(site, published, django_assert_num_queries):
    first = site("/states/al/")
    with django_assert_num_queries(0):
        assert site("/states/al/", COOKIE="sessionid=abc; csrftoken=def") == first


def test_other_requests_go_to_django_untouched(site, published):
    assert site("/healthz")["status"].startswith("200")
    assert call_wsgi(wsgi_application(), "/submit/", method="POST")["status"].startswith("403")  # CSRF


@pytest.mark.redis
def test_a_thousand_requests_with_junk_parameters_add_no_entry(redis_cache, redis_server, published):
    application = wsgi_application()
    first = call_wsgi(application, "/")
    keys = set(redis.Redis.from_url(redis_server.url).keys())
    assert any(b":page:" in key for key in keys)
    for number in range(1000):
        answer = call_wsgi(application, f"/?utm_source=mail{number}&fbclid={number}&x{number}=1")
        assert answer == first
    assert set(redis.Redis.from_url(redis_server.url).keys()) == keys
    assert len(application._local) == 1


# --- The data version ----------------------------------------------------------------------------


def dataversion_writes(queries):
    return [q for q in queries if "recognition_dataversion" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_a_transaction_changes_the_version_once(published):
    before = versioning.current_version()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for _ in range(5):
            ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))  # a resolution and a source each
        Jurisdiction.objects.filter(fips=WYOMING_ALBANY).update(population=1)
    assert len(dataversion_writes(queries.captured_queries)) == 1
    assert DataVersion.objects.get().token != before[0]


def test_a_rolled_back_savepoint_takes_its_version_along(published):
    before = DataVersion.objects.get().token
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
            raise RuntimeError
        assert DataVersion.objects.get().token == before
        ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
        assert DataVersion.objects.get().token != before


def test_a_version_read_during_the_transaction_is_replaced_by_a_later_change(published):
    ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
    seen = versioning.current_version()  # e.g. a page rendered, and kept, in the same transaction
    ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
    assert versioning.current_version() != seen


def test_a_reader_that_read_the_row_before_a_commit_cannot_put_it_back(monkeypatch, published):
    stale = versioning.current_version()
    cache.delete(versioning.mirror_key())  # nothing mirrored: the next reader goes to the database
    committed = ("c" * 32, timezone.now())

    def row_read_while_another_process_commits():
        cache.set(versioning.mirror_key(), committed)  # that commit stores its row
        return stale  # while this reader still got the row as it was

    monkeypatch.setattr(versioning, "_database_row", row_read_while_another_process_commits)
    assert versioning.current_version() == stale  # this request answers with what it read...
    assert cache.get(versioning.mirror_key()) == committed  # ...but the mirror keeps the newer row


def test_the_mirror_ends_on_the_latest_commit_when_commits_overlap(monkeypatch, published):
    first, second = ("1" * 32, timezone.now()), ("2" * 32, timezone.now())
    # The row changes (another commit) between this commit's set and its check.
    rows = iter([first, second, second])
    monkeypatch.setattr(versioning, "_database_row", lambda: next(rows))
    cache.set(versioning.mirror_key(), ("0" * 32, timezone.now()))
    versioning.store_committed_version()
    assert cache.get(versioning.mirror_key()) == second


def test_a_commit_stores_its_version_for_every_reader(published):
    ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
    assert cache.get(versioning.mirror_key()) is None  # not before the commit
    commit()
    assert cache.get(versioning.mirror_key()) == DataVersion.objects.values_list("token", "changed_at").get()


def test_the_mirror_is_named_after_the_database(settings):
    key = versioning.mirror_key()
    connection.settings_dict["NAME"], real = "another_database", connection.settings_dict["NAME"]
    try:
        assert versioning.mirror_key() != key
    finally:
        connection.settings_dict["NAME"] = real


def imported_modules(path):
    """The modules a file imports, relative ones as `.name`."""
    tree = ast.parse(Path(path).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_the_model_layer_imports_no_web_code():
    web = (
        "django.http",
        "django.views",
        "django.shortcuts",
        "rest_framework",
        ".pagecache",
        ".views",
        ".api",
    )
    for path in ("recognition/models.py", "recognition/versioning.py", "recognition/sharedcache.py"):
        for module in imported_modules(ROOT / path):
            assert not module.startswith(web), f"{path} imports {module}"
    assert ".versioning" in imported_modules(ROOT / "recognition/models.py")


# --- Warm pages change after the data commands ------------------------------------------------------


def test_a_warm_page_changes_after_load_population(site, published):
    Jurisdiction.objects.filter(level="state", usps="WY").update(population=1)
    commit()

    def states():
        return {row["usps"]: row["population"] for row in json.loads(site("/api/states/")["body"])}

    assert [states()["WY"], states()["WY"]] == [1, 1]
    call_command("load_population", verbosity=0)
    commit()
    census = (ROOT / "recognition/data/census/population_2022.csv").read_text().splitlines()
    wyoming = next(line for line in census if line.startswith("state,56,"))
    assert states()["WY"] == int(wyoming.rsplit(",", 1)[1])


def test_a_warm_page_changes_after_load_geography(site, published):
    Jurisdiction.objects.filter(fips=WYOMING_ALBANY).update(name="Not Albany County")
    commit()
    assert "Not Albany County" in site("/states/wy/")["body"].decode()
    assert "Not Albany County" in site("/states/wy/")["body"].decode()
    call_command("load_geography", verbosity=0)
    commit()
    page = site("/states/wy/")["body"].decode()
    assert "Not Albany County" not in page and "Albany County" in page


def test_a_warm_page_changes_after_seed_demo(site, db):
    commit()

    def published_count():
        return json.loads(site("/api/resolutions/?page_size=1", ACCEPT="application/json")["body"])["count"]

    assert [published_count(), published_count()] == [0, 0]
    call_command("seed_demo", resolutions=30, places=3, seed=2, verbosity=0)
    commit()
    assert published_count() == Resolution.objects.published().count() > 0


def test_a_warm_page_changes_after_a_jurisdiction_is_renamed(site, published):
    mobile = get_county("01097")
    assert "Mobile County" in site("/states/al/")["body"].decode()
    assert "Mobile County" in site("/states/al/")["body"].decode()
    mobile.name = "Mobile Parish"
    mobile.save()
    commit()
    page = site("/states/al/")["body"].decode()
    assert "Mobile Parish" in page and "Mobile County" not in page


# --- With Redis, as in production: the version watched, not read per request -------------------------


@pytest.fixture
def clock(monkeypatch):
    """The clock of the version watch, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(versioning, "clock", lambda: now[0])
    return now


@pytest.mark.redis
class TestOnRedis:
    @pytest.fixture
    def application(self, redis_cache):
        application = wsgi_application()
        assert isinstance(application._read_version, versioning.VersionWatch)
        return application

    def test_a_repeat_visit_reads_nothing_from_redis_or_the_database(
        self, application, published, monkeypatch, django_assert_num_queries
    ):
        first = call_wsgi(application, "/states/al/")
        reads = []
        monkeypatch.setattr(
            redis.Redis, "execute_command", lambda client, *args, **kwargs: reads.append(args)
        )
        with django_assert_num_queries(0):
            second = call_wsgi(application, "/states/al/")
        assert second == first
        assert reads == []

    def test_a_committed_change_is_visible_on_the_next_request(self, application, published):
        etag = header(call_wsgi(application, "/"), "ETag")
        ResolutionFactory(jurisdiction=get_state("WY"), kind="statute")
        commit()
        answer = call_wsgi(application, "/", IF_NONE_MATCH=etag)
        assert answer["status"].startswith("200")
        assert map_regions(answer["body"].decode())["56"] == "law"


@pytest.mark.redis
class TestVersionWatch:
    """The watch trusts its copy until told, and never longer than KNOWN_VERSION_SECONDS."""

    def test_reads_again_when_a_change_is_announced_and_only_then(self, redis_cache, clock):
        watch = versioning.VersionWatch(redis_cache)
        cache.set(versioning.mirror_key(), ("a" * 32, None))
        assert watch() == ("a" * 32, None)
        cache.set(versioning.mirror_key(), ("b" * 32, None))  # changed behind its back: not announced
        assert watch() == ("a" * 32, None)
        versioning._announce_change()
        # PUBLISH returns once Redis has queued the message; the loopback socket delivers it a moment later
        # (under load, after the next line could run): wait for it to be readable, as a later request would.
        assert watch._pubsub.connection.can_read(timeout=5)
        assert watch() == ("b" * 32, None)

    def test_an_unannounced_change_is_seen_once_the_copy_is_old(self, redis_cache, clock):
        watch = versioning.VersionWatch(redis_cache)
        cache.set(versioning.mirror_key(), ("a" * 32, None))
        watch()
        cache.set(versioning.mirror_key(), ("b" * 32, None))
        clock[0] += versioning.KNOWN_VERSION_SECONDS / 2
        assert watch() == ("a" * 32, None)
        clock[0] += versioning.KNOWN_VERSION_SECONDS
        assert watch() == ("b" * 32, None)

    def test_a_lost_subscription_makes_it_read_again(self, redis_cache, clock):
        watch = versioning.VersionWatch(redis_cache)
        cache.set(versioning.mirror_key(), ("a" * 32, None))
        watch()
        watch._pubsub.connection.disconnect()  # e.g. Redis restarted: announcements may have been missed
        cache.set(versioning.mirror_key(), ("b" * 32, None))
        assert watch() == ("b" * 32, None)

    def test_without_a_subscription_it_reads_every_time(self, redis_cache, clock, monkeypatch):
        watch = versioning.VersionWatch(redis_cache)

        def refused(pubsub, *channels):
            raise redis.ResponseError("unknown command 'SUBSCRIBE'")  # as a Redis without pub/sub answers

        monkeypatch.setattr(redis.client.PubSub, "subscribe", refused)
        cache.set(versioning.mirror_key(), ("a" * 32, None))
        assert watch() == ("a" * 32, None)
        cache.set(versioning.mirror_key(), ("b" * 32, None))
        assert watch() == ("b" * 32, None)


# --- What a cold page costs ------------------------------------------------------------------------


@pytest.mark.postgres  # EXPLAIN plans and GIN indexes are PostgreSQL's
def test_filtered_list_never_scans_the_resolutions_table():
    """The data is seeded once (the cost of this test), then each search's plans are read."""
    from urllib.parse import urlencode

    from django.http import QueryDict

    from recognition.filters import ResolutionFilter

    call_command("seed_demo", resolutions=20000, places=2000, seed=5, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE recognition_resolution")
        cursor.execute("ANALYZE recognition_jurisdiction")
    searches = [
        {"state": "TX"},
        # A word in one title (a demo title ends with its number). A word in a fifth of them
        # ("dispatchers") is rightly read by a scan: the list then shows the newest, capped.
        {"q": "1234"},
        {"q": "Mobile"},
        {"state": "TX", "level": "county", "status": "adopted"},
    ]
    for params in searches:
        filterset = ResolutionFilter(QueryDict(urlencode(params, doseq=True)))
        assert filterset.is_valid(), filterset.errors
        # The page the list shows, and the count its pagination asks for.
        plans = [filterset.qs[:50].explain(), filterset.qs.order_by().values("pk").explain()]
        for plan in plans:
            assert "Seq Scan on recognition_resolution" not in plan, (params, plan)
