"""The census loader (`manage.py load_population`); the coverage arithmetic is tested in test_coverage.py.

Expected figures are read here from the census CSV and the starter CSV, never from the
loader or the rules, so a wrong rule cannot make its own test pass.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from recognition.models import Jurisdiction, Level
from recognition.population_loader import load_population

DATA = Path(settings.BASE_DIR) / "recognition" / "data"
CENSUS = DATA / "census" / "population_2022.csv"
STARTER = DATA / "starter_dataset.csv"

with CENSUS.open(encoding="utf-8", newline="") as _census:
    CENSUS_ROWS = list(csv.DictReader(_census))
CENSUS_LINES = CENSUS.read_text(encoding="utf-8").splitlines(keepends=True)
POP_2022 = {row["fips"]: int(row["pop_2022"]) for row in CENSUS_ROWS}

PLANNING_REGIONS = {f"091{n}0" for n in range(1, 10)}  # 09110 .. 09190
OLD_CT_COUNTIES = {f"090{n:02d}" for n in range(1, 16, 2)}  # 09001 .. 09015


def stored_populations():
    return set(
        Jurisdiction.objects.filter(level__in=[Level.STATE, Level.COUNTY]).values_list(
            "fips", "population", "population_year"
        )
    )


@pytest.fixture
def no_populations(db):
    """Start from blank figures, whatever the session setup loaded."""
    Jurisdiction.objects.update(population=None, population_year=None)


# --- Loading -----------------------------------------------------------------------------


def test_the_shipped_file_is_the_census_file_described_in_its_readme():
    assert CENSUS_LINES[0].strip() == "level,fips,state_name,name,pop_2020,pop_2021,pop_2022"
    states = [row for row in CENSUS_ROWS if row["level"] == "state"]
    assert len(states) == 51 and len(CENSUS_ROWS) - len(states) == 3144
    assert sum(int(row["pop_2022"]) for row in states) == 333_287_557
    readme = (CENSUS.parent / "README.md").read_text(encoding="utf-8")
    assert "co-est2022-alldata" in readme and "public domain" in readme


def test_load_sets_every_state_and_county_by_fips_in_a_few_queries(
    no_populations, django_assert_max_num_queries
):
    # One read, the updates in batches of 500, and one data-version bump (a savepoint and an update).
    with django_assert_max_num_queries(15):
        report = load_population()
    assert report.ok and report.rows == len(CENSUS_ROWS)
    states_matched = 51
    counties_matched = 3144 - len(PLANNING_REGIONS)
    assert (report.updated[Level.STATE], report.updated[Level.COUNTY]) == (states_matched, counties_matched)
    assert report.unchanged.total() == 0

    stored = {
        fips: (population, year)
        for fips, population, year in Jurisdiction.objects.exclude(population=None).values_list(
            "fips", "population", "population_year"
        )
    }
    assert len(stored) == states_matched + counties_matched
    assert all(stored[fips] == (POP_2022[fips], 2022) for fips in stored)
    assert stored["01"] == (5_074_296, 2022) and stored["01001"] == (59_759, 2022)  # Alabama, Autauga


def test_a_second_run_writes_nothing_and_reports_everything_unchanged(
    no_populations, django_assert_max_num_queries
):
    call_command("load_population", verbosity=0)
    before = stored_populations()
    out = io.StringIO()
    with django_assert_max_num_queries(3):  # the read, and the savepoint around it
        call_command("load_population", stdout=out)
    assert stored_populations() == before
    assert "0 updated, 3,186 unchanged" in out.getvalue()
    report = load_population()
    assert report.updated.total() == 0 and report.unchanged.total() == 51 + 3135


def test_the_report_lists_connecticuts_planning_regions_and_old_counties_never_guessing(no_populations):
    out = io.StringIO()
    call_command("load_population", stdout=out)
    report = load_population()
    assert set(report.unmatched) == PLANNING_REGIONS
    assert report.unmatched["09110"] == "Capitol Planning Region, Connecticut"
    assert set(report.missing) == OLD_CT_COUNTIES
    assert report.missing["09001"] == "Fairfield County, CT"
    # Connecticut's state total is exact; its counties get nothing rather than a split.
    assert Jurisdiction.objects.get(fips="09").population == POP_2022["09"]
    assert set(
        Jurisdiction.objects.filter(fips__in=OLD_CT_COUNTIES).values_list("population", flat=True)
    ) == {None}
    text = out.getvalue()
    assert (
        "Rows matching no jurisdiction, not loaded (9): 09110 Capitol Planning Region, Connecticut;" in text
    )
    assert "with no figure in the file (8): 09001 Fairfield County, CT;" in text


def test_the_territories_are_left_blank_and_counted_apart(no_populations):
    report = load_population()
    assert set(report.territories) == {"AS", "GU", "MP", "PR", "VI"}
    territories = Jurisdiction.objects.filter(is_territory=True)
    in_territories = Jurisdiction.objects.filter(parent__is_territory=True, level=Level.COUNTY)
    assert report.territories.total() == territories.count() + in_territories.count()
    assert not territories.exclude(population=None).exists()
    assert not in_territories.exclude(population=None).exists()
    assert not any(key[:2] in {"60", "66", "69", "72", "78"} for key in report.missing)


def test_a_figure_that_changed_is_the_only_one_written(no_populations, tmp_path):
    load_population()
    lines = list(CENSUS_LINES)
    assert lines[2].startswith("county,01001,")
    lines[2] = lines[2].replace(",59759\n", ",60000\n")
    path = tmp_path / "revised.csv"
    path.write_text("".join(lines), encoding="utf-8")
    report = load_population(path)
    assert (report.updated.total(), report.unchanged.total()) == (1, 51 + 3135 - 1)
    assert Jurisdiction.objects.get(fips="01001").population == 60_000


def _replace_cell(column, value, line=3):
    def edit(lines):
        header = lines[0].rstrip("\n").split(",")
        cells = lines[line - 1].rstrip("\n").split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells) + "\n"

    return edit


def _drop_column(column):
    def edit(lines):
        index = lines[0].rstrip("\n").split(",").index(column)
        for number, line in enumerate(lines):
            cells = line.rstrip("\n").split(",")
            del cells[index]
            lines[number] = ",".join(cells) + "\n"

    return edit


def _shorten(line):
    def edit(lines):
        lines[line - 1] = lines[line - 1].rstrip("\n").rsplit(",", 1)[0] + "\n"

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            _replace_cell("pop_2022", "n/a"),
            "line 3, column pop_2022: “n/a” is not a whole number",
            id="text",
        ),
        pytest.param(
            _replace_cell("pop_2022", "-5", line=40),
            "line 40, column pop_2022: -5 is negative",
            id="negative",
        ),
        pytest.param(
            _drop_column("pop_2022"),
            "line 1, column pop_2022: missing column “pop_2022”",
            id="missing-column",
        ),
        pytest.param(
            _replace_cell("fips", "1001"),
            "line 3, column fips: “1001” is not a county FIPS code: 5 digits "
            "(did a spreadsheet drop a leading zero? 01001)",
            id="bad-fips",
        ),
        pytest.param(_shorten(1000), "line 1000: 6 fields, the header has 7", id="short-row"),
    ],
)
def test_a_malformed_file_writes_nothing_and_names_the_line(no_populations, tmp_path, edit, expected):
    load_population()
    Jurisdiction.objects.filter(fips="01").update(population=1, population_year=2019)  # the file would fix it
    before = stored_populations()
    lines = list(CENSUS_LINES)
    edit(lines)
    path = tmp_path / "bad.csv"
    path.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(CommandError, match="1 error\\(s\\), nothing was loaded") as raised:
        call_command("load_population", str(path), verbosity=0)
    assert expected in str(raised.value)
    assert stored_populations() == before
    assert load_population(path).errors and stored_populations() == before


def test_every_problem_is_listed_and_a_repeated_fips_is_one(no_populations, tmp_path):
    lines = list(CENSUS_LINES)
    _replace_cell("pop_2020", "", line=4)(lines)
    _replace_cell("level", "city", line=5)(lines)
    lines.append(lines[2])  # Autauga again
    path = tmp_path / "bad.csv"
    path.write_text("".join(lines), encoding="utf-8")
    messages = [str(error) for error in load_population(path).errors]
    assert messages == [
        "line 4, column pop_2020: required: a whole number of people",
        "line 5, column level: “city” is not a level; use one of: state, county",
        f"line {len(lines)}, column fips: FIPS 01001 again: first on line 3",
    ]
    assert Jurisdiction.objects.exclude(population=None).count() == 0


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_population", str(tmp_path / "nowhere.csv"))


def test_a_county_without_a_figure_shows_a_dash_in_its_states_table(client, db):
    """Connecticut's old counties have no 2022 figure: the state page's table says "—", never "None",
    and the counties with one show it grouped, as the census file gives it."""
    load_population(CENSUS)
    html = client.get("/states/ct/").content.decode()
    assert "None" not in html
    for fips in OLD_CT_COUNTIES:
        name = Jurisdiction.objects.get(fips=fips).name
        assert re.search(rf">{re.escape(name)}</a></th><td>[^<]*</td><td>[^<]*</td><td class=\"num\">—</td>", html)
    html = client.get("/states/de/").content.decode()
    for fips in ("10001", "10003", "10005"):
        name = Jurisdiction.objects.get(fips=fips).name
        assert f'{name}</a></th>' in html and f'<td class="num">{POP_2022[fips]:,}</td>' in html
