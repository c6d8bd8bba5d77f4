"""The tallies PostgreSQL keeps (migration 0012) always equal what they summarise, counted here in plain Python
from the measures themselves, after every kind of write: one save, bulk writes, deletes, moves, rollbacks.
And the maps read from them show exactly what the same maps show counted from the measures."""

import dataclasses
import datetime
from collections import Counter

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition import progress, tallies
from recognition.models import (
    CountyGroup,
    CountyTally,
    FacetTally,
    Jurisdiction,
    JurisdictionTally,
    Level,
    Resolution,
    Status,
    YearTally,
)
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state

pytestmark = pytest.mark.postgres
LOCAL = {Level.COUNTY: "counties", Level.PLACE: "places", Level.DISTRICT: "districts"}


def expected():
    """(per jurisdiction, per year, per county) as the triggers should have left them, from the rows alone."""
    counted = [
        r
        for r in Resolution.objects.select_related("jurisdiction")
        if r.published and r.status == Status.ADOPTED
    ]
    by_jurisdiction = Counter(r.jurisdiction_id for r in counted)
    by_year = Counter(
        ("state" if r.jurisdiction.level == Level.STATE else "local", r.adopted_on.year)
        for r in counted
        if r.adopted_on is not None and r.jurisdiction.level != Level.NATION
    )
    by_county = {}
    for jurisdiction in Jurisdiction.objects.filter(pk__in=by_jurisdiction).select_related(
        "parent", "county"
    ):
        if jurisdiction.level not in LOCAL:
            continue
        if jurisdiction.level == Level.COUNTY:
            fips = jurisdiction.fips or ""
        else:
            fips = jurisdiction.county.fips if jurisdiction.county else ""
        row = by_county.setdefault((jurisdiction.parent.usps, fips), dict.fromkeys(LOCAL.values(), 0))
        row[LOCAL[jurisdiction.level]] += 1
    return dict(by_jurisdiction), dict(by_year), by_county


def kept():
    return (
        dict(JurisdictionTally.objects.values_list("jurisdiction_id", "adopted")),
        {(series, year): n for series, year, n in YearTally.objects.values_list("series", "year", "adopted")},
        {
            (row.usps, row.fips): {"counties": row.counties, "places": row.places, "districts": row.districts}
            for row in CountyTally.objects.all()
        },
    )


def expected_facets():
    """The facets' tally from the rows alone: published measures by what the list's filters test."""
    found = Counter()
    for r in Resolution.objects.select_related("jurisdiction__parent"):
        if not r.published:
            continue
        j = r.jurisdiction
        state = j.usps if j.level == Level.STATE else (j.parent.usps if j.parent else "")
        adopted_stage = r.stage == "adopted"
        found[
            (
                state,
                j.level,
                r.kind,
                r.status,
                r.stage,
                r.adopted_on.year if r.adopted_on else 0,
                r.effective_on if adopted_stage else None,
                r.effective_on_precision if adopted_stage else "",
            )
        ] += 1
    return dict(found)


def kept_facets():
    fields = ("state", "level", "kind", "status", "stage", "year", "effective_on", "effective_on_precision")
    return {tuple(row[:-1]): row[-1] for row in FacetTally.objects.values_list(*fields, "measures")}


def expected_groups(by_county):
    """The county groups (migration 0018) from the counties themselves and `by_county` (expected()'s): per
    state, the counties where the county acted, else a locality, else nothing."""
    acted = {}
    for (_usps, fips), row in by_county.items():
        county, localities = acted.get(fips, (0, 0))
        acted[fips] = (county + row["counties"], localities + row["places"] + row["districts"])
    groups = {}
    counties = Jurisdiction.objects.filter(level=Level.COUNTY, fips__isnull=False, parent__is_territory=False)
    for fips, usps, population, shape in counties.order_by("fips").values_list(
        "fips", "parent__usps", "population", "shape"
    ):
        county, localities = acted.get(fips, (0, 0))
        key = (usps, county > 0, county == 0 and localities > 0)
        group = groups.setdefault(
            key, {"counties": 0, "population": 0, "with": 0, "without": [], "drawn": []}
        )
        group["counties"] += 1
        if population is None:
            group["without"].append(fips)
        else:
            group["population"] += population
            group["with"] += 1
        if shape:
            group["drawn"].append((fips, shape))
    return {
        key: (
            g["counties"],
            g["population"],
            g["with"],
            " ".join(g["without"]),
            " ".join(fips for fips, _ in g["drawn"]),
            "".join(shape for _, shape in g["drawn"]),
        )
        for key, g in groups.items()
    }


def kept_groups():
    fields = ("counties", "population", "with_population", "without_population", "drawn", "outlines")
    return {
        tuple(row[:3]): tuple(row[3:])
        for row in CountyGroup.objects.values_list("usps", "county_acted", "locality_acted", *fields)
    }


def assert_tallies_hold():
    assert kept() == expected()
    assert kept_groups() == expected_groups(expected()[2])
    assert kept_facets() == expected_facets()
    # The reader gives the live query's rows (the rows SQLite and past dates use).
    assert sorted(tallies.local_acted(), key=repr) == sorted(progress.local_acted_rows(), key=repr)
    assert tallies.adoptions_by_year() == progress_counts_from_measures()


def progress_counts_from_measures():
    """The timeline's counts from the measures (what adoption_counts does without the tallies)."""
    original = tallies.kept
    tallies.kept = lambda: False
    try:
        return progress.adoption_counts()
    finally:
        tallies.kept = original


@pytest.fixture
def world(db):
    """Jurisdictions of every local level, one with no county, in two states."""
    mobile, baldwin = get_county("01097"), get_county("01003")
    return {
        "states": [get_state("AL"), get_state("TX")],
        "counties": [mobile, baldwin, get_county("48201")],
        "places": [
            PlaceFactory(county=mobile),
            PlaceFactory(county=baldwin),
            PlaceFactory(county=None),
            PlaceFactory(level=Level.DISTRICT, county=mobile),
        ],
        "nation": Jurisdiction.objects.get(level=Level.NATION),
    }


def jurisdictions(world):
    return [*world["states"], *world["counties"], *world["places"], world["nation"]]


statuses = st.sampled_from([Status.ADOPTED, Status.ADOPTED, Status.INTRODUCED, Status.FAILED])
days = st.one_of(st.none(), st.dates(datetime.date(2015, 1, 1), datetime.date(2026, 6, 30)))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 10), statuses, st.booleans(), days),
        st.tuples(st.just("bulk_create"), st.integers(0, 10), st.integers(1, 4), st.booleans(), days),
        st.tuples(st.just("publish_all"), st.booleans()),
        st.tuples(st.just("status"), st.integers(0, 30), statuses, days),
        st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 10)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("delete_state"), st.sampled_from(["AL", "TX"])),
        st.tuples(st.just("rollback"), st.integers(0, 10)),
        st.tuples(st.just("move_place"), st.integers(0, 3), st.integers(0, 2)),
        st.tuples(st.just("population"), st.integers(0, 2), st.one_of(st.none(), st.integers(0, 10**7))),
    ),
    min_size=1,
    max_size=8,
)


def dated(status, day):
    """Fields that satisfy the model's rules for `status` and an adoption `day`."""
    if status == Status.INTRODUCED or day is None:
        return {"status": status, "adopted_on": None, "adopted_on_precision": "", "stage": _stage(status)}
    fields = {"status": status, "adopted_on": day, "adopted_on_precision": "day", "stage": _stage(status)}
    if status == Status.ADOPTED and day.day % 2:  # some take effect on a date (the stage facet reads it)
        fields.update(effective_on=day, effective_on_precision="month" if day.day % 3 else "day")
    return fields


def _stage(status):
    return {Status.ADOPTED: "adopted", Status.INTRODUCED: "introduced", Status.FAILED: "failed"}[status]


def apply(operation, world):
    places = jurisdictions(world)
    measures = list(Resolution.objects.order_by("pk"))
    kind, *args = operation
    if kind == "create":
        where, status, published, day = args
        ResolutionFactory(
            jurisdiction=places[where % len(places)],
            published=published,
            introduced_on=None,
            **dated(status, day),
        )
    elif kind == "bulk_create":
        where, count, published, day = args
        Resolution.objects.bulk_create(
            Resolution(
                jurisdiction=places[where % len(places)],
                kind="resolution",
                body="Council",
                title=f"Bulk {n}",
                summary="",
                published=published,
                confidence="high",
                **dated(Status.ADOPTED, day),
            )
            for n in range(count)
        )
    elif kind == "publish_all":
        Resolution.objects.update(published=args[0])
    elif kind == "status" and measures:
        which, status, day = args
        measure = measures[which % len(measures)]
        for name, value in dated(status, day).items():
            setattr(measure, name, value)
        measure.introduced_on = None
        measure.save()
    elif kind == "move" and measures:
        which, where = args
        Resolution.objects.filter(pk=measures[which % len(measures)].pk).update(
            jurisdiction=places[where % len(places)]
        )
    elif kind == "delete" and measures:
        measures[args[0] % len(measures)].delete()
    elif kind == "delete_state":
        Resolution.objects.filter(jurisdiction__parent__usps=args[0]).delete()
    elif kind == "rollback":
        with pytest.raises(RuntimeError), transaction.atomic():
            ResolutionFactory(jurisdiction=places[args[0] % len(places)], **dated(Status.ADOPTED, None))
            raise RuntimeError("undone")
    elif kind == "move_place":
        place, county = world["places"][args[0]], world["counties"][args[1]]
        place.county = county
        place.save()
    elif kind == "population":
        county, people = world["counties"][args[0]], args[1]
        Jurisdiction.objects.filter(pk=county.pk).update(population=people)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_the_tallies_equal_the_measures_after_any_writes(world, operations):
    with transaction.atomic():
        for operation in operations:
            apply(operation, world)
            assert_tallies_hold()
        transaction.set_rollback(True)


def layer(national):
    """The national county layer as drawn: each state's counties, their outlines and colours."""
    return [
        (group.region.fips, [(c.status, c.fips, c.outline) for c in group.colours])
        for group in national.county_regions
    ]


def test_the_maps_read_from_the_tallies_show_what_the_measures_say(world, django_assert_max_num_queries):
    """The national map (its counties grouped by what acted there), its county layer and a state's map,
    from the tallies and counted from the measures."""
    for where in jurisdictions(world):
        ResolutionFactory(jurisdiction=where)
    ResolutionFactory(jurisdiction=world["places"][0], published=False)
    ResolutionFactory(jurisdiction=world["counties"][2], **dated(Status.INTRODUCED, None))
    # A county where only a city acted, and counties without a population figure
    ResolutionFactory(jurisdiction=PlaceFactory(county=get_county("48113")), **dated(Status.ADOPTED, None))
    Jurisdiction.objects.filter(fips__in=["01003", "01001"]).update(population=None)
    from_tallies = progress.national_progress(with_county_layer=True)
    grouped = progress.national_progress()
    alabama = progress.state_progress(get_state("AL"))
    original = tallies.kept
    tallies.kept = lambda: False
    try:
        from_measures = progress.national_progress(with_county_layer=True)
        alabama_from_measures = progress.state_progress(get_state("AL"))
    finally:
        tallies.kept = original
    assert from_tallies.county_counts == from_measures.county_counts
    assert layer(from_tallies) == layer(from_measures)
    assert [(row.state.usps, row.counts) for row in from_tallies.county_table] == [
        (row.state.usps, row.counts) for row in from_measures.county_table
    ]
    assert from_tallies.state_counts == from_measures.state_counts
    assert from_tallies.local_acted == from_measures.local_acted
    assert from_tallies.coverage == from_measures.coverage
    assert grouped.county_counts == from_measures.county_counts
    assert grouped.state_counts == from_measures.state_counts
    assert grouped.local_acted == from_measures.local_acted
    assert grouped.coverage == from_measures.coverage
    # Equal is not enough: a Decimal equals its int, yet rounds differently on the page.
    people = [grouped.coverage.people, *(state.people for state in grouped.coverage.states.values())]
    assert {type(value) for figures in people if figures for value in dataclasses.astuple(figures)} == {int}
    assert {type(state.counties_population) for state in grouped.coverage.states.values()} == {int}
    assert grouped.coverage.states["AL"].counties_without_figure == ("01001", "01003")
    assert [(c.year, c.values) for c in from_tallies.timeline.columns] == [
        (c.year, c.values) for c in from_measures.timeline.columns
    ]
    assert [(r.fips, r.status) for r in alabama.counties] == [
        (r.fips, r.status) for r in alabama_from_measures.counties
    ]
    assert alabama.coverage == alabama_from_measures.coverage


def test_a_restored_or_migrated_database_is_counted_from_scratch(world):
    """The migration counts what is already there; rebuilding gives what the triggers kept."""
    for where in jurisdictions(world):
        ResolutionFactory(jurisdiction=where)
    before = kept()
    with connection.cursor() as cursor:
        cursor.execute("SELECT recognition_tally_rebuild()")
    assert kept() == before == expected()
    facets = kept_facets()
    with connection.cursor() as cursor:
        cursor.execute("SELECT recognition_facets_rebuild()")
    assert kept_facets() == facets == expected_facets()


TALLY_TABLES = (
    "recognition_facettally",
    "recognition_jurisdictiontally",
    "recognition_yeartally",
    "recognition_countytally",
)


def row_versions():
    """Every tally row's physical version: a row written (or locked) since has another ctid, xmin or xmax."""
    with connection.cursor() as cursor:
        found = {}
        for table in TALLY_TABLES:
            cursor.execute(f"SELECT ctid::text, xmin::text, xmax::text FROM {table}")  # noqa: S608
            found[table] = sorted(cursor.fetchall())
        return found


def test_an_edit_of_anything_the_tallies_do_not_count_leaves_their_rows_alone(world):
    """A title edit took every tally row it passed through away and back (-1, +1): a write and a row lock,
    which two such edits at once could wait on each other for. Now nothing that nets to zero is written."""
    for where in jurisdictions(world):
        ResolutionFactory(jurisdiction=where)
    before = row_versions()
    assert all(before.values())
    with transaction.atomic():  # a subtransaction: any row it wrote would carry its own xmin
        measure = Resolution.objects.order_by("pk").first()
        measure.title = "Another title"
        measure.save()
        Resolution.objects.update(summary="Edited in bulk")
        assert row_versions() == before
    assert kept() == expected()
    assert kept_facets() == expected_facets()


def other_connection():
    """A connection of its own to the test database (its locks are another transaction's)."""
    import psycopg2

    settings_dict = connection.settings_dict
    return psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
    )


def in_thread(work):
    """(a thread that runs `work` on a database connection of its own, closed after; the list its exception
    goes to). Not started."""
    import threading

    failure = []

    def run():
        try:
            work()
        except Exception as error:  # noqa: BLE001 - reported by the test's thread
            failure.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run), failure


def blocked_by(observer, pid, thread):
    """Whether a backend comes to wait for a lock `pid` holds while `thread` runs (polled: the waiter gives
    no other sign)."""
    import time

    deadline = time.monotonic() + 20
    with observer.cursor() as cursor:
        while time.monotonic() < deadline and thread.is_alive():
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid]
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("table", "key"),
    [("recognition_facettally", "state"), ("recognition_jurisdictiontally", "jurisdiction_id")],
)
def test_a_move_takes_its_tally_row_locks_in_key_order(
    reload_reference_data_afterwards, transactional_db, table, key
):
    """Two moves in opposite directions deadlocked when each locked the row it left before the row it
    reached. With every row taken in key order, a move from the higher key to the lower one waits for
    the lower row (held here) before it touches the higher one."""

    # The facets' key begins with the state (Alabama's rows before Texas's); the other's is the id.
    low, high = get_county("01097"), get_county("48201")
    if key == "jurisdiction_id":
        low, high = sorted([low, high], key=lambda j: j.pk)
    day = datetime.date(2020, 5, 4)  # the same facets but for the state
    ResolutionFactory(jurisdiction=low, adopted_on=day)
    moving = ResolutionFactory(jurisdiction=high, adopted_on=day)
    low_key = low.parent.usps if key == "state" else low.pk
    high_key = high.parent.usps if key == "state" else high.pk

    holder, observer = other_connection(), other_connection()
    observer.autocommit = True  # pg_stat_activity is read once per transaction
    mover, failure = in_thread(lambda: Resolution.objects.filter(pk=moving.pk).update(jurisdiction=low))
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE {key} = %s FOR UPDATE", [low_key])  # noqa: S608
            assert cursor.rowcount >= 1
        mover.start()
        assert blocked_by(observer, holder.get_backend_pid(), mover), failure or "the move never waited"
        with observer.cursor() as cursor:
            # Fails at once (LockNotAvailable) if the move already holds the row it leaves.
            cursor.execute(f"SELECT 1 FROM {table} WHERE {key} = %s FOR UPDATE NOWAIT", [high_key])  # noqa: S608
            assert cursor.rowcount >= 1
    finally:
        holder.rollback()
        mover.join(timeout=30)
        holder.close()
        observer.close()
    assert not mover.is_alive()
    assert not failure
    assert kept() == expected()
    assert kept_facets() == expected_facets()


def test_two_publishes_in_one_state_at_once_are_both_counted(
    reload_reference_data_afterwards, transactional_db
):
    """Each transaction counts its states' county groups again at commit, from what is committed then.
    Two at once in one state each counted without the other's change, and the later count dropped the
    earlier one's county (or collided with its rows). Now the second waits for the first to commit, then
    counts both."""

    first, second = get_county("48201"), get_county("48113")  # Harris and Dallas: Texas, both
    drafts = [ResolutionFactory(jurisdiction=county, published=False) for county in (first, second)]
    holder, observer = other_connection(), other_connection()
    observer.autocommit = True
    publisher, failure = in_thread(lambda: Resolution.objects.filter(pk=drafts[1].pk).update(published=True))
    try:
        with holder.cursor() as cursor:
            cursor.execute("UPDATE recognition_resolution SET published = true WHERE id = %s", [drafts[0].pk])
            # Texas counted now, as at commit: the lock is taken and held until this transaction ends.
            cursor.execute("SET CONSTRAINTS recognition_county_groups_at_commit IMMEDIATE")
        publisher.start()
        assert blocked_by(observer, holder.get_backend_pid(), publisher), failure or "the second never waited"
        holder.commit()
    finally:
        holder.rollback()
        publisher.join(timeout=30)
        holder.close()
        observer.close()
    assert not publisher.is_alive()
    assert not failure
    assert kept_groups() == expected_groups(expected()[2])
    texas = CountyGroup.objects.get(usps="TX", county_acted=True)
    assert {"48201", "48113"} <= set(texas.drawn.split())


def test_a_transaction_notes_each_county_once_and_counts_its_states_at_commit(world):
    """Each statement that changes a county's tallies notes the county; noted once per transaction, however
    many statements touch it (a row per statement made the commit's work grow with their square), and the
    states are counted when the deferred trigger runs, from the counties' states then."""
    mobile = world["counties"][0]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS recognition_county_groups_at_commit DEFERRED")  # as in production
        for _ in range(3):
            ResolutionFactory(jurisdiction=PlaceFactory(county=mobile))  # a place in Mobile County acts
            ResolutionFactory(jurisdiction=mobile)
        cursor.execute("SELECT code FROM recognition_countygroup_pending ORDER BY code")
        assert [code for (code,) in cursor.fetchall()] == ["01097"]
        assert kept_groups() != expected_groups(expected()[2])  # not yet counted
        cursor.execute("SET CONSTRAINTS recognition_county_groups_at_commit IMMEDIATE")  # as at commit
        cursor.execute("SELECT count(*) FROM recognition_countygroup_pending")
        assert cursor.fetchone() == (0,)
    assert kept_groups() == expected_groups(expected()[2])
