"""The facets' tally, kept by PostgreSQL triggers in the transaction of each change (as 0012's).

On SQLite the table exists and stays empty: the list counts the measures there."""

from django.db import migrations, models


# A measure's place in the facets: the columns of recognition_facettally, from a measure `r`, its
# jurisdiction `j` and that one's parent `p` (the state, as the list's state code says).
KEY_COLUMNS = "state, level, kind, status, stage, year, effective_on, effective_on_precision"
KEY = """CASE WHEN j.level = 'state' THEN j.usps ELSE coalesce(p.usps, '') END, j.level, r.kind, r.status, r.stage,
    coalesce(extract(year FROM r.adopted_on)::int, 0),
    CASE WHEN r.stage = 'adopted' THEN r.effective_on END,
    CASE WHEN r.stage = 'adopted' THEN r.effective_on_precision ELSE '' END"""
FROM = """JOIN recognition_jurisdiction j ON j.id = r.jurisdiction_id
    LEFT JOIN recognition_jurisdiction p ON p.id = j.parent_id
    WHERE r.published GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""


def add(rows, sign):
    return f"""
        INSERT INTO recognition_facettally AS t ({KEY_COLUMNS}, measures)
        SELECT {KEY}, {sign}count(*) FROM {rows} r {FROM}
        ON CONFLICT ({KEY_COLUMNS}) DO UPDATE SET measures = t.measures + EXCLUDED.measures;"""


FORWARD = f"""
CREATE UNIQUE INDEX facettally_key ON recognition_facettally ({KEY_COLUMNS}) NULLS NOT DISTINCT;

CREATE FUNCTION recognition_facets_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM recognition_facettally;
    {add("recognition_resolution", "")}
END $$;

CREATE FUNCTION recognition_facets_measures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {add("old_rows", "-")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {add("new_rows", "")}
    END IF;
    DELETE FROM recognition_facettally WHERE measures = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER recognition_facets_inserted AFTER INSERT ON recognition_resolution
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_facets_measures();
CREATE TRIGGER recognition_facets_updated AFTER UPDATE ON recognition_resolution
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_facets_measures();
CREATE TRIGGER recognition_facets_deleted AFTER DELETE ON recognition_resolution
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recognition_facets_measures();

-- A jurisdiction that changed level or state (rare, by staff): the facets are counted again.
CREATE FUNCTION recognition_facets_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.level, o.parent_id, o.usps) IS DISTINCT FROM (n.level, n.parent_id, n.usps)
    ) THEN
        PERFORM recognition_facets_rebuild();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER recognition_facets_jurisdictions AFTER UPDATE ON recognition_jurisdiction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recognition_facets_places();

SELECT recognition_facets_rebuild();
"""
BACKWARD = """
DROP TRIGGER recognition_facets_jurisdictions ON recognition_jurisdiction;
DROP TRIGGER recognition_facets_inserted ON recognition_resolution;
DROP TRIGGER recognition_facets_updated ON recognition_resolution;
DROP TRIGGER recognition_facets_deleted ON recognition_resolution;
DROP FUNCTION recognition_facets_places();
DROP FUNCTION recognition_facets_measures();
DROP FUNCTION recognition_facets_rebuild();
DROP INDEX facettally_key;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0013_search_document"),
    ]

    operations = [
        migrations.CreateModel(
            name="FacetTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("state", models.CharField(blank=True, max_length=2)),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("nation", "Nation"),
                            ("state", "State"),
                            ("county", "County"),
                            ("place", "City or town"),
                            ("district", "District"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("statute", "Statute"),
                            ("resolution", "Resolution"),
                            ("proclamation", "Proclamation"),
                            ("ordinance", "Ordinance"),
                            ("executive_order", "Executive order"),
                            ("bill", "Bill"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("introduced", "Introduced (pending)"),
                            ("adopted", "Adopted"),
                            ("failed", "Failed"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("introduced", "Introduced"),
                            ("in_committee", "In committee"),
                            ("passed_committee", "Passed committee"),
                            ("passed_lower", "Passed the lower chamber"),
                            ("passed_upper", "Passed the upper chamber"),
                            ("passed_both", "Passed both chambers"),
                            ("adopted", "Signed or adopted"),
                            ("in_force", "In force"),
                            ("vetoed", "Vetoed"),
                            ("failed", "Failed"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=16,
                    ),
                ),
                ("year", models.PositiveIntegerField()),
                ("effective_on", models.DateField(null=True)),
                ("effective_on_precision", models.CharField(blank=True, max_length=5)),
                ("measures", models.IntegerField()),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
