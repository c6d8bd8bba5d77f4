"""The states too small to tap on a phone's map, and their tiles (issue 16, "On a phone").

The oracle measures each state's drawn path itself, point by point, at the scale a 375 px phone draws the
975-unit-wide frame, rather than reading the bounding box the loader stored; tests/e2e/test_phone.py then
measures the same shapes in Chromium.
"""

import re
from html.parser import HTMLParser

import pytest

from recognition import progress, tap_targets
from recognition.models import Jurisdiction, Level
from tests.html import SVG_NUMBER

PHONE_SCALE = 375 / 975  # CSS px per frame unit: the map fills a 375 px phone's width
TARGET = 24  # CSS px, WCAG 2.2 SC 2.5.8


def path_extent(path):
    """Width and height of SVG path data of "M x y" (absolute), "l dx dy ..." (relative) and "z", the only
    commands the atlas's shapes use; numbers read as SVG's grammar reads them ("1.5-.3.2" is three)."""
    assert set(re.findall(r"[A-Za-z]", path)) <= {"M", "l", "z"}, path[:80]
    xs, ys = [], []
    x = y = 0.0
    for command, numbers in re.findall(r"([Mlz])([^Mlz]*)", path):
        values = [float(n) for n in SVG_NUMBER.findall(numbers)]
        for a, b in zip(values[::2], values[1::2], strict=True):
            x, y = (a, b) if command == "M" else (x + a, y + b)
            xs.append(x)
            ys.append(y)
    return max(xs) - min(xs), max(ys) - min(ys)


def measured_small_states():
    """USPS codes of the 50 states and DC whose drawn shape is under 24 px on a side on a 375 px phone."""
    small = set()
    for usps, shape in Jurisdiction.objects.filter(level=Level.STATE, is_territory=False).values_list(
        "usps", "shape"
    ):
        if not shape:
            small.add(usps)
            continue
        width, height = path_extent(shape)
        if width * PHONE_SCALE < TARGET or height * PHONE_SCALE < TARGET:
            small.add(usps)
    return small


class _TileParser(HTMLParser):
    """{USPS: tile classes} of the tiles in the "Small states" list."""

    def __init__(self):
        super().__init__()
        self.tiles = {}
        self._depth = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if self._depth is not None and tag in {"div", "ul", "li"}:
            self._depth += 1
        if "map-tiles--small" in classes:
            self._depth = 0
        elif self._depth is not None and tag == "a":
            self.tiles[attrs["data-usps"]] = (attrs["href"], classes)

    def handle_endtag(self, tag):
        if self._depth is not None and tag in {"div", "ul", "li"}:
            if self._depth == 0:
                self._depth = None
            else:
                self._depth -= 1


def small_state_tiles(html):
    parser = _TileParser()
    parser.feed(html)
    return parser.tiles


def test_the_oracles_path_reader():
    # A 10 x 4 box drawn relatively, and a second ring further right: 25 x 6 in all.
    assert path_extent("M1 2l10 0 0 4 -10 0zM20 0l6 0 0 1z") == (25, 6)
    assert path_extent("M1 2l10 0 0 4-10 0zM20 0l6 0 0 1z") == (25, 6)
    assert path_extent("M1 2l.5.5-1.5 0z") == pytest.approx((1.5, 0.5))


def test_threshold_is_24_px_at_the_phones_map_width():
    assert tap_targets.min_frame_units() * PHONE_SCALE == pytest.approx(TARGET)
    assert tap_targets.min_frame_units(map_width_px=975) == TARGET


@pytest.mark.parametrize(
    "viewbox, small",
    [
        ("0 0 100 100", False),
        ("0 0 62.4 62.4", False),
        ("0 0 62.3 200", True),
        ("0 0 200 62.3", True),
        ("", True),
    ],
)
def test_too_small_on_either_side(viewbox, small):
    assert tap_targets.too_small_to_tap(viewbox) is small


@pytest.mark.django_db
def test_small_states_are_the_ones_measured_too_small():
    expected = measured_small_states()
    listed = [r.jurisdiction.usps for r in progress.national_progress().small_states]

    assert set(listed) == expected
    assert len(listed) == len(expected)
    # Read off any map of the United States: the smallest are in the list, the largest are not.
    assert {"RI", "DC", "DE"} <= expected
    assert not {"TX", "CA", "MT", "AK"} & expected


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/?layer=counties", "/embed/map/"])
def test_every_small_state_has_a_tile_linking_its_page(client, starter_dataset, url):
    response = client.get(url)
    tiles = small_state_tiles(response.content.decode())
    statuses = {r.jurisdiction.usps: r.status for r in response.context["progress"].states}

    assert set(tiles) == measured_small_states()
    for usps, (href, classes) in tiles.items():
        assert href == f"/states/{usps.lower()}/"
        # In its status colour beside the state map; neutral beside the county layer, whose colours differ.
        colour = "tile--neutral" if "counties" in url else f"tile--{statuses[usps]}"
        assert colour in classes, (usps, classes)


@pytest.mark.django_db
def test_home_puts_the_map_before_the_figures_and_lists(client, starter_dataset):
    html = client.get("/").content.decode()
    order = [
        html.index("<h1>"),
        html.index('class="lede"'),
        html.index('id="map-heading"'),
        html.index("map__svg"),
        html.index('id="coverage-heading"'),
        html.index('aria-label="Headline figures"'),
        html.index('id="federal-heading"'),
    ]
    assert order == sorted(order)


@pytest.mark.django_db
def test_state_page_puts_the_map_right_after_the_status(client, starter_dataset):
    html = client.get("/states/tx/").content.decode()
    order = [
        html.index("<h1>"),
        html.index('class="status-line"'),
        html.index('id="map-heading"'),
        html.index("map__svg"),
        html.index('id="coverage-heading"'),
        html.index('id="state-measures-heading"'),
        html.index('id="counties-heading"'),
    ]
    assert order == sorted(order)
