"""Map status rules: which colour a state or a county gets, and whether its people are covered.

Pure functions over small immutable `Measure` records; no ORM, no Django, so
the rules can be tested on their own and read in one place. Population
arithmetic lives in `recognition.coverage`, over the county standings decided here.

The rules, in words (the /about/ page quotes these; they live on each status as
`.rule`, next to its `.label`):

* Only published measures that did not fail count: drafts and failed measures
  never colour the map.
* A state's status is the first of: state law, state resolution, pending state
  bill, local action only, no recognition yet.
* A county's standing (`county_standing`, the one coverage rule every figure
  comes from): covered when the county itself adopted a measure or its state
  has a law; partly covered when neither, but a city, town or district in it
  did; state resolution only when none of those, but the state legislature
  adopted a resolution; else none. Its map colour keeps a precedence: own
  county, then city or district, then state law, then state resolution.

Status values are plain strings (the same as `recognition.models.Level`, `Kind`
and `Status` values), so this module imports nothing from Django.
"""

import enum
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

# The model's choice values, spelled out so this module stays importable
# without Django settings; tests/test_status.py checks they match the models.
NATION, STATE, COUNTY, PLACE, DISTRICT = "nation", "state", "county", "place", "district"
STATUTE, RESOLUTION, PROCLAMATION, ORDINANCE, EXECUTIVE_ORDER, BILL = (
    "statute",
    "resolution",
    "proclamation",
    "ordinance",
    "executive_order",
    "bill",
)
INTRODUCED, ADOPTED, FAILED = "introduced", "adopted", "failed"

LOCAL_LEVELS = frozenset({COUNTY, PLACE, DISTRICT})
# An adopted bill is an enacted bill, i.e. a statute, so it counts as law too.
LAW_KINDS = frozenset({STATUTE, EXECUTIVE_ORDER, BILL})
# Ordinances are rare at state level; they recognize without being law, like a resolution.
RESOLUTION_KINDS = frozenset({RESOLUTION, PROCLAMATION, ORDINANCE})


class _RankedStatus(enum.StrEnum):
    """A status with a label and a rule, declared strongest first.

    Declaration order *is* the display priority: `rank` 0 is the strongest
    status, and legends list statuses in this order. Members compare as plain
    strings (never by rank), so `status == "law"` works in Python and templates.
    """

    # The class itself must not be called by the template engine (like Django's Choices).
    do_not_call_in_templates = enum.nonmember(True)

    def __new__(cls, value, label, rule):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.rule = rule
        return member

    rank: int  # set on every member below, once the declaration order is known


class StateStatus(_RankedStatus):
    LAW = "law", "State law", "The state adopted a statute or an executive order."
    RESOLUTION = (
        "resolution",
        "State resolution",
        "The state adopted a resolution or a proclamation (or an ordinance), but no law.",
    )
    PENDING = (
        "pending",
        "Pending state bill",
        "A state measure has been introduced and not yet adopted, and its session has not ended.",
    )
    LOCAL = (
        "local",
        "Local action only",
        "Nothing at state level, but a county, city or district in the state adopted a measure.",
    )
    NONE = "none", "No recognition yet", "No published, adopted or pending measure."


class CountyStatus(_RankedStatus):
    """A county's colour on a map: who acted, strongest first (not whether it is covered)."""

    COUNTY = "county", "County acted", "The county itself adopted a measure."
    PLACE = (
        "place",
        "City or district acted",
        "The county did not, but a city, town or district in it adopted a measure.",
    )
    STATE = "state", "Covered by state law", "Nothing local, but the county's state has an adopted state law."
    RESOLUTION = (
        "resolution",
        "State resolution only",
        "Nothing local and no state law, but the state legislature adopted a resolution. "
        "A resolution is not a law: these counties are not counted as covered.",
    )
    NONE = "none", "No recognition yet", "No adopted local measure, no state law and no state resolution."


class Coverage(_RankedStatus):
    """Whether a county's people count as covered: what every figure of people and counties adds up."""

    COVERED = (
        "covered",
        "Covered",
        "The county itself adopted a measure, or its state has a law (statute, executive order or "
        "enacted bill).",
    )
    PARTLY = (
        "partly",
        "Partly covered",
        "Neither, but a city, town or 911 district in the county adopted a measure: it covers part "
        "of the county, and we do not know which part.",
    )
    RESOLUTION = (
        "resolution",
        "State resolution only",
        "None of the above, but the state legislature adopted a resolution. Not counted as covered.",
    )
    NONE = "none", "No recognition yet", "Nothing adopted by the county, a place in it, or its state."


# A plain attribute, not a property: the rules compare ranks once per measure, tens of thousands of
# times for the national map.
for _status_type in (StateStatus, CountyStatus, Coverage):
    for _index, _member in enumerate(_status_type):
        _member.rank = _index
del _status_type, _index, _member


class Measure(NamedTuple):
    """One resolution, reduced to what the status rules and a "covered by" line need.

    `state` is the USPS code of the state the measure is in (its own code for a
    state-level measure, None for a federal one). `county_fips` is the county's
    own FIPS for a county-level measure, the FIPS of the county a place or
    district lies in (None when unknown), and None for state or federal ones.
    `effective` is a partial ISO date ("2022", "2022-04", "2022-04-18") or "".
    """

    id: int
    level: str
    state: str | None
    county_fips: str | None
    kind: str
    status: str
    published: bool
    identifier: str = ""
    title: str = ""
    effective: str = ""

    @property
    def counts(self) -> bool:
        """Drafts and failed measures never count toward any status."""
        return self.published and self.status != FAILED

    @property
    def name(self) -> str:
        """What "Covered by …" names: the act or bill number, else the title."""
        return self.identifier or self.title


@dataclass(frozen=True, slots=True)
class StateResult:
    """A state's status and the measures that decided it (all those of the winning rank)."""

    status: StateStatus
    deciding: tuple[Measure, ...] = ()


@dataclass(frozen=True, slots=True)
class CountyResult:
    """A county's colour, its coverage, and the measures behind the colour.

    `deciding` holds the measures of the colour's rank: the county's own, the
    cities' and districts', the state's laws or the state's resolutions.
    """

    status: CountyStatus
    coverage: Coverage = Coverage.NONE
    deciding: tuple[Measure, ...] = ()


# --- The rules, one measure at a time ------------------------------------------


def state_status_of(measure: Measure) -> StateStatus | None:
    """What one measure says about its state, or None if it says nothing.

    An adopted state statute or executive order makes a state law; an adopted
    state resolution, proclamation or ordinance a state resolution; any
    introduced state measure a pending bill; any adopted county, city or
    district measure local action. Federal measures, drafts and failures say
    nothing about a state.
    """
    if not measure.counts or not measure.state:
        return None
    if measure.level == STATE:
        if measure.status == INTRODUCED:
            return StateStatus.PENDING
        if measure.status == ADOPTED:
            if measure.kind in LAW_KINDS:
                return StateStatus.LAW
            if measure.kind in RESOLUTION_KINDS:
                return StateStatus.RESOLUTION
        return None
    if measure.level in LOCAL_LEVELS and measure.status == ADOPTED:
        return StateStatus.LOCAL
    return None


def county_status_of(measure: Measure) -> CountyStatus | None:
    """What one measure says about a county on the map, or None.

    An adopted county measure: the county acted. An adopted measure by a city,
    town or district: the county it lies in shows that a place acted (a place
    with no known county shows on no county). State law is not decided here:
    it comes from the state's status.
    """
    if not measure.counts or measure.status != ADOPTED or not measure.county_fips:
        return None
    if measure.level == COUNTY:
        return CountyStatus.COUNTY
    if measure.level in (PLACE, DISTRICT):
        return CountyStatus.PLACE
    return None


def county_standing(
    *, county_acted: bool, locality_acted: bool, state_status: StateStatus | str
) -> tuple[CountyStatus, Coverage]:
    """The one coverage rule: a county's map colour and whether its people are covered.

    `county_acted`: the county adopted a measure itself. `locality_acted`: a
    city, town or district in it did. `state_status`: its state's status. Every
    count of covered counties and people, every legend and every sentence about
    a county comes from here, so they cannot disagree.
    """
    state_law = state_status == StateStatus.LAW
    state_resolution = state_status == StateStatus.RESOLUTION
    if county_acted or state_law:
        coverage = Coverage.COVERED
    elif locality_acted:
        coverage = Coverage.PARTLY
    elif state_resolution:
        coverage = Coverage.RESOLUTION
    else:
        coverage = Coverage.NONE
    if county_acted:
        status = CountyStatus.COUNTY
    elif locality_acted:
        status = CountyStatus.PLACE
    elif state_law:
        status = CountyStatus.STATE
    elif state_resolution:
        status = CountyStatus.RESOLUTION
    else:
        status = CountyStatus.NONE
    return status, coverage


# --- One pass over all measures ------------------------------------------------


def _strongest_by_key(pairs):
    """Keep, per key, the strongest status seen and every measure that gave it.

    `pairs` yields (key, status, measure). One pass; a stronger status replaces
    the measures kept so far, an equal one joins them (in input order).
    """
    best: dict[str, tuple[_RankedStatus, list[Measure]]] = {}
    for key, status, measure in pairs:
        kept = best.get(key)
        if kept is None or status.rank < kept[0].rank:
            best[key] = (status, [measure])
        elif status is kept[0]:
            kept[1].append(measure)
    return {key: (status, tuple(kept)) for key, (status, kept) in best.items()}


def state_results(measures: Iterable[Measure], state_codes: Iterable[str]) -> dict[str, StateResult]:
    """Every state's status and deciding measures, in one pass over `measures`.

    Every code in `state_codes` gets an entry (NONE when nothing counts);
    measures in states not listed are ignored. Codes are compared as given
    (the database stores them upper-case).
    """
    codes = list(state_codes)
    wanted = set(codes)
    best = _strongest_by_key(
        (m.state, status, m)
        for m in measures
        if m.state in wanted and (status := state_status_of(m)) is not None
    )
    nothing = StateResult(StateStatus.NONE)
    return {code: StateResult(*best[code]) if code in best else nothing for code in codes}


def state_statuses(measures: Iterable[Measure], state_codes: Iterable[str]) -> dict[str, StateStatus]:
    """Every state's status (see `state_results` for the measures behind it)."""
    return {code: result.status for code, result in state_results(measures, state_codes).items()}


def state_deciding_measures(
    measures: Iterable[Measure], state_codes: Iterable[str]
) -> dict[str, tuple[Measure, ...]]:
    """Per state, the measures that decided its status: () for NONE."""
    return {code: result.deciding for code, result in state_results(measures, state_codes).items()}


# What colours a county from its state (the measures behind a county coloured by its state).
_STATEWIDE = (StateStatus.LAW, StateStatus.RESOLUTION)


def county_standings(
    county_fips_by_state: Mapping[str, Iterable[str]],
    state_status: Mapping[str, StateStatus | str],
    county_acted: Container[str],
    locality_acted: Container[str],
) -> dict[str, tuple[CountyStatus, Coverage]]:
    """Every listed county's colour and coverage, by `county_standing`.

    `county_acted`: the FIPS of the counties that adopted a measure themselves;
    `locality_acted`: those where a city, town or district did. What a map needs
    when it names no measure. Most counties acted on nothing: they stand as their
    state leaves them, decided once per state (a national map has 3,200 counties).
    """
    standings = {}
    for usps, fips_list in county_fips_by_state.items():
        state = StateStatus(state_status.get(usps, StateStatus.NONE))
        as_the_state_leaves_it = county_standing(county_acted=False, locality_acted=False, state_status=state)
        for fips in fips_list:
            county, locality = fips in county_acted, fips in locality_acted
            standings[fips] = (
                county_standing(county_acted=county, locality_acted=locality, state_status=state)
                if county or locality
                else as_the_state_leaves_it
            )
    return standings


# The state status that colours a county by its state (its deciding measures are the state's).
_BY_THE_STATE = {CountyStatus.STATE: StateStatus.LAW, CountyStatus.RESOLUTION: StateStatus.RESOLUTION}


def county_results(
    measures: Iterable[Measure],
    county_fips_by_state: Mapping[str, Iterable[str]],
    state_status: Mapping[str, StateStatus | str],
) -> dict[str, CountyResult]:
    """Every listed county's colour, coverage and deciding measures, in one pass.

    Every FIPS in `county_fips_by_state` gets an entry, decided by
    `county_standing`. The deciding measures of a county coloured by its state
    are the state's adopted laws (or resolutions) found in `measures` (empty if
    the caller passed none: the status still holds).
    """
    state_of = {fips: usps for usps, fips_list in county_fips_by_state.items() for fips in fips_list}
    local: dict[tuple[str, CountyStatus], list[Measure]] = {}
    statewide: dict[tuple[str, StateStatus], list[Measure]] = {}
    for m in measures:
        if m.county_fips in state_of and (status := county_status_of(m)) is not None:
            local.setdefault((m.county_fips, status), []).append(m)
        elif m.state in county_fips_by_state and (status := state_status_of(m)) in _STATEWIDE:
            statewide.setdefault((m.state, status), []).append(m)
    standings = county_standings(
        county_fips_by_state,
        state_status,
        {fips for fips, status in local if status == CountyStatus.COUNTY},
        {fips for fips, status in local if status == CountyStatus.PLACE},
    )
    results, shared = {}, {}
    for fips, standing in standings.items():
        status, coverage = standing
        if status in (CountyStatus.COUNTY, CountyStatus.PLACE):
            results[fips] = CountyResult(status, coverage, tuple(local[(fips, status)]))
            continue
        usps = state_of[fips]
        if (usps, standing) not in shared:
            deciding = statewide.get((usps, _BY_THE_STATE[status]), ()) if status in _BY_THE_STATE else ()
            shared[(usps, standing)] = CountyResult(status, coverage, tuple(deciding))
        results[fips] = shared[(usps, standing)]
    return results


def county_statuses(
    measures: Iterable[Measure],
    county_fips_by_state: Mapping[str, Iterable[str]],
    state_status: Mapping[str, StateStatus | str],
) -> dict[str, CountyStatus]:
    """Every listed county's status (see `county_results` for the measures behind it)."""
    results = county_results(measures, county_fips_by_state, state_status)
    return {fips: result.status for fips, result in results.items()}


def status_counts[S: _RankedStatus](
    statuses: Iterable[S | str] | Mapping[object, S | str], status_type: type[S]
) -> dict[S, int]:
    """How many of each status, for a legend: every status, zeros included, strongest first.

    Accepts a list of statuses or a dict of them (as `state_statuses` returns).
    The type is explicit because an empty map still needs a full legend.
    """
    values = statuses.values() if isinstance(statuses, Mapping) else statuses
    counts: dict[S, int] = dict.fromkeys(status_type, 0)
    # Counted as given, then each distinct value checked once (a national map counts 3,200 counties).
    for value, n in Counter(values).items():
        counts[status_type(value)] += n
    return counts


# --- From a database query -----------------------------------------------------

# Resolution.objects.values_list(*MEASURE_FIELDS) returns rows in exactly this
# order; optionally add DISPLAY_FIELDS after them (values_list(*MEASURE_FIELDS,
# *DISPLAY_FIELDS)) to be able to say "Covered by Alabama Act 2022-387".
MEASURE_FIELDS = (
    "id",
    "jurisdiction__level",
    "jurisdiction__usps",  # the state, for a state-level measure
    "jurisdiction__parent__usps",  # the state, for a county, place or district
    "jurisdiction__fips",  # the county, for a county-level measure
    "jurisdiction__county__fips",  # the county a place or district lies in
    "kind",
    "status",
    "published",
)
DISPLAY_FIELDS = ("identifier", "title", "effective_on", "effective_on_precision")


def _partial_iso(day, precision) -> str:
    # Same text as PartialDate.isoformat(), which needs Django to import.
    if day is None:
        return ""
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def measures_from_rows(rows: Iterable[tuple]) -> list[Measure]:
    """Build measures from `values_list(*MEASURE_FIELDS[, *DISPLAY_FIELDS])` rows.

    The state is the jurisdiction's own USPS code at state level and its
    parent's for local levels (None for the nation); the county FIPS is the
    jurisdiction's own for a county and its county's for a place or district.
    """
    core, full = len(MEASURE_FIELDS), len(MEASURE_FIELDS) + len(DISPLAY_FIELDS)
    measures = []
    for row in rows:
        if len(row) not in (core, full):
            raise ValueError(f"expected {core} or {full} fields per row, got {len(row)}: {row!r}")
        pk, level, own_usps, parent_usps, own_fips, county_fips, kind, status, published = row[:core]
        identifier, title, effective_on, precision = row[core:] or ("", "", None, "")
        if level == STATE:
            state, county = own_usps, None
        elif level in LOCAL_LEVELS:
            state, county = parent_usps, own_fips if level == COUNTY else county_fips
        else:
            state, county = None, None
        measures.append(
            Measure(
                id=pk,
                level=level,
                state=state or None,
                county_fips=county or None,
                kind=kind,
                status=status,
                published=bool(published),
                identifier=identifier or "",
                title=title or "",
                effective=_partial_iso(effective_on, precision),
            )
        )
    return measures
