"""The strict Content-Security-Policy (config/settings.py SECURE_CSP) breaks nothing staff or developers use.

With the policy on, as in production, the admin (sign-in, the resolution list, the add form with its inline
sources and its jurisdiction autocomplete) and the API documentation (/api/docs/, Swagger UI from the sidecar
package) work, and the browser reports no violation: neither as a `securitypolicyviolation` event (collected
here) nor as a console error (which the `page` fixture turns into a failure).
"""

import re

import pytest
from django.contrib.auth import get_user_model

from tests.staff import PASSWORD

pytestmark = pytest.mark.e2e

# Reports every violation to Python as it happens, from every document the page loads, before its scripts.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    page: document.location.href,
  });
});
"""


@pytest.fixture
def csp_violations(page):
    """The CSP violations `page` reports, as dicts (directive, blocked, source, line, sample, page)."""
    violations = []

    def report(violation):
        violations.append(violation)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT_VIOLATIONS)
    return violations


def assert_strict_policy(response):
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy


def settle(page):
    """Let late violation reports (they are delivered asynchronously) reach Python."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 100))")


@pytest.fixture
def superuser(fresh_site):
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def test_the_admin_works_under_the_policy(fresh_site, page, csp_violations, superuser):
    response = page.goto(fresh_site.url("/admin/login/"))
    assert_strict_policy(response)
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(fresh_site.url("/admin/"))

    # The change list, and its JavaScript: "select all" counts the selected rows.
    response = page.goto(fresh_site.url("/admin/recognition/resolution/"))
    assert_strict_policy(response)
    rows = page.locator("#result_list tbody tr")
    assert rows.count() > 0
    page.locator("#action-toggle").check()
    assert re.search(r"\b\d+ of \d+ selected", page.locator(".action-counter").text_content())
    settle(page)

    # The add form: another inline source row, and the jurisdiction autocomplete (select2 over fetch).
    response = page.goto(fresh_site.url("/admin/recognition/resolution/add/"))
    assert_strict_policy(response)
    forms_before = page.locator(".dynamic-sources").count()
    page.locator(".inline-group .add-row a").first.click()
    assert page.locator(".dynamic-sources").count() == forms_before + 1
    page.locator(".field-jurisdiction .select2-selection").click()
    page.locator(".select2-search__field").fill("Albany")
    page.locator(".select2-results__option", has_text="Albany County, WY").click()
    chosen = page.locator(".field-jurisdiction .select2-selection__rendered")
    assert "Albany County, WY" in chosen.text_content()
    settle(page)

    assert csp_violations == []


def test_the_api_documentation_works_under_the_policy(site, page, csp_violations):
    response = page.goto(site.url("/api/docs/"))
    assert_strict_policy(response)
    # Swagger UI rendered the schema: the title and the operations.
    page.locator(".swagger-ui .info .title").filter(has_text="Dispatcher Recognition Tracker API").wait_for()
    operation = page.locator(".opblock-get").filter(has_text="/api/states/").first
    operation.locator(".opblock-summary").click()
    # Try it out: Swagger UI calls the API from the page (connect-src) and shows the answer.
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    operation.locator(".live-responses-table .response-col_status").filter(has_text="200").first.wait_for()
    settle(page)

    assert csp_violations == []
