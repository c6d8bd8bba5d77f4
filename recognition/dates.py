"""Partial dates: a date known to the year, the month or the day.

Sources often say only "2022" or "September 2021". A record keeps exactly the
precision its source gives: we never invent a month or a day. In the database a
partial date is two columns, the first day of the period (so it sorts, indexes
and filters like any date) and its precision.
"""

import calendar
import datetime
import re
from dataclasses import dataclass

from django.db import models

# English month names, whatever the process's locale (`calendar.month_name` follows it, and formats
# the name anew on each lookup).
MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip


class Precision(models.TextChoices):
    YEAR = "year", "Year"
    MONTH = "month", "Month"
    DAY = "day", "Day"


_PARTIAL_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
EARLIEST_YEAR = 1900  # before 911 existed: a year earlier than this is a typo
YEARS_AHEAD = 5  # a law may take effect a few years after it passes, not decades


class PartialDateError(ValueError):
    """Why a text is not a partial date, in words for the person who typed it; `code` names the problem."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, order=False)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self):
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        # datetime.date does the calendar arithmetic (leap years, 30-day months);
        # compare with None, not falsiness, so that a month or day of 0 is refused.
        datetime.date(self.year, 1 if self.month is None else self.month, 1 if self.day is None else self.day)

    @classmethod
    def parse(cls, text, today=None):
        """`2022`, `2022-04` or `2022-04-18`, between 1900 and five years ahead; else PartialDateError.

        The one parser of typed and imported dates (forms, the importer, submissions), so each
        says the same thing about the same mistake.
        """
        text = text.strip()
        match = _PARTIAL_DATE_RE.match(text)
        if not match:
            raise PartialDateError(
                "Write the date as a year (2022), a year and month (2022-09) or a full date (2022-04-18).",
                "format",
            )
        year, month, day = (int(part) if part else None for part in match.groups())
        latest = (today or datetime.date.today()).year + YEARS_AHEAD
        if not EARLIEST_YEAR <= year <= latest:
            raise PartialDateError(
                f"Check the year: {year} is not between {EARLIEST_YEAR} and {latest}.", "year"
            )
        if month is not None and not 1 <= month <= 12:
            raise PartialDateError(f"There is no month {month:02d}: months go from 01 to 12.", "month")
        if day is not None:
            days = calendar.monthrange(year, month)[1]
            if not 1 <= day <= days:
                raise PartialDateError(
                    f"{text} is not a real date: {MONTHS[month]} {year} has {days} days.", "day"
                )
        return cls(year, month, day)

    @classmethod
    def from_stored(cls, start, precision):
        """Rebuild from the two database columns (None when there is no date)."""
        if start is None:
            return None
        if precision == Precision.YEAR:
            return cls(start.year)
        if precision == Precision.MONTH:
            return cls(start.year, start.month)
        return cls(start.year, start.month, start.day)

    @property
    def precision(self):
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    @property
    def start(self):
        """The first day of the period: what the database stores and sorts by."""
        return datetime.date(self.year, self.month or 1, self.day or 1)

    @property
    def end(self):
        """The last day of the period."""
        if self.day is not None:
            return self.start
        if self.month is not None:
            return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return datetime.date(self.year, 12, 31)

    def is_certainly_before(self, other):
        """True only when every day this date could be precedes every day `other` could be."""
        return self.end < other.start

    def isoformat(self):
        """`2022`, `2022-04` or `2022-04-18`: the import and export format."""
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def display(self):
        """`2022`, `September 2021` or `April 18, 2022`."""
        if self.day is not None:
            return f"{MONTHS[self.month]} {self.day}, {self.year}"
        if self.month is not None:
            return f"{MONTHS[self.month]} {self.year}"
        return str(self.year)

    def __str__(self):
        return self.display()


def stored_isoformat(start, precision):
    """`2022`, `2022-04` or `2022-04-18` straight from the two database columns ('' for none).

    The same text as PartialDate.from_stored(...).isoformat(), without building objects:
    the CSV export calls it three times a row.
    """
    if start is None:
        return ""
    if precision == Precision.YEAR:
        return f"{start.year:04d}"
    if precision == Precision.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


class PartialDateDescriptor:
    """`resolution.adopted` reads and writes the (`adopted_on`, `adopted_on_precision`) pair."""

    def __init__(self, date_field):
        self.date_field = date_field
        self.precision_field = f"{date_field}_precision"

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return PartialDate.from_stored(
            getattr(instance, self.date_field), getattr(instance, self.precision_field)
        )

    def __set__(self, instance, value):
        if isinstance(value, str):
            value = PartialDate.parse(value) if value.strip() else None
        setattr(instance, self.date_field, value.start if value else None)
        setattr(instance, self.precision_field, value.precision if value else "")
