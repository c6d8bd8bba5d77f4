"""What the maps count, from the tallies PostgreSQL keeps in the transaction of each change.

Migration 0012's triggers keep three small tables equal to what they summarise: per
jurisdiction, its published and adopted measures; per state and county, the counties,
places and districts there that adopted one; per year, the measures adopted. Migration
0018's count the counties per state and what acted there (about 100 groups) at commit.
The national map then reads a few hundred rows instead of deriving them from every
measure, and a publish shows on the very next request (the tallies commit with the change).
SQLite keeps no tallies: there, and for a past date, the callers count the measures.
"""

from django.db import connection
from django.db.models import Sum

from .models import CountyGroup, CountyTally, Level, YearTally


def kept():
    """Whether this database keeps the tallies (PostgreSQL, with its triggers)."""
    return connection.vendor == "postgresql"


def local_acted(states=None):
    """[(level, state usps, county fips or None, jurisdictions that acted)], one row per level present,
    for every state or only the `states` listed (usps codes). One query."""
    rows = CountyTally.objects.order_by()
    if states is not None:
        rows = rows.filter(usps__in=states)
    found = []
    # Written out, not zipped per row: the national map reads every county's row on each cold request.
    for usps, fips, counties, places, districts in rows.values_list(
        "usps", "fips", "counties", "places", "districts"
    ):
        fips = fips or None
        if counties:
            found.append((Level.COUNTY, usps, fips, counties))
        if places:
            found.append((Level.PLACE, usps, fips, places))
        if districts:
            found.append((Level.DISTRICT, usps, fips, districts))
    return found


def local_acted_per_state():
    """[(level, state usps, None, jurisdictions that acted)], `local_acted`'s rows added up per state:
    what the state map and its figures need when no county is drawn. One query, about 50 rows."""
    found = []
    for usps, counties, places, districts in (
        CountyTally.objects.order_by()
        .values_list("usps")
        .annotate(Sum("counties"), Sum("places"), Sum("districts"))
    ):
        for level, jurisdictions in (
            (Level.COUNTY, counties),
            (Level.PLACE, places),
            (Level.DISTRICT, districts),
        ):
            if jurisdictions:
                found.append((level, usps, None, jurisdictions))
    return found


def county_groups(with_outlines=False):
    """The counties of the 50 states and DC (those with a FIPS code), grouped by state and by what acted
    there: the county itself, else a city, town or district in it, else nothing (a county that acted is
    coloured and covered the same whether or not a locality in it did too). Rows: (usps, county acted,
    locality acted, counties, their known population, counties with a figure, (FIPS of those without)),
    and `with_outlines`, for the national county layer, (the FIPS of those with an outline, space
    separated, their outlines joined), both in FIPS order. One query of 51 to 153 rows that PostgreSQL
    counted when the change committed, not 3,200 counties joined to their tallies on each request."""
    fields = ["usps", "county_acted", "locality_acted", "counties", "population", "with_population"]
    fields += ["without_population", "drawn", "outlines"] if with_outlines else ["without_population"]
    rows = CountyGroup.objects.order_by().values_list(*fields)
    return [(*row[:6], tuple(row[6].split()), *row[7:]) for row in rows]


def adoptions_by_year():
    """{(series, year): published measures adopted that year}, series "state" or "local". One query."""
    return {
        (series, year): adopted
        for series, year, adopted in YearTally.objects.values_list("series", "year", "adopted")
    }
