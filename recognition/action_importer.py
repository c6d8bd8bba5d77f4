"""Bulk import of measures' actions (their legislative history) from a CSV file.

The same service shape as the import of measures (recognition/importer.py), whose row outcomes,
messages and change reason it shares: two doors (`manage.py import_actions` and the admin's
upload-with-preview), all or nothing, in three passes:
1. read the file into raw rows, each with the line it starts on (header = line 1);
2. parse every row, find its measure and plan each action as created, updated or unchanged, in a
   fixed number of queries whatever the file's length;
3. write, only when no row has an error and this is not a dry run, in one transaction, then store
   the stage of every measure touched.

An action is identified by its measure, date, classification and chamber (as the database's
`action_unique_per_day` does): a re-import changes only its description, source or date precision,
and writes nothing at all when the file agrees with the database. A row that would leave a measure's
actions contradicting its status is refused here, with its line, rather than by the database.
The columns are described in the README ("The data").
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import alerts, csvfile, stages
from .csvfile import RowError
from .dates import PartialDate
from .importer import FILE_LEVELS, Report, change_reason
from .importer import Action as Outcome  # a row's outcome: created, updated, unchanged
from .models import Action, ActionClassification, Chamber, Jurisdiction, Level, Resolution, name_key

COLUMNS = (
    "level", "state", "jurisdiction", "identifier", "date", "chamber", "classification", "description",
    "source_url",
)  # fmt: skip

# Read from the models, so the file's limits and the database's never drift apart.
_LENGTH_LIMITED = {
    "identifier": (Resolution, "identifier"),
    "description": (Action, "description"),
    "source_url": (Action, "source_url"),
}
_CLASSIFICATIONS = {value: value for value in ActionClassification.values}
_CHAMBERS = {value: value for value in Chamber.values}
# What a re-import may change on an action it finds: the rest is the action's identity.
_UPDATABLE_FIELDS = ("on_precision", "description", "source_url")
_FIELD_COLUMNS = {"on_precision": "date", "description": "description", "source_url": "source_url"}
BATCH_SIZE = 500


def is_actions_file(data):
    """Whether a file's header is an actions file's: it names `classification`, a measures file `kind`.

    `data` is the file's bytes (or text); only its first line is read.
    """
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    header = {name.strip() for name in next(csv.reader([text.partition("\n")[0]]), [])}
    return "classification" in header and "kind" not in header


# --- The report: what both doors show -------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    """What happened (or, in a dry run, would happen) to one row's action."""

    line: int
    action: Outcome
    jurisdiction: str  # "Alabama", "Mobile County, AL"
    resolution: str  # the measure's identifier
    date: str  # as in the file: 2025-09
    chamber: str
    classification: str
    published: bool  # the measure's publication: its actions are public with it
    changed_fields: tuple[str, ...] = ()  # for an update: the columns whose values differ


@dataclass(frozen=True)
class StageChange:
    """A measure whose stage the import moves."""

    jurisdiction: str
    resolution: str
    before: str  # stage labels
    after: str

    def __str__(self):
        return f"{self.resolution} ({self.jurisdiction}): {self.before} → {self.after}"


@dataclass
class ImportReport(Report):
    """`allow_publish` False: a row adding or changing an action of a published measure is an error."""

    stage_changes: list[StageChange] = field(default_factory=list)

    @property
    def measures(self):
        return len({(row.jurisdiction, row.resolution) for row in self.rows})

    def summary(self):
        """One sentence for a message or a log line."""
        if self.errors:
            return f"{len(self.errors)} error(s); nothing was imported."
        verb = "would change" if self.dry_run else "changed"
        return (
            f"{len(self.rows)} actions: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, for {self.measures} measures; "
            f"{len(self.stage_changes)} stages {verb}."
        )


# --- Public entry point ---------------------------------------------------------------------------


def import_actions(source, *, dry_run=False, allow_publish=True):
    """Validate a CSV file of actions and, if every row is valid and `dry_run` is false, import it.

    `source` is a path (str or Path), bytes, or an open file, text or binary (an admin upload).
    Raises OSError only when a path cannot be opened; every problem in the file's contents is
    reported in `ImportReport.errors` instead. With `allow_publish=False` (someone who may not
    publish: an editor in the admin) a row that would add or change an action of a published
    measure is an error, as a change to the measure itself would be.
    """
    report = ImportReport(dry_run=dry_run, allow_publish=allow_publish)
    raw_rows, report.errors = csvfile.read_rows(source, COLUMNS)
    if report.errors:
        return report
    parsed, errors = parse_rows(raw_rows)
    measures = Measures.for_rows(parsed)
    targets, match_errors = measures.match(parsed)
    report.errors = csvfile.sort_errors(errors + match_errors + find_duplicates(targets), COLUMNS)
    if report.errors:
        return report
    saved = SavedActions.of(targets)
    plans = plan_rows(targets, saved)
    report.errors = status_conflicts(plans, saved)
    if not allow_publish:
        report.errors += published_changes(plans)
    if report.errors:
        report.errors = csvfile.sort_errors(report.errors, COLUMNS)
        return report
    report.stage_changes = stage_changes(plans, saved)
    if not dry_run:
        write(plans)
    report.rows = [plan.result() for plan in plans]
    return report


# --- Pass 2a: parsing each row on its own (no database) -------------------------------------------


@dataclass
class ParsedRow:
    """A row's values, converted; a value that did not parse is None and has an error."""

    line: int
    level: str | None
    usps: str
    name: str
    identifier: str
    date: PartialDate | None
    chamber: str | None
    classification: str | None
    description: str
    source_url: str

    @property
    def parsed(self):
        return None not in (self.level, self.date, self.chamber, self.classification)


def parse_rows(raw_rows):
    parsed, errors = [], []
    for line, record in raw_rows:
        cells = _Cells(line, record)
        parsed.append(cells.parse())
        errors.extend(cells.errors)
    return parsed, errors


class _Cells(csvfile.Cells):
    limits = {
        column: model._meta.get_field(field_name).max_length
        for column, (model, field_name) in _LENGTH_LIMITED.items()
    }

    def parse(self):
        return ParsedRow(
            line=self.line,
            level=self.choice("level", FILE_LEVELS),
            usps=self.text("state").upper(),
            name=self.text("jurisdiction"),
            identifier=self.identifier(),
            date=self.required_date("date"),
            chamber=self.chamber(),
            classification=self.choice("classification", _CLASSIFICATIONS),
            description=self.required_text("description"),
            source_url=self.required_url("source_url"),
        )

    def identifier(self):
        value = self.text("identifier")
        if not value:
            self.error("identifier", "required: the measure's number, as in its record (H.R. 540, HB 414)")
        return value

    def required_date(self, column):
        if not self.text(column):
            self.error(column, "required: a year (2022), a year and month (2022-09) or a full date")
            return None
        return self.partial_date(column)

    def chamber(self):
        """lower, upper, executive, or blank when no chamber acted (a bill dying with its session)."""
        return self.choice("chamber", _CHAMBERS) if self.text("chamber") else ""

    def required_url(self, column):
        value = self.url(column)
        if not value:
            self.error(column, "required: the web address of the source that reports the action")
        return value


# --- Pass 2b: finding each row's measure ----------------------------------------------------------


def _where(jurisdiction):
    """ "United States", "Alabama", "Mobile County, AL": where a measure is."""
    if jurisdiction.level in (Level.NATION, Level.STATE):
        return jurisdiction.name
    return f"{jurisdiction.name}, {jurisdiction.parent.usps}"


def _measure_key(level, usps, name, identifier):
    """How a row names its measure: a state's by its code, a local one by its name in its state."""
    if level == Level.NATION:
        return (level, "", "", identifier)
    if level == Level.STATE:
        return (level, usps, "", identifier)
    return (level, usps, name_key(name), identifier)


@dataclass
class Target:
    """A row and its measure."""

    row: ParsedRow
    measure: Resolution

    @property
    def key(self):
        """An action's identity, as the database's unique constraint has it."""
        return (self.measure.pk, self.row.date.start, self.row.classification, self.row.chamber)


class Measures:
    """The measures the file names, fetched in one query by their numbers (and the states in another)."""

    def __init__(self, states, resolutions):
        self.states = {state.usps: state for state in states}
        self.by_key = defaultdict(list)
        for resolution in resolutions:
            jurisdiction = resolution.jurisdiction
            usps = jurisdiction.state.usps if jurisdiction.state else ""
            key = _measure_key(jurisdiction.level, usps, jurisdiction.name, resolution.identifier)
            self.by_key[key].append(resolution)

    @classmethod
    def for_rows(cls, rows):
        states = Jurisdiction.objects.filter(level=Level.STATE).only("name", "usps", "level")
        identifiers = {row.identifier for row in rows if row.identifier}
        resolutions = Resolution.objects.filter(identifier__in=identifiers).select_related(
            "jurisdiction", "jurisdiction__parent"
        )
        return cls(list(states), list(resolutions))

    def match(self, rows):
        """([Target], errors) for the rows whose cells all parsed."""
        targets, errors = [], []
        for row in rows:
            if not (row.parsed and row.identifier):
                continue  # already reported
            measure, error = self.find(row)
            if error:
                errors.append(error)
            else:
                targets.append(Target(row, measure))
        return targets, errors

    def find(self, row):
        """(the row's measure, None), or (None, the RowError saying why there is not exactly one)."""
        if row.level == Level.NATION:
            if row.usps:
                return None, RowError(row.line, "state", "a federal row has no state: leave it blank")
            where = "the United States"
        else:
            if not row.usps:
                message = f"required for a {row.level} row: the state's USPS code, e.g. AL"
                return None, RowError(row.line, "state", message)
            state = self.states.get(row.usps)
            if state is None:
                message = f"unknown state “{row.usps}”: use a USPS code such as AL, TX or PR"
                return None, RowError(row.line, "state", message)
            if row.level != Level.STATE and not row.name:
                return None, RowError(row.line, "jurisdiction", f"required: the {row.level}'s name")
            where = state.name if row.level == Level.STATE else f"{row.name}, {row.usps}"
        found = self.by_key.get(_measure_key(row.level, row.usps, row.name, row.identifier), [])
        if len(found) == 1:
            return found[0], None
        if not found:
            message = (
                f"no measure “{row.identifier}” of {where} ({row.level}): check the level, state, "
                "jurisdiction and identifier, or import the measure first"
            )
        else:
            titles = "; ".join(f"“{measure.title}”" for measure in found)
            message = (
                f"{len(found)} measures of {where} are numbered “{row.identifier}” ({titles}): "
                "give each its own number in the admin first"
            )
        return None, RowError(row.line, "identifier", message)


def find_duplicates(targets):
    """A second row for the same action would silently overwrite the first: report both lines."""
    first_line, errors = {}, []
    for target in targets:
        if target.key in first_line:
            message = (
                f"duplicate of line {first_line[target.key]}: same measure, date, classification and chamber "
                "(a measure has one such action a day)"
            )
            errors.append(RowError(target.row.line, "classification", message))
        else:
            first_line[target.key] = target.row.line
    return errors


# --- Pass 2c: planning against the actions already saved ------------------------------------------


class SavedActions:
    """The saved actions of every measure the file names, in one query."""

    def __init__(self, actions):
        self.by_key = {}
        self.by_measure = defaultdict(list)
        for action in actions:
            self.by_key[(action.resolution_id, action.on, action.classification, action.chamber)] = action
            self.by_measure[action.resolution_id].append(action)

    @classmethod
    def of(cls, targets):
        measures = {target.measure.pk for target in targets}
        return cls(Action.objects.filter(resolution__in=measures).order_by("pk") if measures else [])


def _action_values(row):
    """The fields a row sets on its action, as the model stores them (so they compare with a saved one)."""
    return {"on_precision": row.date.precision, "description": row.description, "source_url": row.source_url}


# New actions come after every saved one of the same period and kind, in the order of the file.
_NEW_ORDER = 1 << 40


@dataclass
class Plan:
    target: Target
    saved: Action | None  # the saved action, None when it is created
    changes: list[str]
    action: Outcome = field(init=False)

    def __post_init__(self):
        if self.saved is None:
            self.action = Outcome.CREATED
        else:
            self.action = Outcome.UPDATED if self.changes else Outcome.UNCHANGED

    @property
    def row(self):
        return self.target.row

    @property
    def measure(self):
        return self.target.measure

    @property
    def writes(self):
        return self.action != Outcome.UNCHANGED

    @property
    def step(self):
        """The action as the stage rules will read it after the import."""
        row = self.row
        order = self.saved.pk if self.saved else _NEW_ORDER + row.line
        return stages.Step(
            row.date.start, row.date.precision, row.classification, row.chamber, row.description, order
        )

    def result(self):
        row = self.row
        return RowResult(
            line=row.line,
            action=self.action,
            jurisdiction=_where(self.measure.jurisdiction),
            resolution=self.measure.identifier,
            date=row.date.isoformat(),
            chamber=row.chamber,
            classification=row.classification,
            published=self.measure.published,
            changed_fields=tuple(dict.fromkeys(_FIELD_COLUMNS[name] for name in self.changes)),
        )


def plan_rows(targets, saved):
    plans = []
    for target in targets:
        action = saved.by_key.get(target.key)
        changes = []
        if action is not None:
            changes = [
                name for name, value in _action_values(target.row).items() if getattr(action, name) != value
            ]
        plans.append(Plan(target, action, changes))
    return plans


def _by_measure(plans):
    """The plans of each measure the import writes to, grouped by measure, in the order of the file."""
    grouped = defaultdict(list)
    for plan in plans:
        grouped[plan.measure.pk].append(plan)
    return [group for group in grouped.values() if any(plan.writes for plan in group)]


def _steps_after(plans, saved):
    """A measure's actions as they will be: the saved ones (updated where the file says), and the new."""
    planned = {plan.saved.pk: plan for plan in plans if plan.saved is not None}
    steps = [
        planned[action.pk].step if action.pk in planned else action.step
        for action in saved.by_measure[plans[0].measure.pk]
    ]
    return steps + [plan.step for plan in plans if plan.saved is None]


def status_conflicts(plans, saved):
    """A measure's status must agree with its actions (a veto on an adopted law cannot be): say where not.

    The error goes on the line of the latest action the file adds or changes for that measure.
    """
    errors = []
    for group in _by_measure(plans):
        measure = group[0].measure
        problem = measure.status_conflict(_steps_after(group, saved))
        if problem is None:
            continue
        written = {plan.step: plan for plan in group if plan.writes}
        culprit = written[stages.chronological(written)[-1]]
        message = (
            f"“{measure.identifier}” ({_where(measure.jurisdiction)}) has the status "
            f"{measure.status}, and this action contradicts it. {problem}"
        )
        errors.append(RowError(culprit.row.line, "classification", message))
    return errors


def published_changes(plans):
    """For someone who may not publish: an error for each row that adds to or changes a published measure."""
    return [
        RowError(
            plan.row.line,
            "identifier",
            f"“{plan.measure.identifier}” ({_where(plan.measure.jurisdiction)}) is published, and only a "
            "publisher can add or change its actions: remove this row, or ask a publisher to import the file",
        )
        for plan in plans
        if plan.writes and plan.measure.published
    ]


def stage_changes(plans, saved):
    """The measures whose stage the import moves, with their stage before and after."""
    changes = []
    for group in _by_measure(plans):
        measure = group[0].measure
        after = measure.progress(_steps_after(group, saved)).stage
        if after != measure.stage:
            where = _where(measure.jurisdiction)
            before = stages.Stage(measure.stage).label
            changes.append(StageChange(where, measure.identifier, before, after.label))
    return changes


# --- Pass 3: writing ------------------------------------------------------------------------------


def write(plans):
    """Save everything planned in one transaction, in bulk, then store the stage of each measure touched."""
    created, updated = [], []
    now = timezone.now()
    for plan in plans:
        if plan.action == Outcome.CREATED:
            action = Action(
                resolution=plan.measure,
                on=plan.row.date.start,
                chamber=plan.row.chamber,
                classification=plan.row.classification,
                **_action_values(plan.row),
            )
            created.append(action)
        elif plan.action == Outcome.UPDATED:
            action = plan.saved
            for name, value in _action_values(plan.row).items():
                setattr(action, name, value)
            action.updated_at = now  # bulk_update leaves auto_now fields alone
            updated.append(action)
        else:
            continue
        action._change_reason = change_reason(plan.row.line)  # shown in the action's history
    if not (created or updated):
        return
    with transaction.atomic():
        if created:
            bulk_create_with_history(created, Action, batch_size=BATCH_SIZE)
            alerts.actions_created(created)  # no save signal in bulk: news for followers all the same
        if updated:
            bulk_update_with_history(
                updated, Action, [*_UPDATABLE_FIELDS, "updated_at"], batch_size=BATCH_SIZE
            )
        touched = {plan.measure.pk for plan in plans if plan.writes}
        Resolution.objects.filter(pk__in=touched).refresh_progress()
