"""The stage rules (recognition/stages.py): actions and a status in, a stage out; no database.

The expected stages are written out by hand from the rules in words (the module's
docstring), and the exhaustive check compares against a second, deliberately
plain reading of those rules (`oracle_stage`), not against the code under test.
"""

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from recognition import models, stages
from recognition.stages import Classification as C
from recognition.stages import Stage, Step

BILL = {"level": "state", "kind": "bill"}
FEDERAL_BILL = {"level": "nation", "kind": "bill"}
COUNTY_RESOLUTION = {"level": "county", "kind": "resolution"}


def day(text):
    return datetime.date.fromisoformat(text)


def step(on, classification, chamber="", precision="day", order=0):
    return Step(
        day(on), precision, str(classification), chamber, f"{classification} {chamber}".strip(), order
    )


def stage_of(steps, status="introduced", **measure):
    return stages.progress(steps, status=status, **(measure or BILL)).stage


# --- The vocabulary matches the models -------------------------------------------------------------


def test_the_values_match_the_models_choices():
    assert [str(c) for c in C] == models.ActionClassification.values
    assert [str(s) for s in Stage] == models.Stage.values
    assert models.Chamber.values == [stages.LOWER, stages.UPPER, stages.EXECUTIVE]
    assert tuple(models.Status.values) == (stages.INTRODUCED, stages.ADOPTED, stages.FAILED)
    assert {stages.COUNTY, stages.PLACE, stages.DISTRICT, stages.NATION} <= set(models.Level.values)
    assert {stages.PROCLAMATION, stages.EXECUTIVE_ORDER} <= set(models.Kind.values)
    # Every stage belongs to exactly one status.
    assert sorted(s for group in stages.STAGES_BY_STATUS.values() for s in group) == sorted(Stage)


# --- One classification at a time -----------------------------------------------------------------

ALONE = [
    # classification, chamber, the status that agrees, stage
    (C.INTRODUCTION, "lower", "introduced", Stage.INTRODUCED),
    (C.REFERRAL_COMMITTEE, "lower", "introduced", Stage.IN_COMMITTEE),
    (C.COMMITTEE_PASSAGE, "upper", "introduced", Stage.PASSED_COMMITTEE),
    (C.PASSAGE, "lower", "introduced", Stage.PASSED_LOWER),
    (C.PASSAGE, "upper", "introduced", Stage.PASSED_UPPER),
    (C.PASSAGE, "", "introduced", Stage.PASSED_BOTH),  # "passed the General Assembly"
    (C.EXECUTIVE_SIGNATURE, "executive", "adopted", Stage.ADOPTED),
    (C.EXECUTIVE_VETO, "executive", "failed", Stage.VETOED),
    (C.BECAME_LAW, "", "adopted", Stage.IN_FORCE),
    (C.FAILURE, "", "failed", Stage.FAILED),
    (C.WITHDRAWAL, "lower", "failed", Stage.WITHDRAWN),
]


@pytest.mark.parametrize(("classification", "chamber", "status", "expected"), ALONE)
def test_each_classification_alone(classification, chamber, status, expected):
    steps = [step("2024-03-01", classification, chamber)]
    assert stage_of(steps, status) == expected
    assert stages.conflict(steps, status=status, **BILL) is None


def test_every_classification_is_covered_by_the_table():
    assert {row[0] for row in ALONE} == set(C)


# --- Whole lives --------------------------------------------------------------------------------

A_BILLS_LIFE = [
    (step("2025-01-10", C.INTRODUCTION, "lower"), "introduced", Stage.INTRODUCED),
    (step("2025-01-10", C.REFERRAL_COMMITTEE, "lower"), "introduced", Stage.IN_COMMITTEE),
    (step("2025-02-01", C.COMMITTEE_PASSAGE, "lower"), "introduced", Stage.PASSED_COMMITTEE),
    (step("2025-02-15", C.PASSAGE, "lower"), "introduced", Stage.PASSED_LOWER),
    (step("2025-03-01", C.REFERRAL_COMMITTEE, "upper"), "introduced", Stage.PASSED_LOWER),
    (step("2025-03-20", C.PASSAGE, "upper"), "introduced", Stage.PASSED_BOTH),
    (step("2025-04-02", C.EXECUTIVE_SIGNATURE, "executive"), "adopted", Stage.ADOPTED),
    (step("2025-07-01", C.BECAME_LAW), "adopted", Stage.IN_FORCE),
]


def test_a_bill_from_introduction_to_law_step_by_step():
    seen = []
    for action, status, expected in A_BILLS_LIFE:
        seen.append(action)
        assert stage_of(seen, status) == expected, action
        assert stages.conflict(seen, status=status, **BILL) is None


def test_the_senate_first():
    steps = [step("2025-02-25", C.INTRODUCTION, "upper"), step("2025-09-11", C.PASSAGE, "upper")]
    assert stage_of(steps, **FEDERAL_BILL) == Stage.PASSED_UPPER
    steps.append(step("2025-12-01", C.PASSAGE, "lower"))
    assert stage_of(steps, **FEDERAL_BILL) == Stage.PASSED_BOTH


def test_a_veto_ends_a_bill_until_it_becomes_law_over_it():
    steps = [
        step("2024-01-10", C.PASSAGE, "lower"),
        step("2024-02-10", C.PASSAGE, "upper"),
        step("2024-03-01", C.EXECUTIVE_VETO, "executive"),
    ]
    assert stage_of(steps, "failed") == Stage.VETOED
    # One chamber votes to override: not beyond where it had been, so still vetoed.
    steps.append(step("2024-03-10", C.PASSAGE, "lower"))
    assert stage_of(steps, "failed") == Stage.VETOED
    steps.append(step("2024-03-20", C.BECAME_LAW))
    assert stage_of(steps, "adopted") == Stage.IN_FORCE


def test_a_failed_bill_revives_only_by_going_further():
    steps = [step("2024-01-10", C.REFERRAL_COMMITTEE, "lower"), step("2024-02-01", C.FAILURE, "lower")]
    assert stage_of(steps, "failed") == Stage.FAILED
    steps.append(step("2024-02-05", C.REFERRAL_COMMITTEE, "lower"))  # referred again: no further
    assert stage_of(steps, "failed") == Stage.FAILED
    steps.append(step("2024-03-01", C.COMMITTEE_PASSAGE, "lower"))
    assert stage_of(steps, "introduced") == Stage.PASSED_COMMITTEE


def test_one_body_goes_straight_from_introduced_to_adopted():
    steps = [step("2024-05-01", C.INTRODUCTION), step("2024-05-15", C.PASSAGE)]
    assert stage_of(steps[:1], **COUNTY_RESOLUTION) == Stage.INTRODUCED
    assert stage_of(steps, "adopted", **COUNTY_RESOLUTION) == Stage.ADOPTED
    proclamation = [step("2024-04-12", C.EXECUTIVE_SIGNATURE, "executive")]
    assert stage_of(proclamation, "adopted", level="state", kind="proclamation") == Stage.ADOPTED


def test_a_single_chamber_legislature_passes_a_bill_in_one_vote():
    steps = [step("2024-04-01", C.PASSAGE, "upper")]
    assert stages.progress(steps, status="introduced", unicameral=True, **BILL).stage == Stage.PASSED_BOTH


def test_status_settles_what_the_actions_do_not_record():
    introduced = [step("2022-02-01", C.INTRODUCTION, "lower")]
    assert stage_of(introduced, "adopted") == Stage.ADOPTED
    assert stage_of(introduced, "failed") == Stage.FAILED
    assert stage_of([], "introduced") == Stage.INTRODUCED
    assert stage_of([], "adopted") == Stage.ADOPTED
    assert stage_of([], "failed") == Stage.FAILED


# --- Dates at different precisions ----------------------------------------------------------------


def test_a_month_known_action_comes_after_a_precise_one_inside_its_month():
    """S. 725: reported by committee on 2 September 2025, passed the Senate in "September 2025"."""
    reported = step("2025-09-02", C.COMMITTEE_PASSAGE, "upper", order=1)
    passed = step("2025-09-01", C.PASSAGE, "upper", precision="month", order=2)
    for steps in ([reported, passed], [passed, reported]):
        result = stages.progress(steps, status="introduced", **FEDERAL_BILL)
        assert result.stage == Stage.PASSED_UPPER
        assert result.latest == passed
        assert stages.summary(result) == "passed the Senate, September 2025; in the House"


def test_same_day_actions_follow_a_measures_life_whatever_the_order_recorded():
    introduced = step("2025-01-16", C.INTRODUCTION, "lower", order=2)
    referred = step("2025-01-16", C.REFERRAL_COMMITTEE, "lower", order=1)
    result = stages.progress([referred, introduced], status="introduced", **FEDERAL_BILL)
    assert result.latest == referred
    assert result.stage == Stage.IN_COMMITTEE


# --- Contradictions -------------------------------------------------------------------------------

CONFLICTS = [
    # steps, status, words the message must contain
    ([step("2022-04-18", C.EXECUTIVE_SIGNATURE, "executive")], "introduced", "signature"),
    ([step("2022-07-01", C.BECAME_LAW)], "failed", "became law"),
    ([step("2024-01-01", C.PASSAGE, "upper"), step("2024-02-01", C.EXECUTIVE_VETO)], "adopted", "vetoed"),
    ([step("2024-02-01", C.FAILURE)], "adopted", "failed"),
    ([step("2024-02-01", C.WITHDRAWAL)], "introduced", "withdrawn"),
]


@pytest.mark.parametrize(("steps", "status", "words"), CONFLICTS)
def test_a_status_that_contradicts_the_actions_is_explained(steps, status, words):
    message = stages.conflict(steps, status=status, **BILL)
    assert message is not None and words in message.lower()
    assert stage_of(steps, status) not in stages.STAGES_BY_STATUS[status]


def test_a_county_passage_means_adopted():
    steps = [step("2024-05-15", C.PASSAGE)]
    assert "adopted" in stages.conflict(steps, status="introduced", **COUNTY_RESOLUTION)
    assert stages.conflict(steps, status="adopted", **COUNTY_RESOLUTION) is None


# --- Every short sequence, against a plain reading of the rules -----------------------------------

PROGRESS = {
    "introduced": 0,
    "in_committee": 1,
    "passed_committee": 2,
    "passed_lower": 3,
    "passed_upper": 3,
    "passed_both": 4,
    "adopted": 5,
    "in_force": 6,
}
ENDINGS = {"executive-veto": "vetoed", "failure": "failed", "withdrawal": "withdrawn"}


def oracle_stage(actions, status):
    """The rules read plainly, for a bicameral bill whose actions are already in date order."""
    furthest, chambers, ending = "introduced", set(), None
    for classification, chamber in actions:
        if classification in ENDINGS:
            ending = ENDINGS[classification]
            continue
        if classification == "passage":
            if chamber:
                chambers.add(chamber)
            if not chamber or chambers == {"lower", "upper"}:
                reached = "passed_both"
            else:
                reached = "passed_upper" if "upper" in chambers else "passed_lower"
        else:
            reached = {
                "introduction": "introduced",
                "referral-committee": "in_committee",
                "committee-passage": "passed_committee",
                "executive-signature": "adopted",
                "became-law": "in_force",
            }[classification]
        if PROGRESS[reached] > PROGRESS[furthest]:
            furthest, ending = reached, None
    if ending:
        return ending
    if furthest in ("adopted", "in_force"):
        return furthest
    return {"adopted": "adopted", "failed": "failed"}.get(status, furthest)


ALPHABET = [
    (str(c), chamber)
    for c in C
    for chamber in (
        ("lower", "upper", "") if c == C.PASSAGE else ("lower",) if c == C.INTRODUCTION else ("",)
    )
]


def test_every_sequence_of_up_to_three_actions_agrees_with_a_plain_reading_of_the_rules():
    checked = 0
    for length in range(4):
        for actions in itertools.product(ALPHABET, repeat=length):
            steps = [
                step(f"2024-0{index + 1}-01", classification, chamber)
                for index, (classification, chamber) in enumerate(actions)
            ]
            for status in ("introduced", "adopted", "failed"):
                assert stage_of(steps, status) == oracle_stage(actions, status), (actions, status)
                checked += 1
    assert checked == 3 * sum(len(ALPHABET) ** n for n in range(4))


# --- Property: a later action never moves a measure backwards -----------------------------------


@st.composite
def histories(draw):
    """Actions on distinct, increasing dates at mixed precisions (each certainly after the one before)."""
    count = draw(st.integers(0, 6))
    year = 2000
    steps = []
    for index in range(count):
        year += draw(st.integers(1, 2))
        precision = draw(st.sampled_from(["year", "month", "day"]))
        on = datetime.date(year, 1 if precision == "year" else draw(st.integers(1, 12)), 1)
        if precision == "day":
            on = on.replace(day=draw(st.integers(1, 28)))
        classification, chamber = draw(st.sampled_from(ALPHABET))
        steps.append(Step(on, precision, classification, chamber, "", index))
    return draw(st.permutations(steps)), year


def rank(stage):
    return stages.progress_rank(stage)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    histories(),
    st.sampled_from(ALPHABET),
    st.sampled_from(["introduced", "adopted", "failed"]),
    st.sampled_from([BILL, FEDERAL_BILL, COUNTY_RESOLUTION]),
)
def test_a_later_action_never_moves_a_measure_backwards_except_by_ending_it(history, later, status, measure):
    steps, last_year = history
    classification, chamber = later
    new = Step(datetime.date(last_year + 1, 6, 1), "day", classification, chamber, "", 99)
    assert all(old.is_certainly_before(new) for old in steps)
    before = stages.progress(steps, status=status, **measure).stage
    after = stages.progress([*steps, new], status=status, **measure).stage
    if classification in ENDINGS:
        assert after == ENDINGS[classification]
    elif before.ended:
        # Still ended (the status may say how), or revived by going further than it had ever gone.
        forward_only = [old for old in steps if old.classification not in ENDINGS]
        furthest = stages.progress(forward_only, status="introduced", **measure).stage
        assert after.ended or rank(after) > rank(furthest)
    else:
        assert not after.ended
        assert rank(after) >= rank(before)


# --- In force by the effective date -------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "precision", "today", "in_force"),
    [
        ("2022-07-01", "day", "2022-06-30", False),
        ("2022-07-01", "day", "2022-07-01", True),  # in force on the day itself
        ("2023-08-01", "month", "2023-08-30", False),  # "August 2023": certain only once August is over
        ("2023-08-01", "month", "2023-08-31", True),
        ("2022-01-01", "year", "2022-12-30", False),
        ("2022-01-01", "year", "2022-12-31", True),
    ],
)
def test_an_adopted_measure_is_in_force_once_its_whole_effective_period_has_come(
    effective, precision, today, in_force
):
    stage = stages.current_stage(Stage.ADOPTED, day(effective), precision, day(today))
    assert stage == (Stage.IN_FORCE if in_force else Stage.ADOPTED)


def test_only_an_adopted_measure_comes_into_force_by_date():
    for stage in Stage:
        if stage is not Stage.ADOPTED:
            assert stages.current_stage(stage, day("2001-01-01"), "day", day("2026-01-01")) == stage
    assert stages.current_stage(Stage.ADOPTED, None, "", day("2026-01-01")) == Stage.ADOPTED
