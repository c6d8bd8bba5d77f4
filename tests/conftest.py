"""Shared fixtures and factory-boy factories.

Reference geography (nation, states, counties with shapes) is loaded once per
test database, because nearly every test needs real states and counties and the
load is the same every time. Tests run inside transactions on top of it.
"""

import factory
import pytest
from django.core.cache import cache
from django.core.management import call_command

from recognition.models import Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_geography", verbosity=0)
        call_command("load_population", verbosity=0)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test accounts use a cheap hasher: the real one is slow on purpose (a sign-in test signs in often)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cold_cache():
    """Every test starts with an empty cache, as a fresh server would."""
    cache.clear()


@pytest.fixture(autouse=True)
def _database_breaker_closed(monkeypatch):
    """Every test starts with the database circuit breaker closed, as a fresh server would: a test that cuts
    the database off opens it, and the next tests would otherwise be answered 503 for its window."""
    from recognition import health

    monkeypatch.setattr(health, "breaker", health.CircuitBreaker())


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
