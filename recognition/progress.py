"""What the public progress pages show, computed with a fixed number of queries.

Each function here runs a handful of queries whatever the size of the data and
hands plain objects to the templates: statuses come from the pure rules in
`recognition.status`, over small `values_list` queries (never one row per resolution
for the national map).
"""

import datetime
import functools
import json
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

from django.db.models import Case, Count, Exists, F, Min, OuterRef, Prefetch, Q, Value, When
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone

from . import coverage as people_rules
from . import next_steps, past, stages, tallies, tap_targets
from . import status as rules
from .charts import cumulative_timeline
from .dates import PartialDate
from .geography import shared_borders
from .geography_loader import STATES_ATLAS
from .models import Action, Jurisdiction, Kind, Level, Resolution, Source, Status

STATE_PAGE_LIMIT = 25  # measures listed on a state page before "see all"
NAMED_IN_A_LINE = 3  # measures, bills or places named in one line of a page or sheet; the rest are counted


@dataclass
class Region:
    """One shape on a map: a state or a county, with its status."""

    jurisdiction: Jurisdiction
    status: rules._RankedStatus
    deciding: tuple = ()
    coverage: rules.Coverage | None = None  # counties only

    @property
    def fips(self):
        return self.jurisdiction.fips

    @functools.cached_property
    def url(self):
        """Its page's address, worked out once: a state page links each county from the map and the table."""
        return self.jurisdiction.get_absolute_url()

    @property
    def label(self):
        """The accessible name and tooltip: "Texas: State law, population 30,029,572"."""
        population = self.jurisdiction.population
        known = f", population {population:,}" if population is not None else ""
        return f"{self.jurisdiction.name}: {self.status.label}{known}"


def _counting(queryset, as_of):
    """What may count toward a status, and the field that holds each measure's status: today's, or
    (with `as_of`, a past date) the status it had on that day."""
    if as_of is None:
        return queryset.counting(), "status"
    return queryset.counting_on(as_of), "status_then"


def counted_measures(queryset=None, as_of=None):
    """Published measures that can count toward a status (on `as_of`, when given), as `status.Measure`s
    (one query)."""
    queryset = Resolution.objects.published() if queryset is None else queryset
    counting, status_field = _counting(queryset, as_of)
    fields = [status_field if name == "status" else name for name in rules.MEASURE_FIELDS]
    return rules.measures_from_rows(counting.values_list(*fields, *rules.DISPLAY_FIELDS))


@dataclass(frozen=True)
class StatusInputs:
    """What the status rules need for every state and county at once, and nothing more.

    `state_measures` are not resolutions but the distinct combinations that decide
    a state's own status: a few hundred however many resolutions are recorded.
    `local_rows` say which counties, places and districts adopted a measure, per
    county (rows of `acted_locally`), or only per state (their FIPS None) when no
    county is coloured; `local_acted` counts them per (state, level).
    """

    state_measures: list
    local_rows: list
    local_acted: dict

    @property
    def for_states(self):
        """The state measures and one stand-in per state where a local jurisdiction acted: all every
        state's status needs (a state's local action is one status, whichever county it was in)."""
        one_per_state = {}
        for row in self.local_rows:
            one_per_state.setdefault(row[1], row)
        return self.state_measures + local_stand_ins(one_per_state.values())

    def acted_counties(self):
        """(FIPS of the counties that adopted a measure themselves, FIPS of those where a city, town or
        district did): all every county's colour and coverage need."""
        county_acted, locality_acted = set(), set()
        for level, _usps, fips, _jurisdictions in self.local_rows:
            (county_acted if level == Level.COUNTY else locality_acted).add(fips)
        return county_acted, locality_acted

    def local_acted_by_level(self):
        """{level: jurisdictions that acted}, every local level present."""
        totals = dict.fromkeys(rules.LOCAL_LEVELS, 0)
        for (_usps, level), count in self.local_acted.items():
            totals[level] += count
        return totals

    def local_acted_by_state(self):
        """{usps: counties, places and districts of the state that acted}."""
        totals = {}
        for (usps, _level), count in self.local_acted.items():
            totals[usps] = totals.get(usps, 0) + count
        return totals


def status_inputs(as_of=None, by_county=True):
    """Every input of the national status rules (on the past date `as_of`, when given), in two queries.

    State measures: their distinct (level, state, kind, status), from
    the few thousand rows the index on the jurisdiction finds. Local measures only
    count when adopted, and their kind never matters, so those are asked from the
    jurisdictions' side: the counties, places and districts with an adopted
    measure, grouped by level, state and county (today: the tallies PostgreSQL keeps).
    Neither query joins or sorts the whole resolutions table.
    On a past date, a state measure's status is the one it had then, and local measures count
    from their adoption dates. Without `by_county` (today, on PostgreSQL only), the tallies are read
    added up per state: enough for the states' statuses and the counts, not for colouring a county.
    """
    counting, status_field = _counting(Resolution.objects.published(), as_of)
    state_rows = (
        counting.filter(jurisdiction__level=Level.STATE)
        .order_by()
        .values_list("jurisdiction__level", "jurisdiction__usps", "kind", status_field)
        .distinct()
    )
    local_rows = acted_locally(as_of) if by_county else tallies.local_acted_per_state()
    # Rows in the shape of rules.MEASURE_FIELDS: (id, level, usps, parent usps, fips, county fips, kind,
    # status, published); measures_from_rows picks the state and county that matter for each level.
    rows = [
        (0, level, usps, None, None, None, kind, status, True) for level, usps, kind, status in state_rows
    ]
    local_acted = {}
    for level, usps, _county_fips, jurisdictions in local_rows:
        local_acted[(usps, level)] = local_acted.get((usps, level), 0) + jurisdictions
    return StatusInputs(rules.measures_from_rows(rows), local_rows, local_acted)


# Stand-ins are values (two are equal whenever their fields are): each process makes each one once.
_STAND_INS = {}


def deciding_measures(codes, as_of=None):
    """What the rules need to decide these states (usps codes) and colour their counties, without reading
    their local measures: the states' own measures, and a stand-in per county and way a local
    jurisdiction acted there (2 queries)."""
    own = (
        Resolution.objects.published()
        .filter(jurisdiction__level=Level.STATE, jurisdiction__usps__in=codes)
        # Newest first, the same on every database: a page names the first few.
        .order_by(F("adopted_on").desc(nulls_last=True), "-pk")
    )
    return counted_measures(own, as_of) + local_stand_ins(acted_locally(as_of, codes))


def local_stand_ins(rows):
    """For rows of `acted_locally`: one stand-in measure per county and way it acted (its own measure, or
    a place's or district's), all the status rules need of local measures, without reading them."""
    measures, seen = [], set()
    for level, usps, fips, _jurisdictions in rows:
        way = (usps, fips, level == Level.COUNTY)
        if way in seen:
            continue  # a district acting says what a place acting says
        seen.add(way)
        key = (level, usps, fips)
        if key not in _STAND_INS:
            row = (0, level, None, usps, fips, fips, "", Status.ADOPTED, True)
            _STAND_INS[key] = rules.measures_from_rows([row])[0]
        measures.append(_STAND_INS[key])
    return measures


def acted_locally(as_of=None, states=None):
    """[(level, state usps, county fips, jurisdictions)] of the local jurisdictions that acted (one query),
    in every state or in the `states` listed (usps codes): today's from the tallies PostgreSQL keeps,
    else counted from the measures."""
    if as_of is None and tallies.kept():
        return tallies.local_acted(states)
    return local_acted_rows(as_of, states)


def local_acted_rows(as_of=None, states=None):
    """[(level, state usps, county fips, jurisdictions)]: the counties, places and districts with an
    adopted, published measure (by `as_of`, when given), per county the map colours (one query).

    What the tallies hold for today; counted here from the measures (SQLite, a past date).
    """
    adopted_here = Resolution.objects.published().adopted(by=as_of).filter(jurisdiction=OuterRef("pk"))
    jurisdictions = Jurisdiction.objects.filter(Exists(adopted_here), level__in=rules.LOCAL_LEVELS)
    if states is not None:
        jurisdictions = jurisdictions.filter(parent__usps__in=states)
    return list(
        jurisdictions.annotate(
            # The county the map colours: a county's own FIPS, else the county a place lies in.
            map_county=Case(When(level=Level.COUNTY, then=F("fips")), default=F("county__fips"))
        )
        .order_by()
        .values_list("level", "parent__usps", "map_county")
        .annotate(jurisdictions=Count("id"))
    )


def county_index(with_shapes=False, with_territories=False):
    """Every county of the 50 states and DC (and the territories' when asked), in one query.

    Returns ({usps: [fips, ...]}, {fips: population}, {fips: shape}); the shapes
    (half a megabyte in all) only when asked for.
    """
    counties = Jurisdiction.objects.counties().exclude(fips=None).order_by()  # no reader needs an order
    if not with_territories:
        counties = counties.filter(parent__is_territory=False)
    fields = ["parent__usps", "fips", "population"] + (["shape"] if with_shapes else [])
    grouped, population, shapes = {}, {}, {}
    for usps, fips, people, *shape in counties.values_list(*fields):
        grouped.setdefault(usps, []).append(fips)
        if people is not None:
            population[fips] = people
        if shape and shape[0]:
            shapes[fips] = shape[0]
    return grouped, population, shapes


def population_coverage(states, state_status, county_coverage, county_population):
    """People and counties by coverage of the given states (no query: figures are already loaded)."""
    population = dict(county_population)
    population.update({state.fips: state.population for state in states if state.population is not None})
    state_fips = {state.usps: state.fips for state in states}
    return people_rules.population_coverage(state_status, county_coverage, population, state_fips)


@dataclass
class NationalProgress:
    """The national map and its figures, today or (`as_of`) as they stood on a past date."""

    states: list[Region]
    territories: list[Region]
    state_counts: dict
    county_counts: dict  # by colour, for the county map's legend
    local_acted: dict
    federal: list
    latest: list
    timeline: object
    coverage: people_rules.NationalCoverage
    county_regions: list = field(default_factory=list)
    county_table: list = field(default_factory=list)
    as_of: datetime.date | None = None

    @property
    def small_states(self):
        """The states too small to tap on a phone's map, listed as tiles beside it (in `states` order)."""
        return [r for r in self.states if tap_targets.too_small_to_tap(r.jurisdiction.shape_viewbox)]


def _state_regions(states, results):
    return [Region(state, results[state.usps].status, results[state.usps].deciding) for state in states]


class CountyColour(NamedTuple):
    """The counties of one colour in a state on the national county layer, drawn as one path: their
    FIPS codes (space separated) and their outlines joined, both in FIPS order (counties never overlap,
    and a county's holes keep their own winding, so the picture is the same)."""

    status: rules.CountyStatus
    fips: str
    outline: str


@dataclass(frozen=True, slots=True)
class CountyTableRow:
    state: Jurisdiction
    counts: tuple


@dataclass(frozen=True, slots=True)
class StateCounties:
    """A state's counties on the national county layer, a `CountyColour` per colour, strongest first (as
    the legend); the state is the link."""

    region: Region
    colours: list


def _county_layer(state_regions, colours, counts):
    """The national county layer, grouped by state, and its table alternative (no query).

    `colours`: {(state fips, status): (FIPS, outline)} of the counties drawn; `counts`: {(state fips,
    status): counties}, every county, drawn or not (a few have no outline), as the legend counts them.
    """
    groups, table = [], []
    for region in state_regions:
        drawn = [
            CountyColour(status, *colours[(region.fips, status)])
            for status in rules.CountyStatus  # declared strongest first
            if (region.fips, status) in colours
        ]
        if drawn:
            groups.append(StateCounties(region, drawn))
        table.append(
            CountyTableRow(
                region.jurisdiction,
                tuple(counts.get((region.fips, status), 0) for status in rules.CountyStatus),
            )
        )
    return groups, table


def _layer_from_counties(state_regions, county_status, shapes):
    """`_county_layer` from each county's colour ({fips: status}) and outline ({fips: outline})."""
    members, counts = {}, {}
    for fips in sorted(county_status):
        key = (fips[:2], county_status[fips])
        counts[key] = counts.get(key, 0) + 1
        if shapes.get(fips):
            members.setdefault(key, []).append(fips)
    colours = {key: (" ".join(codes), "".join(shapes[c] for c in codes)) for key, codes in members.items()}
    return _county_layer(state_regions, colours, counts)


def _layer_from_groups(state_regions, groups, colour_of):
    """`_county_layer` from the tallies' county groups with their outlines (one colour each, `colour_of`
    gives it)."""
    fips_of = {r.jurisdiction.usps: r.fips for r in state_regions}
    colours, counts = {}, {}
    for usps, county_acted, locality_acted, counties, *_figures, fips, outline in groups:
        key = (fips_of[usps], colour_of[(usps, county_acted, locality_acted)])
        counts[key] = counties
        if fips:
            colours[key] = (fips, outline)
    return _county_layer(state_regions, colours, counts)


def grouped_counties(states, state_status, groups):
    """(counties by colour, `NationalCoverage`, {(usps, county acted, locality acted): colour}) of `states`,
    from their counties grouped by what acted there (`groups`: rows as `tallies.county_groups` gives
    them): the one rule applied once per group rather than per county, the same figures as
    `county_standings` and `population_coverage` give county by county. No query."""
    county_counts = dict.fromkeys(rules.CountyStatus, 0)
    colours, summed = {}, []
    for usps, county_acted, locality_acted, counties, people, with_figure, without, *_outlines in groups:
        status, coverage = rules.county_standing(
            county_acted=county_acted,
            locality_acted=locality_acted,
            state_status=rules.StateStatus(state_status.get(usps, rules.StateStatus.NONE)),
        )
        colours[(usps, county_acted, locality_acted)] = status
        county_counts[status] += counties
        summed.append(people_rules.CountyGroup(usps, coverage, counties, people, with_figure, without))
    coverage = people_rules.population_coverage_of_groups(
        state_status,
        summed,
        {state.fips: state.population for state in states if state.population is not None},
        {state.usps: state.fips for state in states},
    )
    return county_counts, coverage, colours


def national_progress(latest_count=6, with_county_layer=False, as_of=None):
    """Everything `/` shows (7 queries), today or on the past date `as_of` (8: the bills' actions too).

    On a past date every figure comes from what counted then; the bills in Congress are those
    pending or adopted then, each where it stood, and the latest adoptions those made by then.
    Today on PostgreSQL the counties come from the tallies, grouped by what acted there (for the county
    layer, with each group's outlines joined): the rule is applied per group, and each group is a path.
    """
    states = list(
        Jurisdiction.objects.states().only(
            "name", "usps", "fips", "is_territory", "level", "slug", "shape", "shape_viewbox", "population"
        )
    )
    tallied = as_of is None and tallies.kept()  # today's counties, from their tallies
    inputs = status_inputs(as_of, by_county=not tallied)
    results = rules.state_results(inputs.for_states, [s.usps for s in states])
    regions = _state_regions(states, results)
    state_status = {usps: result.status for usps, result in results.items()}
    state_regions = [r for r in regions if not r.jurisdiction.is_territory]
    counted_states = [r.jurisdiction for r in state_regions]
    county_regions, county_table = [], []
    if tallied:
        groups = tallies.county_groups(with_outlines=with_county_layer)
        county_counts, coverage, colour_of = grouped_counties(counted_states, state_status, groups)
        if with_county_layer:
            county_regions, county_table = _layer_from_groups(state_regions, groups, colour_of)
    else:
        fips_by_state, county_population, county_shapes = county_index(with_shapes=with_county_layer)
        standings = rules.county_standings(fips_by_state, state_status, *inputs.acted_counties())
        county_status = {fips: status for fips, (status, _coverage) in standings.items()}
        county_coverage = {fips: coverage for fips, (_status, coverage) in standings.items()}
        county_counts = rules.status_counts(county_status, rules.CountyStatus)
        coverage = population_coverage(counted_states, state_status, county_coverage, county_population)
        if with_county_layer:
            county_regions, county_table = _layer_from_counties(state_regions, county_status, county_shapes)
    return NationalProgress(
        coverage=coverage,
        county_regions=county_regions,
        county_table=county_table,
        states=state_regions,
        territories=[r for r in regions if r.jurisdiction.is_territory],
        state_counts=rules.status_counts({r.fips: r.status for r in state_regions}, rules.StateStatus),
        county_counts=county_counts,
        local_acted=inputs.local_acted_by_level(),
        federal=federal_bills(as_of),
        latest=list(
            Resolution.objects.published()
            .adopted(by=as_of)
            .exclude(adopted_on=None)
            .with_jurisdiction()
            .order_by("-adopted_on", "-id")[:latest_count]
        ),
        timeline=adoption_timeline(as_of),
        as_of=as_of,
    )


def federal_bills(as_of=None):
    """The bills in Congress, pending first (1 query; 2 on a past date, with the actions up to it).

    On a past date, the bills pending or adopted then, each with `then`: where it stood that day.
    """
    published = Resolution.objects.published()
    bills, status_field = (
        (published, "status") if as_of is None else (published.counting_on(as_of), "status_then")
    )
    bills = list(
        bills.filter(jurisdiction__level=Level.NATION)
        .with_jurisdiction()  # each bill's stage in words names its chambers and checks its session
        .order_by(
            Case(When(**{status_field: Status.INTRODUCED}, then=Value(0)), default=Value(1)),  # pending first
            F("introduced_on").desc(nulls_last=True),
            "title",
        )
    )
    if as_of is not None:
        # One query whether or not any bill counted then, so the page's count stays fixed.
        steps = {}
        federal_actions = Action.objects.published().filter(
            resolution__jurisdiction__level=Level.NATION, on__lte=as_of
        )
        for action in federal_actions.order_by("pk"):
            steps.setdefault(action.resolution_id, []).append(action)
        for bill in bills:
            bill.then = standing_then(bill, as_of, steps.get(bill.pk, ()))
    return bills


def standing_then(resolution, as_of, actions):
    """Where a measure counted on `as_of` stood that day, in words (no query; `status_then` annotated):
    "adopted April 18, 2022", "passed the Senate, September 2025; in the House", "introduced, 2019"."""
    if resolution.status_then == Status.ADOPTED:
        return f"adopted {stages.display_date(resolution.adopted_on, resolution.adopted_on_precision)}"
    usps = _state_usps(resolution)
    reached = stages.progress(
        past.steps_by(as_of, [action.step for action in actions]),
        status=stages.INTRODUCED,
        level=resolution.jurisdiction.level,
        kind=resolution.kind,
        unicameral=usps in stages.UNICAMERAL,
    )
    latest = reached.latest or stages.Step(
        resolution.introduced_on, resolution.introduced_on_precision, stages.Classification.INTRODUCTION
    )
    return stages.summary(
        stages.Progress(reached.stage, reached.chambers_passed, latest),
        state=usps,
        one_body=stages.is_one_body(resolution.jurisdiction.level, resolution.kind),
    )


def first_recorded_year():
    """The year of the earliest introduction or adoption of a published measure; None without one (1 query)."""
    # PostgreSQL reads each minimum from one end of a partial index on published measures.
    earliest = Resolution.objects.published().aggregate(Min("introduced_on"), Min("adopted_on"))
    known = [day for day in earliest.values() if day is not None]
    return min(known).year if known else None


def year_ends():
    """The end of each year since the first recorded measure, as far as today (1 query): the map's past."""
    return past.year_ends(first_recorded_year(), timezone.localdate())


def adoption_counts(as_of=None):
    """{("state" or "local", year): adopted, published measures with a known date} (one aggregate query);
    with `as_of`, those adopted on or before that day.

    Only years with a measure appear: federal measures are not counted, so a year
    with nothing but a federal one is absent, not zero.
    """
    if as_of is None and tallies.kept():
        return tallies.adoptions_by_year()
    # Levels through small id subqueries rather than a join: the count is then an index-only scan of
    # `resolution_adopted_published`, never a join over every adopted resolution.
    state_ids = Jurisdiction.objects.filter(level=Level.STATE).values("pk")
    local_ids = Jurisdiction.objects.filter(level__in=rules.LOCAL_LEVELS).values("pk")
    rows = (
        Resolution.objects.published()
        .adopted(by=as_of)
        .exclude(adopted_on=None)
        .annotate(year=ExtractYear("adopted_on"))
        .values_list("year")
        .annotate(
            state=Count("jurisdiction", filter=Q(jurisdiction__in=state_ids)),
            local=Count("jurisdiction", filter=Q(jurisdiction__in=local_ids)),
        )
        .order_by()
    )
    counts = {}
    for year, state, local in rows:
        counts.update({(series, year): n for series, n in (("state", state), ("local", local)) if n})
    return counts


def adoption_timeline(as_of=None):
    """Cumulative adopted measures by year, state-level and local apart (one query), up to `as_of` when
    given. Each year's column leads to the map at that year's end (today's map for a year not over)."""
    timeline = cumulative_timeline(
        adoption_counts(as_of),
        {"state": "State laws and resolutions", "local": "County and city actions"},
        until_year=as_of.year if as_of else None,
    )
    if timeline is not None:
        today = timezone.localdate()
        for column in timeline.columns:
            column.as_of = past.year_end(column.year, today)
    return timeline


@dataclass
class StateProgress:
    """A state's map, figures and lists, today or (`as_of`) as they stood on a past date."""

    state: Jurisdiction
    status: rules.StateStatus
    deciding: tuple
    counties: list[Region]
    county_counts: dict  # by colour, for the legend
    state_measures: list
    local_measures: list
    coverage: people_rules.StateCoverage  # people is None for territories (no census figures)
    more_state_measures: bool = False
    more_local_measures: bool = False
    as_of: datetime.date | None = None

    @property
    def named_laws(self):
        """The laws that make it a law state: the first few, and how many more (the list has them all)."""
        return Capped.of(self.deciding)

    @property
    def laws_url(self):
        return adopted_measures_url(self.state, rules.LAW_KINDS, self.as_of)

    def counties_sorted(self, key):
        """The county table's rows, by name (default) or by population, largest first."""
        if key == "population":
            return sorted(
                self.counties,
                key=lambda r: (r.jurisdiction.population is None, -(r.jurisdiction.population or 0)),
            )
        return self.counties


def state_progress(state, as_of=None):
    """A state's map and lists (six queries), today or on the past date `as_of`.

    On a past date the lists hold the measures that counted then (adopted by then, or pending
    that day), each with `then`: where it stood that day.
    """
    counties = list(
        Jurisdiction.objects.counties()
        .filter(parent=state)
        .only("level", "parent", "name", "slug", "fips", "shape", "population")
    )
    # The counties' own measures are listed below, not named per county on the map.
    measures = deciding_measures([state.usps], as_of)
    result = rules.state_results(measures, [state.usps])[state.usps]
    fips_list = [c.fips for c in counties if c.fips]
    county_results = rules.county_results(measures, {state.usps: fips_list}, {state.usps: result.status})
    regions = []
    for county in counties:
        county.parent = state  # every county here is in this state: no query per get_absolute_url
        county_result = county_results.get(county.fips) or rules.CountyResult(
            *rules.county_standing(county_acted=False, locality_acted=False, state_status=result.status)
        )
        regions.append(Region(county, county_result.status, county_result.deciding, county_result.coverage))
    # The page shows the most recent measures, each with its stage bar; the filtered list has all of them.
    listed = (
        Resolution.objects.published() if as_of is None else Resolution.objects.published().counting_on(as_of)
    )
    state_measures = list(
        listed.filter(jurisdiction=state)
        .select_related("session")
        .prefetch_related("actions")
        .order_by(F("adopted_on").desc(nulls_last=True), "-introduced_on", "pk")[: STATE_PAGE_LIMIT + 1]
    )
    for measure in state_measures:
        measure.jurisdiction = state  # the chambers' names: no query per measure
        if as_of is not None:
            measure.then = standing_then(measure, as_of, measure.actions.all())
    local_measures = list(
        listed.in_state(state.usps)
        .exclude(jurisdiction=state)
        .with_jurisdiction(parent=False)  # their state is this one, set below: not joined again per row
        .order_by(F("adopted_on").desc(nulls_last=True), "jurisdiction__name", "pk")[: STATE_PAGE_LIMIT + 1]
    )
    for measure in local_measures:
        if measure.jurisdiction.parent_id == state.pk:
            measure.jurisdiction.parent = state
    county_coverage = {r.fips: r.coverage for r in regions if r.fips}
    county_population = {c.fips: c.population for c in counties if c.fips and c.population is not None}
    # A territory has no census figure here: its counties are still counted, its people are not.
    coverage = population_coverage(
        [state], {state.usps: result.status}, county_coverage, county_population
    ).states[state.usps]
    return StateProgress(
        more_state_measures=len(state_measures) > STATE_PAGE_LIMIT,
        more_local_measures=len(local_measures) > STATE_PAGE_LIMIT,
        coverage=coverage,
        state=state,
        status=result.status,
        deciding=result.deciding,
        counties=regions,
        county_counts=rules.status_counts([r.status for r in regions], rules.CountyStatus),
        state_measures=state_measures[:STATE_PAGE_LIMIT],
        local_measures=local_measures[:STATE_PAGE_LIMIT],
        as_of=as_of,
    )


def padded_viewbox(viewbox, padding=0.03):
    """A state's bounding box with a little room around it, for a cropped county map."""
    if not viewbox:
        return "0 0 975 610"
    x, y, w, h = (float(part) for part in viewbox.split())
    pad = max(w, h) * padding
    return f"{x - pad:.1f} {y - pad:.1f} {w + 2 * pad:.1f} {h + 2 * pad:.1f}"


@dataclass(frozen=True)
class Standing:
    """Where a county, city or district stands, and the adopted measures that say so.

    `coverage` and `status` come from the one county rule. For a city or
    district, its own measure or its county's counts as its own: either covers
    all of its people.
    """

    coverage: rules.Coverage
    status: rules.CountyStatus
    own: list  # its own adopted measures
    county: list  # for a city or district: its county's adopted measures
    localities: list  # for a county: adopted measures of the cities and districts in it
    state_laws: list
    state_resolutions: list

    @property
    def named(self):
        """Each list, its first few named and the rest counted: a page names a few in a line."""
        return {
            name: Capped.of(getattr(self, name)) for name in ("county", "state_laws", "state_resolutions")
        }


def adopted_measures_url(state, kinds, as_of=None):
    """The list of a state's own adopted measures of these kinds (adopted by `as_of`, when given): where a
    line naming a few of them leads for the rest."""
    query = [("state", state.usps), ("level", Level.STATE), ("status", Status.ADOPTED)]
    query += [("kind", kind) for kind in sorted(kinds)]
    if as_of is not None:
        query.append(("adopted_before", as_of.isoformat()))
    return f"{reverse('recognition:resolution_list')}?{urlencode(query)}"


def _state_status(state, adopted_state_measures):
    """The state's status from its adopted measures alone: enough to tell a law from a resolution."""
    measures = [
        rules.Measure(r.pk, rules.STATE, state.usps, None, r.kind, r.status, r.published)
        for r in adopted_state_measures
    ]
    return rules.state_results(measures, [state.usps])[state.usps].status


def jurisdiction_standing(jurisdiction, own):
    """Where a county, place or district stands, from its own published measures `own` (≤ 2 queries).

    Returns (its state, its Standing, its state's status): what its page, its one sentence and
    its share card say.
    """
    state = jurisdiction.state
    # Its state's adopted measures and, for a city or district, its county's: one query.
    above = [state.pk] + ([jurisdiction.county_id] if jurisdiction.county_id else [])
    covering = list(
        Resolution.objects.published()
        .adopted()
        .filter(jurisdiction__in=above)
        .with_jurisdiction()
        # Newest first, the same on every database: a page names the first few.
        .order_by("jurisdiction__level", F("adopted_on").desc(nulls_last=True), "-pk")
    )
    from_state = [r for r in covering if r.jurisdiction_id == state.pk]
    county = [r for r in covering if r.jurisdiction_id != state.pk]
    localities = []
    if jurisdiction.level == Level.COUNTY:
        localities = list(
            Resolution.objects.published()
            .adopted()
            .filter(jurisdiction__county=jurisdiction)
            .with_jurisdiction()
            .order_by("jurisdiction__name", "-adopted_on")
        )
    adopted_own = [r for r in own if r.status == Status.ADOPTED]
    state_status = _state_status(state, from_state)
    status, coverage = rules.county_standing(
        county_acted=bool(adopted_own or county),
        locality_acted=bool(localities),
        state_status=state_status,
    )
    standing = Standing(
        coverage=coverage,
        status=status,
        own=adopted_own,
        county=county,
        localities=localities,
        state_laws=[r for r in from_state if r.kind in rules.LAW_KINDS],
        state_resolutions=[r for r in from_state if r.kind in rules.RESOLUTION_KINDS],
    )
    return state, standing, state_status


def jurisdiction_progress(jurisdiction):
    """A county, place, district or the nation: its measures, where it stands and why (≤ 5 queries)."""
    own = list(
        jurisdiction.resolutions.published()
        .select_related("session")
        .prefetch_related("actions")  # each measure's stage bar
        .order_by("-adopted_on", "-introduced_on", "title")
    )
    context = {
        "jurisdiction": jurisdiction,
        "resolutions": own,
        "standing": None,
        "state": None,
        "next_steps": None,
        "neighbors": None,
        "places": None,
        "locator_viewbox": None,
    }
    if jurisdiction.level not in rules.LOCAL_LEVELS:
        return context
    state, standing, state_status = jurisdiction_standing(jurisdiction, own)
    context["state"], context["standing"] = state, standing
    # Where the lines that name a few of the state's measures lead for the rest.
    context["state_laws_url"] = adopted_measures_url(state, rules.LAW_KINDS)
    context["state_resolutions_url"] = adopted_measures_url(state, rules.RESOLUTION_KINDS)
    adopted_own, county = standing.own, standing.county
    recognized_here = bool(adopted_own or county)
    pending_here, pending_in_congress = pending_bills(state)
    context["next_steps"] = NextSteps(
        place=jurisdiction,
        state=state,
        asks=next_steps.asks(
            level=jurisdiction.level,
            state_status=state_status,
            recognized_here=recognized_here,
            one_government=state.usps == ONE_GOVERNMENT,
        ),
        body=next_steps.governing_body(jurisdiction.level, jurisdiction.name),
        state_laws=standing.state_laws,
        state_resolutions=standing.state_resolutions,
        state_bills=pending_here,
        federal_bills=pending_in_congress,
    )
    if jurisdiction.level == Level.COUNTY:
        context["neighbors"] = neighbors = neighboring_counties(jurisdiction)
        context["places"] = places_in(jurisdiction)
        context["locator_viewbox"] = _locator_viewbox(jurisdiction, state, neighbors)
    return context


# The District of Columbia: its council is both its local government and its legislature.
ONE_GOVERNMENT = "DC"


def _locator_viewbox(county, state, neighbors):
    """The state and every neighbor in view (a neighbor across the state line is not cropped away)."""
    boxes = [
        [float(part) for part in viewbox.split()]
        for viewbox in [state.shape_viewbox, county.shape_viewbox]
        + [r.jurisdiction.shape_viewbox for r in neighbors.regions]
        if viewbox
    ]
    if not boxes:
        return padded_viewbox("")
    left = min(x for x, _y, _w, _h in boxes)
    top = min(y for _x, y, _w, _h in boxes)
    right = max(x + w for x, _y, w, _h in boxes)
    bottom = max(y + h for _x, y, _w, h in boxes)
    return padded_viewbox(f"{left} {top} {right - left} {bottom - top}")


@dataclass(frozen=True)
class NextSteps:
    """ "What you can do here": the asks from the one rule, with the bills a visitor can name."""

    place: Jurisdiction
    state: Jurisdiction
    asks: tuple
    state_laws: list  # adopted: what to thank the state for
    state_resolutions: list  # adopted, but not a law: why the legislature is still asked
    state_bills: list  # pending before the state's legislature
    federal_bills: list  # pending in Congress
    body: str = ""  # whom a local resolution is asked of

    @property
    def voting_members(self):
        """Whether the place elects voting members of Congress (DC and the territories elect a delegate)."""
        return not (self.state.usps == ONE_GOVERNMENT or self.state.is_territory)


@dataclass(frozen=True)
class Neighbors:
    """The counties sharing a border with one county, each with its status from the one county rule."""

    regions: list

    @property
    def recognized(self):
        """Covered by its own measure or by a state law: the counties that "have recognized" dispatchers."""
        return sum(1 for r in self.regions if r.coverage == rules.Coverage.COVERED)

    @property
    def in_words(self):
        return next_steps.neighbors_in_words(self.recognized, len(self.regions))


def neighboring_counties(county):
    """A county's neighbors, across state lines, with their map status (3 queries; none without neighbors)."""
    counties = list(
        county.neighbors.select_related("parent")
        .only(
            "level",
            "name",
            "slug",
            "fips",
            "population",
            "shape",
            "shape_viewbox",
            "parent__name",
            "parent__usps",
            "parent__level",
        )
        .order_by("name")
    )
    counties.sort(key=lambda c: c.parent_id != county.parent_id)  # its own state's first, each by name
    if not counties:
        return Neighbors([])
    codes = sorted({c.parent.usps for c in counties})
    measures = deciding_measures(codes)  # a state holds thousands of local measures; no neighbor names one
    state_status = {usps: result.status for usps, result in rules.state_results(measures, codes).items()}
    fips_by_state = {}
    for c in counties:
        fips_by_state.setdefault(c.parent.usps, []).append(c.fips)
    results = rules.county_results(measures, fips_by_state, state_status)
    # No deciding measures: a neighbor names none, and its local ones are stand-ins here.
    return Neighbors([Region(c, results[c.fips].status, (), results[c.fips].coverage) for c in counties])


def places_in(county):
    """The cities, towns and 911 districts recorded in a county, each with its published measures (2 queries)."""
    return list(
        Jurisdiction.objects.filter(county=county, level__in=[Level.PLACE, Level.DISTRICT])
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "resolutions",
                queryset=Resolution.objects.published()
                .select_related("session")
                .order_by(F("adopted_on").desc(nulls_last=True), "-introduced_on", "pk"),
                to_attr="published_measures",
            )
        )
        .order_by("name")
    )


def state_next_steps(state_progress):
    """ "What you can do here" on a state page (1 query: the bills pending in its legislature and Congress)."""
    state = state_progress.state
    pending_here, pending_in_congress = pending_bills(state)
    laws = [
        r for r in state_progress.state_measures if r.status == Status.ADOPTED and r.kind in rules.LAW_KINDS
    ]
    return NextSteps(
        place=state,
        state=state,
        asks=next_steps.asks(level=Level.STATE, state_status=state_progress.status),
        state_laws=laws,
        state_resolutions=[
            r
            for r in state_progress.state_measures
            if r.status == Status.ADOPTED and r.kind in rules.RESOLUTION_KINDS
        ],
        state_bills=pending_here,
        federal_bills=pending_in_congress,
    )


# --- A measure's stage bar and its actions (no query: the actions come prefetched) --------------------


@dataclass(frozen=True, slots=True)
class BarStep:
    """One step of a measure's stage bar: done, the current one, or still ahead."""

    name: str
    state: str  # "done", "current" or "ahead"
    date: PartialDate | None = None
    ending: bool = False  # a veto, failure or withdrawal: where and how the measure stopped

    @property
    def current(self):
        return self.state == "current"


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One action as the measure page lists it."""

    action: object  # models.Action
    chamber: str  # "Senate", "House", "Assembly", "Governor", "President"; "" when no chamber acted
    source_host: str  # "congress.gov": what the source link says


_CLASSIFICATION = stages.Classification
# The bar's step for each stage (a chamber's passage is that chamber's step).
_STEP_OF_STAGE = {
    stages.Stage.INTRODUCED: "introduced",
    stages.Stage.IN_COMMITTEE: "in_committee",
    stages.Stage.PASSED_COMMITTEE: "passed_committee",
    stages.Stage.PASSED_BOTH: "passed_both",  # the second chamber's step, or a one-chamber legislature's
    stages.Stage.ADOPTED: "adopted",
    stages.Stage.IN_FORCE: "in_force",
}
# Kinds that take effect as law: their bar ends with "In force" even before it is recorded.
_IN_FORCE_KINDS = {Kind.STATUTE, Kind.BILL, Kind.ORDINANCE, Kind.EXECUTIVE_ORDER}


def _state_usps(resolution):
    """The measure's state, for the names of its chambers; None for a federal measure."""
    state = resolution.jurisdiction.state
    return state.usps if state else None


def _chamber(chamber, usps):
    """ "Senate", "Assembly", "Governor": a chamber's name on its own."""
    return stages.chamber_name(chamber, usps).removeprefix("the ")


def _origin_chamber(resolution, ordered, reached):
    """The chamber that passes (or would pass) a bill first.

    The first passage says; else the one chamber that passed it; else where it was introduced
    or referred; else its number, by the usual convention (S. 725, SB 436 start in the Senate).
    """
    chambers = (stages.LOWER, stages.UPPER)
    for step in ordered:
        if step.classification == _CLASSIFICATION.PASSAGE and step.chamber in chambers:
            return step.chamber
    if reached in (stages.Stage.PASSED_LOWER, stages.Stage.PASSED_UPPER):
        return stages.UPPER if reached is stages.Stage.PASSED_UPPER else stages.LOWER
    for step in ordered:
        if step.chamber in chambers:
            return step.chamber
    return stages.UPPER if resolution.identifier.strip().upper().startswith("S") else stages.LOWER


def _reached(resolution, ordered, usps):
    """How far the measure went, and the action that ended it (None when it did not end, or no action says).

    The stage as of today (in force once the effective date has come), except that an ended
    measure is shown where it stopped.
    """
    stage = resolution.current_stage
    if not stage.ended:
        return stage, None
    endings = (_CLASSIFICATION.EXECUTIVE_VETO, _CLASSIFICATION.FAILURE, _CLASSIFICATION.WITHDRAWAL)
    before = stages.progress(
        [step for step in ordered if step.classification not in endings],
        status=stages.INTRODUCED,
        level=resolution.jurisdiction.level,
        kind=resolution.kind,
        unicameral=usps in stages.UNICAMERAL,
    )
    return before.stage, next((step for step in reversed(ordered) if step.classification in endings), None)


def _bar_plan(resolution, ordered, usps, reached):
    """[(key, name, date)]: every step that applies to the measure, dated by the first action that reached it."""

    def first(*classifications, chamber=None):
        matching = (
            s for s in ordered if s.classification in classifications and chamber in (None, s.chamber)
        )
        step = next(matching, None)
        return PartialDate.from_stored(step.on, step.precision) if step else None

    kind, passage = resolution.kind, _CLASSIFICATION.PASSAGE
    plan = [("introduced", "Introduced", first(_CLASSIFICATION.INTRODUCTION) or resolution.introduced)]
    committee = [
        ("in_committee", "In committee", first(_CLASSIFICATION.REFERRAL_COMMITTEE)),
        ("passed_committee", "Passed committee", first(_CLASSIFICATION.COMMITTEE_PASSAGE)),
    ]
    if stages.is_one_body(resolution.jurisdiction.level, kind):
        if reached in (stages.Stage.IN_COMMITTEE, stages.Stage.PASSED_COMMITTEE) or any(
            d for *_, d in committee
        ):
            plan += committee  # a council that sent it to a committee
        plan.append(("adopted", "Adopted", first(passage, _CLASSIFICATION.EXECUTIVE_SIGNATURE)))
    else:
        plan += committee
        if usps in stages.UNICAMERAL:
            plan.append(("passed_both", f"Passed the {stages.UNICAMERAL[usps]}", first(passage)))
        else:
            one = _origin_chamber(resolution, ordered, reached)
            other = stages.UPPER if one == stages.LOWER else stages.LOWER
            # A passage naming no chamber ("passed the General Assembly") completes the legislature's part.
            both = first(passage, chamber=other) or first(passage, chamber="")
            plan.append(
                (f"passed_{one}", f"Passed {stages.chamber_name(one, usps)}", first(passage, chamber=one))
            )
            plan.append(("passed_both", f"Passed {stages.chamber_name(other, usps)}", both))
        signed = "Signed" if kind in (Kind.BILL, Kind.STATUTE) else "Adopted"
        plan.append(("adopted", signed, first(_CLASSIFICATION.EXECUTIVE_SIGNATURE)))
    became_law = first(_CLASSIFICATION.BECAME_LAW)
    if kind in _IN_FORCE_KINDS or became_law or resolution.effective or reached is stages.Stage.IN_FORCE:
        plan.append(("in_force", "In force", became_law or resolution.effective))
    return plan


def _current_index(keys, reached):
    if reached in (stages.Stage.PASSED_LOWER, stages.Stage.PASSED_UPPER):
        wanted = f"passed_{stages.UPPER if reached is stages.Stage.PASSED_UPPER else stages.LOWER}"
    else:
        wanted = _STEP_OF_STAGE[reached]
    # A stage the bar has no step for (a stored stage out of step with the jurisdiction): the nearest.
    return keys.index(next(key for key in (wanted, "passed_both", "adopted", "introduced") if key in keys))


def stage_bar(resolution, actions):
    """The steps of `resolution`'s stage bar (`BarStep`s), from its actions (`Action`s) and stored stage.

    A bill of a legislature: introduced, in committee, passed committee, passed one chamber
    and then the other (named), signed (adopted, for a resolution) and, for a law, in force;
    a measure of one body: introduced, adopted and, for a law, in force. An ended measure
    keeps the steps it reached and ends with its veto, failure or withdrawal.
    """
    ordered = stages.chronological(action.step for action in actions)
    usps = _state_usps(resolution)
    stage = stages.Stage(resolution.stage)
    reached, ending = _reached(resolution, ordered, usps)
    plan = _bar_plan(resolution, ordered, usps, reached)
    current = _current_index([key for key, _name, _date in plan], reached)
    # A measure recorded as adopted without its actions is dated by its adoption.
    adoption = {"adopted": resolution.adopted} if resolution.status == Status.ADOPTED else {}
    steps = []
    # Steps the record's dates or actions show; the ones before the last of them are implied by it.
    last_shown = max((index for index, (_key, _name, date) in enumerate(plan) if date), default=0)
    for index, (key, name, date) in enumerate(plan):
        if last_shown < index < current and not (date or adoption.get(key)):
            continue  # implied by the status alone (adopted, no action recorded): not drawn as if known
        if index < current or (index == current and stage.ended):
            steps.append(BarStep(name, "done", date or adoption.get(key)))
        elif index == current:
            steps.append(BarStep(name, "current", date or adoption.get(key)))
        elif not stage.ended:
            steps.append(BarStep(name, "ahead", date))  # dated only when known ahead: a future effective date
    if stage.ended:
        on = PartialDate.from_stored(ending.on, ending.precision) if ending else None
        steps.append(BarStep(stage.label, "current", on, ending=True))
    return steps


def measure_actions(resolution, actions):
    """A measure's actions in the order the stage rules read them, with their chamber and source named."""
    usps = _state_usps(resolution)
    ordered = sorted(actions, key=lambda action: action.step.sort_key)
    return [
        ActionRow(
            action, _chamber(action.chamber, usps), urlsplit(action.source_url).netloc.removeprefix("www.")
        )
        for action in ordered
    ]


# --- What a place can ask for next -----------------------------------------------------------------


_NEWEST_ACTION_FIRST = (
    F("latest_action_on").desc(nulls_last=True),
    F("introduced_on").desc(nulls_last=True),
    "pk",
)


def pending_bills(state):
    """(the measures pending before this state's legislature, those pending in Congress), each newest first
    (1 query: a state hangs below the nation, so both are read by jurisdiction, with no join to find them).

    Pending: introduced, and not past the end of its session (a bill whose session is over is not
    called pending on any page until staff record its outcome).
    """
    bills = list(
        Resolution.objects.published()
        .pending()
        .filter(jurisdiction_id__in=[state.pk, state.parent_id])
        .with_jurisdiction(parent=False)  # the state or the nation: neither's chambers need a parent
        .order_by(*_NEWEST_ACTION_FIRST)
    )
    return (
        [bill for bill in bills if bill.jurisdiction_id == state.pk],
        [bill for bill in bills if bill.jurisdiction.level == Level.NATION],
    )


def pending_federal_bills():
    """The bills pending in Congress (1 query; the nation is found in the same query)."""
    return list(
        Resolution.objects.published()
        .pending()
        .filter(jurisdiction__level=Level.NATION)
        .with_jurisdiction()
        .order_by(*_NEWEST_ACTION_FIRST)
    )


# --- A one-page fact sheet ----------------------------------------------------------------------------

FACT_SHEET_SOURCES = 8  # sources printed; the page online lists every one


@dataclass(frozen=True)
class Capped:
    """The first few of a list, and how many more: what a line names (and what keeps a printed sheet to one
    page)."""

    shown: list
    more: int

    @classmethod
    def of(cls, items, limit=NAMED_IN_A_LINE):
        items = list(items)
        return cls(items[:limit], max(len(items) - limit, 0))


@functools.cache
def _state_borders():
    """{state FIPS: neighboring states' FIPS}, read once per process off the states topology."""
    topology = json.loads(STATES_ATLAS.read_text(encoding="utf-8"))
    borders = {}
    for a, b in shared_borders(topology, "states"):
        borders.setdefault(a, set()).add(b)
        borders.setdefault(b, set()).add(a)
    return borders


def neighboring_states(state):
    """The states sharing a border with this one, with their status (2 queries; none for an island)."""
    fips = sorted(_state_borders().get(state.fips, ()))
    states = list(Jurisdiction.objects.states().filter(fips__in=fips).order_by("name"))
    if not states:
        return []
    codes = [s.usps for s in states]
    # Local measures too: a state where only a county acted is "local action only", not "no recognition".
    measures = counted_measures(Resolution.objects.published().in_states(codes))
    results = rules.state_results(measures, codes)
    return [Region(s, results[s.usps].status, results[s.usps].deciding) for s in states]


@dataclass(frozen=True)
class FactSheet:
    """What one printed page says about a county (or city) or a state; every figure from the page rules.

    Every list is capped (`Capped`), so no amount of data pushes the sheet onto a second page.
    """

    place: Jurisdiction
    state: Jurisdiction
    state_progress: StateProgress
    next_steps: NextSteps
    federal_bills: Capped
    state_bills: Capped
    state_deciding: Capped  # the measures that decide the state's status (by the state itself)
    sources: Capped
    standing: Standing | None = None  # a county, city or district
    own: Capped | None = None  # its own adopted measures
    county_measures: Capped | None = None  # a city's or district's county's
    localities: Capped | None = None  # a county's cities and districts that acted
    neighbors: object = None  # Neighbors for a county, a list of Regions for a state


def _sources(measures):
    """The sources of these measures, in their order (1 query): what a fact sheet cites."""
    order = {m.pk: index for index, m in enumerate(measures)}
    sources = list(
        Source.objects.filter(resolution__in=order).select_related("resolution", "resolution__jurisdiction")
    )
    sources.sort(key=lambda s: (order[s.resolution_id], s.pk))
    return Capped.of(sources, FACT_SHEET_SOURCES)


def _state_deciding(state_page):
    """The state's own measures behind a law or resolution status, as its page names them: the first few of
    the measures that decide it (the page's listed records), and how many more (a status of local action
    names none)."""
    if state_page.status not in (rules.StateStatus.LAW, rules.StateStatus.RESOLUTION):
        return Capped([], 0)
    named = Capped.of(state_page.deciding)
    listed = {r.pk: r for r in state_page.state_measures}  # the newest: they hold the first few
    shown = [listed[m.id] for m in named.shown if m.id in listed]
    return Capped(shown, len(state_page.deciding) - len(shown))


def fact_sheet(place):
    """A county's, city's or state's fact sheet (about 20 queries; the page is cached like the others)."""
    if place.level == Level.STATE:
        state, standing = place, None
        state_page = state_progress(state)
        steps = state_next_steps(state_page)
        local = {"neighbors": neighboring_states(state)}
    else:
        context = jurisdiction_progress(place)
        state, standing, steps = context["state"], context["standing"], context["next_steps"]
        state_page = state_progress(state)
        local = {
            "standing": standing,
            "own": Capped.of(standing.own),
            "county_measures": Capped.of(standing.county),
            "localities": Capped.of(standing.localities),
            "neighbors": context["neighbors"],
        }
    deciding = _state_deciding(state_page)
    named = [standing.own, standing.county, standing.localities] if standing else []
    # What the sheet names, in the order it names them: those are what it cites.
    cited = [
        r
        for measures in [*named, deciding.shown, steps.state_bills, steps.federal_bills]
        for r in measures[:NAMED_IN_A_LINE]
    ]
    return FactSheet(
        place=place,
        state=state,
        state_progress=state_page,
        next_steps=steps,
        federal_bills=Capped.of(steps.federal_bills),
        state_bills=Capped.of(steps.state_bills),
        state_deciding=deciding,
        sources=_sources(list(dict.fromkeys(cited))),
        **local,
    )
