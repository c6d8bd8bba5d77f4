"""Warm after publish: a change to public data queues one task, which fills the page cache for the new version.

The site's cache is a redis-server of the test's own (warming needs a shared cache). A test runs
in one transaction that never commits: `commit()` runs what a commit would run (the version is
mirrored, the task queued). With tasks run at once the task renders in this process, so its
requests, like the tests' own, must not close the test's connection (`keep_connection`).
Which pages were warmed is told by what a visitor's request then costs: no database query.
"""

import contextlib

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.tasks import default_task_backend
from django.tasks.backends.dummy import DummyBackend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.settings import redis_cache_settings
from recognition import sharedcache, warming
from recognition.models import DataVersion, Level, Resolution
from tests import legislative
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.test_caching import call_wsgi, commit, wsgi_application

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

WYOMING_ALBANY = "56001"
TEXAS_TRAVIS = "48453"


@contextlib.contextmanager
def keep_connection():
    """As Django's test client does: a request made in this process leaves the test's connection open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def warming_on(redis_cache, settings):
    """Warming as in production: Redis shared, DJANGO_WARM_PAGES on, the site at http://testserver."""
    settings.SITE_URL = "http://testserver"
    commit()  # what the fixtures wrote is settled before warming is on
    settings.WARM_PAGES = True
    warming._site = None  # built afresh on this test's settings
    yield
    warming._site = None


@pytest.fixture
def queued(settings):
    """Tasks are kept, not run: the list of warming tasks queued."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    return lambda: [r for r in default_task_backend.results if r.task.func is warming.warm_pages.func]


def expected_pages(*places):
    """The oracle, from the jurisdictions' own fields: the first pages, then each state, county and place."""
    states, counties, own = [], [], []
    for place in places:
        state = place if place.level == Level.STATE else place.parent
        county = {Level.COUNTY: place, Level.STATE: None}.get(place.level, place.county)
        if state.usps.lower() not in states:
            states.append(state.usps.lower())
        if county is not None:
            counties.append(f"/states/{state.usps.lower()}/{county.slug}/")
        if place.level in (Level.PLACE, Level.DISTRICT):
            own.append(f"/states/{state.usps.lower()}/{place.slug}/")
    return {
        "/",
        "/?layer=counties",
        "/resolutions/",
        *(f"/states/{usps}/" for usps in states),
        *counties,
        *own,
    }


def visit(site, address):
    with keep_connection():
        return call_wsgi(site, address, ACCEPT_ENCODING="gzip")


def is_warm(address):
    """Whether a visitor's request (a fresh server process: nothing in its memory) needs no query."""
    with CaptureQueriesContext(connection) as queries:
        answer = visit(wsgi_application(), address)
    assert answer["status"].startswith("200"), address
    return len(queries) == 0


# --- What is queued ---------------------------------------------------------------------------------


def test_a_publish_queues_one_task_for_the_records_own_places(warming_on, queued):
    draft = ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY), published=False)
    commit()
    assert queued() == []  # a draft: nothing the public sees
    draft.published = True
    draft.save()
    draft.sources.create(url="https://example.org/minutes", title="Minutes")  # the same transaction
    commit()
    [task] = queued()
    token, jurisdiction_ids = task.args
    assert jurisdiction_ids == [draft.jurisdiction_id]
    assert token == DataVersion.objects.get().token
    assert set(warming.pages(jurisdiction_ids)) == expected_pages(get_county(WYOMING_ALBANY))


def test_places_touched_are_the_records_own_state_county_and_place(warming_on):
    city = PlaceFactory()  # in Mobile County, Alabama
    places = [get_state("TX"), get_county(TEXAS_TRAVIS), city]
    assert set(warming.pages([p.pk for p in places])) == expected_pages(*places)


def test_the_admins_bulk_publish_queues_one_task_for_every_record(warming_on, queued, publisher_client):
    drafts = [
        ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY), published=False),
        ResolutionFactory(jurisdiction=get_county(TEXAS_TRAVIS), published=False),
        ResolutionFactory(jurisdiction=get_state("OR"), published=False),
    ]
    commit()
    response = publisher_client.post(
        reverse("admin:recognition_resolution_changelist"),
        {"action": "publish", "_selected_action": [d.pk for d in drafts]},
    )
    assert response.status_code == 302
    assert Resolution.objects.filter(pk__in=[d.pk for d in drafts], published=True).count() == 3
    commit()
    [task] = queued()
    assert set(task.args[1]) == {d.jurisdiction_id for d in drafts}


def test_unpublished_edits_warm_nothing_and_an_unpublish_warms_its_places(warming_on, queued):
    draft = ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY), published=False)
    record = ResolutionFactory(jurisdiction=get_county(TEXAS_TRAVIS))
    commit()
    default_task_backend.clear()
    draft.title = "A new title"
    draft.save()
    Resolution.objects.filter(pk=draft.pk).update(summary="Another summary.")  # a bulk write too
    commit()
    assert queued() == []

    record.published = False
    record.save()
    commit()
    [task] = queued()
    assert task.args[1] == [record.jurisdiction_id]


def test_a_bulk_unpublish_warms_the_places_that_were_public(warming_on, queued):
    records = [ResolutionFactory(jurisdiction=get_county(TEXAS_TRAVIS)), ResolutionFactory()]
    commit()
    default_task_backend.clear()
    Resolution.objects.filter(pk__in=[r.pk for r in records]).update(published=False)
    commit()
    [task] = queued()
    assert set(task.args[1]) == {r.jurisdiction_id for r in records}
    assert task.args[0] == DataVersion.objects.get().token  # the version the update made, not the one before


@pytest.mark.parametrize("how", ["save", "update", "bulk_update"])
def test_a_record_moved_to_another_jurisdiction_warms_the_pages_of_both(warming_on, queued, how):
    """The old state's and county's pages listed it, the new ones list it now: all of them are stale."""
    old, new = get_county(WYOMING_ALBANY), get_county(TEXAS_TRAVIS)
    record = ResolutionFactory(jurisdiction=old)
    draft = ResolutionFactory(jurisdiction=old, published=False)
    commit()
    default_task_backend.clear()
    for moved in (record, draft):
        moved.jurisdiction = new
    if how == "save":
        record.save()
        draft.save()
    elif how == "update":
        Resolution.objects.filter(pk__in=[record.pk, draft.pk]).update(jurisdiction=new)
    else:
        Resolution.objects.bulk_update([record, draft], ["jurisdiction"])
    commit()
    [task] = queued()
    assert set(task.args[1]) == {old.pk, new.pk}
    assert set(warming.pages(task.args[1])) == expected_pages(old, new)

    draft.jurisdiction = old  # a draft moving back: nothing the public sees
    draft.save()
    commit()
    assert len(queued()) == 1


def test_a_record_unpublished_as_it_moves_warms_only_where_it_was_public(warming_on, queued):
    old, new = get_county(WYOMING_ALBANY), get_county(TEXAS_TRAVIS)
    record, other = ResolutionFactory(jurisdiction=old), ResolutionFactory(jurisdiction=old)
    commit()
    default_task_backend.clear()
    record.jurisdiction, record.published = new, False
    record.save()
    Resolution.objects.filter(pk=other.pk).update(jurisdiction=new, published=False)
    commit()
    [task] = queued()
    assert task.args[1] == [old.pk]


@pytest.mark.parametrize("what", ["source", "action", "session"])
def test_a_row_moved_by_a_save_warms_the_pages_it_left_and_those_it_joined(warming_on, queued, what):
    """A source or action moved to another record, a session to another legislature: the old place's
    pages listed it too."""
    if what == "session":
        old, new = get_state("WY"), get_state("TX")
        row = legislative.session(usps="WY")
        row.jurisdiction = new
    else:
        old, new = get_county(WYOMING_ALBANY), get_county(TEXAS_TRAVIS)
        was_on, now_on = ResolutionFactory(jurisdiction=old), ResolutionFactory(jurisdiction=new)
        if what == "source":
            row = was_on.sources.create(url="https://example.org/minutes", title="Minutes")
        else:
            row = legislative.act(was_on, "2025-03-04", "passage")
        row.resolution = now_on
    commit()
    default_task_backend.clear()
    row.save()
    commit()
    [task] = queued()
    assert set(task.args[1]) == {old.pk, new.pk}
    assert set(warming.pages(task.args[1])) == expected_pages(old, new)


def test_a_source_moved_between_drafts_warms_nothing_and_one_leaving_a_public_record_warms_its_place(
    warming_on, queued
):
    public = ResolutionFactory(jurisdiction=get_county(WYOMING_ALBANY))
    drafts = [ResolutionFactory(jurisdiction=get_county(TEXAS_TRAVIS), published=False) for _ in range(2)]
    source = drafts[0].sources.create(url="https://example.org/minutes", title="Minutes")
    commit()
    default_task_backend.clear()
    source.resolution = drafts[1]
    source.save()
    commit()
    assert queued() == []
    source.resolution = public
    source.save()
    commit()
    default_task_backend.clear()
    source.resolution = drafts[0]
    source.save()  # leaving the public record: its page showed it until now
    commit()
    [task] = queued()
    assert task.args[1] == [public.jurisdiction_id]


def test_a_place_moved_to_another_county_and_state_warms_the_pages_of_both(warming_on, queued):
    """The old county's and state's pages counted the place; the new ones count it now."""
    city = PlaceFactory()  # in Mobile County, Alabama
    commit()
    default_task_backend.clear()
    old_county = city.county
    city.parent, city.county = get_state("TX"), get_county(TEXAS_TRAVIS)
    city.save()
    commit()
    [task] = queued()
    assert set(warming.pages(task.args[1])) == expected_pages(city, old_county)


def test_nothing_is_queued_when_warming_is_off(warming_on, queued, settings):
    settings.WARM_PAGES = False
    ResolutionFactory()
    commit()
    assert queued() == []


# --- What the task does -------------------------------------------------------------------------------


def run_queued(queued):
    """What the worker does: run each queued warming task (then forget them)."""
    with keep_connection():
        for result in queued():
            warming.warm_pages.call(*result.args)
    default_task_backend.clear()


def test_after_the_task_the_pages_are_cached_for_the_new_version(warming_on, queued):
    city = PlaceFactory()
    record = ResolutionFactory(jurisdiction=city)
    commit()
    run_queued(queued)
    untouched = "/states/wy/"
    for address in expected_pages(city):
        assert is_warm(address), address
    assert not is_warm(untouched)

    # The next change makes them cold, and its own task warm again; so does a bulk update made
    # outside any transaction of the caller's (its task carries the version it made).
    record.title = "Renamed"
    record.save()
    commit()
    run_queued(queued)
    assert is_warm(f"/states/al/{city.slug}/")
    Resolution.objects.filter(pk=record.pk).update(title="Renamed again")
    commit()
    run_queued(queued)
    assert is_warm(f"/states/al/{city.slug}/")


def test_the_immediate_backend_never_warms_inside_the_publishers_request(warming_on, settings):
    """Without a worker the pages would be made in the request that publishes, hundreds of them."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert not warming.enabled()
    ResolutionFactory()
    commit()
    assert not is_warm("/")


def test_a_task_for_an_older_version_warms_nothing(warming_on, queued):
    record = ResolutionFactory()
    commit()  # its own task is queued, not run
    assert warming.warm_pages.call("an-older-version", [record.jurisdiction_id]) == 0
    assert not is_warm("/")


def test_a_failure_while_warming_does_not_fail_the_publish(warming_on, monkeypatch, publisher_client):
    def broken(address):
        raise RuntimeError("the page failed")

    monkeypatch.setattr(warming, "request", broken)
    draft = ResolutionFactory(published=False)
    commit()
    response = publisher_client.post(
        reverse("admin:recognition_resolution_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    commit()  # the task runs at once, and fails
    assert Resolution.objects.get(pk=draft.pk).published


def test_a_queue_that_cannot_be_reached_does_not_fail_the_change(warming_on, queued, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("the task queue is down")

    monkeypatch.setattr(DummyBackend, "enqueue", unreachable)
    record = ResolutionFactory()
    commit()
    assert Resolution.objects.filter(pk=record.pk, published=True).exists()
    assert queued() == []


def test_redis_down_does_not_crash_the_task(warming_on, queued, settings):
    record = ResolutionFactory()
    commit()
    token = DataVersion.objects.get().token
    working = settings.CACHES
    settings.CACHES = {"default": redis_cache_settings("redis://127.0.0.1:9/0")}  # nothing listens there
    sharedcache.reset()
    try:
        assert warming.warm_pages.call(token, [record.jurisdiction_id]) == 0
    finally:
        settings.CACHES = working
        sharedcache.reset()
