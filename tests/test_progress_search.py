"""Stages, sessions and the latest action in the one search (issue 15).

The list, the CSV, the API and the feeds take the same `stage`, `session` and
`ordering=latest_action` parameters and give the same measures; a bad value is the
usual clear error everywhere. What each must give is plain Python over the records
of tests/progress_records.py, whose stages are written there by hand.
"""

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection

from recognition.models import LegislativeSession
from tests import progress_records
from tests.api.test_api import api_rows, get_json
from tests.test_exports import csv_rows
from tests.test_list import listed

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
SURFACES = ["list", "csv", "api", "feed"]


@pytest.fixture
def records(db):
    return progress_records.build()


def feed_entries(client, params, url="/feeds/resolutions/"):
    """(measure ids, action ids) of a feed's entries, in feed order, read from the entries' links."""
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    measures, actions = [], []
    for entry in ET.fromstring(response.content).findall("atom:entry", ATOM):
        path = entry.find("atom:link", ATOM).get("href").removeprefix("http://testserver/resolutions/")
        number, _slash, anchor = path.partition("/")
        if anchor:
            actions.append(int(anchor.removeprefix("#action-")))
        else:
            measures.append(int(number))
    return measures, actions


def ids_on(surface, client, params):
    """The measures a surface gives for `params`, in its order."""
    if surface == "list":
        return listed(client, params)[1]
    if surface == "csv":
        return [int(row["id"]) for row in csv_rows(client, params)]
    if surface == "api":
        return [row["id"] for row in api_rows(client, params)]
    return feed_entries(client, params)[0]


STAGE_SEARCHES = [
    {"stage": "passed_upper"},
    {"stage": "introduced"},
    {"stage": ["adopted", "in_force"]},
    {"stage": ["vetoed", "failed", "withdrawn"]},
    {"stage": ["in_committee", "passed_committee", "passed_lower", "passed_both"], "state": "CO"},
    {"stage": ["passed_upper", "in_committee", "failed"], "level": "nation"},
    {"stage": ["adopted"], "status": "adopted", "state": "AL"},
]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("params", STAGE_SEARCHES, ids=lambda params: urlencode(params, doseq=True))
def test_the_stage_filter_gives_the_same_measures_everywhere(client, records, surface, params):
    expected = progress_records.expected_ids(records, params)
    assert expected, "each case selects something"
    ids = ids_on(surface, client, params)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected


def test_the_list_csv_and_api_give_the_stage_search_in_one_order(client, records):
    params = {"stage": ["passed_upper", "passed_both", "adopted", "vetoed"], "ordering": "-latest_action"}
    listed_ids = ids_on("list", client, params)
    assert listed_ids == ids_on("csv", client, params) == ids_on("api", client, params)


def test_a_draft_at_a_stage_is_never_found_by_it(client, records):
    draft = progress_records.by_key(records)["HB 99 draft"]
    for surface in SURFACES:
        assert draft.pk not in ids_on(surface, client, {"stage": "passed_upper"}), surface


@pytest.mark.parametrize("surface", ["list", "csv", "api"])
@pytest.mark.parametrize("newest_first", [True, False])
def test_ordering_by_latest_action_puts_measures_without_actions_last(client, records, surface, newest_first):
    dated, undated = progress_records.by_latest_action(records, newest_first=newest_first)
    ids = ids_on(surface, client, {"ordering": "-latest_action" if newest_first else "latest_action"})
    assert ids[: len(dated)] == dated
    assert set(ids[len(dated) :]) == undated and len(ids) == len(dated) + len(undated)


@pytest.mark.parametrize("surface", SURFACES)
def test_the_session_filter(client, records, surface):
    for session in LegislativeSession.objects.all():
        expected = progress_records.expected_ids(records, {"session": session.pk})
        assert expected
        assert set(ids_on(surface, client, {"session": session.pk})) == expected


def test_a_session_links_to_its_measures_on_the_list(client, records):
    ended = LegislativeSession.objects.get(name="Ended Congress")
    response = client.get(ended.get_absolute_url())
    assert response.status_code == 200
    shown = {resolution.pk for resolution in response.context["page_obj"]}
    named = progress_records.by_key(records)
    assert shown == {named["H.R. 6319"].pk, named["H.R. 100"].pk}
    html = response.content.decode()
    assert f'<input type="hidden" name="session" value="{ended.pk}">' in html
    assert "<strong>Ended Congress</strong>" in html
    assert ">Every session</a>" in html


@pytest.mark.parametrize("surface", SURFACES)
def test_the_feed_and_the_others_also_follow_stage_with_session(client, records, surface):
    ongoing = LegislativeSession.objects.get(name="Ongoing Congress")
    params = {"stage": "passed_upper", "session": ongoing.pk}
    assert set(ids_on(surface, client, params)) == {progress_records.by_key(records)["S. 725"].pk}


# --- bad values ------------------------------------------------------------------------------------

BAD = [
    ({"stage": "passed"}, "Stage", "passed is not one of the available choices"),
    ({"stage": ["adopted", "signed"]}, "Stage", "signed is not one of the available choices"),
    ({"stage": "in\x00force"}, "Stage", "is not one of the available choices"),
    ({"session": "abc"}, "Legislative session", "There is no legislative session abc."),
    ({"session": "999999"}, "Legislative session", "There is no legislative session 999999."),
    ({"session": "9" * 30}, "Legislative session", "There is no legislative session"),
    ({"session": "-1"}, "Legislative session", "There is no legislative session -1."),
    ({"ordering": "latest"}, "Sort by", "latest is not one of the available choices"),
]


@pytest.mark.parametrize("params, label, message", BAD, ids=repr)
def test_bad_values_on_the_list_are_a_form_error(client, records, params, label, message):
    response = client.get("/resolutions/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This search cannot be run" in html
    assert f"<strong>{label}:</strong>" in html and message in html
    assert "<table" not in html and "\x00" not in html


@pytest.mark.parametrize("url", ["/resolutions.csv", "/feeds/resolutions/", "/states/al/feed/"])
@pytest.mark.parametrize("params, label, message", BAD, ids=repr)
def test_bad_values_in_the_csv_and_feeds_are_a_plain_400(client, records, url, params, label, message):
    response = client.get(url, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert f"- {label}: " in text and message in text
    assert "\x00" not in text


@pytest.mark.parametrize("params, label, message", BAD, ids=repr)
def test_bad_values_in_the_api_are_a_400_by_parameter(client, records, params, label, message):
    body = get_json(client, "/api/resolutions/", params, status=400)
    assert set(body) == set(params)
    assert any(message in text for text in body[next(iter(params))])


# --- query counts ------------------------------------------------------------------------------


PINNED = {
    # The data version, the six facet counts, count, page (jurisdiction, state and session joined).
    ("list", "stage"): 9,
    ("list", "ordering"): 9,
    # ... and the session, read once when the parameter is checked.
    ("list", "session"): 10,
    # SQLite: the rows (one batch), their sources. PostgreSQL: the export's settings, the rows with their
    # sources (one query however many batches).
    ("csv", "stage"): 2,
    ("csv", "ordering"): 2,
    ("csv", "session"): 3,
    # The data version, count, page, its sources.
    ("api", "stage"): 4,
    ("api", "ordering"): 4,
    ("api", "session"): 5,
    # The newest measures, the ids of the newest actions, those actions with their measures.
    ("feed", "stage"): 3,
    ("feed", "ordering"): 3,
    ("feed", "session"): 4,
}


def pinned(surface, kind):
    if surface == "list" and kind != "session" and connection.vendor == "postgresql":
        return 3  # the data version, the facets' tally (every facet and the count at once), the page
    return PINNED[surface, kind]


def params_for(kind):
    if kind == "stage":
        return {"stage": ["passed_upper", "passed_both", "adopted", "in_force", "introduced"]}
    if kind == "ordering":
        return {"ordering": "-latest_action"}
    return {"session": LegislativeSession.objects.get(name="Ongoing Congress").pk}


URLS = {
    "list": "/resolutions/",
    "csv": "/resolutions.csv",
    "api": "/api/resolutions/",
    "feed": "/feeds/resolutions/",
}


@pytest.mark.parametrize("surface, kind", sorted(PINNED))
def test_query_counts_are_pinned(client, records, django_assert_num_queries, surface, kind):
    params = params_for(kind)
    for size in ("small", "grown"):
        if size == "grown":
            progress_records.build_more(records)
        cache.clear()
        with django_assert_num_queries(pinned(surface, kind)):
            response = client.get(URLS[surface], params)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, size
