"""The maps on a 375 px phone (issue 16, "On a phone"): the map comes first, and every state can be tapped.

WCAG 2.2 SC 2.5.8 asks for targets of at least 24 by 24 CSS px. Every state's link is measured here in
Chromium: its shape on the map, or else its tile in the "Small states" list beside the map.
"""

import pytest

from recognition import tap_targets
from tests.e2e.conftest import DEFAULT_TIMEOUT_MS, PHONE, axe_violations, format_violations

pytestmark = pytest.mark.e2e

TARGET = 24  # CSS px
MAP_TOP_BOUND = 900  # px from the top of the page on a 375 px phone: the map is on the first screens

# Every link to a state's page in the map's body (map shapes, small-state tiles, territory tiles), with its
# bounding box and whether it is a tile.
STATE_LINKS = """() => [...document.querySelectorAll('.map__body a[href^="/states/"]')].map(a => {
  const r = a.getBoundingClientRect();
  return {href: a.getAttribute('href'), width: r.width, height: r.height, tile: a.classList.contains('tile')};
})"""


@pytest.fixture
def touch_phone(browser, browser_errors):
    """A 375 px phone with a touch screen, so a test can tap as a person would."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    touch_page = context.new_page()
    touch_page.on("pageerror", lambda error: browser_errors.append(f"page error: {error}"))
    yield touch_page
    context.close()


def tap_centre(page, locator):
    """Tap the middle of what `locator` shows, after checking that it is what a finger there would hit."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    hit = locator.evaluate(
        "(el, [x, y]) => { const top = document.elementFromPoint(x, y); return el === top || el.contains(top); }",
        [x, y],
    )
    assert hit, "something covers the element's centre"
    page.touchscreen.tap(x, y)


def test_tapping_rhode_island_opens_its_page(site, touch_phone):
    touch_phone.goto(site.url("/"))
    rhode_island = touch_phone.locator('.map-tiles--small a[data-usps="RI"]')
    assert rhode_island.inner_text().split() == [
        "RI",
        "Rhode",
        "Island",
        *rhode_island.locator(".tile__status").inner_text().split(),
    ]

    tap_centre(touch_phone, rhode_island)

    touch_phone.wait_for_url("**/states/ri/")
    assert touch_phone.get_by_role("heading", level=1).inner_text() == "Rhode Island"


def test_tapping_a_large_state_on_the_map_opens_its_page(site, touch_phone):
    touch_phone.goto(site.url("/"))
    texas = touch_phone.locator('.map__svg a[href="/states/tx/"]')

    tap_centre(touch_phone, texas)

    touch_phone.wait_for_url("**/states/tx/")


@pytest.mark.parametrize("path", ["/", "/?layer=counties", "/embed/map/"])
def test_every_state_has_a_target_of_24_px_and_tiles_only_where_the_map_is_too_small(site, phone_page, path):
    phone_page.goto(site.url(path))
    # The scale tap_targets.py derives the list at: the map fills the phone's width.
    assert phone_page.locator(".map__svg").bounding_box()["width"] == tap_targets.PHONE_MAP_WIDTH_PX

    links = phone_page.evaluate(STATE_LINKS)
    shapes = {link["href"]: link for link in links if not link["tile"]}
    tiles = {link["href"]: link for link in links if link["tile"]}
    assert len(shapes) == 51  # the 50 states and DC

    def fits(link):
        return link["width"] >= TARGET and link["height"] >= TARGET

    unreachable = [
        href for href, shape in shapes.items() if not fits(shape) and not fits(tiles.get(href, shape))
    ]
    assert not unreachable
    too_small = {href for href, shape in shapes.items() if not fits(shape)}
    territories = {href for href in tiles if href not in shapes}
    assert set(tiles) - territories == too_small  # a tile for each state too small to tap, and no other
    assert {"/states/ri/", "/states/dc/"} <= too_small


PHONE_PAGES = [
    "/",
    "/?layer=counties",
    "/states/al/",
    "/states/ri/",
    "/states/al/mobile-county/",
    "/resolutions/",
    "/about/",
    "/data/",
    "/embed/map/",
]
CHANGED_PAGES = ["/", "/?layer=counties", "/states/ri/", "/states/tx/", "/embed/map/"]


def test_no_sideways_scrolling_on_a_phone(site, phone_page):
    too_wide = []
    for path in PHONE_PAGES:
        phone_page.goto(site.url(path))
        if not phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
            too_wide.append(path)
    assert not too_wide


def test_the_map_comes_first_on_a_phone(site, phone_page):
    for path in ["/", "/?layer=counties", "/states/ri/", "/states/tx/"]:
        phone_page.goto(site.url(path))
        map_top = phone_page.locator(".map__svg").bounding_box()["y"]
        assert map_top < MAP_TOP_BOUND, path
        # Before the long lists: the coverage figures follow the map.
        assert map_top < phone_page.locator("#coverage-heading").bounding_box()["y"], path


def test_the_map_is_on_the_first_screen_of_a_desktop(site, page):
    for path in ["/", "/states/tx/"]:
        page.goto(site.url(path))
        assert page.locator(".map__svg").bounding_box()["y"] < page.viewport_size["height"], path


def test_phone_pages_have_no_serious_accessibility_violations(site, phone_page):
    found = []
    for path in CHANGED_PAGES:
        phone_page.goto(site.url(path))
        violations = axe_violations(phone_page)
        if violations:
            found.append(f"{path}:\n{format_violations(violations)}")
    assert not found, "\n".join(found)
