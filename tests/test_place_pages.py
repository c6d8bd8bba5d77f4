"""County, city and state pages answer "where do we stand and what next" (issue 16).

Oracles: the starter CSV itself (who adopted what), the borders read off a map in tests/test_neighbors.py,
and the issue's own three cases: a Wyoming county (nothing), a Georgia county (a state resolution, no law),
an Alabama county (a state law).
"""

import csv
import re
from html import unescape

import pytest
from django.urls import reverse

from recognition import progress
from recognition.models import Jurisdiction, Kind, Level, Status
from recognition.next_steps import Ask, asks, governing_body, neighbors_in_words
from recognition.status import StateStatus
from tests import legislative
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.test_neighbors import MOBILE_AL, MOBILE_NEIGHBORS

STARTER = "recognition/data/starter_dataset.csv"
LAW_KINDS = {"statute", "executive_order", "bill"}


def starter_rows():
    with open(STARTER, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def pending_federal_numbers():
    """Bills the CSV says are pending in Congress (the test database links no session, so none has ended)."""
    return [
        r["identifier"] for r in starter_rows() if r["level"] == "federal" and r["status"] == "introduced"
    ]


def published(row):
    """The importer's rule for a new record: a source link, and not of low confidence."""
    return bool(row["source_url"]) and row["confidence"] != "low"


def states_with_law():
    return {
        r["state"]
        for r in starter_rows()
        if r["level"] == "state" and r["status"] == "adopted" and r["kind"] in LAW_KINDS and published(r)
    }


def counties_that_acted():
    return {
        (r["state"], r["jurisdiction"])
        for r in starter_rows()
        if r["level"] == "county" and r["status"] == "adopted" and published(r)
    }


def text_of(response):
    """The page's visible words, tags dropped and spaces squeezed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(response, heading_id):
    """The text of the <section> labelled by `heading_id`."""
    main = re.search(r"<main\b.*?</main>", response.content.decode(), flags=re.S).group(0)
    matches = re.findall(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', main, flags=re.S)
    assert len(matches) == 1, f"{len(matches)} sections labelled {heading_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", matches[0])).strip()


def asks_on(response):
    return re.findall(r'data-ask="(\w+)"', response.content.decode())


# --- The pure rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "state_status", "recognized_here", "expected"),
    [
        # Nothing covers the place: its own body first, then the legislature, then Congress.
        ("county", "none", False, ["local", "legislature", "congress"]),
        ("county", "pending", False, ["local", "legislature", "congress"]),
        ("place", "local", False, ["local", "legislature", "congress"]),
        # A state resolution is not a law: the legislature first, the county can still act.
        ("county", "resolution", False, ["legislature", "local", "congress"]),
        # Recognized at home, no state law: the legislature.
        ("county", "none", True, ["legislature", "congress"]),
        ("district", "resolution", True, ["legislature", "congress"]),
        # A state law: thank them, push Congress; nothing left to ask locally.
        ("county", "law", False, ["congress"]),
        ("place", "law", True, ["congress"]),
        ("state", "law", False, ["congress"]),
        ("state", "resolution", False, ["legislature", "congress"]),
        ("state", "none", False, ["legislature", "congress"]),
    ],
)
def test_the_asks_follow_what_is_missing(level, state_status, recognized_here, expected):
    assert asks(
        level=level, state_status=StateStatus(state_status), recognized_here=recognized_here
    ) == tuple(Ask(value) for value in expected)


def test_the_district_of_columbia_asks_its_council_once():
    assert asks(level="county", state_status="none", one_government=True) == (Ask.LEGISLATURE, Ask.CONGRESS)
    assert asks(level="county", state_status="law", one_government=True) == (Ask.CONGRESS,)


@pytest.mark.parametrize(
    ("level", "name", "expected"),
    [
        ("county", "Mobile County", "the Mobile County commission"),
        ("county", "Orleans Parish", "the governing body of Orleans Parish"),
        ("county", "Juneau City and Borough", "the governing body of Juneau City and Borough"),
        ("county", "Alexandria city", "the governing body of Alexandria city"),
        ("place", "City of Mobile", "the City of Mobile council"),
        (
            "district",
            "Jefferson County 911 Emergency Communications District",
            "the Jefferson County 911 Emergency Communications District board",
        ),
    ],
)
def test_governing_body_fits_every_county_equivalent(level, name, expected):
    assert governing_body(level, name) == expected


def test_the_nation_has_no_asks():
    with pytest.raises(ValueError):
        asks(level="nation", state_status="none")


@pytest.mark.parametrize(
    ("recognized", "total", "expected"),
    [
        (3, 5, "3 of 5 neighboring counties have recognized their dispatchers"),
        (1, 4, "1 of 4 neighboring counties has recognized its dispatchers"),
        (0, 4, "None of the 4 neighboring counties has recognized its dispatchers yet"),
        (6, 6, "All 6 neighboring counties have recognized their dispatchers"),
        (1, 1, "The one neighboring county has recognized its dispatchers"),
        (0, 1, "The one neighboring county has not recognized its dispatchers yet"),
        (0, 0, ""),
    ],
)
def test_neighbors_in_words(recognized, total, expected):
    assert neighbors_in_words(recognized, total) == expected


# --- What you can do here, on real starter data ------------------------------------------------------


def test_a_wyoming_county_is_asked_to_adopt_a_resolution(client, starter_dataset):
    assert not any(r["state"] == "WY" for r in starter_rows())  # the case: nothing in Wyoming at all
    albany = get_county("56001")
    response = client.get(albany.get_absolute_url())
    assert response.status_code == 200
    assert asks_on(response) == ["local", "legislature", "congress"]
    steps = section(response, "next-steps-heading")
    assert "Ask the Albany County commission to adopt a resolution" in steps
    assert "No bill is pending there" in steps  # Wyoming has no pending bill in the data


def test_a_georgia_county_is_asked_to_press_the_legislature_past_its_resolution(client, starter_dataset):
    georgia = [r for r in starter_rows() if r["state"] == "GA" and r["level"] == "state"]
    assert [(r["kind"], r["status"]) for r in georgia] == [("resolution", "adopted")]  # the case
    county = get_county("13001")  # Appling County: nothing local
    assert ("GA", county.name) not in counties_that_acted()
    response = client.get(county.get_absolute_url())
    assert asks_on(response) == ["legislature", "local", "congress"]
    steps = section(response, "next-steps-heading")
    assert "Georgia has no law recognizing 911 dispatchers as first responders" in steps
    assert f"its {georgia[0]['identifier']} recognizes them, but a resolution is not a law" in steps


def test_an_alabama_county_thanks_the_legislature_and_names_every_pending_federal_bill(
    client, starter_dataset
):
    assert "AL" in states_with_law()
    law = next(r for r in starter_rows() if r["state"] == "AL" and r["level"] == "state")
    response = client.get(get_county(MOBILE_AL).get_absolute_url())
    assert asks_on(response) == ["congress"]
    steps = section(response, "next-steps-heading")
    assert f"Alabama's {law['identifier']} recognizes its dispatchers" in steps
    assert "thank those who passed it" in steps
    numbers = pending_federal_numbers()
    assert numbers  # the case needs bills to name
    for number in numbers:
        assert number in steps
    failed = [r["identifier"] for r in starter_rows() if r["level"] == "federal" and r["status"] == "failed"]
    for number in filter(None, failed):
        assert number not in steps


def test_a_state_pending_bill_is_named_to_the_legislature(client, starter_dataset):
    """Pennsylvania's pending bills are what to ask the legislature about, on its counties and the state."""
    pending = [
        r["identifier"]
        for r in starter_rows()
        if r["state"] == "PA" and r["level"] == "state" and r["status"] == "introduced" and published(r)
    ]
    assert len(pending) == 2
    for url in (get_state("PA").get_absolute_url(), get_county("42001").get_absolute_url()):
        steps = section(client.get(url), "next-steps-heading")
        for number in pending:
            assert number in steps
        assert "are pending in the Pennsylvania legislature" in steps


def test_a_draft_bill_is_never_named_pending(client, starter_dataset):
    drafts = [
        r["identifier"]
        for r in starter_rows()
        if r["state"] == "MS" and r["level"] == "state" and not published(r)
    ]
    assert drafts  # Mississippi's only state measure is a draft
    steps = section(client.get(get_state("MS").get_absolute_url()), "next-steps-heading")
    assert "No bill is pending there" in steps
    for number in drafts:
        assert number not in steps


def test_a_town_under_a_state_law_is_only_asked_to_push_congress(client, starter_dataset):
    town = Jurisdiction.objects.get(level=Level.PLACE, name="Town of Vail")
    assert "CO" in states_with_law()
    assert asks_on(client.get(town.get_absolute_url())) == ["congress"]


def test_a_city_that_acted_without_a_state_law_asks_the_legislature(client, starter_dataset):
    cities = [
        r
        for r in starter_rows()
        if r["level"] == "place"
        and r["status"] == "adopted"
        and published(r)
        and r["state"] not in states_with_law()
    ]
    assert cities  # e.g. Findlay, Ohio
    for row in cities:
        city = Jurisdiction.objects.get(
            level=Level.PLACE, parent__usps=row["state"], name=row["jurisdiction"]
        )
        assert asks_on(client.get(city.get_absolute_url())) == ["legislature", "congress"], row[
            "jurisdiction"
        ]


def test_a_city_covered_by_its_county_asks_the_legislature(client, starter_dataset):
    """Recognized at home through its county: no local ask, though the city itself never acted."""
    usps, name = sorted((u, n) for u, n in counties_that_acted() if u not in states_with_law())[0]
    county = Jurisdiction.objects.get(level=Level.COUNTY, parent__usps=usps, name=name)
    city = PlaceFactory(name="City of Testburg", parent=get_state(usps), county=county)
    assert asks_on(client.get(city.get_absolute_url())) == ["legislature", "congress"]


def test_a_bill_whose_session_ended_is_never_named_pending(client, starter_dataset):
    from recognition.models import LegislativeSession

    ended = LegislativeSession.objects.create(
        jurisdiction=Jurisdiction.objects.nation(),
        name="118th Congress",
        start_on="2023-01-03",
        end_on="2025-01-03",
    )
    bill = ResolutionFactory(
        jurisdiction=Jurisdiction.objects.nation(),
        kind="bill",
        status=Status.INTRODUCED,
        identifier="H.R. 9999",
        adopted_on=None,
        adopted_on_precision="",
        session=ended,
    )
    steps = section(client.get(get_county(MOBILE_AL).get_absolute_url()), "next-steps-heading")
    assert bill.identifier not in steps
    for number in pending_federal_numbers():
        assert number in steps


def test_the_page_title_is_only_the_title(client, starter_dataset):
    html = client.get(get_county(MOBILE_AL).get_absolute_url()).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
    assert title == "Mobile County, AL: 911 dispatcher recognition · Dispatcher Recognition Tracker"


def test_a_county_that_acted_without_a_state_law_asks_the_legislature(client, starter_dataset):
    cases = sorted((usps, name) for usps, name in counties_that_acted() if usps not in states_with_law())
    assert cases  # e.g. a county in a state with no law
    for usps, name in cases:
        county = Jurisdiction.objects.get(level=Level.COUNTY, parent__usps=usps, name=name)
        assert asks_on(client.get(county.get_absolute_url())) == ["legislature", "congress"], name


def test_state_pages_carry_the_asks(client, starter_dataset):
    assert asks_on(client.get(get_state("AL").get_absolute_url())) == ["congress"]
    assert asks_on(client.get(get_state("GA").get_absolute_url())) == ["legislature", "congress"]
    assert asks_on(client.get(get_state("WY").get_absolute_url())) == ["legislature", "congress"]


# --- Neighbors, places, population, the locator map ------------------------------------------------------


def test_mobile_county_lists_its_neighbors_with_their_status_and_counts_the_recognized(
    client, starter_dataset
):
    response = client.get(get_county(MOBILE_AL).get_absolute_url())
    neighbors = section(response, "neighbors-heading")
    for label in MOBILE_NEIGHBORS.values():
        name, usps = label.split(", ")
        assert name in neighbors
    # Recognized: the county acted itself or its state has a law (the one coverage rule, from the CSV).
    laws, acted = states_with_law(), counties_that_acted()
    recognized = sum(
        1
        for label in MOBILE_NEIGHBORS.values()
        if label.split(", ")[1] in laws or tuple(reversed(label.split(", "))) in acted
    )
    assert f"{recognized} of {len(MOBILE_NEIGHBORS)} neighboring counties" in neighbors
    assert "George County , Mississippi" in neighbors  # across the state line, the state is named
    assert "Baldwin County , Alabama" not in neighbors  # the same state is not


def test_the_locator_map_draws_the_county_its_neighbors_and_the_state(client, starter_dataset):
    html = client.get(get_county(MOBILE_AL).get_absolute_url()).content.decode()
    locator = re.search(r'<svg class="[^"]*map__svg--locator.*?</svg>', html, flags=re.S).group(0)
    drawn = set(re.findall(r'data-fips="(\d{5})"', locator))
    assert drawn == {MOBILE_AL, *MOBILE_NEIGHBORS}
    assert 'class="locator__state"' in locator
    assert "<title" in locator  # an accessible name


def test_a_county_without_a_land_border_says_so(client, starter_dataset):
    honolulu = get_county("15003")
    assert not honolulu.neighbors.exists()
    assert "shares no land border" in text_of(client.get(honolulu.get_absolute_url()))


def test_a_county_page_lists_the_cities_and_districts_in_it_with_their_measures(client, starter_dataset):
    rows = [
        r
        for r in starter_rows()
        if r["level"] in ("place", "district") and r["county"] == "Jefferson County" and r["state"] == "AL"
    ]
    assert rows
    jefferson = Jurisdiction.objects.get(level=Level.COUNTY, parent__usps="AL", name="Jefferson County")
    places = section(client.get(jefferson.get_absolute_url()), "places-heading")
    for row in rows:
        assert row["jurisdiction"] in places
    empty = section(client.get(get_county("56001").get_absolute_url()), "places-heading")
    assert "No city, town or district in Albany County has a measure on record" in empty


def test_a_draft_by_a_city_is_not_listed(client, starter_dataset):
    city = PlaceFactory(name="City of Draftville")
    ResolutionFactory(jurisdiction=city, published=False, identifier="DRAFT-1")
    places = section(client.get(get_county(MOBILE_AL).get_absolute_url()), "places-heading")
    assert "City of Draftville" in places and "DRAFT-1" not in places
    assert "no published measure" in places


def test_the_county_page_states_its_population(client, starter_dataset):
    mobile = get_county(MOBILE_AL)
    assert mobile.population  # loaded from the census file by the session fixture
    assert f"population {mobile.population:,}" in text_of(client.get(mobile.get_absolute_url()))


# --- Queries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        # the data version, the county, its measures and their actions, the measures covering it, its
        # localities' measures, the bills pending in its state and in Congress (one query), neighbors, their states'
        # own measures, where local jurisdictions of those states acted, places and their measures
        (lambda: get_county(MOBILE_AL).get_absolute_url(), 12),
        # a city: no neighbors, no places
        (lambda: Jurisdiction.objects.get(name="City of Mobile").get_absolute_url(), 7),
    ],
)
def test_place_page_query_count_is_pinned(client, starter_dataset, django_assert_num_queries, url, budget):
    path = url()
    with django_assert_num_queries(budget):
        assert client.get(path).status_code == 200


def test_state_page_query_count_does_not_grow_with_bills(client, starter_dataset, django_assert_num_queries):
    from django.core.cache import cache

    def pending_bill(number):
        return ResolutionFactory(
            jurisdiction=get_state("MS"),
            kind="bill",
            status=Status.INTRODUCED,
            identifier=f"SB {number}",
            adopted_on=None,
            adopted_on_precision="",
        )

    pending_bill(0)
    url = get_state("MS").get_absolute_url()
    with django_assert_num_queries(10) as before:
        assert client.get(url).status_code == 200
    for number in range(1, 4):
        pending_bill(number)
    cache.clear()
    with django_assert_num_queries(len(before.captured_queries)):
        assert "SB 3" in client.get(url).content.decode()


def test_about_states_the_rule_with_the_pages_own_words(client, db):
    text = text_of(client.get(reverse("recognition:about")))
    for ask in Ask:
        assert ask.label in text


def test_the_local_ask_offers_the_model_resolution_filled_in_for_the_place(client, starter_dataset):
    albany = get_county("56001")
    html = client.get(albany.get_absolute_url()).content.decode()
    assert reverse("recognition:model_resolution", args=["wy", albany.slug]) in html
    assert reverse("recognition:model_resolution_docx", args=["wy", albany.slug]) in html
    georgia = client.get(get_state("GA").get_absolute_url()).content.decode()
    assert reverse("recognition:state_model_resolution", args=["ga"]) in georgia
    sheet = text_of(client.get(reverse("recognition:fact_sheet", args=["wy", albany.slug])))
    assert reverse("recognition:model_resolution", args=["wy", albany.slug]) in sheet


def test_each_neighbor_has_the_colour_the_national_county_map_gives_it(starter_dataset):
    """Over every county of Alabama and Georgia (counties, cities and states acted there), each neighbor's
    status is the one the national county layer shows for it."""
    layer = progress.national_progress(with_county_layer=True).county_regions
    national = {
        fips: colour.status for group in layer for colour in group.colours for fips in colour.fips.split()
    }
    seen = set()
    for county in Jurisdiction.objects.counties().filter(parent__usps__in=["AL", "GA"]):
        for region in progress.neighboring_counties(county).regions:
            assert region.status == national[region.fips], (county.name, region.jurisdiction.name)
            seen.add(region.status)
    assert {"county", "place", "resolution"} <= seen  # the colours a mistake would confuse


# --- A few measures named in a line, the rest counted and linked -----------------------------------------


@pytest.mark.parametrize("laws", [3, 5])
def test_a_line_names_the_first_few_laws_and_links_the_rest_to_the_list(db, client, laws):
    """A state with many laws (or a demo database) names three in its status line and on each county's
    page; the rest are counted, and the link lists exactly the state's laws."""
    texas = get_state("TX")
    made = [
        ResolutionFactory(jurisdiction=texas, kind=kind, identifier=f"SB {n}", body="Legislature")
        for n, kind in enumerate(
            [Kind.STATUTE, Kind.EXECUTIVE_ORDER, Kind.STATUTE, Kind.BILL, Kind.STATUTE][:laws]
        )
    ]
    ResolutionFactory(jurisdiction=texas, kind=Kind.RESOLUTION, identifier="SR 1", body="Senate")  # not a law
    state_page = client.get("/states/tx/").content.decode()
    status_line = re.search(r'<p class="status-line">.*?</p>', state_page, flags=re.S).group(0)
    named = re.findall(r'<a href="/resolutions/(\d+)/">', status_line)
    assert len(named) == min(laws, 3) and {int(pk) for pk in named} <= {r.pk for r in made}
    county_page = client.get(get_county("48201").get_absolute_url()).content.decode()  # Harris County
    covered = re.search(r'<ul class="covered__list">.*?</ul>', county_page, flags=re.S).group(0)
    assert covered.count("<li>Covered by ") == min(laws, 3) + (laws > 3)
    assert covered.count("<li>State resolution, not a law: ") == 1
    sentence = re.search(r'<p class="standing__sentence">.*?</p>', county_page, flags=re.S).group(0)
    assert len(re.findall(r'<a href="/resolutions/\d+/">', sentence)) == min(laws, 3)
    assert (f" and {laws - 3} more)" in sentence) == (laws > 3)
    more = re.findall(r'<a href="([^"]*)">(\d+) more state laws?</a>', status_line + covered)
    if laws <= 3:
        assert more == []
        return
    assert [count for _href, count in more] == [str(laws - 3)] * 2
    href = unescape(more[0][0])
    assert href == unescape(more[1][0])
    listed = client.get(href).content.decode()
    linked = {int(pk) for pk in re.findall(r'<td><a href="/resolutions/(\d+)/">', listed)}
    assert linked == {r.pk for r in made}


def test_the_first_few_named_are_the_newest_on_every_database(db, client):
    """Which three a line names is decided by the adoption dates (an unknown one last), then the newest
    record: the same text on SQLite and PostgreSQL."""
    texas = get_state("TX")
    undated_older = ResolutionFactory(  # made before the other undated one, so named after it
        jurisdiction=texas,
        kind=Kind.STATUTE,
        identifier="HB 9",
        body="Legislature",
        adopted_on=None,
        adopted_on_precision="",
    )
    dated = [
        ResolutionFactory(
            jurisdiction=texas,
            kind=Kind.STATUTE,
            identifier=f"HB {n}",
            body="Legislature",
            adopted_on=day,
            adopted_on_precision="day" if day else "",
        )
        for n, day in enumerate(["2020-05-01", "2023-05-01", None, "2021-05-01", "2023-05-01"])
    ]
    for record in [*dated, undated_older]:
        record.refresh_from_db()  # the dates as stored
    state_line = re.search(
        r'<p class="status-line">.*?</p>', client.get("/states/tx/").content.decode(), re.S
    )
    named = [int(pk) for pk in re.findall(r'<a href="/resolutions/(\d+)/">', state_line.group(0))]
    newest = sorted(
        [*dated, undated_older],
        key=lambda r: (r.adopted_on is None, -(r.adopted_on.toordinal() if r.adopted_on else 0), -r.pk),
    )
    assert named == [r.pk for r in newest[:3]]


def test_the_pending_bills_to_ask_about_are_all_named(db, client):
    """The next steps name every pending bill (no other line of the page lists them), and speak of a
    state's several laws in the plural."""
    bills = [legislative.bill(usps="TX") for _ in range(5)]
    for n in range(2):
        ResolutionFactory(
            jurisdiction=get_state("OK"), kind=Kind.STATUTE, identifier=f"SB {n}", body="Legislature"
        )

    def next_steps(url):
        page = client.get(url).content.decode()
        steps = re.search(r'<section class="next-steps".*?</section>', page, flags=re.S).group(0)
        return steps, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", steps))

    steps, words = next_steps("/states/tx/")
    assert {int(pk) for pk in re.findall(r'<a href="/resolutions/(\d+)/">', steps)} >= {b.pk for b in bills}
    assert " more " not in words
    _steps, words = next_steps("/states/ok/")
    assert " recognize its dispatchers as first responders: thank those who passed them." in words


def test_the_next_steps_name_the_bills_pending_in_the_state_and_in_congress_and_no_others(db, client):
    """A state page and a county page ask about the bills pending before that state's legislature and in
    Congress: not another state's, not one whose session is over, not a failed one."""
    nation = Jurisdiction.objects.get(level=Level.NATION)
    ended = legislative.session(usps="TX", start=(2023, 1, 10), end=(2023, 5, 29))
    wanted = [
        legislative.bill(usps="TX"),
        legislative.bill(usps="TX", identifier="SB 9"),
        legislative.bill(jurisdiction=nation, identifier="H.R. 1", body="Congress"),
    ]
    unwanted = [
        legislative.bill(usps="OK"),
        legislative.bill(usps="TX", session=ended),
        legislative.bill(jurisdiction=nation, identifier="S. 2", body="Congress", status=Status.FAILED),
    ]

    for url in ["/states/tx/", get_county("48201").get_absolute_url()]:
        page = client.get(url).content.decode()
        steps = re.search(r'<section class="next-steps".*?</section>', page, flags=re.S).group(0)
        named = {int(pk) for pk in re.findall(r'<a href="/resolutions/(\d+)/">', steps)}
        assert {b.pk for b in wanted} <= named, url
        assert not named & {b.pk for b in unwanted}, url
