"""Data safety: `make backup` / `make restore` round-trip the database, and refuse what they must refuse.

The round trip needs PostgreSQL (pg_dump, pg_restore); on SQLite only the refusal is checked. pg_dump runs
in its own session, so the data it must see is committed: the round trip uses a transactional database,
which pytest-django flushes afterwards, so the test loads the session-wide reference data again after it.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from recognition import roles

ROOT = Path(__file__).resolve().parent.parent
STARTER_DATASET = "recognition/data/starter_dataset.csv"

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_dump and pg_restore work on PostgreSQL only (set DATABASE_URL=postgres://...)",
)


def run_manage(*args, database_url, **environment):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )


def database_url(settings_dict, name):
    """A DATABASE_URL for database `name` on the test database's server, as the test database's user."""
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@" if user else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or ''}{port}/{quote(name, safe='')}"


def server_connection(settings_dict, name="postgres"):
    import psycopg2

    return psycopg2.connect(
        dbname=name,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
    )


def snapshot(settings_dict, name):
    """What a restore must reproduce: each table's rows and checksum, sequences, indexes, constraints."""
    from psycopg2 import sql

    database = server_connection(settings_dict, name)
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [row[0] for row in cursor.fetchall()]
            rows = {}
            for table in tables:
                # Every row as text, in a fixed order: equal checksums mean equal contents.
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
                    ).format(sql.Identifier(table))
                )
                rows[table] = cursor.fetchone()
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            sequences = dict(cursor.fetchall())
            # Names, not definitions: PostgreSQL prints a re-parsed expression differently (same meaning).
            cursor.execute("SELECT tablename || '.' || indexname FROM pg_indexes WHERE schemaname = 'public'")
            indexes = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT conrelid::regclass::text || '.' || conname || ' ' || contype::text FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace"
            )
            constraints = {row[0] for row in cursor.fetchall()}
            # The three tables the public site is made of, ordered by id as a person would compare them.
            ordered = {}
            for table in ("recognition_resolution", "recognition_source", "recognition_jurisdiction"):
                cursor.execute(
                    sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {} t").format(
                        sql.Identifier(table)
                    )
                )
                ordered[table] = cursor.fetchone()[0]
    finally:
        database.close()
    return {
        "rows": rows,
        "sequences": sequences,
        "indexes": indexes,
        "constraints": constraints,
        "ordered": ordered,
    }


@pytest.fixture
def reload_reference_data_afterwards(django_db_blocker):
    """After the transactional database's flush (so: request this before `transactional_db`), load again what
    tests/conftest.py loads once per session, and the staff roles migration 0003 made, for the tests after."""
    yield
    with django_db_blocker.unblock():
        call_command("load_geography", verbosity=0)
        call_command("load_population", verbosity=0)
        roles.sync_roles()


@pytest.fixture
def empty_database():
    """The name of a new, empty database on the test database's server, dropped at the end."""
    import psycopg2.sql

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_restored"[:63]
    server = server_connection(settings_dict)
    server.autocommit = True

    def drop():
        with server.cursor() as cursor:
            cursor.execute(
                psycopg2.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg2.sql.Identifier(name)
                )
            )

    drop()  # left over by an interrupted run
    with server.cursor() as cursor:
        cursor.execute(psycopg2.sql.SQL("CREATE DATABASE {}").format(psycopg2.sql.Identifier(name)))
    try:
        yield name
    finally:
        drop()
        server.close()


REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def shared_cache():
    """A Redis database for a `manage.py` run with REDIS_URL, emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_TEST_URL}: {error}")
    yield client
    client.flushdb()


@postgresql_only
def test_a_backup_restores_into_an_empty_database_with_the_same_data(
    reload_reference_data_afterwards, transactional_db, empty_database, shared_cache, tmp_path
):
    call_command("import_resolutions", STARTER_DATASET, verbosity=0)
    settings_dict = connection.settings_dict
    dump = tmp_path / "tracker.dump"

    call_command("backup_database", output=str(dump), verbosity=0)
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert not list(tmp_path.glob("*.partial"))
    assert dump.stat().st_mode & 0o077 == 0, "a dump holds password hashes: owner-only"

    target_url = database_url(settings_dict, empty_database)
    # The site's shared cache still mirrors the version of the data before the restore.
    shared_cache.set("tracker:1:data-version", b"the version of the data before the restore")
    restored = run_manage("restore_database", str(dump), database_url=target_url, REDIS_URL=REDIS_TEST_URL)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert not shared_cache.exists("tracker:1:data-version"), "workers would go on serving pre-restore pages"

    before, after = snapshot(settings_dict, settings_dict["NAME"]), snapshot(settings_dict, empty_database)
    # The starter dataset (61 measures, each with its sources), not an empty shell.
    assert before["rows"]["recognition_resolution"][0] >= 50
    assert before["rows"]["recognition_source"][0] >= before["rows"]["recognition_resolution"][0]
    assert before["rows"]["recognition_jurisdiction"][0] > 3000  # states and counties
    for part in ("rows", "ordered", "sequences", "indexes", "constraints"):
        assert after[part] == before[part], part
    assert "recognition_resolution.resolution_search_document" in after["indexes"]  # migration 0005's GIN

    # Django finds every migration applied: the restored database is ready to serve.
    check = run_manage("migrate", "--check", database_url=target_url)
    assert check.returncode == 0, check.stdout + check.stderr

    # A second restore over it refuses, and changes nothing.
    again = run_manage("restore_database", str(dump), database_url=target_url)
    assert again.returncode != 0
    assert "Refusing to restore" in again.stderr and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    assert snapshot(settings_dict, empty_database)["rows"] == before["rows"]


@postgresql_only
def test_restore_refuses_a_file_that_is_not_a_dump(tmp_path):
    bogus = tmp_path / "notes.dump"
    bogus.write_text("not a dump\n")
    result = run_manage(
        "restore_database",
        str(bogus),
        database_url=database_url(connection.settings_dict, connection.settings_dict["NAME"]),
    )
    assert result.returncode != 0
    assert "not a pg_dump custom-format archive" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["backup_database", "restore_database"])
def test_backup_and_restore_refuse_sqlite_with_a_clear_message(tmp_path, command):
    args = [command] if command == "backup_database" else [command, str(tmp_path / "x.dump")]
    result = run_manage(*args, database_url=f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.dump").exists()
