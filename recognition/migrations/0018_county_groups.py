"""The national map's counties read grouped: per state, the counties where the county acted, where only a
city, town or district did, and where nothing did, with their population and outlines (CountyGroup).

Counted again at commit, for the states a transaction touched: statement triggers note, once per
transaction, each county whose county or localities started or stopped counting (by its FIPS code) and
each state whose counties changed (a county's population, outline, FIPS code or state; by its USPS code),
and a trigger deferred to commit counts those states' groups again. At commit, under one lock, so that
each count reads every change committed before it (READ COMMITTED: each statement sees what is committed
when it starts) and two transactions counting the same state one after the other leave the later one's
count, which includes both; a county's state is looked up then too, after any move committed before.
The lock is taken at commit and held only while the transaction commits. A foreign-key check Django
deferred to commit and queued after it could still wait for a row another committing transaction holds
(one deleting or re-keying that row while it waits for this lock): PostgreSQL then ends one of the two
with a deadlock error. That takes a delete of a referenced row at the same moment; nothing else waits.

PostgreSQL only, as 0012's tallies: on SQLite the table exists and stays empty.
"""

from django.db import migrations, models

GROUPS = "recognition_countygroup"
PENDING = "recognition_countygroup_pending"

FORWARD = f"""
-- What a transaction touched, until it commits: a state's USPS code or a county's FIPS code, once each
-- (rows only their transaction sees, keyed by it, so no other waits on them; none outlive it).
CREATE TABLE {PENDING} (
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    code text NOT NULL,
    PRIMARY KEY (xid, code)
);

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
    IF changed IS NOT NULL THEN  -- the counties' states are looked up at commit
        INSERT INTO {PENDING} (code) SELECT DISTINCT unnest(changed) ON CONFLICT DO NOTHING;
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
        INSERT INTO {PENDING} (code) SELECT unnest(touched) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- At commit: the states this transaction touched, counted again under the groups' lock (see above).
CREATE FUNCTION recognition_county_groups_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    codes text[];
    touched text[];
BEGIN
    -- The first of the transaction's rows takes them all; the others find theirs gone (one index probe).
    IF NOT EXISTS (SELECT 1 FROM {PENDING} WHERE xid = NEW.xid AND code = NEW.code) THEN
        RETURN NULL;
    END IF;
    WITH taken AS (DELETE FROM {PENDING} WHERE xid = NEW.xid RETURNING code)
    SELECT array_agg(code) INTO codes FROM taken;
    PERFORM pg_advisory_xact_lock('{GROUPS}'::regclass::oid::bigint);
    SELECT array_agg(DISTINCT u) INTO touched FROM (
        SELECT code AS u FROM unnest(codes) AS code WHERE length(code) = 2
        UNION
        SELECT state.usps FROM recognition_jurisdiction county
        JOIN recognition_jurisdiction state ON state.id = county.parent_id
        WHERE county.level = 'county' AND county.fips = ANY(codes)
    ) AS found;
    IF touched IS NOT NULL THEN
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
