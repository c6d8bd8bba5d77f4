"""`manage.py backup_database` (`make backup`): a pg_dump custom-format archive of the PostgreSQL database.

Writes backups/tracker-YYYYMMDD-HHMMSS.dump (UTC) unless told otherwise, through a `.partial` file renamed
only once pg_dump has succeeded and pg_restore can read the archive back, so a file under the final name is
always a complete dump. The folder and the files are readable by their owner only: a dump holds staff
accounts (password hashes) and submitters' e-mail addresses.

The connection settings are Django's own (DATABASES, from DATABASE_URL); the password reaches pg_dump in
its environment (PGPASSWORD), never on its command line. `restore_database` uses the same helpers.
"""

import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

BACKUP_DIR = Path(settings.BASE_DIR) / "backups"
# libpq connection keywords that may sit in DATABASES["OPTIONS"] (others there are Django's own).
LIBPQ_OPTIONS = {
    "application_name",
    "channel_binding",
    "connect_timeout",
    "gssencmode",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "options",
    "passfile",
    "service",
    "sslcert",
    "sslcrl",
    "sslkey",
    "sslmode",
    "sslpassword",
    "sslrootcert",
    "target_session_attrs",
}


def require_postgresql(settings_dict, what):
    """The settings of a PostgreSQL database, or a CommandError saying why `what` cannot run."""
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        engine = settings_dict["ENGINE"].rsplit(".", 1)[-1]
        raise CommandError(
            f"{what} works on PostgreSQL only, and DATABASE_URL selects {engine} "
            f"({settings_dict['NAME']}). Set DATABASE_URL=postgres://user@host:port/name and run it again. "
            "(A SQLite database is a single file: copy it while nothing writes to it.)"
        )
    return settings_dict


def require_tool(name):
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client), "
            "of the server's major version or newer."
        )
    return path


def _quote(value):
    """A libpq connection-string value, quoted."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(settings_dict):
    """The libpq connection string of the database, without its password (see `pg_environment`)."""
    parts = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
        "user": settings_dict.get("USER"),
    }
    options = settings_dict.get("OPTIONS") or {}
    parts.update({key: value for key, value in options.items() if key in LIBPQ_OPTIONS})
    return " ".join(f"{key}={_quote(value)}" for key, value in parts.items() if value not in (None, ""))


def pg_environment(settings_dict):
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def describe(settings_dict):
    host = settings_dict.get("HOST") or "local socket"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"database {settings_dict['NAME']} on {host}{port}"


def run_tool(argv, settings_dict):
    """Run a PostgreSQL client tool; its stderr in a CommandError if it fails."""
    result = subprocess.run(argv, env=pg_environment(settings_dict), capture_output=True, text=True)
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit code {result.returncode}"
        raise CommandError(f"{Path(argv[0]).name} failed on {describe(settings_dict)}:\n{message}")
    return result.stdout


def archive_table_count(path, settings_dict):
    """How many tables' data a custom-format archive holds (`pg_restore --list`, which also proves it reads)."""
    listing = run_tool([require_tool("pg_restore"), "--list", str(path)], settings_dict)
    return sum(" TABLE DATA " in line for line in listing.splitlines())


class Command(BaseCommand):
    help = (
        "Write a pg_dump custom-format archive (-Fc) of the PostgreSQL database in DATABASE_URL to "
        "backups/tracker-YYYYMMDD-HHMMSS.dump (UTC). Refuses any other database engine. Restore it with "
        "`manage.py restore_database FILE` (make restore FILE=...) into an empty database."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--output", help="the file to write (default: backups/tracker-<UTC time>.dump)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, output, database, verbosity, **options):
        settings_dict = require_postgresql(
            connections[database].settings_dict, "backup_database (make backup)"
        )
        pg_dump = require_tool("pg_dump")
        if output:
            target = Path(output)
        else:
            BACKUP_DIR.mkdir(mode=0o700, exist_ok=True)
            target = BACKUP_DIR / f"tracker-{timezone.now():%Y%m%d-%H%M%S}.dump"
        if target.exists():
            raise CommandError(f"{target} already exists: not overwriting it.")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        # Owner-only from the first byte: pg_dump creates the file with this process's umask.
        previous_umask = os.umask(0o077)
        try:
            run_tool(
                [pg_dump, "--format=custom", "--no-password", f"--file={partial}", conninfo(settings_dict)],
                settings_dict,
            )
            tables = archive_table_count(partial, settings_dict)
            partial.rename(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            os.umask(previous_umask)
        if verbosity >= 1:
            size = target.stat().st_size / 1024 / 1024
            self.stdout.write(
                f"Wrote {target} ({size:.1f} MB, {tables} tables) from {describe(settings_dict)}.\n"
                "Copy it off this machine; restore it with: make restore FILE=" + str(target)
            )
