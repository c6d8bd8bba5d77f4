"""The tally triggers (0012's and 0014's) net each statement's changes first and write them in key order.

0014's trigger took away the old rows' places and added the new rows' in two statements, in whatever order
the grouping gave: two transactions moving measures in opposite directions could each hold a tally row the
other waited for (a deadlock), and an edit of a title alone locked and rewrote tally rows (-1 then +1).
0012's netted its changes, but wrote them in no fixed order either, and counted a county again from what
its own snapshot saw: a county first counted by two transactions at once kept the last one's count alone.

Now every trigger adds one net change per tally row (+1 and -1 summed; rows that net to zero left alone),
in the order of the tally's key, so every transaction takes its locks in the same order and a statement
whose changes cancel out touches no tally row. A county's counts change by the jurisdictions that started
or stopped counting, as read from the jurisdiction's row under its lock, so concurrent changes add up.
A row brought to zero is removed; only rows this statement wrote are looked at.

PostgreSQL only, as 0012 and 0014.
"""

from django.db import migrations

LOCAL = "('county', 'place', 'district')"
COUNTY_KEY = "coalesce(CASE WHEN j.level = 'county' THEN j.fips ELSE c.fips END, '')"

# The facets' key of a measure `r`, its jurisdiction `j` and that one's parent `p` (as 0014).
FACET_COLUMNS = "state, level, kind, status, stage, year, effective_on, effective_on_precision"
FACET_KEY = """CASE WHEN j.level = 'state' THEN j.usps ELSE coalesce(p.usps, '') END, j.level, r.kind,
    r.status, r.stage, coalesce(extract(year FROM r.adopted_on)::int, 0),
    CASE WHEN r.stage = 'adopted' THEN r.effective_on END,
    CASE WHEN r.stage = 'adopted' THEN r.effective_on_precision ELSE '' END"""


def facet_rows(rows, sign):
    return f"""SELECT {FACET_KEY}, {sign} FROM {rows} r
            JOIN recognition_jurisdiction j ON j.id = r.jurisdiction_id
            LEFT JOIN recognition_jurisdiction p ON p.id = j.parent_id
            WHERE r.published"""


def facet_net(*sources):
    """One statement: the net change per facet key, written in key order; the rows it left at zero removed."""
    changes = "\n            UNION ALL\n            ".join(facet_rows(rows, sign) for rows, sign in sources)
    return f"""
        WITH written AS (
            INSERT INTO recognition_facettally AS t ({FACET_COLUMNS}, measures)
            SELECT {FACET_COLUMNS}, sum(sign) FROM (
            {changes}
            ) AS d({FACET_COLUMNS}, sign)
            GROUP BY {FACET_COLUMNS} HAVING sum(sign) <> 0
            ORDER BY {FACET_COLUMNS}
            ON CONFLICT ({FACET_COLUMNS}) DO UPDATE SET measures = t.measures + EXCLUDED.measures
            RETURNING id, measures
        )
        SELECT array_agg(id) INTO emptied FROM written WHERE measures = 0;"""


FACETS = f"""
CREATE OR REPLACE FUNCTION recognition_facets_measures() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {facet_net(("new_rows", 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {facet_net(("old_rows", -1))}
    ELSE
        {facet_net(("old_rows", -1), ("new_rows", 1))}
    END IF;
    IF emptied IS NOT NULL THEN
        DELETE FROM recognition_facettally WHERE id = ANY(emptied) AND measures = 0;
    END IF;
    RETURN NULL;
END $$;
"""

TALLIES = f"""
-- Adds one signed change per measure: +1 for a counted row that appeared, -1 for one that went.
CREATE OR REPLACE FUNCTION recognition_tally_apply(ids bigint[], years int[], signs int[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    counting bigint[];
    turns int[];
    emptied bigint[];
BEGIN
    -- What is left once changes that cancel out (an edit of anything else) are taken away.
    SELECT array_agg(id), array_agg(year), array_agg(n) INTO ids, years, signs
    FROM (SELECT id, year, sum(sign)::int AS n FROM unnest(ids, years, signs) AS d(id, year, sign)
          GROUP BY id, year HAVING sum(sign) <> 0) AS net;
    IF ids IS NULL THEN
        RETURN;
    END IF;

    -- Per jurisdiction, in id order; those that started (+1) or stopped (-1) counting, from the row as
    -- this transaction left it (its lock keeps another transaction's change out until this one commits).
    WITH net AS (
        SELECT id, sum(n)::int AS n FROM unnest(ids, signs) AS d(id, n) GROUP BY id HAVING sum(n) <> 0
    ), written AS (
        INSERT INTO recognition_jurisdictiontally AS t (jurisdiction_id, adopted)
        SELECT id, n FROM net ORDER BY id
        ON CONFLICT (jurisdiction_id) DO UPDATE SET adopted = t.adopted + EXCLUDED.adopted
        RETURNING jurisdiction_id, adopted
    )
    SELECT array_agg(w.jurisdiction_id), array_agg(CASE WHEN w.adopted > 0 THEN 1 ELSE -1 END)
    INTO counting, turns
    FROM written w JOIN net ON net.id = w.jurisdiction_id
    WHERE (w.adopted > 0) <> (w.adopted - net.n > 0);
    DELETE FROM recognition_jurisdictiontally WHERE jurisdiction_id = ANY(counting) AND adopted = 0;

    WITH written AS (
        INSERT INTO recognition_yeartally AS t (series, year, adopted)
        SELECT CASE WHEN j.level = 'state' THEN 'state' ELSE 'local' END, d.year, sum(d.n)
        FROM unnest(ids, years, signs) AS d(id, year, n) JOIN recognition_jurisdiction j ON j.id = d.id
        WHERE d.year IS NOT NULL AND j.level <> 'nation'
        GROUP BY 1, 2 HAVING sum(d.n) <> 0
        ORDER BY 1, 2
        ON CONFLICT (series, year) DO UPDATE SET adopted = t.adopted + EXCLUDED.adopted
        RETURNING id, adopted
    )
    SELECT array_agg(id) INTO emptied FROM written WHERE adopted = 0;
    IF emptied IS NOT NULL THEN
        DELETE FROM recognition_yeartally WHERE id = ANY(emptied) AND adopted = 0;
    END IF;

    IF counting IS NULL THEN
        RETURN;
    END IF;
    -- The counties of the jurisdictions that started or stopped counting, changed by that many, in key
    -- order. A new row is proposed with what it gains (no county's count goes below zero); an existing
    -- one gets the change, losses included.
    WITH change AS (
        SELECT p.usps, {COUNTY_KEY} AS fips,
               coalesce(sum(d.turn) FILTER (WHERE j.level = 'county'), 0)::int AS counties,
               coalesce(sum(d.turn) FILTER (WHERE j.level = 'place'), 0)::int AS places,
               coalesce(sum(d.turn) FILTER (WHERE j.level = 'district'), 0)::int AS districts
        FROM unnest(counting, turns) AS d(id, turn)
        JOIN recognition_jurisdiction j ON j.id = d.id
        JOIN recognition_jurisdiction p ON p.id = j.parent_id
        LEFT JOIN recognition_jurisdiction c ON c.id = j.county_id
        WHERE j.level IN {LOCAL}
        GROUP BY 1, 2
    ), written AS (
        INSERT INTO recognition_countytally AS t (usps, fips, counties, places, districts)
        SELECT usps, fips, greatest(counties, 0), greatest(places, 0), greatest(districts, 0)
        FROM change WHERE (counties, places, districts) <> (0, 0, 0)
        ORDER BY usps, fips
        ON CONFLICT (usps, fips) DO UPDATE SET (counties, places, districts) = (
            SELECT t.counties + ch.counties, t.places + ch.places, t.districts + ch.districts
            FROM change ch WHERE ch.usps = EXCLUDED.usps AND ch.fips = EXCLUDED.fips
        )
        RETURNING id, counties, places, districts
    )
    SELECT array_agg(id) INTO emptied FROM written WHERE (counties, places, districts) = (0, 0, 0);
    IF emptied IS NOT NULL THEN
        DELETE FROM recognition_countytally
        WHERE id = ANY(emptied) AND (counties, places, districts) = (0, 0, 0);
    END IF;
END $$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FACETS)
        schema_editor.execute(TALLIES)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0016_map_indexes")]

    # Backwards the functions stay as they are: they keep the same tallies, and 0014's and 0012's own
    # reversal drops them by name.
    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
