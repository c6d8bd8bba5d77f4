"""One coverage rule behind every figure (recognition/coverage.py and the pages that show it).

The oracle here is the rule as the issue states it, read literally in plain Python
over the records a test created (or the starter CSV) and the census figures in the
database's reference tables: it never calls the rules under test.
"""

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from recognition import coverage as people_rules
from recognition.coverage import People, population_coverage
from recognition.models import Confidence, Jurisdiction, Kind, Level, Resolution, Status
from recognition.status import Coverage, StateStatus
from tests.html import coverage_parts, legend_counts, map_regions, standing

STARTER = Path(settings.BASE_DIR) / "recognition" / "data" / "starter_dataset.csv"
LAW_KINDS = {"statute", "executive_order", "bill"}
RESOLUTION_KINDS = {"resolution", "proclamation", "ordinance"}


# --- The arithmetic, on a hand-made case --------------------------------------------------------

# Alabama has a law; in Alaska one county acted and another has no figure; Wyoming's legislature passed
# a resolution and a city in one county acted. Puerto Rico is not among the states counted.
HAND_STATE_STATUS = {"AL": StateStatus.LAW, "AK": "local", "WY": StateStatus.RESOLUTION}
HAND_COUNTY_COVERAGE = {
    "01001": Coverage.COVERED,
    "01003": "covered",
    "02020": Coverage.COVERED,
    "02050": Coverage.COVERED,  # no figure
    "02090": Coverage.NONE,
    "56001": Coverage.PARTLY,
    "56003": Coverage.RESOLUTION,
    "72001": Coverage.COVERED,
}
HAND_POPULATION = {
    "01": 1000,
    "01001": 600,
    "01003": 400,
    "02": 500,
    "02020": 200,
    "02090": 250,
    "56": 300,
    "56001": 120,
    "56003": 180,
    "72": 9999,
    "72001": 9999,
}
HAND_STATE_FIPS = {"AL": "01", "AK": "02", "WY": "56"}


def test_people_are_summed_over_counties_and_the_parts_add_up():
    national = population_coverage(HAND_STATE_STATUS, HAND_COUNTY_COVERAGE, HAND_POPULATION, HAND_STATE_FIPS)
    al, ak, wy = (national.states[code] for code in ("AL", "AK", "WY"))
    assert al.people == People(total=1000, under_law=1000, covered=1000)
    # Alaska: Anchorage (200) covered; the 50 people no county figure holds follow the state-wide rule:
    # a state with local action only covers nobody state-wide.
    assert ak.people == People(total=500, covered=200)
    assert (ak.people.none, ak.remainder, ak.acted_without_figure) == (300, 50, ("02050",))
    assert wy.people == People(total=300, partly=120, resolution=180)
    assert national.people == People(total=1800, under_law=1000, covered=1200, partly=120, resolution=180)
    assert national.people.none == 300
    assert national.counties == {"covered": 4, "partly": 1, "resolution": 1, "none": 1}
    assert national.counties_total == 7  # Puerto Rico's county is not among them
    assert (national.year, national.source) == (2022, "U.S. Census Bureau, Vintage 2022 estimates")


@pytest.mark.parametrize(
    ("status", "part"), [("law", "covered"), ("resolution", "resolution"), ("pending", None), ("none", None)]
)
def test_people_without_a_county_figure_follow_the_state_wide_rule(status, part):
    national = population_coverage({"CT": status}, {"09001": "none"}, {"09": 3_600_000}, {"CT": "09"})
    people = national.states["CT"].people
    assert people.total == 3_600_000
    assert people.under_law == (3_600_000 if status == "law" else 0)
    for name in ("covered", "partly", "resolution"):
        assert getattr(people, name) == (3_600_000 if name == part else 0)
    assert people.none == (0 if part else 3_600_000)


def test_a_state_without_a_figure_adds_no_people_but_its_counties_count():
    population = {key: value for key, value in HAND_POPULATION.items() if key != "02"}
    national = population_coverage(HAND_STATE_STATUS, HAND_COUNTY_COVERAGE, population, HAND_STATE_FIPS)
    assert national.states["AK"].people is None and national.states_without_figure == ("AK",)
    assert national.people.total == 1300 and national.counties_total == 7


def test_nothing_to_count_gives_zero_shares():
    national = population_coverage({}, {}, {}, {})
    assert national.people == People() and national.people.covered_share == 0.0


# --- The oracle: the rule read literally --------------------------------------------------------


@dataclass(frozen=True)
class M:
    """A measure as the oracle sees it: plain values, no model."""

    level: str
    state: str | None
    county: str | None  # the county's FIPS (its own, or the one a place lies in)
    kind: str
    status: str
    published: bool


def oracle(measures, counties, state_population):
    """{fips: (colour, coverage)} for every county, and {usps: {part: people}} for every state.

    `counties` is [(fips, usps, population or None)], `state_population` {usps: people or None}.
    """
    counted = [m for m in measures if m.published and m.status == "adopted"]
    law = {m.state for m in counted if m.level == "state" and m.kind in LAW_KINDS}
    resolution = {m.state for m in counted if m.level == "state" and m.kind in RESOLUTION_KINDS} - law
    own = {m.county for m in counted if m.level == "county"}
    local = {m.county for m in counted if m.level in ("place", "district") and m.county}
    standing = {}
    for fips, usps, _people in counties:
        if fips in own or usps in law:
            coverage = "covered"
        elif fips in local:
            coverage = "partly"
        elif usps in resolution:
            coverage = "resolution"
        else:
            coverage = "none"
        colour = (
            "county" if fips in own else "place" if fips in local else "state" if usps in law
            else "resolution" if usps in resolution else "none"
        )  # fmt: skip
        standing[fips] = (colour, coverage)

    people = {}
    for usps, total in state_population.items():
        if total is None:
            continue
        parts = dict.fromkeys(("covered", "partly", "resolution", "none"), 0)
        known = 0
        for fips, county_usps, county_people in counties:
            if county_usps == usps and county_people is not None:
                parts[standing[fips][1]] += county_people
                known += county_people
        statewide = "covered" if usps in law else "resolution" if usps in resolution else "none"
        parts[statewide] += total - known
        parts["under_law"] = total if usps in law else 0
        parts["total"] = total
        people[usps] = parts
    return standing, people


def reference_counties():
    """[(fips, usps, population)] of the 50 states and DC, and {usps: population}: the census as loaded."""
    counties = list(
        Jurisdiction.objects.counties()
        .filter(parent__is_territory=False)
        .exclude(fips=None)
        .values_list("fips", "parent__usps", "population")
    )
    states = dict(
        Jurisdiction.objects.filter(level=Level.STATE, is_territory=False).values_list("usps", "population")
    )
    return counties, states


def national_parts(standing, people):
    """What the front page's table should say: {part: (people, counties)}."""
    counties = dict.fromkeys(("covered", "partly", "resolution", "none"), 0)
    for _colour, coverage in standing.values():
        counties[coverage] += 1
    total = {part: sum(p[part] for p in people.values()) for part in (*counties, "under_law", "total")}
    expected = {part: (total[part], counties[part]) for part in counties}
    expected["under_law"] = (total["under_law"], None)
    expected["total"] = (total["total"], sum(counties.values()))
    return expected


def state_parts(usps, standing, people, counties):
    fips_here = {fips for fips, county_usps, _ in counties if county_usps == usps}
    count = dict.fromkeys(("covered", "partly", "resolution", "none"), 0)
    for fips in fips_here:
        count[standing[fips][1]] += 1
    expected = {part: (people[usps][part], count[part]) for part in count}
    expected["under_law"] = (people[usps]["under_law"], None)
    expected["total"] = (people[usps]["total"], len(fips_here))
    return expected


def assert_pages_follow_the_rule(client, measures, pages):
    """The front page, each state page in `pages` and its counties' pages agree with the oracle."""
    counties, state_population = reference_counties()
    expected_standing, expected_people = oracle(measures, counties, state_population)

    home = client.get("/").content.decode()
    assert coverage_parts(home) == national_parts(expected_standing, expected_people)
    parts = coverage_parts(home)
    assert sum(parts[p][0] for p in ("covered", "partly", "resolution", "none")) == parts["total"][0]
    covered_counties = sum(1 for _, coverage in expected_standing.values() if coverage == "covered")
    assert f"{covered_counties:,} of {len(counties):,} counties" in home

    for usps, county_fips in pages.items():
        html = client.get(f"/states/{usps.lower()}/").content.decode()
        assert coverage_parts(html) == state_parts(usps, expected_standing, expected_people, counties)
        colours = {fips: expected_standing[fips][0] for fips, u, _ in counties if u == usps}
        drawn = map_regions(html)
        assert {fips: drawn[fips] for fips in colours if fips in drawn} == {
            fips: colour for fips, colour in colours.items() if fips in drawn
        }
        legend = legend_counts(html)
        for colour in ("county", "place", "state", "resolution", "none"):
            assert legend[f"swatch--county-{colour}"] == list(colours.values()).count(colour)
        for fips in county_fips:
            county = Jurisdiction.objects.get(level=Level.COUNTY, fips=fips)
            page = client.get(county.get_absolute_url()).content.decode()
            assert standing(page) == expected_standing[fips][1], (usps, fips)

    api = {row["usps"]: row for row in client.get("/api/states/", HTTP_ACCEPT="application/json").json()}
    for usps in pages:
        people = api[usps]["coverage"]["people"]
        assert people == {part: expected_people[usps][part] for part in people}


# --- Small random worlds ------------------------------------------------------------------------

# Delaware (3 counties), Connecticut (8 old counties without 2022 figures) and DC (1): few enough that
# measures meet in the same county and state often.
WORLD = {"DE": ["10001", "10003", "10005"], "CT": ["09001", "09003", "09005", "09007", "09009", "09011",
         "09013", "09015"], "DC": ["11001"]}  # fmt: skip


@st.composite
def world_measures(draw):
    level = draw(st.sampled_from(["nation", "state", "county", "place", "district"]))
    state = None if level == "nation" else draw(st.sampled_from(sorted(WORLD)))
    county = None
    if level == "county":
        county = draw(st.sampled_from(WORLD[state]))
    elif level in ("place", "district"):
        county = draw(st.sampled_from([None, *WORLD[state]]))
    return M(
        level=level,
        state=state,
        county=county,
        kind=draw(st.sampled_from(Kind.values)),
        # Weighted toward what counts, so that most worlds have something to count.
        status=draw(st.sampled_from([Status.ADOPTED] * 3 + [Status.INTRODUCED, Status.FAILED])),
        published=draw(st.sampled_from([True, True, True, False])),
    )


def create(measures):
    """The records behind `measures`; each city or district a new place."""
    nation = Jurisdiction.objects.nation()
    states = {s.usps: s for s in Jurisdiction.objects.filter(level=Level.STATE, usps__in=list(WORLD))}
    counties = {
        c.fips: c for c in Jurisdiction.objects.filter(level=Level.COUNTY, parent__usps__in=list(WORLD))
    }
    for number, m in enumerate(measures):
        if m.level == "nation":
            jurisdiction = nation
        elif m.level == "state":
            jurisdiction = states[m.state]
        elif m.level == "county":
            jurisdiction = counties[m.county]
        else:
            jurisdiction = Jurisdiction.objects.create(
                level=m.level,
                name=f"Place {number}",
                parent=states[m.state],
                county=counties.get(m.county),
            )
        Resolution.objects.create(
            jurisdiction=jurisdiction,
            kind=m.kind,
            status=m.status,
            title=f"Measure {number}",
            adopted_on="2022-01-01" if m.status == Status.ADOPTED else None,
            adopted_on_precision="day" if m.status == Status.ADOPTED else "",
            published=m.published,
            confidence=Confidence.HIGH,
        )


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(measures=st.lists(world_measures(), max_size=10))
def test_every_figure_is_the_sum_over_counties_of_the_one_rule(client, measures):
    with transaction.atomic():
        create(measures)
        cache.clear()  # the version is bumped inside this transaction: nothing cached may survive it
        try:
            pages = {"DE": WORLD["DE"], "CT": WORLD["CT"][:3], "DC": WORLD["DC"]}
            assert_pages_follow_the_rule(client, measures, pages)
        finally:
            transaction.set_rollback(True)


# --- Named examples on the real starter data ----------------------------------------------------


def starter_measures():
    """The starter CSV as the oracle's measures: published when it has a source link and is not low."""
    counties = {
        (usps, name.lower()): fips
        for fips, usps, name in Jurisdiction.objects.counties().values_list("fips", "parent__usps", "name")
    }
    measures = []
    with STARTER.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            level = {"federal": "nation"}.get(row["level"], row["level"])
            county = None
            if level == "county":
                county = row["fips"] or counties[(row["state"], row["jurisdiction"].lower())]
            elif level in ("place", "district") and row["county"]:
                county = counties[(row["state"], row["county"].lower())]
            published = bool(row["source_url"].strip()) and row["confidence"] != "low"
            measures.append(M(level, row["state"] or None, county, row["kind"], row["status"], published))
    return measures


@pytest.fixture
def starter(starter_dataset):
    return starter_measures()


def county_fips(usps, name):
    return Jurisdiction.objects.get(level=Level.COUNTY, parent__usps=usps, name=name).fips


def test_the_starter_data_follows_the_rule_on_every_page(client, starter):
    pages = {
        "GA": [county_fips("GA", "Fulton County"), county_fips("GA", "Newton County")],
        "AL": [county_fips("AL", "Cullman County"), county_fips("AL", "Jefferson County")],
        "WY": [county_fips("WY", "Albany County")],
        "TN": [county_fips("TN", "Wilson County")],
    }
    assert_pages_follow_the_rule(client, starter, pages)


def test_georgia_a_resolution_is_not_coverage(client, starter):
    html = client.get("/states/ga/").content.decode()
    parts = coverage_parts(html)
    georgia = Jurisdiction.objects.get(usps="GA").population
    newton = Jurisdiction.objects.get(fips=county_fips("GA", "Newton County")).population
    assert parts["covered"] == (0, 0)
    assert parts["partly"] == (newton, 1)  # the City of Covington acted
    assert parts["resolution"] == (georgia - newton, 158)
    assert "0.0%</span> of Georgia" in html
    fulton = client.get("/states/ga/fulton-county/").content.decode()
    assert standing(fulton) == "resolution"
    assert "Recognized by" not in fulton and "which is not a law" in fulton


def test_alabama_a_city_in_a_law_state_is_covered_and_coloured_for_the_city(client, starter):
    home = client.get("/?layer=counties").content.decode()
    regions = map_regions(home)
    for name in ("Cullman County", "Jefferson County"):
        fips = county_fips("AL", name)
        assert regions[fips] == "place"
        page = client.get(f"/states/al/{name.lower().replace(' ', '-')}/").content.decode()
        assert standing(page) == "covered"
    national = coverage_parts(client.get("/").content.decode())
    assert national["under_law"][0] == sum(
        p for p in Jurisdiction.objects.filter(level=Level.STATE, usps__in=starter_law_states(starter))
        .values_list("population", flat=True)
    )  # fmt: skip


def starter_law_states(measures):
    return {m.state for m in measures if m.level == "state" and m.published and m.status == "adopted"
            and m.kind in LAW_KINDS}  # fmt: skip


def test_the_published_headline_figures(client, starter):
    """The figures the shared README quotes for this revision of the dataset."""
    home = client.get("/").content.decode()
    parts = coverage_parts(home)
    assert (parts["under_law"][0], parts["total"][0]) == (168_171_210, 333_287_557)
    assert "19 states recognize" in home and "50.5%</strong> (168,171,210 of 333,287,557)" in home
    assert len(starter_law_states(starter)) == 19


def test_wyoming_nothing_yet(client, starter):
    parts = coverage_parts(client.get("/states/wy/").content.decode())
    wyoming = Jurisdiction.objects.get(usps="WY").population
    assert parts["none"] == (wyoming, 23) and parts["covered"] == parts["resolution"] == (0, 0)
    page = client.get("/states/wy/albany-county/").content.decode()
    assert standing(page) == "none"
    text = " ".join(page.replace("<strong>", "").replace("</strong>", "").split())
    assert "No recognition yet: neither Albany County nor Wyoming has adopted one." in text
    assert "/submit/?jurisdiction=" in page


def test_the_county_table_alternative_is_not_empty(client, starter):
    html = client.get("/?layer=counties").content.decode()
    table = html[html.index("<caption>Counties by status in each state</caption>") :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 51  # the header and a row per state and DC
    assert "Alabama" in table and "Wyoming" in table
    # Each state's row counts every one of its counties once, those the map cannot draw included (two
    # Alaskan census areas and three Virginian cities have no outline in the atlas).
    rows = re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a></th>((?:<td class="num">\d+</td>)+)', table)
    counted = {name: sum(map(int, re.findall(r">(\d+)<", cells))) for name, cells in rows}
    counties = Jurisdiction.objects.counties().exclude(fips=None).filter(parent__is_territory=False)
    assert counted == Counter(counties.values_list("parent__name", flat=True))
    assert counties.filter(parent__usps__in=["AK", "VA"], shape="").count() == 5


def test_the_rules_modules_import_nothing_from_django():
    import ast

    from recognition import status

    for module in (people_rules, status):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "django" for name in names)
