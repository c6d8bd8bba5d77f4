"""The records CSV as PostgreSQL writes it is byte for byte the CSV Python writes, whatever the records hold.

Python's writer (`python_csv_lines`, what SQLite gets) is the reference: the csv module quoting, the formula
guard, dates at their precision, the sources in their order. These records are built to be awkward: quotes,
commas, line breaks, formula characters at the start of a cell, non-ASCII text, partial dates, empty or
missing values, several sources or none.
"""

import csv
import datetime
import io
import time
from io import BytesIO
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition import exports
from recognition.filters import ResolutionFilter
from recognition.models import (
    Jurisdiction,
    LegislativeSession,
    Level,
    Resolution,
    Source,
    state_code_expression,
)
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.test_exports import SEARCHES

# No module-wide django_db mark: its fixture would be set up before the transactional test's reload, so the
# flush would come after the reload. Every test here asks for the database through its fixtures.
pytestmark = pytest.mark.postgres

CSV_URL = "/resolutions.csv"
HOSTILE = [
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    '"',
    ",",
    "'",
    " ",
    "|",
    "\\",
    "%",
    "a",
    "Z",
    "7",
    "é",
    "—",
    "中",
    "😀",
]

# Text a record may hold (PostgreSQL text holds anything but NUL). Most values are plain, so that a row often
# has a single awkward cell: a shortcut for plain rows must notice that one cell.
plain = st.text(alphabet=st.sampled_from(list("abcXYZ019 ./:éü中")), max_size=10)
one_awkward_character = st.tuples(plain, st.sampled_from(HOSTILE), plain, st.booleans()).map(
    lambda parts: parts[1] + parts[0] + parts[2] if parts[3] else parts[0] + parts[1] + parts[2]
)
awkward = [
    one_awkward_character,
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=12),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
]
texts = st.integers(0, 9).flatmap(lambda n: awkward[n] if n < len(awkward) else plain)


def partial_dates(first_year=2015, last_year=2030):
    """(first day of the period, precision) or (None, "")."""
    day = st.dates(datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31))
    precision = st.sampled_from(["year", "month", "day"])
    dated = st.tuples(day, precision).map(
        lambda pair: (
            {"year": pair[0].replace(month=1, day=1), "month": pair[0].replace(day=1)}.get(pair[1], pair[0]),
            pair[1],
        )
    )
    return st.one_of(st.just((None, "")), dated)


records = st.fixed_dictionaries(
    {
        "title": texts.filter(bool),
        "summary": texts,
        "body": texts,
        "identifier": texts,
        "latest_action": texts,
        "where": st.sampled_from(["county", "state", "nation", "place", "district"]),
        "place_name": texts,
        "status": st.sampled_from(["adopted", "introduced", "failed"]),
        "introduced": partial_dates(2015, 2019),
        "adopted": partial_dates(2020, 2024),
        "effective": partial_dates(),
        "latest_action_on": partial_dates(),
        "last_verified_on": st.one_of(
            st.none(), st.dates(datetime.date(2020, 1, 1), datetime.date(2026, 1, 1))
        ),
        "session": st.one_of(st.none(), st.tuples(texts.filter(bool), st.booleans())),
        "sources": st.lists(st.tuples(texts, texts).filter(lambda source: source != ("", "")), max_size=3),
        "published": st.booleans(),
    }
)
hosts = st.sampled_from(["http://testserver", "https://example.org:8443", 'http://a,"b"', "=http://x"])


def make(record, number):
    """A Resolution (with its jurisdiction, session and sources) as `record` describes it."""
    state = get_state("AL")
    jurisdiction = {
        "county": lambda: get_county("01097"),
        "state": lambda: state,
        "nation": lambda: Jurisdiction.objects.get(level=Level.NATION),
        "place": lambda: PlaceFactory(name=f"{record['place_name']} {number}"),
        "district": lambda: PlaceFactory(name=f"{record['place_name']} {number}", level=Level.DISTRICT),
    }[record["where"]]()
    status = record["status"]
    adopted_on, adopted_precision = record["adopted"] if status == "adopted" else (None, "")
    resolution = ResolutionFactory(
        sources=[],
        jurisdiction=jurisdiction,
        status=status,
        title=record["title"],
        summary=record["summary"],
        body=record["body"],
        identifier=f"{record['identifier']} {number}" if record["identifier"] else "",
        introduced_on=record["introduced"][0],
        introduced_on_precision=record["introduced"][1],
        adopted_on=adopted_on,
        adopted_on_precision=adopted_precision,
        effective_on=record["effective"][0],
        effective_on_precision=record["effective"][1],
        last_verified_on=record["last_verified_on"],
        published=record["published"],
        confidence="high" if record["published"] else "low",
    )
    session = None
    if record["session"]:
        name, ended = record["session"]
        today = timezone.localdate()
        session = LegislativeSession.objects.create(
            jurisdiction=state,
            name=f"{name} {number}"[:100],
            start_on=today - datetime.timedelta(days=800),
            end_on=today + datetime.timedelta(days=-30 if ended else 30),
        )
    # The latest action is the progress's, kept by actions: written straight to the row here.
    Resolution.objects.filter(pk=resolution.pk).update(
        session=session,
        latest_action=record["latest_action"],
        latest_action_on=record["latest_action_on"][0],
        latest_action_on_precision=record["latest_action_on"][1],
    )
    for url, title in record["sources"]:
        Source.objects.create(resolution=resolution, url=url, title=title)
    return resolution


def text(lines):
    return "".join(lines).encode()


def both(queryset, host, *, staff=False):
    """(the database's bytes, Python's bytes) of the same queryset."""
    absolute_url = lambda path: host + path  # noqa: E731
    return (
        text(exports.csv_lines(queryset, absolute_url, staff=staff)),
        text(exports.python_csv_lines(queryset, absolute_url, staff=staff)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(records, min_size=1, max_size=4), host=hosts)
def test_hostile_records_are_written_to_the_same_bytes(db, batch, host):
    with transaction.atomic():
        for number, record in enumerate(batch):
            make(record, number)
        public = ResolutionFilter({}).qs
        database, python = both(public, host)
        assert database == python
        rows = list(csv.reader(io.StringIO(python.decode("utf-8-sig"), newline="")))
        assert len(rows) - 1 == sum(record["published"] for record in batch)
        everything = Resolution.objects.annotate(state_code=state_code_expression()).order_by("-pk")
        database, python = both(everything, host, staff=True)
        assert database == python
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "params",
    [
        *SEARCHES,
        {"q": "dispatchers first responders", "ordering": "-latest_action"},
        {"stage": ["adopted", "in_force"], "ordering": "-state"},
    ],
    ids=repr,
)
def test_the_starter_dataset_through_the_view_is_python_s_csv(client, starter_dataset, params):
    response = client.get(CSV_URL, params)
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    filterset = ResolutionFilter(params)
    assert filterset.is_valid()
    python = text(exports.python_csv_lines(filterset.qs, lambda path: "http://testserver" + path))
    assert served == python
    assert served.count(b"\r\n") > 1 or params == {"state": ["WY"]}


def test_the_admin_export_is_python_s_csv(editor_client, starter_dataset):
    Resolution.objects.filter(pk__in=Resolution.objects.order_by("pk").values("pk")[:5]).update(
        published=False, confidence="low"
    )
    response = editor_client.get(reverse("admin:recognition_resolution_export"))
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served.count(b",no\r\n") == Resolution.objects.filter(published=False).count() >= 5
    everything = Resolution.objects.annotate(state_code=state_code_expression())
    database, python = both(everything, "http://testserver", staff=True)
    assert database == python
    assert sorted(served.splitlines()[1:]) == sorted(python.splitlines()[1:])


@pytest.mark.parametrize("chunk_size", [3, 2000])
def test_two_queries_whatever_the_number_of_batches(
    client, starter_dataset, monkeypatch, django_assert_num_queries, chunk_size
):
    """The export's settings, then the rows: the sources are read with each row, not per batch."""
    monkeypatch.setattr(exports, "CSV_CHUNK_SIZE", chunk_size)
    with django_assert_num_queries(2):
        response = client.get(CSV_URL)
        body = b"".join(response.streaming_content)
    assert body.count(b"\r\n") > 1


def test_a_download_cut_short_leaves_the_connection_usable(starter_dataset):
    """Closing the lines after their first part (as a server does when the client goes) ends the export's
    reading, and the connection goes on: the next export is whole."""
    lines = exports.csv_lines(ResolutionFilter({}).qs, lambda path: "http://testserver" + path)
    assert next(iter(lines)).startswith("\ufeffid,")
    lines.close()
    assert Resolution.objects.filter(published=True).exists()
    database, python = both(ResolutionFilter({}).qs, "http://testserver")
    assert database == python
    assert python.count(b"\r\n") > 1


def export_backend_gone(pid):
    """Whether PostgreSQL has ended backend `pid`, asked on a connection of its own (polled: nothing else
    tells when the server's timer fires)."""
    settings_dict = connection.settings_dict
    observer = psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
    )
    observer.autocommit = True  # pg_stat_activity is read once per transaction
    deadline = time.monotonic() + 20
    try:
        with observer.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if not cursor.fetchone()[0]:
                    return True
                time.sleep(0.02)
        return False
    finally:
        observer.close()


def show(*names):
    with connection.cursor() as cursor:
        found = []
        for name in names:
            cursor.execute(f"SHOW {name}")
            found.append(cursor.fetchone()[0])
        return found


def test_a_download_left_unread_loses_its_connection_and_holds_nothing(
    reload_reference_data_afterwards, transactional_db, monkeypatch
):
    """The export's transaction lasts as long as its download: a client that stops reading has it ended by
    PostgreSQL after the idle timeout (set for that transaction only). The download breaks off with an
    error, the process drops the dead connection at the request's end, and the next request is served."""
    monkeypatch.setattr(exports, "CSV_CHUNK_SIZE", 3)
    # Short, but not so short that a busy machine (the suite runs on two workers) pauses this long between
    # two of the export's own statements: at 100 ms the export was cut before its first chunk once.
    monkeypatch.setattr(exports, "EXPORT_IDLE_TIMEOUT", "1s")
    for _ in range(10):
        ResolutionFactory()
    defaults = show("idle_in_transaction_session_timeout", "statement_timeout")

    def download():
        environ = {"PATH_INFO": CSV_URL, "HTTP_HOST": "testserver", "wsgi.input": BytesIO()}
        setup_testing_defaults(environ)
        status = []
        body = WSGIHandler()(environ, lambda answer, headers, exc_info=None: status.append(answer))
        return status, body

    status, body = download()
    chunks = iter(body)
    assert next(chunks).startswith(b"\xef\xbb\xbfid,")
    assert status == ["200 OK"]
    # Inside the export's transaction (the generator waits between two batches).
    assert show("idle_in_transaction_session_timeout", "statement_timeout") == ["1s", "1min"]
    export_pid = connection.connection.get_backend_pid()
    assert export_backend_gone(export_pid)
    with pytest.raises(DatabaseError):
        for _chunk in chunks:
            pass
    body.close()  # the server ends the request
    # The dead connection was replaced (Django reconnects as the export's transaction ends, or drops it at
    # the request's end): the next query of this process is answered.
    assert Resolution.objects.count() == 10
    assert connection.connection.get_backend_pid() != export_pid

    monkeypatch.setattr(exports, "EXPORT_IDLE_TIMEOUT", "30s")
    status, body = download()
    served = b"".join(body)
    body.close()
    assert status == ["200 OK"]
    python = text(exports.python_csv_lines(ResolutionFilter({}).qs, lambda path: "http://testserver" + path))
    assert served == python and served.count(b"\r\n") == 11
    # The timeouts were the export transaction's alone.
    assert show("idle_in_transaction_session_timeout", "statement_timeout") == defaults
