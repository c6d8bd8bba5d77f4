"""The read-only JSON API: the list page's filters and rows, published records only, a fixed query count.

Expected rows come from `ResolutionFilter` itself (the FilterSet the HTML list,
the CSV and the feeds share): the API must return exactly its rows, in its order.
What each filter means is checked against the records' own fields.
"""

import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.http import QueryDict

from recognition import progress
from recognition.filters import ResolutionFilter
from recognition.models import Action, Confidence, Level, Resolution, Source, Status
from tests import progress_records
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state

pytestmark = pytest.mark.django_db

LIST_URL = "/api/resolutions/"
JURISDICTIONS_URL = "/api/jurisdictions/"
STATES_URL = "/api/states/"


def get_json(client, url, params=None, status=200):
    response = client.get(url, params or {})
    assert response.status_code == status, (url, params, response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def api_rows(client, params=None, url=LIST_URL):
    """Every row the API returns for `params`, in order, following its `next` links."""
    body = get_json(client, url, {**(params or {}), "page_size": 500})
    rows = list(body["results"])
    while body["next"]:
        body = get_json(client, body["next"])
        rows.extend(body["results"])
    assert len(rows) == body["count"] or not rows
    return rows


def filterset_ids(params):
    """The ids the list page's FilterSet gives for the same query string, in its order."""
    filterset = ResolutionFilter(QueryDict(urlencode(params, doseq=True)))
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("pk", flat=True))


def draft(**kwargs):
    return ResolutionFactory(published=False, confidence=Confidence.LOW, **kwargs)


# --- the same rows as the list page ------------------------------------------------------------

SEARCHES = [
    {},
    {"state": "AL"},
    {"state": ["AL", "TX", "CO"]},
    {"state": "WV"},
    {"level": "county"},
    {"level": ["place", "district"]},
    {"kind": "statute"},
    {"kind": ["resolution", "proclamation"]},
    {"status": "introduced"},
    {"status": ["adopted", "failed"]},
    {"adopted_after": "2020-01-01"},
    {"adopted_before": "2019-12-31"},
    {"adopted_after": "2019-01-01", "adopted_before": "2022-12-31"},
    {"q": "telecommunicators"},
    {"q": "Mobile"},
    {"q": "   "},
    {"ordering": "adopted"},
    {"ordering": "-adopted"},
    {"ordering": "jurisdiction"},
    {"ordering": "-jurisdiction"},
    {"ordering": "state"},
    {"ordering": "-state"},
    {"ordering": ["state", "-adopted"]},
    {"state": "AL", "level": "county", "status": "adopted", "ordering": "jurisdiction"},
    {"q": "first responders", "state": ["TX", "TN"], "ordering": "-adopted"},
    {"state": "WY"},
]


@pytest.mark.parametrize("params", SEARCHES, ids=lambda params: urlencode(params, doseq=True) or "all")
def test_same_rows_in_the_same_order_as_the_list_filterset(client, starter_dataset, params):
    assert [row["id"] for row in api_rows(client, params)] == filterset_ids(params)


def test_same_rows_across_pages(client, starter_dataset):
    ResolutionFactory.create_batch(12)
    expected = filterset_ids({"ordering": "jurisdiction"})
    ids, page = [], 1
    while True:
        body = get_json(client, LIST_URL, {"ordering": "jurisdiction", "page_size": 7, "page": page})
        ids.extend(row["id"] for row in body["results"])
        if not body["next"]:
            break
        page += 1
    assert body["count"] == len(expected) == len(ids)
    assert ids == expected
    assert page == -(-len(expected) // 7)


# --- each filter does what it says -------------------------------------------------------------


def test_every_published_record_and_only_those(client, starter_dataset):
    rows = api_rows(client)
    assert sorted(row["id"] for row in rows) == sorted(
        Resolution.objects.published().values_list("pk", flat=True)
    )
    assert len(rows) > 50  # the starter dataset spans more than one default page


def test_state_filter_includes_what_is_inside_the_state(client, starter_dataset):
    rows = api_rows(client, {"state": "AL"})
    assert {row["state"] for row in rows} == {"AL"}
    assert {row["level"] for row in rows} >= {"state", "county", "place", "district"}
    both = api_rows(client, {"state": ["AL", "TX"]})
    assert {row["state"] for row in both} == {"AL", "TX"}
    assert len(both) == len(rows) + len(api_rows(client, {"state": "TX"}))


def test_level_kind_and_status_filters(client, starter_dataset):
    for name, field in (("level", "level"), ("kind", "kind"), ("status", "status")):
        values = {row[field] for row in api_rows(client)}
        assert len(values) > 1, name
        for value in values:
            rows = api_rows(client, {name: value})
            assert rows and {row[field] for row in rows} == {value}, (name, value)


def test_adopted_date_filters(client, starter_dataset):
    after = api_rows(client, {"adopted_after": "2021-01-01"})
    before = api_rows(client, {"adopted_before": "2020-12-31"})
    assert after and before
    assert all(row["adopted_on"] and row["adopted_on"][:4] >= "2021" for row in after)
    assert all(row["adopted_on"] and row["adopted_on"][:4] <= "2020" for row in before)
    dated = Resolution.objects.published().exclude(adopted_on=None).count()
    assert len(after) + len(before) == dated


def test_adopted_after_counts_a_partial_date_from_its_first_day(client, db):
    year_only = ResolutionFactory(adopted_on=datetime.date(2022, 1, 1), adopted_on_precision="year")
    assert [row["id"] for row in api_rows(client, {"adopted_after": "2022-01-01"})] == [year_only.pk]
    assert api_rows(client, {"adopted_after": "2022-01-02"}) == []


def test_text_search(client, starter_dataset):
    rows = api_rows(client, {"q": "Calloway"})
    assert [row["jurisdiction"]["name"] for row in rows] == ["Calloway County"]


def test_ordering(client, starter_dataset):
    rows = api_rows(client, {"ordering": "state"})
    states = [row["state"] or "" for row in rows]
    assert states == sorted(states)
    rows = api_rows(client, {"ordering": "-jurisdiction"})
    names = [row["jurisdiction"]["name"] for row in rows]
    assert names == sorted(names, reverse=True)


# --- drafts never appear -----------------------------------------------------------------------


def test_drafts_are_never_listed_nor_shown(client, starter_dataset):
    hidden = draft(title="Unreviewed draft about telecommunicators")
    published = ResolutionFactory()
    for params in ({}, {"q": "Unreviewed"}, {"state": "AL"}, {"level": "county"}, {"status": "adopted"}):
        ids = [row["id"] for row in api_rows(client, params)]
        assert hidden.pk not in ids, params
    assert published.pk in [row["id"] for row in api_rows(client, {"state": "AL"})]
    get_json(client, f"{LIST_URL}{hidden.pk}/", status=404)
    get_json(client, f"{LIST_URL}{published.pk}/")
    assert not [row for row in api_rows(client) if row["jurisdiction"]["name"] == "Baldwin County"]


def test_a_draft_does_not_change_a_state_status(client, db):
    draft(jurisdiction=get_state("WY"), kind="statute")
    draft(jurisdiction=get_county("56021"))  # Laramie County, WY
    wyoming = states_by_code(client)["WY"]
    assert wyoming["status"] == "none"
    assert wyoming["counts"] == {"state_resolutions": 0, "local_jurisdictions_acted": 0}


def test_unknown_record_is_404(client, db):
    get_json(client, f"{LIST_URL}999999999/", status=404)


# --- bad parameters are 400, never 500 ---------------------------------------------------------

BAD_PARAMETERS = [
    {"state": "ZZ"},
    {"state": "al\x00"},
    {"state": ["AL", "Texas"]},
    {"level": "planet"},
    {"kind": "decree"},
    {"status": "pending"},
    {"adopted_after": "2022-02-30"},
    {"adopted_after": "2022"},
    {"adopted_before": "yesterday"},
    {"adopted_before": "99999-01-01"},
    {"ordering": "title"},
    {"ordering": "adopted; DROP TABLE"},
    {"q": "x" * 201},
    {"q": "first\x00responders"},
]


@pytest.mark.parametrize("params", BAD_PARAMETERS, ids=repr)
def test_bad_parameters_are_a_400_naming_the_parameter(client, starter_dataset, params):
    body = get_json(client, LIST_URL, params, status=400)
    assert set(body) == set(params)
    for messages in body.values():
        assert messages and all(isinstance(message, str) and message for message in messages)


@pytest.mark.parametrize("page", ["999999999999999999999999", "2", "0", "-1", "abc", "\x00", "1e309", "NaN"])
def test_a_page_that_does_not_exist_is_404(client, db, page):
    ResolutionFactory()
    body = get_json(client, LIST_URL, {"page": page}, status=404)
    assert "detail" in body


def test_page_size(client, starter_dataset):
    total = Resolution.objects.published().count()
    body = get_json(client, LIST_URL)
    assert len(body["results"]) == 50 and body["count"] == total and body["next"] and body["previous"] is None
    assert len(get_json(client, LIST_URL, {"page_size": 5})["results"]) == 5
    ResolutionFactory.create_batch(500 - total + 10)
    assert len(get_json(client, LIST_URL, {"page_size": 100000})["results"]) == 500
    for ignored in ("0", "-3", "abc", "\x00"):  # DRF falls back to the default size
        assert len(get_json(client, LIST_URL, {"page_size": ignored})["results"]) == 50


def test_read_only(client, starter_dataset):
    resolution = Resolution.objects.published().first()
    for url in (LIST_URL, f"{LIST_URL}{resolution.pk}/", JURISDICTIONS_URL, STATES_URL, "/api/"):
        assert client.post(url, {"title": "x"}).status_code == 405, url
        assert client.put(url, {}, content_type="application/json").status_code == 405, url
        assert client.delete(url).status_code == 405, url
    resolution.refresh_from_db()
    assert resolution.title != "x"


# --- what a record looks like ------------------------------------------------------------------


# A record's fields before issue 18, in their order: clients read them, so new fields are appended.
EXISTING_FIELDS = [
    "id", "url", "api_url", "jurisdiction", "state", "level", "kind", "status", "body", "identifier", "title",
    "summary", "introduced_on", "introduced_on_precision", "adopted_on", "adopted_on_precision", "effective_on",
    "effective_on_precision", "stage", "latest_action", "latest_action_on", "latest_action_on_precision",
    "session", "session_ended", "last_verified_on", "confidence", "sources", "actions_api_url", "updated_at",
]  # fmt: skip


def test_resolution_json(client, db):
    place = PlaceFactory(name="City of Example")
    resolution = ResolutionFactory(
        jurisdiction=place,
        kind="ordinance",
        identifier="Ord. 2022-7",
        introduced_on=datetime.date(2021, 9, 1),
        introduced_on_precision="month",
        adopted_on=datetime.date(2022, 1, 1),
        adopted_on_precision="year",
        effective_on=None,
        last_verified_on=datetime.date(2024, 5, 6),
        confidence=Confidence.MEDIUM,
        sources=["https://example.org/ord-7"],
    )
    Source.objects.create(resolution=resolution, title="Council minutes (print only)", publisher="The Clerk")
    row = get_json(client, f"{LIST_URL}{resolution.pk}/")
    assert row == get_json(client, LIST_URL)["results"][0]
    assert list(row) == [*EXISTING_FIELDS, "source_title"]  # new fields come after those clients read
    updated_at = row.pop("updated_at")
    assert datetime.datetime.fromisoformat(updated_at) == resolution.updated_at
    assert row == {
        "id": resolution.pk,
        "url": f"http://testserver/resolutions/{resolution.pk}/",
        "api_url": f"http://testserver/api/resolutions/{resolution.pk}/",
        "jurisdiction": {
            "id": place.pk,
            "name": "City of Example",
            "level": "place",
            "state": "AL",
            "fips": None,
            "url": f"http://testserver/states/al/{place.slug}/",
        },
        "state": "AL",
        "level": "place",
        "kind": "ordinance",
        "status": "adopted",
        "body": "County Commission",
        "identifier": "Ord. 2022-7",
        "title": resolution.title,
        "summary": "Recognizes 911 telecommunicators as first responders.",
        "introduced_on": "2021-09",
        "introduced_on_precision": "month",
        "adopted_on": "2022",
        "adopted_on_precision": "year",
        "effective_on": None,
        "effective_on_precision": None,
        "stage": "adopted",
        "latest_action": None,
        "latest_action_on": None,
        "latest_action_on_precision": None,
        "session": None,
        "session_ended": False,
        "last_verified_on": "2024-05-06",
        "confidence": "medium",
        "sources": [
            {
                "url": "https://example.org/ord-7",
                "title": f"Minutes for {resolution.title}",
                "publisher": "",
                "accessed_on": None,
                "archived_url": None,
            },
            {
                "url": None,
                "title": "Council minutes (print only)",
                "publisher": "The Clerk",
                "accessed_on": None,
                "archived_url": None,
            },
        ],
        "actions_api_url": f"http://testserver/api/actions/?resolution={resolution.pk}",
        "source_title": f"Minutes for {resolution.title}",  # the primary source: the first listed
    }


def test_source_title_is_null_when_the_primary_source_has_none(client, db):
    resolution = ResolutionFactory(sources=[])
    Source.objects.create(resolution=resolution, url="https://example.org/untitled")
    Source.objects.create(resolution=resolution, url="https://example.org/titled", title="A later title")
    assert get_json(client, f"{LIST_URL}{resolution.pk}/")["source_title"] is None


def test_state_and_federal_records(client, starter_dataset):
    rows = api_rows(client)
    texas = next(row for row in rows if row["jurisdiction"]["name"] == "Texas")
    assert texas["state"] == "TX" and texas["level"] == "state"
    assert texas["jurisdiction"] | {"id": None} == {
        "id": None,
        "name": "Texas",
        "level": "state",
        "state": "TX",
        "fips": "48",
        "url": "http://testserver/states/tx/",
    }
    federal = [row for row in rows if row["level"] == "nation"]
    assert federal and all(row["state"] is None for row in federal)
    assert {row["jurisdiction"]["url"] for row in federal} == {"http://testserver/united-states/"}
    county = next(row for row in rows if row["jurisdiction"]["name"] == "Calloway County")
    assert county["jurisdiction"]["fips"] == "21035" and county["state"] == "KY"
    assert county["adopted_on"] == "2019-09" and county["adopted_on_precision"] == "month"
    for row in rows:
        assert row["sources"], row["id"]
        assert client.get(row["url"].removeprefix("http://testserver")).status_code == 200


# --- jurisdictions -----------------------------------------------------------------------------


def test_jurisdictions_by_state_and_level(client, starter_dataset):
    texas = api_rows(client, {"state": "TX"}, url=JURISDICTIONS_URL)
    assert {row["state"] for row in texas} == {"TX"}
    assert [row["name"] for row in texas if row["level"] == "state"] == ["Texas"]
    counties = api_rows(client, {"state": "TX", "level": "county"}, url=JURISDICTIONS_URL)
    assert len(counties) == 254 and {row["level"] for row in counties} == {"county"}
    assert len(texas) == 1 + len(counties)
    names = [row["name"] for row in counties]
    assert names == sorted(names)
    states = api_rows(client, {"level": "state"}, url=JURISDICTIONS_URL)
    assert len(states) == 56
    nation = get_json(client, JURISDICTIONS_URL, {"level": "nation"})["results"]
    assert [(row["name"], row["state"], row["url"]) for row in nation] == [
        ("United States", None, "http://testserver/united-states/")
    ]


def test_jurisdiction_search_and_json(client, starter_dataset):
    rows = api_rows(client, {"q": "mobile", "state": "AL"}, url=JURISDICTIONS_URL)
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"Mobile County", "City of Mobile"}
    city = by_name["City of Mobile"]
    assert city["level"] == "place" and city["fips"] is None and city["county_fips"] == "01097"
    assert city["url"].startswith("http://testserver/states/al/")
    county = by_name["Mobile County"]
    assert county["fips"] == "01097" and county["county_fips"] is None and county["is_territory"] is False
    assert set(county) == {
        "id", "name", "level", "state", "fips", "url", "county_fips", "is_territory", "population", "population_year",
    }  # fmt: skip
    assert client.get(city["url"].removeprefix("http://testserver")).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"state": "ZZ"},
        {"state": "tx"},
        {"level": "planet"},
        {"q": "x" * 201},
        {"q": "\x00"},
        {"page": "99999"},
    ],
    ids=repr,
)
def test_jurisdictions_bad_parameters(client, db, params):
    status = 404 if "page" in params else 400
    body = get_json(client, JURISDICTIONS_URL, params, status=status)
    if status == 400:
        assert set(body) == set(params)


# --- states ------------------------------------------------------------------------------------


def states_by_code(client):
    rows = get_json(client, STATES_URL)
    assert isinstance(rows, list)
    return {row["usps"]: row for row in rows}


def test_state_statuses_for_the_starter_dataset(client, starter_dataset):
    states = states_by_code(client)
    assert len(states) == 56
    expected = {"TX": "law", "TN": "resolution", "PA": "pending", "KY": "local", "WY": "none"}
    assert {code: states[code]["status"] for code in expected} == expected
    assert states["TX"]["status_label"] == "State law"
    assert states["KY"]["status_label"] == "Local action only"
    assert states["PA"]["counts"] == {"state_resolutions": 3, "local_jurisdictions_acted": 1}
    assert states["KY"]["counts"] == {"state_resolutions": 0, "local_jurisdictions_acted": 1}
    assert states["WY"]["counts"] == {"state_resolutions": 0, "local_jurisdictions_acted": 0}
    # Mobile County, City of Mobile, Jefferson County 911 district, City of Hanceville; Baldwin
    # County's record is a draft (low confidence) and does not count.
    assert states["AL"]["counts"] == {"state_resolutions": 1, "local_jurisdictions_acted": 4}
    # Texas has a law: all 254 counties and every Texan are covered (the coverage of every state is
    # checked against the one rule in tests/test_coverage.py).
    assert states["TX"]["coverage"]["counties"] == {"covered": 254, "partly": 0, "resolution": 0, "none": 0}
    people = states["TX"]["coverage"]["people"]
    assert people["total"] == people["covered"] == people["under_law"] == states["TX"]["population"]
    assert states["PR"]["coverage"]["people"] is None
    assert states["TX"] | {"population": None, "population_year": None, "coverage": None} == {
        "usps": "TX",
        "fips": "48",
        "name": "Texas",
        "is_territory": False,
        "status": "law",
        "status_label": "State law",
        "counts": {"state_resolutions": 1, "local_jurisdictions_acted": 0},
        "population": None,
        "population_year": None,
        "coverage": None,
        "url": "http://testserver/states/tx/",
        "resolutions_api_url": "http://testserver/api/resolutions/?state=TX",
    }
    assert states["PR"]["is_territory"] is True
    assert [row["name"] for row in states.values()] == sorted(row["name"] for row in states.values())


def test_state_statuses_agree_with_the_map(client, starter_dataset):
    national = progress.national_progress()
    on_map = {region.jurisdiction.usps: region.status for region in national.states + national.territories}
    assert {code: row["status"] for code, row in states_by_code(client).items()} == on_map


def test_state_counts_agree_with_the_records(client, starter_dataset):
    for code, row in states_by_code(client).items():
        own = Resolution.objects.published().filter(jurisdiction__level=Level.STATE, jurisdiction__usps=code)
        local = (
            Resolution.objects.published()
            .in_state(code)
            .filter(
                status=Status.ADOPTED, jurisdiction__level__in=[Level.COUNTY, Level.PLACE, Level.DISTRICT]
            )
            .values("jurisdiction")
            .distinct()
        )
        assert row["counts"] == {
            "state_resolutions": own.count(),
            "local_jurisdictions_acted": local.count(),
        }, code


def test_api_root_links(client, db):
    body = get_json(client, "/api/")
    assert body == {
        "resolutions": "http://testserver/api/resolutions/",
        "actions": "http://testserver/api/actions/",
        "jurisdictions": "http://testserver/api/jurisdictions/",
        "states": "http://testserver/api/states/",
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
    }


def test_browsable_api_renders(client, starter_dataset):
    for url in ("/api/", LIST_URL, f"{LIST_URL}?state=AL&ordering=state", JURISDICTIONS_URL, STATES_URL):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
    assert client.get(f"{LIST_URL}?state=ZZ", HTTP_ACCEPT="text/html").status_code == 400


# --- query budgets -----------------------------------------------------------------------------

# The data version (recognition/caching.py), count, page (with jurisdiction and state joined), its sources.
LIST_QUERIES = 4
# The data version, states, state measures, local jurisdictions that acted, state-level counts, counties.
STATES_QUERIES = 6


def grow(n=50):
    counties = [get_county(fips) for fips in ("01097", "01003", "21035", "48201", "42003")]
    for i in range(n):
        place = PlaceFactory(parent=get_state("AL")) if i % 5 == 0 else None
        ResolutionFactory(
            jurisdiction=place or counties[i % len(counties)],
            sources=[f"https://example.org/{i}/a", f"https://example.org/{i}/b"],
        )


@pytest.mark.parametrize(
    "params",
    [{}, {"state": ["AL", "KY"], "ordering": "state"}, {"q": "telecommunicators"}, {"page_size": 500}],
    ids=repr,
)
def test_list_query_budget_does_not_grow_with_data(
    client, starter_dataset, django_assert_max_num_queries, params
):
    with django_assert_max_num_queries(LIST_QUERIES):
        get_json(client, LIST_URL, params)
    grow()
    with django_assert_max_num_queries(LIST_QUERIES):
        body = get_json(client, LIST_URL, params)
    assert body["results"]


def test_detail_and_jurisdictions_query_budget(client, starter_dataset, django_assert_max_num_queries):
    resolution = Resolution.objects.published().filter(jurisdiction__level=Level.PLACE).first()
    with django_assert_max_num_queries(3):  # the data version, the record with its jurisdiction, its sources
        get_json(client, f"{LIST_URL}{resolution.pk}/")
    with django_assert_max_num_queries(3):  # the data version, count, page
        get_json(client, JURISDICTIONS_URL, {"page_size": 500, "level": ["county", "place"]})


def test_states_query_budget_does_not_grow_with_data(client, starter_dataset, django_assert_max_num_queries):
    with django_assert_max_num_queries(STATES_QUERIES):
        get_json(client, STATES_URL)
    grow()
    with django_assert_max_num_queries(STATES_QUERIES):
        get_json(client, STATES_URL)


# --- stages, sessions and actions (issue 15) ---------------------------------------------------------

ACTIONS_URL = "/api/actions/"


@pytest.fixture
def records(db):
    return progress_records.build()


def test_each_record_says_its_stage_latest_action_and_session(client, records):
    rows = {row["id"]: row for row in api_rows(client)}
    published = [record for record in records if record.published]
    assert set(rows) == {record.pk for record in published}
    precision = {4: "year", 7: "month", 10: "day"}
    for record in published:
        row = rows[record.pk]
        session = record.resolution.session
        assert row["stage"] == record.stage, record.key
        assert row["latest_action"] == (record.latest_description or None), record.key
        assert row["latest_action_on"] == (record.latest_written or None), record.key
        assert row["latest_action_on_precision"] == precision.get(len(record.latest_written)), record.key
        assert row["session_ended"] is record.session_ended, record.key
        assert row["session"] == (
            None
            if session is None
            else {
                "id": session.pk,
                "name": session.name,
                "start_on": session.start_on.isoformat(),
                "end_on": session.end_on.isoformat(),
            }
        ), record.key
        link = urlsplit(row["actions_api_url"])
        actions = api_rows(client, parse_qs(link.query), url=link.path)
        assert [action["id"] for action in actions] == [
            a.pk for a in sorted(record.actions, key=lambda a: a.step.sort_key)
        ]


def expected_actions(records, keep=lambda record: True):
    """The published records' action ids: by measure, then in the order the stage rules read them."""
    chosen = [record for record in records if record.published and keep(record)]
    return [
        action.pk
        for record in sorted(chosen, key=lambda record: record.pk)
        for action in sorted(record.actions, key=lambda action: action.step.sort_key)
    ]


def test_actions_of_every_published_measure_and_only_those(client, records):
    assert [row["id"] for row in api_rows(client, url=ACTIONS_URL)] == expected_actions(records)


def test_an_action_in_json(client, records):
    s725 = progress_records.by_key(records)["S. 725"]
    passage = s725.actions[1]
    (row,) = [
        row for row in api_rows(client, {"resolution": s725.pk}, url=ACTIONS_URL) if row["id"] == passage.pk
    ]
    created, updated = row.pop("created_at"), row.pop("updated_at")
    assert datetime.datetime.fromisoformat(created) == passage.created_at
    assert datetime.datetime.fromisoformat(updated) == passage.updated_at
    assert row == {
        "id": passage.pk,
        "url": f"http://testserver/resolutions/{s725.pk}/#action-{passage.pk}",
        "resolution": s725.pk,
        "resolution_url": f"http://testserver/resolutions/{s725.pk}/",
        "resolution_api_url": f"http://testserver/api/resolutions/{s725.pk}/",
        "headline": "S. 725 passed the Senate",
        "date": "2025-09",
        "date_precision": "month",
        "chamber": "upper",
        "classification": "passage",
        "description": passage.description,
        "source_url": passage.source_url,
    }
    failure = progress_records.by_key(records)["H.R. 6319"].actions[-1]
    (row,) = api_rows(client, {"classification": "failure"}, url=ACTIONS_URL)
    assert row["id"] == failure.pk and row["chamber"] is None


def test_actions_by_measure_and_classification(client, records):
    named = progress_records.by_key(records)
    chosen = {named["SB 4"].pk, named["HB 2"].pk}
    rows = api_rows(client, {"resolution": sorted(chosen)}, url=ACTIONS_URL)
    assert [row["id"] for row in rows] == expected_actions(records, lambda record: record.pk in chosen)
    signatures = api_rows(
        client, {"classification": ["executive-signature", "executive-veto"]}, url=ACTIONS_URL
    )
    assert {row["classification"] for row in signatures} == {"executive-signature", "executive-veto"}
    assert len(signatures) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"resolution": "abc"},
        {"resolution": "999999"},
        {"resolution": "draft"},
        {"resolution": "9223372036854775808"},
        {"resolution": ["1", "-1"]},
        {"classification": "signed"},
    ],
    ids=repr,
)
def test_actions_bad_parameters_are_a_400(client, records, params):
    if params.get("resolution") == "draft":
        params = {"resolution": progress_records.by_key(records)["HB 99 draft"].pk}
    body = get_json(client, ACTIONS_URL, params, status=400)
    assert set(body) == set(params)


def test_the_browsable_actions_page_renders_in_a_fixed_number_of_queries(
    client, records, django_assert_num_queries
):
    for grow in (False, True):
        if grow:
            progress_records.build_more(records, n=20)
        # The data version, count, page, and the filter form's list of measures.
        with django_assert_num_queries(4):
            response = client.get(ACTIONS_URL, HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert client.get(ACTIONS_URL, {"classification": "nope"}, HTTP_ACCEPT="text/html").status_code == 400


def test_a_draft_s_actions_are_never_listed(client, records):
    draft = progress_records.by_key(records)["HB 99 draft"]
    ids = {row["id"] for row in api_rows(client, url=ACTIONS_URL)}
    assert draft.actions and not ids & {action.pk for action in draft.actions}
    assert Action.objects.count() > len(ids)


@pytest.mark.parametrize(
    "params, budget",
    [
        ({"stage": ["passed_upper", "adopted"]}, LIST_QUERIES),
        ({"ordering": "-latest_action"}, LIST_QUERIES),
        ({}, LIST_QUERIES),
    ],
    ids=repr,
)
def test_resolution_list_query_count_is_pinned(client, records, django_assert_num_queries, params, budget):
    for grow in (False, True):
        if grow:
            progress_records.build_more(records, n=20)
        with django_assert_num_queries(budget):
            get_json(client, LIST_URL, params)


def test_actions_query_count_is_pinned(client, records, django_assert_num_queries):
    s725 = progress_records.by_key(records)["S. 725"]
    for grow in (False, True):
        if grow:
            progress_records.build_more(records, n=20)
        with django_assert_num_queries(3):  # the data version, count, page (each with its measure)
            get_json(client, ACTIONS_URL, {"page_size": 500})
        with django_assert_num_queries(4):  # and the measures named, checked once
            get_json(client, ACTIONS_URL, {"resolution": s725.pk})


@pytest.mark.parametrize("dataset", ["starter", "stages"])
def test_the_written_out_record_is_what_the_declared_fields_give(request, rf, db, dataset):
    """The serializer writes its fields out for speed; DRF's reading of the declarations is the oracle,
    over every published record of the starter data, or over measures at every stage (ended sessions, a
    law in force by its effective date, federal bills, a source with an archive and an access date)."""
    from recognition.api.serializers import ResolutionSerializer

    if dataset == "starter":
        request.getfixturevalue("starter_dataset")
    else:
        progress_records.build()
    law = ResolutionFactory(
        jurisdiction=get_state("TX"), kind="statute", effective_on=datetime.date(2020, 9, 1),
        effective_on_precision="day", last_verified_on=datetime.date(2025, 1, 2),
    )  # fmt: skip
    Source.objects.create(
        resolution=law, url="https://example.org/law", archived_url="https://web.archive.org/x",
        accessed_on=datetime.date(2025, 1, 3), publisher="Texas Legislature",
    )  # fmt: skip
    serializer = ResolutionSerializer(context={"request": rf.get("/api/resolutions/")})
    records = Resolution.objects.published().with_jurisdiction().prefetch_related("sources")
    stages_seen = set()
    for resolution in records:
        written = serializer.to_representation(resolution)
        assert written == serializer.generic_representation(resolution), resolution.pk
        assert list(written) == list(serializer.generic_representation(resolution))
        stages_seen.add(written["stage"])
    # The records reach what the comparison is for: stages a date or a session changes.
    assert "in_force" in stages_seen
    if dataset == "stages":
        assert {"failed", "in_committee", "passed_both"} <= stages_seen
        assert any(serializer.to_representation(r)["session_ended"] for r in records)
