"""What the maps count, from the tallies PostgreSQL keeps in the transaction of each change.

Migration 0012's triggers keep three small tables equal to what they summarise: per
jurisdiction, its published and adopted measures; per state and county, the counties,
places and districts there that adopted one; per year, the measures adopted. The
national map then reads about 3,000 rows instead of deriving them from every measure,
and a publish shows on the very next request (the tallies commit with the change).
SQLite keeps no tallies: there, and for a past date, the callers count the measures.
"""

from django.db import connection

from .models import CountyTally, Level, YearTally


def kept():
    """Whether this database keeps the tallies (PostgreSQL, with its triggers)."""
    return connection.vendor == "postgresql"


def local_acted(state=None):
    """[(level, state usps, county fips or None, jurisdictions that acted)], one row per level present,
    for every state or only `state` (a usps code). One query."""
    rows = CountyTally.objects.order_by()
    if state is not None:
        rows = rows.filter(usps=state)
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


def adoptions_by_year():
    """{(series, year): published measures adopted that year}, series "state" or "local". One query."""
    return {
        (series, year): adopted
        for series, year, adopted in YearTally.objects.values_list("series", "year", "adopted")
    }
