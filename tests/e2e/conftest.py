"""Browser tests: Playwright's sync API driving Debian's Chromium (/usr/bin/chromium).

Fixtures:
- ``browser``: one headless Chromium for the session.
- ``page`` (1280x800) and ``phone_page`` (375x812): a new browser context per test. A console error or an
  uncaught page error fails the test; ``browser_errors`` is the list they are collected in, for a test that
  expects one (it checks, then clears the list).
- ``site``: a live server with the reference geography and the starter dataset loaded, as `make run` serves
  them, shared by every test that only reads (data loaded once per session). ``site.url("/states/al/")`` is
  an absolute URL on it. A test that changes data (signs in, publishes, imports) asks for ``fresh_site``
  instead: pytest-django's ``live_server`` with the same data loaded for that test alone.
- ``axe_violations(page)`` (a function, import it from here): serious and critical axe-core violations.

Ordering: ``live_server`` implies a transactional database that is flushed after each test, which also
removes the geography that tests/conftest.py loads once per session and the shared site's data. So the hook
below runs every test in this folder after all the others, the ``site`` tests before the ``fresh_site``
ones, and ``fresh_site`` loads the data again for each test. Loading it takes seconds: sharing it is what
keeps the browser tests inside the suite's time budget.

Without /usr/bin/chromium (or without Playwright) these tests are skipped, except under CI=true, where they
fail: a CI run must not pass by skipping its browser tests.
"""

import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

# The Playwright sync API runs an asyncio loop in the test thread; Django's ORM refuses to run in a thread
# with a running loop unless told it is safe (it is: the loop is Playwright's, not ours). `make test` sets it
# too; setting it here keeps a bare `pytest tests/e2e` working.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = E2E_DIR / "assets" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
DEFAULT_TIMEOUT_MS = 10_000
SERIOUS_IMPACTS = ("serious", "critical")


def _in_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason):
    """Skip locally, fail in CI."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run in CI; .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Mark everything in tests/e2e as e2e and run it after every other test, the tests on the shared site
    before those that flush the database (see the module docstring)."""
    shared, flushing, others = [], [], []
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            fixtures = getattr(item, "fixturenames", ())
            if "site" in fixtures and not item.get_closest_marker("django_db"):
                # pytest-django creates the test database only for a run with a test marked as using it: a
                # run of browser tests alone would otherwise find no tables.
                item.add_marker(pytest.mark.django_db)
            (flushing if "fresh_site" in fixtures else shared).append(item)
        else:
            others.append(item)
    items[:] = others + shared + flushing


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser_errors():
    """Console errors and page errors seen by this test's pages; the test fails if any are left at its end."""
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    errors = item.funcargs.get("browser_errors") if hasattr(item, "funcargs") else None
    if errors:
        pytest.fail("The page reported errors:\n" + "\n".join(f"  - {e}" for e in errors), pytrace=False)
    return result


def _open_page(browser, errors, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()

    def on_console(message):
        if message.type != "error":
            return
        where = message.location.get("url") or page.url
        # Chromium asks for /favicon.ico by itself, at a moment of its choosing, unless the page names an
        # icon: a 404 there would fail tests at random, so it is not counted (the page's own links are).
        if urlsplit(where).path == "/favicon.ico":
            return
        errors.append(f"console error: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    return context, page


@pytest.fixture
def page(browser, browser_errors):
    context, desktop_page = _open_page(browser, browser_errors, DESKTOP)
    yield desktop_page
    context.close()


@pytest.fixture
def phone_page(browser, browser_errors):
    context, small_page = _open_page(browser, browser_errors, PHONE)
    yield small_page
    context.close()


@dataclass(frozen=True)
class Site:
    base_url: str

    def url(self, path="/"):
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


def _load_site_data():
    """Reference geography, the Congresses and the starter dataset with its actions, as `make run` loads them
    (each command leaves data already there alone)."""
    quiet = io.StringIO()
    call_command("load_geography", verbosity=0, stdout=quiet)
    call_command("load_population", verbosity=0, stdout=quiet)
    call_command("load_congresses", verbosity=0, stdout=quiet)
    call_command("load_starter_dataset", verbosity=0, stdout=quiet)


@pytest.fixture(scope="session")
def _shared_server(django_db_setup, django_db_blocker):
    """A live server of its own (not pytest-django's, whose tests flush the database) over data loaded once."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        _load_site_data()
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    yield server
    server._live_server_modified_settings.disable()
    server.stop()


@pytest.fixture
def site(_shared_server, django_db_blocker):
    """The shared live server, for tests that only read. The database is open to the server's thread and the
    test for the test's length (outside any transaction: a test here must not change data; use
    ``fresh_site`` for one that does)."""
    with django_db_blocker.unblock():
        yield Site(_shared_server.url)


@pytest.fixture
def fresh_site(live_server):
    """pytest-django's live server with the site's data loaded for this test alone: for tests that change data
    (its transactional database is flushed after the test)."""
    _load_site_data()
    return Site(live_server.url)


def axe_violations(page, prepare=None):
    """Serious and critical axe-core violations of what ``page`` shows.

    axe is injected as a script, which a Content-Security-Policy may forbid, so it runs in a separate context
    created with ``bypass_csp=True`` (the test's own page keeps the real policy, and so still reports what it
    blocks): the same URL (or, for a page without one, the same HTML) at the same viewport. ``prepare(page)``,
    if given, brings that page into the state to check (open a menu, switch a layer) before axe runs.
    Returns axe's violation dicts; ``format_violations`` makes an assertion message of them.
    """
    context = page.context.browser.new_context(bypass_csp=True, viewport=page.viewport_size)
    try:
        checked = context.new_page()
        checked.set_default_timeout(DEFAULT_TIMEOUT_MS)
        if page.url.startswith(("http://", "https://")):
            checked.goto(page.url, wait_until="load")
        else:
            checked.set_content(page.content(), wait_until="load")
        if prepare is not None:
            prepare(checked)
        checked.add_script_tag(path=str(AXE_JS))
        results = checked.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    return [v for v in results["violations"] if v.get("impact") in SERIOUS_IMPACTS]


def format_violations(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['impact']}: {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('html', '')[:160]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)
