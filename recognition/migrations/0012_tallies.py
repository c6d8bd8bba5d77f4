"""Tallies of what the maps count, kept by PostgreSQL triggers in the transaction of each change.

On SQLite the tables exist and stay empty: pages read the measures there."""

import django.db.models.deletion
from django.db import migrations, models


# The counted measures: published and adopted (the rules' "acted"), exactly as the maps' live queries.
LOCAL = "('county', 'place', 'district')"
COUNTY_KEY = "coalesce(CASE WHEN j.level = 'county' THEN j.fips ELSE c.fips END, '')"
COUNT_COUNTIES = f"""
    INSERT INTO recognition_countytally (usps, fips, counties, places, districts)
    SELECT p.usps, {COUNTY_KEY},
           count(*) FILTER (WHERE j.level = 'county'),
           count(*) FILTER (WHERE j.level = 'place'),
           count(*) FILTER (WHERE j.level = 'district')
    FROM recognition_jurisdictiontally t
    JOIN recognition_jurisdiction j ON j.id = t.jurisdiction_id
    JOIN recognition_jurisdiction p ON p.id = j.parent_id
    LEFT JOIN recognition_jurisdiction c ON c.id = j.county_id
    WHERE j.level IN {LOCAL}"""
FORWARD = f"""
CREATE FUNCTION recognition_tally_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM recognition_jurisdictiontally;
    INSERT INTO recognition_jurisdictiontally (jurisdiction_id, adopted)
    SELECT jurisdiction_id, count(*) FROM recognition_resolution
    WHERE published AND status = 'adopted' GROUP BY jurisdiction_id;
    DELETE FROM recognition_yeartally;
    INSERT INTO recognition_yeartally (series, year, adopted)
    SELECT CASE WHEN j.level = 'state' THEN 'state' ELSE 'local' END, extract(year FROM r.adopted_on), count(*)
    FROM recognition_resolution r JOIN recognition_jurisdiction j ON j.id = r.jurisdiction_id
    WHERE r.published AND r.status = 'adopted' AND r.adopted_on IS NOT NULL AND j.level <> 'nation'
    GROUP BY 1, 2;
    DELETE FROM recognition_countytally;
    {COUNT_COUNTIES}
    GROUP BY 1, 2;
END $$;

-- Adds one signed change per measure: +1 for a counted row that appeared, -1 for one that went.
CREATE FUNCTION recognition_tally_apply(ids bigint[], years int[], signs int[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    keys text[];
BEGIN
    -- What is left once changes that cancel out (an edit of anything else) are taken away.
    SELECT array_agg(id), array_agg(year), array_agg(n) INTO ids, years, signs
    FROM (SELECT id, year, sum(sign)::int AS n FROM unnest(ids, years, signs) AS d(id, year, sign)
          GROUP BY id, year HAVING sum(sign) <> 0) AS net;
    IF ids IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO recognition_jurisdictiontally AS t (jurisdiction_id, adopted)
    SELECT id, sum(n) FROM unnest(ids, signs) AS d(id, n) GROUP BY id HAVING sum(n) <> 0
    ON CONFLICT (jurisdiction_id) DO UPDATE SET adopted = t.adopted + EXCLUDED.adopted;
    DELETE FROM recognition_jurisdictiontally WHERE jurisdiction_id = ANY(ids) AND adopted = 0;

    INSERT INTO recognition_yeartally AS t (series, year, adopted)
    SELECT CASE WHEN j.level = 'state' THEN 'state' ELSE 'local' END, d.year, sum(d.n)
    FROM unnest(ids, years, signs) AS d(id, year, n) JOIN recognition_jurisdiction j ON j.id = d.id
    WHERE d.year IS NOT NULL AND j.level <> 'nation'
    GROUP BY 1, 2 HAVING sum(d.n) <> 0
    ON CONFLICT (series, year) DO UPDATE SET adopted = t.adopted + EXCLUDED.adopted;
    DELETE FROM recognition_yeartally WHERE adopted = 0;

    -- The counties of the jurisdictions whose count changed: counted again from the jurisdictions' tally.
    SELECT array_agg(DISTINCT p.usps || ':' || {COUNTY_KEY}) INTO keys
    FROM recognition_jurisdiction j
    JOIN recognition_jurisdiction p ON p.id = j.parent_id
    LEFT JOIN recognition_jurisdiction c ON c.id = j.county_id
    WHERE j.id = ANY(ids) AND j.level IN {LOCAL};
    IF keys IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM recognition_countytally WHERE usps || ':' || fips = ANY(keys);
    {COUNT_COUNTIES}
      AND p.usps || ':' || {COUNTY_KEY} = ANY(keys)
    GROUP BY 1, 2;
END $$;

CREATE FUNCTION recognition_tally_measures() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    years int[];
    signs int[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(jurisdiction_id), array_agg(extract(year FROM adopted_on)::int), array_agg(1)
        INTO ids, years, signs FROM new_rows WHERE published AND status = 'adopted';
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(jurisdiction_id), array_agg(extract(year FROM adopted_on)::int), array_agg(-1)
        INTO ids, years, signs FROM old_rows WHERE published AND status = 'adopted';
    ELSE
        SELECT array_agg(jurisdiction_id), array_agg(year), array_agg(sign) INTO ids, years, signs
        FROM (SELECT jurisdiction_id, extract(year FROM adopted_on)::int AS year, -1 AS sign
              FROM old_rows WHERE published AND status = 'adopted'
              UNION ALL
              SELECT jurisdiction_id, extract(year FROM adopted_on)::int, 1
              FROM new_rows WHERE published AND status = 'adopted') AS changed;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM recognition_tally_apply(ids, years, signs);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER recognition_tally_inserted AFTER INSERT ON recognition_resolution
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_tally_measures();
CREATE TRIGGER recognition_tally_updated AFTER UPDATE ON recognition_resolution
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_tally_measures();
CREATE TRIGGER recognition_tally_deleted AFTER DELETE ON recognition_resolution
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_tally_measures();

-- A jurisdiction moved to another level, state or county (rare, by staff): everything is counted again.
CREATE FUNCTION recognition_tally_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.level, o.parent_id, o.county_id, o.fips) IS DISTINCT FROM (n.level, n.parent_id, n.county_id, n.fips)
    ) THEN
        PERFORM recognition_tally_rebuild();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER recognition_tally_jurisdictions AFTER UPDATE ON recognition_jurisdiction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_tally_places();

SELECT recognition_tally_rebuild();
"""
BACKWARD = """
DROP TRIGGER recognition_tally_jurisdictions ON recognition_jurisdiction;
DROP TRIGGER recognition_tally_inserted ON recognition_resolution;
DROP TRIGGER recognition_tally_updated ON recognition_resolution;
DROP TRIGGER recognition_tally_deleted ON recognition_resolution;
DROP FUNCTION recognition_tally_places();
DROP FUNCTION recognition_tally_measures();
DROP FUNCTION recognition_tally_apply(bigint[], int[], int[]);
DROP FUNCTION recognition_tally_rebuild();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0011_follow_by_email"),
    ]

    operations = [
        migrations.CreateModel(
            name="CountyTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("usps", models.CharField(max_length=2)),
                ("fips", models.CharField(blank=True, max_length=5)),
                ("counties", models.PositiveIntegerField()),
                ("places", models.PositiveIntegerField()),
                ("districts", models.PositiveIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="JurisdictionTally",
            fields=[
                (
                    "jurisdiction",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        serialize=False,
                        to="recognition.jurisdiction",
                    ),
                ),
                ("adopted", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="YearTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("series", models.CharField(choices=[("state", "state"), ("local", "local")], max_length=5)),
                ("year", models.PositiveIntegerField()),
                ("adopted", models.IntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name="resolution",
            index=models.Index(
                condition=models.Q(("published", True)),
                fields=["introduced_on"],
                name="resolution_published_intro",
            ),
        ),
        migrations.AddConstraint(
            model_name="countytally",
            constraint=models.UniqueConstraint(
                fields=("usps", "fips"), name="countytally_one_row_per_county"
            ),
        ),
        migrations.AddConstraint(
            model_name="yeartally",
            constraint=models.UniqueConstraint(fields=("series", "year"), name="yeartally_one_row_per_year"),
        ),
        migrations.RunPython(install, uninstall),
    ]
