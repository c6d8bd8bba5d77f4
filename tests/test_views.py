"""The public progress pages, against the cited starter dataset."""

import csv
import datetime
import gzip

import pytest
from django.urls import reverse

from recognition.models import Action, Jurisdiction, Level, Resolution, Status
from recognition.status import CountyStatus, StateStatus
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.html import link_labels, map_regions, paths_in

pytestmark = pytest.mark.django_db

STARTER_CSV = "recognition/data/starter_dataset.csv"


@pytest.fixture
def more_data(starter_dataset):
    """A second, larger dataset size for the query budgets: the same pages, more rows, each with actions."""
    for usps in ["WY", "AL", "TX", "OH", "KY", "GA"]:
        state = get_state(usps)
        ResolutionFactory.create_batch(3, jurisdiction=state, kind="resolution")
        county = state.children.filter(level=Level.COUNTY).first()
        ResolutionFactory.create_batch(4, jurisdiction=county)
        place = PlaceFactory(parent=state, county=county)
        ResolutionFactory.create_batch(3, jurisdiction=place)
    measures = (
        Resolution.objects.filter(status=Status.ADOPTED).exclude(adopted_on=None).exclude(kind="statute")
    )
    Action.objects.bulk_create(
        Action(
            resolution=measure,
            on=measure.adopted_on,
            on_precision="day",
            classification="passage",  # adopts a local measure; a state resolution passes its legislature
            description="Adopted",
            source_url="https://example.org/minutes",
        )
        for measure in measures
    )
    measures.refresh_progress()
    nation = Jurisdiction.objects.nation()
    for number in range(5):
        bill = ResolutionFactory(
            jurisdiction=nation,
            kind="bill",
            status=Status.INTRODUCED,
            adopted_on=None,
            adopted_on_precision="",
        )
        for on, classification in (("2025-02-03", "introduction"), ("2025-03-04", "referral-committee")):
            Action.objects.create(
                resolution=bill,
                on=datetime.date.fromisoformat(on),
                on_precision="day",
                classification=classification,
                chamber="lower",
                description=f"{classification} {number}",
                source_url="https://example.org/bill",
            )


def publishable_adopted(level):
    """Jurisdictions at `level` with an adopted measure that the starter file lets us publish, read from the CSV."""
    with open(STARTER_CSV, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (row["state"], row["jurisdiction"])
        for row in rows
        if row["level"] == level
        and row["status"] == "adopted"
        and row["source_url"]
        and row["confidence"] != "low"
    }


def states_with_a_law():
    """States with an adopted statute, executive order or bill that the starter file lets us publish, from the CSV."""
    with open(STARTER_CSV, encoding="utf-8") as handle:
        return {
            row["state"]
            for row in csv.DictReader(handle)
            if row["level"] == "state"
            and row["kind"] in ("statute", "executive_order", "bill")
            and row["status"] == "adopted"
            and row["source_url"]
            and row["confidence"] != "low"
        }


def get_html(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


class TestHomeMap:
    def test_every_state_and_dc_is_one_region_with_its_status(self, client, starter_dataset):
        regions = map_regions(get_html(client, "/"))
        assert len(regions) == 51
        assert all(len(fips) == 2 for fips in regions)
        assert set(regions.values()) <= {s.value for s in StateStatus}

    @pytest.mark.parametrize(
        "fips, status",
        [
            ("48", "law"),  # Texas
            ("01", "law"),  # Alabama
            ("47", "resolution"),  # Tennessee
            ("13", "resolution"),  # Georgia
            ("42", "pending"),  # Pennsylvania: a pending bill outranks Allegheny County's resolution
            ("21", "local"),  # Kentucky
            ("39", "local"),  # Ohio
            ("41", "local"),  # Oregon
            ("56", "none"),  # Wyoming
            ("28", "none"),  # Mississippi: its only measure is a low-confidence draft
        ],
    )
    def test_state_status_from_the_starter_dataset(self, client, starter_dataset, fips, status):
        assert map_regions(get_html(client, "/"))[fips] == status

    def test_region_links_are_named_with_their_status(self, client, starter_dataset):
        labels = link_labels(get_html(client, "/"))
        texas = get_state("TX")
        assert f"Texas: State law, population {texas.population:,}" in labels
        assert any(label.startswith("Pennsylvania: Pending state bill") for label in labels)

    def test_title_states_the_finding_and_legend_counts_add_up(self, client, starter_dataset):
        response = client.get("/")
        progress = response.context["progress"]
        laws = len(states_with_a_law())
        assert progress.state_counts[StateStatus.LAW] == laws
        assert sum(progress.state_counts.values()) == 51
        assert (
            f"{laws} states recognize 911 dispatchers as first responders in law" in response.content.decode()
        )

    @pytest.mark.parametrize(
        "made, sentence",
        [
            ((), "at a time.</p>"),
            (("pending",), "at a time. One state has a bill pending.</p>"),
            (("local",), "at a time. In one state only counties or cities have acted.</p>"),
            (
                ("resolution", "pending", "local"),
                "at a time. One more state passed a resolution; one has a bill pending; "
                "in one state only counties or cities have acted.</p>",
            ),
        ],
    )
    def test_the_lede_is_one_sentence_whatever_is_missing(self, client, db, made, sentence):
        """Each clause only when its count is not zero, with the punctuation of those there."""
        makers = {
            "resolution": lambda: ResolutionFactory(jurisdiction=get_state("AL"), kind="resolution"),
            "pending": lambda: ResolutionFactory(
                jurisdiction=get_state("PA"),
                kind="bill",
                status=Status.INTRODUCED,
                adopted_on=None,
                adopted_on_precision="",
            ),
            "local": lambda: ResolutionFactory(jurisdiction=get_county("48201"), kind="resolution"),
        }
        for name in made:
            makers[name]()
        html = " ".join(client.get("/").content.decode().split())
        assert sentence in html

    def test_headline_figures_and_panels(self, client, starter_dataset):
        response = client.get("/")
        progress = response.context["progress"]
        html = response.content.decode()
        assert progress.local_acted["county"] == len(publishable_adopted("county"))
        assert progress.local_acted["place"] == len(publishable_adopted("place"))
        # Covered counties are counted by the one rule (tests/test_coverage.py checks each figure).
        assert progress.coverage.counties["covered"] > 0
        assert progress.coverage.counties_total >= 3100
        assert len(progress.federal) == 9
        assert {bill.identifier for bill in progress.federal} >= {"H.R. 540", "S. 725"}
        assert len(progress.territories) == 5
        assert "Guam" in html
        # The latest adopted list is newest first.
        dates = [r.adopted_on for r in progress.latest]
        assert dates == sorted(dates, reverse=True)

    def test_timeline_is_cumulative(self, client, starter_dataset):
        timeline = client.get("/").context["progress"].timeline
        for series in timeline.series:
            assert series.cumulative == sorted(series.cumulative)
        adopted_with_date = Resolution.objects.published().adopted().exclude(adopted_on=None)
        expected = adopted_with_date.exclude(jurisdiction__level=Level.NATION).count()
        assert sum(s.cumulative[-1] for s in timeline.series) == expected

    def test_county_layer_draws_every_county_once(self, client, starter_dataset):
        regions = map_regions(get_html(client, "/?layer=counties"))
        assert len(regions) >= 3100
        assert all(len(fips) == 5 for fips in regions)
        assert regions["01097"] == "county"  # Mobile County
        assert regions["01043"] == "place"  # Cullman County: the City of Hanceville acted
        assert regions["01001"] == "state"  # Autauga County: Alabama's law
        assert regions["56001"] == "none"  # Albany County, Wyoming

    def test_county_layer_draws_each_county_outline_under_its_colour(self, client, starter_dataset):
        """A path per colour in each state: its outline is its counties' outlines, as stored, in the order
        its data-fips lists them, and no state has two paths of one colour."""
        html = get_html(client, "/?layer=counties")
        layer = html[
            html.index("map__svg--national-counties") : html.index(
                "</svg>", html.index("map__svg--national-counties")
            )
        ]
        outlines = dict(Jurisdiction.objects.counties().exclude(shape="").values_list("fips", "shape"))
        paths = paths_in(layer)
        assert len(paths) < 400  # not one per county
        seen = set()
        for d, codes, status in paths:
            codes = codes.split()
            assert d == "".join(outlines[fips] for fips in codes)
            assert (codes[0][:2], status) not in seen
            seen.add((codes[0][:2], status))
            assert {fips[:2] for fips in codes} == {codes[0][:2]}  # one state's
        assert sum(len(codes.split()) for _d, codes, _status in paths) == len(map_regions(layer)) >= 3100

    def test_unknown_layer_falls_back_to_states(self, client, starter_dataset):
        assert len(map_regions(get_html(client, "/?layer=%00<script>"))) == 51


class TestStatePage:
    def test_alabama_counties(self, client, starter_dataset):
        regions = map_regions(get_html(client, "/states/al/"))
        assert len(regions) == 67
        assert regions["01097"] == CountyStatus.COUNTY
        assert regions["01043"] == CountyStatus.PLACE
        assert regions["01001"] == CountyStatus.STATE
        assert regions["01073"] == CountyStatus.PLACE  # Jefferson County 911 district

    def test_county_links_are_named_with_status(self, client, starter_dataset):
        mobile = get_county("01097")
        labels = link_labels(get_html(client, "/states/al/"))
        assert f"Mobile County: County acted, population {mobile.population:,}" in labels

    def test_lists_state_measures_and_local_ones(self, client, starter_dataset):
        html = get_html(client, "/states/al/")
        assert "HB 414 (Act 2022-387)" in html
        assert "City of Hanceville" in html
        assert "April 18, 2022" in html  # adopted, at day precision

    def test_a_state_without_counties_acting(self, client, starter_dataset):
        html = get_html(client, "/states/wy/")
        regions = map_regions(html)
        assert set(regions.values()) == {"none"}
        assert "No state-level measure recorded for Wyoming" in html

    def test_unknown_or_uppercase_state_is_404(self, client, starter_dataset):
        assert client.get("/states/zz/").status_code == 404
        assert client.get("/states/AL/").status_code == 404


class TestJurisdictionAndResolutionPages:
    def test_county_page_says_what_covers_it(self, client, starter_dataset):
        mobile = get_county("01097")
        html = get_html(client, mobile.get_absolute_url())
        assert "Covered by" in html and "Alabama HB 414 (Act 2022-387)" in html
        assert "in force July 1, 2022" in html

    def test_place_page_names_its_county_and_state(self, client, starter_dataset):
        hanceville = Jurisdiction.objects.get(name="City of Hanceville")
        html = get_html(client, hanceville.get_absolute_url())
        assert "Cullman County" in html
        assert "Resolution No. 657" in html
        assert "October 2021" in html  # month precision, no invented day

    def test_nation_page_lists_the_bills(self, client, starter_dataset):
        html = get_html(client, reverse("recognition:nation"))
        assert "H.R. 540" in html and "S. 725" in html

    def test_resolution_page(self, client, starter_dataset):
        law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
        html = get_html(client, law.get_absolute_url())
        assert "April 18, 2022" in html and "July 1, 2022" in html
        assert law.sources.first().url in html
        assert "Cite this record" in html
        assert f"http://testserver{law.get_absolute_url()}" in html

    def test_drafts_are_never_visible(self, client, starter_dataset):
        draft = Resolution.objects.get(jurisdiction__fips="01003")  # Baldwin County: no source yet
        assert not draft.published
        assert client.get(draft.get_absolute_url()).status_code == 404
        baldwin_page = get_html(client, draft.jurisdiction.get_absolute_url())
        assert draft.title not in baldwin_page
        assert map_regions(get_html(client, "/states/al/"))["01003"] == "state"

    def test_failed_measures_show_with_their_outcome_but_do_not_count(self, client, starter_dataset):
        html = get_html(client, "/states/fl/")
        assert "SB 436 (2023); companion HB 291" in html
        assert "Failed" in html
        assert map_regions(get_html(client, "/"))["12"] == "none"

    def test_about_explains_the_rules(self, client):
        html = get_html(client, reverse("recognition:about"))
        for status in StateStatus:
            assert status.label in html


class TestBudgets:
    """Each page's queries, pinned: the same count with the starter data and with more measures and actions.

    `/`: the data version, states, state measures' statuses, local jurisdictions that acted, counties,
    the bills in Congress (with their jurisdiction and session), the latest adopted, the timeline, the
    first recorded year (the links to each year's map).
    A state page: the data version, the state, its counties, its measures' statuses, its state measures,
    their actions (the stage bars), its local measures, the bills pending in its legislature and in Congress
    (one query: "What you can do here"), the first recorded year. (The same pages on a past date: tests/test_as_of.py.) A county or city page: the data version, the place, its measures, their actions, the
    measures above it, the measures in it (a county's cities) or none, the pending state and federal
    bills; a county also its neighbors and their states' measures, and its cities with their measures. `/united-states/`: the data version, the nation, its bills, their actions. A measure page: the
    data version, the measure (with its jurisdiction, state and session), its sources, its actions.
    """

    @pytest.mark.parametrize("dataset", ["starter_dataset", "more_data"])
    @pytest.mark.parametrize(
        "url, queries",
        [("/", 9), ("/?layer=counties", 9), ("/states/al/", 10), ("/states/tx/", 10), ("/united-states/", 4)],
    )
    def test_query_counts_do_not_grow_with_data(
        self, request, client, django_assert_num_queries, dataset, url, queries
    ):
        request.getfixturevalue(dataset)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200

    @pytest.mark.parametrize("dataset", ["starter_dataset", "more_data"])
    def test_jurisdiction_and_resolution_pages_budget(
        self, request, client, django_assert_num_queries, dataset
    ):
        request.getfixturevalue(dataset)
        place = Jurisdiction.objects.get(name="City of Hanceville")
        resolution = Resolution.objects.published().filter(jurisdiction=place).get()
        bill = Resolution.objects.published().get(identifier="S. 725")
        for url, queries in [
            (place.get_absolute_url(), 7),
            (get_county("01097").get_absolute_url(), 12),
            (resolution.get_absolute_url(), 4),
            (bill.get_absolute_url(), 4),
        ]:
            with django_assert_num_queries(queries):
                assert client.get(url).status_code == 200

    @pytest.mark.parametrize(
        "url, limit, gzip_limit",
        # /states/tx/: 123,000 since the "Find your county or city" box (about 800 bytes) and "What you can do
        # here" (about 1,100) joined the page, 125,000 with the year links and the map's PNG download (about
        # 1,200); nearly all of the rest is Texas's 254 county shapes.
        [("/", 150_000, 40_000), ("/states/tx/", 125_000, None), ("/?layer=counties", 700_000, None)],
    )
    def test_page_weight(self, client, starter_dataset, url, limit, gzip_limit):
        body = client.get(url).content
        assert len(body) <= limit
        if gzip_limit:
            assert len(gzip.compress(body)) <= gzip_limit


def test_state_page_lists_the_most_recent_and_links_to_all(client, starter_dataset):
    from recognition.progress import STATE_PAGE_LIMIT

    county = get_county("56001")  # Albany County, Wyoming
    ResolutionFactory.create_batch(STATE_PAGE_LIMIT + 3, jurisdiction=county)
    response = client.get("/states/wy/")
    assert len(response.context["progress"].local_measures) == STATE_PAGE_LIMIT
    assert (
        "/resolutions/?state=WY&amp;level=county&amp;level=place&amp;level=district"
        in response.content.decode()
    )


def test_a_county_without_a_fips_code_that_acted_breaks_no_map(client, db):
    """A county staff added without a FIPS code (the schema allows it) is on no map, but its adopted
    measure still makes its state one where local jurisdictions acted, on every layer and date."""
    county = PlaceFactory(level=Level.COUNTY, name="Newcounty County", county=None, fips=None)
    ResolutionFactory(jurisdiction=county)
    for url in ["/", "/?layer=counties", "/?as_of=2026-06-30", "/states/al/", "/api/states/"]:
        assert client.get(url).status_code == 200, url
    national = client.get("/").context["progress"]
    assert {r.jurisdiction.usps: r.status for r in national.states}["AL"] == StateStatus.LOCAL
