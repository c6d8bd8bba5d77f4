"""Facet counts for the list's filters: beside each option, how many records it would give.

Standard faceted search: an option's count is what the search gives with that option chosen in
place of its filter's current choice, every other filter kept (the text search, the session and the
published-only rule included, exactly as the list applies them). So a journalist reads "Texas 12"
and gets 12 rows by choosing Texas alone. One grouped COUNT per facet: six queries, whatever the
size of the data.

Adoption years are a facet of the two date filters: a year leads to `adopted_after=YYYY-01-01&
adopted_before=YYYY-12-31`, and a date known only to the month or year counts from its first day
(as the filters do), so a measure "adopted 2021" is in 2021.
"""

import dataclasses
import datetime

from django.db import connection
from django.db.models import Count, F
from django.db.models.functions import ExtractYear
from django.utils import timezone

from .models import current_stage_expression

YEAR = "adopted_year"  # the year facet's name on the page: its parameters are the two date filters
DATE_FILTERS = ("adopted_after", "adopted_before")


@dataclasses.dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int | None  # None when the search cannot be run (a 400): no counts then
    selected: bool
    params: dict = dataclasses.field(default_factory=dict)  # what choosing it sets, for a link


@dataclasses.dataclass(frozen=True)
class Facet:
    name: str  # the query parameter (YEAR for the years)
    label: str
    options: tuple

    @property
    def chosen(self):
        return [option for option in self.options if option.selected]


def _keys(today):
    """What each checkbox facet groups by: the same value its filter tests."""
    return {
        "state": F("state_code"),  # the filter queryset's annotation: a state's own code or its parent's
        "level": F("jurisdiction__level"),
        "kind": F("kind"),
        "status": F("status"),
        "stage": current_stage_expression(today),
    }


CHECKBOX_FACETS = ("state", "level", "kind", "status", "stage")


def _chosen(filterset, name):
    """The values chosen for a checkbox filter: the cleaned ones, or as typed when the form is invalid."""
    if filterset.form.is_valid():
        return set(filterset.form.cleaned_data.get(name) or ())
    values = filterset.form[name].value() or ()
    return {str(value).upper() if name == "state" else str(value) for value in values}


def facets(filterset, today=None):
    """{name: Facet} for the five checkbox filters and the adoption years.

    With counts when the search is valid (six queries); without counts, and without years, when it
    is not (no query: the page is a 400 that lists the errors), or when its text search matches more
    than the filterset's cap (grouping every match of a common word would read most of the table).
    """
    today = today or timezone.localdate()
    valid = filterset.is_valid() and not filterset.is_capped
    found = {}
    for name, key in _keys(today).items():
        field = filterset.form.fields[name]
        counts = None
        if valid:
            narrowed = filterset.without(name)
            counts = (filterset.queryset if narrowed is None else narrowed).count_by(key)
        chosen = _chosen(filterset, name)
        options = tuple(
            Option(
                value=value,
                label=label,
                count=None if counts is None else counts.get(value, 0),
                selected=value in chosen,
            )
            for value, label in field.choices
        )
        found[name] = Facet(name, field.label, options)
    found[YEAR] = Facet(YEAR, "Adopted in", _years(filterset) if valid else ())
    return found


def _years(filterset):
    """Every year a published measure was adopted in, newest first, each with its count in this search."""
    counts = _year_counts(filterset)
    after, before = (filterset.form.cleaned_data.get(name) for name in DATE_FILTERS)
    options = []
    for year in sorted(counts, reverse=True):
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        options.append(
            Option(
                value=str(year),
                label=str(year),
                count=counts[year],
                selected=(after, before) == (first, last),
                params={"adopted_after": first.isoformat(), "adopted_before": last.isoformat()},
            )
        )
    return tuple(options)


# Every year a published measure was adopted in, newest first, one index probe a year (a loose
# scan of the adoption-date indexes) rather than a read of every published measure.
YEARS_SQL = """
WITH RECURSIVE years(year) AS (
    SELECT EXTRACT(YEAR FROM MAX(adopted_on))::integer FROM recognition_resolution WHERE published
    UNION ALL
    SELECT (
        SELECT EXTRACT(YEAR FROM MAX(earlier.adopted_on))::integer FROM recognition_resolution earlier
        WHERE earlier.published AND earlier.adopted_on < make_date(years.year, 1, 1)
    )
    FROM years WHERE years.year IS NOT NULL
)
SELECT years.year, COALESCE(counted.facet_count, 0) FROM years
LEFT JOIN ({counted}) counted ON counted.facet_key = years.year
WHERE years.year IS NOT NULL
"""


def _year_counts(filterset):
    """{year: count in the search without its date filters} for every year of a published adoption.

    The list's base is every published measure (YEARS_SQL's years are theirs).
    """
    narrowed = filterset.without(*DATE_FILTERS)
    if connection.vendor != "postgresql":
        base = filterset.queryset.filter(adopted_on__isnull=False)
        return base.count_by(ExtractYear("adopted_on"), among=narrowed)
    among = (filterset.queryset if narrowed is None else narrowed).filter(adopted_on__isnull=False)
    counted = among.order_by().values(facet_key=ExtractYear("adopted_on")).annotate(facet_count=Count("pk"))
    sql, params = counted.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(YEARS_SQL.format(counted=sql), params)
        return {int(year): count for year, count in cursor.fetchall()}
