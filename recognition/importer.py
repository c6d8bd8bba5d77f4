"""Bulk import of resolutions from a CSV file in the starter dataset's format.

One implementation behind two doors: the `import_resolutions` management command
and the admin's upload-with-preview. It never prints; `import_resolutions()`
returns an `ImportReport` that either door can render.

All or nothing, in three passes:
1. read the file into raw rows, each with the line it starts on (header = line 1);
2. parse every row, match its jurisdiction and its existing resolution (lookups
   are fetched once for the whole file), and plan created/updated/unchanged/skipped;
3. write, only when no row has an error and this is not a dry run, in one transaction.

A re-import never undoes staff work: an existing record keeps its publication, and a record
that staff changed since its last import (told by its change history) is skipped unless the
caller asks to overwrite it. The columns are described in the README ("The data").
"""

import datetime
import enum
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from . import csvfile
from .csvfile import RowError
from .dates import PartialDate
from .models import Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status, name_key

# Every write of an import carries this reason in the record's history (then ", line N"): it is how a
# later import tells the values it wrote from a person's edits.
CHANGE_REASON = "CSV import"

COLUMNS = (
    "level", "state", "jurisdiction", "county", "fips", "body", "kind", "status", "identifier", "title",
    "introduced_on", "adopted_on", "effective_on", "summary", "source_url", "source_title", "source_accessed",
    "confidence",
)  # fmt: skip

# The file says "federal" where the model says "nation": the file speaks as people do ("nation", as the
# site's own CSV downloads say, is taken too, so a download can be imported back).
FILE_LEVELS = {
    "federal": Level.NATION,
    "nation": Level.NATION,
    "state": Level.STATE,
    "county": Level.COUNTY,
    "place": Level.PLACE,
    "district": Level.DISTRICT,
}

# Columns stored in a length-limited field: the limit is read from the model so the two never drift apart.
_LENGTH_LIMITED = {
    "jurisdiction": (Jurisdiction, "name"),
    "county": (Jurisdiction, "name"),
    "body": (Resolution, "body"),
    "identifier": (Resolution, "identifier"),
    "title": (Resolution, "title"),
    "source_url": (Source, "url"),
    "source_title": (Source, "title"),
}

_DATE_COLUMNS = ("introduced_on", "adopted_on", "effective_on")


# --- The report: what both doors show -------------------------------------------------------------


class Action(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # the file differs from a record staff changed: left as staff left it


class StaffChange(enum.StrEnum):
    """Why a record is the staff's rather than the file's: a row that differs from it is skipped."""

    EDITED = "edited in the admin since import"
    ENTERED = "entered in the admin, not by an import"
    DELETED = "deleted in the admin since import"


OVERWRITE_HINT = "use --overwrite"


@dataclass(frozen=True)
class RowResult:
    """What happened (or, in a dry run, would happen) to one row's resolution."""

    line: int
    action: Action
    jurisdiction: str  # "Mobile County, AL"
    resolution: str  # its identifier, else its title
    published: bool
    changed_fields: tuple[str, ...] = ()  # for an update or a skip: the columns whose values differ
    resolution_id: int | None = None  # None in a dry run for a resolution not created yet
    staff_change: StaffChange | None = None  # set when the row differs from a record staff changed

    @property
    def overwritten(self):
        return self.action in (Action.UPDATED, Action.CREATED) and self.staff_change is not None

    def skip_message(self, remedy=OVERWRITE_HINT):
        """E.g. "line 12: skipped, edited in the admin since import; use --overwrite"; "" unless skipped."""
        if self.action != Action.SKIPPED:
            return ""
        return f"line {self.line}: skipped, {self.staff_change}; {remedy}"


@dataclass(frozen=True)
class NewJurisdiction:
    """A city, town or district the file names that does not exist yet (created on import)."""

    line: int  # the first line that names it
    level: str
    name: str
    state: str  # USPS code
    county: str  # the county's name, or ""


@dataclass
class Report:
    """What an import did or, in a dry run, would do: its errors, or a result per row (`.action`)."""

    dry_run: bool
    allow_publish: bool = True
    errors: list[RowError] = field(default_factory=list)
    rows: list = field(default_factory=list)  # empty when there are errors

    @property
    def ok(self):
        return not self.errors

    @property
    def written(self):
        return self.ok and not self.dry_run

    def _count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self):
        return self._count(Action.CREATED)

    @property
    def updated(self):
        return self._count(Action.UPDATED)

    @property
    def unchanged(self):
        return self._count(Action.UNCHANGED)


@dataclass
class ImportReport(Report):
    """`allow_publish` False: every row comes in as a draft (an editor's import)."""

    overwrite: bool = False  # True: records staff changed since their import are updated all the same
    new_jurisdictions: list[NewJurisdiction] = field(default_factory=list)

    @property
    def skipped(self):
        return self._count(Action.SKIPPED)

    @property
    def skipped_rows(self):
        return [row for row in self.rows if row.action == Action.SKIPPED]

    def skip_reasons(self):
        """Why rows were skipped, in a few words: "edited in the admin since import"."""
        reasons = {row.staff_change for row in self.skipped_rows}
        if len(reasons) == 1:
            return str(reasons.pop())
        return "edited or entered in the admin" if reasons else ""

    @property
    def published(self):
        return sum(1 for row in self.rows if row.published)

    @property
    def drafts(self):
        return sum(1 for row in self.rows if not row.published)

    def summary(self):
        """One sentence for a message or a log line."""
        if self.errors:
            return f"{len(self.errors)} error(s); nothing was imported."
        verb = "would be" if self.dry_run else "were"
        skipped = f", {self.skipped} skipped ({self.skip_reasons()})" if self.skipped else ""
        return (
            f"{len(self.rows)} rows: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged{skipped}; {self.published} published, {self.drafts} drafts; "
            f"{len(self.new_jurisdictions)} new places or districts {verb} created."
        )


# --- Public entry point ---------------------------------------------------------------------------


def import_resolutions(source, *, dry_run=False, allow_publish=True, overwrite=False):
    """Validate a CSV file and, if every row is valid and `dry_run` is false, import it.

    `source` is a path (str or Path) or an open file, text or binary (an admin upload).
    Raises OSError only when a path cannot be opened; every problem in the file's
    contents is reported in `ImportReport.errors` instead.

    A new record is published when it has a source link and is not of low confidence. An
    existing record keeps its publication whatever the row says: publishing and unpublishing
    are a publisher's decisions, which a file must not undo. With `allow_publish=False`
    (someone who may not publish: an editor in the admin) every new record comes in as a
    draft, and a row that would change a published record is an error.

    A row for a record that staff changed since its last import (or entered in the admin) is
    skipped, so that re-importing a file never undoes their corrections; `overwrite=True` is
    the explicit way to put the file's values back.
    """
    report = ImportReport(dry_run=dry_run, allow_publish=allow_publish, overwrite=overwrite)
    raw_rows, report.errors = read_rows(source)
    if report.errors:
        return report
    parsed, report.errors = parse_rows(raw_rows)
    if not allow_publish:
        for row in parsed:
            row.publish_allowed = False
    lookups = Lookups.for_rows(parsed)
    targets, match_errors = match_jurisdictions(parsed, lookups)
    report.errors = csvfile.sort_errors(report.errors + match_errors + find_duplicates(targets), COLUMNS)
    if report.errors:
        return report
    existing = ExistingResolutions.for_targets(targets)
    plans = plan_rows(targets, existing, overwrite=overwrite)
    report.errors = lowered_confidence(plans) + status_conflicts(plans)
    if not allow_publish:
        report.errors += published_changes(plans, existing.cited)
    if report.errors:
        report.errors = csvfile.sort_errors(report.errors, COLUMNS)
        return report
    if not dry_run:
        write(plans, lookups)
    report.rows = [plan.result() for plan in plans]
    report.new_jurisdictions = lookups.new_jurisdictions_report()
    return report


# --- Pass 1: reading ------------------------------------------------------------------------------


def read_rows(source):
    """Return ([(line, {column: value})], errors); the errors concern the file as a whole."""
    return csvfile.read_rows(source, COLUMNS)


# --- Pass 2a: parsing each row on its own (no database) -------------------------------------------


@dataclass
class ParsedRow:
    """A row's values, converted; a value that did not parse is None and has an error."""

    line: int
    level: str | None
    usps: str
    name: str
    county_name: str
    fips: str
    body: str
    kind: str | None
    status: str | None
    identifier: str
    title: str
    summary: str
    introduced: PartialDate | None
    adopted: PartialDate | None
    effective: PartialDate | None
    source_url: str
    source_title: str
    source_accessed: datetime.date | None
    confidence: str | None
    publish_allowed: bool = True  # False when the person importing may not publish

    @property
    def published(self):
        # A record the public sees must be checkable and checked.
        return self.publish_allowed and bool(self.source_url) and self.confidence != Confidence.LOW

    @property
    def label(self):
        return self.identifier or self.title


def parse_rows(raw_rows):
    parsed, errors = [], []
    for line, record in raw_rows:
        cells = _Cells(line, record)
        parsed.append(cells.parse())
        errors.extend(cells.errors)
    return parsed, errors


class _Cells(csvfile.Cells):
    """Reads one row's cells, collecting an error per bad cell instead of stopping at the first."""

    # Read from the model, so the file's limits and the database's never drift apart.
    limits = {
        column: model._meta.get_field(field_name).max_length
        for column, (model, field_name) in _LENGTH_LIMITED.items()
    }

    def parse(self):
        row = ParsedRow(
            line=self.line,
            level=self.choice("level", FILE_LEVELS),
            usps=self.text("state").upper(),
            name=self.text("jurisdiction"),
            county_name=self.text("county"),
            fips=self.text("fips"),
            body=self.text("body"),
            kind=self.choice("kind", {value: value for value in Kind.values}),
            status=self.choice("status", {value: value for value in Status.values}),
            identifier=self.text("identifier"),
            title=self.required_text("title"),
            summary=self.text("summary"),
            introduced=self.partial_date("introduced_on"),
            adopted=self.partial_date("adopted_on"),
            effective=self.partial_date("effective_on"),
            source_url=self.url("source_url"),
            source_title=self.text("source_title"),
            source_accessed=self.date("source_accessed"),
            confidence=self.choice("confidence", {value: value for value in Confidence.values}),
        )
        self.check_dates(row)
        self.check_source(row)
        return row

    def check_dates(self, row):
        if row.introduced and row.adopted and row.adopted.is_certainly_before(row.introduced):
            self.error("adopted_on", f"adopted ({row.adopted}) is before introduced ({row.introduced})")
        if row.status == Status.INTRODUCED and row.adopted:
            self.error(
                "adopted_on",
                "a pending (introduced) measure has no adoption date: clear it, or set the status to adopted",
            )

    def check_source(self, row):
        if row.source_accessed and not (row.source_url or row.source_title):
            self.error("source_accessed", "an access date needs a source: give source_url or source_title")


# --- Pass 2b: matching jurisdictions --------------------------------------------------------------


# Names match whatever the spreadsheet did to case and to accent encoding ("DOÑA ANA COUNTY"), as the
# admin's duplicate check does.
_name_key = name_key


def _label(jurisdiction, usps):
    if jurisdiction.level in (Level.NATION, Level.STATE):
        return jurisdiction.name
    return f"{jurisdiction.name}, {usps}"


class Lookups:
    """Every jurisdiction the file can refer to, fetched in two queries rather than a few per row.

    New places and districts are added here as unsaved instances, so a later row naming
    the same place finds it, and `write()` saves each once.
    """

    def __init__(self, top_level, local):
        self.nation = next((j for j in top_level if j.level == Level.NATION), None)
        states = [j for j in top_level if j.level == Level.STATE]
        self.states_by_usps = {state.usps: state for state in states}
        self.states_by_fips = {state.fips: state for state in states if state.fips}
        self.states_by_id = {state.pk: state for state in states}
        self.counties_by_fips = {j.fips: j for j in local if j.level == Level.COUNTY and j.fips}
        self.by_name = {(j.parent_id, j.level, _name_key(j.name)): j for j in local}
        self.slugs = defaultdict(set)
        for jurisdiction in local:
            self.slugs[jurisdiction.parent_id].add(jurisdiction.slug)
        self.new = []  # [(first line, unsaved Jurisdiction)]
        self.relinked = []  # existing places whose missing county the file supplies

    @classmethod
    def for_rows(cls, rows):
        top_level = list(Jurisdiction.objects.filter(level__in=[Level.NATION, Level.STATE]))
        usps = {row.usps for row in rows}
        involved = [state for state in top_level if state.level == Level.STATE and state.usps in usps]
        # Counties named by FIPS in another state are fetched too, to say which state they are in.
        fipses = {row.fips for row in rows if row.fips}
        in_file = Q(parent__in=involved) | Q(level=Level.COUNTY, fips__in=fipses)
        local = list(Jurisdiction.objects.filter(in_file))
        return cls(top_level, local)

    def find(self, state, level, name):
        return self.by_name.get((state.pk, level, _name_key(name)))

    def add_new(self, line, level, name, state, county):
        jurisdiction = Jurisdiction(
            level=level, name=name, parent=state, county=county, slug=self.free_slug(state, name, level)
        )
        self.by_name[(state.pk, level, _name_key(name))] = jurisdiction
        self.new.append((line, jurisdiction))
        return jurisdiction

    def free_slug(self, state, name, level):
        """A slug from the name, unique among the state's jurisdictions (the URL is /<usps>/<slug>/)."""
        base = (slugify(name) or level)[:190]
        slug, number = base, 1
        while slug in self.slugs[state.pk]:
            number += 1
            slug = f"{base}-{number}"
        self.slugs[state.pk].add(slug)
        return slug

    def first_line(self, new_jurisdiction):
        return next(line for line, jurisdiction in self.new if jurisdiction is new_jurisdiction)

    def new_jurisdictions_report(self):
        return [
            NewJurisdiction(
                line=line,
                level=j.level,
                name=j.name,
                state=j.parent.usps,
                county=j.county.name if j.county else "",
            )
            for line, j in self.new
        ]


@dataclass
class Target:
    """A row matched to its jurisdiction (possibly one this import creates)."""

    row: ParsedRow
    jurisdiction: Jurisdiction
    changes_county: bool = False  # the row supplies an existing place's missing county

    @property
    def jurisdiction_key(self):
        # New jurisdictions have no pk yet; their identity in this import is the instance itself.
        return self.jurisdiction.pk if self.jurisdiction.pk is not None else ("new", id(self.jurisdiction))

    @property
    def natural_key(self):
        """How a row finds its resolution on re-import: the number when there is one, else the title."""
        if self.row.identifier:
            return (self.jurisdiction_key, self.row.kind, "identifier", self.row.identifier)
        return (self.jurisdiction_key, self.row.kind, "title", self.row.title)

    @property
    def label(self):
        return _label(self.jurisdiction, self.row.usps)


def match_jurisdictions(rows, lookups):
    """Return ([Target], errors) for the rows whose cells all parsed."""
    targets, errors = [], []
    for row in rows:
        if row.level is None:
            continue  # already reported; without a level there is nothing to match
        matcher = _Matcher(row, lookups)
        target = matcher.match()
        errors.extend(matcher.errors)
        if target is not None:
            targets.append(target)
    return targets, errors


class _Matcher:
    def __init__(self, row, lookups):
        self.row = row
        self.lookups = lookups
        self.errors = []

    def error(self, column, message):
        self.errors.append(RowError(self.row.line, column, message))

    def match(self):
        if self.row.level == Level.NATION:
            return self.match_nation()
        state = self.state()
        if state is None:
            return None
        if self.row.level == Level.STATE:
            return self.match_state(state)
        if self.row.level == Level.COUNTY:
            return self.match_county(state)
        return self.match_locality(state)

    def target(self, jurisdiction, changes_county=False):
        return Target(self.row, jurisdiction, changes_county)

    def match_nation(self):
        if self.row.usps:
            self.error("state", "a federal row has no state: leave it blank")
        if self.row.fips:
            self.error("fips", "a federal row has no FIPS code: leave it blank")
        if self.lookups.nation is None:
            self.error("level", "the nation is not in the database: run `manage.py load_geography` first")
            return None
        return self.target(self.lookups.nation)

    def state(self):
        if not self.row.usps:
            self.error("state", f"required for a {self.row.level} row: the state's USPS code, e.g. AL")
            return None
        state = self.lookups.states_by_usps.get(self.row.usps)
        if state is None:
            self.error("state", f"unknown state “{self.row.usps}”: use a USPS code such as AL, TX or PR")
        return state

    def match_state(self, state):
        if self.row.fips and self.row.fips != state.fips:
            other = self.lookups.states_by_fips.get(self.row.fips)
            found = f"is {other.name}" if other else "matches no state"
            self.error("fips", f"FIPS {self.row.fips} {found}, but the row's state is {state.name}")
        return self.target(state)

    def match_county(self, state):
        county = self.county_by_fips(state) if self.row.fips else self.county_by_name(state, "jurisdiction")
        return self.target(county) if county else None

    def county_by_fips(self, state):
        fips = self.row.fips
        if not (len(fips) == 5 and fips.isdigit()):
            hint = f" (did a spreadsheet drop a leading zero? {fips.zfill(5)})" if fips.isdigit() else ""
            self.error("fips", f"“{fips}” is not a county FIPS code: 5 digits{hint}")
            return None
        county = self.lookups.counties_by_fips.get(fips)
        if county is None:
            self.error("fips", f"FIPS {fips} matches no county")
        elif county.parent_id != state.pk:
            elsewhere = self.lookups.states_by_id[county.parent_id].name
            self.error("fips", f"FIPS {fips} is {county.name} in {elsewhere}, not in {state.name}")
            county = None
        return county

    def county_by_name(self, state, column):
        name = self.row.name if column == "jurisdiction" else self.row.county_name
        if not name:
            self.error(column, "required: the county's name (or give its FIPS code)")
            return None
        county = self.lookups.find(state, Level.COUNTY, name)
        if county is None:
            self.error(column, f"no county named “{name}” in {state.name}")
        return county

    def match_locality(self, state):
        """Cities, towns and districts are matched by name in their state, and created when new."""
        if self.row.fips:
            self.error("fips", f"a {self.row.level} has no FIPS code here: leave it blank")
        if not self.row.name:
            self.error("jurisdiction", f"required: the {self.row.level}'s name")
            return None
        county = self.county_by_name(state, "county") if self.row.county_name else None
        if self.row.county_name and county is None:
            return None
        existing = self.lookups.find(state, self.row.level, self.row.name)
        if existing is None:
            created = self.lookups.add_new(self.row.line, self.row.level, self.row.name, state, county)
            return self.target(created)
        return self.link_county(existing, county)

    def link_county(self, locality, county):
        """The file may fill in a missing county, but never silently moves a place to another county."""
        if county is None or locality.county_id == county.pk:
            return self.target(locality)
        if locality.county_id is None:
            locality.county = county  # in memory: later rows for this place see it as linked
            if locality.pk is None:
                return self.target(locality)
            self.lookups.relinked.append(locality)
            return self.target(locality, changes_county=True)
        if locality.pk is None:
            earlier = (
                f"line {self.lookups.first_line(locality)} puts {locality.name} in {locality.county.name}"
            )
        else:
            earlier = f"{locality.name} is recorded in {locality.county.name}"
        self.error("county", f"{earlier}, not {county.name}: fix one of them")
        return None


def find_duplicates(targets):
    """A second row with the same natural key would silently overwrite the first: report both lines."""
    first_line = {}
    errors = []
    for target in targets:
        if target.row.kind is None:
            continue
        key = target.natural_key
        if key in first_line:
            column = "identifier" if target.row.identifier else "title"
            message = (
                f"duplicate of line {first_line[key]}: same jurisdiction ({target.label}), kind and {column}"
            )
            errors.append(RowError(target.row.line, column, message))
        else:
            first_line[key] = target.row.line
    return errors


# --- Pass 2c: planning against existing resolutions -----------------------------------------------

_DATE_FIELDS = tuple(f"{column}{suffix}" for column in _DATE_COLUMNS for suffix in ("", "_precision"))
# What an import writes and a person may later change: everything a row sets except publication.
_IMPORTED_RESOLUTION_FIELDS = (
    "jurisdiction_id", "kind", "status", "body", "identifier", "title", "summary", "confidence", *_DATE_FIELDS,
)  # fmt: skip
_IMPORTED_SOURCE_FIELDS = ("url", "title", "accessed_on")
_KEY_FIELDS = ("jurisdiction_id", "kind", "identifier", "title")


def _natural_key(jurisdiction_id, kind, identifier, title):
    """The same shape as Target.natural_key."""
    if identifier:
        return (jurisdiction_id, kind, "identifier", identifier)
    return (jurisdiction_id, kind, "title", title)


def _imported_values(history, fields, *extra):
    """{id: values} as the latest import left each object, read from its change history in one query."""
    latest = {}
    entries = (
        history.filter(history_change_reason__startswith=CHANGE_REASON)
        .order_by("-history_date", "-history_id")
        .values("id", *extra, *fields)
    )
    for entry in entries:
        latest.setdefault(entry.pop("id"), entry)
    return latest


class ExistingResolutions:
    """The resolutions (with their sources) the file can match, and what their last import wrote.

    A fixed number of queries whatever the file's length: the resolutions of every matched
    jurisdiction with their sources, their import history, their sources' import history, and
    (only when staff moved an imported record to another jurisdiction) those records.
    """

    def __init__(self, resolutions, imports):
        self.by_key = {self.natural_key(resolution): resolution for resolution in resolutions}
        self.imports = imports  # {resolution id: its imported values}
        self.by_imported_key = {}  # records staff re-keyed (number, title, jurisdiction) since import
        self.source_imports = defaultdict(dict)  # {resolution id: {source id: its imported values}}
        self.cited = set()  # ids of the jurisdictions that published records name
        self.deleted = set()  # natural keys, as imported, of records staff deleted since

    @staticmethod
    def natural_key(resolution):
        return _natural_key(*(getattr(resolution, name) for name in _KEY_FIELDS))

    @classmethod
    def for_targets(cls, targets):
        ids = {target.jurisdiction.pk for target in targets if target.jurisdiction.pk is not None}
        if not ids:
            return cls([], {})
        resolutions = list(Resolution.objects.filter(jurisdiction_id__in=ids).prefetch_related("sources"))
        # Every record now in these jurisdictions or imported into one of them, with its latest import
        # wherever that was (a subquery: still one query).
        involved = Resolution.history.filter(
            Q(jurisdiction_id__in=ids) | Q(id__in=[resolution.pk for resolution in resolutions])
        ).values("id")
        imports = _imported_values(Resolution.history.filter(id__in=involved), _IMPORTED_RESOLUTION_FIELDS)
        moved = set(imports) - {resolution.pk for resolution in resolutions}
        if moved:  # includes deleted records, which the query simply does not return
            resolutions += Resolution.objects.filter(pk__in=moved).prefetch_related("sources")
        existing = cls(resolutions, imports)
        existing.cited = {resolution.jurisdiction_id for resolution in resolutions if resolution.published}
        gone = set(imports) - {resolution.pk for resolution in resolutions}
        existing.deleted = {_natural_key(*(imports[pk][name] for name in _KEY_FIELDS)) for pk in gone}
        matched = existing.match_rekeyed(targets, resolutions)
        sources = _imported_values(
            Source.history.filter(resolution_id__in=matched), _IMPORTED_SOURCE_FIELDS, "resolution_id"
        )
        for source_id, values in sources.items():
            existing.source_imports[values.pop("resolution_id")][source_id] = values
        return existing

    def match_rekeyed(self, targets, resolutions):
        """Let a row find the record it created even after staff changed that record's natural key.

        Without this, correcting a number in the admin would make the next import create the
        record again, beside the corrected one. Returns the ids of every record a row matches.
        """
        matched = {
            self.by_key[key].pk for key in (target.natural_key for target in targets) if key in self.by_key
        }
        by_id = {resolution.pk: resolution for resolution in resolutions}
        for resolution_id, values in sorted(self.imports.items()):
            key = _natural_key(*(values[name] for name in _KEY_FIELDS))
            if resolution_id in by_id and resolution_id not in matched and key not in self.by_key:
                self.by_imported_key.setdefault(key, by_id[resolution_id])
        wanted = {target.natural_key for target in targets}
        matched |= {resolution.pk for key, resolution in self.by_imported_key.items() if key in wanted}
        return matched

    def get(self, target):
        return self.by_key.get(target.natural_key) or self.by_imported_key.get(target.natural_key)

    def staff_change(self, resolution):
        """Why staff own this record now (None when it is as its last import left it)."""
        imported = self.imports.get(resolution.pk)
        if imported is None:
            return StaffChange.ENTERED
        if _changed(resolution, imported):
            return StaffChange.EDITED
        # Compared by value, so that a source an overwrite put back counts as the import's own.
        current = {_source_fields(source) for source in resolution.sources.all()}  # prefetched
        if any(
            _source_fields(values) not in current for values in self.source_imports[resolution.pk].values()
        ):
            return StaffChange.EDITED
        return None


def _resolution_values(row):
    """The model fields a row sets, as the model stores them (so they compare with an existing record)."""
    values = {
        "kind": row.kind,
        "status": row.status,
        "body": row.body,
        "identifier": row.identifier,
        "title": row.title,
        "summary": row.summary,
        "confidence": row.confidence,
    }
    for column, date in zip(_DATE_COLUMNS, (row.introduced, row.adopted, row.effective), strict=True):
        values[column] = date.start if date else None
        values[f"{column}_precision"] = date.precision if date else ""
    return values


def _source_values(row):
    return {"url": row.source_url, "title": row.source_title, "accessed_on": row.source_accessed}


def _source_fields(source):
    """A source's imported values (from a Source or from a dict of its history), comparable as a tuple."""
    if isinstance(source, dict):
        return tuple(source[name] for name in _IMPORTED_SOURCE_FIELDS)
    return tuple(getattr(source, name) for name in _IMPORTED_SOURCE_FIELDS)


def _changed(instance, values):
    return [name for name, value in values.items() if getattr(instance, name) != value]


def _matching_source(resolution, row, imported):
    """The row's source among the resolution's: same URL, or same title when the row has no URL.

    Failing that, the source an import wrote with those values and staff have changed since
    (`imported`: {source id: its imported values}), so that an overwrite puts it back rather than
    adding a second one.
    """
    if not (row.source_url or row.source_title):
        return None

    def is_the_rows(url, title):
        return (row.source_url and url == row.source_url) or (
            not row.source_url and not url and title == row.source_title
        )

    sources = resolution.sources.all()  # prefetched
    for source in sources:
        if is_the_rows(source.url, source.title):
            return source
    for source in sources:
        if source.pk in imported and is_the_rows(imported[source.pk]["url"], imported[source.pk]["title"]):
            return source
    return None


@dataclass
class Plan:
    target: Target
    resolution: Resolution | None  # the existing record, None when it is created
    source: Source | None  # the existing source, None when one is created (or the row has none)
    resolution_changes: list[str]
    source_changes: list[str]
    staff_change: StaffChange | None = None  # why the existing record is the staff's, if it is
    overwrite: bool = False
    action: Action = field(init=False)
    saved_id: int | None = None  # set by write() for a created resolution

    def __post_init__(self):
        # Decided once, before writing: after the write every record "exists" and looks unchanged.
        if self.resolution is None:
            deleted = self.staff_change is not None and not self.overwrite
            self.action = Action.SKIPPED if deleted else Action.CREATED
        elif not (self.resolution_changes or self.source_changes or self.target.changes_county):
            self.action = Action.UNCHANGED  # even when staff edited it: the file agrees with them
        elif self.staff_change is not None and not self.overwrite:
            self.action = Action.SKIPPED
        else:
            self.action = Action.UPDATED

    @property
    def row(self):
        return self.target.row

    @property
    def writes(self):
        return self.action in (Action.CREATED, Action.UPDATED)

    @property
    def published(self):
        """Whether the record is public after the import."""
        return _planned_values(self.row, self.resolution)["published"]

    def changed_fields(self):
        """The CSV columns behind the changes (a date and its precision are one column)."""
        if self.action not in (Action.UPDATED, Action.SKIPPED):
            return ()
        names = [name.removesuffix("_precision") for name in self.resolution_changes]
        names += [f"source_{'accessed' if name == 'accessed_on' else name}" for name in self.source_changes]
        if self.target.changes_county:
            names.append("county")
        return tuple(dict.fromkeys(names))

    def result(self):
        return RowResult(
            line=self.row.line,
            action=self.action,
            jurisdiction=self.target.label,
            resolution=self.row.label,
            published=self.published,
            changed_fields=self.changed_fields(),
            resolution_id=self.resolution.pk if self.resolution else self.saved_id,
            staff_change=self.staff_change if self.action != Action.UNCHANGED else None,
        )


def _planned_values(row, resolution):
    """The values a row sets on its record. Publication is the row's only for a new record."""
    values = _resolution_values(row)
    values["published"] = row.published if resolution is None else resolution.published
    return values


def plan_rows(targets, existing, overwrite=False):
    plans = []
    for target in targets:
        resolution = existing.get(target)
        resolution_changes, staff_change, source = [], None, None
        if resolution is not None:
            source = _matching_source(resolution, target.row, existing.source_imports[resolution.pk])
            resolution_changes = _changed(resolution, _planned_values(target.row, resolution))
            if resolution.jurisdiction_id != target.jurisdiction.pk:  # moved by staff since its import
                resolution_changes.insert(0, "jurisdiction")
            staff_change = existing.staff_change(resolution)
        elif target.natural_key in existing.deleted:
            staff_change = StaffChange.DELETED  # imported once, deleted by staff: not brought back unasked
        if source is not None:
            source_changes = _changed(source, _source_values(target.row))
        elif target.row.source_url or target.row.source_title:
            source_changes = ["url" if target.row.source_url else "title"]  # a source to add
        else:
            source_changes = []
        plans.append(
            Plan(target, resolution, source, resolution_changes, source_changes, staff_change, overwrite)
        )
    return plans


def lowered_confidence(plans):
    """A published record is never of low confidence (a database rule), so a file cannot lower it."""
    return [
        RowError(
            plan.row.line,
            "confidence",
            "the record is published; a publisher must unpublish it before its confidence can be lowered",
        )
        for plan in plans
        if plan.action == Action.UPDATED
        and plan.resolution.published
        and plan.row.confidence == Confidence.LOW
    ]


def status_conflicts(plans):
    """A status the record's saved actions contradict (adopted, after a veto) is refused here, with its line.

    The database would refuse it too; this says why, in words. Two queries, and only when a row
    updates a record.
    """
    updates = {plan.resolution.pk: plan for plan in plans if plan.action == Action.UPDATED}
    if not updates:
        return []
    errors = []
    records = Resolution.objects.filter(pk__in=updates, actions__isnull=False).distinct()
    for record in records.select_related("jurisdiction__parent").prefetch_related("actions"):
        plan = updates[record.pk]
        record.status, record.kind = plan.row.status, plan.row.kind
        if record.jurisdiction_id != plan.target.jurisdiction.pk:  # moved by staff since its import
            record.jurisdiction = plan.target.jurisdiction
        problem = record.status_conflict([action.step for action in record.actions.all()])
        if problem:
            contradiction = (
                f"the actions recorded for “{plan.row.label}” contradict the status {plan.row.status}"
            )
            errors.append(RowError(plan.row.line, "status", f"{contradiction}. {problem}"))
    return errors


def published_changes(plans, cited):
    """For someone who may not publish: an error for each row that would change a published record.

    Giving a place its county moves it on the map, and with it every published record naming it.
    """
    errors = []
    for plan in plans:
        if plan.target.changes_county and plan.target.jurisdiction.pk in cited:
            errors.append(
                RowError(
                    plan.row.line,
                    "county",
                    f"{plan.target.label} is named by published records, and only a publisher can "
                    "move it to a county: remove the county, or ask a publisher to import the file",
                )
            )
            continue
        if plan.action == Action.UPDATED and plan.resolution.published:
            column = "identifier" if plan.row.identifier else "title"
            errors.append(
                RowError(
                    plan.row.line,
                    column,
                    f"“{plan.row.label}” ({plan.target.label}) is published, and only a publisher can "
                    "change a published record: remove this row, or ask a publisher to import the file",
                )
            )
    return errors


# --- Pass 3: writing ------------------------------------------------------------------------------


def write(plans, lookups):
    """Save everything planned in one transaction: a failure half-way leaves the database as it was."""
    with transaction.atomic():
        for line, jurisdiction in lookups.new:
            jurisdiction._change_reason = change_reason(line)
            jurisdiction.save()
        # A skipped row writes nothing, not even the county it names for a place.
        written_to = {id(plan.target.jurisdiction) for plan in plans if plan.writes}
        for locality in lookups.relinked:
            if id(locality) not in written_to:
                continue
            locality._change_reason = "CSV import: county filled in"
            locality.save(update_fields=["county"])
        for plan in plans:
            if plan.writes:
                _write_plan(plan)


def _write_plan(plan):
    resolution = plan.resolution
    if resolution is None or plan.resolution_changes:
        resolution = resolution or Resolution()
        resolution.jurisdiction = plan.target.jurisdiction  # saved by now, so the FK takes its pk
        for name, value in _planned_values(plan.row, plan.resolution).items():
            setattr(resolution, name, value)
        resolution._change_reason = change_reason(plan.row.line)  # shown in the record's history
        resolution.save()
        plan.saved_id = resolution.pk
    if plan.source_changes:
        source = plan.source or Source(resolution=resolution)
        for name, value in _source_values(plan.row).items():
            setattr(source, name, value)
        source._change_reason = change_reason(plan.row.line)
        source.save()


def change_reason(line):
    """What an import writes in the history of each record it saves: "CSV import, line 12"."""
    return f"{CHANGE_REASON}, line {line}"
