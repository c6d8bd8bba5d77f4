"""Atom feeds: the filtered search feed and the per-state feed."""

import html
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from recognition.models import Action, Level, Resolution
from tests import progress_records
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


def is_action(entry):
    return "#action-" in entry.find("atom:link", NS).get("href")


def measure_entries(root):
    return [entry for entry in entries(root) if not is_action(entry)]


def entry_records(root):
    """The Resolution behind each measure's entry (not an action's), in feed order, found through its link."""
    by_url = {
        f"http://testserver{r.get_absolute_url()}": r
        for r in Resolution.objects.select_related("jurisdiction__parent")
    }
    records = []
    for entry in measure_entries(root):
        href = entry.find("atom:link", NS).get("href")
        assert href in by_url, href
        records.append(by_url[href])
    return records


def entry_actions(root):
    """The Action behind each action's entry, in feed order."""
    by_url = {
        f"http://testserver/resolutions/{a.resolution_id}/#action-{a.pk}": a
        for a in Action.objects.select_related("resolution")
    }
    return [by_url[entry.find("atom:link", NS).get("href")] for entry in entries(root) if is_action(entry)]


class TestSearchFeed:
    def test_is_atom_with_entries_linking_to_resolution_pages(self, client, starter_dataset):
        root = get_feed(client, FEED_URL)
        assert root.find("atom:title", NS).text
        assert root.find("atom:updated", NS).text
        assert root.find("atom:author/atom:name", NS).text == "Dispatcher Recognition Tracker"
        feed_self = root.find("atom:link[@rel='self']", NS)
        assert feed_self.get("href") == f"http://testserver{FEED_URL}"
        assert len(entries(root)) == 50  # 57 published (and any actions of theirs), the newest 50
        records = entry_records(root)
        for entry, record in zip(measure_entries(root), records, strict=True):
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
        # The newest measures, the ids of the newest actions, those actions (when there are any).
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


class TestActionEntries:
    """A new action of a published measure matching the search is an entry of its own."""

    @pytest.fixture
    def records(self, db):
        return progress_records.build()

    def test_a_new_action_is_the_newest_entry(self, client, records):
        hb7 = progress_records.by_key(records)["HB 7"].resolution  # Colorado, passed the House
        action = progress_records.add_action(hb7, "2024-04-15", "passage", "upper", "Passed the Senate 35-0")
        for url, params in [(FEED_URL, {}), (FEED_URL, {"state": "CO"}), ("/states/co/feed/", {})]:
            first = entries(get_feed(client, url, params))[0]
            assert first.find("atom:title", NS).text == "HB 7 passed the Senate", url
            assert (
                first.find("atom:link", NS).get("href")
                == f"http://testserver/resolutions/{hb7.pk}/#action-{action.pk}"
            )
            assert (
                first.find("atom:id", NS).text
                == f"http://testserver/resolutions/{hb7.pk}/#action-{action.pk}"
            )
            summary = html.unescape(first.find("atom:summary", NS).text)
            assert summary == f"April 15, 2024: Passed the Senate 35-0 (Colorado: {hb7.title})"
            assert {c.get("term") for c in first.findall("atom:category", NS)} == {"CO", "Bill", "Passage"}
            assert first.find("atom:published", NS).text

    def test_the_action_page_exists(self, client, records):
        root = get_feed(client, FEED_URL)
        for entry in entries(root):
            path = entry.find("atom:link", NS).get("href").removeprefix("http://testserver").split("#")[0]
            assert client.get(path).status_code == 200

    def test_not_for_a_draft_nor_outside_the_search(self, client, records):
        named = progress_records.by_key(records)
        draft_action = progress_records.add_action(
            named["HB 99 draft"].resolution, "2025-04-01", "referral-committee", "lower"
        )
        texas_action = progress_records.add_action(
            named["HB 3"].resolution, "2019-06-01", "referral-committee", "upper"
        )
        everywhere = entry_actions(get_feed(client, FEED_URL))
        assert texas_action in everywhere and draft_action not in everywhere
        for url, params in [
            (FEED_URL, {"state": "AL"}),
            ("/states/al/feed/", {}),
            (FEED_URL, {"stage": "passed_both"}),
        ]:
            shown = entry_actions(get_feed(client, url, params))
            assert shown, url
            assert texas_action not in shown and draft_action not in shown, url

    def test_a_text_search_applies_to_action_entries(self, client, records):
        """The words are searched in the measures' own query (full-text search on PostgreSQL)."""
        s725 = progress_records.by_key(records)["S. 725"]
        root = get_feed(client, FEED_URL, {"q": "725"})
        assert [record.pk for record in entry_records(root)] == [s725.pk]
        assert {action.pk for action in entry_actions(root)} == {action.pk for action in s725.actions}

    def test_the_stage_filter_applies_to_action_entries(self, client, records):
        for stages in (["passed_upper"], ["vetoed", "withdrawn"], ["adopted", "in_force"]):
            root = get_feed(client, FEED_URL, {"stage": stages})
            expected = {
                action.pk
                for record in records
                if record.published and record.stage in stages
                for action in record.actions
            }
            assert {action.pk for action in entry_actions(root)} == expected, stages

    def test_entries_newest_recorded_first_and_at_most_fifty(self, client, records):
        progress_records.build_more(records, n=30)  # 30 measures and 60 actions more
        root = get_feed(client, FEED_URL)
        assert len(entries(root)) == 50
        published = [entry.find("atom:published", NS).text for entry in entries(root)]
        assert published == sorted(published, reverse=True)
        everything = [r.resolution for r in records if r.published] + [
            action for r in records if r.published for action in r.actions
        ]
        newest = sorted(everything, key=lambda item: item.created_at, reverse=True)[:50]
        assert {(type(item).__name__, item.pk) for item in newest} == {
            *(("Resolution", r.pk) for r in entry_records(root)),
            *(("Action", a.pk) for a in entry_actions(root)),
        }

    def test_query_count_is_pinned(self, client, records, django_assert_num_queries):
        for grow in (False, True):
            if grow:
                progress_records.build_more(records, n=30)
            with django_assert_num_queries(3):  # measures, the newest actions' ids, those actions
                get_feed(client, FEED_URL, {"stage": ["passed_upper", "adopted"]})
            with django_assert_num_queries(4):  # the state first
                get_feed(client, "/states/al/feed/")
