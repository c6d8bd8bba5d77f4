"""The progress pages in Chromium: the map, a click through to a state, accessibility."""

import pytest

from recognition.models import Resolution
from tests.e2e.conftest import axe_violations, format_violations
from tests.test_stage_pages import action_rows, add_actions

pytestmark = pytest.mark.e2e


def test_map_click_through_to_alabama(site, page):
    page.goto(site.url("/"))
    assert page.locator("svg [data-fips]").count() == 51

    page.locator('[data-fips="01"]').click()

    page.wait_for_url("**/states/al/")
    counties = page.locator("svg [data-fips]")
    assert counties.count() == 67
    assert page.locator('[data-fips="01097"]').get_attribute("data-status") == "county"  # Mobile County
    assert page.locator('[data-fips="01043"]').get_attribute("data-status") == "place"  # Cullman County
    assert page.locator('[data-fips="01001"]').get_attribute("data-status") == "state"  # Autauga County


def test_regions_are_reachable_by_keyboard_with_a_visible_focus(site, page):
    page.goto(site.url("/states/al/"))
    mobile = page.get_by_role("link", name="Mobile County: County acted")
    mobile.focus()
    assert mobile.evaluate("el => el === document.activeElement")
    # The tooltip (a JavaScript enhancement) says the same as the accessible name.
    assert page.locator(".map-tooltip").text_content() == mobile.get_attribute("aria-label")
    assert page.locator(".map-tooltip").text_content().startswith("Mobile County: County acted, population ")
    outline = mobile.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?layer=counties",
        "/states/al/",
        "/states/al/mobile-county/",
        "/states/al/city-of-hanceville/",
        "/united-states/",
        "/about/",
    ],
)
def test_no_serious_accessibility_violations(site, page, path):
    page.goto(site.url(path))
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


def test_resolution_page_accessibility(site, page):
    page.goto(site.url("/states/al/"))
    page.get_by_role("link", name="HB 414 (Act 2022-387)").first.click()
    page.wait_for_url("**/resolutions/*/")
    assert "April 18, 2022" in page.locator("main").text_content()
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


@pytest.mark.parametrize("path", ["/", "/states/tx/", "/states/al/mobile-county/"])
def test_pages_fit_a_phone(site, phone_page, path):
    phone_page.goto(site.url(path))
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_bills_stage_bar_and_actions(site, page, phone_page):
    actions = add_actions(action_rows("S. 725"))
    bill = Resolution.objects.get(identifier="S. 725")
    passed = next(action for action in actions if action.classification == "passage")

    page.goto(site.url(f"{bill.get_absolute_url()}#action-{passed.pk}"))  # as a feed entry links to it
    stages = page.get_by_role("list", name="Stages")
    assert stages.locator('[aria-current="step"]').inner_text().startswith("Passed the Senate")
    assert page.evaluate("document.querySelector(':target').id") == f"action-{passed.pk}"
    assert page.locator(f"#action-{passed.pk}").is_visible()
    violations = axe_violations(page)
    assert not violations, format_violations(violations)

    for path in (bill.get_absolute_url(), "/united-states/"):
        phone_page.goto(site.url(path))
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, path
    violations = axe_violations(phone_page)
    assert not violations, format_violations(violations)
