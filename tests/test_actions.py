"""Actions and sessions in the database: the stored stage follows every write, and contradictions are refused."""

import csv
import datetime
import io

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from recognition import versioning
from recognition.models import Action, Jurisdiction, Kind, LegislativeSession, Resolution, Stage, Status
from tests.conftest import ResolutionFactory, get_county, get_state

pytestmark = pytest.mark.django_db

SOURCE = "https://www.congress.gov/bill/119th-congress/senate-bill/725"


def federal_bill(**kwargs):
    values = {
        "jurisdiction": Jurisdiction.objects.nation(),
        "kind": Kind.BILL,
        "status": Status.INTRODUCED,
        "identifier": "S. 725",
        "adopted_on": None,
        "adopted_on_precision": "",
    }
    return ResolutionFactory(**(values | kwargs))


def act(resolution, on, classification, chamber="", precision="day", description=None):
    return Action.objects.create(
        resolution=resolution,
        on=datetime.date.fromisoformat(on),
        on_precision=precision,
        classification=classification,
        chamber=chamber,
        description=description or f"{classification} {chamber}",
        source_url=SOURCE,
    )


def stored(resolution):
    return Resolution.objects.values_list(
        "stage", "latest_action", "latest_action_on", "latest_action_on_precision"
    ).get(pk=resolution.pk)


def test_the_stored_stage_follows_each_action_saved_changed_and_deleted():
    bill = federal_bill()
    assert stored(bill)[0] == Stage.INTRODUCED
    act(bill, "2025-02-25", "introduction", "upper")
    reported = act(bill, "2025-09-02", "committee-passage", "upper")
    assert stored(bill)[0] == Stage.PASSED_COMMITTEE
    passed = act(bill, "2025-09-01", "passage", "upper", precision="month", description="Passed the Senate")
    assert stored(bill) == (Stage.PASSED_UPPER, "Passed the Senate", datetime.date(2025, 9, 1), "month")
    passed.delete()
    assert stored(bill)[:2] == (Stage.PASSED_COMMITTEE, reported.description)
    reported.classification = "referral-committee"
    reported.save()
    assert stored(bill)[0] == Stage.IN_COMMITTEE


def test_a_status_change_moves_the_stage_with_it():
    bill = federal_bill()
    act(bill, "2025-02-25", "introduction", "upper")
    bill.status = Status.FAILED
    bill.save()
    assert stored(bill)[0] == Stage.FAILED
    bill.status = Status.INTRODUCED
    bill.save(update_fields=["status"])
    assert stored(bill)[0] == Stage.INTRODUCED


def test_the_database_refuses_a_status_that_contradicts_the_actions():
    law = ResolutionFactory(jurisdiction=get_state("AL"), kind=Kind.STATUTE)
    act(law, "2022-04-18", "executive-signature", "executive")
    law.status = Status.INTRODUCED
    law.adopted_on, law.adopted_on_precision = None, ""
    with pytest.raises(ValidationError, match="signature"):
        law.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        law.save()
    pending = federal_bill()
    with pytest.raises(IntegrityError), transaction.atomic():
        act(pending, "2025-03-01", "became-law")


def test_an_action_change_gives_the_data_a_new_version():
    bill = federal_bill()
    before = versioning.current_version()
    action = act(bill, "2025-02-25", "introduction", "upper")
    after_add = versioning.current_version()
    assert after_add != before
    action.delete()
    assert versioning.current_version() != after_add


def test_an_action_has_history_and_a_public_address():
    bill = federal_bill()
    action = act(bill, "2025-02-25", "introduction", "upper")
    action.description = "Introduced in the Senate"
    action.save()
    assert [h.description for h in action.history.order_by("history_date")] == [
        "introduction upper",
        "Introduced in the Senate",
    ]
    assert action.get_absolute_url() == f"/resolutions/{bill.pk}/#action-{action.pk}"


def test_headlines_name_the_chamber():
    bill = federal_bill()
    assert (
        act(bill, "2025-09-01", "passage", "upper", precision="month").headline == "S. 725 passed the Senate"
    )
    law = ResolutionFactory(jurisdiction=get_state("CA"), kind=Kind.STATUTE, identifier="AB 1")
    assert act(law, "2024-01-02", "passage", "lower").headline == "AB 1 passed the Assembly"
    assert (
        act(law, "2024-03-02", "executive-signature", "executive").headline == "AB 1 signed by the Governor"
    )


@pytest.fixture
def congress_119():
    return LegislativeSession.objects.create(
        jurisdiction=Jurisdiction.objects.nation(),
        name="119th Congress",
        start_on=datetime.date(2025, 1, 3),
        end_on=datetime.date(2027, 1, 3),
    )


def test_a_pending_measure_of_an_ended_session_is_labelled_not_flipped(congress_119, monkeypatch):
    bill = federal_bill(session=congress_119)
    assert not bill.session_ended
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2027, 1, 4))
    bill = Resolution.objects.with_jurisdiction().get(pk=bill.pk)
    assert bill.session_ended
    assert bill.stage_label == "Session ended; outcome not yet recorded"
    assert bill.status == Status.INTRODUCED  # never changed by the clock
    assert list(Resolution.objects.session_ended()) == [bill]
    assert not Resolution.objects.session_ended(today=datetime.date(2027, 1, 3)).exists()


def test_a_session_belongs_to_the_measures_own_legislature(congress_119):
    county_measure = ResolutionFactory(jurisdiction=get_county("01097"), session=congress_119)
    with pytest.raises(ValidationError, match="Only federal and state"):
        county_measure.full_clean()
    texas_bill = ResolutionFactory(jurisdiction=get_state("TX"), kind=Kind.BILL, session=congress_119)
    with pytest.raises(ValidationError, match="not a session of Texas"):
        texas_bill.full_clean()
    federal_bill(session=congress_119).full_clean()


def test_a_session_ends_after_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        LegislativeSession.objects.create(
            jurisdiction=get_state("PA"),
            name="Backwards",
            start_on=datetime.date(2026, 1, 1),
            end_on=datetime.date(2025, 1, 1),
        )


def test_the_about_page_states_every_stage_rule(client):
    html = client.get("/about/").content.decode()
    for stage in Stage:
        assert stage.label in html
    assert "Session ended; outcome not yet recorded" in html


def test_in_force_by_effective_date_is_the_same_on_the_list_csv_and_api(client, monkeypatch):
    """The stored stage stays "adopted"; the effective date's coming makes it in force, everywhere at once."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 11, 29))  # November not over

    def statute(usps, title, effective_on=None, precision=""):
        return ResolutionFactory(
            jurisdiction=get_state(usps),
            kind=Kind.STATUTE,
            title=title,
            effective_on=effective_on,
            effective_on_precision=precision,
        )

    came = statute("TX", "Came", datetime.date(2019, 9, 1), "day")
    month_not_over = statute("MO", "Month not over", datetime.date(2026, 11, 1), "month")
    no_date = statute("WA", "No date")
    assert {r.stage for r in (came, month_not_over, no_date)} == {Stage.ADOPTED}

    def listed(stage):
        in_list = {r.title for r in client.get("/resolutions/", {"stage": stage}).context["page_obj"]}
        api = client.get("/api/resolutions/", {"stage": stage, "format": "json"}).json()["results"]
        assert {row["title"] for row in api} == in_list
        assert {row["stage"] for row in api} <= {stage}
        rows = list(
            csv.DictReader(
                io.StringIO(client.get("/resolutions.csv", {"stage": stage}).getvalue().decode("utf-8-sig"))
            )
        )
        assert {row["title"] for row in rows} == in_list
        assert {row["stage"] for row in rows} <= {stage}
        return in_list

    assert listed("in_force") == {"Came"}
    assert listed("adopted") == {"Month not over", "No date"}
    assert Resolution.objects.get(pk=came.pk).stage_label == "In force"


def test_the_actions_download_imports_back_as_it_is(client):
    """/actions.csv is in the importer's own format: imported back, it changes nothing."""
    from recognition.action_importer import import_actions

    bill = federal_bill()
    act(bill, "2025-02-25", "introduction", "upper", description="Introduced in the Senate")
    act(bill, "2025-09-01", "passage", "upper", precision="month", description="Passed the Senate")
    law = ResolutionFactory(jurisdiction=get_state("AL"), kind=Kind.STATUTE, identifier="HB 414")
    act(law, "2022-04-18", "executive-signature", "executive", description="Signed by Governor Ivey")
    download = client.get("/actions.csv").getvalue()
    rows = list(csv.DictReader(io.StringIO(download.decode("utf-8-sig"))))
    assert sorted((row["identifier"], row["date"]) for row in rows) == [
        ("HB 414", "2022-04-18"),
        ("S. 725", "2025-02-25"),
        ("S. 725", "2025-09"),
    ]
    before = versioning.current_version()
    report = import_actions(download)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert versioning.current_version() == before


def test_a_bill_whose_session_ended_is_no_longer_a_pending_state_bill(client, monkeypatch):
    wyoming = get_state("WY")
    ended = LegislativeSession.objects.create(
        jurisdiction=wyoming,
        name="2026 Budget Session",
        start_on=datetime.date(2026, 2, 9),
        end_on=datetime.date(2026, 3, 6),
    )
    ResolutionFactory(
        jurisdiction=wyoming,
        kind=Kind.BILL,
        status=Status.INTRODUCED,
        identifier="HB 1",
        title="Wyoming bill",
        adopted_on=None,
        adopted_on_precision="",
        session=ended,
    )
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 3, 6))  # its last day
    assert "Pending state bill" in client.get("/states/wy/").content.decode()
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 3, 7))
    cache.clear()
    state_page = client.get("/states/wy/").content.decode()
    assert "Pending state bill" not in state_page.split("<main", 1)[1].split("legend", 1)[0]
    listed = client.get("/resolutions/", {"state": "WY"}).content.decode()
    table = listed[listed.index("<table") :]
    assert "Session ended" in table and "Introduced (pending)" not in table
    feed = client.get("/feeds/resolutions/", {"state": "WY"}).content.decode()
    assert "Introduced (pending)" not in feed


def test_every_list_of_actions_reads_in_the_same_order_as_the_rules(client):
    """S. 725: reported on September 2, passed "September 2025": the CSV and API list the report first."""
    bill = federal_bill()
    act(bill, "2025-09-01", "passage", "upper", precision="month", description="Passed the Senate")
    act(bill, "2025-09-02", "committee-passage", "upper", description="Reported by committee")
    act(bill, "2025-02-25", "referral-committee", "upper", description="Referred")
    act(bill, "2025-02-25", "introduction", "upper", description="Introduced")
    expected = ["Introduced", "Referred", "Reported by committee", "Passed the Senate"]
    rows = csv.DictReader(io.StringIO(client.get("/actions.csv").getvalue().decode("utf-8-sig")))
    assert [row["description"] for row in rows] == expected
    api = client.get("/api/actions/", {"format": "json"}).json()["results"]
    assert [row["description"] for row in api] == expected
    page = client.get(bill.get_absolute_url()).content.decode()
    page = page[page.index(">Actions</h2>") :]
    assert [page.index(text) for text in expected] == sorted(page.index(text) for text in expected)
