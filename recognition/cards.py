"""Share cards: the 1200x630 PNG a link preview shows, drawn from the maps' own shapes.

A card is the map (the national map for a state, the state's county map for a
county, city or district) with the place highlighted, its name, its status as
a label in the map's colour, and the same sentence its page's description
says. The layout is computed here (text is measured with cairo, the library
that will draw it, so a long name wraps or shrinks instead of running off the
card); `templates/recognition/card.svg` draws it, and CairoSVG turns it into a
PNG. The views cache the PNG like any public page (per data version), so a card
is drawn once per change of the data, not once per visit.
"""

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

import cairocffi
import cairosvg
from django.template.loader import render_to_string
from django.utils.html import strip_tags

from . import progress, sharing
from . import status as rules
from .models import Jurisdiction, Level

WIDTH, HEIGHT = 1200, 630
NATIONAL_VIEWBOX = "0 0 975 610"
# What CairoSVG uses is the first family; fontconfig falls back from it (Debian: fonts-dejavu-core).
FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
FONT_FACE = FONT_FAMILY.split(",")[0]

# The maps' palette (see the legend and site.css): the fill a status has on its map, and the text
# colour that reads on it at 4.5:1 or better.
STATE_FILLS = {
    rules.StateStatus.LAW: "#08519c",
    rules.StateStatus.RESOLUTION: "#4292c6",
    rules.StateStatus.PENDING: "url(#card-hatch-pending)",
    rules.StateStatus.LOCAL: "#9ecae1",
    rules.StateStatus.NONE: "#e5e5e5",
}
COUNTY_FILLS = {
    rules.CountyStatus.COUNTY: "#08519c",
    rules.CountyStatus.PLACE: "#4292c6",
    rules.CountyStatus.STATE: "#c6dbef",
    rules.CountyStatus.RESOLUTION: "url(#card-hatch-resolution)",
    rules.CountyStatus.NONE: "#eeeeee",
}
BADGE_FILLS = {"url(#card-hatch-pending)": "#fdae6b", "url(#card-hatch-resolution)": "#c6dbef"}
DARK_FILLS = {"#08519c"}  # white text on these; dark text on the rest
OTHER_FILL = "#e3e7eb"  # every region but the highlighted one
INK, MUTED = "#1b1b1b", "#4a4a4a"

# Layout, in card pixels.
MARGIN = 56
TEXT_WIDTH = 452
FOOTER_TOP = 552
FOOTER_NAME_SIZE, FOOTER_ADDRESS_SIZE = 28, 24
MAP_BOX = (548, 44, 612, 486)  # x, y, width, height
SMALL_REGION = 18  # a highlighted region narrower or lower than this gets a ring around it


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    size: int
    text: str
    bold: bool = False
    fill: str = INK


@dataclass(frozen=True)
class MapRegion:
    shape: str
    fill: str


@dataclass
class Card:
    """Everything card.svg draws: the text already laid out, the map already placed."""

    accent: str  # the status colour: the top stripe
    texts: list = field(default_factory=list)
    badge: dict | None = None
    regions: list = field(default_factory=list)
    highlight: MapRegion | None = None
    ring: tuple | None = None  # (cx, cy, r) in card pixels
    transform: str = ""
    unit: float = 1.0  # 1 card pixel, in map units

    def px(self, pixels):
        return round(pixels * self.unit, 4)

    @property
    def border(self):
        return self.px(1)

    @property
    def outline(self):
        return self.px(3)

    @property
    def halo(self):
        return self.px(9)

    @property
    def hatch(self):
        return self.px(10)

    @property
    def hatch_line(self):
        return self.px(3.5)

    legend: list = field(default_factory=list)


# --- Measuring and wrapping text ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def text_width(text, size, bold=False):
    """How wide cairo draws `text` in the card's font, in pixels (what CairoSVG will draw)."""
    surface = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, 1, 1)
    context = cairocffi.Context(surface)
    weight = cairocffi.FONT_WEIGHT_BOLD if bold else cairocffi.FONT_WEIGHT_NORMAL
    context.select_font_face(FONT_FACE, cairocffi.FONT_SLANT_NORMAL, weight)
    context.set_font_size(size)
    return context.text_extents(text)[4]  # x_advance


def wrap(text, size, width, bold=False, max_lines=None):
    """Greedy word wrap to `width` pixels; past `max_lines` the last line ends in an ellipsis."""
    lines = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if max_lines is not None and len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1 :])
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1].rstrip()
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines


def fit_title(text, width, sizes=(66, 58, 50, 44, 38, 32), max_lines=2):
    """The largest size at which `text` fits in `max_lines` lines of `width`: (size, lines)."""
    for size in sizes:
        lines = wrap(text, size, width, bold=True)
        if len(lines) <= max_lines and all(text_width(line, size, True) <= width for line in lines):
            return size, lines
    size = sizes[-1]
    return size, wrap(text, size, width, bold=True, max_lines=max_lines)


# --- The card's parts --------------------------------------------------------------------------------


def _place_map(viewbox):
    """The transform that fits `viewbox` (map units) in MAP_BOX, centred, and its scale."""
    vx, vy, vw, vh = (float(part) for part in viewbox.split())
    bx, by, bw, bh = MAP_BOX
    scale = min(bw / vw, bh / vh)
    tx = bx + (bw - vw * scale) / 2 - vx * scale
    ty = by + (bh - vh * scale) / 2 - vy * scale
    return scale, tx, ty


def _draw_map(card, viewbox, shapes, highlighted=None, fills=None):
    """Put the map on the card: `shapes` {key: (path, viewbox)}, `highlighted` a key, `fills` {key: fill}
    (every region grey when None, so that only the highlighted one stands out)."""
    scale, tx, ty = _place_map(viewbox)
    card.transform = f"translate({tx:.2f} {ty:.2f}) scale({scale:.5f})"
    card.unit = 1 / scale
    fills = fills or {}
    card.regions = [
        MapRegion(path, fills.get(key, OTHER_FILL))
        for key, (path, _box) in shapes.items()
        if key != highlighted
    ]
    if highlighted in shapes:
        path, box = shapes[highlighted]
        card.highlight = MapRegion(path, card.accent)
        if box:
            x, y, w, h = (float(part) for part in box.split())
            if min(w, h) * scale < SMALL_REGION:
                cx, cy = tx + (x + w / 2) * scale, ty + (y + h / 2) * scale
                card.ring = (round(cx, 1), round(cy, 1), round(max(w, h) * scale / 2 + 16, 1))


TITLE_SIZES = (66, 58, 50, 44, 38, 32)
SENTENCE_SIZE, SENTENCE_LINE = 26, 35


def _lay_out_text(card, name, sub, label, sentence):
    """The left column: kicker, name (and its state), the status label, the sentence.

    The name takes the largest size that leaves the whole sentence room above the footer (a
    long name shrinks rather than cut the sentence short). Without a map (a territory's places:
    the atlas has no shapes there) the column takes the card's width.
    """
    width = TEXT_WIDTH if card.transform else WIDTH - 2 * MARGIN
    sentence_lines = wrap(sentence, SENTENCE_SIZE, width)
    for index, largest in enumerate(TITLE_SIZES):
        size, lines = fit_title(name, width, sizes=TITLE_SIZES[index:], max_lines=3)
        title_bottom = MARGIN + 52 + sum(round(size * 1.08) for _line in lines) + (46 if sub else 0)
        sentence_top = title_bottom + 30 + 52 + 12
        room = (FOOTER_TOP - 18 - sentence_top) // SENTENCE_LINE
        if room >= len(sentence_lines) or largest == TITLE_SIZES[-1]:
            break
    y = MARGIN + 30
    card.texts.append(Text(MARGIN, y, 22, "911 dispatchers as first responders", bold=True, fill=MUTED))
    y += 22
    for line in lines:
        y += round(size * 1.08)
        card.texts.append(Text(MARGIN, y, size, line, bold=True))
    if sub:
        y += 46
        card.texts.append(Text(MARGIN, y, min(34, size), sub, fill=MUTED))
    badge_fill = BADGE_FILLS.get(card.accent, card.accent)
    badge_size = 28
    badge_top = y + 30
    card.badge = {
        "x": MARGIN,
        "y": badge_top,
        "width": round(min(text_width(label, badge_size, True) + 36, width), 1),
        "height": 52,
        "fill": badge_fill,
        "stroke": "#8a8a8a" if badge_fill in ("#e5e5e5", "#eeeeee") else badge_fill,
    }
    label_fill = "#ffffff" if badge_fill in DARK_FILLS else INK
    card.texts.append(Text(MARGIN + 18, badge_top + 36, badge_size, label, bold=True, fill=label_fill))
    y = badge_top + 52 + 12
    room = max(1, (FOOTER_TOP - 18 - y) // SENTENCE_LINE)
    for line in wrap(sentence, SENTENCE_SIZE, width, max_lines=room):
        y += SENTENCE_LINE
        card.texts.append(Text(MARGIN, y, SENTENCE_SIZE, line))


def _capfirst(text):
    return text[:1].upper() + text[1:]


def _shapes(queryset):
    return {key: (path, box) for key, path, box in queryset if path}


def _state_shapes():
    """Every drawn state's shape (one query): the territories are not on the atlas."""
    return _shapes(
        Jurisdiction.objects.states()
        .exclude(shape="")
        .order_by("fips")
        .values_list("usps", "shape", "shape_viewbox")
    )


# --- The three cards ---------------------------------------------------------------------------------


def state_card(state):
    """A state on the national map, with its status label and sentence (six queries)."""
    state_progress = progress.state_progress(state)
    status = state_progress.status
    card = Card(accent=STATE_FILLS[status])
    _draw_map(card, NATIONAL_VIEWBOX, _state_shapes(), highlighted=state.usps)
    sentence = sharing.state_sentence(
        state.name,
        status,
        [measure.identifier for measure in state_progress.deciding],
        sharing.local_counties(state_progress.county_counts),
    )
    _lay_out_text(card, state.name, "", status.label, _capfirst(sentence.removeprefix(f"{state.name}: ")))
    return card


def standing_sentence(context):
    """A county's, city's or district's one sentence, as its page words it, in plain text."""
    rendered = render_to_string("includes/standing_sentence.html", context)
    return re.sub(r"\s+", " ", html.unescape(strip_tags(rendered))).strip()


def jurisdiction_card(jurisdiction):
    """A county, city or district on its state's county map, with its coverage and sentence (≤ 4 queries)."""
    own = list(jurisdiction.resolutions.published())
    state, standing, _state_status = progress.jurisdiction_standing(jurisdiction, own)
    context = {"standing": standing, "jurisdiction": jurisdiction, "state": state}
    card = Card(accent=COUNTY_FILLS[standing.status])
    county_id = jurisdiction.pk if jurisdiction.level == Level.COUNTY else jurisdiction.county_id
    shapes = _shapes(
        Jurisdiction.objects.counties()
        .filter(parent=state)
        .order_by("fips")
        .values_list("pk", "shape", "shape_viewbox")
    )
    if shapes:
        _draw_map(card, progress.padded_viewbox(state.shape_viewbox), shapes, highlighted=county_id)
    sentence = standing_sentence(context)
    label, _colon, rest = sentence.partition(": ")
    where = state.name
    if jurisdiction.level != Level.COUNTY and jurisdiction.county_id:
        where = f"{jurisdiction.county.name}, {state.name}"
    _lay_out_text(card, jurisdiction.name, where, standing.coverage.label, _capfirst(rest))
    return card


def national_card():
    """The national map by state status, with the legend's counts: the site's own card (three queries)."""
    states = _state_shapes()
    inputs = progress.status_inputs()
    statuses = rules.state_statuses(inputs.for_states, list(states))  # the drawn ones: 50 states and DC
    counts = rules.status_counts(statuses, rules.StateStatus)
    card = Card(accent=STATE_FILLS[rules.StateStatus.LAW])
    _draw_map(
        card, NATIONAL_VIEWBOX, states, fills={code: STATE_FILLS[status] for code, status in statuses.items()}
    )
    laws = counts[rules.StateStatus.LAW]
    headline = f"{laws} state{'' if laws == 1 else 's'} recognize{'s' if laws == 1 else ''} 911 dispatchers"
    size, lines = fit_title(f"{headline} as first responders in law", TEXT_WIDTH, max_lines=3)
    y = MARGIN + 30
    card.texts.append(Text(MARGIN, y, 22, "Progress by state", bold=True, fill=MUTED))
    y += 14
    for line in lines:
        y += round(size * 1.1)
        card.texts.append(Text(MARGIN, y, size, line, bold=True))
    y += 28
    for status, count in counts.items():
        y += 44
        card.legend.append({"x": MARGIN, "y": y - 26, "fill": STATE_FILLS[status]})
        card.texts.append(Text(MARGIN + 46, y, 26, f"{status.label}: {count}"))
    return card


# --- Drawing -----------------------------------------------------------------------------------------


def footer_address(address):
    """The page's address (no scheme) if it fits beside the site's name in the footer, else its host."""
    room = WIDTH - 2 * MARGIN - text_width(sharing.SITE_NAME, FOOTER_NAME_SIZE, True) - 40
    if text_width(address, FOOTER_ADDRESS_SIZE) <= room:
        return address
    return address.split("/", 1)[0]


def svg(card, address):
    """The card as SVG text; `address` is the page's address without its scheme, for the footer."""
    return render_to_string(
        "recognition/card.svg",
        {
            "card": card,
            "width": WIDTH,
            "height": HEIGHT,
            "font_family": FONT_FAMILY,
            "footer_top": FOOTER_TOP,
            "footer_height": HEIGHT - FOOTER_TOP,
            "footer_baseline": FOOTER_TOP + 50,
            "site_name": sharing.SITE_NAME,
            "address": footer_address(address),
            "name_size": FOOTER_NAME_SIZE,
            "address_size": FOOTER_ADDRESS_SIZE,
            "margin": MARGIN,
            "right": WIDTH - MARGIN,
        },
    )


def png(card, address):
    """The card as PNG bytes, exactly WIDTH x HEIGHT."""
    return cairosvg.svg2png(bytestring=svg(card, address).encode(), output_width=WIDTH, output_height=HEIGHT)
