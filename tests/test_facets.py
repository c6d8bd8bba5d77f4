"""Facet counts on /resolutions/: beside each choice, the records it gives with the other filters kept.

The expected count of each choice is plain Python over the published records (a record's state,
level, kind, status, stage as of today by the pure rule, session and adoption date), and the text
search's matches are read from the list page itself; some choices are also followed, as a reader
would, and the search they lead to must show that many rows.
"""

import datetime
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition.filters import STATE_CHOICES
from recognition.models import Kind, LegislativeSession, Level, Resolution, Stage, Status
from tests import progress_records
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.test_exports import read_csv
from tests.test_feeds import NS, measure_entries
from tests.test_list import listed, parse_links, state_of

pytestmark = pytest.mark.django_db

LIST_URL = "/resolutions/"
CHECKBOX_FACETS = ("state", "level", "kind", "status", "stage")
FACET_QUERIES = 9  # the data version, one grouped count per facet (six), the row count, the page of rows
# On PostgreSQL a search without text or session: the data version, the facets and the count summed from the
# facets' tally (one query), the page of rows.
TALLIED_QUERIES = 3


def page(client, params):
    """The list page for `params`, rendered now (not an earlier cached copy), with its context."""
    cache.clear()
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content.decode()[:500]
    return response


def as_list(value):
    return value if isinstance(value, list) else [value]


class Oracle:
    """Which published records a search gives, decided in plain Python over the records' own fields."""

    def __init__(self, client):
        self.client = client
        self.records = list(
            Resolution.objects.filter(published=True).select_related("jurisdiction__parent", "session")
        )
        self._searches = {}

    def searched(self, words):
        """The ids the list gives for a text search alone (the search's own rules are tested elsewhere)."""
        if words not in self._searches:
            self._searches[words] = set(listed(self.client, {"q": words})[1])
        return self._searches[words]

    def matches(self, record, params):
        for name, value in params.items():
            values = [str(v) for v in as_list(value)]
            if not values or values == [""]:
                continue
            if name == "state" and state_of(record) not in {v.upper() for v in values}:
                return False
            if name == "level" and record.jurisdiction.level not in values:
                return False
            if name == "kind" and record.kind not in values:
                return False
            if name == "status" and record.status not in values:
                return False
            if name == "stage" and record.current_stage not in values:
                return False
            if name == "session" and str(record.session_id) != values[0]:
                return False
            if name == "adopted_after" and not (
                record.adopted_on and record.adopted_on >= datetime.date.fromisoformat(values[0])
            ):
                return False
            if name == "adopted_before" and not (
                record.adopted_on and record.adopted_on <= datetime.date.fromisoformat(values[0])
            ):
                return False
            if name == "q" and record.pk not in self.searched(values[0]):
                return False
        return True

    def count(self, params):
        return sum(1 for record in self.records if self.matches(record, params))

    def years(self):
        return sorted({r.adopted_on.year for r in self.records if r.adopted_on}, reverse=True)


def leads_to(params, facet, option):
    """The search a facet's choice leads to: that choice alone in its filter, every other filter kept."""
    if facet.name == "adopted_year":
        return {**params, **option.params}
    return {**params, facet.name: [option.value]}


def choices(facets):
    return [(facet, option) for facet in facets.values() for option in facet.options]


@pytest.fixture
def world(starter_dataset):
    """The starter data, bills moving through their legislatures (in sessions), and an adopted measure not
    yet in force."""
    colorado, texas = get_state("CO"), get_state("TX")
    ongoing = progress_records.make_session(colorado, "Ongoing session", ended=False)
    ended = progress_records.make_session(texas, "Ended session", ended=True)
    committee = ResolutionFactory(
        jurisdiction=colorado, kind=Kind.BILL, status=Status.INTRODUCED, adopted_on=None,
        adopted_on_precision="", identifier="HB 9001", session=ongoing,
    )  # fmt: skip
    progress_records.add_action(committee, "2025-01-10", "introduction", "lower")
    progress_records.add_action(committee, "2025-01-10", "referral-committee", "lower")
    passed = ResolutionFactory(
        jurisdiction=texas, kind=Kind.BILL, status=Status.INTRODUCED, adopted_on=None,
        adopted_on_precision="", identifier="SB 9002", session=ended,
    )  # fmt: skip
    progress_records.add_action(passed, "2023-02", "introduction", "upper")
    progress_records.add_action(passed, "2023-04-01", "passage", "upper")
    ResolutionFactory(
        jurisdiction=get_county("48201"),
        adopted_on=datetime.date(2024, 3, 1),
        effective_on=datetime.date(datetime.date.today().year + 1, 1, 1),
        effective_on_precision="year",
    )
    stages = {record.current_stage for record in Resolution.objects.filter(published=True)}
    assert {"in_committee", "passed_upper", "adopted", "in_force", "failed"} <= stages


# --- the property -------------------------------------------------------------------------------

states = st.lists(st.sampled_from(["AL", "TX", "CO", "PA", "NY", "WY", "al", "tx"]), max_size=3, unique=True)
years = st.integers(min_value=2015, max_value=2026)
dates = st.one_of(
    st.just({}),
    years.map(lambda y: {"adopted_after": f"{y}-01-01", "adopted_before": f"{y}-12-31"}),
    years.map(lambda y: {"adopted_after": f"{y}-01-01"}),
    years.map(lambda y: {"adopted_before": f"{y}-06-30"}),
)
searches = st.fixed_dictionaries(
    {
        "state": states,
        "level": st.lists(st.sampled_from(Level.values), max_size=2, unique=True),
        "kind": st.lists(st.sampled_from(Kind.values), max_size=2, unique=True),
        "status": st.lists(st.sampled_from(Status.values), max_size=2, unique=True),
        "stage": st.lists(st.sampled_from(Stage.values), max_size=3, unique=True),
        "q": st.sampled_from(["", "", "", "county", "telecommunicators", "Mobile", "first responders"]),
        "session": st.sampled_from(["", "", "ongoing", "ended"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(search=searches, dated=dates, data=st.data())
def test_each_count_is_the_number_of_rows_its_search_gives(client, world, search, dated, data):
    sessions = {s.name.split()[0].lower(): str(s.pk) for s in LegislativeSession.objects.all()}
    params = {name: value for name, value in {**search, **dated}.items() if value not in ("", [])}
    if "session" in params:
        params["session"] = sessions[params["session"]]
    oracle = Oracle(client)
    facets = page(client, params).context["facets"]

    assert [option.value for option in facets["state"].options] == [code for code, _name in STATE_CHOICES]
    for name in CHECKBOX_FACETS:
        chosen = {str(v).upper() if name == "state" else str(v) for v in as_list(params.get(name, []))}
        assert {option.value for option in facets[name].options if option.selected} == chosen, name
    assert [int(option.value) for option in facets["adopted_year"].options] == oracle.years()

    for facet, option in choices(facets):
        search_it_leads_to = leads_to(params, facet, option)
        assert option.count == oracle.count(search_it_leads_to), (facet.name, option.value, params)

    # And as a reader would: choose one and count the rows the list shows.
    for facet, option in data.draw(st.lists(st.sampled_from(choices(facets)), min_size=1, max_size=2)):
        shown = page(client, leads_to(params, facet, option)).context["page_obj"].paginator.count
        assert shown == option.count, (facet.name, option.value, params)


# --- fixed queries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": ["AL", "TX"], "level": ["county", "place"]},
        {"q": "county", "status": "adopted", "adopted_after": "2020-01-01"},
        {"stage": ["adopted", "in_force"], "kind": "statute", "adopted_before": "2023-12-31"},
        {"adopted_after": "2021-01-01", "adopted_before": "2021-12-31", "page": "1"},
    ],
    ids=repr,
)
def test_a_fixed_number_of_queries_whatever_the_size_of_the_data(
    client, starter_dataset, django_assert_num_queries, params
):
    before = Resolution.objects.count()
    for grow in (False, True):
        if grow:
            for usps in ["AL", "TX", "OH", "GA"]:
                state = get_state(usps)
                county = state.children.filter(level=Level.COUNTY).first()
                ResolutionFactory.create_batch(10, jurisdiction=state, kind="statute")
                ResolutionFactory.create_batch(20, jurisdiction=county)
                ResolutionFactory.create_batch(20, jurisdiction=PlaceFactory(parent=state, county=county))
        cache.clear()
        tallied = connection.vendor == "postgresql" and "q" not in params
        with django_assert_num_queries(TALLIED_QUERIES if tallied else FACET_QUERIES):
            response = client.get(LIST_URL, params)
        assert response.status_code == 200
    assert Resolution.objects.count() > 2 * before  # the second time, on more than twice the data


def test_a_search_that_cannot_be_run_counts_nothing(client, starter_dataset, django_assert_num_queries):
    with django_assert_num_queries(1):  # the data version only
        response = client.get(LIST_URL, {"state": ["AL", "ZZ"], "level": "county"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="facet__count"' not in html
    # The form is still there to correct, with what was chosen.
    assert 'name="state" value="AL" checked' in html and 'name="level" value="county" checked' in html


# --- on the page ------------------------------------------------------------------------------------


def option_html(html, name, value):
    match = re.search(
        rf'<label class="([^"]*)"[^>]*><input type="checkbox" name="{name}" value="{value}"[^>]*>(.*?)</label>',
        html,
    )
    assert match, (name, value)
    return match.group(1), re.sub(r"<[^>]+>", "", match.group(2)).strip()


def test_every_choice_shows_its_count_and_an_empty_one_stays_greyed_with_0(client, starter_dataset):
    ResolutionFactory(
        jurisdiction=get_county("56001"), published=False, confidence="low"
    )  # a draft in Wyoming
    oracle = Oracle(client)
    html = page(client, {"level": "county"}).content.decode()
    alabama = oracle.count({"level": ["county"], "state": ["AL"]})
    assert alabama > 0
    records = "record" if alabama == 1 else "records"
    assert option_html(html, "state", "AL") == ("facet__option", f"Alabama {alabama} {records}")
    assert option_html(html, "state", "WY") == ("facet__option facet__option--empty", "Wyoming 0 records")
    assert option_html(html, "level", "county")[1] == f"County {oracle.count({'level': ['county']})} records"
    assert "The number beside each choice is how many records it gives with the other filters kept." in html


def test_states_are_checkboxes_that_work_without_javascript(client, starter_dataset):
    html = page(client, {"state": "AL"}).content.decode()
    assert '<select name="state"' not in html
    boxes = re.findall(r'<input type="checkbox" name="state" value="([A-Z]{2})"( checked)?>', html)
    assert [code for code, _checked in boxes] == [code for code, _name in STATE_CHOICES]
    assert [code for code, checked in boxes if checked] == ["AL"]
    assert "<legend>State or territory</legend>" in html and "Chosen: Alabama." in html
    # The type-to-narrow box is added by a script file (no inline script: CSP), only when it runs.
    assert 'data-facet-search="Find a state or territory"' in html
    assert '<script src="/static/js/facet_search.js" defer></script>' in html
    assert 'id="state-options-search"' not in html


@pytest.mark.parametrize("query", ["state=AL", "state=al", "state=AL&state=TX", "state=tx&state=AL"])
def test_old_single_state_links_and_several_states_give_the_same_rows_everywhere(
    client, starter_dataset, query
):
    """The list, the CSV, the API and the feed read the same `state` values."""
    codes = {code.upper() for code in parse_qs(query)["state"]}
    oracle = Oracle(client)
    expected = {r.pk for r in oracle.records if state_of(r) in codes}
    cache.clear()
    response = client.get(f"{LIST_URL}?{query}")
    assert response.context["page_obj"].paginator.count == len(expected)
    csv_ids = {
        int(row["id"])
        for row in read_csv(b"".join(client.get(f"/resolutions.csv?{query}").streaming_content))[1]
    }
    assert csv_ids == expected
    api = client.get(f"/api/resolutions/?{query}&page_size=500").json()
    assert {row["id"] for row in api["results"]} == expected
    feed = ET.fromstring(client.get(f"/feeds/resolutions/?{query}").content)
    linked = {entry.find("atom:link", NS).get("href") for entry in measure_entries(feed)}
    assert linked == {f"http://testserver/resolutions/{pk}/" for pk in expected}


def test_the_list_links_to_the_same_search_in_the_api(client, starter_dataset):
    params = {"state": ["AL", "TX"], "status": ["adopted"], "ordering": "-adopted"}
    response = page(client, {**params, "page": "1"})
    api_links = [
        href for href in parse_links(response.content.decode()).hrefs if href.startswith("/api/resolutions/")
    ]
    assert len(api_links) == 1
    assert parse_qs(urlsplit(api_links[0]).query) == {
        "state": ["AL", "TX"],
        "status": ["adopted"],
        "ordering": ["-adopted"],
    }
    api = client.get(api_links[0]).json()
    assert api["count"] == response.context["page_obj"].paginator.count
    assert "The same search in the API (JSON)" in response.content.decode()


def test_each_year_links_to_its_search_and_the_chosen_one_is_marked(client, starter_dataset):
    oracle = Oracle(client)
    html = page(client, {"state": "TX"}).content.decode()
    for year in oracle.years():
        count = oracle.count(
            {"state": ["TX"], "adopted_after": f"{year}-01-01", "adopted_before": f"{year}-12-31"}
        )
        if count:
            assert (
                f'href="?state=TX&amp;adopted_after={year}-01-01&amp;adopted_before={year}-12-31">{year}</a> <span class="facet__count">{count}'
                in html
            )
        else:  # greyed, not a link to an empty list
            assert f'<li class="facet__option--empty">{year} <span class="facet__count">0' in html
    chosen = page(client, {"state": "TX", "adopted_after": "2019-01-01", "adopted_before": "2019-12-31"})
    html = chosen.content.decode()
    assert 'aria-current="true"><strong>2019</strong></a>' in html
    assert '<a href="?state=TX">Any date</a>' in html
