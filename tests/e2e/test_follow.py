"""Follow by email in Chromium, as an advocate does it: follow Alabama from its state page, confirm from the
mail that arrives (at a real SMTP server started here), then a publisher publishes an Alabama measure in the
admin and the advocate's mail arrives, its link leading to the measure's page."""

import re

import pytest

from recognition.models import Resolution
from tests.conftest import ResolutionFactory, get_county
from tests.e2e.test_staff import publisher, sign_in_as_publisher  # noqa: F401 (the fixture is used by name)
from tests.smtp import html_of, running_sink, text_of

ADDRESS = "advocate@example.org"


@pytest.fixture
def mailbox(fresh_site, settings):
    sink, controller = running_sink(settings, fresh_site.base_url.rstrip("/"))
    yield sink
    controller.stop()


def test_follow_alabama_confirm_then_see_the_mail_of_a_publish(fresh_site, page, mailbox, publisher):  # noqa: F811
    page.goto(fresh_site.url("/states/al/"))
    page.get_by_role("link", name="Follow by email").first.click()
    page.get_by_label("Your email").fill(ADDRESS)
    page.get_by_label("As it happens").check()
    page.get_by_role("button", name="Follow").click()
    page.wait_for_url(re.compile(r".*/follow/sent/$"))

    [confirmation] = mailbox.to(ADDRESS)
    assert "Alabama" in confirmation["Subject"]
    link = re.search(r"(http://\S+/follow/confirm/\S+/)", text_of(confirmation)).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    assert "You are following Alabama" in page.locator("h1").text_content()

    measure = ResolutionFactory(
        jurisdiction=get_county("01003"),  # Baldwin County, Alabama
        title="Baldwin County resolution recognizing 911 telecommunicators",
        published=False,
    )
    assert mailbox.to(ADDRESS) == [confirmation]  # a draft sends nothing

    sign_in_as_publisher(page, fresh_site)
    page.goto(fresh_site.url(f"/admin/recognition/resolution/{measure.pk}/change/"))
    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/admin/recognition/resolution/$"))
    assert Resolution.objects.get(pk=measure.pk).published

    confirmation_and_news = mailbox.to(ADDRESS)
    assert len(confirmation_and_news) == 2
    news = confirmation_and_news[1]
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert news["List-Unsubscribe"].startswith("<http")
    assert measure.title in text_of(news)

    # The mail as a person reads it: its HTML part, then its link to the measure.
    page.set_content(html_of(news))
    record_link = page.locator(f"a[href$='/resolutions/{measure.pk}/']")
    assert "New record" in record_link.text_content()
    record_link.click()
    page.wait_for_url(fresh_site.url(f"/resolutions/{measure.pk}/"))
    assert measure.title in page.locator("h1").text_content()
