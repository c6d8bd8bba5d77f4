"""The national map's counties read grouped: per state, the counties where the county acted, where only a
city, town or district did, and where nothing did, with their population and outlines (CountyGroup).

Counted again at commit, for the states a transaction touched: statement triggers on the county tallies
and on the counties note the states whose groups may have changed (a county or its localities starting or
stopping to count; a county's population, outline, FIPS code or state changing), and a trigger deferred to
commit counts those states' groups again, once per transaction. At commit, under one lock, so that each
count reads every change committed before it (READ COMMITTED: each statement sees what is committed when
it starts) and two transactions counting the same state one after the other leave the later one's count,
which includes both. The lock is the last one a transaction takes, held only while it commits: no
deadlock can form around it.

PostgreSQL only, as 0012's tallies: on SQLite the table exists and stays empty.
"""

from django.db import migrations, models

GROUPS = "recognition_countygroup"
PENDING = "recognition_countygroup_pending"

FORWARD = f"""
-- The states a transaction touched, until it commits (rows only their transaction sees; none outlive it).
CREATE TABLE {PENDING} (states text[] NOT NULL);

CREATE FUNCTION recognition_county_groups_count(states text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {GROUPS} WHERE usps = ANY(states);
    INSERT INTO {GROUPS} (usps, county_acted, locality_acted, counties, population, with_population,
                          without_population, drawn, outlines)
    SELECT state.usps,
           coalesce(tally.counties, 0) > 0,
           coalesce(tally.counties, 0) = 0 AND coalesce(tally.localities, 0) > 0,
           count(*),
           coalesce(sum(county.population), 0),
           count(county.population),
           coalesce(string_agg(county.fips, ' ' ORDER BY county.fips) FILTER (WHERE county.population IS NULL), ''),
           coalesce(string_agg(county.fips, ' ' ORDER BY county.fips) FILTER (WHERE county.shape <> ''), ''),
           coalesce(string_agg(county.shape, '' ORDER BY county.fips) FILTER (WHERE county.shape <> ''), '')
    FROM recognition_jurisdiction county
    JOIN recognition_jurisdiction state ON state.id = county.parent_id
    LEFT JOIN (
        SELECT fips, sum(counties) AS counties, sum(places) + sum(districts) AS localities
        FROM recognition_countytally WHERE fips <> '' GROUP BY fips
    ) tally ON tally.fips = county.fips
    WHERE county.level = 'county' AND county.fips IS NOT NULL AND NOT state.is_territory
      AND state.usps = ANY(states)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3;
END $$;

-- Tallies: the counties whose county or localities started or stopped counting (a row that came or went).
CREATE FUNCTION recognition_county_groups_tallied() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(fips) INTO changed FROM new_rows WHERE fips <> '';
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(fips) INTO changed FROM old_rows WHERE fips <> '';
    ELSE
        SELECT array_agg(f) INTO changed
        FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(ARRAY[o.fips, n.fips]) AS f
        WHERE f <> '' AND (o.fips, o.counties > 0, o.places + o.districts > 0)
              IS DISTINCT FROM (n.fips, n.counties > 0, n.places + n.districts > 0);
    END IF;
    IF changed IS NOT NULL THEN
        INSERT INTO {PENDING} (states)
        SELECT array_agg(DISTINCT state.usps)
        FROM recognition_jurisdiction county JOIN recognition_jurisdiction state ON state.id = county.parent_id
        WHERE county.fips = ANY(changed) AND county.level = 'county'
        HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END $$;

-- Counties and states: one added or removed, or a county's population, outline, FIPS code or state changed
-- (a state's own row: it became or stopped being a territory, or anything else about it).
CREATE FUNCTION recognition_county_groups_geography() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched text[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT u) INTO touched
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        LEFT JOIN recognition_jurisdiction op ON op.id = o.parent_id
        LEFT JOIN recognition_jurisdiction np ON np.id = n.parent_id,
        unnest(ARRAY[
            CASE WHEN o.level = 'county' THEN op.usps WHEN o.level = 'state' THEN o.usps END,
            CASE WHEN n.level = 'county' THEN np.usps WHEN n.level = 'state' THEN n.usps END
        ]) AS u
        WHERE u <> '' AND (o.level, o.fips, o.parent_id, o.population, o.shape, o.is_territory, o.usps)
              IS DISTINCT FROM (n.level, n.fips, n.parent_id, n.population, n.shape, n.is_territory, n.usps);
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT u) INTO touched
        FROM new_rows r LEFT JOIN recognition_jurisdiction p ON p.id = r.parent_id,
        unnest(ARRAY[CASE WHEN r.level = 'county' THEN p.usps WHEN r.level = 'state' THEN r.usps END]) AS u
        WHERE u <> '';
    ELSE
        SELECT array_agg(DISTINCT u) INTO touched
        FROM old_rows r LEFT JOIN recognition_jurisdiction p ON p.id = r.parent_id,
        unnest(ARRAY[CASE WHEN r.level = 'county' THEN p.usps WHEN r.level = 'state' THEN r.usps END]) AS u
        WHERE u <> '';
    END IF;
    IF touched IS NOT NULL THEN
        INSERT INTO {PENDING} (states) VALUES (touched);
    END IF;
    RETURN NULL;
END $$;

-- At commit: the states this transaction touched, counted again under the groups' lock (see above).
CREATE FUNCTION recognition_county_groups_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched text[];
BEGIN
    WITH taken AS (DELETE FROM {PENDING} p RETURNING p.states)
    SELECT array_agg(DISTINCT s) INTO touched FROM taken, unnest(taken.states) AS s;
    IF touched IS NOT NULL THEN  -- the first of the transaction's pending rows takes them all
        PERFORM pg_advisory_xact_lock('{GROUPS}'::regclass::oid::bigint);
        PERFORM recognition_county_groups_count(touched);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER recognition_county_groups_at_commit AFTER INSERT ON {PENDING}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recognition_county_groups_commit();

CREATE TRIGGER recognition_county_groups_tally_inserted AFTER INSERT ON recognition_countytally
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_tallied();
CREATE TRIGGER recognition_county_groups_tally_updated AFTER UPDATE ON recognition_countytally
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_tallied();
CREATE TRIGGER recognition_county_groups_tally_deleted AFTER DELETE ON recognition_countytally
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_tallied();

CREATE TRIGGER recognition_county_groups_jurisdiction_inserted AFTER INSERT ON recognition_jurisdiction
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_geography();
CREATE TRIGGER recognition_county_groups_jurisdiction_updated AFTER UPDATE ON recognition_jurisdiction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_geography();
CREATE TRIGGER recognition_county_groups_jurisdiction_deleted AFTER DELETE ON recognition_jurisdiction
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_county_groups_geography();

SELECT recognition_county_groups_count(ARRAY(SELECT usps FROM recognition_jurisdiction WHERE level = 'state'));
"""
BACKWARD = f"""
DROP TRIGGER recognition_county_groups_jurisdiction_deleted ON recognition_jurisdiction;
DROP TRIGGER recognition_county_groups_jurisdiction_updated ON recognition_jurisdiction;
DROP TRIGGER recognition_county_groups_jurisdiction_inserted ON recognition_jurisdiction;
DROP TRIGGER recognition_county_groups_tally_deleted ON recognition_countytally;
DROP TRIGGER recognition_county_groups_tally_updated ON recognition_countytally;
DROP TRIGGER recognition_county_groups_tally_inserted ON recognition_countytally;
DROP TABLE {PENDING};
DROP FUNCTION recognition_county_groups_commit();
DROP FUNCTION recognition_county_groups_geography();
DROP FUNCTION recognition_county_groups_tallied();
DROP FUNCTION recognition_county_groups_count(text[]);
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0017_tally_lock_order")]

    operations = [
        migrations.CreateModel(
            name="CountyGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("usps", models.CharField(max_length=2)),
                ("county_acted", models.BooleanField()),
                ("locality_acted", models.BooleanField()),
                ("counties", models.PositiveIntegerField()),
                ("population", models.PositiveBigIntegerField()),
                ("with_population", models.PositiveIntegerField()),
                ("without_population", models.TextField(blank=True)),
                ("drawn", models.TextField(blank=True)),
                ("outlines", models.TextField(blank=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("usps", "county_acted", "locality_acted"),
                        name="countygroup_one_row_per_group",
                    ),
                    models.CheckConstraint(
                        condition=~models.Q(county_acted=True, locality_acted=True),
                        name="countygroup_acted_once",
                    ),
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
