"""Atom feeds: the filtered search feed and the per-state feed."""

import html
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from recognition.models import Level, Resolution
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.outage import Outage, fresh_breaker, request_in_own_thread
from tests.test_list import state_of

pytestmark = pytest.mark.django_db

ATOM = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM}
FEED_URL = "/feeds/resolutions/"


def get_feed(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{ATOM}}}feed"
    return root


def entries(root):
    return root.findall("atom:entry", NS)


def entry_records(root):
    """The Resolution behind each entry, in feed order, found through the entry's link."""
    by_url = {
        f"http://testserver{r.get_absolute_url()}": r
        for r in Resolution.objects.select_related("jurisdiction__parent")
    }
    records = []
    for entry in entries(root):
        href = entry.find("atom:link", NS).get("href")
        assert href in by_url, href
        records.append(by_url[href])
    return records


class TestSearchFeed:
    def test_is_atom_with_entries_linking_to_resolution_pages(self, client, starter_dataset):
        root = get_feed(client, FEED_URL)
        assert root.find("atom:title", NS).text
        assert root.find("atom:updated", NS).text
        assert root.find("atom:author/atom:name", NS).text == "Dispatcher Recognition Tracker"
        feed_self = root.find("atom:link[@rel='self']", NS)
        assert feed_self.get("href") == f"http://testserver{FEED_URL}"
        records = entry_records(root)
        assert len(records) == 50  # 57 published, the newest 50
        for entry, record in zip(entries(root), records, strict=True):
            assert entry.find("atom:title", NS).text == f"{record.jurisdiction}: {record.title}"
            summary = entry.find("atom:summary", NS)
            assert summary.get("type") == "html"
            assert html.unescape(summary.text) == (record.summary or record.title)
            assert entry.find("atom:id", NS).text == f"http://testserver{record.get_absolute_url()}"
            assert entry.find("atom:updated", NS).text
            assert entry.find("atom:published", NS).text

    def test_entry_pages_exist(self, client, starter_dataset):
        root = get_feed(client, FEED_URL, {"state": "AL"})
        for entry in entries(root):
            href = entry.find("atom:link", NS).get("href").removeprefix("http://testserver")
            assert client.get(href).status_code == 200

    def test_newest_first(self, client, starter_dataset):
        first = ResolutionFactory(title="Recorded first")
        second = ResolutionFactory(title="Recorded second")
        records = entry_records(get_feed(client, FEED_URL))
        assert records[:2] == [second, first]

    def test_only_published_records(self, client, starter_dataset):
        draft = ResolutionFactory(published=False, title="A draft that must never be syndicated")
        for url, params in [(FEED_URL, {}), (FEED_URL, {"state": "AL"}), ("/states/al/feed/", {})]:
            response = client.get(url, params)
            assert b"A draft that must never be syndicated" not in response.content
            assert all(r.published for r in entry_records(ET.fromstring(response.content)))
        assert draft.pk not in {r.pk for r in entry_records(get_feed(client, FEED_URL))}

    def test_filter_parameters_are_honoured(self, client, starter_dataset):
        records = entry_records(get_feed(client, FEED_URL, {"state": "AL"}))
        assert records
        assert {state_of(r) for r in records} == {"AL"}
        published = Resolution.objects.filter(published=True).select_related("jurisdiction__parent")
        assert len(records) == sum(1 for r in published if state_of(r) == "AL")

    def test_combined_filters(self, client, starter_dataset):
        root = get_feed(
            client, FEED_URL, {"state": ["AL", "CO"], "level": ["county", "place"], "status": "adopted"}
        )
        records = entry_records(root)
        assert records
        for record in records:
            assert state_of(record) in {"AL", "CO"}
            assert record.jurisdiction.level in {Level.COUNTY, Level.PLACE}
            assert record.status == "adopted"
        assert "Alabama, Colorado" in root.find("atom:title", NS).text
        # The feed points back at the same search.
        alternate = root.find("atom:link[@rel='alternate']", NS).get("href")
        assert (
            alternate
            == "http://testserver/resolutions/?state=AL&state=CO&level=county&level=place&status=adopted"
        )

    def test_summary_markup_is_shown_as_text(self, client):
        ResolutionFactory(summary="Recognizes <b>dispatchers</b> & call-takers")
        (entry,) = entries(get_feed(client, FEED_URL))
        assert (
            entry.find("atom:summary", NS).text
            == "Recognizes &lt;b&gt;dispatchers&lt;/b&gt; &amp; call-takers"
        )

    def test_characters_xml_cannot_carry_are_replaced(self, client):
        ResolutionFactory(title="Vertical\x0btab", summary="Back\x08space")
        root = get_feed(client, FEED_URL, {"q": "\x08"})
        assert "\ufffd" in root.find("atom:title", NS).text
        (entry,) = entries(get_feed(client, FEED_URL))
        assert entry.find("atom:title", NS).text.endswith("Vertical\ufffdtab")
        assert entry.find("atom:summary", NS).text == "Back\ufffdspace"

    def test_an_empty_search_is_an_empty_feed(self, client, starter_dataset):
        assert entries(get_feed(client, FEED_URL, {"state": "WY"})) == []

    @pytest.mark.parametrize(
        "params",
        [
            {"state": "ZZ"},
            {"adopted_after": "2022-02-30"},
            {"q": "\x00"},
            {"ordering": "nope"},
            {"state": "A\x00L"},
        ],
    )
    def test_bad_parameters_are_a_400(self, client, params):
        response = client.get(FEED_URL, params)
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert "This search cannot be run" in response.content.decode()

    def test_query_budget(self, client, starter_dataset, django_assert_max_num_queries):
        with django_assert_max_num_queries(3):
            get_feed(client, FEED_URL, {"level": ["county", "place"]})


class TestStateFeed:
    def test_alabama(self, client, starter_dataset):
        place = PlaceFactory(parent=get_state("AL"), county=get_county("01097"))
        ResolutionFactory(jurisdiction=place, title="A new city resolution")
        ResolutionFactory(jurisdiction=get_county("48201"), title="Harris County, Texas")  # not Alabama
        root = get_feed(client, reverse("recognition:state_feed", kwargs={"usps": "al"}))
        assert "Alabama" in root.find("atom:title", NS).text
        records = entry_records(root)
        assert {state_of(r) for r in records} == {"AL"}
        assert records[0].title == "A new city resolution"
        levels = {r.jurisdiction.level for r in records}
        assert {Level.STATE, Level.COUNTY, Level.PLACE, Level.DISTRICT} <= levels
        alternate = root.find("atom:link[@rel='alternate']", NS).get("href")
        assert alternate == "http://testserver/states/al/"

    def test_state_feed_honours_filters(self, client, starter_dataset):
        records = entry_records(get_feed(client, "/states/al/feed/", {"level": "county"}))
        assert records and {r.jurisdiction.level for r in records} == {Level.COUNTY}

    @pytest.mark.parametrize("usps", ["zz", "AL", "Al", "alabama", "a\x00"])
    def test_unknown_state_is_404(self, client, starter_dataset, usps):
        assert client.get(f"/states/{usps}/feed/").status_code == 404

    def test_bad_parameters_are_a_400(self, client, starter_dataset):
        assert client.get("/states/al/feed/", {"adopted_before": "2022-02-30"}).status_code == 400

    def test_the_feed_route_is_not_taken_for_a_jurisdiction(self, client, starter_dataset):
        assert reverse("recognition:state_feed", kwargs={"usps": "tx"}) == "/states/tx/feed/"
        assert client.get("/states/tx/feed/")["Content-Type"].startswith("application/atom+xml")


class TestDatabaseOutage:
    """A feed is built whole before it is sent: an outage is a 503 with Retry-After, never a broken 200."""

    @pytest.mark.parametrize(
        "url",
        [FEED_URL, f"{FEED_URL}?state=AL&q=dispatchers", "/states/al/feed/", "/states/al/feed/?q=county"],
    )
    def test_unreachable_database_is_a_503(self, monkeypatch, url):
        fresh_breaker(monkeypatch)
        outage = Outage(monkeypatch)
        outage.down = True
        response = request_in_own_thread(url)
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert "<feed" not in response.content.decode()
        assert outage.attempts == 1
