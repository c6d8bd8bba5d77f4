"""The model resolution pages in a browser: accessible at desktop and phone widths, nothing sideways on a
phone, the Word file downloads, and printing leaves only the resolution."""

import pytest

from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.e2e

PAGES = [
    "/states/al/mobile-county/model-resolution/",
    "/states/wy/albany-county/model-resolution/",
    "/states/ga/model-resolution/",
]


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations_at_desktop_width(site, page, path):
    assert page.goto(site.url(path)).ok

    violations = axe_violations(page)

    assert not violations, format_violations(violations)


@pytest.mark.parametrize("path", PAGES)
def test_on_a_phone_nothing_scrolls_sideways_and_axe_passes(site, phone_page, path):
    assert phone_page.goto(site.url(path)).ok

    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    violations = axe_violations(phone_page)
    assert not violations, format_violations(violations)


def test_the_word_file_downloads_under_the_place_name(site, page):
    page.goto(site.url(PAGES[0]))

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as Word (.docx)").click()

    assert download.value.suggested_filename == "model-resolution-mobile-county-al.docx"


def test_printing_shows_only_the_resolution(site, page):
    page.goto(site.url(PAGES[0]))
    # The Print button is shown by a script (static/js/print.js): it ran, the CSP allowed it.
    assert page.get_by_role("button", name="Print").is_visible()

    page.emulate_media(media="print")

    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.get_by_role("heading", name="How to use it").is_visible()
    assert page.locator("article.model-resolution").is_visible()
    assert page.get_by_text("NOW, THEREFORE, BE IT RESOLVED").is_visible()
