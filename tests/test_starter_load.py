"""The starter dataset loads once (`manage.py load_starter_dataset`, which `make setup`, `make run` and
`make serve` run every time), and a newer dataset reaches an existing database through `import_resolutions`
without touching anything staff did.

Expected counts, lines and values come from the shipped CSV itself.
"""

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from recognition.importer import Action, import_resolutions
from recognition.models import Jurisdiction, Resolution, Source
from tests.conftest import ResolutionFactory
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

RECOGNITION_MODELS = (Jurisdiction, Resolution, Source)
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


def test_one_draft_is_enough_to_keep_the_starter_dataset_out():
    ResolutionFactory(published=False, confidence="medium")
    assert load_setup_data() == f"1 {NOT_LOADED}\n"
    assert Resolution.objects.count() == 1


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
