"""The one-page fact sheets: what they say, from the starter CSV and the map's known borders (issue 16).

That each prints on exactly one Letter page is checked in a real browser: tests/e2e/test_fact_sheet.py.
"""

import pytest
from django.urls import reverse

from tests.conftest import PlaceFactory, get_county, get_state
from tests.test_neighbors import MOBILE_AL, MOBILE_NEIGHBORS
from tests.test_place_pages import pending_federal_numbers, published, starter_rows, states_with_law, text_of


def test_a_county_sheet_says_status_state_neighbors_congress_sources_and_address(client, starter_dataset):
    mobile = get_county(MOBILE_AL)
    response = client.get(reverse("recognition:fact_sheet", args=["al", mobile.slug]))
    assert response.status_code == 200
    text = text_of(response)
    assert "Mobile County, Alabama" in text
    assert "Covered" in text and f"Population {mobile.population:,}" in text
    assert "State law" in text  # Alabama's status
    for label in MOBILE_NEIGHBORS.values():
        assert label.split(", ")[0] in text
    for number in pending_federal_numbers():
        assert number in text
    # Sources: the county's own and the state law's links, from the CSV.
    for row in starter_rows():
        if published(row) and (row["jurisdiction"], row["state"]) in {
            ("Mobile County", "AL"),
            ("Alabama", "AL"),
        }:
            assert row["source_url"] in text
    assert "http://testserver/states/al/mobile-county/" in text  # the tracker's address for this place


def test_a_state_sheet_names_its_neighboring_states_with_their_status(client, starter_dataset):
    text = text_of(client.get(reverse("recognition:state_fact_sheet", args=["pa"])))
    assert "Neighboring states" in text
    # Pennsylvania's neighbors, read off a map; their status from the CSV.
    neighbors = {
        "NY": "New York",
        "NJ": "New Jersey",
        "DE": "Delaware",
        "MD": "Maryland",
        "WV": "West Virginia",
        "OH": "Ohio",
    }
    for usps, name in neighbors.items():
        assert f"{name}:" in text
        if usps in states_with_law():
            assert f"{name}: state law" in text
    # Ohio has no state measure but its counties and cities acted: "local action only", never "no recognition".
    assert not any(r["state"] == "OH" and r["level"] == "state" for r in starter_rows())
    assert "Ohio: local action only" in text
    failed = [r["identifier"] for r in starter_rows() if r["state"] == "PA" and r["status"] == "failed"]
    for number in failed:
        assert number not in text  # a failed bill is neither an ask nor a source


def test_an_island_state_has_no_neighbors(client, starter_dataset):
    assert "Hawaii shares no land border with another state" in text_of(
        client.get(reverse("recognition:state_fact_sheet", args=["hi"]))
    )


def test_a_city_sheet_works_without_neighbors(client, starter_dataset):
    city = PlaceFactory(name="City of Sheetville")
    response = client.get(reverse("recognition:fact_sheet", args=["al", city.slug]))
    assert response.status_code == 200
    assert "Neighboring counties" not in text_of(response)


@pytest.mark.parametrize(
    "url",
    ["/states/zz/fact-sheet/", "/states/al/no-such-county/fact-sheet/", "/states/al/alabama/fact-sheet/"],
)
def test_unknown_places_are_404(client, starter_dataset, url):
    assert client.get(url).status_code == 404


def test_place_pages_link_their_fact_sheet(client, starter_dataset):
    assert (
        reverse("recognition:state_fact_sheet", args=["al"])
        in client.get(get_state("AL").get_absolute_url()).content.decode()
    )
    mobile = get_county(MOBILE_AL)
    assert (
        reverse("recognition:fact_sheet", args=["al", mobile.slug])
        in client.get(mobile.get_absolute_url()).content.decode()
    )


def test_fact_sheet_queries_do_not_grow_with_neighbors_or_sources(
    client, starter_dataset, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        client.get(reverse("recognition:fact_sheet", args=["al", get_county(MOBILE_AL).slug]))
    with django_assert_max_num_queries(20):
        client.get(reverse("recognition:state_fact_sheet", args=["tx"]))


def test_the_sheet_counts_a_state_s_laws_as_its_page_does(db, client):
    """More laws than a state page lists (25): the sheet's "and N more" still counts them all, as the
    page's status line does."""
    import re

    from recognition.models import Kind
    from tests.conftest import ResolutionFactory, get_state

    laws = 27
    for n in range(laws):
        ResolutionFactory(
            jurisdiction=get_state("TX"), kind=Kind.STATUTE, identifier=f"SB {n}", body="Legislature"
        )
    page = client.get("/states/tx/").content.decode()
    sheet = client.get("/states/tx/fact-sheet/").content.decode()
    assert f"{laws - 3} more state laws</a>" in page
    assert re.search(rf"<strong>State law</strong>: SB \d+, SB \d+, SB \d+ and {laws - 3} more\.</p>", sheet)
