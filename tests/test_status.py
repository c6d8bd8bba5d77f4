"""The map status rules (recognition/status.py): plain data in, statuses out; no database."""

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recognition import models
from recognition import status as rules
from recognition.status import (
    DISPLAY_FIELDS,
    MEASURE_FIELDS,
    CountyStatus,
    Measure,
    StateStatus,
    county_results,
    county_statuses,
    measures_from_rows,
    state_deciding_measures,
    state_results,
    state_statuses,
    status_counts,
)

_ids = itertools.count(1)


def measure(
    level="state", state="AL", county_fips=None, kind="statute", status="adopted", published=True, **kw
):
    """A published, adopted Alabama state statute unless told otherwise."""
    if level == "nation":
        state = None
    return Measure(next(_ids), level, state, county_fips, kind, status, published, **kw)


def county_measure(fips="01097", **kw):
    return measure(level="county", county_fips=fips, kind="resolution", **kw)


def place_measure(fips="01097", **kw):
    return measure(level="place", county_fips=fips, kind="resolution", **kw)


def state_of(*measures, code="AL"):
    return state_statuses(measures, [code])[code]


# Alabama with two counties, Alaska with one, and DC with none on the map.
COUNTIES = {"AL": ["01097", "01003"], "AK": ["02020"], "DC": []}


def county_of(*measures, fips="01097", state_status=None):
    """County status, with the state's status computed from the same measures unless given."""
    if state_status is None:
        state_status = state_statuses(measures, COUNTIES)
    return county_statuses(measures, COUNTIES, state_status)[fips]


# --- The values here are the models' values --------------------------------------


def test_plain_string_values_match_the_models():
    # status.py spells the choice values out so it imports without Django; keep them in step.
    assert {rules.NATION, rules.STATE, rules.COUNTY, rules.PLACE, rules.DISTRICT} == set(models.Level.values)
    kinds = rules.LAW_KINDS | rules.RESOLUTION_KINDS
    assert kinds == set(models.Kind.values)
    assert {rules.INTRODUCED, rules.ADOPTED, rules.FAILED} == set(models.Status.values)


# --- State status: law > resolution > pending > local > none ------------------------


@pytest.mark.parametrize("kind", ["statute", "executive_order", "bill"])
def test_adopted_state_statute_executive_order_or_enacted_bill_is_law(kind):
    assert state_of(measure(kind=kind)) is StateStatus.LAW


@pytest.mark.parametrize("kind", ["resolution", "proclamation", "ordinance"])
def test_adopted_state_resolution_proclamation_or_ordinance_is_resolution(kind):
    assert state_of(measure(kind=kind)) is StateStatus.RESOLUTION


@pytest.mark.parametrize("kind", models.Kind.values)
def test_introduced_state_measure_of_any_kind_is_pending(kind):
    assert state_of(measure(kind=kind, status="introduced")) is StateStatus.PENDING


@pytest.mark.parametrize("level", ["county", "place", "district"])
def test_adopted_local_measure_is_local(level):
    assert state_of(measure(level=level, kind="resolution")) is StateStatus.LOCAL


def test_introduced_local_measure_is_nothing():
    # Only adoption counts locally; "pending" is about the state legislature.
    assert state_of(county_measure(status="introduced")) is StateStatus.NONE


def test_law_beats_resolution_beats_pending_beats_local():
    law = measure(kind="statute")
    resolution = measure(kind="resolution")
    pending = measure(kind="bill", status="introduced")
    local = county_measure()
    assert state_of(local, pending, resolution, law) is StateStatus.LAW
    assert state_of(local, pending, resolution) is StateStatus.RESOLUTION
    assert state_of(local, pending) is StateStatus.PENDING
    assert state_of(local) is StateStatus.LOCAL
    assert state_of() is StateStatus.NONE


def test_pending_state_bill_outranks_many_local_actions():
    locals_ = [county_measure(), place_measure(), measure(level="district", kind="ordinance")]
    assert state_of(*locals_, measure(kind="bill", status="introduced")) is StateStatus.PENDING


@pytest.mark.parametrize("change", [{"status": "failed"}, {"published": False}])
def test_failed_and_unpublished_measures_never_count(change):
    ms = [
        measure(**change),
        measure(kind="resolution", **change),
        county_measure(**change),
        place_measure(**change),
    ]
    for m in ms:
        assert state_of(m) is StateStatus.NONE
        assert county_of(m) is CountyStatus.NONE


def test_a_draft_pending_bill_is_not_pending():
    assert state_of(measure(kind="bill", status="introduced", published=False)) is StateStatus.NONE


def test_federal_measures_do_not_colour_states():
    assert state_of(measure(level="nation", kind="statute")) is StateStatus.NONE


def test_every_state_code_gets_an_entry_and_others_are_ignored():
    statuses = state_statuses([measure(state="TX")], ["AL", "AK", "WY"])
    assert statuses == dict.fromkeys(["AL", "AK", "WY"], StateStatus.NONE)


def test_deciding_measures_are_the_ones_of_the_winning_rank():
    act = measure(kind="statute", identifier="Act 2022-387", effective="2022-10-01")
    order = measure(kind="executive_order", identifier="EO 12")
    resolution = measure(kind="resolution")
    deciding = state_deciding_measures([resolution, act, county_measure(), order], ["AL", "AK"])
    assert deciding == {"AL": (act, order), "AK": ()}
    # What the state page says: "Covered by Act 2022-387".
    assert deciding["AL"][0].name == "Act 2022-387"
    result = state_results([resolution], ["AL"])["AL"]
    assert (result.status, result.deciding) == (StateStatus.RESOLUTION, (resolution,))


# --- County colour: county > place > state law > state resolution > none --------------


def test_county_beats_place_beats_state_law_beats_state_resolution_beats_none():
    law, resolution = measure(kind="statute"), measure(kind="resolution")
    county, place = county_measure(), place_measure()
    assert county_of(law, place, county) is CountyStatus.COUNTY
    assert county_of(law, place) is CountyStatus.PLACE
    assert county_of(resolution, place) is CountyStatus.PLACE
    assert county_of(law, resolution) is CountyStatus.STATE
    assert county_of(resolution) is CountyStatus.RESOLUTION
    assert county_of() is CountyStatus.NONE


# The one coverage rule, every combination of its facts, written out by hand from the words:
# (county acted, a city or district acted, state status) -> (map colour, coverage).
STANDINGS = {
    (True, True, "law"): ("county", "covered"),
    (True, False, "law"): ("county", "covered"),
    (False, True, "law"): ("place", "covered"),
    (False, False, "law"): ("state", "covered"),
    (True, True, "resolution"): ("county", "covered"),
    (True, False, "resolution"): ("county", "covered"),
    (False, True, "resolution"): ("place", "partly"),
    (False, False, "resolution"): ("resolution", "resolution"),
    (True, True, "pending"): ("county", "covered"),
    (True, False, "pending"): ("county", "covered"),
    (False, True, "pending"): ("place", "partly"),
    (False, False, "pending"): ("none", "none"),
    (True, True, "local"): ("county", "covered"),
    (True, False, "local"): ("county", "covered"),
    (False, True, "local"): ("place", "partly"),
    (False, False, "local"): ("none", "none"),
    (True, True, "none"): ("county", "covered"),
    (True, False, "none"): ("county", "covered"),
    (False, True, "none"): ("place", "partly"),
    (False, False, "none"): ("none", "none"),
}


def test_the_table_covers_every_combination():
    assert set(STANDINGS) == {(c, p, s) for c in (True, False) for p in (True, False) for s in StateStatus}


@pytest.mark.parametrize(("facts", "expected"), STANDINGS.items(), ids=str)
def test_county_standing(facts, expected):
    county_acted, locality_acted, state_status = facts
    assert (
        rules.county_standing(
            county_acted=county_acted, locality_acted=locality_acted, state_status=state_status
        )
        == expected
    )


def test_a_city_in_a_law_state_is_coloured_for_the_city_and_covered():
    result = county_results([measure(kind="statute"), place_measure()], COUNTIES, {"AL": "law"})["01097"]
    assert (result.status, result.coverage) == (CountyStatus.PLACE, rules.Coverage.COVERED)


def test_district_counts_as_place():
    assert county_of(measure(level="district", county_fips="01097", kind="ordinance")) is CountyStatus.PLACE


def test_place_with_no_county_contributes_nothing_to_any_county():
    statuses = county_statuses([place_measure(fips=None)], COUNTIES, {"AL": StateStatus.LOCAL})
    assert set(statuses.values()) == {CountyStatus.NONE}


def test_a_measure_colours_only_its_own_county():
    statuses = county_statuses([county_measure("01097")], COUNTIES, {})
    assert statuses == {"01097": CountyStatus.COUNTY, "01003": CountyStatus.NONE, "02020": CountyStatus.NONE}


@pytest.mark.parametrize("state_status", [StateStatus.PENDING, StateStatus.LOCAL, StateStatus.NONE])
def test_a_pending_bill_or_local_action_elsewhere_colours_no_county(state_status):
    assert county_of(state_status={"AL": state_status}) is CountyStatus.NONE


def test_a_state_resolution_colours_counties_but_covers_none():
    resolution = measure(kind="resolution", identifier="HR 885")
    result = county_results([resolution], COUNTIES, {"AL": "resolution"})["01003"]
    assert (result.status, result.coverage, result.deciding) == (
        CountyStatus.RESOLUTION,
        rules.Coverage.RESOLUTION,
        (resolution,),
    )


def test_state_coverage_comes_from_the_given_state_status_and_names_the_law():
    law = measure(kind="statute", identifier="Act 2022-387")
    results = county_results([law], COUNTIES, {"AL": "law", "AK": StateStatus.NONE})
    assert results["01003"].status is CountyStatus.STATE
    assert results["01003"].deciding == (law,)
    assert results["02020"].status is CountyStatus.NONE


def test_every_county_gets_an_entry():
    assert set(county_statuses([], COUNTIES, {})) == {"01097", "01003", "02020"}


# --- Legends ------------------------------------------------------------------------


def test_counts_include_zeros_in_priority_order():
    counts = status_counts({"AL": StateStatus.LAW, "AK": "law", "WY": StateStatus.NONE}, StateStatus)
    assert list(counts.items()) == [
        (StateStatus.LAW, 2),
        (StateStatus.RESOLUTION, 0),
        (StateStatus.PENDING, 0),
        (StateStatus.LOCAL, 0),
        (StateStatus.NONE, 1),
    ]
    assert status_counts([], CountyStatus) == dict.fromkeys(CountyStatus, 0)


def test_labels():
    assert [s.label for s in StateStatus] == [
        "State law",
        "State resolution",
        "Pending state bill",
        "Local action only",
        "No recognition yet",
    ]
    assert [s.label for s in CountyStatus] == [
        "County acted",
        "City or district acted",
        "Covered by state law",
        "State resolution only",
        "No recognition yet",
    ]
    assert StateStatus.LAW == "law" and StateStatus("pending") is StateStatus.PENDING
    assert all(s.rule for s in [*StateStatus, *CountyStatus, *rules.Coverage])


# --- From values_list rows ------------------------------------------------------------


def test_measures_from_rows_picks_state_and_county_by_level():
    rows = [
        (1, "state", "AL", "", "01", None, "statute", "adopted", True),
        (2, "county", "", "AL", "01097", None, "resolution", "adopted", True),
        (3, "place", "", "AL", None, "01097", "resolution", "adopted", False),
        (4, "district", "", "AL", None, None, "ordinance", "failed", True),
        (5, "nation", "", None, None, None, "bill", "introduced", True),
    ]
    got = [(m.id, m.level, m.state, m.county_fips, m.published) for m in measures_from_rows(rows)]
    assert got == [
        (1, "state", "AL", None, True),
        (2, "county", "AL", "01097", True),
        (3, "place", "AL", "01097", False),
        (4, "district", "AL", None, True),
        (5, "nation", None, None, True),
    ]


def test_measures_from_rows_with_display_fields():
    assert len(MEASURE_FIELDS) == 9 and len(DISPLAY_FIELDS) == 4
    core = (1, "state", "AL", "", "01", None, "statute", "adopted", True)
    day = datetime.date(2022, 10, 1)
    [year, month, full, none] = measures_from_rows(
        [
            (*core, "Act 2022-387", "Telecommunicators act", day, "year"),
            (*core, "", "Telecommunicators act", day, "month"),
            (*core, "", "", day, "day"),
            (*core, "", "", None, ""),
        ]
    )
    assert (year.name, year.effective) == ("Act 2022-387", "2022")
    assert (month.name, month.effective) == ("Telecommunicators act", "2022-10")
    assert (full.effective, none.effective) == ("2022-10-01", "")
    with pytest.raises(ValueError, match="9 or 13"):
        measures_from_rows([core[:8]])


# --- Properties -------------------------------------------------------------------------

STATES = list(COUNTIES)


ANY_STATUS = st.sampled_from(models.Status.values)
ANY_PUBLISHED = st.booleans()


@st.composite
def measures(draw, status=ANY_STATUS, published=ANY_PUBLISHED):
    """Any measure the database could hold, in one of the COUNTIES states."""
    level = draw(st.sampled_from(models.Level.values))
    state = None if level == "nation" else draw(st.sampled_from(STATES))
    county = None
    if level == "county":
        county = draw(st.sampled_from(COUNTIES[state])) if COUNTIES[state] else None
    elif level in ("place", "district"):
        county = draw(st.sampled_from([None, *COUNTIES[state]]))
    return Measure(
        draw(st.integers(1, 10**6)),
        level,
        state,
        county,
        draw(st.sampled_from(models.Kind.values)),
        draw(status),
        draw(published),
    )


ignored = st.one_of(measures(status=st.just("failed")), measures(published=st.just(False)))
adopted = measures(status=st.just("adopted"), published=st.just(True))


def everything(ms):
    states = state_statuses(ms, STATES)
    return states, county_statuses(ms, COUNTIES, states)


@given(st.lists(measures(), max_size=12), ignored)
def test_failed_or_unpublished_measure_never_changes_any_status(ms, extra):
    assert everything([*ms, extra]) == everything(ms)


@given(st.lists(measures(), max_size=12), adopted)
def test_adding_an_adopted_measure_never_lowers_any_status(ms, extra):
    before, after = everything(ms), everything([*ms, extra])
    for old, new in zip(before, after, strict=True):
        assert all(new[key].rank <= old[key].rank for key in old)


@given(st.lists(measures(), max_size=12), st.randoms())
def test_order_of_measures_does_not_matter(ms, random):
    shuffled = list(ms)
    random.shuffle(shuffled)
    assert everything(shuffled) == everything(ms)


@given(st.lists(measures(), max_size=12))
def test_one_pass_agrees_with_the_rules_read_literally(ms):
    # A slow, per-state reading of the rule text, "first that applies".
    def literal(code):
        counted = [m for m in ms if m.state == code and m.published and m.status != "failed"]
        at_state = [m for m in counted if m.level == "state"]
        adopted_kinds = {m.kind for m in at_state if m.status == "adopted"}
        if adopted_kinds & {"statute", "executive_order", "bill"}:
            return "law"
        if adopted_kinds & {"resolution", "proclamation", "ordinance"}:
            return "resolution"
        if any(m.status == "introduced" for m in at_state):
            return "pending"
        if any(m.status == "adopted" and m.level in ("county", "place", "district") for m in counted):
            return "local"
        return "none"

    assert state_statuses(ms, STATES) == {code: literal(code) for code in STATES}
    # A generator works too: the input is read once.
    assert state_statuses((m for m in ms), STATES) == state_statuses(ms, STATES)


@given(st.lists(measures(), max_size=12))
def test_county_results_agree_with_the_coverage_rule_read_literally(ms):
    # Each county read on its own from the rule's text: its colour, whether its people are covered, and
    # the measures behind the colour (in the order given).
    states = state_statuses(ms, STATES)
    counted = [m for m in ms if m.published and m.status != "failed"]
    law_kinds, resolution_kinds = (
        {"statute", "executive_order", "bill"},
        {"resolution", "proclamation", "ordinance"},
    )

    def literal(usps, fips):
        own = [m for m in counted if m.level == "county" and m.county_fips == fips and m.status == "adopted"]
        localities = [
            m
            for m in counted
            if m.level in ("place", "district") and m.county_fips == fips and m.status == "adopted"
        ]
        at_state = [m for m in counted if m.level == "state" and m.state == usps and m.status == "adopted"]
        if own:
            return "county", "covered", own
        law = states[usps] == "law"
        if localities:
            return "place", "covered" if law else "partly", localities
        if law:
            return "state", "covered", [m for m in at_state if m.kind in law_kinds]
        if states[usps] == "resolution":
            return "resolution", "resolution", [m for m in at_state if m.kind in resolution_kinds]
        return "none", "none", []

    got = county_results(ms, COUNTIES, states)
    expected = {fips: literal(usps, fips) for usps, fips_list in COUNTIES.items() for fips in fips_list}
    assert {
        fips: (result.status, result.coverage, [m.id for m in result.deciding])
        for fips, result in got.items()
    } == {
        fips: (status, coverage, [m.id for m in deciding])
        for fips, (status, coverage, deciding) in expected.items()
    }


def test_field_names_are_a_valid_values_list_query():
    # Building the query resolves every name (a typo raises FieldError) without touching the database.
    query = models.Resolution.objects.values_list(*MEASURE_FIELDS, *DISPLAY_FIELDS).query
    assert len(query.values_select) == len(MEASURE_FIELDS) + len(DISPLAY_FIELDS)


def test_rank_is_declaration_order_within_each_type():
    # "none" is a value of both types; each keeps its own rank (the weakest of its type).
    assert [status.rank for status in StateStatus] == list(range(len(StateStatus)))
    assert [status.rank for status in CountyStatus] == list(range(len(CountyStatus)))
    assert [coverage.rank for coverage in rules.Coverage] == list(range(len(rules.Coverage)))
    assert StateStatus.NONE.rank == 4 and CountyStatus.NONE.rank == 4 and rules.Coverage.NONE.rank == 3
