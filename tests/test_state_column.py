"""Each measure's stored state (`state_usps`, kept by PostgreSQL's triggers) is always the state its
jurisdiction is or lies in, worked out here in plain Python from the jurisdictions, after any writes:
a measure created, bulk-created or moved (by save or by update), a place moved to another state, a
state's code changed, a jurisdiction written after its measures. The `?state=` filter, which reads the
column on PostgreSQL and the jurisdictions on SQLite, finds the same measures on both."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition.models import Jurisdiction, Level, Resolution
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state


def state_of(jurisdiction):
    """The oracle: a state's own code, else its parent's ('' for the nation)."""
    if jurisdiction.level == Level.STATE:
        return jurisdiction.usps
    return jurisdiction.parent.usps if jurisdiction.parent else ""


def assert_every_measure_knows_its_state():
    jurisdictions = {j.pk: j for j in Jurisdiction.objects.select_related("parent")}
    for pk, jurisdiction_id, code in Resolution.objects.values_list("pk", "jurisdiction_id", "state_usps"):
        expected = state_of(jurisdictions[jurisdiction_id])
        assert code == expected, f"measure {pk} is stored in {code!r}, lies in {expected!r}"


@pytest.fixture
def world(db):
    mobile, harris = get_county("01097"), get_county("48201")
    return {
        "states": [get_state("AL"), get_state("TX")],
        "places": [mobile, harris, PlaceFactory(county=mobile), PlaceFactory(county=None)],
        "nation": Jurisdiction.objects.get(level=Level.NATION),
    }


def everywhere(world):
    return [*world["states"], *world["places"], world["nation"]]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 10)),
        st.tuples(st.just("bulk_create"), st.integers(0, 10), st.integers(1, 3)),
        st.tuples(st.just("move_by_save"), st.integers(0, 20), st.integers(0, 10)),
        st.tuples(st.just("move_by_update"), st.integers(0, 20), st.integers(0, 10)),
        st.tuples(st.just("place_to_state"), st.integers(0, 3), st.integers(0, 1)),
        st.tuples(st.just("places_by_update"), st.integers(0, 1)),
        st.tuples(st.just("recode_state"), st.integers(0, 1), st.sampled_from(["ZZ", "QQ"])),
        st.tuples(st.just("set_the_column"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=8,
)


def apply(operation, world):
    places = everywhere(world)
    measures = list(Resolution.objects.order_by("pk"))
    kind, *args = operation
    if kind == "create":
        ResolutionFactory(jurisdiction=places[args[0] % len(places)])
    elif kind == "bulk_create":
        where, count = args
        Resolution.objects.bulk_create(
            ResolutionFactory.build(jurisdiction=places[where % len(places)]) for _ in range(count)
        )
    elif kind == "move_by_save" and measures:
        measure = measures[args[0] % len(measures)]
        measure.jurisdiction = places[args[1] % len(places)]
        measure.save()
    elif kind == "move_by_update" and measures:
        Resolution.objects.filter(pk=measures[args[0] % len(measures)].pk).update(
            jurisdiction=places[args[1] % len(places)]
        )
    elif kind == "place_to_state":
        place = world["places"][args[0]]
        place.refresh_from_db()
        place.parent = world["states"][args[1]]
        place.save()
    elif kind == "places_by_update":
        Jurisdiction.objects.filter(pk__in=[p.pk for p in world["places"]]).update(
            parent=world["states"][args[0]]
        )
    elif kind == "recode_state":
        state = world["states"][args[0]]
        if not Jurisdiction.objects.filter(usps=args[1]).exists():
            Jurisdiction.objects.filter(pk=state.pk).update(usps=args[1])
    elif kind == "set_the_column" and measures:
        # Only the triggers write it: a value written by hand is replaced at once.
        Resolution.objects.filter(pk=measures[args[0] % len(measures)].pk).update(state_usps="XX")


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_the_stored_state_is_always_the_jurisdictions(world, operations):
    with transaction.atomic():
        for operation in operations:
            apply(operation, world)
            assert_every_measure_knows_its_state()
        transaction.set_rollback(True)


def test_the_state_filter_finds_what_lies_in_the_state(world, client):
    """`?state=AL` lists the state's own measures and its places', not a neighbour's or the nation's."""
    inside = [ResolutionFactory(jurisdiction=where) for where in (world["states"][0], *world["places"][::2])]
    outside = [ResolutionFactory(jurisdiction=where) for where in (world["states"][1], world["nation"])]
    response = client.get("/api/resolutions/?state=AL")
    found = {row["id"] for row in response.json()["results"]}
    assert found == {r.pk for r in inside}
    assert not {r.pk for r in outside} & found


def test_in_states_is_what_lies_in_those_states_and_nothing_for_no_state(world):
    # The oracle: each measure's state read from its jurisdiction in Python.
    measures = [ResolutionFactory(jurisdiction=where) for where in everywhere(world)]
    for codes in (["AL"], ["tx"], ["AL", "TX"], [], [""], ["", "AL"], ["ZZ"]):
        wanted = {code.upper() for code in codes if code}
        expected = {r.pk for r in measures if state_of(r.jurisdiction) in wanted}
        assert set(Resolution.objects.in_states(codes).values_list("pk", flat=True)) == expected, codes


@pytest.mark.postgres
def test_a_place_moved_to_another_state_takes_its_measures_along(world):
    place = world["places"][2]
    measure = ResolutionFactory(jurisdiction=place)
    place.parent = world["states"][1]
    place.save()
    assert Resolution.objects.get(pk=measure.pk).state_usps == world["states"][1].usps
    Jurisdiction.objects.filter(pk=world["states"][1].pk).update(usps="ZZ")
    assert Resolution.objects.get(pk=measure.pk).state_usps == "ZZ"


@pytest.mark.postgres
def test_a_state_written_after_its_measures_gives_them_its_code(world):
    """Foreign keys are checked at commit: a load may write the measures before their jurisdiction."""
    from django.db import connection

    nation = world["nation"]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        measure = ResolutionFactory(jurisdiction=nation)
        new_id = Jurisdiction.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
        Resolution.objects.filter(pk=measure.pk).update(jurisdiction_id=new_id)
        assert Resolution.objects.get(pk=measure.pk).state_usps == ""
        Jurisdiction.objects.create(
            pk=new_id, level=Level.STATE, name="Testland", slug="testland", usps="QX", parent=nation
        )
        assert Resolution.objects.get(pk=measure.pk).state_usps == "QX"
        transaction.set_rollback(True)
