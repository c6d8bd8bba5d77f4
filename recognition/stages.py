"""Legislative stages: where a measure stands, from its actions and its status.

Pure functions over small immutable `Step` records; no ORM, no Django, like the
map status rules. The vocabulary of actions follows Open States' action
classifications.

The rules, in words:

* Actions are read in date order. A date known only to the month or the year is
  placed at the end of its period (the latest it can be), so a vaguer action is
  never hidden behind a precise one inside its period ("passed, September 2025"
  comes after "reported by committee, 2 September 2025"); actions in the same
  period keep the order of a measure's life (introduced, referred, reported,
  passed, signed, in force), then the order they were recorded in.
* Progress only moves forward: a measure's progress is the furthest step any of
  its actions reached. A bill has passed both chambers once each has passed it;
  a measure of one body (a county, city or district's, a proclamation, an
  executive order) goes straight from introduced to adopted: its passage or
  signature adopts it.
* A veto, failure or withdrawal ends a measure, until a later action takes it
  further than it had gone before (a veto overridden by "became law").
* An adopted measure is in force once its recorded effective date has come
  (the whole period: "2022" from December 31, 2022), whether or not a "became law"
  action is recorded. This is read on the day (`current_stage`), since the date
  passes without any change to the record: the stored stage stays "adopted".
* Status settles what actions do not record: an adopted measure whose actions
  stop short of a signature is "signed or adopted", a failed one with no final
  action "failed". Where the two contradict (a signature on a pending measure, a
  veto on an adopted one) `conflict` says so in words, and the database refuses
  the pair: the stage of a pending measure is always a pending stage, of an
  adopted one adopted or in force, of a failed one vetoed, failed or withdrawn.

Values are plain strings (the same as the models' choices), so this module
imports nothing from Django; tests/test_stages.py checks they match the models.
"""

import calendar
import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass

# Measure status, level and kind values (the models' choices).
INTRODUCED, ADOPTED, FAILED = "introduced", "adopted", "failed"
COUNTY, PLACE, DISTRICT = "county", "place", "district"
PROCLAMATION, EXECUTIVE_ORDER = "proclamation", "executive_order"
NATION = "nation"

# Chambers.
LOWER, UPPER, EXECUTIVE = "lower", "upper", "executive"


class Classification(enum.StrEnum):
    """What an action did (Open States' words), in the order of a measure's life."""

    INTRODUCTION = "introduction"
    REFERRAL_COMMITTEE = "referral-committee"
    COMMITTEE_PASSAGE = "committee-passage"
    PASSAGE = "passage"
    EXECUTIVE_SIGNATURE = "executive-signature"
    EXECUTIVE_VETO = "executive-veto"
    BECAME_LAW = "became-law"
    FAILURE = "failure"
    WITHDRAWAL = "withdrawal"

    @property
    def label(self):
        return _CLASSIFICATION_LABELS[self]


_CLASSIFICATION_LABELS = {
    Classification.INTRODUCTION: "Introduced",
    Classification.REFERRAL_COMMITTEE: "Referred to committee",
    Classification.COMMITTEE_PASSAGE: "Passed committee",
    Classification.PASSAGE: "Passed",
    Classification.EXECUTIVE_SIGNATURE: "Signed",
    Classification.EXECUTIVE_VETO: "Vetoed",
    Classification.BECAME_LAW: "Became law",
    Classification.FAILURE: "Failed",
    Classification.WITHDRAWAL: "Withdrawn",
}
# Position in a measure's life, for actions in the same period.
_LIFE_ORDER = {classification: index for index, classification in enumerate(Classification)}


class Stage(enum.StrEnum):
    """Where a measure stands. Pending stages first (furthest last), then the outcomes."""

    do_not_call_in_templates = enum.nonmember(True)

    def __new__(cls, value, label, rule):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.rule = rule
        return member

    INTRODUCED = "introduced", "Introduced", "Introduced, and no further step recorded."
    IN_COMMITTEE = "in_committee", "In committee", "Referred to a committee, which has not reported it."
    PASSED_COMMITTEE = "passed_committee", "Passed committee", "A committee reported it favourably."
    PASSED_LOWER = (
        "passed_lower",
        "Passed the lower chamber",
        "Passed the House (or Assembly), not the Senate.",
    )
    PASSED_UPPER = (
        "passed_upper",
        "Passed the upper chamber",
        "Passed the Senate, not the House (or Assembly).",
    )
    PASSED_BOTH = (
        "passed_both",
        "Passed both chambers",
        "Passed every chamber of the legislature; not yet signed.",
    )
    ADOPTED = (
        "adopted",
        "Signed or adopted",
        "Signed by the executive, or adopted by the body that votes on it (a resolution, an ordinance).",
    )
    IN_FORCE = (
        "in_force",
        "In force",
        "Became law and took effect: a “became law” action, or its recorded effective date has come.",
    )
    VETOED = "vetoed", "Vetoed", "The executive vetoed it, and no override is recorded."
    FAILED = "failed", "Failed", "It failed a vote, or died when its session ended."
    WITHDRAWN = "withdrawn", "Withdrawn", "Its sponsor withdrew it."

    @property
    def ended(self):
        """A veto, failure or withdrawal."""
        return self in ENDED_STAGES


PENDING_STAGES = (
    Stage.INTRODUCED,
    Stage.IN_COMMITTEE,
    Stage.PASSED_COMMITTEE,
    Stage.PASSED_LOWER,
    Stage.PASSED_UPPER,
    Stage.PASSED_BOTH,
)
ADOPTED_STAGES = (Stage.ADOPTED, Stage.IN_FORCE)
ENDED_STAGES = (Stage.VETOED, Stage.FAILED, Stage.WITHDRAWN)
# The stages each status allows: what the database's check constraint spells out too.
STAGES_BY_STATUS = {INTRODUCED: PENDING_STAGES, ADOPTED: ADOPTED_STAGES, FAILED: ENDED_STAGES}

# How far a measure has gone; the passed-one-chamber stages are equally far.
_PROGRESS = {
    Stage.INTRODUCED: 0,
    Stage.IN_COMMITTEE: 1,
    Stage.PASSED_COMMITTEE: 2,
    Stage.PASSED_LOWER: 3,
    Stage.PASSED_UPPER: 3,
    Stage.PASSED_BOTH: 4,
    Stage.ADOPTED: 5,
    Stage.IN_FORCE: 6,
}
_ENDING = {
    Classification.EXECUTIVE_VETO: Stage.VETOED,
    Classification.FAILURE: Stage.FAILED,
    Classification.WITHDRAWAL: Stage.WITHDRAWN,
}


def progress_rank(stage):
    """How far a pending or adopted stage has gone (0 introduced .. 6 in force); None for an ending."""
    return _PROGRESS.get(Stage(stage))


# --- Steps --------------------------------------------------------------------


def _period_end(start, precision):
    if precision == "year":
        return datetime.date(start.year, 12, 31)
    if precision == "month":
        return datetime.date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


@dataclass(frozen=True, slots=True)
class Step:
    """One action, reduced to what the stage rules need.

    `on` is the first day of its period and `precision` "year", "month" or "day"
    (as the database stores a partial date); `order` breaks ties between actions
    of the same period and kind (the order they were recorded in).
    """

    on: datetime.date
    precision: str
    classification: str
    chamber: str = ""
    description: str = ""
    order: int = 0

    @property
    def end(self):
        """The last day the action may have happened."""
        return _period_end(self.on, self.precision)

    @property
    def sort_key(self):
        return (self.end, _LIFE_ORDER[Classification(self.classification)], self.order)

    def is_certainly_before(self, other):
        return self.end < other.on


def chronological(steps: Iterable[Step]) -> list[Step]:
    """Steps in the order the rules read them (see the module's first rule)."""
    return sorted(steps, key=lambda step: step.sort_key)


def is_one_body(level, kind):
    """A measure one body adopts alone: a county's, city's or district's, a proclamation, an executive order."""
    return level in (COUNTY, PLACE, DISTRICT) or kind in (PROCLAMATION, EXECUTIVE_ORDER)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a measure stands: its stage, the chambers that passed it, and its latest action."""

    stage: Stage
    chambers_passed: frozenset = frozenset()
    latest: Step | None = None


def _reached(step, chambers, *, one_body, unicameral):
    """The stage one step reaches, given the chambers that passed the measure so far (including this one)."""
    kind = Classification(step.classification)
    if kind is Classification.INTRODUCTION:
        return Stage.INTRODUCED
    if kind is Classification.REFERRAL_COMMITTEE:
        return Stage.IN_COMMITTEE
    if kind is Classification.COMMITTEE_PASSAGE:
        return Stage.PASSED_COMMITTEE
    if kind is Classification.PASSAGE:
        if one_body:
            return Stage.ADOPTED
        # A passage naming no chamber ("passed the General Assembly") passes the legislature.
        if unicameral or step.chamber not in (LOWER, UPPER) or {LOWER, UPPER} <= chambers:
            return Stage.PASSED_BOTH
        return Stage.PASSED_UPPER if UPPER in chambers else Stage.PASSED_LOWER
    if kind is Classification.EXECUTIVE_SIGNATURE:
        return Stage.ADOPTED
    if kind is Classification.BECAME_LAW:
        return Stage.IN_FORCE
    raise ValueError(f"not a step forward: {step.classification}")


def progress(
    steps: Iterable[Step], *, status: str, level: str, kind: str, unicameral: bool = False
) -> Progress:
    """A measure's stage from its actions and status (see the module's rules).

    `unicameral`: a legislature of one chamber (Nebraska's, the D.C. Council):
    one passage passes it. The result contradicts `status` exactly when
    `conflict` returns a message.
    """
    ordered = chronological(steps)
    one_body = is_one_body(level, kind)
    furthest, chambers, ending = Stage.INTRODUCED, set(), None
    for step in ordered:
        classification = Classification(step.classification)
        if classification in _ENDING:
            ending = _ENDING[classification]
            continue
        if classification is Classification.PASSAGE and step.chamber in (LOWER, UPPER):
            chambers.add(step.chamber)
        reached = _reached(step, chambers, one_body=one_body, unicameral=unicameral)
        if _PROGRESS[reached] > _PROGRESS[furthest]:
            furthest, ending = reached, None
    latest = ordered[-1] if ordered else None
    if ending is not None:
        stage = ending
    elif furthest in ADOPTED_STAGES:
        stage = furthest
    elif status == ADOPTED:
        stage = Stage.ADOPTED
    elif status == FAILED:
        stage = Stage.FAILED
    else:
        stage = furthest
    return Progress(stage, frozenset(chambers), latest)


def conflict(steps: Iterable[Step], *, status: str, level: str, kind: str, unicameral: bool = False):
    """Why this status cannot go with these actions, in words for staff; None when they agree."""
    ordered = chronological(steps)
    result = progress(ordered, status=status, level=level, kind=kind, unicameral=unicameral)
    if result.stage in STAGES_BY_STATUS[status]:
        return None
    latest = result.latest
    when = f" ({iso(latest.on, latest.precision)})" if latest else ""
    if result.stage.ended:
        what = Classification(latest.classification).label.lower()
        if status == ADOPTED:
            return (
                f"Its latest action{when} says it was {what}: an adopted measure cannot end that way. "
                "Set the status to failed, or record the later action that adopted it."
            )
        return (
            f"Its latest action{when} says it was {what}: set the status to failed "
            "(a measure that has ended is not pending)."
        )
    if result.stage in ADOPTED_STAGES:
        deciding = next(step for step in reversed(ordered) if _adopts(step, level=level, kind=kind))
        what = {
            Classification.EXECUTIVE_SIGNATURE: "a signature",
            Classification.BECAME_LAW: "“became law”",
            Classification.PASSAGE: "a passage by the body that adopts it",
        }[Classification(deciding.classification)]
        return (
            f"It has {what} ({iso(deciding.on, deciding.precision)}), which means it was adopted: "
            "set the status to adopted, or correct the action."
        )
    # A failed measure whose actions record neither an ending nor an adoption cannot happen
    # (its stage is then "failed"); a pending stage for an adopted one neither.
    return f"Its actions ({result.stage.label.lower()}) do not agree with the status {status}."


def _adopts(step, *, level, kind):
    classification = Classification(step.classification)
    if classification in (Classification.EXECUTIVE_SIGNATURE, Classification.BECAME_LAW):
        return True
    return classification is Classification.PASSAGE and is_one_body(level, kind)


# --- Words --------------------------------------------------------------------


def iso(on, precision):
    """`2025`, `2025-09` or `2025-09-11`."""
    if precision == "year":
        return f"{on.year:04d}"
    if precision == "month":
        return f"{on.year:04d}-{on.month:02d}"
    return on.isoformat()


def display_date(on, precision):
    """`2025`, `September 2025` or `September 11, 2025`, as precise as the source (as every date here)."""
    if precision == "year":
        return str(on.year)
    if precision == "month":
        return f"{calendar.month_name[on.month]} {on.year}"
    return f"{calendar.month_name[on.month]} {on.day}, {on.year}"


# The names of state legislatures' lower chambers where they are not "House"; Nebraska and D.C. have one.
LOWER_CHAMBER_NAMES = {
    "CA": "Assembly",
    "NV": "Assembly",
    "NY": "Assembly",
    "WI": "Assembly",
    "NJ": "General Assembly",
    "MD": "House of Delegates",
    "VA": "House of Delegates",
    "WV": "House of Delegates",
}
UNICAMERAL = {"NE": "Legislature", "DC": "Council"}


def chamber_name(chamber, state=None):
    """ "the Senate", "the House", "the Assembly", "the Governor"; "" for no chamber."""
    if chamber == UPPER:
        return "the Senate"
    if chamber == LOWER:
        return f"the {LOWER_CHAMBER_NAMES.get(state or '', 'House')}"
    if chamber == EXECUTIVE:
        return "the President" if state is None else ("the Mayor" if state == "DC" else "the Governor")
    return ""


def summary(result: Progress, *, state=None, one_body=False):
    """The stage in a phrase: "passed the Senate, September 2025; in the House".

    `state` is the measure's state (None for a federal one), for the names of
    chambers. The date is the latest action's, as precise as it was recorded.
    """
    stage = result.stage
    other = {Stage.PASSED_UPPER: LOWER, Stage.PASSED_LOWER: UPPER}
    if stage in other:
        done = UPPER if stage is Stage.PASSED_UPPER else LOWER
        phrase = f"passed {chamber_name(done, state)}"
        next_step = f"in {chamber_name(other[stage], state)}"
    elif stage is Stage.PASSED_BOTH:
        phrase = "passed the Legislature" if state in UNICAMERAL else "passed both chambers"
        next_step = f"awaiting {chamber_name(EXECUTIVE, state)}'s signature"
    elif stage is Stage.ADOPTED:
        phrase, next_step = ("adopted" if one_body else "signed or adopted"), ""
    else:
        phrase, next_step = stage.label[0].lower() + stage.label[1:], ""
    if result.latest is not None:
        phrase += f", {display_date(result.latest.on, result.latest.precision)}"
    return f"{phrase}; {next_step}" if next_step else phrase


def in_force_by_date(effective_on, effective_precision, today):
    """The recorded effective date has come, the whole of its period (None: no date)."""
    return effective_on is not None and _period_end(effective_on, effective_precision) <= today


def current_stage(stage, effective_on, effective_precision, today):
    """The stage as of `today`: an adopted measure whose effective date has come is in force."""
    stage = Stage(stage)
    if stage is Stage.ADOPTED and in_force_by_date(effective_on, effective_precision, today):
        return Stage.IN_FORCE
    return stage


def session_ended(status, session_end, today):
    """A pending measure whose session is over: its outcome is not recorded yet (never assumed)."""
    return status == INTRODUCED and session_end is not None and session_end < today


SESSION_ENDED_LABEL = "Session ended; outcome not yet recorded"
