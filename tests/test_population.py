"""Population covered: the census loader (`manage.py load_population`) and the coverage arithmetic.

Expected figures are read here from the census CSV and the starter CSV, never from the
loader or the rules, so a wrong rule cannot make its own test pass.
"""

import ast
import csv
import io
from pathlib import Path

import pytest
import us
from django.conf import settings
from django.core.management import CommandError, call_command

from recognition import progress
from recognition import status as rules
from recognition.models import Jurisdiction, Level
from recognition.population_loader import load_population
from recognition.status import CountyStatus, StateStatus, population_coverage

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


# --- Coverage arithmetic (pure) -------------------------------------------------------------

# Alabama has a state law; Alaska's Anchorage (county) adopted a resolution; in Wyoming only a
# city acted. Alaska's Bethel acted too, but has no figure; Puerto Rico is not counted.
HAND_STATE_STATUS = {"AL": StateStatus.LAW, "AK": "local", "WY": StateStatus.LOCAL, "PR": StateStatus.LAW}
HAND_COUNTY_STATUS = {
    "01001": CountyStatus.COUNTY,  # a county resolution inside a law state: covered once, by the state
    "01003": CountyStatus.PLACE,  # a city inside a law state: covered by the state, not "place only"
    "02020": "county",
    "02050": CountyStatus.COUNTY,  # no figure
    "02090": CountyStatus.NONE,
    "56001": CountyStatus.PLACE,
    "56003": CountyStatus.NONE,
    "72001": CountyStatus.COUNTY,
}
HAND_POPULATION = {
    "01": 1000,
    "01001": 600,
    "01003": 400,
    "02": 500,
    "02020": 200,
    "02090": 250,
    "56": 300,
    "56001": 120,
    "56003": 180,
    "72": 9999,
    "72001": 9999,
}
HAND_STATE_FIPS = {"AL": "01", "AK": "02", "WY": "56"}


def test_coverage_on_a_hand_made_case():
    coverage = population_coverage(HAND_STATE_STATUS, HAND_COUNTY_STATUS, HAND_POPULATION, HAND_STATE_FIPS)
    assert coverage.total == 1800
    assert (coverage.under_law, coverage.under_law_share) == (1000, 1000 / 1800)
    assert (coverage.covered, coverage.covered_share) == (1200, 1200 / 1800)  # Alabama + Anchorage
    assert (coverage.place_only, coverage.place_only_share) == (120, 120 / 1800)  # Wyoming's county
    assert (coverage.year, coverage.source) == (2022, "U.S. Census Bureau, Vintage 2022 estimates")
    assert list(coverage.states) == ["AL", "AK", "WY"] and coverage.states_without_figure == ()

    al, ak, wy = coverage.states.values()
    assert (al.status, al.under_law, al.covered, al.place_only, al.covered_share) == (
        "law",
        1000,
        1000,
        0,
        1.0,
    )
    assert (al.county_acted, al.county_acted_share, al.counties_population, al.gap) == (600, 0.6, 1000, 0)

    assert (ak.status, ak.under_law, ak.covered, ak.place_only) == (StateStatus.LOCAL, 0, 200, 0)
    assert ak.covered_share == 0.4
    assert (ak.counties_population, ak.counties_with_figure, ak.gap) == (450, 2, 50)
    assert ak.county_acted_share == 200 / 450  # over the counties with a figure
    assert ak.counties_without_figure == ak.acted_without_figure == ("02050",)

    assert (wy.covered, wy.place_only, wy.place_only_share, wy.gap) == (0, 120, 0.4, 0)


def test_a_state_resolution_covers_the_whole_state_and_leaves_no_place_only():
    coverage = population_coverage(
        {"WY": StateStatus.RESOLUTION}, {"56001": "place", "56003": "none"}, HAND_POPULATION, {"WY": "56"}
    )
    assert (coverage.under_law, coverage.covered, coverage.place_only) == (0, 300, 0)
    assert coverage.covered_share == 1.0


def test_a_state_without_a_figure_adds_nothing_and_is_listed():
    population = {key: value for key, value in HAND_POPULATION.items() if key != "02"}
    coverage = population_coverage(HAND_STATE_STATUS, HAND_COUNTY_STATUS, population, HAND_STATE_FIPS)
    assert (coverage.total, coverage.covered, coverage.states_without_figure) == (1300, 1000, ("AK",))
    ak = coverage.states["AK"]
    assert (ak.population, ak.covered, ak.covered_share, ak.gap) == (None, 0, 0.0, None)
    assert ak.county_acted == 200  # the counties' own figures are still known


def test_nothing_to_count_gives_zero_shares():
    coverage = population_coverage({}, {}, {}, {})
    assert (coverage.total, coverage.covered_share, coverage.under_law_share) == (0, 0.0, 0.0)


def test_status_module_still_imports_nothing_from_django():
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "django" for name in imported)


# --- The starter dataset, end to end --------------------------------------------------------


def starter_law_states():
    """USPS codes of the states with an adopted, publishable state statute in the starter CSV."""
    with STARTER.open(encoding="utf-8-sig", newline="") as starter:
        return {
            row["state"].strip().upper()
            for row in csv.DictReader(starter)
            if row["level"] == "state"
            and row["kind"] == "statute"
            and row["status"] == "adopted"
            and row["source_url"].strip()
            and row["confidence"] != "low"
        }


def national_coverage():
    """What the home page computes and shows."""
    return progress.national_progress().coverage


def test_people_under_state_law_with_the_starter_dataset(starter_dataset, no_populations):
    call_command("load_population", verbosity=0)
    coverage = national_coverage()

    law_states = starter_law_states()
    assert law_states  # the starter dataset has state laws
    expected = sum(POP_2022[us.states.lookup(code).fips] for code in law_states)
    assert coverage.total == 333_287_557
    assert coverage.under_law == expected
    assert coverage.under_law_share == expected / 333_287_557
    assert {usps for usps, state in coverage.states.items() if state.under_law} == law_states
    # The covered total includes every law state; cities alone are never part of it.
    assert coverage.under_law <= coverage.covered <= coverage.total
    assert coverage.covered + coverage.place_only <= coverage.total
