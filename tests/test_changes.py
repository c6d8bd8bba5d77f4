"""/changes/ and its feed: every change to published data, newest first, in plain words (issue 18).

The oracle is what each test did: it makes records, changes them at chosen moments (simple-history's
`_history_date`), and spells out the entries a reader should see, and the words that must never show.
"""

import datetime
import html
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from recognition.models import (
    Action,
    ActionClassification,
    Chamber,
    Confidence,
    Kind,
    Resolution,
    Source,
    Status,
)
from tests.conftest import get_county, get_state

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
START = timezone.now() - datetime.timedelta(days=3)


def at(minutes):
    return START + datetime.timedelta(minutes=minutes)


def save(instance, minutes, **changes):
    """Save `instance` with `changes` applied, as if at START + `minutes` (its history row's date)."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance._history_date = at(minutes)
    instance.save()
    return instance


def published_county_resolution(minutes, **values):
    """Mobile County's published resolution, written as a publisher's save would at that moment."""
    values = {
        "jurisdiction": get_county("01097"),
        "kind": Kind.RESOLUTION,
        "status": Status.ADOPTED,
        "title": "Resolution honoring Mobile County's telecommunicators",
        "adopted_on": datetime.date(2023, 4, 1),
        "adopted_on_precision": "day",
        "confidence": Confidence.HIGH,
        "published": True,
        **values,
    }
    resolution = save(Resolution(**values), minutes)
    save(Source(resolution=resolution, url="https://example.org/mobile", title="Commission minutes"), minutes)
    return resolution


def headlines(response):
    """Each entry's headline as a reader sees it ("Added: ..."), in page order."""
    text = response.content.decode()
    items = re.findall(r'<p class="change__headline">(.*?)<span class="meta">', text, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def draft_bill(minutes):
    bill = save(
        Resolution(
            jurisdiction=get_state("AL"),
            kind=Kind.BILL,
            status=Status.INTRODUCED,
            identifier="HB 9001",
            title="Working title nobody saw",
            confidence=Confidence.LOW,
        ),
        minutes,
    )
    save(Source(resolution=bill, url="https://example.org/hb9001", title="Bill text"), minutes)
    return bill


def action(measure, minutes, classification, chamber, description, on=datetime.date(2024, 3, 5)):
    return save(
        Action(
            resolution=measure,
            on=on,
            on_precision="day",
            classification=classification,
            chamber=chamber,
            description=description,
            source_url="https://example.org/journal",
        ),
        minutes,
    )


def test_changes_show_a_publish_a_status_change_and_a_correction_and_never_a_draft(client):
    bill = draft_bill(0)
    # While it is a draft, its title is rewritten and an action recorded: neither is ever listed.
    save(bill, 1, title="Telecommunicator Recognition Act")
    action(bill, 2, ActionClassification.INTRODUCTION, Chamber.LOWER, "Prefiled in a draft only")
    save(bill, 10, confidence=Confidence.HIGH, published=True)  # a publisher publishes it
    action(bill, 30, ActionClassification.PASSAGE, Chamber.LOWER, "Passed the House 98-0")
    county = published_county_resolution(40)
    save(county, 50, adopted_on=datetime.date(2023, 5, 2))  # a correction of the adoption date
    # A record that stays a draft, however often it is edited.
    secret = save(
        Resolution(
            jurisdiction=get_state("AL"),
            kind=Kind.RESOLUTION,
            status=Status.ADOPTED,
            title="Secret draft resolution",
            confidence=Confidence.LOW,
        ),
        60,
    )
    save(Source(resolution=secret, url="https://example.org/secret", title="Secret source"), 61)
    save(secret, 62, summary="Still secret")

    response = client.get("/changes/")

    assert response.status_code == 200
    assert headlines(response) == [
        "Corrected: adoption date of Mobile County, AL resolution",
        "Added: Mobile County, AL resolution",
        "Status: HB 9001 passed the House",
        "Added: Alabama bill HB 9001",
    ]
    page = response.content.decode()
    assert "April 1, 2023 → May 2, 2023" in page  # what the correction changed
    assert "Telecommunicator Recognition Act" in page  # the title it was published with
    for never in ("Working title nobody saw", "Prefiled in a draft only", "Secret", "example.org/secret"):
        assert never not in page
    assert f'href="/resolutions/{bill.pk}/#action-' in page  # the new action, on the record's page


def test_a_withdrawal_is_said_and_staff_only_details_never_appear(client):
    reviewer = get_user_model().objects.create_user("reviewer-jane")
    county = published_county_resolution(0)
    county._history_user = reviewer
    county._change_reason = "Internal: checked with the clerk by phone"
    save(county, 10, last_verified_on=datetime.date(2025, 1, 2))  # re-verified only: not a change
    save(county, 20, published=False)  # unpublished

    response = client.get("/changes/")

    assert headlines(response) == [
        "Withdrawn from publication: Mobile County, AL resolution",
        "Added: Mobile County, AL resolution",
    ]
    page = response.content.decode()
    assert "reviewer-jane" not in page and "Internal" not in page
    assert f'href="/resolutions/{county.pk}/"' not in page  # a withdrawn record is not linked


def test_a_record_withdrawn_and_edited_in_one_save_is_named_as_it_stood_in_public(client):
    county = published_county_resolution(0)
    public_title = county.title
    save(county, 20, published=False, title="DRAFT do not cite: rewording", jurisdiction=get_state("TX"))

    response = client.get("/changes/")
    page = response.content.decode()
    assert headlines(response)[0] == "Withdrawn from publication: Mobile County, AL resolution"
    assert html.escape(public_title) in page and "DRAFT" not in page


def test_a_page_number_too_long_to_be_one_is_a_400(client):
    for number in ("9" * 5000, "1234567", "101"):
        assert client.get(f"/changes/?page={number}").status_code == 400
        assert client.get(f"/changes/feed/?page={number}").status_code in (400, 200)


def test_actions_and_sources_saved_with_the_publication_are_part_of_it(client):
    bill = draft_bill(0)
    save(bill, 5, confidence=Confidence.HIGH, published=True)
    # Saved with the publication (the admin saves the inline rows just after the record).
    action(bill, 5.01, ActionClassification.INTRODUCTION, Chamber.LOWER, "Introduced")
    # Later, a new source and a corrected action.
    save(Source(resolution=bill, url="https://example.org/journal-2", title="House journal"), 30)
    passage = action(bill, 40, ActionClassification.PASSAGE, Chamber.LOWER, "Passed the House")
    save(passage, 50, on=datetime.date(2024, 3, 6))

    assert headlines(client.get("/changes/")) == [
        "Corrected: date of an action of Alabama bill HB 9001",
        "Status: HB 9001 passed the House",
        "Source added: Alabama bill HB 9001",
        "Added: Alabama bill HB 9001",
    ]


def test_changes_by_state(client):
    published_county_resolution(0)
    texas = save(
        Resolution(
            jurisdiction=get_state("TX"),
            kind=Kind.STATUTE,
            status=Status.ADOPTED,
            identifier="HB 1090",
            title="Texas law",
            confidence=Confidence.HIGH,
            published=True,
        ),
        10,
    )
    save(Source(resolution=texas, url="https://example.org/tx"), 10)

    assert headlines(client.get("/changes/", {"state": "al"})) == ["Added: Mobile County, AL resolution"]
    assert headlines(client.get("/changes/", {"state": "TX"})) == ["Added: Texas statute HB 1090"]
    assert len(headlines(client.get("/changes/"))) == 2
    assert "<h1>What changed: Texas</h1>" in client.get("/changes/?state=TX").content.decode()


@pytest.mark.parametrize(
    "query",
    ["state=ZZ", "state=%00", "state=Alabama", "page=0", "page=abc", "page=-1", "page=101", "page=99999999"],
)
def test_a_bad_parameter_is_a_400_that_says_why(client, query):
    response = client.get(f"/changes/?{query}")
    assert response.status_code == 400
    assert "cannot be shown" in response.content.decode()
    assert client.get(f"/changes/feed/?{query.replace('page=', 'state=')}").status_code == 400


def test_changes_are_paged_newest_first_with_a_fixed_number_of_queries(client, django_assert_num_queries):
    resolutions = [published_county_resolution(minute, title=f"Record {minute}") for minute in range(52)]
    action(resolutions[0], 100, ActionClassification.PASSAGE, Chamber.LOWER, "Passed")
    save(Source.objects.get(resolution=resolutions[1]), 101, title="Minutes, corrected")

    # The data version, the three histories' newest rows, the rows they name (measures, actions,
    # sources), the jurisdictions, and which records are published now; no session on this page.
    with django_assert_num_queries(9):
        first = client.get("/changes/")
    entries = headlines(first)
    assert len(entries) == 50
    assert entries[:2] == [
        "Corrected: title of a source of Mobile County, AL resolution",
        "Status: Record 0 passed the House",
    ]
    assert 'rel="next"' in first.content.decode() and 'rel="prev"' not in first.content.decode()
    second = client.get("/changes/", {"page": 2})
    assert len(headlines(second)) == 4  # 54 changes in all
    assert "Record 0" in second.content.decode()  # the oldest, last
    assert client.get("/changes/", {"page": 3}).status_code == 404


def test_the_feed_lists_the_same_changes(client):
    bill = draft_bill(0)
    save(bill, 10, confidence=Confidence.HIGH, published=True)
    action(bill, 30, ActionClassification.PASSAGE, Chamber.LOWER, "Passed the House")

    response = client.get("/changes/feed/")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    titles = [entry.find("atom:title", ATOM).text for entry in root.findall("atom:entry", ATOM)]
    assert titles == headlines(client.get("/changes/"))
    ids = [entry.find("atom:id", ATOM).text for entry in root.findall("atom:entry", ATOM)]
    assert len(set(ids)) == 2 and all(i.startswith("http://testserver/changes/#change-") for i in ids)
    assert ET.fromstring(client.get("/changes/feed/?state=TX").content).findall("atom:entry", ATOM) == []


def test_the_change_log_is_a_cached_public_page_linked_from_every_page_and_the_data_page(client):
    response = client.get("/changes/?state=AL&utm_source=x")
    assert "public" in response["Cache-Control"] and response.has_header("ETag")
    assert 'href="/changes/"' in client.get("/about/").content.decode()  # the footer
    assert 'href="/changes/"' in client.get("/data/").content.decode()
