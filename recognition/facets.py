"""Facet counts for the list's filters: beside each option, how many records it would give.

Standard faceted search: an option's count is what the search gives with that option chosen in
place of its filter's current choice, every other filter kept (the text search, the session and the
published-only rule included, exactly as the list applies them). So a journalist reads "Texas 12"
and gets 12 rows by choosing Texas alone. One grouped COUNT per facet: six queries, whatever the
size of the data.

Adoption years are a facet of the two date filters: a year leads to `adopted_after=YYYY-01-01&
adopted_before=YYYY-12-31`, and a date known only to the month or year counts from its first day
(as the filters do), so a measure "adopted 2021" is in 2021.

On PostgreSQL a search without text or session (what most visitors ask, `?state=TX`) is counted
from the facets' tally instead (a few thousand rows that triggers keep in the transaction of each
change): one query gives every facet and the number of results, with the same filter rules
applied here to the tally's rows.
"""

import dataclasses
import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone

from . import tallies
from .models import FacetTally, current_stage_expression

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
    """{name: Facet} for the five checkbox filters and the adoption years (see `counted`)."""
    return counted(filterset, today)[0]


def counted(filterset, today=None):
    """({name: Facet}, number of results or None): the facets, and the search's own count when the
    tally gave it (one query then, instead of six and a count).

    With counts when the search is valid (six queries); without counts, and without years, when it
    is not (no query: the page is a 400 that lists the errors), or when its text search matches more
    than the filterset's cap (grouping every match of a common word would read most of the table).
    """
    today = today or timezone.localdate()
    valid = filterset.is_valid() and not filterset.is_capped
    tally = _Tally.of(filterset, today) if valid else None
    found = {}
    for name, key in _keys(today).items():
        field = filterset.form.fields[name]
        counts = None
        if tally is not None:
            counts = tally.counts(name)
        elif valid:
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
    found[YEAR] = Facet(YEAR, "Adopted in", _years(filterset, tally) if valid else ())
    return found, (tally.total() if tally is not None else None)


def _years(filterset, tally=None):
    """Every year a published measure was adopted in, newest first, each with its count in this search."""
    counts = tally.year_counts() if tally is not None else _year_counts(filterset)
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
    try:
        sql, params = counted.query.sql_with_params()
    except EmptyResultSet:  # a search nothing can match (only punctuation): no SQL to send, no years
        return {}
    with connection.cursor() as cursor:
        cursor.execute(YEARS_SQL.format(counted=sql), params)
        return {int(year): count for year, count in cursor.fetchall()}


class _Tally:
    """Every facet's counts and the search's total, summed from the facets' tally in one query.

    Only for a search the tally can answer: valid, no text, no session, and adoption dates (if any) on
    year boundaries (the tally knows years, not days). Each tally row is one combination of what the
    filters test; each is counted, in PostgreSQL, toward every facet whose other filters it passes.
    """

    def __init__(self, sums):
        self.sums = sums

    @classmethod
    def of(cls, filterset, today):
        if not tallies.kept():
            return None
        data = filterset.form.cleaned_data
        if data.get("q", "").strip() or data.get("session") is not None:
            return None
        after, before = (data.get(name) for name in DATE_FILTERS)
        if (after and (after.month, after.day) != (1, 1)) or (
            before and (before.month, before.day) != (12, 31)
        ):
            return None
        passes = {
            name: Q(**{f"{name}__in": sorted(data[name])}) for name in CHECKBOX_FACETS if data.get(name)
        }
        years = Q()
        if after or before:
            years = (
                Q(year__gt=0)
                & Q(year__gte=after.year if after else 0)
                & Q(year__lte=before.year if before else 9999)
            )
        rows = FacetTally.objects.annotate(stage_now=current_stage_expression(today)).values(
            "state", "level", "kind", "status", "stage_now", "year", "measures"
        )
        # The stage filter tests the stage as of today, as the list's does.
        passes = {name: _on_stage_now(q) if name == "stage" else q for name, q in passes.items()}
        rows = rows.annotate(
            **{
                f"ok_{name}": ExpressionWrapper(passes.get(name, Q(pk__isnull=False)), BooleanField())
                for name in CHECKBOX_FACETS
            },
            ok_dates=ExpressionWrapper(years if years else Q(pk__isnull=False), BooleanField()),
        )
        sql, params = rows.query.sql_with_params()
        narrowed = "state" in passes

        def others(*names):
            return " AND ".join(
                f"t.ok_{other}" for other in (*CHECKBOX_FACETS, "dates") if other not in names
            )

        columns = {
            "state": "state",
            "level": "level",
            "kind": "kind",
            "status": "status",
            "stage": "stage_now",
        }
        groups = [(name, column, others(name)) for name, column in columns.items()]
        groups += [
            (YEAR, "year::text", f"year > 0 AND {others('dates')}"),
            ("years", "year::text", "year > 0"),
            ("total", "''", others()),
        ]
        # One grouped sum per facet over the same few thousand rows (a UNION ALL: each a scan and a small
        # hash, cheaper than crossing every row with every facet).
        kept_rows, kept_params, whole = sql, params, ""
        if narrowed:
            # With states chosen, every facet but the states' own and the list of years counts only
            # their rows (an index range, a few hundred rows): those two are summed in one pass over
            # the whole tally, and the rest from the chosen states' rows alone.
            kept_rows, kept_params = rows.filter(passes["state"]).query.sql_with_params()
            groups = [group for group in groups if group[0] not in ("state", "years")]
            whole = (
                " UNION ALL SELECT * FROM ("
                "SELECT CASE WHEN GROUPING(state) = 0 THEN 'state' ELSE 'years' END,"
                " COALESCE(state, year::text),"
                f" CASE WHEN GROUPING(state) = 0 THEN SUM(measures) FILTER (WHERE {others('state')})"
                " ELSE SUM(measures) FILTER (WHERE year > 0) END AS measures"
                f" FROM ({sql}) t GROUP BY GROUPING SETS ((state), (year))"
                ") whole WHERE measures IS NOT NULL"
            )
        union = " UNION ALL ".join(
            f"SELECT '{name}', {key}, SUM(measures) FROM t WHERE {kept} GROUP BY 2"
            for name, key, kept in groups
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH t AS MATERIALIZED ({kept_rows}) {union}{whole}",
                (*kept_params, *(params if narrowed else ())),
            )
            sums = {}
            for facet, key, measures in cursor.fetchall():
                sums.setdefault(facet, {})[key] = measures
        return cls(sums)

    def counts(self, name):
        """{value: measures} of facet `name`, its own filter left out."""
        return self.sums.get(name, {})

    def year_counts(self):
        """{year: measures} for every year of a published adoption, the date filters left out."""
        counted = self.sums.get(YEAR, {})
        return {int(year): counted.get(year, 0) for year in self.sums.get("years", {})}

    def total(self):
        return self.sums.get("total", {}).get("", 0)


def _on_stage_now(condition):
    """The stage filter's condition on the tally's stage as of today (`stage_now`), not the stored one."""
    ((_name, values),) = condition.children
    return Q(stage_now__in=values)
