"""The map on a past date: what each measure was on a given day, and which days may be asked for.

Pure functions over dates, no ORM and no Django, like the status and stage rules; the
database applies the same rule in SQL (its agreement is tested in tests/test_as_of.py).

The rule, in words (the /about/ page quotes `RULES`):

* A date known only to the month or the year counts from its first day ("2021-09"
  from September 1, 2021; "2019" from January 1, 2019), as in the list's date filters.
* A measure counts as adopted from its adoption date.
* Before that, it counts as pending from its introduction until the first of: its
  adoption, a recorded veto, failure or withdrawal, or the end of its session (a bill
  dies with its session unless it passed; one adopted later, after its legislature
  went home, was pending until then). The status rules then read a pending measure
  as they do today: a pending state measure makes a pending state bill.
* What carries no date cannot be placed in time: an adopted measure without an
  adoption date, or a pending one without an introduction date, is left out of past
  dates (they count on today's map). A failed measure whose end is recorded neither
  by an action nor by its session is never counted as pending on a past date: we
  cannot say how long it was pending.
* A past date is read from the records as published today: a measure published
  last week about a 2020 adoption counts on 2020's map. The map shows what we know
  now about that day, not what this site showed on it.

Statuses are plain strings (the models' choice values), so this module imports nothing from Django.
"""

import calendar
import datetime
import re
from collections.abc import Iterable

from .stages import ADOPTED, FAILED, INTRODUCED, Classification

# Actions that end a measure's life.
ENDINGS = (Classification.EXECUTIVE_VETO, Classification.FAILURE, Classification.WITHDRAWAL)

EARLIEST = datetime.date(1900, 1, 1)  # the partial dates' own floor: nothing recorded is older
PARAMETER = "as_of"

RULES = (
    "A date known only to the month or the year counts from its first day: “2021-09” from "
    "September 1, 2021, “2019” from January 1, 2019 (the rule of the list's date filters).",
    "A measure counts as adopted from its adoption date.",
    "Before that, it counts as pending from its introduction until the first of: its adoption, a "
    "recorded veto, failure or withdrawal, or the end of its session. A state measure pending on "
    "that date makes a pending state bill, as it would today.",
    "What has no date cannot be placed in time: an adopted measure without an adoption date, or a "
    "pending one without an introduction date, counts only on today's map. A failed bill whose end "
    "is recorded neither by an action nor by its session is never counted as pending on a past "
    "date, since we cannot say how long it was pending.",
    "Past dates are read from the records as we know them today: a measure published last week "
    "about a 2020 adoption counts on 2020's map. The map shows what we now know about that day, "
    "not what this site showed on it. People are counted with the same census estimates on every date.",
)


def status_on(day, *, status, introduced_on, adopted_on, ended_on=None, session_end_on=None):
    """What a measure was on `day`: ADOPTED, INTRODUCED (pending) or None (not yet, no longer, or unknown).

    Dates are the first day of their period (as the database stores a partial date);
    `ended_on` is the first recorded veto, failure or withdrawal, `session_end_on` the
    last day of the measure's session (None when unknown). See the module's rules.
    """
    if status == ADOPTED and adopted_on is not None and adopted_on <= day:
        return ADOPTED
    if introduced_on is None or introduced_on > day:
        return None
    if status == ADOPTED:
        # Adopted after `day`: pending until then (its session's end does not matter: it passed),
        # unless its adoption date is unknown, when it may have been adopted already.
        return INTRODUCED if adopted_on is not None and (ended_on is None or ended_on > day) else None
    if ended_on is not None and ended_on <= day:
        return None
    if session_end_on is not None and session_end_on < day:
        return None
    if status == FAILED and ended_on is None and session_end_on is None:
        return None
    return INTRODUCED


def happened_by(day, on):
    """Whether something dated `on` (the first day of its period) counts as done on `day`."""
    return on is not None and on <= day


def steps_by(day, steps: Iterable):
    """The actions (anything with `.on`, the first day of its period) that had happened by `day`."""
    return [step for step in steps if happened_by(day, step.on)]


class AsOfError(ValueError):
    """Why a text is not a date the map can be shown on, in words for the person who typed it."""


_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SHOWN = 24  # characters of a bad value repeated in the message


def _shown(text):
    printable = "".join(c if c.isprintable() else "�" for c in text)
    return printable if len(printable) <= _SHOWN else printable[:_SHOWN] + "…"


def parse(text, today):
    """The day asked for in `?as_of=`: a date between 1900 and yesterday; None for today's map.

    An empty value and today's date both mean today's map (which also counts the records
    whose dates are unknown). A later date is refused, not clamped: the map has no future.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise AsOfError(f"“{_shown(text)}” is not a date: write it as YYYY-MM-DD, for example 2021-12-31.")
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise AsOfError(f"There is no month {month:02d}: months go from 01 to 12.")
    if year < EARLIEST.year:
        raise AsOfError(f"The map starts on {display(EARLIEST)}: choose a later date.")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise AsOfError(f"{text} is not a real date: {calendar.month_name[month]} {year} has {days} days.")
    asked = datetime.date(year, month, day)
    if asked > today:
        raise AsOfError(f"{display(asked)} has not come yet: the map shows today and the past.")
    return None if asked == today else asked


def display(day):
    """ "December 31, 2021": a full date as the site writes it."""
    return f"{calendar.month_name[day.month]} {day.day}, {day.year}"


def year_ends(first_year, today):
    """The last day of each year from `first_year` that has ended by `today` (none without a first year)."""
    if first_year is None:
        return []
    return [datetime.date(year, 12, 31) for year in range(max(first_year, EARLIEST.year), today.year)]


def year_end(year, today):
    """The end of `year` when it has come (its page is then a past date), else None: today's map."""
    end = datetime.date(year, 12, 31)
    return end if end < today else None
