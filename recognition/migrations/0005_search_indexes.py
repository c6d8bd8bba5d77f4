"""Full-text search indexes, on PostgreSQL only (SQLite searches with a plain contains match).

The expressions must stay identical to SEARCH_DOCUMENT_SQL and JURISDICTION_MATCH_SQL
in recognition/filters.py, or PostgreSQL will not use these indexes.
"""

from django.db import migrations

CREATE = [
    # Serves /resolutions/?q=...: to_tsvector(document) @@ websearch_to_tsquery(q).
    "CREATE INDEX IF NOT EXISTS resolution_search_document ON recognition_resolution USING gin "
    "((to_tsvector('english', title || ' ' || identifier || ' ' || body || ' ' || summary)))",
    # Serves the jurisdiction-name half of the same search.
    "CREATE INDEX IF NOT EXISTS jurisdiction_name_search ON recognition_jurisdiction USING gin "
    "((to_tsvector('simple', name)))",
]
DROP = [
    "DROP INDEX IF EXISTS resolution_search_document",
    "DROP INDEX IF EXISTS jurisdiction_name_search",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0004_data_version")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
