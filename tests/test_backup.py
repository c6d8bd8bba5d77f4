"""Data safety: `make backup` / `make restore` round-trip the database, and refuse what they must refuse.

The round trip needs PostgreSQL (pg_dump, pg_restore); on SQLite only the refusal is checked. pg_dump runs
in its own session, so the data it must see is committed: the round trip uses a transactional database,
which pytest-django flushes afterwards, so the test loads the session-wide reference data again after it.
The site's shared cache is a redis-server of the tests' own (tests/conftest.py).
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
STARTER_DATASET = "recognition/data/starter_dataset.csv"


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


@pytest.fixture
def shared_cache(redis_server):
    """The redis-server a `manage.py` run reaches with REDIS_URL, emptied before and after."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.flushdb()


def mirror_key(database_url):
    """The Redis key of the data version's mirror, for the site on `database_url`, as the site names it."""
    code = "from django.core.cache import cache; from recognition.versioning import mirror_key; "
    code += "print(cache.make_key(mirror_key()))"
    result = run_manage("shell", "-c", code, database_url=database_url, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def data_version(settings_dict, name):
    database = server_connection(settings_dict, name)
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT token, changed_at FROM recognition_dataversion")
            return cursor.fetchone()
    finally:
        database.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_backup_restores_into_an_empty_database_with_the_same_data(
    reload_reference_data_afterwards, transactional_db, empty_database, shared_cache, redis_server, tmp_path
):
    shared_cache_url = redis_server.url
    call_command("import_resolutions", STARTER_DATASET, verbosity=0)
    settings_dict = connection.settings_dict
    dump = tmp_path / "tracker.dump"

    call_command("backup_database", output=str(dump), verbosity=0)
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert not list(tmp_path.glob("*.partial"))
    assert dump.stat().st_mode & 0o077 == 0, "a dump holds password hashes: owner-only"

    target_url = database_url(settings_dict, empty_database)
    restored = run_manage("restore_database", str(dump), database_url=target_url, REDIS_URL=shared_cache_url)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    # The restored data has a version of its own, already in its mirror (named after its database).
    restored_version = data_version(settings_dict, empty_database)
    assert restored_version[0] != data_version(settings_dict, settings_dict["NAME"])[0]
    assert pickle.loads(shared_cache.get(mirror_key(target_url))) == restored_version

    before, after = snapshot(settings_dict, settings_dict["NAME"]), snapshot(settings_dict, empty_database)
    after_restore_version_rows = after["rows"]["recognition_dataversion"]
    # The starter dataset (61 measures, each with its sources), not an empty shell.
    assert before["rows"]["recognition_resolution"][0] >= 50
    assert before["rows"]["recognition_source"][0] >= before["rows"]["recognition_resolution"][0]
    assert before["rows"]["recognition_jurisdiction"][0] > 3000  # states and counties
    for part in ("rows", "ordered", "sequences", "indexes", "constraints"):
        if part == "rows":  # all the same but the data version, which the restore renewed
            before[part].pop("recognition_dataversion"), after[part].pop("recognition_dataversion")
        assert after[part] == before[part], part
    assert "recognition_resolution.resolution_search_document_stored" in after["indexes"]  # migration 0012's GIN

    # Django finds every migration applied: the restored database is ready to serve.
    check = run_manage("migrate", "--check", database_url=target_url)
    assert check.returncode == 0, check.stdout + check.stderr

    # A second restore over it refuses, and changes nothing.
    again = run_manage("restore_database", str(dump), database_url=target_url)
    assert again.returncode != 0
    assert "Refusing to restore" in again.stderr and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    assert snapshot(settings_dict, empty_database)["rows"] == {
        **before["rows"],
        "recognition_dataversion": after_restore_version_rows,
    }


@pytest.mark.postgres
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


FIRST_ANSWER = """
import sys
from io import BytesIO
from wsgiref.util import setup_testing_defaults

from config.wsgi import application

environ = {"PATH_INFO": sys.argv[1], "HTTP_HOST": "testserver", "wsgi.input": BytesIO()}
setup_testing_defaults(environ)
status = []
body = b"".join(application(environ, lambda answer, headers, exc_info=None: status.append(answer)))
print(status[0])
print(body.decode())
"""


def first_answer(path, *, database_url, redis_url):
    """What a site freshly started on `database_url` (a new process, as gunicorn's) answers first."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER, path],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_ALLOWED_HOSTS": "testserver",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.postgres
@pytest.mark.redis
def test_the_first_answer_of_the_site_on_a_restored_database_shows_the_restored_data(
    reload_reference_data_afterwards,
    transactional_db,
    empty_database,
    shared_cache,
    redis_server,
    settings,
    tmp_path,
):
    """Back up, change a title, restore into a new database while the old site keeps running (and
    caching) on the original, then start a site on the restored database: it shows the backed-up title."""
    from config.settings import redis_cache_settings
    from recognition import sharedcache
    from recognition.models import Resolution
    from tests.test_caching import call_wsgi, wsgi_application

    settings.CACHES = {"default": redis_cache_settings(redis_server.url)}  # the old site's REDIS_URL
    sharedcache.reset()
    call_command("import_resolutions", STARTER_DATASET, verbosity=0)
    old_site = wsgi_application()
    record = Resolution.objects.published().first()
    url, backed_up_title = record.get_absolute_url(), record.title
    for _ in range(2):
        assert backed_up_title in call_wsgi(old_site, url)["body"].decode()

    dump = tmp_path / "tracker.dump"
    call_command("backup_database", output=str(dump), verbosity=0)
    record.title = "A title the backup does not have"
    record.save()  # committed: the old site's version changes, and its mirror with it
    for _ in range(2):
        assert "A title the backup does not have" in call_wsgi(old_site, url)["body"].decode()

    target_url = database_url(connection.settings_dict, empty_database)
    restored = run_manage("restore_database", str(dump), database_url=target_url, REDIS_URL=redis_server.url)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    # The old site is still running, serving and caching the original database's data.
    assert "A title the backup does not have" in call_wsgi(old_site, url)["body"].decode()

    restored_database = server_connection(connection.settings_dict, empty_database)
    try:
        with restored_database.cursor() as cursor:
            cursor.execute("SELECT title FROM recognition_resolution WHERE id = %s", [record.pk])
            assert cursor.fetchone()[0] == backed_up_title  # what the restored database holds
    finally:
        restored_database.close()
    answer = first_answer(url, database_url=target_url, redis_url=redis_server.url)
    assert answer.startswith("200")
    assert backed_up_title in answer and "A title the backup does not have" not in answer
