"""`check_sources` against a web server this test starts on 127.0.0.1: what each kind of answer is recorded as.

The server's paths answer as real sites do (200, a redirect, 404, 500, a HEAD refused, a redirect loop, an
answer that never comes in time); a refused connection is a bound port nobody listens on, a TLS failure is
HTTPS spoken to the plain HTTP server, and a failed name lookup is made by replacing the resolver. Nothing
leaves this machine. The expected outcomes are written out by hand, per path.
"""

import contextlib
import datetime
import http.server
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Exists, OuterRef
from django.tasks import TaskResultStatus
from django.utils import timezone

from recognition import links
from recognition.models import DataVersion, LinkOutcome, Resolution, Source
from tests.conftest import ResolutionFactory

TIMEOUT = "0.5"  # seconds: the slow path answers only after the test ends, so only its own wait is spent
SLOW_ANSWER_WAIT = 30  # the slow path's safety net, should a test end without releasing it


@dataclass
class Seen:
    """What the server received: (method, path, User-Agent) per request; the most requests at /gate at once."""

    requests: list = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "TestSite/1.0"

    def do_HEAD(self):
        self._answer("HEAD")

    def do_GET(self):
        self._answer("GET")

    def log_message(self, *args):
        pass

    def _answer(self, method):
        path = urlsplit(self.path).path
        with self.server.seen.lock:
            self.server.seen.requests.append((method, path, self.headers.get("User-Agent", "")))
        # The checker may have given up first (the slow path): nobody is listening any more.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(method, path)

    def _route(self, method, path):
        parts = path.strip("/").split("/")
        if path == "/ok":
            self._status(200)
        elif path == "/moved":
            self._status(301, location="/ok")
        elif path == "/missing":
            self._status(404)
        elif path == "/broken":
            self._status(500)
        elif path == "/slow":
            self.server.release.wait(SLOW_ANSWER_WAIT)
            self._status(200)
        elif parts[0] == "chain" and len(parts) == 2:  # /chain/N: N redirects, then 200
            hops = int(parts[1])
            if hops:
                self._status(302, location=f"/chain/{hops - 1}")
            else:
                self._status(200)
        elif parts[0] == "loop":  # /loop/N -> /loop/N+1 -> ... for ever
            self._status(302, location=f"/loop/{int(parts[1]) + 1}")
        elif path == "/r%C3%A9sum%C3%A9":  # "/résumé" as HTTP sends it
            self._status(200)
        elif path == "/head-refused":
            self._status(405 if method == "HEAD" else 200)
        elif path == "/head-dropped":
            if method == "HEAD":
                self.close_connection = True  # closes without a word, as some servers treat HEAD
                return
            self._status(200)
        elif path == "/gate":  # answers only once 3 requests are waiting together
            self._gate()
        else:
            self._status(404)

    def _gate(self):
        """Counts the requests waiting here; each leaves the count before its answer is sent, so the
        count never includes a request whose client already has its answer."""
        seen = self.server.seen
        with seen.lock:
            seen.in_flight += 1
            seen.most_in_flight = max(seen.most_in_flight, seen.in_flight)
        try:
            self.server.gate.wait()
            code = 200
        except threading.BrokenBarrierError:
            code = 503
        with seen.lock:
            seen.in_flight -= 1
        self._status(code)

    def _status(self, code, location=None):
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class NotTLS(socketserver.BaseRequestHandler):
    """Answers plain HTTP at once, whatever it is sent: what a TLS client meets on a misconfigured port."""

    def handle(self):
        self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")


class Server(http.server.ThreadingHTTPServer):
    # The checker opens 8 connections at once: the default backlog of 5 would drop some, and the
    # client's retry a second later would look like a timeout.
    request_queue_size = 64


@dataclass
class Site:
    base: str
    seen: Seen
    refused_url: str  # a port bound on 127.0.0.1 with nothing listening
    not_tls_url: str  # https:// to a port that answers in plain HTTP

    def url(self, path):
        return self.base + path


@pytest.fixture
def site(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 is asked directly, never through a proxy
    server = Server(("127.0.0.1", 0), Handler)
    server.seen, server.release = Seen(), threading.Event()
    server.gate = threading.Barrier(3, timeout=5)
    plain = socketserver.ThreadingTCPServer(("127.0.0.1", 0), NotTLS)
    threads = [
        threading.Thread(target=server.serve_forever, name="test-site", daemon=True),
        threading.Thread(target=plain.serve_forever, name="test-not-tls", daemon=True),
    ]
    for thread in threads:
        thread.start()
    deaf = socket.socket()
    deaf.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused
    try:
        yield Site(
            base=f"http://127.0.0.1:{server.server_address[1]}",
            seen=server.seen,
            refused_url=f"http://127.0.0.1:{deaf.getsockname()[1]}/minutes",
            not_tls_url=f"https://127.0.0.1:{plain.server_address[1]}/minutes",
        )
    finally:
        server.release.set()
        server.gate.abort()
        for running in (server, plain):
            running.shutdown()
            running.server_close()
        for thread in threads:
            thread.join(timeout=10)
        deaf.close()


@pytest.fixture
def no_such_host(monkeypatch):
    """A host name whose lookup fails, as a name that does not exist fails: no resolver is asked."""
    name = "no-such-host.invalid"
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == name:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return f"http://{name}/minutes.pdf"


def source_at(url, **record):
    resolution = ResolutionFactory(sources=[], **record)
    return Source.objects.create(resolution=resolution, url=url, title="Minutes")


def check(*args):
    out = StringIO()
    call_command("check_sources", "--timeout", TIMEOUT, *args, stdout=out)
    return out.getvalue()


# (path, outcome, status, where it ended) for each kind of answer
EXPECTED = [
    ("/ok", LinkOutcome.OK, 200, "/ok"),
    ("/moved", LinkOutcome.REDIRECTED, 200, "/ok"),
    ("/missing", LinkOutcome.CLIENT_ERROR, 404, "/missing"),
    ("/broken", LinkOutcome.SERVER_ERROR, 500, "/broken"),
    ("/slow", LinkOutcome.TIMEOUT, None, "/slow"),
    ("/chain/5", LinkOutcome.REDIRECTED, 200, "/chain/0"),  # 5 redirects: the most that are followed
    ("/chain/6", LinkOutcome.REDIRECT_ERROR, 302, "/chain/1"),  # the 6th is not
    ("/loop/0", LinkOutcome.REDIRECT_ERROR, 302, "/loop/5"),
    ("/head-refused", LinkOutcome.OK, 200, "/head-refused"),
    ("/head-dropped", LinkOutcome.OK, 200, "/head-dropped"),
]


def test_each_answer_is_recorded_as_what_it_was(db, site, no_such_host):
    sources = {path: source_at(site.url(path)) for path, *_rest in EXPECTED}
    refused = source_at(site.refused_url)
    tls_to_plain_http = source_at(site.not_tls_url)
    unknown_host = source_at(no_such_host)
    before = timezone.now()

    output = check()

    for path, outcome, status, final_path in EXPECTED:
        source = Source.objects.get(pk=sources[path].pk)
        assert (source.link_outcome, source.link_status, source.link_final_url) == (
            outcome,
            status,
            site.url(final_path),
        ), path
        assert source.link_checked_at >= before
    for source, url in ((refused, site.refused_url), (tls_to_plain_http, tls_to_plain_http.url)):
        source.refresh_from_db()
        assert (source.link_outcome, source.link_status, source.link_final_url) == (
            LinkOutcome.UNREACHABLE,
            None,
            url,
        )
    unknown_host.refresh_from_db()
    assert (unknown_host.link_outcome, unknown_host.link_status) == (LinkOutcome.UNREACHABLE, None)

    broken = [path for path, outcome, *_rest in EXPECTED if outcome in links.BROKEN_LINK_OUTCOMES]
    redirected = [path for path, outcome, *_rest in EXPECTED if outcome == LinkOutcome.REDIRECTED]
    assert output.splitlines()[0] == (
        f"Checked {len(EXPECTED) + 3} source links: {len(EXPECTED) - len(broken)} ok "
        f"({len(redirected)} redirected), {len(broken) + 3} broken."
    )
    for path in broken:
        assert f"source {sources[path].pk} (record {sources[path].resolution_id}): " in output
        assert site.url(path) in output
    assert "HTTP 404, not found or refused (4xx): " + site.url("/missing") in output
    assert {s.pk for s in Source.objects.broken_links()} == {
        *(sources[path].pk for path in broken),
        refused.pk,
        tls_to_plain_http.pk,
        unknown_host.pk,
    }


def test_head_then_get_only_when_head_is_refused_and_redirects_stop_after_five(db, site):
    for path in ("/ok", "/head-refused", "/head-dropped", "/loop/0"):
        source_at(site.url(path))

    check()

    methods = {}
    for method, path, _agent in site.seen.requests:
        methods.setdefault(path, []).append(method)
    assert methods["/ok"] == ["HEAD"]
    assert methods["/head-refused"] == ["HEAD", "GET"]
    assert methods["/head-dropped"] == ["HEAD", "GET"]
    # The first request and 5 redirects; a loop is not a refusal, so no GET.
    assert [path for path in methods if path.startswith("/loop/")] == [f"/loop/{n}" for n in range(6)]
    assert all(methods[f"/loop/{n}"] == ["HEAD"] for n in range(6))


def test_an_address_with_accents_is_asked_as_http_sends_it(db, site):
    source = source_at(site.url("/résumé"))

    check()

    source.refresh_from_db()
    assert (source.link_outcome, source.link_status) == (LinkOutcome.OK, 200)
    assert source.link_final_url == site.url("/r%C3%A9sum%C3%A9")
    assert [path for _method, path, _agent in site.seen.requests] == ["/r%C3%A9sum%C3%A9"]


def test_the_checker_says_who_it_is(db, site, settings):
    settings.SITE_URL = "https://tracker.example.org"
    source_at(site.url("/ok"))

    check()

    assert [agent for *_request, agent in site.seen.requests] == [
        "DispatcherRecognitionTracker/1.0 (+https://tracker.example.org/about/; link check)"
    ]


def test_links_are_checked_several_at_a_time_and_no_more(db, site):
    """The server's /gate answers only when 3 requests wait together: one at a time, it would fail them."""
    for _ in range(6):
        source_at(site.url("/gate"))

    call_command("check_sources", "--timeout", "10", "--workers", "3", stdout=StringIO())

    assert set(Source.objects.values_list("link_outcome", "link_status")) == {(LinkOutcome.OK, 200)}
    assert site.seen.most_in_flight == 3


def test_only_published_and_stale_days_choose_the_sources(db, site):
    long_ago = timezone.now() - datetime.timedelta(days=40)
    recently = timezone.now() - datetime.timedelta(days=2)
    never = source_at(site.url("/ok?never"))
    old = source_at(site.url("/ok?old"))
    fresh = source_at(site.url("/ok?fresh"))
    draft = source_at(site.url("/ok?draft"), published=False, confidence="low")
    Source.objects.filter(pk=old.pk).update(link_checked_at=long_ago)
    Source.objects.filter(pk__in=[fresh.pk, draft.pk]).update(link_checked_at=recently)
    without_link = Source.objects.create(resolution=never.resolution, title="Printed minutes")

    check("--stale-days", "30", "--only-published")

    checked = set(Source.objects.filter(link_outcome=LinkOutcome.OK).values_list("pk", flat=True))
    assert checked == {never.pk, old.pk}
    assert Source.objects.get(pk=fresh.pk).link_checked_at == recently
    assert Source.objects.get(pk=draft.pk).link_outcome == ""
    assert Source.objects.get(pk=without_link.pk).link_checked_at is None

    check()  # no options: every source with a link, drafts included
    assert set(Source.objects.filter(link_outcome=LinkOutcome.OK).values_list("pk", flat=True)) == {
        never.pk,
        old.pk,
        fresh.pk,
        draft.pk,
    }


def test_a_link_that_is_not_http_is_listed_not_checked(db, site):
    ftp = source_at("ftp://ftp.example.org/minutes.pdf")
    source_at(site.url("/ok"))

    output = check()

    assert output.splitlines()[0] == "Checked 1 source link: 1 ok (0 redirected), 0 broken."
    assert f"1 link not checked (neither http nor https):\n  source {ftp.pk} " in output
    ftp.refresh_from_db()
    assert (ftp.link_checked_at, ftp.link_outcome) == (None, "")


def test_a_check_leaves_the_public_data_version_and_history_alone(db, site):
    source = source_at(site.url("/missing"))
    version = DataVersion.objects.get().token
    history_rows = source.history.count()

    check()

    source.refresh_from_db()
    assert source.link_outcome == LinkOutcome.CLIENT_ERROR
    assert DataVersion.objects.get().token == version
    assert source.history.count() == history_rows


def test_the_check_runs_as_a_task(db, site):
    """With the default task backend the task runs at once, in this process, and reports like the command."""
    ok, missing = source_at(site.url("/ok")), source_at(site.url("/missing"))

    result = links.check_source_links.enqueue(timeout=float(TIMEOUT))

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"checked": 2, "ok": 1, "broken": [missing.pk], "skipped": []}
    ok.refresh_from_db()
    assert (ok.link_outcome, ok.link_status) == (LinkOutcome.OK, 200)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--timeout", "0"],
        ["--timeout", "soon"],
        ["--workers", "0"],
        ["--stale-days", "-1"],
        ["--timeout", "nan"],
    ],
)
def test_nonsense_options_are_refused(db, arguments):
    with pytest.raises(CommandError):
        call_command("check_sources", *arguments, stdout=StringIO())


# --- The archived copy: public, so a change to it refreshes the cached pages ---------------------------


def test_the_record_page_and_the_api_show_an_archived_copy(client, db):
    record = ResolutionFactory(sources=["https://example.org/minutes", "https://example.org/agenda"])
    minutes, agenda = record.sources.order_by("pk")
    assert "archived copy" not in client.get(record.get_absolute_url()).content.decode()

    minutes.archived_url = "https://web.archive.org/web/2022/https://example.org/minutes"
    minutes.save()  # after the page above was cached

    html = client.get(record.get_absolute_url()).content.decode()
    assert html.count("archived copy") == 1
    assert f'<a href="{minutes.archived_url}" rel="noopener">archived copy' in html
    sources = client.get(f"/api/resolutions/{record.pk}/", HTTP_ACCEPT="application/json").json()["sources"]
    assert [s["archived_url"] for s in sources] == [minutes.archived_url, None]


@pytest.mark.postgres  # EXPLAIN plans are PostgreSQL's
def test_broken_links_can_be_read_from_their_partial_index(db):
    """The broken-links queries match `source_broken_link`'s condition, so PostgreSQL can use it.

    A test table is too small for the planner to prefer an index, so sequential scans are priced
    out for this check: a query the index could not serve would still show one.
    """
    record = ResolutionFactory()
    broken = Source.objects.broken_links()
    queries = {
        "sources": broken,
        "records": Resolution.objects.filter(Exists(broken.filter(resolution=OuterRef("pk")))),
        "one record's": broken.filter(resolution=record),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, query in queries.items():
            sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "source_broken_link" in plan, (name, plan)
