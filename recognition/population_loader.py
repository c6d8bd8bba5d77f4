"""Load population estimates onto the states and counties, matched by FIPS code.

The file is the Census Bureau's Vintage 2022 county totals as shipped in
data/census/ (see its README): one row per state (50 and DC) and per county,
with `pop_2022` stored as `Jurisdiction.population` and 2022 as its
`population_year`.

The loader follows the import rules (and reads the file the same way): the whole file is
checked before anything is written, and a single bad row means nothing is
written; every problem is named by line and column. It owns only those two
fields, writes only the rows whose figures differ (a second run writes
nothing), creates and deletes nothing, and reads and writes in bulk.

Geography and estimates do not always agree (the 2022 estimates have
Connecticut's planning regions, the geography its old counties): rows that
match no jurisdiction and states or counties that get no figure are reported,
never guessed. The territories are not in the file; their figures are left as
they are (blank unless someone entered them).
"""

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import csvfile
from .coverage import POPULATION_SOURCE, POPULATION_YEAR
from .csvfile import RowError
from .models import Jurisdiction, Level

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "census" / f"population_{POPULATION_YEAR}.csv"
COLUMNS = ("level", "fips", "state_name", "name", "pop_2020", "pop_2021", "pop_2022")
FIGURE_COLUMNS = ("pop_2020", "pop_2021", "pop_2022")  # all checked; one stored
STORED_COLUMN = f"pop_{POPULATION_YEAR}"
FIPS_DIGITS = {Level.STATE: 2, Level.COUNTY: 5}
LEVELS = tuple(FIPS_DIGITS)
MAX_FIGURE = 2**63 - 1  # PositiveBigIntegerField
BATCH_SIZE = 500


@dataclass(frozen=True)
class Estimate:
    """One row of the file, checked."""

    line: int
    level: str
    fips: str
    name: str
    state_name: str
    population: int  # the stored year's figure

    @property
    def label(self) -> str:
        return self.name if self.level == Level.STATE else f"{self.name}, {self.state_name}"


@dataclass
class PopulationReport:
    path: str
    year: int = POPULATION_YEAR
    errors: list[RowError] = field(default_factory=list)  # any error: nothing was written
    rows: int = 0  # rows read from the file
    updated: Counter = field(default_factory=Counter)  # jurisdictions per level
    unchanged: Counter = field(default_factory=Counter)
    unmatched: dict[str, str] = field(default_factory=dict)  # FIPS in the file -> its name there
    missing: dict[str, str] = field(default_factory=dict)  # FIPS (or "#pk") -> jurisdiction with no figure
    territories: Counter = field(default_factory=Counter)  # USPS -> its states/counties not in the file
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        """A few lines for the command's output: counts, then what did not match."""
        matched = self.updated.total() + self.unchanged.total()
        lines = [
            f"Population ({POPULATION_SOURCE}, July 1, {self.year}) from {self.path} in {self.seconds:.2f} s: "
            f"{self.rows:,} rows; {self.updated.total():,} updated, {self.unchanged.total():,} unchanged.",
            *(
                f"  {plural}: {self.updated[level]:,} updated, {self.unchanged[level]:,} unchanged"
                for level, plural in ((Level.STATE, "States"), (Level.COUNTY, "Counties"))
            ),
        ]
        if self.rows and not matched:
            lines.append("No row matched a jurisdiction: run `manage.py load_geography` first.")
        if self.unmatched:
            listed = "; ".join(f"{fips} {label}" for fips, label in sorted(self.unmatched.items()))
            lines.append(f"Rows matching no jurisdiction, not loaded ({len(self.unmatched)}): {listed}.")
        if self.missing:
            listed = "; ".join(f"{key} {label}" for key, label in sorted(self.missing.items()))
            lines.append(f"States and counties with no figure in the file ({len(self.missing)}): {listed}.")
        if self.territories:
            codes = ", ".join(sorted(self.territories))
            lines.append(
                f"Territories ({codes}): not in the file; their {self.territories.total():,} "
                "jurisdictions are left as they are."
            )
        return lines


# --- Public entry point ---------------------------------------------------------------------------


def load_population(path: str | Path = DEFAULT_PATH) -> PopulationReport:
    """Check the file and, if every row is valid, set the population of the states and counties in it.

    Raises OSError only when the file cannot be opened; every problem in its
    contents is reported in `PopulationReport.errors`, and then nothing is written.
    """
    started = time.perf_counter()
    report = PopulationReport(path=str(path))
    estimates, report.errors = read_estimates(Path(path).read_bytes())
    if not report.errors:
        report.rows = len(estimates)
        with transaction.atomic():
            apply_estimates(estimates, report)
    report.seconds = time.perf_counter() - started
    return report


# --- Reading and checking the file (no database) ---------------------------------------------------


def read_estimates(data: bytes) -> tuple[list[Estimate], list[RowError]]:
    """Parse the whole file; return (estimates, errors), the estimates complete only without errors."""
    rows, errors = csvfile.read_rows(data, COLUMNS)
    if errors and not rows and errors[0].line == 1:
        return [], errors  # nothing to read: an empty file, a missing column, not UTF-8
    estimates, first_line = [], {}
    for line, record in rows:
        cells = _Cells(line, record)
        estimate = cells.parse()
        errors.extend(cells.errors)
        if estimate is None:
            continue
        if estimate.fips in first_line:
            errors.append(
                RowError(
                    line, "fips", f"FIPS {estimate.fips} again: first on line {first_line[estimate.fips]}"
                )
            )
            continue
        first_line[estimate.fips] = line
        estimates.append(estimate)
    return estimates, csvfile.sort_errors(errors, COLUMNS)


class _Cells(csvfile.Cells):
    """Reads one row's cells, collecting an error per bad cell instead of stopping at the first."""

    def parse(self) -> Estimate | None:
        level = self.level()
        fips = self.fips(level)
        figures = {column: self.figure(column) for column in FIGURE_COLUMNS}
        if self.errors:
            return None
        return Estimate(
            line=self.line,
            level=level,
            fips=fips,
            name=self.text("name"),
            state_name=self.text("state_name"),
            population=figures[STORED_COLUMN],
        )

    def level(self) -> str | None:
        return self.choice("level", {level: level for level in LEVELS})

    def fips(self, level: str | None) -> str:
        value = self.record["fips"].strip()
        digits = [FIPS_DIGITS[level]] if level else sorted(FIPS_DIGITS.values())
        if not (value.isascii() and value.isdigit() and len(value) in digits):
            wanted = f"{digits[0]} digits" if level else "2 digits for a state, 5 for a county"
            what = f"a {level} FIPS code" if level else "a FIPS code"
            shown = f"“{value}”" if value else "blank"
            hint = ""
            if level and value.isascii() and value.isdigit() and len(value) < digits[0]:
                hint = f" (did a spreadsheet drop a leading zero? {value.zfill(digits[0])})"
            self.error("fips", f"{shown} is not {what}: {wanted}{hint}")
        return value

    def figure(self, column: str) -> int | None:
        value = self.record[column].strip()
        if value.isascii() and value.isdigit():
            number = int(value)
            if number <= MAX_FIGURE:
                return number
            self.error(column, f"{value} is too large to be a population")
        elif not value:
            self.error(column, "required: a whole number of people")
        elif value.startswith("-") and value[1:].isascii() and value[1:].isdigit():
            self.error(column, f"{value} is negative: a population is 0 or more")
        else:
            plain = value.replace(",", "").replace(" ", "")
            hint = f" (write it without separators: {plain})" if plain.isascii() and plain.isdigit() else ""
            self.error(column, f"“{value}” is not a whole number of people{hint}")
        return None


# --- Writing ----------------------------------------------------------------------------------------

# What the loader reads of each stored state and county: enough to compare, update and report.
_STORED = (
    "pk",
    "level",
    "fips",
    "name",
    "population",
    "population_year",
    "usps",
    "is_territory",
    "parent__usps",
    "parent__is_territory",
)


def apply_estimates(estimates: list[Estimate], report: PopulationReport) -> None:
    """Match the estimates to the stored states and counties by FIPS and update the differing ones.

    One query reads every state and county; the updates go in batches of BATCH_SIZE.
    """
    by_fips = {estimate.fips: estimate for estimate in estimates}
    to_update, stored_fips = [], set()
    for row in Jurisdiction.objects.filter(level__in=LEVELS).values_list(*_STORED):
        pk, level, fips, name, population, year, usps, is_territory, parent_usps, parent_is_territory = row
        if level == Level.COUNTY:
            usps, is_territory = parent_usps, parent_is_territory
        stored_fips.add(fips)
        estimate = by_fips.get(fips) if fips else None
        if estimate is None:
            if is_territory:
                report.territories[usps] += 1
            elif fips:
                report.missing[fips] = name if level == Level.STATE else f"{name}, {usps}"
            else:
                report.missing[f"#{pk}"] = f"{name}, {usps} (no FIPS code)"
        elif (population, year) == (estimate.population, report.year):
            report.unchanged[level] += 1
        else:
            to_update.append(Jurisdiction(pk=pk, population=estimate.population, population_year=report.year))
            report.updated[level] += 1
    if to_update:
        Jurisdiction.objects.bulk_update(to_update, ["population", "population_year"], batch_size=BATCH_SIZE)
    report.unmatched = {fips: e.label for fips, e in by_fips.items() if fips not in stored_fips}
