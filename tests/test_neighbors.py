"""Neighboring counties, from the us-atlas topology at load_geography time (issue 16's first slice)."""

import io
import json

import pytest
from django.core.management import call_command

from recognition.geography import shared_borders
from recognition.geography_loader import COUNTIES_ATLAS
from tests.conftest import get_county

pytestmark = pytest.mark.django_db

# Known borders, read off a map (the oracle): county FIPS and its neighbors, across state lines too.
MOBILE_AL = "01097"
MOBILE_NEIGHBORS = {
    "01003": "Baldwin County, AL",
    "01129": "Washington County, AL",
    "28039": "George County, MS",
    "28041": "Greene County, MS",
    "28059": "Jackson County, MS",
}
ALBANY_WY = "56001"


def neighbor_fips(fips):
    return set(get_county(fips).neighbors.values_list("fips", flat=True))


def test_mobile_county_borders_baldwin_washington_and_three_mississippi_counties():
    assert neighbor_fips(MOBILE_AL) == set(MOBILE_NEIGHBORS)


def test_albany_county_wyoming_borders_jackson_and_larimer_in_colorado():
    neighbors = neighbor_fips(ALBANY_WY)
    assert {"08057", "08069"} <= neighbors  # Jackson County, CO; Larimer County, CO
    assert all(fips[:2] in {"56", "08"} for fips in neighbors)


def test_borders_go_both_ways_and_never_to_itself():
    mobile = get_county(MOBILE_AL)
    for fips in MOBILE_NEIGHBORS:
        assert MOBILE_AL in neighbor_fips(fips)
    assert mobile not in mobile.neighbors.all()


def test_the_pure_rule_reads_borders_off_the_topology():
    topology = json.loads(COUNTIES_ATLAS.read_text(encoding="utf-8"))
    pairs = shared_borders(topology, "counties")
    assert all(a < b for a, b in pairs)
    assert ("01003", "01097") in pairs  # Baldwin and Mobile, across Mobile Bay's arc
    assert ("01097", "06037") not in pairs  # Mobile and Los Angeles


def test_a_second_load_adds_no_border():
    out = io.StringIO()
    call_command("load_geography", stdout=out)
    assert "0 pairs sharing a border added" in out.getvalue()
