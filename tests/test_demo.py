"""seed_demo: deterministic synthetic data, never mixed with real records."""

import pytest
from django.core.management import CommandError, call_command

from recognition.demo import DEMO_TITLE_PREFIX, demo_places
from recognition.models import Resolution

pytestmark = pytest.mark.django_db


def snapshot():
    return list(
        Resolution.objects.order_by("identifier").values_list(
            "identifier", "jurisdiction__name", "kind", "status", "adopted_on", "published"
        )
    )


def test_same_seed_same_data_and_every_record_is_recognisable():
    call_command("seed_demo", resolutions=300, places=40, seed=7, verbosity=0)
    first = snapshot()
    call_command("seed_demo", resolutions=300, places=40, seed=7, verbosity=0)
    assert snapshot() == first
    assert len(first) == 300
    assert demo_places().count() == 40
    assert not Resolution.objects.exclude(title__startswith=DEMO_TITLE_PREFIX).exists()
    assert not Resolution.objects.exclude(sources__url__startswith="https://records.demo.invalid/").exists()


def test_another_seed_gives_other_data():
    call_command("seed_demo", resolutions=100, places=10, seed=1, verbosity=0)
    first = snapshot()
    call_command("seed_demo", resolutions=100, places=10, seed=2, verbosity=0)
    assert snapshot() != first


def test_every_kind_status_and_level_appears():
    call_command("seed_demo", resolutions=600, places=50, seed=3, verbosity=0)
    assert set(Resolution.objects.values_list("status", flat=True)) == {"introduced", "adopted", "failed"}
    assert set(Resolution.objects.values_list("jurisdiction__level", flat=True)) == {
        "state",
        "county",
        "place",
        "district",
    }
    assert len(set(Resolution.objects.values_list("kind", flat=True))) >= 6


def test_refuses_a_database_with_real_data(starter_dataset):
    before = Resolution.objects.count()
    with pytest.raises(CommandError, match="real resolutions"):
        call_command("seed_demo", resolutions=10, places=1, verbosity=0)
    assert Resolution.objects.count() == before
