"""A publisher imports the starter actions through the admin's CSV import, in Chromium: upload, preview (with
the stages that would change), confirm; then the measure's stage is the one its actions give."""

import re

import pytest

from recognition.models import Action, Resolution
from tests.e2e.conftest import axe_violations, format_violations
from tests.e2e.test_staff import publisher, sign_in_as_publisher  # noqa: F401 (a fixture)
from tests.test_action_importer import STARTER_ACTIONS, starter_action_rows

pytestmark = pytest.mark.e2e


def test_a_publisher_imports_the_starter_actions(fresh_site, page, publisher):  # noqa: F811
    Action.objects.all().delete()  # the site is set up with them: start from the measures alone
    assert Resolution.objects.get(identifier="S. 725").stage == "introduced"
    sign_in_as_publisher(page, fresh_site)
    page.goto(fresh_site.url("/admin/recognition/resolution/import/"))
    page.get_by_label("CSV file").set_input_files(str(STARTER_ACTIONS))
    page.get_by_role("button", name="Preview the import").click()

    rows = len(starter_action_rows())
    assert f"{rows} actions: {rows} created" in page.locator("#content-main").text_content()
    assert (
        "S. 725 (United States): Introduced → Passed the upper chamber"
        in page.locator("#import-stages").text_content()
    )
    assert page.locator("#import-rows tbody tr").count() == rows
    # The preview answers a POST, which axe cannot load again by its address: it checks the page's HTML
    # (structure, names, table headers) in a blank page of the same browser.
    copy = page.context.new_page()
    copy.set_content(page.content())
    violations = axe_violations(copy)
    copy.close()
    assert not violations, format_violations(violations)

    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(re.compile(r".*/admin/recognition/resolution/$"))
    assert f"{rows} actions: {rows} created" in page.locator(".messagelist").text_content()
    assert Resolution.objects.get(identifier="S. 725").stage == "passed_upper"
