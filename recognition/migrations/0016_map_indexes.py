"""What the national map reads, read from indexes alone.

Every state's and every county's jurisdiction (WHERE level = ...) had no index: each cold map
scanned the 23,000 jurisdictions twice. And the state measures' statuses (`counting()`: not
failed, not pending past its session) need the session: with `session_id` in 0013's covering
index of published measures by jurisdiction, the states' 4,000 measures are read index-only
(PostgreSQL; 21 ms -> 7 ms at 100,000 measures).
"""

from django.db import migrations, models

COLUMNS = "kind, status, stage, adopted_on, effective_on, effective_on_precision"
WITH_SESSION = [
    "DROP INDEX IF EXISTS resolution_published_facets",
    "CREATE INDEX resolution_published_facets ON recognition_resolution (jurisdiction_id) "
    f"INCLUDE ({COLUMNS}, session_id) WHERE published",
]
WITHOUT_SESSION = [
    "DROP INDEX IF EXISTS resolution_published_facets",
    "CREATE INDEX resolution_published_facets ON recognition_resolution (jurisdiction_id) "
    f"INCLUDE ({COLUMNS}) WHERE published",
]


def statements(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in sql:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("recognition", "0015_resolution_state_usps")]

    operations = [
        migrations.AddIndex(
            model_name="jurisdiction",
            index=models.Index(fields=["level"], name="jurisdiction_level"),
        ),
        migrations.RunPython(statements(WITH_SESSION), statements(WITHOUT_SESSION), elidable=False),
    ]
