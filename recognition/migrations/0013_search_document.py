"""The text a measure is found by, stored: a generated tsvector column with its GIN index (PostgreSQL only).

Computing `to_tsvector` for every candidate row made a common-word search re-parse every
matching record (its ranking and the index's recheck); a stored column is parsed once, at
write time. It replaces migration 0005's expression index; SEARCH_DOCUMENT_SQL in
recognition/filters.py names this column. The model does not declare it (SQLite searches
with a plain contains match), so the ORM never writes it.

Also the list's default order as one index (newest adopted first, then introduced, title,
id): the first page of a large search or of a state is read in order, not sorted; and the
published measures by jurisdiction with what the facets group by, read index-only.
"""

from django.db import migrations

DOCUMENT = "to_tsvector('english'::regconfig, title || ' ' || identifier || ' ' || body || ' ' || summary)"
CREATE = [
    f"ALTER TABLE recognition_resolution ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "CREATE INDEX resolution_search_document_stored ON recognition_resolution USING gin (search_document)",
    "DROP INDEX IF EXISTS resolution_search_document",
    "CREATE INDEX resolution_published_order ON recognition_resolution "
    "(adopted_on DESC NULLS LAST, introduced_on DESC, title, id) WHERE published",
    # A state's measures, counted and grouped by facet without reading the table (index-only).
    "CREATE INDEX resolution_published_facets ON recognition_resolution (jurisdiction_id) "
    "INCLUDE (kind, status, stage, adopted_on, effective_on, effective_on_precision) WHERE published",
]
DROP = [
    "DROP INDEX IF EXISTS resolution_published_facets",
    "DROP INDEX IF EXISTS resolution_published_order",
    "CREATE INDEX IF NOT EXISTS resolution_search_document ON recognition_resolution USING gin "
    "((to_tsvector('english', title || ' ' || identifier || ' ' || body || ' ' || summary)))",
    "ALTER TABLE recognition_resolution DROP COLUMN IF EXISTS search_document",  # drops its index too
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
    dependencies = [("recognition", "0012_tallies")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
