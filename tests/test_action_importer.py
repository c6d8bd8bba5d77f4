"""Bulk import of measures' actions (recognition.action_importer and `manage.py import_actions`).

What the database must hold after an import is read from the CSV itself (the shipped starter actions,
or rows written here), never from the importer's report, so a wrong rule cannot make its own test pass.
"""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from recognition.action_importer import import_actions, is_actions_file
from recognition.importer import Action as Outcome
from recognition.importer import import_resolutions
from recognition.models import Action, Level, Resolution
from recognition.versioning import current_version
from tests.conftest import ResolutionFactory, get_state
from tests.test_importer import STARTER, row_at, starter_lines, write_csv

pytestmark = pytest.mark.django_db

STARTER_ACTIONS = Path(settings.BASE_DIR) / "recognition" / "data" / "starter_actions.csv"

with STARTER_ACTIONS.open(encoding="utf-8-sig", newline="") as _file:
    HEADER = next(csv.reader(_file))

FILE_LEVELS = {Level.NATION: "federal", Level.STATE: "state", Level.COUNTY: "county"}

# A valid row: S. 725 reported by the Senate committee (a starter measure); tests override what they need.
GOOD = {
    "level": "federal",
    "state": "",
    "jurisdiction": "United States",
    "identifier": "S. 725",
    "date": "2025-09-02",
    "chamber": "upper",
    "classification": "committee-passage",
    "description": "Reported by the Committee on Commerce, Science, and Transportation",
    "source_url": "https://www.congress.gov/119/bills/s725/BILLS-119s725rs.htm",
}


def action_row(**values):
    return GOOD | values


def starter_action_rows():
    with STARTER_ACTIONS.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def write_actions(tmp_path, rows, name="actions.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=HEADER, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def errors_as_tuples(report):
    return [(error.line, error.column) for error in report.errors]


def measure(identifier, usps=None):
    """A starter measure, found by its number (and state), not through the importer."""
    found = Resolution.objects.filter(identifier=identifier)
    if usps is None:
        return found.get(jurisdiction__level=Level.NATION)
    return found.get(jurisdiction__level=Level.STATE, jurisdiction__usps=usps)


def saved_actions():
    """Every action as a CSV row says it: its measure (level, state, jurisdiction, number), then itself."""
    rows = []
    for action in Action.objects.select_related("resolution__jurisdiction"):
        jurisdiction = action.resolution.jurisdiction
        rows.append(
            (
                FILE_LEVELS[jurisdiction.level],
                jurisdiction.state.usps if jurisdiction.state else "",
                jurisdiction.name,
                action.resolution.identifier,
                action.date.isoformat(),
                action.chamber,
                action.classification,
                action.description,
                action.source_url,
            )
        )
    return sorted(rows)


def as_tuples(rows):
    return sorted(tuple(row[column] for column in HEADER) for row in rows)


def data_version():
    """The token, read as a page reads it (so that a later change in the same transaction bumps it again)."""
    return current_version()[0]


def history_counts():
    return (Action.history.count(), Resolution.history.count())


def stages():
    return dict(Resolution.objects.values_list("pk", "stage"))


@pytest.fixture
def measures(starter_dataset):
    """The starter measures, without actions."""


@pytest.fixture
def with_starter_actions(measures):
    report = import_actions(STARTER_ACTIONS)
    assert report.ok, report.errors


# --- A good file ----------------------------------------------------------------------------------


def test_the_starter_actions_are_saved_as_the_csv_says(measures):
    rows = starter_action_rows()

    report = import_actions(STARTER_ACTIONS)

    assert report.ok, report.errors
    assert saved_actions() == as_tuples(rows)
    assert report.created == len(rows) and report.updated == report.unchanged == 0
    named = {(row["level"], row["state"], row["jurisdiction"], row["identifier"]) for row in rows}
    assert (
        report.measures == len(named) == Resolution.objects.filter(actions__isnull=False).distinct().count()
    )


def test_each_action_keeps_the_precision_of_its_date(with_starter_actions):
    for row in starter_action_rows():
        action = Action.objects.get(
            resolution__identifier=row["identifier"],
            classification=row["classification"],
            chamber=row["chamber"],
            on__year=int(row["date"][:4]),
        )
        expected = {4: "year", 7: "month", 10: "day"}[len(row["date"])]
        assert (action.date.isoformat(), action.on_precision) == (row["date"], expected)


def test_the_stage_of_every_measure_touched_is_stored(measures):
    import_actions(STARTER_ACTIONS)

    senate_bill, house_bill, alabama = (
        measure("S. 725"),
        measure("H.R. 540"),
        measure("HB 414 (Act 2022-387)", "AL"),
    )
    assert (senate_bill.stage, senate_bill.latest_action_date.isoformat()) == ("passed_upper", "2025-09")
    assert senate_bill.latest_action.startswith("Passed the Senate")
    assert house_bill.stage == "in_committee"
    assert alabama.stage == "in_force"


def test_every_action_has_history_with_its_line(measures):
    import_actions(STARTER_ACTIONS)

    reasons = sorted(Action.history.values_list("history_change_reason", flat=True))
    assert reasons == sorted(f"CSV import, line {line}" for line in range(2, len(starter_action_rows()) + 2))


def test_a_file_with_actions_changes_the_data_version(measures):
    before = data_version()
    import_actions(STARTER_ACTIONS)
    assert data_version() != before


def test_lookups_take_a_fixed_number_of_queries(measures, tmp_path, django_assert_num_queries):
    """States, the measures named, their saved actions: three queries, whatever the file's length."""
    rows = starter_action_rows()
    for size in (2, len(rows)):
        path = write_actions(tmp_path, rows[:size], name=f"{size}.csv")
        with django_assert_num_queries(3):
            assert import_actions(path, dry_run=True).created == size


# --- Dry run and re-import ------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_but_says_what_it_would_do(measures):
    before = (history_counts(), data_version(), stages())

    dry = import_actions(STARTER_ACTIONS, dry_run=True)

    assert dry.ok and not dry.written
    assert Action.objects.count() == 0
    assert (history_counts(), data_version(), stages()) == before
    real = import_actions(STARTER_ACTIONS)
    assert dry.rows == real.rows and dry.stage_changes == real.stage_changes
    assert "would change" in dry.summary() and "would change" not in real.summary()


def test_the_dry_run_command_prints_the_would_be_counts(measures):
    out = io.StringIO()
    call_command("import_actions", str(STARTER_ACTIONS), "--dry-run", stdout=out)
    assert f"{len(starter_action_rows())} actions would be created" in out.getvalue()
    assert "S. 725 (United States): Introduced → Passed the upper chamber" in out.getvalue()
    assert Action.objects.count() == 0


def test_a_reimport_writes_nothing_at_all(with_starter_actions):
    before = (saved_actions(), list(Action.objects.values()), history_counts(), data_version(), stages())

    report = import_actions(STARTER_ACTIONS)

    assert report.unchanged == len(starter_action_rows()) and report.created == report.updated == 0
    assert report.stage_changes == []
    assert (
        saved_actions(),
        list(Action.objects.values()),
        history_counts(),
        data_version(),
        stages(),
    ) == before


def test_a_new_description_or_source_updates_the_action_in_place(with_starter_actions, tmp_path):
    rows = starter_action_rows()
    line = next(index + 2 for index, row in enumerate(rows) if row["identifier"] == "H.R. 540")
    rows[line - 2].update(description="Introduced by Rep. Torres", source_url="https://example.org/hr540")
    ids_before = sorted(Action.objects.values_list("pk", flat=True))
    history_before = Action.history.count()

    report = import_actions(write_actions(tmp_path, rows))

    assert (report.created, report.updated) == (0, 1)
    assert row_at(report, line).changed_fields == ("description", "source_url")
    assert saved_actions() == as_tuples(rows)
    assert sorted(Action.objects.values_list("pk", flat=True)) == ids_before
    assert Action.history.count() == history_before + 1
    assert Action.history.latest("history_id").history_change_reason == f"CSV import, line {line}"
    assert measure("H.R. 540").stage == "in_committee"


def test_a_more_precise_date_for_the_same_action_updates_it(with_starter_actions, tmp_path):
    rows = starter_action_rows()
    line, passage = next((index + 2, row) for index, row in enumerate(rows) if row["date"] == "2025-09")
    passage["date"] = "2025-09-01"  # the same first day: the same action, now known to the day

    report = import_actions(write_actions(tmp_path, rows))

    assert (row_at(report, line).action, row_at(report, line).changed_fields) == (Outcome.UPDATED, ("date",))
    assert Action.objects.count() == len(rows)
    action = Action.objects.get(resolution=measure("S. 725"), classification="passage")
    assert (action.date.isoformat(), action.on_precision) == ("2025-09-01", "day")


def test_an_action_added_later_moves_the_stage(with_starter_actions, tmp_path):
    row = action_row(
        date="2025-12-01", chamber="lower", classification="passage", description="Passed the House"
    )

    report = import_actions(write_actions(tmp_path, [row]))

    assert [str(change) for change in report.stage_changes] == [
        "S. 725 (United States): Passed the upper chamber → Passed both chambers"
    ]
    assert measure("S. 725").stage == "passed_both"


# --- Bad lines: all or nothing ----------------------------------------------------------------------

BAD_ROWS = {
    "unknown measure": ({"identifier": "S. 9999"}, "identifier", "no measure “S. 9999” of the United States"),
    "measure of another state": (
        {"level": "state", "state": "AK", "jurisdiction": "Alaska", "identifier": "HB 414 (Act 2022-387)"},
        "identifier",
        "no measure “HB 414 (Act 2022-387)” of Alaska",
    ),
    "blank identifier": ({"identifier": ""}, "identifier", "required"),
    "unknown state": ({"level": "state", "state": "ZZ"}, "state", "unknown state “ZZ”"),
    "state blank for a state row": ({"level": "state"}, "state", "required for a state row"),
    "state on a federal row": ({"state": "AL"}, "state", "a federal row has no state"),
    "unknown level": ({"level": "city"}, "level", "federal, nation, state, county, place, district"),
    "impossible date": ({"date": "2025-02-30"}, "date", "February 2025 has 28 days"),
    "impossible month": ({"date": "2025-13"}, "date", "There is no month 13"),
    "year out of range": ({"date": "1025"}, "date", "Check the year: 1025 is not between 1900"),
    "malformed date": ({"date": "Sept 2025"}, "date", "a year (2022), a year and month (2022-09)"),
    "blank date": ({"date": ""}, "date", "required"),
    "unknown classification": (
        {"classification": "signed"},
        "classification",
        "introduction, referral-committee",
    ),
    "unknown chamber": ({"chamber": "senate"}, "chamber", "lower, upper, executive"),
    "blank description": ({"description": ""}, "description", "required"),
    "description too long": ({"description": "x" * 301}, "description", "at most 300"),
    "blank source": ({"source_url": ""}, "source_url", "required"),
    "bad url": ({"source_url": "congress.gov/s725"}, "source_url", "not a web address"),
    "duplicate in the file": ({"date": GOOD["date"]}, "classification", "duplicate of line 2"),
}


@pytest.mark.parametrize(("overrides", "column", "fragment"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_one_bad_line_writes_nothing_and_names_line_and_column(
    measures, tmp_path, overrides, column, fragment
):
    before = (history_counts(), data_version(), stages())

    bad = action_row(date="2025-09-03") | overrides  # another day than line 2's, unless the case says
    report = import_actions(write_actions(tmp_path, [GOOD, bad]))

    assert errors_as_tuples(report) == [(3, column)], report.errors
    assert fragment in report.errors[0].message
    assert report.rows == []
    assert Action.objects.count() == 0
    assert (history_counts(), data_version(), stages()) == before


def test_the_same_first_day_at_another_precision_is_the_same_action(measures, tmp_path):
    """The database keeps one action a day: "2025-09" starts on September 1, as "2025-09-01" does."""
    report = import_actions(
        write_actions(tmp_path, [action_row(date="2025-09-01"), action_row(date="2025-09")])
    )
    assert errors_as_tuples(report) == [(3, "classification")]
    assert "duplicate of line 2" in report.errors[0].message


def test_every_error_is_listed_in_line_order(measures, tmp_path):
    rows = [
        action_row(chamber="senate", date="2025-02-30"),
        action_row(date="2025-09-03"),
        action_row(identifier="S. 9999"),
    ]
    report = import_actions(write_actions(tmp_path, rows))
    assert errors_as_tuples(report) == [(2, "date"), (2, "chamber"), (4, "identifier")]
    assert str(report.errors[2]).startswith("line 4, column identifier: no measure")


def test_a_number_two_measures_share_is_an_error(measures, tmp_path):
    alabama = get_state("AL")
    for kind in ("bill", "resolution"):
        ResolutionFactory(
            jurisdiction=alabama,
            kind=kind,
            status="introduced",
            adopted_on=None,
            adopted_on_precision="",
            identifier="HB 1",
        )
    row = action_row(level="state", state="AL", jurisdiction="Alabama", identifier="HB 1", chamber="lower")

    report = import_actions(write_actions(tmp_path, [row]))

    assert errors_as_tuples(report) == [(2, "identifier")]
    assert "2 measures of Alabama are numbered “HB 1”" in report.errors[0].message


def test_a_county_measure_is_found_by_its_name_in_its_state(measures, tmp_path):
    county = Resolution.objects.get(jurisdiction__fips="47189")  # Wilson County, TN (Resolution 24-6-5)
    row = action_row(
        level="county",
        state="TN",
        jurisdiction="WILSON COUNTY",
        identifier=county.identifier,
        date="2024-06-17",
        chamber="",
        classification="passage",
        description="Adopted unanimously by the County Commission",
    )

    report = import_actions(write_actions(tmp_path, [row]))

    assert report.ok, report.errors
    assert list(county.actions.values_list("classification", flat=True)) == ["passage"]


def test_a_missing_column_is_named(measures, tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text(",".join(column for column in HEADER if column != "chamber") + "\n", encoding="utf-8")
    report = import_actions(path)
    assert errors_as_tuples(report) == [(1, "chamber")]
    assert "missing column" in report.errors[0].message


# --- Status and actions must agree ----------------------------------------------------------------


def test_a_veto_after_a_law_took_effect_is_refused(with_starter_actions, tmp_path):
    veto = action_row(
        level="state",
        state="AL",
        jurisdiction="Alabama",
        identifier="HB 414 (Act 2022-387)",
        date="2022-08-01",
        chamber="executive",
        classification="executive-veto",
        description="Vetoed",
    )
    before = (saved_actions(), history_counts(), data_version(), stages())

    report = import_actions(write_actions(tmp_path, [action_row(date="2025-09-03"), veto]))

    assert errors_as_tuples(report) == [(3, "classification")]
    message = report.errors[0].message
    assert "“HB 414 (Act 2022-387)” (Alabama) has the status adopted" in message
    assert "says it was vetoed: an adopted measure cannot end that way" in message
    assert (saved_actions(), history_counts(), data_version(), stages()) == before


def test_a_signature_on_a_pending_bill_is_refused(measures, tmp_path):
    rows = [
        action_row(
            date="2025-10-01", chamber="lower", classification="passage", description="Passed the House"
        ),
        action_row(
            date="2025-10-15", chamber="executive", classification="executive-signature", description="Signed"
        ),
    ]
    report = import_actions(write_actions(tmp_path, rows))
    assert errors_as_tuples(report) == [(3, "classification")]
    assert "It has a signature (2025-10-15), which means it was adopted" in report.errors[0].message
    assert Action.objects.count() == 0


def test_the_saved_actions_count_with_the_files(measures, tmp_path):
    """A committee vote that failed before Alabama's law was signed: the saved signature settles it."""
    failed_vote = action_row(
        level="state",
        state="AL",
        jurisdiction="Alabama",
        identifier="HB 414 (Act 2022-387)",
        date="2022-03-01",
        chamber="lower",
        classification="failure",
        description="Failed a committee vote, later reconsidered",
    )
    path = write_actions(tmp_path, [failed_vote])
    refused = import_actions(path)  # no saved actions yet: a failure would be the law's last word
    assert errors_as_tuples(refused) == [(2, "classification")]
    assert "says it was failed: an adopted measure cannot end that way" in refused.errors[0].message

    import_actions(STARTER_ACTIONS)
    report = import_actions(path)

    assert report.ok, report.errors
    assert measure("HB 414 (Act 2022-387)", "AL").stage == "in_force"


@pytest.mark.parametrize(
    ("identifier", "status", "fragment"),
    [
        (
            "H.R. 6319",
            "introduced",
            "Its latest action (2025-01-03) says it was failed: set the status to failed",
        ),
        ("HB 414 (Act 2022-387)", "failed", "It has “became law” (2022-07-01), which means it was adopted"),
    ],
)
def test_the_measures_import_refuses_a_status_their_actions_contradict(
    tmp_path, identifier, status, fragment
):
    """Without this, the database would refuse the row (a 500 in the admin): now it is a line and a column."""
    assert import_resolutions(STARTER).ok and import_actions(STARTER_ACTIONS).ok
    lines = starter_lines()
    line, row = next((line, row) for line, row in lines if row["identifier"] == identifier)
    row["status"], row["adopted_on"], row["effective_on"] = status, "", ""
    before = (list(Resolution.objects.order_by("pk").values()), history_counts(), data_version())

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert [(error.line, error.column) for error in report.errors] == [(line, "status")]
    assert (
        f"the actions recorded for “{identifier}” contradict the status {status}." in report.errors[0].message
    )
    assert fragment in report.errors[0].message
    assert (list(Resolution.objects.order_by("pk").values()), history_counts(), data_version()) == before


def test_the_measures_import_accepts_a_status_their_actions_agree_with(tmp_path):
    assert import_resolutions(STARTER).ok and import_actions(STARTER_ACTIONS).ok
    lines = starter_lines()
    line, row = next((line, row) for line, row in lines if row["identifier"] == "S. 725")
    row["status"], row["adopted_on"] = (
        "failed",
        "",
    )  # pending → failed: the status settles what actions do not

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert report.ok, report.errors
    assert row_at(report, line).action == Outcome.UPDATED
    assert measure("S. 725").stage == "failed"


# --- Who may import what --------------------------------------------------------------------------


def test_an_editor_cannot_add_actions_to_a_published_measure(measures, tmp_path):
    assert measure("S. 725").published
    report = import_actions(write_actions(tmp_path, [GOOD]), allow_publish=False)
    assert errors_as_tuples(report) == [(2, "identifier")]
    assert "only a publisher can add or change its actions" in report.errors[0].message
    assert Action.objects.count() == 0
    assert import_actions(write_actions(tmp_path, [GOOD]), allow_publish=True).created == 1


def test_an_editor_cannot_change_an_action_of_a_published_measure(with_starter_actions, tmp_path):
    rows = starter_action_rows()
    line = next(index + 2 for index, row in enumerate(rows) if row["identifier"] == "S. 725")
    rows[line - 2]["description"] = "Introduced by Sen. Klobuchar"

    report = import_actions(write_actions(tmp_path, rows), allow_publish=False)

    assert errors_as_tuples(report) == [(line, "identifier")]


def test_an_editor_may_reimport_unchanged_rows_and_add_actions_to_drafts(with_starter_actions, tmp_path):
    Resolution.objects.filter(pk=measure("S. 725").pk).update(published=False)
    row = action_row(
        date="2025-12-01", chamber="lower", classification="passage", description="Passed the House"
    )

    report = import_actions(write_actions(tmp_path, [*starter_action_rows(), row]), allow_publish=False)

    assert report.ok, report.errors
    assert (report.created, report.unchanged) == (1, len(starter_action_rows()))


# --- Telling the files apart, and the command ---------------------------------------------------------


def test_an_actions_file_is_told_apart_by_its_header():
    assert is_actions_file(STARTER_ACTIONS.read_bytes())
    assert is_actions_file(b"\xef\xbb\xbf" + STARTER_ACTIONS.read_bytes())  # with a BOM
    assert not is_actions_file(STARTER.read_bytes())
    assert not is_actions_file(b"")


def test_the_command_prints_a_summary(measures):
    out = io.StringIO()
    call_command("import_actions", str(STARTER_ACTIONS), "-v", "2", stdout=out)
    output = out.getvalue()
    assert f"{len(starter_action_rows())} actions created, 0 updated" in output
    assert "line 2: created: United States: H.R. 1629: 2019-03-07 introduction (lower)" in output


def test_the_command_fails_with_every_error_and_writes_nothing(measures, tmp_path):
    rows = [GOOD, action_row(date="2025-09-03", chamber="senate"), action_row(identifier="S. 9999")]
    with pytest.raises(CommandError) as raised:
        call_command("import_actions", str(write_actions(tmp_path, rows)))
    message = str(raised.value)
    assert "2 error(s), nothing was imported" in message
    assert "line 3, column chamber: “senate” is not a chamber" in message
    assert "line 4, column identifier: no measure “S. 9999”" in message
    assert Action.objects.count() == 0


def test_the_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_actions", str(tmp_path / "missing.csv"))


def test_actions_of_a_measure_imported_from_a_file_need_that_measure_first(db, tmp_path):
    report = import_actions(STARTER_ACTIONS)
    assert {error.column for error in report.errors} == {"identifier"}
    assert len(report.errors) == len(starter_action_rows())
    assert import_resolutions(STARTER).ok and import_actions(STARTER_ACTIONS).ok
