"""Bulk import (recognition.importer and `manage.py import_resolutions`).

Expected counts are computed here from the CSV itself, never copied from the importer,
so a wrong rule in the importer cannot make its own test pass.
"""

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from recognition.importer import Action, import_resolutions
from recognition.models import Jurisdiction, Level, Resolution, Source
from tests.conftest import ResolutionFactory

STARTER = Path(settings.BASE_DIR) / "recognition" / "data" / "starter_dataset.csv"

with STARTER.open(encoding="utf-8-sig", newline="") as _starter:
    HEADER = next(csv.reader(_starter))

# A valid county row (Mobile County, AL); tests override what they need.
GOOD = {
    "level": "county",
    "state": "AL",
    "jurisdiction": "Mobile County",
    "fips": "01097",
    "body": "Mobile County Commission",
    "kind": "resolution",
    "status": "adopted",
    "title": "Resolution recognizing 911 telecommunicators as first responders",
    "introduced_on": "2022-04",
    "adopted_on": "2022-04-12",
    "summary": "Recognizes the county's 911 telecommunicators as first responders.",
    "source_url": "https://example.org/mobile-county/minutes",
    "source_title": "Commission minutes",
    "source_accessed": "2024-01-15",
    "confidence": "high",
}

# A valid row that would create a city: it shows that a failed import creates no jurisdictions either.
NEW_PLACE = GOOD | {
    "level": "place",
    "jurisdiction": "City of Testburg",
    "county": "Mobile County",
    "fips": "",
    "body": "Testburg City Council",
    "title": "Proclamation of Telecommunicators Week",
    "kind": "proclamation",
    "source_url": "https://example.org/testburg",
}


def csv_row(**values):
    return dict.fromkeys(HEADER, "") | GOOD | values


def write_csv(tmp_path, rows, name="import.csv", encoding="utf-8"):
    """Write rows (dicts) under the starter file's header; missing columns are blank."""
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.DictWriter(file, fieldnames=HEADER, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def starter_rows():
    with STARTER.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def is_publishable(row):
    return bool(row["source_url"].strip()) and row["confidence"].strip() != "low"


def errors_as_tuples(report):
    return [(error.line, error.column) for error in report.errors]


def starter_lines():
    """[(line in the file, row)]: no value spans lines (checked), so row i is on line i + 2."""
    rows = starter_rows()
    assert not any("\n" in value or "\r" in value for row in rows for value in row.values())
    return [(index + 2, row) for index, row in enumerate(rows)]


def record_of(row):
    """The record a starter row stands for, found from what the row says (not from an import report)."""
    found = Resolution.objects.filter(kind=row["kind"])
    found = (
        found.filter(identifier=row["identifier"]) if row["identifier"] else found.filter(title=row["title"])
    )
    if row["level"] == "federal":
        return found.get(jurisdiction__level=Level.NATION)
    if row["level"] == "state":
        return found.get(jurisdiction__level=Level.STATE, jurisdiction__usps=row["state"])
    if row["level"] == "county" and row["fips"]:
        return found.get(jurisdiction__fips=row["fips"])
    return found.get(jurisdiction__parent__usps=row["state"], jurisdiction__name=row["jurisdiction"])


def staff_edit(instance, **values):
    """Change a record as the admin does: a plain save, which its history records (with no import reason)."""
    for name, value in values.items():
        setattr(instance, name, value)
    instance.save()
    return instance


def row_at(report, line):
    [row] = [row for row in report.rows if row.line == line]
    return row


@pytest.fixture
def imported_starter(db):
    """The starter dataset imported with its change history, as `make run` leaves a real database."""
    report = import_resolutions(STARTER)
    assert report.ok, report.errors
    return report


# --- The starter dataset ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_starter_dataset_loads_with_counts_from_the_csv():
    rows = starter_rows()
    expected_published = sum(1 for row in rows if is_publishable(row))

    report = import_resolutions(STARTER)

    assert report.ok, report.errors
    assert report.created == len(rows) == Resolution.objects.count()
    assert Resolution.objects.published().count() == expected_published == report.published
    assert (
        Resolution.objects.filter(published=False).count() == len(rows) - expected_published == report.drafts
    )
    assert Source.objects.count() == sum(1 for row in rows if row["source_url"] or row["source_title"])


@pytest.mark.django_db
def test_starter_dataset_level_counts_match_the_csv(starter_dataset):
    rows = starter_rows()
    for file_level, level in [("federal", Level.NATION), ("state", Level.STATE), ("county", Level.COUNTY)]:
        expected = sum(1 for row in rows if row["level"] == file_level)
        assert Resolution.objects.filter(jurisdiction__level=level).count() == expected


@pytest.mark.django_db
def test_a_row_without_link_and_with_low_confidence_is_a_draft(starter_dataset):
    baldwin = Resolution.objects.get(jurisdiction__fips="01003")
    assert baldwin.published is False
    assert baldwin.confidence == "low"
    assert not baldwin.has_source_link


@pytest.mark.django_db
def test_places_and_districts_are_created_in_their_county(starter_dataset):
    hanceville = Jurisdiction.objects.in_state("AL").get(name="City of Hanceville")
    assert hanceville.level == Level.PLACE
    assert hanceville.county.name == "Cullman County"
    assert hanceville.slug == "city-of-hanceville"

    district = Jurisdiction.objects.in_state("AL").get(
        name="Jefferson County 911 Emergency Communications District"
    )
    assert district.level == Level.DISTRICT
    assert (district.county.name, district.county.parent.usps) == ("Jefferson County", "AL")
    assert district.resolutions.count() == 1


@pytest.mark.django_db
def test_dry_run_writes_nothing_but_reports_what_it_would_do(django_assert_max_num_queries):
    rows = starter_rows()
    new_localities = {
        (row["state"], row["jurisdiction"]) for row in rows if row["level"] in ("place", "district")
    }
    jurisdictions_before = Jurisdiction.objects.count()

    # Lookups are fetched once for the whole file, not per row.
    with django_assert_max_num_queries(4):
        report = import_resolutions(STARTER, dry_run=True)

    assert report.ok and not report.written
    assert report.created == len(rows)
    assert {(new.state, new.name) for new in report.new_jurisdictions} == new_localities
    assert Resolution.objects.count() == 0
    assert Jurisdiction.objects.count() == jurisdictions_before


@pytest.mark.django_db
def test_dry_run_command_prints_the_would_be_counts():
    out = io.StringIO()
    call_command("import_resolutions", str(STARTER), "--dry-run", stdout=out)
    assert f"{len(starter_rows())} would be created" in out.getvalue()
    assert "nothing written" in out.getvalue()
    assert Resolution.objects.count() == 0


# --- Re-import ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimport_creates_no_duplicates_and_reports_all_unchanged(starter_dataset):
    counts_before = (Resolution.objects.count(), Source.objects.count(), Jurisdiction.objects.count())

    report = import_resolutions(STARTER)

    assert report.unchanged == len(starter_rows())
    assert report.created == report.updated == 0
    assert report.new_jurisdictions == []
    assert (Resolution.objects.count(), Source.objects.count(), Jurisdiction.objects.count()) == counts_before


@pytest.mark.django_db
def test_an_edited_row_is_an_update(imported_starter, tmp_path):
    rows = starter_rows()
    edited_line, edited = next(
        (i + 2, row) for i, row in enumerate(rows) if row["jurisdiction"] == "City of Hanceville"
    )
    edited["summary"] = "A new summary."
    edited["source_accessed"] = "2025-01-02"

    report = import_resolutions(write_csv(tmp_path, rows))

    assert (report.updated, report.unchanged) == (1, len(rows) - 1)
    [update] = [row for row in report.rows if row.action == Action.UPDATED]
    assert update.line == edited_line
    assert update.changed_fields == ("summary", "source_accessed")
    resolution = Resolution.objects.get(pk=update.resolution_id)
    assert resolution.summary == "A new summary."
    assert resolution.sources.get().accessed_on.isoformat() == "2025-01-02"


@pytest.mark.django_db
def test_a_row_without_identifier_is_matched_by_title(tmp_path):
    path = write_csv(tmp_path, [csv_row()])
    import_resolutions(path)
    write_csv(tmp_path, [csv_row(status="adopted", effective_on="2022-05")])

    report = import_resolutions(path)

    assert [(row.action, row.changed_fields) for row in report.rows] == [(Action.UPDATED, ("effective_on",))]
    assert Resolution.objects.get().effective.isoformat() == "2022-05"


@pytest.mark.django_db
def test_a_new_source_url_adds_a_source_and_keeps_the_old_one(tmp_path):
    import_resolutions(write_csv(tmp_path, [csv_row()]))
    report = import_resolutions(write_csv(tmp_path, [csv_row(source_url="https://example.org/other")]))
    assert report.rows[0].action == Action.UPDATED
    assert sorted(Resolution.objects.get().sources.values_list("url", flat=True)) == [
        "https://example.org/mobile-county/minutes",
        "https://example.org/other",
    ]


@pytest.mark.django_db
def test_an_existing_place_gets_its_missing_county_but_is_never_moved(tmp_path):
    state = Jurisdiction.objects.get(level=Level.STATE, usps="AL")
    place = Jurisdiction.objects.create(level=Level.PLACE, name="City of Testburg", parent=state)

    report = import_resolutions(write_csv(tmp_path, [NEW_PLACE]))
    place.refresh_from_db()
    assert place.county.name == "Mobile County"
    assert report.new_jurisdictions == []

    report = import_resolutions(write_csv(tmp_path, [NEW_PLACE | {"county": "Baldwin County"}]))
    assert errors_as_tuples(report) == [(2, "county")]
    assert "recorded in Mobile County" in report.errors[0].message


@pytest.mark.django_db
def test_two_rows_cannot_put_a_new_place_in_two_counties(tmp_path):
    rows = [NEW_PLACE, NEW_PLACE | {"title": "Another", "county": "Baldwin County"}]
    report = import_resolutions(write_csv(tmp_path, rows))
    assert errors_as_tuples(report) == [(3, "county")]
    assert "line 2 puts City of Testburg in Mobile County" in report.errors[0].message


@pytest.mark.django_db
def test_a_new_place_gets_a_slug_free_in_its_state(tmp_path):
    # "Mobile County" as a place: its slug would collide with the county's.
    report = import_resolutions(write_csv(tmp_path, [NEW_PLACE | {"jurisdiction": "Mobile County"}]))
    assert report.ok, report.errors
    place = Jurisdiction.objects.get(level=Level.PLACE, name="Mobile County")
    assert place.slug == "mobile-county-2"


# --- Re-import: publication and staff edits are the staff's ----------------------------------------

SKIPPED_EDITED = "skipped, edited in the admin since import; use --overwrite"
SKIPPED_ENTERED = "skipped, entered in the admin, not by an import; use --overwrite"
LOWERED = "the record is published; a publisher must unpublish it before its confidence can be lowered"


def first_line(predicate):
    return next((line, row) for line, row in starter_lines() if predicate(row))


def history_counts():
    return (Resolution.history.count(), Source.history.count(), Jurisdiction.history.count())


@pytest.mark.django_db
def test_a_reimport_never_publishes_a_record_staff_unpublished(imported_starter):
    line, row = first_line(is_publishable)
    record = staff_edit(record_of(row), published=False)

    report = import_resolutions(STARTER)

    assert row_at(report, line).action == Action.UNCHANGED and not row_at(report, line).published
    record.refresh_from_db()
    assert not record.published
    assert report.unchanged == len(starter_rows())


@pytest.mark.django_db
def test_a_draft_row_never_unpublishes_a_published_record(imported_starter, tmp_path):
    lines = starter_lines()
    line, row = next((line, row) for line, row in lines if is_publishable(row) and row["identifier"])
    row.update(source_url="", source_title="", summary="The file now has no link for it.")

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert report.ok, report.errors
    assert (row_at(report, line).action, row_at(report, line).published) == (Action.UPDATED, True)
    record = record_of(row)
    assert record.published and record.summary == "The file now has no link for it."


@pytest.mark.django_db
def test_a_publishable_row_never_publishes_a_draft(imported_starter, tmp_path):
    lines = starter_lines()
    line, row = next((line, row) for line, row in lines if not is_publishable(row))
    row.update(source_url="https://example.org/now-with-a-link", confidence="high")

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert (row_at(report, line).action, row_at(report, line).published) == (Action.UPDATED, False)
    record = record_of(row)
    assert not record.published and record.confidence == "high"
    assert record.sources.filter(url="https://example.org/now-with-a-link").exists()


@pytest.mark.django_db
def test_lowering_the_confidence_of_a_published_record_is_an_error(imported_starter, tmp_path):
    lines = starter_lines()
    line, row = first_line(is_publishable)
    lines[line - 2][1]["confidence"] = "low"
    before = history_counts()

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert errors_as_tuples(report) == [(line, "confidence")]
    assert report.errors[0].message == LOWERED
    assert str(report.errors[0]) == f"line {line}, column confidence: {LOWERED}"
    assert history_counts() == before
    assert record_of(row).confidence == row["confidence"]


@pytest.mark.django_db
def test_a_record_edited_since_import_is_skipped_and_its_line_reported(imported_starter):
    line, row = first_line(lambda row: row["identifier"])
    record = staff_edit(record_of(row), title="A title corrected by staff")

    out = io.StringIO()
    call_command("import_resolutions", str(STARTER), stdout=out)

    record.refresh_from_db()
    assert record.title == "A title corrected by staff"
    output = out.getvalue()
    assert f"line {line}: {SKIPPED_EDITED}" in output
    assert "1 skipped (edited in the admin since import; use --overwrite)" in output
    assert f"{len(starter_rows()) - 1} unchanged" in output


@pytest.mark.django_db
def test_the_report_names_each_skipped_row(imported_starter):
    line, row = first_line(lambda row: row["identifier"])
    staff_edit(record_of(row), summary="Reworded by staff.")

    report = import_resolutions(STARTER)

    skipped = row_at(report, line)
    assert (skipped.action, skipped.changed_fields) == (Action.SKIPPED, ("summary",))
    assert skipped.skip_message() == f"line {line}: {SKIPPED_EDITED}"
    assert report.skipped_rows == [skipped]
    assert ", 1 skipped (edited in the admin since import);" in report.summary()


@pytest.mark.django_db
def test_a_dry_run_reports_the_same_skips_and_writes_nothing(imported_starter):
    (title_line, title_row), (source_line, source_row) = [
        (line, row) for line, row in starter_lines() if row["identifier"] and row["source_url"]
    ][:2]
    staff_edit(record_of(title_row), title="Corrected title")
    staff_edit(
        record_of(source_row).sources.get(url=source_row["source_url"]), url="https://example.org/moved"
    )
    before = history_counts()

    dry = import_resolutions(STARTER, dry_run=True)
    out = io.StringIO()
    call_command("import_resolutions", str(STARTER), "--dry-run", stdout=out)
    assert history_counts() == before

    real = import_resolutions(STARTER)
    assert [(row.line, row.skip_message()) for row in dry.skipped_rows] == [
        (title_line, f"line {title_line}: {SKIPPED_EDITED}"),
        (source_line, f"line {source_line}: {SKIPPED_EDITED}"),
    ]
    assert dry.rows == real.rows
    assert f"line {title_line}: {SKIPPED_EDITED}" in out.getvalue()
    assert f"line {source_line}: {SKIPPED_EDITED}" in out.getvalue()
    assert history_counts() == before  # everything was skipped or unchanged


@pytest.mark.django_db
def test_a_row_that_agrees_with_a_staff_edit_is_unchanged(imported_starter, tmp_path):
    lines = starter_lines()
    line, row = first_line(lambda row: row["identifier"])
    staff_edit(record_of(row), summary="Reworded by staff.")
    lines[line - 2][1]["summary"] = "Reworded by staff."

    report = import_resolutions(write_csv(tmp_path, [row for _line, row in lines]))

    assert row_at(report, line).action == Action.UNCHANGED
    assert report.skipped == 0


@pytest.mark.django_db
def test_overwrite_puts_the_file_back_and_never_touches_publication(imported_starter):
    line, row = first_line(lambda row: is_publishable(row) and row["identifier"])
    record = staff_edit(record_of(row), title="Corrected title", published=False)

    out = io.StringIO()
    call_command("import_resolutions", str(STARTER), "--overwrite", stdout=out)

    record.refresh_from_db()
    assert record.title == row["title"] and not record.published
    assert f"line {line}: overwritten, edited in the admin since import" in out.getvalue()
    # The record is the import's again: the next import finds nothing to skip.
    assert import_resolutions(STARTER).unchanged == len(starter_rows())


@pytest.mark.django_db
def test_a_record_entered_in_the_admin_is_skipped_until_overwritten(tmp_path):
    record = ResolutionFactory(title=GOOD["title"], summary="Typed in the admin.")
    path = write_csv(tmp_path, [csv_row()])

    report = import_resolutions(path)
    assert [row.skip_message() for row in report.rows] == [f"line 2: {SKIPPED_ENTERED}"]
    record.refresh_from_db()
    assert record.summary == "Typed in the admin."

    report = import_resolutions(path, overwrite=True)
    assert [(row.action, row.overwritten) for row in report.rows] == [(Action.UPDATED, True)]
    record.refresh_from_db()
    assert record.summary == GOOD["summary"] and record.published


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["changed", "deleted"])
def test_a_changed_or_deleted_source_makes_the_record_staff_edited(tmp_path, change):
    path = write_csv(tmp_path, [csv_row()])
    import_resolutions(path)
    record = Resolution.objects.get()
    source = record.sources.get()
    if change == "changed":
        staff_edit(source, url="https://example.org/a-better-link")
    else:
        source.delete()

    assert [row.skip_message() for row in import_resolutions(path).rows] == [f"line 2: {SKIPPED_EDITED}"]

    import_resolutions(path, overwrite=True)
    assert list(record.sources.values_list("url", flat=True)) == [GOOD["source_url"]]
    if change == "changed":
        assert record.sources.get().pk == source.pk  # put back, not added beside it
    assert import_resolutions(path).rows[0].action == Action.UNCHANGED


@pytest.mark.django_db
def test_a_record_whose_number_staff_corrected_is_not_imported_twice(tmp_path):
    path = write_csv(tmp_path, [csv_row(identifier="Res. 2022-1")])
    import_resolutions(path)
    staff_edit(Resolution.objects.get(), identifier="Res. 2022-01")

    report = import_resolutions(path)

    assert [row.skip_message() for row in report.rows] == [f"line 2: {SKIPPED_EDITED}"]
    assert list(Resolution.objects.values_list("identifier", flat=True)) == ["Res. 2022-01"]
    import_resolutions(path, overwrite=True)
    assert list(Resolution.objects.values_list("identifier", flat=True)) == ["Res. 2022-1"]


@pytest.mark.django_db
def test_a_record_staff_moved_to_another_county_is_not_imported_twice(tmp_path):
    path = write_csv(tmp_path, [csv_row()])
    import_resolutions(path)
    staff_edit(Resolution.objects.get(), jurisdiction=Jurisdiction.objects.get(fips="01003"))

    report = import_resolutions(path)

    assert [(row.action, row.changed_fields) for row in report.rows] == [(Action.SKIPPED, ("jurisdiction",))]
    assert list(Resolution.objects.values_list("jurisdiction__fips", flat=True)) == ["01003"]


@pytest.mark.django_db
def test_an_editor_import_skips_staff_edits_of_published_records_without_error(imported_starter):
    line, row = first_line(lambda row: is_publishable(row) and row["identifier"])
    staff_edit(record_of(row), summary="Reworded by a publisher.")

    report = import_resolutions(STARTER, allow_publish=False)

    assert report.ok, report.errors
    assert row_at(report, line).action == Action.SKIPPED


@pytest.mark.django_db
def test_reimport_queries_do_not_grow_with_rows(tmp_path, django_assert_max_num_queries):
    """The history behind every matched record is fetched in a fixed number of queries, not per row."""
    counts = []
    for size, fips in [(3, "01097"), (30, "01003")]:
        rows = [
            csv_row(
                fips=fips, identifier=f"R-{n}", title=f"Resolution {n}", source_url=f"https://example.org/{n}"
            )
            for n in range(size)
        ]
        path = write_csv(tmp_path, rows, name=f"{size}.csv")
        import_resolutions(path)
        for record in Resolution.objects.filter(jurisdiction__fips=fips, identifier__in=["R-0", "R-2"]):
            staff_edit(record, summary="Reworded by staff.")
        for dry_run in (True, False):
            with django_assert_max_num_queries(8) as captured:
                report = import_resolutions(path, dry_run=dry_run)
            assert (report.skipped, report.unchanged) == (2, size - 2)
            counts.append(len(captured))
    assert counts[:2] == counts[2:]


# --- UTF-8 ------------------------------------------------------------------------------------------

DONA_ANA = "Doña Ana County"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling",
    [DONA_ANA, DONA_ANA.upper(), unicodedata.normalize("NFD", DONA_ANA)],
    ids=["as-is", "upper-case", "decomposed-accent"],
)
def test_dona_ana_county_survives_the_round_trip(tmp_path, spelling):
    rows = [
        csv_row(state="NM", jurisdiction=spelling, fips="", source_url="https://example.org/dona-ana/1"),
        csv_row(state="NM", jurisdiction=DONA_ANA, fips="35013", kind="proclamation"),
        NEW_PLACE | {"state": "NM", "jurisdiction": "Village of Hatch", "county": spelling},
    ]
    path = write_csv(tmp_path, rows, encoding="utf-8-sig")  # with a BOM, as spreadsheets save "CSV UTF-8"

    report = import_resolutions(path)

    assert report.ok, report.errors
    county = Jurisdiction.objects.get(fips="35013")
    assert county.name == DONA_ANA
    assert county.resolutions.count() == 2
    assert Jurisdiction.objects.get(name="Village of Hatch").county == county
    assert report.rows[0].jurisdiction == "Doña Ana County, NM"
    assert import_resolutions(path).unchanged == 3


@pytest.mark.django_db
def test_streams_are_accepted_for_the_admin_upload(tmp_path):
    data = write_csv(tmp_path, [csv_row(state="NM", jurisdiction=DONA_ANA, fips="")], encoding="utf-8-sig")
    data = data.read_bytes()

    assert import_resolutions(io.BytesIO(data), dry_run=True).created == 1
    assert import_resolutions(io.StringIO(data.decode("utf-8")), dry_run=True).created == 1  # BOM kept
    assert Resolution.objects.count() == 0


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_an_error(tmp_path):
    path = write_csv(tmp_path, [csv_row(state="NM", jurisdiction=DONA_ANA, fips="")], encoding="latin-1")
    report = import_resolutions(path)
    assert errors_as_tuples(report) == [(2, "")]
    assert "UTF-8" in report.errors[0].message


# --- Errors: all or nothing -------------------------------------------------------------------------

BAD_ROWS = {
    "unknown state": ({"state": "ZZ"}, "state", "unknown state"),
    "state blank for a county": ({"state": ""}, "state", "required"),
    "impossible date": ({"adopted_on": "2022-02-30"}, "adopted_on", "February 2022 has 28 days"),
    "impossible month": ({"introduced_on": "2022-13"}, "introduced_on", "There is no month 13"),
    "year out of range": ({"adopted_on": "1022"}, "adopted_on", "Check the year: 1022 is not between 1900"),
    "malformed date": ({"introduced_on": "22"}, "introduced_on", "a year (2022), a year and month (2022-09)"),
    "malformed access date": ({"source_accessed": "2024-01"}, "source_accessed", "YYYY-MM-DD"),
    "unknown level": ({"level": "city"}, "level", "federal, nation, state, county, place, district"),
    "unknown kind": ({"kind": "law"}, "kind", "statute, resolution, proclamation"),
    "unknown status": ({"status": "passed"}, "status", "introduced, adopted, failed"),
    "unknown confidence": ({"confidence": "sure"}, "confidence", "high, medium, low"),
    "adopted before introduced": (
        {"introduced_on": "2022-05-01", "adopted_on": "2022-04"},
        "adopted_on",
        "before introduced",
    ),
    "pending with an adoption date": ({"status": "introduced"}, "adopted_on", "pending"),
    "duplicate in file": (NEW_PLACE, "title", "duplicate of line 2"),
    "unknown county fips": ({"fips": "01999"}, "fips", "matches no county"),
    "county fips in another state": ({"fips": "48201"}, "fips", "not in Alabama"),
    "county fips lost its leading zero": ({"fips": "1097"}, "fips", "01097"),
    "unknown county name": (
        {"fips": "", "jurisdiction": "Atlantis County"},
        "jurisdiction",
        "no county named",
    ),
    "unknown county of a place": (
        NEW_PLACE | {"title": "Other", "county": "Atlantis County"},
        "county",
        "Atlantis",
    ),
    "fips on a place": (NEW_PLACE | {"title": "Other", "fips": "01097"}, "fips", "no FIPS"),
    "state fips that matches nothing": (
        {"level": "state", "jurisdiction": "Alabama", "fips": "99"},
        "fips",
        "matches no state",
    ),
    "bad url": ({"source_url": "not a url"}, "source_url", "not a web address"),
    "url without scheme": ({"source_url": "www.example.org/x"}, "source_url", "https://"),
    "title too long": ({"title": "x" * 301}, "title", "at most 300"),
    "blank title": ({"title": ""}, "title", "required"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "column", "fragment"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_one_bad_row_writes_nothing_and_names_line_and_column(tmp_path, overrides, column, fragment):
    jurisdictions_before = Jurisdiction.objects.count()
    path = write_csv(tmp_path, [NEW_PLACE, csv_row(**overrides)])

    report = import_resolutions(path)

    assert errors_as_tuples(report) == [(3, column)], report.errors
    assert fragment in report.errors[0].message
    assert report.rows == []
    assert Resolution.objects.count() == Source.objects.count() == 0
    assert Jurisdiction.objects.count() == jurisdictions_before


@pytest.mark.django_db
def test_every_error_is_listed_in_line_order(tmp_path):
    rows = [
        csv_row(kind="law", adopted_on="2022-02-30"),
        csv_row(title="Fine"),
        csv_row(title="Also bad", state="ZZ"),
    ]
    report = import_resolutions(write_csv(tmp_path, rows))
    assert errors_as_tuples(report) == [(2, "kind"), (2, "adopted_on"), (4, "state")]


@pytest.mark.django_db
def test_line_numbers_count_physical_lines(tmp_path):
    # A quoted summary with a line break makes line 2 two lines long: the next row starts on line 4.
    rows = [csv_row(summary="First line\nsecond line"), csv_row(title="Other", state="ZZ")]
    report = import_resolutions(write_csv(tmp_path, rows))
    assert errors_as_tuples(report) == [(4, "state")]


@pytest.mark.django_db
def test_a_row_with_too_many_fields_is_an_error(tmp_path):
    path = write_csv(tmp_path, [csv_row()])
    path.write_text(path.read_text(encoding="utf-8") + ",".join(["x"] * (len(HEADER) + 1)) + "\n")
    report = import_resolutions(path)
    assert errors_as_tuples(report) == [(3, "")]


def test_a_missing_column_is_named(tmp_path):
    path = tmp_path / "import.csv"
    path.write_text(",".join(column for column in HEADER if column != "confidence") + "\n", encoding="utf-8")
    report = import_resolutions(path)
    assert errors_as_tuples(report) == [(1, "confidence")]
    assert "missing column" in report.errors[0].message


def test_an_empty_file_is_an_error(tmp_path):
    path = tmp_path / "import.csv"
    path.write_text("", encoding="utf-8")
    assert errors_as_tuples(import_resolutions(path)) == [(1, "")]


# --- The command ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_a_summary(tmp_path):
    out = io.StringIO()
    call_command("import_resolutions", str(write_csv(tmp_path, [csv_row(), NEW_PLACE])), stdout=out)
    assert "2 created, 0 updated" in out.getvalue()
    assert "City of Testburg, AL in Mobile County (place)" in out.getvalue()


@pytest.mark.django_db
def test_command_fails_with_every_error_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path, [csv_row(), csv_row(title="Other", state="ZZ", kind="law")])
    with pytest.raises(CommandError) as raised:
        call_command("import_resolutions", str(path))
    message = str(raised.value)
    assert "line 3, column state: unknown state" in message
    assert "line 3, column kind:" in message
    assert Resolution.objects.count() == 0


def test_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_resolutions", str(tmp_path / "missing.csv"))


def test_an_import_that_fails_partway_through_the_write_leaves_nothing_behind(db, tmp_path, monkeypatch):
    """A database error on the third record (after a city and two records were saved) undoes them all."""
    rows = [csv_row(title=f"Resolution {n}", source_url=f"https://example.org/{n}") for n in range(4)]
    rows[0] = NEW_PLACE
    before = (Resolution.objects.count(), Source.objects.count(), Jurisdiction.objects.count())
    saved = []
    original_save = Resolution.save

    def save_then_fail(self, *args, **kwargs):
        if len(saved) == 2:
            raise IntegrityError("the database refused the third record")
        saved.append(self.title)
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Resolution, "save", save_then_fail)
    with pytest.raises(IntegrityError):
        import_resolutions(write_csv(tmp_path, rows))
    assert len(saved) == 2  # the write really was partway through
    assert (Resolution.objects.count(), Source.objects.count(), Jurisdiction.objects.count()) == before
    assert not Jurisdiction.objects.filter(name=NEW_PLACE["jurisdiction"]).exists()


@pytest.mark.django_db
def test_a_record_staff_deleted_is_not_brought_back_unless_asked(imported_starter):
    line, row = first_line(lambda row: row["identifier"] and row["level"] == "state")
    record_of(row).delete()
    total = Resolution.objects.count()

    report = import_resolutions(STARTER)
    skipped = row_at(report, line)
    assert skipped.action == Action.SKIPPED
    assert (
        skipped.skip_message() == f"line {line}: skipped, deleted in the admin since import; use --overwrite"
    )
    assert Resolution.objects.count() == total and report.created == 0

    report = import_resolutions(STARTER, overwrite=True)
    assert row_at(report, line).action == Action.CREATED and Resolution.objects.count() == total + 1
