"""The charts as PNG images to download: the timeline, the national map (states or counties) and each
state's county map.

Each image stands on its own in a story: a title that states what it shows, the legend with its counts
(the maps) or key (the timeline), the chart, and a footer naming the source, the page's address and the
date the data describe. Layout here, markup in `templates/recognition/chart_image.svg` (the timeline's
own markup is the page's, `includes/timeline_chart.html`), PNG by CairoSVG as for the share cards
(recognition/cards.py, whose palette and text measuring this reuses). The views cache the PNG like any
public page, per data version and day, so each is drawn once per change of the data.

Every builder takes the date the data describe (`on`): today, or the past date the map was asked for
(`?as_of=`), which the title then names.
"""

from dataclasses import dataclass, field

import cairosvg
from django.template.loader import render_to_string

from . import cards, past, sharing
from . import status as rules

WIDTH = 1200
MARGIN = 40
TITLE_SIZE, TITLE_LINE = 40, 48
TEXT_SIZE, TEXT_LINE = 24, 32
LEGEND_SIZE, LEGEND_ROW = 22, 40
FOOTER_SIZE = 20
FOOTER_HEIGHT = 64
MAP_MAX_HEIGHT = 760
INK, MUTED = cards.INK, cards.MUTED


@dataclass
class Image:
    """What chart_image.svg draws: lines of text already laid out, then the map's regions or the timeline."""

    height: int = 0
    texts: list = field(default_factory=list)
    swatches: list = field(default_factory=list)  # legend: {"x", "y", "fill"} or {"x", "y", "line": key}
    regions: list = field(default_factory=list)  # (path, fill)
    transform: str = ""
    unit: float = 1.0  # one image pixel in the drawing's units
    border: float = 1.0  # the white line between regions, in image pixels
    timeline: object = None
    footer_top: int = 0
    footer_lines: list = field(default_factory=list)

    @property
    def stroke(self):
        return round(self.border * self.unit, 4)

    @property
    def hatch(self):
        return round(8 * self.unit, 4)

    @property
    def hatch_line(self):
        return round(2.5 * self.unit, 4)


def _title(image, title, subtitle=""):
    """The title (bold, wrapped) and a subtitle below it; returns the y below them."""
    y = MARGIN
    for line in cards.wrap(title, TITLE_SIZE, WIDTH - 2 * MARGIN, bold=True):
        y += TITLE_LINE
        image.texts.append(cards.Text(MARGIN, y, TITLE_SIZE, line, bold=True))
    y += 8
    for line in cards.wrap(subtitle, TEXT_SIZE, WIDTH - 2 * MARGIN) if subtitle else []:
        y += TEXT_LINE
        image.texts.append(cards.Text(MARGIN, y, TEXT_SIZE, line, fill=MUTED))
    return y + 20


def _legend(image, y, items):
    """Legend items [(swatch, label)] left to right, wrapping to new rows; returns the y below them."""
    x, top = MARGIN, y
    for swatch, label in items:
        width = 34 + cards.text_width(label, LEGEND_SIZE) + 28
        if x > MARGIN and x + width > WIDTH - MARGIN:
            x, top = MARGIN, top + LEGEND_ROW
        image.swatches.append({"x": x, "y": top, **swatch})
        image.texts.append(cards.Text(x + 34, top + 21, LEGEND_SIZE, label))
        x += width
    return top + LEGEND_ROW + 8


def _footer(image, y, address, on, note=""):
    image.footer_top = y + 16
    image.height = image.footer_top + FOOTER_HEIGHT + (TEXT_LINE if note else 0)
    line = f"Source: {sharing.SITE_NAME}, {address} · Data as of {on:%B} {on.day}, {on.year}"
    lines = [line] + ([note] if note else [])
    image.footer_lines = [
        (image.footer_top + 38 + index * TEXT_LINE, text) for index, text in enumerate(lines)
    ]


def _place(image, viewbox, top):
    """Fit `viewbox` (map units) to the image's width below `top`; returns the y below the map."""
    vx, vy, vw, vh = (float(part) for part in viewbox.split())
    scale = min((WIDTH - 2 * MARGIN) / vw, MAP_MAX_HEIGHT / vh)
    tx = MARGIN + ((WIDTH - 2 * MARGIN) - vw * scale) / 2 - vx * scale
    ty = top - vy * scale
    image.transform = f"translate({tx:.2f} {ty:.2f}) scale({scale:.5f})"
    image.unit = 1 / scale
    return round(top + vh * scale)


# The hatched fills, as legend swatches: the same stripes in image pixels, not map units.
SWATCH_FILLS = {
    "url(#card-hatch-pending)": "url(#swatch-hatch-pending)",
    "url(#card-hatch-resolution)": "url(#swatch-hatch-resolution)",
}


def _status_legend(counts, fills):
    """Each status's swatch and "label: count", in the legend's order."""
    return [
        ({"fill": SWATCH_FILLS.get(fills[status], fills[status])}, f"{status.label}: {count:,}")
        for status, count in counts.items()
    ]


def national_map(national, layer, on, address):
    """The national map by state status (`layer` "states") or every county by county status."""
    image = Image()
    if layer == "counties":
        title = "Every county, by who has recognized 911 dispatchers as first responders" + (
            f", on {past.display(national.as_of)}" if national.as_of else ""
        )
        counts, fills = national.county_counts, cards.COUNTY_FILLS
        image.regions = [
            (colour.outline, fills[colour.status])
            for group in national.county_regions
            for colour in group.colours
        ]
        image.border = 0.3
    else:
        laws = national.state_counts[rules.StateStatus.LAW]
        states = f"{laws} state{'' if laws == 1 else 's'}"
        if national.as_of:
            title = f"On {past.display(national.as_of)}, {states} recognized 911 dispatchers as first responders in law"
        else:
            title = f"{states} recognize{'s' if laws == 1 else ''} 911 dispatchers as first responders in law"
        counts, fills = national.state_counts, cards.STATE_FILLS
        image.regions = [(region.jurisdiction.shape, fills[region.status]) for region in national.states]
        image.border = 1.2
    y = _title(image, title, "The 50 states and the District of Columbia. Territories are not drawn.")
    y = _legend(image, y, _status_legend(counts, fills))
    y = _place(image, cards.NATIONAL_VIEWBOX, y)
    _footer(image, y, address, on)
    return image


def state_map(state_progress, viewbox, on, address):
    """A state's counties by county status, cropped to the state (`viewbox`)."""
    state = state_progress.state
    image = Image(border=1.0)
    fills = cards.COUNTY_FILLS
    image.regions = [
        (r.jurisdiction.shape, fills[r.status]) for r in state_progress.counties if r.jurisdiction.shape
    ]
    y = _title(
        image,
        f"{state.name}: counties by who has recognized 911 dispatchers as first responders"
        + (f", on {past.display(state_progress.as_of)}" if state_progress.as_of else ""),
        f"Statewide: {state_progress.status.label}.",
    )
    y = _legend(image, y, _status_legend(state_progress.county_counts, fills))
    y = _place(image, viewbox, y)
    _footer(image, y, address, on)
    return image


def timeline(timeline, on, address):
    """The cumulative timeline of adopted measures, its key as the legend."""
    image = Image(timeline=timeline)
    y = _title(
        image,
        "Measures recognizing 911 dispatchers as first responders, adopted over time",
        "Cumulative number of adopted measures, by year of adoption.",
    )
    y = _legend(image, y, [({"line": s.key}, s.label) for s in timeline.series])
    scale = (WIDTH - 2 * MARGIN) / timeline.width
    image.transform = f"translate({MARGIN} {y}) scale({scale:.5f})"
    y = round(y + timeline.height * scale)
    _footer(image, y, address, on, note="Measures whose adoption date is unknown are not shown.")
    return image


def svg(image):
    return render_to_string(
        "recognition/chart_image.svg",
        {
            "image": image,
            "t": image.timeline,
            "width": WIDTH,
            "margin": MARGIN,
            "right": WIDTH - MARGIN,
            "font_family": cards.FONT_FAMILY,
            "footer_size": FOOTER_SIZE,
        },
    )


def png(image):
    """The image as PNG bytes, WIDTH pixels wide."""
    return cairosvg.svg2png(bytestring=svg(image).encode(), output_width=WIDTH, output_height=image.height)
