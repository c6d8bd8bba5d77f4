"""`manage.py restore_database FILE` (`make restore FILE=...`): a `backup_database` archive into an EMPTY database.

Never over existing data: the target (the PostgreSQL database in DATABASE_URL) must hold no table, view or
sequence outside PostgreSQL's own schemas, or the command refuses before touching it. pg_restore then runs
with --no-owner (the tables belong to whoever restores, e.g. the application's role), --exit-on-error and
--single-transaction: a restore that fails part-way leaves the database as empty as it found it.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from recognition.versioning import bump_data_version

from .backup_database import (
    archive_table_count,
    conninfo,
    describe,
    require_postgresql,
    require_tool,
    run_tool,
)

ARCHIVE_MAGIC = b"PGDMP"  # the first bytes of every pg_dump custom-format archive
EXISTING_RELATIONS_SQL = """
    SELECT n.nspname || '.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp%'
    ORDER BY 1
"""


def existing_relations(connection):
    with connection.cursor() as cursor:
        cursor.execute(EXISTING_RELATIONS_SQL)
        return [row[0] for row in cursor.fetchall()]


def renew_data_version(connection):
    """Give the restored data a version of its own, stored in its cache mirror and announced.

    The archive carries the token of the data as it was backed up, and pages cached
    under that token may show what changed after the backup. The mirror is named after
    the database, so a site still running on the original (which may keep caching its
    own version) never reaches the restored database's. A backup older than the data
    version table gets its version on its first request after `migrate`.
    """
    try:
        with transaction.atomic(using=connection.alias):
            bump_data_version()
    except DatabaseError:
        pass  # no recognition_dataversion table yet: `migrate` creates it
    finally:
        connection.close()


class Command(BaseCommand):
    help = (
        "Restore a pg_dump custom-format archive (made by `manage.py backup_database`) into the PostgreSQL "
        "database in DATABASE_URL, which must be empty (create it first: createdb -O <role> <name>). "
        "Runs pg_restore --no-owner --exit-on-error --single-transaction."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .dump file to restore")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, file, database, verbosity, **options):
        connection = connections[database]
        settings_dict = require_postgresql(connection.settings_dict, "restore_database (make restore)")
        pg_restore = require_tool("pg_restore")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with path.open("rb") as archive:
            if archive.read(len(ARCHIVE_MAGIC)) != ARCHIVE_MAGIC:
                raise CommandError(
                    f"{path} is not a pg_dump custom-format archive (the kind `make backup` writes)."
                )
        tables = archive_table_count(path, settings_dict)  # a truncated or damaged archive stops here

        try:
            found = existing_relations(connection)
        except DatabaseError as error:
            raise CommandError(
                f"Cannot connect to {describe(settings_dict)}: {str(error).strip()}\n"
                "Create the empty database first (createdb -O <role> <name>) and point DATABASE_URL at it."
            ) from error
        finally:
            connection.close()  # pg_restore's session is the only one from here on
        if found:
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise CommandError(
                f"Refusing to restore: {describe(settings_dict)} is not empty ({len(found)} tables, views "
                f"or sequences: {shown}). Restore into a new, empty database (createdb -O <role> <name>, "
                "then DATABASE_URL=postgres://.../<name> make restore FILE=...), never over existing data."
            )

        run_tool(
            [
                pg_restore,
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={conninfo(settings_dict)}",
                str(path),
            ],
            settings_dict,
        )
        renew_data_version(connection)
        if verbosity >= 1:
            self.stdout.write(
                f"Restored {path} ({tables} tables) into {describe(settings_dict)}.\n"
                "If this code is newer than the backup, run `manage.py migrate` next."
            )
