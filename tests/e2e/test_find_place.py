"""Find your county or city in Chromium, on a phone: the box on /, the type-ahead, the results page."""

import pytest
import zipcodes

from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 375


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_a_zip_code_typed_on_the_home_page_leads_to_its_county(site, phone_page):
    (record,) = zipcodes.matching("36602")
    assert (record["state"], record["county"]) == ("AL", "Mobile County")
    phone_page.goto(site.url("/"))
    box = phone_page.get_by_role("combobox", name="Find your county or city")
    box.fill("36602")
    box.press("Enter")
    phone_page.wait_for_url("**/states/al/mobile-county/")
    assert phone_page.locator("h1").text_content().strip().startswith("Mobile County")


def test_the_form_works_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": PHONE_WIDTH, "height": 812})
    try:
        page = context.new_page()
        page.goto(site.url("/"))
        page.get_by_role("searchbox", name="Find your county or city").fill("Albany County, Wyoming")
        page.get_by_role("button", name="Find").click()
        page.wait_for_url("**/states/wy/albany-county/")
    finally:
        context.close()


def test_the_type_ahead_offers_places_and_the_keyboard_picks_one(site, phone_page):
    phone_page.goto(site.url("/"))
    box = phone_page.get_by_role("combobox", name="Find your county or city")
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("Mobil")
    listbox = phone_page.get_by_role("listbox")
    listbox.wait_for()
    options = phone_page.get_by_role("option")
    names = options.all_text_contents()
    assert any(name.startswith("Mobile County, Alabama") for name in names)
    assert box.get_attribute("aria-expanded") == "true"
    status = phone_page.locator("[role=status][aria-live=polite]")
    assert status.text_content().startswith(f"{len(names)} suggestion")
    assert no_horizontal_scroll(phone_page)

    box.press("ArrowDown")
    first = options.nth(0)
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    box.press("ArrowDown")
    box.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")

    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
    assert box.input_value() == "Mobil"  # Escape closes the list; the text stays

    box.press("ArrowDown")  # opens again, on the first option
    target = next(i for i, name in enumerate(names) if name.startswith("Mobile County, Alabama"))
    for _ in range(target):
        box.press("ArrowDown")
    box.press("Enter")
    phone_page.wait_for_url("**/states/al/mobile-county/")


def test_the_type_ahead_does_no_harm_when_its_endpoint_fails(site, phone_page, browser_errors):
    phone_page.route("**/places/suggest/**", lambda route: route.abort())
    phone_page.goto(site.url("/"))
    box = phone_page.get_by_role("combobox", name="Find your county or city")
    # Wait for the request the last keystroke asks for (the debounce may or may not have sent others).
    with phone_page.expect_event("requestfailed", lambda request: "Wyoming" in request.url) as failed:
        box.press_sequentially("Albany County Wyoming")
    assert "/places/suggest/" in failed.value.url
    assert box.get_attribute("aria-expanded") == "false"
    assert phone_page.get_by_role("listbox").is_hidden()
    box.press("Enter")
    phone_page.wait_for_url("**/states/wy/albany-county/")
    # The only errors are the aborted requests themselves (Chromium logs each, at a moment of its
    # choosing, so they are counted only now, once the form has done its work).
    assert all("/places/suggest/" in error for error in browser_errors), browser_errors
    browser_errors.clear()


@pytest.mark.parametrize(
    "query",
    ["Washington County", "Xyzzyville", "99950", "!!!"],
    ids=["several results", "no result", "ZIP message", "error"],
)
def test_the_results_page_is_accessible_and_fits_a_phone(site, phone_page, browser_errors, query):
    response = phone_page.goto(site.url("/places/?q=" + query.replace(" ", "+").replace("!", "%21")))
    if response.status == 400:  # Chromium logs the page's own status as an error: expected here
        assert all("status of 400" in error and "/places/" in error for error in browser_errors)
        browser_errors.clear()
    assert no_horizontal_scroll(phone_page)
    violations = axe_violations(phone_page)
    assert not violations, format_violations(violations)


@pytest.mark.parametrize("path", ["/", "/states/al/"])
def test_the_find_box_fits_a_phone(site, phone_page, path):
    phone_page.goto(site.url(path))
    assert phone_page.get_by_role("search", name="Find your county or city").is_visible()
    assert no_horizontal_scroll(phone_page)
