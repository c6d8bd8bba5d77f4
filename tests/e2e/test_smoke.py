"""Smoke test in a real browser: the home page loads and lists every state."""

import re

import pytest

from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.e2e

# /states/al/: one page per state, DC and inhabited territory (56 in all).
STATE_PAGE = re.compile(r"^/states/[a-z]{2}/$")


def state_pages_linked(page):
    # getAttribute, not .href: the map's links are SVG <a> elements, whose .href is not a string.
    paths = page.locator("main a[href]").evaluate_all(
        "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).pathname)"
    )
    return {path for path in paths if STATE_PAGE.match(path)}


def test_home_lists_every_state(site, page):
    response = page.goto(site.url("/"))
    assert response.ok, response.status

    assert page.get_by_role("heading", level=1).is_visible()
    main_text = page.locator("main").text_content()
    assert "Alabama" in main_text
    assert "Texas" in main_text
    # The map (50 states and DC) and the territory tiles link each state's page; the table repeats them.
    linked = state_pages_linked(page)
    assert len(linked) == 56, sorted(linked)
    assert {"/states/al/", "/states/tx/", "/states/dc/", "/states/pr/"} <= linked


def test_home_on_a_phone(site, phone_page):
    phone_page.goto(site.url("/"))

    assert phone_page.get_by_role("heading", level=1).is_visible()
    assert len(state_pages_linked(phone_page)) == 56
    # Nothing pushes the page sideways on a 375 px screen.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


def test_home_has_no_serious_accessibility_violations(site, page):
    page.goto(site.url("/"))

    violations = axe_violations(page)

    assert not violations, format_violations(violations)


def test_axe_helper_reports_serious_violations(page):
    """The helper itself: an image without alt text and an unnamed button are critical violations."""
    page.set_content(
        '<!doctype html><html lang="en"><head><title>axe check</title></head>'
        '<body><main><h1>Check</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "<button></button></main></body></html>"
    )

    violations = axe_violations(page)

    assert {v["id"] for v in violations} >= {"image-alt", "button-name"}, format_violations(violations)
    assert all(v["impact"] in ("serious", "critical") for v in violations)
