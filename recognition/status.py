"""Map status rules: which colour a state or a county gets, and why.

Pure functions over small immutable `Measure` records; no ORM, no Django. A
view runs one `values_list(*MEASURE_FIELDS)` query, turns the rows into
measures with `measures_from_rows`, and every status then comes from one pass
over that list.

The rules, in words (the /about/ page quotes these; they live on each status as
`.rule`, next to its `.label`):

* Only published measures that did not fail count: drafts and failed measures
  never colour the map.
* A state's status is the first of: state law, state resolution, pending state
  bill, local action only, no recognition yet.
* A county's status is the first of: county acted, city or district acted,
  covered by state law, no recognition yet.
* People covered (`population_coverage`): a whole state when it has a law or a
  resolution, else the people of its counties that acted themselves; people in
  counties where only a city or district acted are counted apart, never as covered.

Status values are plain strings (the same as `recognition.models.Level`, `Kind`
and `Status` values), so this module imports nothing from Django.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
    PENDING = "pending", "Pending state bill", "A state measure has been introduced and not yet adopted."
    LOCAL = (
        "local",
        "Local action only",
        "Nothing at state level, but a county, city or district in the state adopted a measure.",
    )
    NONE = "none", "No recognition yet", "No published, adopted or pending measure."


class CountyStatus(_RankedStatus):
    COUNTY = "county", "County acted", "The county itself adopted a measure."
    PLACE = "place", "City or district acted", "A city, town or district in the county adopted a measure."
    STATE = "state", "Covered by state law", "Nothing local, but the county's state has an adopted state law."
    NONE = "none", "No recognition yet", "No adopted local measure and no state law."


# A plain attribute, not a property: the rules compare ranks once per measure, tens of thousands of
# times for the national map.
for _status_type in (StateStatus, CountyStatus):
    for _index, _member in enumerate(_status_type):
        _member.rank = _index
del _status_type, _index, _member


@dataclass(frozen=True, slots=True)
class Measure:
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
    """A county's status and the measures that decided it (for `state`: the state's laws)."""

    status: CountyStatus
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


def county_results(
    measures: Iterable[Measure],
    county_fips_by_state: Mapping[str, Iterable[str]],
    state_status: Mapping[str, StateStatus | str],
) -> dict[str, CountyResult]:
    """Every listed county's status and deciding measures, in one pass.

    Every FIPS in `county_fips_by_state` gets an entry. A county with no
    adopted county or place measure is STATE when its state's status is LAW;
    the deciding measures are then the adopted state laws found in `measures`
    (empty if the caller passed none, the status still holds).
    """
    state_of = {fips: usps for usps, fips_list in county_fips_by_state.items() for fips in fips_list}
    local_pairs = []
    state_laws: dict[str, list[Measure]] = {}
    for m in measures:
        if m.county_fips in state_of and (status := county_status_of(m)) is not None:
            local_pairs.append((m.county_fips, status, m))
        elif m.state in county_fips_by_state and state_status_of(m) is StateStatus.LAW:
            state_laws.setdefault(m.state, []).append(m)
    best = _strongest_by_key(local_pairs)

    results = {}
    for fips, usps in state_of.items():
        if fips in best:
            results[fips] = CountyResult(*best[fips])
        elif state_status.get(usps) == StateStatus.LAW:
            results[fips] = CountyResult(CountyStatus.STATE, tuple(state_laws.get(usps, ())))
        else:
            results[fips] = CountyResult(CountyStatus.NONE)
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
    for value in values:
        counts[status_type(value)] += 1
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


# --- Population covered ----------------------------------------------------------

# The estimates the site uses (recognition/data/census/, loaded by `manage.py load_population`).
POPULATION_YEAR = 2022
POPULATION_SOURCE = "U.S. Census Bureau, Vintage 2022 estimates"


def _share(part: int, whole: int | None) -> float:
    """part / whole, between 0 and 1; 0.0 when the whole is unknown or zero."""
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class StateCoverage:
    """How many of a state's people live under recognition, from its status and its counties'.

    `population` is the state's own figure (None when unknown: then `under_law`,
    `covered` and `place_only` are 0 and the state adds nothing to the national
    numbers; the county sums are still given). `under_law`
    is the whole state when its status is law. `covered` is the whole state
    when it has a law or a resolution, else the people of its counties whose
    status is `county`. `place_only` is the people of counties whose status is
    `place` in a state with neither law nor resolution: a city or district
    acted, not the county, so they are shown apart and never in `covered`.

    County figures may be missing (Connecticut's old counties have none in the
    2022 estimates), so the county sums are over the counties with a figure:
    `counties_population` is their sum and `gap` the state's figure minus it
    (0 when the counties add up, the whole state when none has a figure).
    `county_acted` is the people of counties that adopted a measure themselves,
    whatever the state did; its share is over `counties_population`. Counties
    that acted (status `county` or `place`) but have no figure are listed in
    `acted_without_figure`, never estimated.
    """

    usps: str
    fips: str
    status: StateStatus
    population: int | None
    under_law: int = 0
    covered: int = 0
    place_only: int = 0
    county_acted: int = 0
    counties_population: int = 0
    counties_with_figure: int = 0
    counties_without_figure: tuple[str, ...] = ()  # county FIPS codes, sorted
    acted_without_figure: tuple[str, ...] = ()  # county FIPS codes, sorted

    @property
    def gap(self) -> int | None:
        """People the county figures do not account for; None when the state's figure is unknown."""
        return None if self.population is None else self.population - self.counties_population

    @property
    def under_law_share(self) -> float:
        return _share(self.under_law, self.population)

    @property
    def covered_share(self) -> float:
        return _share(self.covered, self.population)

    @property
    def place_only_share(self) -> float:
        return _share(self.place_only, self.population)

    @property
    def county_acted_share(self) -> float:
        """Share of the people in the counties with a figure whose own county acted."""
        return _share(self.county_acted, self.counties_population)


@dataclass(frozen=True, slots=True)
class Coverage:
    """People under recognition, nationally and per state, with the estimates they come from.

    `total` is the sum of the counted states' figures (the 50 states and DC
    when the caller passes those). `under_law`, `covered` and `place_only` are
    the sums of the states' (see `StateCoverage`), each a count of people with
    its share of `total`. `place_only` is never part of `covered`. States with
    no figure add nothing and are listed in `states_without_figure`.
    """

    total: int
    under_law: int
    covered: int
    place_only: int
    states: dict[str, StateCoverage]  # by USPS code, in the order given
    states_without_figure: tuple[str, ...] = ()  # USPS codes
    year: int = POPULATION_YEAR
    source: str = POPULATION_SOURCE

    @property
    def under_law_share(self) -> float:
        return _share(self.under_law, self.total)

    @property
    def covered_share(self) -> float:
        return _share(self.covered, self.total)

    @property
    def place_only_share(self) -> float:
        return _share(self.place_only, self.total)


def population_coverage(
    state_status: Mapping[str, StateStatus | str],
    county_status: Mapping[str, CountyStatus | str],
    population: Mapping[str, int | None],
    state_fips: Mapping[str, str],
    *,
    year: int = POPULATION_YEAR,
    source: str = POPULATION_SOURCE,
) -> Coverage:
    """People covered by recognition, nationally and per state, in one pass over the counties.

    * `state_status`: {USPS code: state status}, as `state_statuses` returns
      (a state missing here counts as NONE).
    * `county_status`: {county FIPS: county status}, as `county_statuses`
      returns; its keys are the counties counted. A county belongs to the state
      whose FIPS code starts its own.
    * `population`: {FIPS: people} for states (2 digits) and counties
      (5 digits), e.g. `Jurisdiction.population` by `fips`; a code missing or
      None has no figure, and none is guessed.
    * `state_fips`: {USPS code: state FIPS} for the states to count, in display
      order: pass the 50 states and DC. Anything else (the territories, their
      counties) is ignored.

    Statuses may be the enums or their plain string values. `year` and
    `source` only label the result for display.
    """
    state_by_fips = {fips: usps for usps, fips in state_fips.items()}
    sums = {usps: _CountySums() for usps in state_fips}
    for county, status in county_status.items():
        usps = state_by_fips.get(county[:2])
        if usps is not None:
            sums[usps].add(county, CountyStatus(status), population.get(county))

    states = {}
    for usps, fips in state_fips.items():
        status = StateStatus(state_status.get(usps, StateStatus.NONE))
        states[usps] = sums[usps].state_coverage(usps, fips, status, population.get(fips))
    counted = [state for state in states.values() if state.population is not None]
    return Coverage(
        total=sum(state.population for state in counted),
        under_law=sum(state.under_law for state in counted),
        covered=sum(state.covered for state in counted),
        place_only=sum(state.place_only for state in counted),
        states=states,
        states_without_figure=tuple(state.usps for state in states.values() if state.population is None),
        year=year,
        source=source,
    )


class _CountySums:
    """Running sums over one state's counties, for `population_coverage`."""

    __slots__ = ("acted", "place", "known", "with_figure", "without_figure", "acted_without_figure")

    def __init__(self):
        self.acted = self.place = self.known = self.with_figure = 0
        self.without_figure: list[str] = []
        self.acted_without_figure: list[str] = []

    def add(self, county: str, status: CountyStatus, people: int | None) -> None:
        if people is None:
            self.without_figure.append(county)
            if status in (CountyStatus.COUNTY, CountyStatus.PLACE):
                self.acted_without_figure.append(county)
            return
        self.known += people
        self.with_figure += 1
        if status is CountyStatus.COUNTY:
            self.acted += people
        elif status is CountyStatus.PLACE:
            self.place += people

    def state_coverage(self, usps: str, fips: str, status: StateStatus, people: int | None) -> StateCoverage:
        statewide = status in (StateStatus.LAW, StateStatus.RESOLUTION)
        known = people is not None  # without the state's figure, nothing adds up to a share of it
        return StateCoverage(
            usps,
            fips,
            status,
            people,
            under_law=people if known and status is StateStatus.LAW else 0,
            covered=(people if statewide else self.acted) if known else 0,
            place_only=self.place if known and not statewide else 0,
            county_acted=self.acted,
            counties_population=self.known,
            counties_with_figure=self.with_figure,
            counties_without_figure=tuple(sorted(self.without_figure)),
            acted_without_figure=tuple(sorted(self.acted_without_figure)),
        )
