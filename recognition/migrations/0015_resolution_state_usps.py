"""Each measure's state (the USPS code of its jurisdiction, or of the state that jurisdiction lies in; ''
for the nation), stored on the measure and kept by triggers, with the list's order index per state.

`?state=TX` used to find the state's jurisdictions (a join over 23,000 places), then every one of their
7,000 measures, then sort them all for the first 50; with the code on the row and an index in the list's
order under it, the first page is the first 50 entries of one index range. The triggers are the one
writer of the column: on a measure's insert or move to another jurisdiction, and on a jurisdiction's
insert or change of level, parent or code (for its measures and its children's).

PostgreSQL only: on SQLite the column stays '' and the list filters through the jurisdictions. (SQLite
triggers that name the other table would break every later migration of either table there: Django
alters a SQLite table by rebuilding and renaming it, and SQLite re-checks every trigger at the rename.)
"""

from django.db import migrations, models

STATE_OF = """coalesce((SELECT CASE WHEN j.level = 'state' THEN j.usps ELSE coalesce(p.usps, '') END
    FROM recognition_jurisdiction j LEFT JOIN recognition_jurisdiction p ON p.id = j.parent_id
    WHERE j.id = {jurisdiction}), '')"""
MOVED = "jurisdiction_id IN (SELECT id FROM recognition_jurisdiction WHERE id = NEW.id OR parent_id = NEW.id)"

POSTGRESQL = [
    f"""CREATE FUNCTION recognition_resolution_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.state_usps := {STATE_OF.format(jurisdiction="NEW.jurisdiction_id")};
    RETURN NEW;
END $$""",
    # Django writes every column on save: the trigger recomputes whatever value it was given.
    "CREATE TRIGGER recognition_resolution_state BEFORE INSERT OR UPDATE OF jurisdiction_id, state_usps "
    "ON recognition_resolution FOR EACH ROW EXECUTE FUNCTION recognition_resolution_state()",
    f"""CREATE FUNCTION recognition_jurisdiction_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE recognition_resolution SET state_usps = {STATE_OF.format(jurisdiction="jurisdiction_id")}
    WHERE {MOVED};
    RETURN NULL;
END $$""",
    "CREATE TRIGGER recognition_jurisdiction_state AFTER UPDATE OF level, parent_id, usps "
    "ON recognition_jurisdiction FOR EACH ROW WHEN (OLD.level IS DISTINCT FROM NEW.level "
    "OR OLD.parent_id IS DISTINCT FROM NEW.parent_id OR OLD.usps IS DISTINCT FROM NEW.usps) "
    "EXECUTE FUNCTION recognition_jurisdiction_state()",
    # A jurisdiction written after its measures (foreign keys are checked at commit): theirs too.
    "CREATE TRIGGER recognition_jurisdiction_state_insert AFTER INSERT ON recognition_jurisdiction "
    "FOR EACH ROW EXECUTE FUNCTION recognition_jurisdiction_state()",
    # The list's first page of a state: Resolution.objects.published().filter(state_usps__in=["TX"])
    # in the list's order (as resolution_published_order, one range per state).
    "CREATE INDEX resolution_published_state_order ON recognition_resolution "
    "(state_usps, adopted_on DESC NULLS LAST, introduced_on DESC, title, id) WHERE published",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS recognition_jurisdiction_state_insert ON recognition_jurisdiction",
    "DROP TRIGGER IF EXISTS recognition_jurisdiction_state ON recognition_jurisdiction",
    "DROP FUNCTION IF EXISTS recognition_jurisdiction_state()",
    "DROP TRIGGER IF EXISTS recognition_resolution_state ON recognition_resolution",
    "DROP FUNCTION IF EXISTS recognition_resolution_state()",
    "DROP INDEX IF EXISTS resolution_published_state_order",
]

BACKFILL = f"UPDATE recognition_resolution SET state_usps = {STATE_OF.format(jurisdiction='jurisdiction_id')}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL)
        for statement in POSTGRESQL:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0014_facet_tally")]

    operations = [
        migrations.AddField(
            model_name="resolution",
            name="state_usps",
            field=models.CharField(blank=True, default="", editable=False, max_length=2),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
