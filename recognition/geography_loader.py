"""Load the reference geography: the nation, the states and territories, their counties, and map shapes.

Names and FIPS codes come from the `us` package; shapes come from the us-atlas TopoJSON
(data/us-atlas), matched by FIPS. The atlas predates Connecticut's planning regions and
some Alaska changes, so mismatches are reported, never fatal.

The loader owns only the rows and fields it sets. It deletes nothing, never touches places,
districts or anything else staff created, and writes only rows whose values differ, so a
second run changes nothing.
"""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import us
from django.db import transaction
from django.utils.text import slugify

from .geography import Shape, decode_shapes, feature_names, shared_borders
from .models import Jurisdiction, Level

ATLAS_DIR = Path(__file__).resolve().parent / "data" / "us-atlas"
STATES_ATLAS = ATLAS_DIR / "states-albers-10m.json"
COUNTIES_ATLAS = ATLAS_DIR / "counties-albers-10m.json"

NATION_NAME = "United States"
REFERENCE_LEVELS = (Level.NATION, Level.STATE, Level.COUNTY)
# Every field the loader may compare or write; loading only these keeps the read cheap.
LOADED_FIELDS = (
    "level",
    "name",
    "slug",
    "parent_id",
    "fips",
    "usps",
    "is_territory",
    "shape",
    "shape_viewbox",
)
BATCH_SIZE = 500
TERRITORY_USPS = {state.fips: state.abbr for state in us.states.STATES_AND_TERRITORIES if state.is_territory}


@dataclass
class Atlas:
    """The atlas, decoded once. Keys are FIPS codes: 2 digits for states, 5 for counties."""

    shapes: dict[str, Shape]
    names: dict[str, str]
    county_borders: set[tuple[str, str]] = field(default_factory=set)  # FIPS pairs sharing a border


@dataclass
class GeographyReport:
    created: Counter = field(default_factory=Counter)  # rows per level
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    shapes_attached: Counter = field(default_factory=Counter)  # jurisdictions per level with an atlas shape
    unmatched_shapes: dict[str, str] = field(default_factory=dict)  # atlas FIPS -> atlas name
    shapeless: dict[str, str] = field(default_factory=dict)  # FIPS -> jurisdiction with no atlas shape
    too_small: set[str] = field(default_factory=set)  # in the atlas, but collapses to nothing at 0.1
    neighbors_added: int = 0  # pairs of counties newly recorded as sharing a border
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        """A few lines for the command's output: counts, then what did not match and why."""
        lines = [
            f"Geography loaded in {self.seconds:.2f} s: {self.created.total()} created, "
            f"{self.updated.total()} updated, {self.unchanged.total()} unchanged.",
            *(
                f"  {Level(level).label}: {self.created[level]} created, {self.updated[level]} updated, "
                f"{self.unchanged[level]} unchanged"
                for level in REFERENCE_LEVELS
            ),
            f"Shapes: {self.shapes_attached[Level.STATE]} states, "
            f"{self.shapes_attached[Level.COUNTY]} counties.",
            f"Neighboring counties: {self.neighbors_added} pairs sharing a border added.",
        ]
        if self.unmatched_shapes:
            listed = "; ".join(f"{fips} {name}" for fips, name in sorted(self.unmatched_shapes.items()))
            lines.append(f"Atlas shapes matching no jurisdiction ({len(self.unmatched_shapes)}): {listed}.")
        if self.shapeless:
            lines.append(
                f"Jurisdictions with no atlas shape ({len(self.shapeless)}): {self.describe_shapeless()}."
            )
        return lines

    def describe_shapeless(self) -> str:
        # The atlas draws no territory: count those in one phrase, and name the surprises.
        in_territories = [fips for fips in self.shapeless if fips[:2] in TERRITORY_USPS]
        parts = [
            f"{fips} {label}" + (" (too small to draw)" if fips in self.too_small else "")
            for fips, label in sorted(self.shapeless.items())
            if fips[:2] not in TERRITORY_USPS
        ]
        if in_territories:
            codes = ", ".join(sorted({TERRITORY_USPS[fips[:2]] for fips in in_territories}))
            parts.insert(
                0, f"{len(in_territories)} in the territories ({codes}), which the atlas does not cover"
            )
        return "; ".join(parts)


def load_geography(
    states_atlas: Path = STATES_ATLAS, counties_atlas: Path = COUNTIES_ATLAS
) -> GeographyReport:
    """Create or update the nation, states, territories and counties, with their shapes."""
    started = time.perf_counter()
    atlas = read_atlas(states_atlas, counties_atlas)  # parsed before the transaction: no lock held meanwhile
    report = GeographyReport()
    with transaction.atomic():
        rows = ReferenceRows.fetch()
        nation = rows.sync(Level.NATION, [nation_values()], report)[0]
        states = rows.sync(Level.STATE, state_values(nation, atlas), report)
        state_pks = {state.fips: state.pk for state in states}
        counties = rows.sync(Level.COUNTY, county_values(state_pks, atlas), report)
        report.neighbors_added = record_neighbors(counties, atlas)
    record_mismatches(report, atlas)
    report.seconds = time.perf_counter() - started
    return report


def read_atlas(states_path: Path = STATES_ATLAS, counties_path: Path = COUNTIES_ATLAS) -> Atlas:
    states = json.loads(states_path.read_text(encoding="utf-8"))
    counties = json.loads(counties_path.read_text(encoding="utf-8"))
    return Atlas(
        shapes=decode_shapes(states, "states") | decode_shapes(counties, "counties"),
        names=feature_names(states, "states") | feature_names(counties, "counties"),
        county_borders=shared_borders(counties, "counties"),
    )


def record_neighbors(counties: list[Jurisdiction], atlas: Atlas) -> int:
    """Record every pair of counties that share a border in the atlas (both ways); never removes one.

    Computed once here, from the topology, so a county page reads its neighbors with one query.
    Returns the number of pairs added.
    """
    pk_by_fips = {county.fips: county.pk for county in counties if county.fips}
    Through = Jurisdiction.neighbors.through
    existing = set(Through.objects.values_list("from_jurisdiction_id", "to_jurisdiction_id"))
    added = []
    for a, b in sorted(atlas.county_borders):
        if a in pk_by_fips and b in pk_by_fips:
            for source, target in ((pk_by_fips[a], pk_by_fips[b]), (pk_by_fips[b], pk_by_fips[a])):
                if (source, target) not in existing:
                    added.append(Through(from_jurisdiction_id=source, to_jurisdiction_id=target))
    Through.objects.bulk_create(added, batch_size=2000)
    return len(added) // 2


def nation_values() -> dict:
    return {"name": NATION_NAME, "parent_id": None, "fips": None, "usps": ""}


def state_values(nation: Jurisdiction, atlas: Atlas) -> list[dict]:
    """The 50 states, DC and the five inhabited territories, as `us` knows them."""
    return [
        {
            "name": state.name,
            "parent_id": nation.pk,
            "fips": state.fips,
            "usps": state.abbr,
            "is_territory": state.is_territory,
            **shape_values(atlas, state.fips),
        }
        for state in sorted(us.states.STATES_AND_TERRITORIES, key=lambda state: state.fips)
    ]


def county_values(state_pks: dict[str, int], atlas: Atlas) -> list[dict]:
    """Every county or county-equivalent `us` lists, under its state."""
    return [
        {
            "name": county.name,
            "parent_id": state_pks[state.fips],
            "fips": county.fips,
            **shape_values(atlas, county.fips),
        }
        for state in sorted(us.states.STATES_AND_TERRITORIES, key=lambda state: state.fips)
        for county in sorted(state.counties or [], key=lambda county: county.fips)
    ]


def shape_values(atlas: Atlas, fips: str) -> dict:
    # No atlas shape means "the atlas does not say", not "no shape": leave whatever is stored.
    shape = atlas.shapes.get(fips)
    return {"shape": shape.path, "shape_viewbox": shape.viewbox} if shape else {}


class ReferenceRows:
    """The rows already stored, matched to what the loader wants, with every (parent, slug) in use."""

    def __init__(self, rows: list[Jurisdiction], slugs_in_use: Counter):
        self.nation = next((row for row in rows if row.level == Level.NATION), None)
        self.by_fips = {row.fips: row for row in rows if row.fips}
        self.by_usps = {row.usps: row for row in rows if row.usps}
        # A county someone typed in without a FIPS code is adopted rather than duplicated.
        self.unnumbered = {(row.level, row.parent_id, row.slug): row for row in rows if not row.fips}
        self.slugs_in_use = slugs_in_use
        self.claimed: set[int] = set()

    @classmethod
    def fetch(cls) -> "ReferenceRows":
        rows = list(Jurisdiction.objects.filter(level__in=REFERENCE_LEVELS).only(*LOADED_FIELDS))
        slugs_in_use = Counter(Jurisdiction.objects.values_list("parent_id", "slug"))
        return cls(rows, slugs_in_use)

    def sync(self, level: Level, wanted: list[dict], report: GeographyReport) -> list[Jurisdiction]:
        """Create the missing rows and update the differing ones, in bulk; return them in `wanted` order."""
        synced, to_create, to_update, changed_fields = [], [], [], set()
        for values in wanted:
            row = self.match(level, values)
            values = {**values, "slug": self.claim_slug(row, values)}
            if row is None:
                row = Jurisdiction(level=level, **values)
                to_create.append(row)
            elif changed := [name for name, value in values.items() if getattr(row, name) != value]:
                for name in changed:
                    setattr(row, name, values[name])
                to_update.append(row)
                changed_fields.update(changed)
            else:
                report.unchanged[level] += 1
            if "shape" in values:
                report.shapes_attached[level] += 1
            synced.append(row)
        Jurisdiction.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            Jurisdiction.objects.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH_SIZE)
        report.created[level] += len(to_create)
        report.updated[level] += len(to_update)
        return synced

    def match(self, level: Level, values: dict) -> Jurisdiction | None:
        """The stored row for these values, claimed so no other values can match it too."""
        for row in self.candidates(level, values):
            if row is not None and row.level == level and row.pk not in self.claimed:
                self.claimed.add(row.pk)
                return row
        return None

    def candidates(self, level: Level, values: dict) -> list[Jurisdiction | None]:
        # FIPS codes identify reference rows; the USPS code or the name under the parent
        # find rows someone entered by hand before the loader first ran.
        if level == Level.NATION:
            return [self.nation]
        return [
            self.by_fips.get(values["fips"]),
            self.by_usps.get(values.get("usps", "")),
            self.unnumbered.get((level, values["parent_id"], slugify(values["name"]))),
        ]

    def claim_slug(self, row: Jurisdiction | None, values: dict) -> str:
        """slugify(name), or slugify(name)-fips when another row under the same parent already has it.

        The row's own current slug does not count against it, so a second run picks the same slug.
        """
        parent_id, slug = values["parent_id"], slugify(values["name"])
        owned = (row.parent_id, row.slug) if row is not None else None
        if self.slugs_in_use[(parent_id, slug)] - (owned == (parent_id, slug)) > 0:
            slug = f"{slug}-{values['fips']}"
        if owned != (parent_id, slug):
            if owned is not None:
                self.slugs_in_use[owned] -= 1
            self.slugs_in_use[(parent_id, slug)] += 1
        return slug


def record_mismatches(report: GeographyReport, atlas: Atlas) -> None:
    """Note the atlas shapes no jurisdiction took, and the jurisdictions the atlas has no shape for."""
    wanted = {state.fips: state.name for state in us.states.STATES_AND_TERRITORIES}
    wanted |= {
        county.fips: f"{county.name}, {state.abbr}"
        for state in us.states.STATES_AND_TERRITORIES
        for county in state.counties or []
    }
    report.unmatched_shapes = {fips: atlas.names.get(fips, "") for fips in atlas.shapes if fips not in wanted}
    report.shapeless = {fips: label for fips, label in wanted.items() if fips not in atlas.shapes}
    report.too_small = {fips for fips in report.shapeless if fips in atlas.names}
