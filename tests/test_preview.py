"""Draft preview: staff read a draft on the public record page, marked as a draft, never cached or indexed;
for anyone else a draft's preview is the same 404 as a record that does not exist."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from recognition import roles
from recognition.models import Confidence, Resolution, Source
from recognition.pagecache import STORE_HEADER
from tests.conftest import ResolutionFactory
from tests.staff import make_user, signed_in

pytestmark = pytest.mark.django_db

BANNER = "Draft: not public"


class Page(HTMLParser):
    """The robots meta tag, the draft banner's text, and every link (href, text)."""

    def __init__(self, html):
        super().__init__()
        self.robots, self.banner, self.links = None, None, []
        self._banner_depth, self._link = 0, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("name") == "robots":
            self.robots = attrs.get("content")
        if self._banner_depth:
            self._banner_depth += tag not in ("meta", "br", "img", "input")
        elif "draft-banner" in (attrs.get("class") or "").split():
            self.banner, self._banner_depth = "", 1
        if tag == "a":
            self._link = [attrs.get("href"), ""]

    def handle_endtag(self, tag):
        if self._banner_depth:
            self._banner_depth -= 1
        if tag == "a" and self._link:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None

    def handle_data(self, data):
        if self._banner_depth:
            self.banner += data
        if self._link:
            self._link[1] += data


@pytest.fixture
def draft(db):
    """An unchecked draft as staff first enter it: low confidence, one source without a link."""
    record = ResolutionFactory(
        published=False, confidence=Confidence.LOW, summary="", body="", sources=[], title="Draft measure"
    )
    Source.objects.create(resolution=record, title="Clerk's letter (print only)")
    return record


@pytest.fixture
def editor(django_user_model):
    return make_user(django_user_model, "editor", roles.EDITORS)


def preview(client, record):
    return client.get(record.get_preview_url())


def test_the_preview_address(draft):
    assert draft.get_preview_url() == f"/resolutions/{draft.pk}/preview/"
    assert draft.get_absolute_url() == f"/resolutions/{draft.pk}/"


@pytest.mark.parametrize("role", [roles.EDITORS, roles.PUBLISHERS, "superuser", "view permission only"])
def test_staff_see_the_draft_on_the_public_template_marked_as_a_draft(django_user_model, draft, role):
    if role == "superuser":
        user = django_user_model.objects.create_superuser("boss", "boss@example.org", "x")
    elif role == "view permission only":
        user = make_user(django_user_model, "reader")
        user.user_permissions.add(Permission.objects.get(codename="view_resolution"))
    else:
        user = make_user(django_user_model, "staff", role)

    response = preview(signed_in(user), draft)

    assert response.status_code == 200
    assert [t.name for t in response.templates][:1] == ["recognition/resolution_detail.html"]
    page = Page(response.content.decode())
    assert page.banner is not None and BANNER in page.banner
    # What would stop a publisher, in the model's own words.
    assert Resolution.LOW_CONFIDENCE_MESSAGE in page.banner and Resolution.NO_SOURCE_MESSAGE in page.banner
    assert (f"/admin/recognition/resolution/{draft.pk}/change/", "Edit this draft in the admin") in page.links
    assert "Draft measure" in response.content.decode()
    assert "Clerk&#x27;s letter (print only)" in response.content.decode()
    assert page.robots == "noindex"
    assert response["X-Robots-Tag"] == "noindex"


def test_the_preview_is_never_cached(client, editor, draft):
    response = preview(signed_in(editor), draft)

    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private", "no-cache", "max-age=0"} <= directives
    assert "public" not in directives
    assert "ETag" not in response and "Last-Modified" not in response
    assert STORE_HEADER not in response  # the page cache in front of Django keeps only answers marked so
    # Nothing was kept for the next visitor: the same address, anonymously, is a 404.
    assert preview(client, draft).status_code == 404


def test_a_draft_without_problems_says_only_that_it_is_a_draft(editor):
    ready = ResolutionFactory(published=False)  # high confidence, a linked source: a publisher may publish it
    page = Page(preview(signed_in(editor), ready).content.decode())
    assert " ".join(page.banner.split()).startswith(BANNER)
    assert "Still needed" not in page.banner


def test_published_pages_have_no_banner_and_may_be_indexed(client):
    record = ResolutionFactory()
    page = Page(client.get(record.get_absolute_url()).content.decode())
    assert page.banner is None and page.robots is None


def test_a_published_record_preview_leads_to_its_public_page(client, editor):
    record = ResolutionFactory()
    for visitor in (client, signed_in(editor)):
        response = preview(visitor, record)
        assert response.status_code == 302
        assert response["Location"] == record.get_absolute_url()


def visitors(django_user_model):
    """Everyone who is not staff with the view permission."""
    member = django_user_model.objects.create_user("member", "member@example.org", "x")
    staff_without_role = make_user(django_user_model, "newcomer")  # staff status, no group yet
    return {
        "anonymous": Client(),
        "signed-in member": signed_in(member),
        "staff, no role": signed_in(staff_without_role),
    }


def test_anyone_else_gets_the_404_of_a_record_that_does_not_exist(django_user_model, draft):
    missing = Resolution(pk=draft.pk + 1000)
    for who, visitor in visitors(django_user_model).items():
        draft_answer, missing_answer = preview(visitor, draft), preview(visitor, missing)
        assert (draft_answer.status_code, missing_answer.status_code) == (404, 404), who
        assert draft_answer.content == missing_answer.content, who
        assert dict(draft_answer.headers) == dict(missing_answer.headers), who
        assert b"Draft measure" not in draft_answer.content


def test_staff_get_a_404_for_a_record_that_does_not_exist(editor, draft):
    assert preview(signed_in(editor), Resolution(pk=draft.pk + 1000)).status_code == 404


def test_the_public_address_of_a_draft_stays_a_404_even_for_staff(editor, draft):
    assert signed_in(editor).get(draft.get_absolute_url()).status_code == 404
