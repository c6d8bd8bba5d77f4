"""The timeline's text stays legible when the chart is scaled to a phone (issue 18), and Copy buttons copy.

The chart is an SVG scaled to its container, so CSS font sizes are in its frame's units: the size on screen
is the computed font size times the SVG's scale (its screen transformation matrix), measured here.
"""

import pytest

from recognition.models import Resolution
from tests.e2e.conftest import DEFAULT_TIMEOUT_MS, PHONE

pytestmark = pytest.mark.e2e

SMALLEST_TEXT = 12  # CSS px
# Each text of the timeline: its size on screen, and whether its box lies inside the chart's (not clipped).
TIMELINE_TEXT = """() => [...document.querySelectorAll('.chart__svg text')].map(t => {
  const svg = t.ownerSVGElement, box = t.getBoundingClientRect(), frame = svg.getBoundingClientRect();
  return {
    text: t.textContent,
    px: parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a,
    inside: box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5
      && box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5,
  };
})"""


@pytest.mark.parametrize("path", ["/", "/embed/timeline/"])
def test_no_timeline_text_is_under_12_px_on_a_phone_or_wider(site, phone_page, path):
    for width in (PHONE["width"], 320, 414, 600, 768, 1280):
        phone_page.set_viewport_size({"width": width, "height": PHONE["height"]})
        phone_page.goto(site.url(path))
        texts = phone_page.evaluate(TIMELINE_TEXT)
        assert len(texts) > 5, (path, width)
        small = [t for t in texts if t["px"] < SMALLEST_TEXT]
        assert not small, (path, width, small)
        clipped = [t["text"] for t in texts if not t["inside"]]
        assert not clipped, (path, width, clipped)


def test_a_copy_button_copies_the_citation_when_javascript_runs(site, browser):
    measure = Resolution.objects.published().order_by("pk").first()
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url.rstrip("/"))
    try:
        page = context.new_page()
        page.goto(site.url(measure.get_absolute_url()))
        bibtex = page.locator(".citation__text").nth(2)
        page.get_by_role("button", name="Copy BibTeX citation").click()
        page.get_by_text("Copied.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == bibtex.text_content()
    finally:
        context.close()

    without_js = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = without_js.new_page()
        page.goto(site.url(measure.get_absolute_url()))
        assert page.locator(".citation__text").count() == 3  # the text is there to select
        assert page.locator(".copy-button").count() == 0  # and no button that could not work
    finally:
        without_js.close()
