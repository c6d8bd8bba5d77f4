"""Find your county or city (/places/): names, ZIP codes, several answers, none, hostile input, JSON.

Oracles: the Census Bureau's county list (recognition/data/census/population_2022.csv: names and FIPS
codes as the Bureau writes them) and the `zipcodes` package itself (which county a ZIP code is
assigned to, which cities it knows), never the search's own output.
"""

import csv
import json
import re
from html import unescape
from pathlib import Path

import pytest
import zipcodes
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition import pagecache, places, progress
from recognition.models import Jurisdiction, Level
from tests.conftest import PlaceFactory, get_county, get_state

pytestmark = pytest.mark.django_db

CENSUS = Path(__file__).resolve().parent.parent / "recognition" / "data" / "census" / "population_2022.csv"
PLACES = "/places/"
SUGGEST = "/places/suggest/"


def census_counties():
    """[(fips, state name, county name)] as the Census Bureau writes them."""
    with CENSUS.open(encoding="utf-8") as handle:
        return [
            (row["fips"], row["state_name"], row["name"])
            for row in csv.DictReader(handle)
            if row["level"] == "county"
        ]


def census_fips(state_name, county_name):
    (fips,) = [f for f, state, name in census_counties() if state == state_name and name == county_name]
    return fips


def page_of(fips):
    return get_county(fips).get_absolute_url()


def find(client, q, **extra):
    return client.get(PLACES, {"q": q, **extra})


def listed_links(response):
    """[(link text, href, the rest of the line)] of the results list."""
    html = response.content.decode()
    items = re.findall(r'<li class="place-results__item">(.*?)</li>', html, re.S)
    found = []
    for item in items:
        link = re.search(r'<a class="place-results__name" href="([^"]+)">([^<]+)</a>', item)
        text = unescape(re.sub(r"<[^>]+>", " ", item))
        found.append((unescape(link.group(2)), link.group(1), " ".join(text.split())))
    return found


def text_of(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- Names, as pure functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Dona Ana", "Doña Ana County"),
        ("dona ana county", "Doña Ana County"),
        ("Saint Louis County", "St. Louis County"),
        ("St Louis", "St. Louis County"),
        ("st. louis county", "Saint Louis County"),
        ("  MOBILE    county ", "Mobile County"),
        ("Mobile", "City of Mobile"),
        ("Orleans", "Orleans Parish"),
        ("Juneau", "Juneau City and Borough"),
        ("City and Borough of Juneau", "Juneau City and Borough"),  # as the ZIP data writes it
        ("Municipality of Anchorage", "Anchorage Municipality"),
        ("La Porte County", "LaPorte County"),
        ("De Witt County", "DeWitt County"),
        ("St Mary's County", "St. Mary's County"),
        ("Bayamon", "Bayamón Municipio"),
    ],
)
def test_names_people_type_have_the_key_of_the_name_written(typed, written):
    assert places.name_key(typed) == places.name_key(written)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Richmond city", "Richmond County"),
        ("Baltimore city", "Baltimore County"),
        ("Washington", "Washtenaw"),
    ],
)
def test_different_places_keep_different_keys(one, other):
    assert places.name_key(one) != places.name_key(other)


def test_the_state_is_read_off_the_end_of_a_query():
    state_keys = {
        "alabama": "AL",
        "al": "AL",
        "wyoming": "WY",
        "wy": "WY",
        "westvirginia": "WV",
        "virginia": "VA",
    }
    (mobile,) = places.readings("Mobile, AL", state_keys)
    assert (mobile.name.key, mobile.state) == ("mobile", "AL")
    whole, albany = places.readings("Albany County Wyoming", state_keys)
    assert whole.state is None and (albany.name.key, albany.state, albany.name.county_word) == (
        "albany",
        "WY",
        "county",
    )
    # The literal reading comes first, so "West Virginia" stays a state rather than "West" in Virginia.
    assert places.readings("West Virginia", state_keys)[0] == places.Reading(
        places.read_name("West Virginia")
    )


@pytest.mark.parametrize(
    ("city", "state"),
    [
        ("Winston-Salem", "NC"),
        ("O'Fallon", "MO"),
        ("St. Louis", "MO"),
        ("Coeur d'Alene", "ID"),
        ("McAllen", "TX"),
    ],
)
def test_a_city_is_spelled_as_the_zip_data_spells_it(city, state):
    spellings = places.city_spellings(places.read_name(city).words)
    assert any(zipcodes.filter_by(city=spelling, state=state) for spelling in spellings)


def test_every_county_the_zip_data_names_as_the_census_does_is_found():
    """Across every state: a ZIP code's county, when the census writes the same name, is that county."""
    census = {(state, name): fips for fips, state, name in census_counties()}
    directory = places.Directory.load()
    names = {state.usps: state.name for state in Jurisdiction.objects.states()}
    checked = 0
    for usps, state_name in names.items():
        for county in {z["county"] for z in zipcodes.filter_by(state=usps)}:
            fips = census.get((state_name, county))
            if fips and Jurisdiction.objects.filter(fips=fips).exists():
                entry = directory.county_named(usps, county)
                assert entry is not None and entry.pk == get_county(fips).pk, (usps, county)
                checked += 1
    assert checked > 3000


# --- ZIP codes -----------------------------------------------------------------------------------------


def test_zip_36602_leads_to_mobile_county_alabama(client):
    (record,) = zipcodes.matching("36602")
    assert (record["state"], record["county"]) == ("AL", "Mobile County")
    response = find(client, "36602")
    assert response.status_code == 302
    assert (
        response["Location"]
        == page_of(census_fips("Alabama", "Mobile County"))
        == "/states/al/mobile-county/"
    )


def test_zip_plus_four_and_spaces_are_forgiven(client):
    assert find(client, " 36602-1234 ")["Location"] == "/states/al/mobile-county/"


def test_a_zip_code_that_does_not_exist_says_so(client):
    code = next(f"{n:05d}" for n in range(100) if not zipcodes.matching(f"{n:05d}"))
    response = find(client, code)
    assert response.status_code == 200
    assert f"There is no ZIP code {code}" in text_of(response)
    assert "can cross county lines" in text_of(response)


def test_a_zip_code_whose_county_we_do_not_record_says_so(client):
    # The ZIP data still names the borough Alaska replaced in 2008; the census lists no such county.
    (record,) = zipcodes.matching("99950")
    assert record["state"] == "AK"
    assert ("Alaska", record["county"]) not in {(state, name) for _fips, state, name in census_counties()}
    response = find(client, "99950")
    assert response.status_code == 200
    page = text_of(response)
    assert f"is assigned to {record['county']}" in page and "we cannot tell which county" in page
    assert 'href="/states/ak/"' in response.content.decode()


def test_a_zip_code_whose_county_is_missing_from_the_database_says_so(client):
    Jurisdiction.objects.filter(fips=census_fips("Alabama", "Mobile County")).update(name="Renamed County")
    response = find(client, "36602")
    assert response.status_code == 200
    assert "is assigned to Mobile County, which is not one of Alabama’s counties" in text_of(response)


def test_a_military_zip_code_lies_in_no_county(client):
    (record,) = zipcodes.matching("09001")
    assert record["state"] == "AE" and not record["county"]
    response = find(client, "09001")
    assert response.status_code == 200
    assert "military or overseas address" in text_of(response)


def test_a_washington_dc_zip_code_without_a_county_is_the_district(client):
    code = next(z["zip_code"] for z in zipcodes.filter_by(state="DC") if not z["county"])
    response = find(client, code)
    assert response["Location"] == page_of(census_fips("District of Columbia", "District of Columbia"))


@pytest.mark.parametrize("digits", ["3660", "366021", "36602-12"])
def test_digits_that_are_no_zip_code_are_a_bad_request(client, digits):
    response = find(client, digits)
    assert response.status_code == 400
    assert "A ZIP code has five digits" in text_of(response)


# --- Names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "state", "county"),
    [
        ("Dona Ana", "New Mexico", "Doña Ana County"),
        ("dona ana county", "New Mexico", "Doña Ana County"),
        ("Saint Louis County, MO", "Missouri", "St. Louis County"),
        ("St Louis County Minnesota", "Minnesota", "St. Louis County"),
        ("Mobile County", "Alabama", "Mobile County"),
        ("Albany County Wyoming", "Wyoming", "Albany County"),
        ("  albany   COUNTY ,  wy ", "Wyoming", "Albany County"),
        ("Orleans Parish", "Louisiana", "Orleans Parish"),  # not Orleans County, New York or Vermont
        ("Washington Parish", "Louisiana", "Washington Parish"),
        ("Mobile Parish", "Alabama", "Mobile County"),  # no parish of that name: the county word is forgiven
        ("Juneau, AK", "Alaska", "Juneau City and Borough"),
    ],
)
def test_one_match_redirects_to_its_page(client, typed, state, county):
    response = find(client, typed)
    assert response.status_code == 302
    assert response["Location"] == page_of(census_fips(state, county))


def test_a_state_by_name_or_code(client):
    assert (
        find(client, "alabama")["Location"]
        == find(client, "AL")["Location"]
        == get_state("AL").get_absolute_url()
    )


def test_saint_louis_county_is_in_two_states(client):
    expected = {page_of(fips) for fips, _state, name in census_counties() if name == "St. Louis County"}
    assert len(expected) == 2
    for typed in ("Saint Louis County", "st. louis county", "ST LOUIS COUNTY"):
        response = find(client, typed)
        assert response.status_code == 200
        assert {href for _name, href, _line in listed_links(response)} == expected


def test_several_matches_are_listed_with_their_state_and_status(client, starter_dataset):
    expected = {(state, fips) for fips, state, name in census_counties() if name == "Albany County"}
    response = find(client, "Albany County")
    assert response.status_code == 200
    lines = listed_links(response)
    assert {(line.split(", ")[1].split(" ")[0], href) for _n, href, line in lines} == {
        (state.split(" ")[0], page_of(fips)) for state, fips in expected
    }
    # Each county's status in words is the state page's, for the same county.
    for name, href, line in lines:
        county = Jurisdiction.objects.get(
            level=Level.COUNTY, name=name, parent__usps=href.split("/")[2].upper()
        )
        region = next(
            r for r in progress.state_progress(county.parent).counties if r.jurisdiction.pk == county.pk
        )
        assert region.coverage.label in line


def test_a_city_and_its_county_both_answer_a_bare_name(client, starter_dataset):
    response = find(client, "Mobile, AL")
    assert response.status_code == 200
    assert {href for _n, href, _l in listed_links(response)} == {
        "/states/al/mobile-county/",
        Jurisdiction.objects.get(level=Level.PLACE, name="City of Mobile").get_absolute_url(),
    }
    # A city of ours with its own standing in words: the one its own page shows.
    city = Jurisdiction.objects.get(level=Level.PLACE, name="City of Mobile")
    city_line = next(line for name, _h, line in listed_links(response) if name == "City of Mobile")
    assert f"City or town · {progress.jurisdiction_progress(city)['standing'].coverage.label}" in city_line


def test_many_matches_are_capped_and_the_rest_counted(client):
    counted = sum(1 for _f, _s, name in census_counties() if name == "Washington County")
    # The census list and the database may differ in Connecticut only; Washington County is not there.
    response = find(client, "Washington County")
    lines = listed_links(response)
    assert len(lines) == places.PAGE_LIMIT < counted
    assert f"{counted} places match" in text_of(response)
    assert f"And {counted - places.PAGE_LIMIT} more" in text_of(response)


def test_a_city_we_do_not_record_offers_its_county(client):
    counties = {z["county"] for z in zipcodes.filter_by(city="Covington", state="KY")}
    assert counties == {"Kenton County"}
    response = find(client, "Covington, KY")
    assert response.status_code == 200  # shown with its sentence, not jumped to
    ((name, href, line),) = listed_links(response)
    assert href == page_of(census_fips("Kentucky", "Kenton County"))
    assert "Covington, Kentucky lies in Kenton County" in line


def test_a_city_across_several_counties_offers_each(client):
    expected = {
        page_of(census_fips("Missouri" if z["state"] == "MO" else "Kansas", z["county"]))
        for z in zipcodes.filter_by(city="Kansas City")
        if z["state"] in ("MO", "KS") and z["county"]
    }
    response = find(client, "Kansas City")
    assert {href for _n, href, _l in listed_links(response)} == expected
    assert len(expected) > 1


def test_no_match_gives_suggestions(client):
    response = find(client, "Xyzzyville Qqq")
    assert response.status_code == 200
    page = text_of(response)
    assert "We found no state, county or city called “Xyzzyville Qqq”" in page
    assert "Check the spelling" in page and "ZIP code" in page
    assert f'href="{reverse("recognition:home")}?layer=counties"' in response.content.decode()


def test_the_beginning_of_a_name_finds_it_when_nothing_matches_exactly(client):
    response = find(client, "Tuscaloos")
    assert response["Location"] == page_of(census_fips("Alabama", "Tuscaloosa County"))


def test_an_empty_search_shows_the_box_and_a_hint(client):
    for response in (client.get(PLACES), find(client, "   ")):
        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="q"' in html and "Type the name of your county" in html
        assert "can cross county lines" in html
        assert "X-Robots-Tag" not in response


# --- Hostile input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("Mobile\x00County", "control characters"),
        ("\x07\x1b[31m", "control characters"),
        ("Mobile" * 20, "at most 100"),
        ("a" * 100_000, "at most 100"),
        ("!!! ... ---", "no letters or digits"),
        ("🚒🚒", "no letters or digits"),
    ],
)
def test_hostile_input_is_a_bad_request_with_a_message(client, django_assert_num_queries, q, says):
    with django_assert_num_queries(0):
        response = find(client, q)
    assert response.status_code == 400
    assert says in text_of(response)
    assert "\x00" not in response.content.decode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(st.text(max_size=120), st.from_regex(r"[0-9 ,.-]{0,12}", fullmatch=True)))
def test_never_a_server_error(client, q):
    for path in (PLACES, SUGGEST):
        assert client.get(path, {"q": q}).status_code in (200, 302, 400)


# --- Queries, caching, JSON --------------------------------------------------------------------------


def test_queries_are_pinned(client, starter_dataset, django_assert_num_queries):
    with django_assert_num_queries(5):  # the data version; the names; the listed places; two for statuses
        assert find(client, "Washington County").status_code == 200
    with django_assert_num_queries(2):  # the data version; the one place (the names are kept per version)
        assert find(client, "Mobile County").status_code == 302
    with django_assert_num_queries(2):  # the state's counties; the county
        assert find(client, "36602").status_code == 302
    with django_assert_num_queries(0):
        assert client.get(PLACES).status_code == 200


def test_the_search_is_not_kept_in_the_page_cache(client):
    assert pagecache.policy_for(PLACES) is None and pagecache.policy_for(SUGGEST) is None
    response = find(client, "Albany County")
    assert pagecache.STORE_HEADER not in response
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


def test_the_names_are_read_once_per_version_of_the_data(client, starter_dataset, django_assert_num_queries):
    assert "Testville" in find(client, "Testville").content.decode()  # found nowhere yet
    # Nothing changed: the names as they were. One query, for the version (read from its row inside a
    # test's transaction, from the cache in production), none for the names.
    with django_assert_num_queries(1):
        places.current_directory()
    place = PlaceFactory(name="City of Testville")  # a change of the data: the next search sees it
    response = find(client, "Testville")
    assert response.status_code == 302 and response["Location"] == place.get_absolute_url()


def test_suggestions_as_json(client, starter_dataset, django_assert_num_queries):
    with django_assert_num_queries(5):
        response = client.get(SUGGEST, {"q": "Mobil"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert set(data) == {"query", "total", "message", "results"}
    assert data["query"] == "Mobil" and data["total"] == len(data["results"]) <= places.SUGGEST_LIMIT
    for result in data["results"]:
        assert set(result) == {"name", "level", "state", "status", "detail", "note", "url"}
    mobile = next(r for r in data["results"] if r["name"] == "Mobile County")
    assert (mobile["state"], mobile["url"]) == ("Alabama", "/states/al/mobile-county/")


def test_suggestions_are_capped_and_counted(client):
    data = json.loads(client.get(SUGGEST, {"q": "Wash"}).content)
    assert len(data["results"]) == places.SUGGEST_LIMIT < data["total"]


def test_suggestions_for_a_zip_code(client):
    data = json.loads(client.get(SUGGEST, {"q": "36602"}).content)
    assert [r["url"] for r in data["results"]] == ["/states/al/mobile-county/"]
    assert "36602" in data["results"][0]["note"]


def test_suggestions_refuse_bad_input_in_json(client):
    response = client.get(SUGGEST, {"q": "a\x00"})
    assert response.status_code == 400
    assert json.loads(response.content)["results"] == []


# --- The box on other pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/states/al/"])
def test_the_find_box_is_near_the_top_of_the_home_and_state_pages(client, path):
    html = client.get(path).content.decode()
    form = re.search(r'<form class="find-place" method="get" action="([^"]+)".*?</form>', html, re.S)
    assert form and form.group(1) == PLACES
    assert '<label class="find-place__label" for="find-place-q">' in form.group(0)
    assert 'id="find-place-q" name="q" inputmode="search"' in form.group(0)
    assert '<button class="find-place__button" type="submit">' in form.group(0)
    # Above the map and the figures.
    assert html.index('class="find-place"') < html.index('class="map')
