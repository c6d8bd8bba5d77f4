"""Server-rendered SVG charts: geometry computed here, markup in templates.

The timeline is a cumulative step chart of adopted measures by year, state-level
and local apart. Measures whose adoption year is unknown are counted in a note,
never placed on an invented year.

The chart is drawn in its own WIDTH x HEIGHT frame and scaled to fit: on a 375 px phone
to about half its size. The site's CSS then sets its text larger in the frame's units
(up to LARGEST_TICK_SIZE), so that it stays at least 12 px on screen; the margins
leave room for text that large.
"""

from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 260
MARGIN_TOP = 20  # room above the top value label at the largest size
MARGIN_BOTTOM = 42  # and below the years
LARGEST_TICK_SIZE = 30  # frame units: what site.css gives the ticks in the narrowest container
DIGIT_WIDTH = 0.62  # a digit's advance, in ems (system sans-serif fonts, tabular figures)
# Half a year label at the largest size, and a little: the first and last years are centred on the edges.
MARGIN_RIGHT = round(4 * DIGIT_WIDTH * LARGEST_TICK_SIZE / 2) + 4


def _left_margin(top_value):
    """Room for the longest value label (end-anchored left of the axis) at the largest tick size."""
    return max(MARGIN_RIGHT, round(len(str(top_value)) * DIGIT_WIDTH * LARGEST_TICK_SIZE) + 8)


@dataclass
class Series:
    key: str
    label: str
    cumulative: list[int]
    points: str = ""  # SVG polyline points


@dataclass
class Column:
    """One year of the chart: its figures, its dots, and the band a reader can follow to that year's map."""

    year: int
    x: float
    left: float
    width: float
    values: list[int]  # each series' cumulative figure
    dots: list[tuple[str, float]]  # (series key, y) of each series' point
    label: str  # "2021: 5 state laws and resolutions, 9 county and city actions"
    as_of: object = None  # where the year leads, set by the caller (a date, or None for today)


@dataclass
class Timeline:
    years: list[int]
    series: list[Series]
    columns: list[Column] = field(default_factory=list)
    x_ticks: list[tuple[float, int]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = MARGIN_RIGHT
    plot_right: int = WIDTH - MARGIN_RIGHT
    plot_bottom: int = HEIGHT - MARGIN_BOTTOM
    plot_top: int = MARGIN_TOP

    @property
    def rows(self):
        """The same figures as a table: (year, value per series)."""
        return [(year, [s.cumulative[i] for s in self.series]) for i, year in enumerate(self.years)]


def _nice_step(maximum, target_ticks=5):
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if maximum / step <= target_ticks:
            return step
    return max(1, maximum // target_ticks)


def cumulative_timeline(counts_by_year, series_labels, *, until_year=None):
    """Build a cumulative timeline.

    `counts_by_year` maps (series key, year) -> number adopted that year;
    `series_labels` is an ordered {key: label}. Years run without gaps from the
    first year with data to `until_year` (default: the last year with data).
    """
    years_with_data = sorted({year for (_, year) in counts_by_year})
    if not years_with_data:
        return None
    first = years_with_data[0]
    last = max(until_year or years_with_data[-1], years_with_data[-1])
    years = list(range(first, last + 1))

    series = []
    for key, label in series_labels.items():
        running, cumulative = 0, []
        for year in years:
            running += counts_by_year.get((key, year), 0)
            cumulative.append(running)
        series.append(Series(key=key, label=label, cumulative=cumulative))

    maximum = max(max(s.cumulative) for s in series) or 1
    step = _nice_step(maximum)
    top_value = ((maximum + step - 1) // step) * step
    timeline = Timeline(years=years, series=series, plot_left=_left_margin(top_value))

    def x(index):
        span = max(len(years) - 1, 1)
        return round(timeline.plot_left + (timeline.plot_right - timeline.plot_left) * index / span, 1)

    def y(value):
        height = timeline.plot_bottom - timeline.plot_top
        return round(timeline.plot_bottom - height * value / top_value, 1)

    for s in series:
        # A step line: the total holds through the year, then jumps.
        points = []
        for index, value in enumerate(s.cumulative):
            if index:
                points.append(f"{x(index)},{y(s.cumulative[index - 1])}")
            points.append(f"{x(index)},{y(value)}")
        s.points = " ".join(points)

    step_x = (timeline.plot_right - timeline.plot_left) / max(len(years) - 1, 1)
    half = step_x / 2 if len(years) > 1 else 30  # one year alone: a band of its own, not half the chart
    for index, year in enumerate(years):
        left = max(x(index) - half, timeline.plot_left - 12)
        right = min(x(index) + half, timeline.plot_right + 12)
        timeline.columns.append(
            Column(
                year=year,
                x=x(index),
                left=round(left, 1),
                width=round(right - left, 1),
                values=[s.cumulative[index] for s in series],
                dots=[(s.key, y(s.cumulative[index])) for s in series],
                label=f"{year}: "
                + ", ".join(f"{s.cumulative[index]} {s.label[0].lower()}{s.label[1:]}" for s in series),
            )
        )

    label_every = 1 if len(years) <= 8 else 2 if len(years) <= 16 else 5
    timeline.x_ticks = [(x(i), year) for i, year in enumerate(years) if (year - first) % label_every == 0]
    timeline.y_ticks = [(y(value), value) for value in range(0, top_value + 1, step)]
    return timeline
