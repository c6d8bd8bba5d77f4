"""A publisher at work in the admin, and the public submission form, in Chromium.

The publisher signs in, enters a county resolution with its source in one go, publishes it, and the county
changes colour on its state's map. Albany County, Wyoming (56001) has acted on nothing in the starter
dataset, and Wyoming has no state measure, so it starts as "none".
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from recognition import roles
from recognition.models import Resolution
from tests.e2e.conftest import axe_violations, format_violations
from tests.html import map_regions
from tests.staff import PASSWORD

pytestmark = pytest.mark.e2e

ALBANY = "56001"


def county_status(page, site, fips):
    page.goto(site.url("/states/wy/"))
    return map_regions(page.content())[fips]


@pytest.fixture
def publisher(fresh_site):
    roles.sync_roles()  # the live server's database is flushed between tests, groups included
    user = get_user_model().objects.create_user("publisher", "publisher@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.PUBLISHERS))
    return user


def sign_in_as_publisher(page, site):
    page.goto(site.url("/admin/"))
    page.get_by_label("Username").fill("publisher")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url("/admin/"))


def test_a_publisher_adds_and_publishes_a_county_resolution(fresh_site, page, publisher):
    assert county_status(page, fresh_site, ALBANY) == "none"

    sign_in_as_publisher(page, fresh_site)

    page.goto(fresh_site.url("/admin/recognition/resolution/add/"))
    page.get_by_label("Kind").select_option("resolution")
    page.get_by_label("Status").select_option("adopted")
    page.locator("#id_title").fill("Resolution recognizing 911 dispatchers as first responders")
    # The jurisdiction autocomplete: type, then pick the county.
    page.locator(".field-jurisdiction .select2-selection").click()
    page.locator(".select2-search__field").fill("Albany")
    page.locator(".select2-results__option", has_text="Albany County, WY").click()
    page.get_by_label("Adopting body").fill("Albany County Commission")
    page.get_by_label("Adopted").fill("2024-05")
    page.locator("#id_sources-0-url").fill("https://example.org/albany-county/minutes-2024-05")
    page.locator("#id_sources-0-title").fill("Commission minutes, May 2024")
    page.get_by_label("Confidence").select_option("high")
    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url(re.compile(r".*/admin/recognition/resolution/$"))
    assert "was added successfully" in page.locator(".messagelist").text_content()

    assert county_status(page, fresh_site, ALBANY) == "county"


def test_the_submission_form_is_accessible_and_works(fresh_site, page):
    page.goto(fresh_site.url("/submit/"))
    violations = axe_violations(page)
    assert not violations, format_violations(violations)

    # The anti-spam field is out of a person's way: not visible, not in the tab order.
    trap = page.locator("input[name=website]")
    assert trap.get_attribute("tabindex") == "-1"
    assert not trap.is_visible() or trap.bounding_box()["x"] < 0

    page.get_by_label("State or territory").select_option("WY")
    page.get_by_label("City, county or district").fill("Albany County")
    page.get_by_label("Link to the text or a news report").fill("https://example.org/albany/resolution")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(fresh_site.url("/submit/thanks/"))
    assert page.get_by_role("heading", level=1).text_content() == "Thank you"


def test_the_record_form_fits_a_1280_pixel_screen(fresh_site, page, publisher):
    """The sources inline once was 1,621 px wide inside a 901 px form: nothing may scroll sideways, on a new
    record's form or on a bill's, with its actions and its session."""
    bill = Resolution.objects.get(identifier="S. 725")
    # The starter data has its Congress and actions; the longest description a form may well hold, too.
    assert bill.session.name == "119th Congress" and bill.actions.exists()
    action = bill.actions.order_by("on").first()
    action.description = (
        "Introduced in the Senate and read twice; referred to the Committee on Commerce, "
        "Science, and Transportation."
    )
    action.save()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as_publisher(page, fresh_site)
    for path in ["/admin/recognition/resolution/add/", f"/admin/recognition/resolution/{bill.pk}/change/"]:
        page.goto(fresh_site.url(path))
        overflow = page.evaluate(
            """() => [...document.querySelectorAll('#content-main, .inline-group, fieldset')]
                 .filter(el => el.scrollWidth > el.clientWidth + 1)
                 .map(el => `${el.id || el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""
        )
        assert overflow == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
