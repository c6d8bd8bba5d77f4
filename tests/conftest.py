"""Shared fixtures and factory-boy factories.

Reference geography (nation, states, counties with shapes) is loaded once per
test database, because nearly every test needs real states and counties and the
load is the same every time. Tests run inside transactions on top of it.

Markers, for tests that need more than Python and a database:

- ``postgres``: needs PostgreSQL. Skipped when DATABASE_URL selects another
  database, in CI as well: CI runs the whole suite on SQLite too, on purpose, and
  these tests have nothing to check there. When DATABASE_URL names PostgreSQL they
  run, so an unreachable server fails them (the test database cannot be created):
  a broken PostgreSQL run never passes by skipping.
- ``redis``: starts a redis-server of its own (fixtures ``redis_server``, shared by
  the session, and ``redis_cache``, the site's cache on it), so no Redis need be
  running, only the binary installed. Without it the test is skipped locally and
  fails under CI=true, as the browser tests do (tests/e2e/conftest.py).
"""

import os

import factory
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.core.management import call_command

from config.settings import redis_cache_settings
from recognition import roles, sharedcache
from recognition.models import Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status
from tests.redis_server import RedisServer
from tests.staff import make_user, signed_in


def in_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason):
    """Skip locally, fail in CI: a CI run must not pass by skipping what it is there to check."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: these tests must run in CI)")
    pytest.skip(reason)


def pytest_runtest_setup(item):
    if (
        item.get_closest_marker("postgres")
        and "postgresql" not in django_settings.DATABASES["default"]["ENGINE"]
    ):
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...); this run is on another database")
    if item.get_closest_marker("redis") and RedisServer.binary() is None:
        unavailable("redis-server not found: install it (Debian: apt-get install redis-server)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """A test inside a transaction that is never committed (the `db` fixture, Django's TestCase) counts the
    county groups (migration 0018's trigger deferred to commit) at the end of each statement instead,
    those its fixtures left waiting first: a page a test reads sees what the test wrote, as a visitor's
    request sees what a publish committed. Foreign keys are still checked at commit, as in production;
    tests that commit (`transactional_db`) are left as they are."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS recognition_county_groups_at_commit IMMEDIATE")


def start_redis(directory, port=None):
    """A RedisServer started in `directory`: the caller stops it."""
    server = RedisServer(directory, port)
    if server.binary() is None:
        unavailable("redis-server not found: install it (Debian: apt-get install redis-server)")
    try:
        return server.start()
    except (OSError, RuntimeError) as error:
        unavailable(f"redis-server would not start: {error}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the tests that use Redis without stopping it; stopped after the session."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_cache(redis_server, settings):
    """The site's cache on the session's redis-server, configured as REDIS_URL does; emptied after."""
    settings.CACHES = {"default": redis_cache_settings(redis_server.url)}
    sharedcache.reset()
    yield caches["default"]
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_geography", verbosity=0)
        call_command("load_population", verbosity=0)


@pytest.fixture
def reload_reference_data_afterwards(django_db_blocker):
    """After the transactional database's flush (so: request this before `transactional_db`), load again what
    tests/conftest.py loads once per session, and the staff roles migration 0003 made, for the tests after."""
    yield
    with django_db_blocker.unblock():
        call_command("load_geography", verbosity=0)
        call_command("load_population", verbosity=0)
        roles.sync_roles()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test accounts use a cheap hasher: the real one is slow on purpose (a sign-in test signs in often)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cold_cache():
    """Every test starts with an empty cache, as a fresh server would, and no cache outage noted."""
    sharedcache.reset()
    cache.clear()


@pytest.fixture(autouse=True)
def _database_breaker_closed(monkeypatch):
    """Every test starts with the database circuit breaker closed, as a fresh server would: a test that cuts
    the database off opens it, and the next tests would otherwise be answered 503 for its window."""
    from recognition import health

    monkeypatch.setattr(health, "breaker", health.CircuitBreaker())


# Staff accounts and their signed-in clients (tests/staff.py), for the admin's tests.


@pytest.fixture
def editor(django_user_model):
    return make_user(django_user_model, "editor", roles.EDITORS)


@pytest.fixture
def publisher(django_user_model):
    return make_user(django_user_model, "publisher", roles.PUBLISHERS)


@pytest.fixture
def editor_client(editor):
    return signed_in(editor)


@pytest.fixture
def publisher_client(publisher):
    return signed_in(publisher)


def get_state(usps):
    return Jurisdiction.objects.get(level=Level.STATE, usps=usps)


def get_county(fips):
    return Jurisdiction.objects.get(level=Level.COUNTY, fips=fips)


class PlaceFactory(factory.django.DjangoModelFactory):
    """A city in Alabama (Mobile County) unless told otherwise."""

    class Meta:
        model = Jurisdiction

    level = Level.PLACE
    name = factory.Sequence(lambda n: f"City of Testville {n}")
    parent = factory.LazyFunction(lambda: get_state("AL"))
    county = factory.LazyFunction(lambda: get_county("01097"))


class ResolutionFactory(factory.django.DjangoModelFactory):
    """A published, sourced county resolution (Mobile County, Alabama) unless told otherwise."""

    class Meta:
        model = Resolution
        skip_postgeneration_save = True

    jurisdiction = factory.LazyFunction(lambda: get_county("01097"))
    kind = Kind.RESOLUTION
    status = Status.ADOPTED
    body = "County Commission"
    title = factory.Sequence(lambda n: f"Resolution recognizing telecommunicators {n}")
    summary = "Recognizes 911 telecommunicators as first responders."
    adopted_on = factory.Faker("date_between", start_date="-5y", end_date="today")
    adopted_on_precision = "day"
    published = True
    confidence = Confidence.HIGH

    @factory.post_generation
    def sources(obj, create, extracted, **kwargs):
        if not create:
            return
        urls = extracted if extracted is not None else [f"https://example.org/resolutions/{obj.pk}"]
        for url in urls:
            Source.objects.create(resolution=obj, url=url, title=f"Minutes for {obj.title}")


@pytest.fixture
def starter_dataset(db, settings):
    """The cited starter dataset, imported as `make run` imports it.

    Without change history: it is the setting of a test, not a change under test, and recording its ~150
    rows would double the cost of this fixture. tests/test_staff.py checks that imports write history.
    """
    settings.SIMPLE_HISTORY_ENABLED = False
    call_command("import_resolutions", "recognition/data/starter_dataset.csv", verbosity=0)
    settings.SIMPLE_HISTORY_ENABLED = True


@pytest.fixture(autouse=True)
def _no_warming(settings):
    """No pages are warmed after a change (tests/test_warming.py turns it on): with tasks run at once, every
    publish of every test would render the site's main pages."""
    settings.WARM_PAGES = False


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Tasks run in the caller's process, as with DJANGO_TASKS_BACKEND=immediate: no worker in tests."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
