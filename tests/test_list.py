"""The searchable list of resolutions: filters, pagination, bad values and query budget.

Expected results are computed here, in Python, from every published record in the
database: never with ResolutionFilter, whose behaviour is what is being tested.
"""

import csv
import datetime
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse

from recognition.models import Level, Resolution, Stage
from tests import progress_records
from tests.conftest import PlaceFactory, ResolutionFactory, get_state

pytestmark = pytest.mark.django_db

LIST_URL = "/resolutions/"
STARTER_CSV = "recognition/data/starter_dataset.csv"
PAGE_SIZE = 50


def _starter_published():
    """How many starter rows are public (a source link, confidence not low), read from the file itself."""
    with open(STARTER_CSV, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["source_url"] and row["confidence"] != "low")


STARTER_PUBLISHED = _starter_published()


# --- independent expectations -------------------------------------------------------------


def state_of(resolution):
    """USPS code of the state a record belongs to, '' for federal ones."""
    jurisdiction = resolution.jurisdiction
    if jurisdiction.level == Level.STATE:
        return jurisdiction.usps
    if jurisdiction.parent is not None and jurisdiction.parent.level == Level.STATE:
        return jurisdiction.parent.usps
    return ""


def mentions(resolution, word):
    """The record names `word` as a whole word in one of the searched texts."""
    texts = [
        resolution.title,
        resolution.summary,
        resolution.identifier,
        resolution.body,
        resolution.jurisdiction.name,
    ]
    return any(re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) for text in texts)


def matches(resolution, params):
    """Whether a published record satisfies every parameter, decided in plain Python."""
    for name, values in params.items():
        values = values if isinstance(values, list) else [values]
        if name == "state" and state_of(resolution) not in values:
            return False
        if name == "level" and resolution.jurisdiction.level not in values:
            return False
        if name == "kind" and resolution.kind not in values:
            return False
        if name == "status" and resolution.status not in values:
            return False
        if name == "adopted_after":
            limit = datetime.date.fromisoformat(values[0])
            if resolution.adopted_on is None or resolution.adopted_on < limit:
                return False
        if name == "adopted_before":
            limit = datetime.date.fromisoformat(values[0])
            if resolution.adopted_on is None or resolution.adopted_on > limit:
                return False
        if name == "q" and not mentions(resolution, values[0]):
            return False
    return True


def expected_ids(params):
    published = Resolution.objects.filter(published=True).select_related("jurisdiction__parent")
    return {r.pk for r in published if matches(r, params)}


# --- reading the page ------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []
        self.heads = []
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "link" and self._in_head:
            self.heads.append(attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False


def parse_links(html):
    parser = _Links()
    parser.feed(html)
    return parser


def listed(client, params):
    """Every record the list shows for `params`, in order, following its pages."""
    cache.clear()  # read the rendered page (and its context), not an earlier cached copy
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content.decode()[:500]
    page_obj = response.context["page_obj"]
    ids = [r.pk for r in page_obj]
    for number in range(2, page_obj.paginator.num_pages + 1):
        page = client.get(LIST_URL, {**params, "page": number})
        assert page.status_code == 200
        ids.extend(r.pk for r in page.context["page_obj"])
    return response, ids


@pytest.fixture
def many_in_alabama(starter_dataset):
    """Enough Alabama records for two pages."""
    ResolutionFactory.create_batch(55)


@pytest.fixture
def bigger_dataset(starter_dataset):
    """A second data size for the query budget: several hundred more records, with places."""
    for usps in ["WY", "AL", "TX", "OH", "KY", "GA", "NM", "CO"]:
        state = get_state(usps)
        county = state.children.filter(level=Level.COUNTY).first()
        place = PlaceFactory(parent=state, county=county)
        ResolutionFactory.create_batch(10, jurisdiction=state, kind="statute")
        ResolutionFactory.create_batch(15, jurisdiction=county)
        ResolutionFactory.create_batch(15, jurisdiction=place)


# --- filters ---------------------------------------------------------------------------------

SINGLE_FILTERS = [
    {"state": ["AL"]},
    {"state": ["CO", "WV"]},
    {"state": ["TX"]},
    {"level": ["county"]},
    {"level": ["place", "district"]},
    {"level": ["nation"]},
    {"level": ["state"]},
    {"kind": ["statute"]},
    {"kind": ["proclamation", "bill"]},
    {"status": ["adopted"]},
    {"status": ["introduced", "failed"]},
    {"adopted_after": "2022-01-01"},
    {"adopted_before": "2021-12-31"},
    {"adopted_after": "2021-09-01"},  # month precision counts from the first day: New York, 2021-09
    {"q": "Hanceville"},
    {"q": "Kanawha"},
]

COMBINED_FILTERS = [
    {"state": ["AL"], "level": ["county", "place"]},
    {
        "kind": ["resolution"],
        "status": ["adopted"],
        "adopted_after": "2020-01-01",
        "adopted_before": "2022-12-31",
    },
    {"state": ["CO", "WV"], "level": ["county"], "ordering": "jurisdiction"},
    {"level": ["state"], "kind": ["statute"], "adopted_after": "2022-01-01", "ordering": "-adopted"},
    {"state": ["PA", "FL", "CT"], "status": ["introduced", "failed"], "kind": ["bill"]},
    {"state": ["AL"], "q": "Hanceville", "status": ["adopted"]},
    {"level": ["nation"], "status": ["introduced"], "ordering": "state"},
]


class TestFilters:
    def test_no_filter_lists_every_published_record(self, client, starter_dataset):
        response, ids = listed(client, {})
        assert len(ids) == STARTER_PUBLISHED == len(set(ids))
        assert set(ids) == set(Resolution.objects.filter(published=True).values_list("pk", flat=True))
        assert f"{STARTER_PUBLISHED} resolutions" in response.content.decode()

    @pytest.mark.parametrize(
        "params", SINGLE_FILTERS + COMBINED_FILTERS, ids=lambda p: urlencode(p, doseq=True)
    )
    def test_filters_alone_and_combined(self, client, starter_dataset, params):
        expected = expected_ids(params)
        assert expected, "a filter case should select something"
        response, ids = listed(client, params)
        assert len(ids) == len(set(ids))
        assert set(ids) == expected
        count = len(expected)
        assert f"{count} resolution{'s' if count != 1 else ''}" in response.content.decode()

    def test_drafts_never_listed(self, client, starter_dataset):
        draft = ResolutionFactory(published=False, title="A draft nobody should see")
        _response, ids = listed(client, {"state": ["AL"]})
        assert draft.pk not in ids
        assert "A draft nobody should see" not in client.get(LIST_URL, {"q": "draft"}).content.decode()

    def test_default_order_is_newest_adopted_first_undated_last(self, client, starter_dataset):
        _response, ids = listed(client, {})
        records = Resolution.objects.in_bulk(ids)
        dates = [records[pk].adopted_on for pk in ids]
        dated = [d for d in dates if d is not None]
        assert dates[: len(dated)] == dated, "undated records come last"
        assert dated == sorted(dated, reverse=True)

    @pytest.mark.parametrize("ordering, reverse", [("adopted", False), ("-adopted", True)])
    def test_ordering_by_adoption(self, client, starter_dataset, ordering, reverse):
        _response, ids = listed(client, {"ordering": ordering})
        records = Resolution.objects.in_bulk(ids)
        dated = [records[pk].adopted_on for pk in ids if records[pk].adopted_on]
        assert dated == sorted(dated, reverse=reverse)

    def test_newest_adopted_first_is_one_option_and_old_links_still_give_it(self, client, starter_dataset):
        response, default_ids = listed(client, {})
        html = response.content.decode()
        select = html[html.index('<select name="ordering"') :]
        select = select[: select.index("</select>")]
        labels = [label.rsplit(">", 1)[1] for label in select.split("</option>")[:-1]]
        newest = [label for label in labels if "newest" in label.lower()]
        assert newest == ["Newest adopted first", "Latest action (newest first)"], labels
        assert "Latest action (oldest first)" in labels
        assert len(labels) == len(set(labels)) == 8
        _response, synonym_ids = listed(client, {"ordering": "-adopted"})
        assert synonym_ids == default_ids

    @pytest.mark.parametrize("ordering", ["state", "-state"])
    def test_ordering_by_state(self, client, starter_dataset, ordering):
        _response, ids = listed(client, {"ordering": ordering})
        records = Resolution.objects.select_related("jurisdiction__parent").in_bulk(ids)
        codes = [state_of(records[pk]) for pk in ids]
        assert codes == sorted(codes, reverse=ordering.startswith("-"))

    def test_ordering_by_jurisdiction(self, client, starter_dataset):
        _response, ids = listed(client, {"ordering": "jurisdiction", "level": ["state"]})
        records = Resolution.objects.select_related("jurisdiction").in_bulk(ids)
        names = [records[pk].jurisdiction.name for pk in ids]
        assert names == sorted(names)

    def test_rows_show_jurisdiction_kind_link_status_and_partial_date(self, client, starter_dataset):
        html = client.get(LIST_URL, {"state": ["AL"]}).content.decode()
        law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
        hanceville = Resolution.objects.get(identifier="Resolution No. 657")
        assert f'href="{law.get_absolute_url()}"' in html
        assert "April 18, 2022" in html  # day precision
        assert "City of Hanceville, AL" in html  # the jurisdiction with its state
        assert "October 2021" in html  # month precision, no invented day
        assert f'href="{hanceville.get_absolute_url()}"' in html
        assert "Statute" in html and "Adopted" in html

    def test_form_has_a_labelled_field_for_every_parameter(self, client, starter_dataset):
        html = client.get(LIST_URL).content.decode()
        assert '<form method="get"' in html
        for field in ["q", "adopted_after", "adopted_before", "ordering"]:
            assert f'<label for="id_{field}"' in html and f'id="id_{field}"' in html
        assert 'type="date" name="adopted_after"' in html and 'type="date" name="adopted_before"' in html
        for name in ["state", "level", "kind", "status", "stage"]:
            assert f'type="checkbox" name="{name}"' in html
        assert "<legend>State or territory</legend>" in html
        assert 'type="submit"' in html
        assert f'href="{LIST_URL}">Clear filters</a>' in html

    def test_the_form_keeps_the_chosen_values(self, client, starter_dataset):
        html = client.get(
            LIST_URL,
            {
                "state": ["AL"],
                "level": ["county"],
                "adopted_after": "2020-01-01",
                "q": "Mobile",
                "ordering": "-state",
            },
        ).content.decode()
        assert 'name="state" value="AL" checked' in html
        assert 'name="level" value="county" checked' in html
        assert 'value="2020-01-01"' in html
        assert 'value="Mobile"' in html
        assert '<option value="-state" selected>' in html

    def test_a_blank_form_submission_is_not_an_error(self, client, starter_dataset):
        """What a browser sends when the form is submitted untouched."""
        response = client.get(LIST_URL, {"q": "", "adopted_after": "", "adopted_before": "", "ordering": ""})
        assert response.status_code == 200
        assert response.context["page_obj"].paginator.count == STARTER_PUBLISHED


class TestExportLinks:
    def test_csv_and_feed_links_carry_the_same_query(self, client, starter_dataset):
        params = {"state": ["AL", "TX"], "status": ["adopted"], "ordering": "-adopted"}
        html = client.get(LIST_URL, {**params, "page": "1"}).content.decode()
        links = parse_links(html)
        csv_links = [h for h in links.hrefs if h.startswith(reverse("recognition:resolution_csv"))]
        feed_links = [h for h in links.hrefs if h.startswith(reverse("recognition:feed"))]
        assert csv_links and feed_links
        for href in csv_links + feed_links:
            assert parse_qs(urlsplit(href).query) == {
                "state": ["AL", "TX"],
                "status": ["adopted"],
                "ordering": ["-adopted"],
            }
        assert "Download CSV" in html and "Follow this search (Atom)" in html

    def test_head_announces_the_filtered_feed(self, client, starter_dataset):
        links = parse_links(client.get(LIST_URL, {"state": "AL"}).content.decode())
        feeds = [link for link in links.heads if link.get("rel") == "alternate"]
        assert len(feeds) == 1
        assert feeds[0]["type"] == "application/atom+xml"
        assert feeds[0]["href"] == f"{reverse('recognition:feed')}?state=AL"

    def test_nav_links_to_the_list_and_the_data(self, client, starter_dataset):
        hrefs = parse_links(client.get("/").content.decode()).hrefs
        assert LIST_URL in hrefs and reverse("recognition:data") in hrefs


class TestPagination:
    def test_fifty_per_page_and_links_keep_the_filters(self, client, many_in_alabama):
        total = len(expected_ids({"state": ["AL"]}))
        assert total > 50
        first = client.get(LIST_URL, {"state": "AL", "level": ["county", "place"]})
        assert first.status_code == 200
        page_obj = first.context["page_obj"]
        assert len(page_obj.object_list) == 50
        assert page_obj.paginator.num_pages == 2
        hrefs = parse_links(first.content.decode()).hrefs
        page_links = [h for h in hrefs if "page=" in h]
        assert page_links
        for href in page_links:
            query = parse_qs(urlsplit(href).query)
            assert query["state"] == ["AL"] and query["level"] == ["county", "place"]
        assert "?state=AL&level=county&level=place&page=2" in page_links

        second = client.get(LIST_URL, {"state": "AL", "level": ["county", "place"], "page": "2"})
        assert second.status_code == 200
        assert second.context["page_obj"].number == 2
        previous = [h for h in parse_links(second.content.decode()).hrefs if "page=1" in h]
        assert previous and all("state=AL" in h for h in previous)
        # The two pages together hold every match once.
        _response, ids = listed(client, {"state": "AL", "level": ["county", "place"]})
        assert set(ids) == expected_ids({"state": ["AL"], "level": ["county", "place"]})

    def test_page_links_drop_nothing_but_the_page(self, client, starter_dataset):
        response = client.get(LIST_URL, {"page": "2"})
        assert response.status_code == 200
        assert len(response.context["page_obj"].object_list) == STARTER_PUBLISHED - PAGE_SIZE
        assert f"Showing {PAGE_SIZE + 1}–{STARTER_PUBLISHED}" in response.content.decode()


class TestEmptyAndBadSearches:
    def test_empty_result_says_so_and_offers_to_clear(self, client, starter_dataset):
        response = client.get(LIST_URL, {"state": "WY"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "0 resolutions" in html
        assert "No published records match this search" in html
        assert f'<a href="{LIST_URL}">Clear the filters</a>' in html
        assert "<table" not in html

    @pytest.mark.parametrize(
        "params, field, message",
        [
            ({"state": "ZZ"}, "State or territory", "ZZ is not one of the available choices"),
            ({"state": "A\x00L"}, "State or territory", "is not one of the available choices"),
            ({"adopted_after": "2022-02-30"}, "Adopted on or after", "Enter a valid date"),
            ({"adopted_before": "yesterday"}, "Adopted on or before", "Enter a valid date"),
            ({"q": "mobile\x00"}, "Search", "Null characters are not allowed"),
            ({"ordering": "password"}, "Sort by", "password is not one of the available choices"),
            ({"level": "galaxy"}, "Jurisdiction level", "galaxy is not one of the available choices"),
            ({"kind": "decree"}, "Kind", "decree is not one of the available choices"),
            ({"status": "passed"}, "Status", "passed is not one of the available choices"),
            ({"q": "x" * 201}, "Search", "at most 200 characters"),
        ],
    )
    def test_bad_values_are_a_400_listing_the_error(self, client, starter_dataset, params, field, message):
        response = client.get(LIST_URL, params)
        assert response.status_code == 400
        html = response.content.decode()
        assert "This search cannot be run" in html
        assert f"<strong>{field}:</strong>" in html
        assert message in html
        assert "<table" not in html and "Download CSV" not in html
        assert "\x00" not in html.split("This search cannot be run")[1]  # NUL never echoed in the message

    def test_every_error_is_listed(self, client, starter_dataset):
        response = client.get(LIST_URL, {"state": "ZZ", "adopted_after": "2022-02-30", "ordering": "nope"})
        assert response.status_code == 400
        errors = dict(response.context["errors"])
        assert set(errors) == {"State or territory", "Adopted on or after", "Sort by"}

    @pytest.mark.parametrize("page", ["abc", "1.5", "\x00", "", "9" * 5000])
    def test_a_page_that_is_not_a_number_is_a_friendly_404(self, client, starter_dataset, page):
        response = client.get(LIST_URL, {"state": "AL", "page": page})
        assert response.status_code == 404
        html = response.content.decode()
        assert "is not a page number" in html
        assert "?state=AL&amp;page=1" in html  # the way back keeps the filters

    @pytest.mark.parametrize("page, pages", [("999999999999", 2), ("3", 2), ("0", 2), ("-1", 2)])
    def test_a_page_beyond_the_last_is_a_friendly_404(self, client, starter_dataset, page, pages):
        response = client.get(LIST_URL, {"page": page})
        assert response.status_code == 404
        assert f"There is no page {int(page)}; this search has {pages} pages." in response.content.decode()

    def test_a_filtered_search_past_its_last_page(self, client, starter_dataset):
        response = client.get(LIST_URL, {"state": "WY", "page": "2"})
        assert response.status_code == 404
        assert "There is no page 2; this search has 1 page." in response.content.decode()


class TestQueryBudget:
    @pytest.mark.parametrize("dataset", ["starter_dataset", "bigger_dataset"])
    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"page": "2"},
            {"state": ["AL", "WY"], "level": ["county", "place"], "ordering": "jurisdiction"},
            {"q": "Mobile", "status": "adopted"},
            {"kind": "statute", "adopted_after": "2000-01-01", "ordering": "-state"},
            {"state": "ZZ"},
        ],
        ids=lambda p: urlencode(p, doseq=True) or "all",
    )
    def test_at_most_nine_queries(self, request, client, django_assert_max_num_queries, dataset, params):
        """The data version, the six facet counts, the row count and the page (tests/test_facets.py pins it)."""
        request.getfixturevalue(dataset)
        with django_assert_max_num_queries(9):
            response = client.get(LIST_URL, params)
        assert response.status_code in (200, 400)


def test_state_codes_in_either_case(client, starter_dataset):
    lower = client.get("/resolutions/", {"state": "al"})
    upper = client.get("/resolutions/", {"state": "AL"})
    assert lower.status_code == upper.status_code == 200
    assert [r.pk for r in lower.context["page_obj"]] == [r.pk for r in upper.context["page_obj"]]


class TestStages:
    """Each row says where the measure stands and when it last moved (the records: tests/progress_records.py)."""

    @pytest.fixture
    def records(self, db):
        return progress_records.build()

    def rows(self, client, params=None):
        """{resolution id: the text of its table row}, from the page's HTML."""
        html = client.get(LIST_URL, params or {}).content.decode()
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        rows = {}
        for row in body.split("<tr>")[1:]:
            pk = int(re.search(r'href="/resolutions/(\d+)/"', row).group(1))
            rows[pk] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        return rows

    def test_each_row_shows_its_stage_and_latest_action_date(self, client, records):
        rows = self.rows(client)
        named = progress_records.by_key(records)
        assert rows[named["S. 725"].pk].endswith("Passed the upper chamber — September 2025")
        assert rows[named["HB 1"].pk].endswith("Passed both chambers — April 2, 2024")
        assert rows[named["HB 2"].pk].endswith("Signed or adopted April 18, 2022 April 18, 2022")
        assert rows[named["HB 3"].pk].endswith("In force 2019 2019")
        assert rows[named["SB 4"].pk].endswith("Vetoed — July 1, 2023")
        assert rows[named["Mobile resolution"].pk].endswith("Signed or adopted May 5, 2020 —")
        assert rows[named["Stageville pending"].pk].endswith("Introduced — —")

    def test_a_pending_bill_of_an_ended_session_says_so(self, client, records):
        rows = self.rows(client)
        named = progress_records.by_key(records)
        assert "Session ended; outcome not yet recorded" in rows[named["H.R. 100"].pk]
        assert "In committee" not in rows[named["H.R. 100"].pk]
        failed = rows[named["H.R. 6319"].pk]  # its session ended too, but its outcome is recorded
        assert "Failed" in failed and "Session ended" not in failed
        assert "Session ended" not in rows[named["S. 725"].pk]  # its session goes on

    def test_every_stage_is_a_checkbox_that_keeps_its_choice(self, client, records):
        html = client.get(LIST_URL, {"stage": ["passed_upper", "vetoed"]}).content.decode()
        assert "<legend>Stage</legend>" in html
        for value, label in Stage.choices:
            checked = " checked" if value in ("passed_upper", "vetoed") else ""
            assert (
                f'<input type="checkbox" name="stage" value="{value}"{checked}> {label} <span class="facet__count">'
                in html
            )

    def test_the_session_is_named_and_kept_and_can_be_dropped(self, client, records):
        session = progress_records.by_key(records)["S. 725"].resolution.session
        html = client.get(LIST_URL, {"session": session.pk, "stage": "passed_upper"}).content.decode()
        assert f'<input type="hidden" name="session" value="{session.pk}">' in html
        assert f"Legislative session: <strong>{session.name}</strong>" in html
        assert '<a href="?stage=passed_upper">Every session</a>' in html
        without = client.get(LIST_URL, {"stage": "passed_upper"})
        assert without.context["session"] is None
        assert 'name="session"' not in without.content.decode()


class _Cells(HTMLParser):
    """The text of each cell of the results table, entities decoded, and every tag's name."""

    def __init__(self):
        super().__init__()
        self.cells, self.tags, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_rows_and_choices_escape_what_staff_typed(client):
    """The rows are written as markup by hand, for speed: a title, number or place name with markup in it
    is shown as text, never read as markup."""
    hostile = '<script>alert("x")</script> & \'quoted\''
    place = PlaceFactory(name=f"Town {hostile}")
    ResolutionFactory(jurisdiction=place, title=f"Title {hostile}", identifier=f"No. {hostile}")
    html = client.get(LIST_URL).content.decode()
    parser = _Cells()
    parser.feed(html)
    assert f"Town {hostile}, AL" in parser.cells
    assert f"No. {hostile}: Title {hostile}" in parser.cells
    assert "script" not in parser.tags[parser.tags.index("tbody") :]
    assert hostile not in html
