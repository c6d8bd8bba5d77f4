"""The starter dataset loads once (`manage.py load_starter_dataset`, which `make setup`, `make run` and
`make serve` run every time), with its actions and each federal measure in its Congress, and a newer dataset
reaches an existing database through `import_resolutions` without touching anything staff did.

Expected counts, lines and values come from the shipped CSVs themselves, and the Congresses' terms from the
20th Amendment.
"""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from recognition.congresses import link_federal_measures
from recognition.importer import Action, import_resolutions
from recognition.models import Action as LegislativeAction
from recognition.models import Jurisdiction, LegislativeSession, Level, Resolution, Source
from tests.conftest import ResolutionFactory
from tests.test_action_importer import starter_action_rows, write_actions
from tests.test_importer import (
    HEADER,
    STARTER,
    is_publishable,
    record_of,
    staff_edit,
    starter_lines,
    starter_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db

RECOGNITION_MODELS = (Jurisdiction, Resolution, Source, LegislativeAction, LegislativeSession)
NOT_LOADED = "records already present; starter dataset not loaded"


def snapshot():
    """Every row (all columns) of the recognition tables, their counts, and how much history they have."""
    return {
        model.__name__: {
            "rows": list(model.objects.order_by("pk").values()),
            "count": model.objects.count(),
            "history": model.history.count(),
        }
        for model in RECOGNITION_MODELS
    }


def load_setup_data():
    """What `make setup` runs for the starter dataset, with its output."""
    out = io.StringIO()
    call_command("load_starter_dataset", stdout=out)
    return out.getvalue()


def test_an_empty_database_gets_the_starter_dataset():
    output = load_setup_data()
    rows = starter_rows()
    assert f"{len(rows)} created" in output
    assert Resolution.objects.count() == len(rows)
    assert Resolution.objects.published().count() == sum(1 for row in rows if is_publishable(row))
    assert f"{len(starter_action_rows())} actions created" in output
    assert LegislativeAction.objects.count() == len(starter_action_rows())


def test_one_draft_is_enough_to_keep_the_starter_dataset_out():
    ResolutionFactory(published=False, confidence="medium")
    assert load_setup_data() == f"1 {NOT_LOADED}\n"
    assert Resolution.objects.count() == 1
    assert LegislativeAction.objects.count() == 0


def test_another_file_can_be_named(tmp_path):
    row = dict.fromkeys(HEADER, "") | starter_rows()[0]
    out = io.StringIO()
    call_command("load_starter_dataset", str(write_csv(tmp_path, [row])), stdout=out)
    assert "1 created" in out.getvalue()
    assert Resolution.objects.count() == 1


def test_running_the_setup_twice_leaves_staff_work_alone():
    load_setup_data()
    lines = starter_lines()
    unpublished_row = next(row for _line, row in lines if is_publishable(row))
    edited_line, edited_row = next(
        (line, row)
        for line, row in lines
        if row is not unpublished_row
        and is_publishable(row)
        and row["identifier"]
        and len(row["adopted_on"]) == 10
    )
    unpublished = staff_edit(record_of(unpublished_row), published=False)
    edited = record_of(edited_row)
    staff_edit(
        edited,
        title="A title corrected by staff",
        adopted_on=datetime.date.fromisoformat(edited_row["adopted_on"]) + datetime.timedelta(days=1),
    )
    before = snapshot()

    # The setup again: nothing is loaded, nothing changes.
    assert load_setup_data() == f"{len(lines)} {NOT_LOADED}\n"
    assert snapshot() == before

    # An explicit import of the same file: the edited record is skipped, the unpublished one stays a draft.
    out = io.StringIO()
    call_command("import_resolutions", str(STARTER), stdout=out)
    assert f"line {edited_line}: skipped, edited in the admin since import; use --overwrite" in out.getvalue()
    assert "1 skipped (edited in the admin since import; use --overwrite)" in out.getvalue()
    assert snapshot() == before

    # --overwrite puts the file's values back, and leaves publication as it was.
    call_command("import_resolutions", str(STARTER), "--overwrite", stdout=io.StringIO())
    edited.refresh_from_db()
    unpublished.refresh_from_db()
    assert (edited.title, edited.adopted_on.isoformat(), edited.adopted_on_precision) == (
        edited_row["title"],
        edited_row["adopted_on"],
        "day",
    )
    assert edited.published and not unpublished.published
    assert load_setup_data() == f"{len(lines)} {NOT_LOADED}\n"


# --- Upgrading a database loaded with the previous dataset ---------------------------------------------

NEW_LAWS = [("IN", "HEA 1198"), ("ND", "SB 2296"), ("ND", "HB 1419")]
OLD_KANSAS_SUMMARY = (
    "Signed law amended the Kansas definition of emergency responder to include 911 call center "
    "telecommunicators alongside police, fire and EMS."
)


def is_new_law(row):
    return any(row["state"] == usps and row["identifier"].startswith(number) for usps, number in NEW_LAWS)


def previous_dataset(tmp_path):
    """The dataset before this revision, rebuilt from the shipped one: its rows, and which rows changed."""
    rows = [row for row in starter_rows() if not is_new_law(row)]
    kansas = next(row for row in rows if (row["state"], row["identifier"]) == ("KS", "SB 40"))
    maryland = next(row for row in rows if row["state"] == "MD" and row["identifier"].startswith("SB 633"))
    kansas.update(adopted_on="2021-03", summary=OLD_KANSAS_SUMMARY)
    maryland.update(adopted_on="2022-05")
    return write_csv(tmp_path, rows, name="previous.csv"), (kansas, maryland)


def test_the_new_dataset_adds_three_laws_and_two_dates_and_touches_nothing_else(tmp_path):
    path, (kansas, maryland) = previous_dataset(tmp_path)
    assert sum(1 for row in starter_rows() if is_new_law(row)) == 3
    assert import_resolutions(path).ok
    before = snapshot()
    updated_ids = {record_of(kansas).pk, record_of(maryland).pk}

    report = import_resolutions(STARTER)

    assert report.ok, report.errors
    assert (report.created, report.updated, report.skipped) == (3, 2, 0)
    assert report.unchanged == len(starter_rows()) - 5
    assert {row.resolution_id for row in report.rows if row.action == Action.UPDATED} == updated_ids
    after = snapshot()
    assert after["Jurisdiction"] == before["Jurisdiction"]
    # Every source and every other record is exactly as it was; the three new laws each bring one source.
    assert after["Source"]["rows"][: before["Source"]["count"]] == before["Source"]["rows"]
    assert after["Source"]["count"] == before["Source"]["count"] + 3
    changed_columns = {}
    for old, new in zip(before["Resolution"]["rows"], after["Resolution"]["rows"], strict=False):
        assert old["id"] == new["id"]
        differing = {name for name in old if old[name] != new[name]} - {"updated_at"}
        if differing:
            changed_columns[old["id"]] = differing
    assert changed_columns == {
        record_of(kansas).pk: {"adopted_on", "adopted_on_precision", "summary"},
        record_of(maryland).pk: {"adopted_on", "adopted_on_precision"},
    }
    for row in starter_rows():
        if is_new_law(row):
            assert record_of(row).published == is_publishable(row)
        if row["identifier"] in ("SB 40", maryland["identifier"]):
            assert record_of(row).adopted_on.isoformat() == row["adopted_on"]


def test_the_previous_dataset_as_rebuilt_differs_only_where_expected(tmp_path):
    """The rebuilt previous file is what the test above assumes: 61 rows, two of them with other values."""
    path, _changed = previous_dataset(tmp_path)
    with path.open(encoding="utf-8", newline="") as file:
        previous = list(csv.DictReader(file))
    shipped = [row for row in starter_rows() if not is_new_law(row)]
    assert len(previous) == len(starter_rows()) - 3
    differing = [
        (new["state"], new["identifier"]) for old, new in zip(previous, shipped, strict=True) if old != new
    ]
    assert differing == [("KS", "SB 40"), ("MD", "SB 633 (2022 Laws Ch. 349)")]


# --- Stages and sessions ------------------------------------------------------------------------------

# The terms the 20th Amendment sets: January 3 of an odd year, for two years.
CONGRESSES = {
    "116th Congress": ("2019-01-03", "2021-01-03"),
    "117th Congress": ("2021-01-03", "2023-01-03"),
    "118th Congress": ("2023-01-03", "2025-01-03"),
    "119th Congress": ("2025-01-03", "2027-01-03"),
}


def federal(identifier):
    return Resolution.objects.select_related("session").get(
        jurisdiction__level=Level.NATION, identifier=identifier
    )


def congresses():
    return {
        session.name: (session.start_on.isoformat(), session.end_on.isoformat())
        for session in LegislativeSession.objects.filter(jurisdiction__level=Level.NATION)
    }


def test_the_starter_load_gives_each_measure_its_stage():
    load_setup_data()

    senate_bill = federal("S. 725")
    assert senate_bill.stage == "passed_upper"
    assert senate_bill.session.name == "119th Congress"
    assert (senate_bill.latest_action_on.isoformat()[:7], senate_bill.latest_action_on_precision) == (
        "2025-09",
        "month",
    )
    assert federal("H.R. 540").stage == "in_committee"
    alabama = Resolution.objects.get(jurisdiction__usps="AL", identifier="HB 414 (Act 2022-387)")
    assert alabama.stage == "in_force"


def test_the_congresses_are_reference_data_loaded_once():
    out = io.StringIO()
    call_command("load_congresses", stdout=out)
    call_command("load_congresses", stdout=out)
    assert congresses() == CONGRESSES
    assert out.getvalue().splitlines()[-1] == "Congresses (116th Congress to 119th Congress): 0 created"


def test_every_federal_measure_is_in_the_congress_its_body_names():
    load_setup_data()
    assert congresses() == CONGRESSES
    federal_rows = [row for row in starter_rows() if row["level"] == "federal"]
    expected = sorted((row["title"], row["body"].rsplit("(", 1)[1].rstrip(")")) for row in federal_rows)
    linked = Resolution.objects.filter(jurisdiction__level=Level.NATION).values_list("title", "session__name")
    assert sorted(linked) == expected
    assert (
        not Resolution.objects.exclude(jurisdiction__level=Level.NATION)
        .filter(session__isnull=False)
        .exists()
    )


def federal_bill(body, introduced=""):
    """A pending federal bill, introduced on a partial date ("2021-05") or on a date not known."""
    bill = ResolutionFactory.build(
        jurisdiction=Jurisdiction.objects.get(level=Level.NATION),
        kind="bill",
        status="introduced",
        body=body,
        adopted_on=None,
        adopted_on_precision="",
    )
    bill.introduced = introduced
    bill.save()
    return bill


def test_a_federal_measure_whose_body_names_no_congress_goes_by_its_introduction():
    call_command("load_congresses", stdout=io.StringIO())
    expected = {"2021-05": "117th Congress", "2021-01-03": "117th Congress", "2021-01-02": "116th Congress"}
    bills = {introduced: federal_bill("U.S. Senate", introduced) for introduced in expected}
    vague = federal_bill("U.S. Senate", "2021")  # January 1 or 2 would be the 116th's: not guessed
    unshipped = federal_bill("U.S. House of Representatives (115th Congress)", "2017-02")

    assert link_federal_measures(Resolution.objects.all()) == len(expected)

    sessions = dict(Resolution.objects.filter(session__isnull=False).values_list("pk", "session__name"))
    assert {introduced: sessions.get(bill.pk) for introduced, bill in bills.items()} == expected
    assert vague.pk not in sessions and unshipped.pk not in sessions


def test_a_bad_actions_file_leaves_the_database_empty_for_the_next_setup(tmp_path):
    rows = starter_action_rows()
    rows[-1]["date"] = "2024-02-30"
    with pytest.raises(CommandError, match="February 2024 has 29 days"):
        call_command(
            "load_starter_dataset", "--actions", str(write_actions(tmp_path, rows)), stdout=io.StringIO()
        )
    assert Resolution.objects.count() == LegislativeAction.objects.count() == 0

    load_setup_data()
    assert LegislativeAction.objects.count() == len(rows)


def test_a_database_loaded_before_sessions_links_its_federal_measures_on_request():
    assert import_resolutions(STARTER).ok  # as an older setup left it: measures, no Congress
    assert not Resolution.objects.filter(session__isnull=False).exists()
    call_command("load_congresses", stdout=io.StringIO())
    assert not Resolution.objects.filter(session__isnull=False).exists()  # not without being asked

    out = io.StringIO()
    call_command("load_congresses", "--link", stdout=out)

    federal_rows = [row for row in starter_rows() if row["level"] == "federal"]
    assert f"{len(federal_rows)} federal measures linked to their Congress" in out.getvalue()
    assert federal("S. 725").session.name == "119th Congress"
