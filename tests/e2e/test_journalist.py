"""A reporter on deadline: filter, share the link, download exactly that."""

import csv

import pytest

pytestmark = pytest.mark.e2e


def test_filter_share_and_download(site, page, browser):
    page.goto(site.url("/resolutions/"))
    page.get_by_role("listbox", name="State or territory").select_option(["AL"])
    page.get_by_role("checkbox", name="County").check()
    page.get_by_role("button", name="Show results").click()
    page.wait_for_url("**/resolutions/?*state=AL*")
    shared_url = page.url
    heading = page.locator("#results-heading").text_content()
    rows_on_page = page.locator("main table tbody tr").count()
    assert heading.strip() == f"{rows_on_page} resolution{'s' if rows_on_page != 1 else ''}"

    # The editor opens the shared link in another browser: the same search, the same rows.
    other = browser.new_context().new_page()
    other.goto(shared_url)
    assert other.locator("#results-heading").text_content() == heading
    assert other.get_by_role("listbox", name="State or territory").evaluate(
        "s => [...s.selectedOptions].map(o => o.value)"
    ) == ["AL"]
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
