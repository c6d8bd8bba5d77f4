"""recognition/progress.py: the reduced inputs behind the national map give the same answers as every resolution.

The home page never reads every resolution: `status_inputs` asks for the distinct
combinations that decide a status, and `adoption_counts` for counts by year. These
tests compare both with the plain, per-resolution way of computing the same thing,
on the cited starter dataset and on synthetic demo data (drafts, failures, pending
bills, places and districts in many counties).
"""

from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recognition import progress
from recognition import status as rules
from recognition.models import Jurisdiction, Level, Resolution, Status
from tests.conftest import ResolutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data():
    call_command("seed_demo", resolutions=1500, places=150, seed=11, verbosity=0)


@pytest.fixture(params=["starter_dataset", "demo_data"])
def dataset(request):
    request.getfixturevalue(request.param)
    return request.param


def statuses_from(measures):
    """State and county statuses as the national map computes them, from any list of measures."""
    codes = list(Jurisdiction.objects.states().values_list("usps", flat=True))
    state_status = rules.state_statuses(measures, codes)
    fips_by_state, _, _ = progress.county_index()
    return state_status, rules.county_statuses(measures, fips_by_state, state_status)


def all_inputs():
    """The state measures and one stand-in per county and way it acted: every input as a measure."""
    inputs = progress.status_inputs()
    return inputs.state_measures + progress.local_stand_ins(inputs.local_rows)


def test_status_inputs_decide_every_state_and_county_as_every_resolution_would(dataset):
    states, counties = statuses_from(all_inputs())
    every_resolution = progress.counted_measures()  # one measure per published, unfailed resolution

    assert (states, counties) == statuses_from(every_resolution)
    # Not vacuous: the data gives the rules something to decide.
    assert len(set(states.values())) >= 3
    assert {rules.CountyStatus.COUNTY, rules.CountyStatus.PLACE} <= set(counties.values())
    assert len(all_inputs()) < len(every_resolution)


def test_the_national_maps_reduced_inputs_decide_as_every_resolution_would(dataset):
    # What the home page reads: the states from the state measures and one local stand-in per state, the
    # counties from which ones acted (themselves, or through a city or district).
    inputs = progress.status_inputs()
    codes = list(Jurisdiction.objects.states().values_list("usps", flat=True))
    fips_by_state, _, _ = progress.county_index()
    states = rules.state_statuses(inputs.for_states, codes)
    standings = rules.county_standings(fips_by_state, states, *inputs.acted_counties())
    every_resolution = progress.counted_measures()
    expected_counties = rules.county_results(every_resolution, fips_by_state, states)

    assert states == statuses_from(every_resolution)[0]
    assert standings == {fips: (r.status, r.coverage) for fips, r in expected_counties.items()}
    assert len(inputs.for_states) < len(all_inputs())


def test_local_jurisdictions_that_acted_are_counted_once_each(dataset):
    def acted():
        return set(
            Jurisdiction.objects.filter(
                level__in=rules.LOCAL_LEVELS, resolutions__published=True, resolutions__status=Status.ADOPTED
            ).values_list("pk", "parent__usps", "level")
        )

    # A second adopted measure by a place that already acted must not count it twice.
    place_pk = next(pk for pk, _usps, level in sorted(acted()) if level == Level.PLACE)
    ResolutionFactory(jurisdiction=Jurisdiction.objects.get(pk=place_pk))
    jurisdictions = acted()
    inputs = progress.status_inputs()

    assert inputs.local_acted == Counter((usps, level) for _pk, usps, level in jurisdictions)
    assert inputs.local_acted_by_level() == {
        level: sum(1 for *_, of_level in jurisdictions if of_level == level) for level in rules.LOCAL_LEVELS
    }
    assert sum(inputs.local_acted_by_state().values()) == len(jurisdictions)


def test_adoption_counts_match_a_count_by_level_and_year(dataset):
    adopted = Resolution.objects.published().adopted().exclude(adopted_on=None)
    expected = Counter()
    for level, adopted_on in adopted.values_list("jurisdiction__level", "adopted_on"):
        if level != Level.NATION:
            expected["state" if level == Level.STATE else "local", adopted_on.year] += 1

    assert progress.adoption_counts() == dict(expected)


def test_a_year_with_only_federal_adoptions_is_not_on_the_timeline(starter_dataset):
    nation = Jurisdiction.objects.nation()
    ResolutionFactory(jurisdiction=nation, kind="bill", adopted_on=date(1990, 5, 1))
    assert Resolution.objects.published().adopted().filter(adopted_on__year=1990).exists()

    assert 1990 not in {year for _series, year in progress.adoption_counts()}


@pytest.mark.postgres  # EXPLAIN plans are PostgreSQL's
def test_home_page_counts_can_be_read_from_the_partial_index(starter_dataset):
    """Today's local figures and timeline come from the tallies PostgreSQL keeps, never from the measures;
    the state measures' query matches an index. (A past date counts the measures: tests/test_as_of.py.)

    A test table is too small for the planner to prefer an index by itself, so sequential scans are
    priced out for this check only: a query the index cannot serve would still show a sequential scan.
    """
    with CaptureQueriesContext(connection) as queries:
        progress.status_inputs()
        progress.adoption_counts()
    assert len(queries) == 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for query in queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    for plan in plans:
        assert "Seq Scan on recognition_resolution" not in plan, plan
    tallied = [plan for plan in plans if "recognition_resolution" not in plan]
    assert len(tallied) == 2, plans
    assert any("recognition_countytally" in plan for plan in tallied), tallied
    assert any("recognition_yeartally" in plan for plan in tallied), tallied
