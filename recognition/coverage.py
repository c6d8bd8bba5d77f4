"""People covered: the counties' standings (the one coverage rule) added up, per state and nationally.

Pure arithmetic, no Django. Every part is a sum over counties: a county's
people go to the part its coverage names, so the parts of a state add up to the
state and the states to the nation. The people no county figure accounts for
(Connecticut's counties changed after the map was drawn)
are a state's remainder: they follow the state-wide rule (covered under a law,
"state resolution only" under a resolution, else not covered) and are never
split between counties by guesswork.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .status import Coverage, StateStatus

# The estimates the site uses (recognition/data/census/, loaded by `manage.py load_population`).
POPULATION_YEAR = 2022
POPULATION_SOURCE = "U.S. Census Bureau, Vintage 2022 estimates"


def _share(part: int, whole: int | None) -> float:
    """part / whole, between 0 and 1; 0.0 when the whole is unknown or zero."""
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class People:
    """People by coverage, with `under_law` (a part of `covered`) alongside.

    `total` is what the parts add up to: covered + partly + resolution + none.
    """

    total: int = 0
    under_law: int = 0
    covered: int = 0
    partly: int = 0
    resolution: int = 0

    @property
    def none(self) -> int:
        return self.total - self.covered - self.partly - self.resolution

    def share(self, part: str) -> float:
        return _share(getattr(self, part), self.total)

    @property
    def under_law_share(self) -> float:
        return self.share("under_law")

    @property
    def covered_share(self) -> float:
        return self.share("covered")

    @property
    def partly_share(self) -> float:
        return self.share("partly")

    @property
    def resolution_share(self) -> float:
        return self.share("resolution")

    @property
    def none_share(self) -> float:
        return self.share("none")

    def __add__(self, other: "People") -> "People":
        return People(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self):
        return (self.total, self.under_law, self.covered, self.partly, self.resolution)


def _counts() -> dict[Coverage, int]:
    return dict.fromkeys(Coverage, 0)


@dataclass(frozen=True, slots=True)
class StateCoverage:
    """A state's people and counties by coverage.

    `people` is None when the state's own figure is unknown (a territory): then
    the state adds no people to the nation's. `counties` counts the state's
    counties by coverage whatever the figures. `remainder` is the state's
    figure minus its counties' figures (people in counties without a figure),
    counted under the state-wide rule.
    """

    usps: str
    fips: str
    status: StateStatus
    population: int | None
    people: People | None
    counties: dict[Coverage, int] = field(default_factory=_counts)
    counties_population: int = 0
    counties_with_figure: int = 0
    counties_without_figure: tuple[str, ...] = ()  # county FIPS codes, sorted
    acted_without_figure: tuple[str, ...] = ()  # counties with some coverage but no figure, sorted
    year: int = POPULATION_YEAR
    source: str = POPULATION_SOURCE

    @property
    def remainder(self) -> int | None:
        return None if self.population is None else self.population - self.counties_population

    @property
    def counties_total(self) -> int:
        return sum(self.counties.values())


@dataclass(frozen=True, slots=True)
class NationalCoverage:
    """The 50 states and DC (whatever `state_fips` listed), added up."""

    people: People
    counties: dict[Coverage, int]
    states: dict[str, StateCoverage]  # by USPS code, in the order given
    states_without_figure: tuple[str, ...] = ()  # USPS codes
    year: int = POPULATION_YEAR
    source: str = POPULATION_SOURCE

    @property
    def counties_total(self) -> int:
        return sum(self.counties.values())


def _statewide(status: StateStatus) -> Coverage:
    """The coverage of a state's people that no county figure accounts for."""
    if status == StateStatus.LAW:
        return Coverage.COVERED
    if status == StateStatus.RESOLUTION:
        return Coverage.RESOLUTION
    return Coverage.NONE


class _Sums:
    """Running sums over one state's counties."""

    __slots__ = ("people", "counties", "known", "with_figure", "without_figure", "acted_without_figure")

    def __init__(self):
        self.people = _counts()
        self.counties = _counts()
        self.known = self.with_figure = 0
        self.without_figure: list[str] = []
        self.acted_without_figure: list[str] = []

    def add_group(self, group: "CountyGroup") -> None:
        self.counties[group.coverage] += group.counties
        self.people[group.coverage] += group.people
        self.known += group.people
        self.with_figure += group.with_figure
        self.without_figure.extend(group.without_figure)
        if group.coverage != Coverage.NONE:
            self.acted_without_figure.extend(group.without_figure)

    def add(self, fips: str, coverage: Coverage, people: int | None) -> None:
        self.counties[coverage] += 1
        if people is None:
            self.without_figure.append(fips)
            if coverage != Coverage.NONE:
                self.acted_without_figure.append(fips)
            return
        self.people[coverage] += people
        self.known += people
        self.with_figure += 1

    def state(self, usps: str, fips: str, status: StateStatus, population: int | None) -> StateCoverage:
        people = None
        if population is not None:
            parts = dict(self.people)
            parts[_statewide(status)] += max(population - self.known, 0)
            people = People(
                total=population,
                under_law=population if status == StateStatus.LAW else 0,
                covered=parts[Coverage.COVERED],
                partly=parts[Coverage.PARTLY],
                resolution=parts[Coverage.RESOLUTION],
            )
        return StateCoverage(
            usps,
            fips,
            status,
            population,
            people,
            counties=dict(self.counties),
            counties_population=self.known,
            counties_with_figure=self.with_figure,
            counties_without_figure=tuple(sorted(self.without_figure)),
            acted_without_figure=tuple(sorted(self.acted_without_figure)),
        )


def population_coverage(
    state_status: Mapping[str, StateStatus | str],
    county_coverage: Mapping[str, Coverage | str],
    population: Mapping[str, int | None],
    state_fips: Mapping[str, str],
    *,
    year: int = POPULATION_YEAR,
    source: str = POPULATION_SOURCE,
) -> NationalCoverage:
    """People and counties by coverage, nationally and per state, in one pass over the counties.

    * `state_status`: {USPS code: state status} (a state missing counts as NONE).
    * `county_coverage`: {county FIPS: coverage}, as the one rule decides it; its
      keys are the counties counted. A county belongs to the state whose FIPS
      code starts its own.
    * `population`: {FIPS: people} for states (2 digits) and counties (5
      digits); a code missing or None has no figure, and none is guessed.
    * `state_fips`: {USPS code: state FIPS} for the states to count, in display
      order. Anything else (territories, their counties) is ignored.
    """
    state_by_fips = {fips: usps for usps, fips in state_fips.items()}
    sums = {usps: _Sums() for usps in state_fips}
    for county, coverage in county_coverage.items():
        usps = state_by_fips.get(county[:2])
        if usps is not None:
            sums[usps].add(county, Coverage(coverage), population.get(county))
    return _national(sums, state_status, population, state_fips, year, source)


@dataclass(frozen=True, slots=True)
class CountyGroup:
    """Counties of one state that share a coverage, added up: all the sums need of them."""

    usps: str
    coverage: Coverage
    counties: int
    people: int  # the sum of their known figures
    with_figure: int
    without_figure: tuple[str, ...] = ()  # the FIPS codes of those with no figure


def population_coverage_of_groups(
    state_status: Mapping[str, StateStatus | str],
    groups,
    population: Mapping[str, int | None],
    state_fips: Mapping[str, str],
    *,
    year: int = POPULATION_YEAR,
    source: str = POPULATION_SOURCE,
) -> NationalCoverage:
    """`population_coverage` from counties already added up per state and coverage (`CountyGroup`s),
    with `population` giving the states' figures: the same figures from a few hundred groups rather
    than 3,200 counties. Groups of states not in `state_fips` are ignored."""
    sums = {usps: _Sums() for usps in state_fips}
    for group in groups:
        if group.usps in sums:
            sums[group.usps].add_group(group)
    return _national(sums, state_status, population, state_fips, year, source)


def _national(sums, state_status, population, state_fips, year, source) -> NationalCoverage:
    states = {
        usps: sums[usps].state(
            usps, fips, StateStatus(state_status.get(usps, StateStatus.NONE)), population.get(fips)
        )
        for usps, fips in state_fips.items()
    }
    people, counties = People(), _counts()
    for state in states.values():
        if state.people is not None:
            people += state.people
        for coverage, n in state.counties.items():
            counties[coverage] += n
    return NationalCoverage(
        people=people,
        counties=counties,
        states=states,
        states_without_figure=tuple(usps for usps, state in states.items() if state.people is None),
        year=year,
        source=source,
    )
