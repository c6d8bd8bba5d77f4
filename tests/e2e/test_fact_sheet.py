"""Place pages and fact sheets in Chromium: each sheet prints on exactly one Letter page; axe is clean."""

import re

import pytest
from django.db.models import Count

from recognition.models import Jurisdiction, Level
from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.e2e


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF, counted from its page objects (not from the renderer's own report)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_pdf_page_counter_counts_pages(page):
    page.set_content("<p>one</p><p style='break-before: page'>two</p><p style='break-before: page'>three</p>")
    assert pdf_pages(page.pdf(format="Letter")) == 3


def test_every_fact_sheet_prints_on_one_letter_page(site, page):
    most_neighbors = (
        Jurisdiction.objects.counties().annotate(n=Count("neighbors")).order_by("-n", "fips").first()
    )
    assert most_neighbors.n >= 10  # the longest list of neighbors on the map
    sheets = [
        "/states/al/mobile-county/fact-sheet/",  # a state law, a county measure, a city
        "/states/wy/albany-county/fact-sheet/",  # nothing yet: three asks, neighbors across a state line
        "/states/ga/newton-county/fact-sheet/",  # a state resolution and a city that acted
        f"{most_neighbors.get_absolute_url()}fact-sheet/",
        "/states/pa/fact-sheet/",  # pending bills, a failed one, many sources
        "/states/tx/fact-sheet/",
        "/states/tn/fact-sheet/",  # eight neighboring states
    ]
    for path in sheets:
        page.goto(site.url(path))
        pdf = page.pdf(format="Letter", prefer_css_page_size=True, print_background=True)
        assert pdf_pages(pdf) == 1, path


def test_a_sheet_with_long_lists_still_prints_on_one_page(fresh_site, page):
    """More of everything than any place has today: the lists are capped, so the sheet stays on one page."""
    from recognition.models import Kind, Status
    from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state

    long_title = (
        "An act to reclassify public safety telecommunicators as a protective service occupation " * 2
    )
    nation, michigan, mobile = Jurisdiction.objects.nation(), get_state("MI"), get_county("01097")
    for number in range(7):
        ResolutionFactory(
            jurisdiction=nation,
            kind=Kind.BILL,
            status=Status.INTRODUCED,
            identifier=f"H.R. {9000 + number}",
            title=long_title,
            adopted_on=None,
            adopted_on_precision="",
        )
    for number in range(6):
        for state in (michigan, get_state("AL")):
            ResolutionFactory(
                jurisdiction=state,
                kind=Kind.BILL,
                status=Status.INTRODUCED,
                identifier=f"SB {700 + number}",
                title=long_title,
                adopted_on=None,
                adopted_on_precision="",
            )
    for county in Jurisdiction.objects.counties().filter(parent=michigan)[:30]:
        ResolutionFactory(jurisdiction=county)
    for number in range(5):
        ResolutionFactory(jurisdiction=mobile, identifier=f"Resolution 2024-{number}")
    for number in range(12):
        ResolutionFactory(
            jurisdiction=PlaceFactory(name=f"City of Longname Township Number {number}", county=mobile)
        )
    for path in [
        "/states/al/mobile-county/fact-sheet/",
        "/states/mi/fact-sheet/",
        "/states/mi/wayne-county/fact-sheet/",
    ]:
        page.goto(fresh_site.url(path))
        assert "more" in page.content()  # the caps are at work
        pdf = page.pdf(format="Letter", prefer_css_page_size=True, print_background=True)
        assert pdf_pages(pdf) == 1, path


@pytest.mark.parametrize("width", [1280, 375])
def test_new_place_pages_are_accessible_and_fit_a_phone(site, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    for path in [
        "/states/al/mobile-county/",
        "/states/wy/albany-county/",
        "/states/al/city-of-mobile/",
        "/states/ga/",
        "/states/al/mobile-county/fact-sheet/",
        "/states/pa/fact-sheet/",
    ]:
        page.goto(site.url(path))
        violations = axe_violations(page)
        assert not violations, f"{path} at {width}px:\n{format_violations(violations)}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    assert Jurisdiction.objects.filter(level=Level.PLACE, slug="city-of-mobile").exists()
