"""A reporter on deadline: filter, share the link, download exactly that."""

import csv

import pytest

from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.e2e


def test_filter_share_and_download(site, page, browser):
    page.goto(site.url("/resolutions/"))
    # Typing narrows the states (any word of a name, or its code); Enter chooses the only one left.
    find_state = page.get_by_label("Find a state or territory")
    find_state.fill("ala")
    assert page.get_by_role("checkbox", name="Alabama").is_visible()
    assert page.get_by_role("checkbox", name="Alaska").is_visible()
    assert not page.get_by_role("checkbox", name="Texas").is_visible()
    find_state.fill("alab")
    find_state.press("Enter")
    assert page.get_by_role("checkbox", name="Alabama").is_checked()
    assert page.get_by_role("checkbox", name="Texas").is_visible()  # the box is emptied: every state again
    assert "?" not in page.url  # Enter in the box chose; it did not send the form
    page.get_by_role("checkbox", name="County").check()
    page.get_by_role("button", name="Show results").click()
    page.wait_for_url("**/resolutions/?*state=AL*")
    shared_url = page.url
    heading = page.locator("#results-heading").text_content()
    rows_on_page = page.locator("main table tbody tr").count()
    assert heading.strip() == f"{rows_on_page} resolution{'s' if rows_on_page != 1 else ''}"
    # Each choice says how many rows it gives with the other filters kept: here, this list.
    county = page.get_by_role("checkbox", name="County").locator("xpath=..").locator(".facet__count")
    assert county.text_content().split()[0] == str(rows_on_page)

    # The editor opens the shared link in another browser: the same search, the same rows.
    other = browser.new_context().new_page()
    other.goto(shared_url)
    assert other.locator("#results-heading").text_content() == heading
    checked = other.locator('input[name="state"]:checked')
    assert checked.evaluate_all("boxes => boxes.map(b => b.value)") == ["AL"]
    other.context.close()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as downloaded:
        rows = list(csv.DictReader(downloaded))
    assert len(rows) == rows_on_page
    assert {row["state"] for row in rows} == {"AL"}
    assert {row["level"] for row in rows} == {"county"}


def test_filter_by_stage_then_download_the_same_rows(site, page):
    page.goto(site.url("/resolutions/"))
    page.get_by_role("checkbox", name="Signed or adopted").check()
    page.get_by_role("checkbox", name="In force").check()
    page.get_by_label("Sort by").select_option(label="Latest action (newest first)")
    page.get_by_role("button", name="Show results").click()
    page.wait_for_url("**/resolutions/?*stage=adopted*")
    assert "stage=in_force" in page.url and "ordering=-latest_action" in page.url
    header = [cell.strip() for cell in page.locator("main table thead th").all_text_contents()]
    stage_column = header.index("Stage")
    rows = page.locator("main table tbody tr")
    stages = [rows.nth(i).locator("td").nth(stage_column).text_content().strip() for i in range(rows.count())]
    assert stages and set(stages) <= {"Signed or adopted", "In force"}
    assert page.get_by_role("checkbox", name="In force").is_checked()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as downloaded:
        exported = list(csv.DictReader(downloaded))
    assert len(exported) == len(stages)
    assert {row["stage"] for row in exported} <= {"adopted", "in_force"}


@pytest.mark.parametrize("path", ["/resolutions/?stage=adopted&stage=introduced", "/data/"])
def test_the_list_and_data_pages_have_no_serious_accessibility_violations(site, page, path):
    page.goto(site.url(path))
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
