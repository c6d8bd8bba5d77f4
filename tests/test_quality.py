"""The data-quality desk (recognition/admin/quality.py): each list on hand-made records, and its counts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition import roles
from recognition.models import Confidence, LinkOutcome, Resolution, Source, Submission
from tests.conftest import ResolutionFactory
from tests.legislative import bill, session
from tests.staff import make_user, signed_in

pytestmark = pytest.mark.django_db
DESK = "admin:recognition_quality"


@pytest.fixture
def editor_client(django_user_model):
    return signed_in(make_user(django_user_model, "editor", roles.EDITORS))


def aged(obj, **delta):
    """Move a record's creation back in time, as if it had been made then."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=timezone.now() - datetime.timedelta(**delta))
    return obj


def checked(source, outcome, status=None):
    Source.objects.filter(pk=source.pk).update(
        link_outcome=outcome, link_status=status, link_checked_at=timezone.now()
    )


def submission(**delta):
    report = Submission.objects.create(state="AL", jurisdiction_name="Mobile", url="https://example.org/r")
    return aged(report, **delta)


@pytest.fixture
def records():
    today = timezone.localdate()
    broken = ResolutionFactory(title="Cites a dead link", last_verified_on=today)
    checked(broken.sources.get(), LinkOutcome.CLIENT_ERROR, 404)
    fine = ResolutionFactory(title="Cites a working link", last_verified_on=today)
    checked(fine.sources.get(), LinkOutcome.OK, 200)
    draft_with_dead_link = ResolutionFactory(
        title="A draft with a dead link", published=False, confidence=Confidence.MEDIUM
    )
    checked(draft_with_dead_link.sources.get(), LinkOutcome.TIMEOUT)
    return {
        "broken": broken,
        "draft_with_dead_link": draft_with_dead_link,
        "never_verified": ResolutionFactory(title="Never verified", last_verified_on=None),
        "stale": ResolutionFactory(
            title="Verified long ago", last_verified_on=today - datetime.timedelta(days=400)
        ),
        "recent": ResolutionFactory(
            title="Verified lately", last_verified_on=today - datetime.timedelta(days=300)
        ),
        "old_draft": aged(
            ResolutionFactory(title="An old draft", published=False, confidence=Confidence.LOW), days=31
        ),
        "new_draft": aged(
            ResolutionFactory(title="A new draft", published=False, confidence=Confidence.LOW), days=29
        ),
        "old_report": submission(days=8),
        "new_report": submission(days=6),
        "answered": Submission.objects.filter(pk=submission(days=20).pk).update(status="rejected"),
        "session_ended": bill(title="A bill of an ended session", session=session(end=(2025, 6, 5))),
        "no_session": bill(title="A pending bill with no session"),
        "adopted_no_session": bill(title="An adopted bill with no session", status="adopted"),
        "draft_no_session": bill(title="A draft bill with no session", published=False),
    }


def section(html, key):
    start = html.index(f'id="desk-{key}"')
    return html[start : html.index("</section>", start)]


def test_each_list_holds_exactly_what_it_says(editor_client, records):
    html = editor_client.get(reverse(DESK)).content.decode()
    broken = section(html, "broken")
    assert "Cites a dead link" in broken and "Not found or refused (4xx) (404)" in broken
    assert "working link" not in broken and "A draft with a dead link" not in broken  # drafts: their own list

    unverified = section(html, "unverified")
    assert "Never verified" in unverified and "Verified long ago" in unverified
    assert "Verified lately" not in unverified and "Cites a dead link" not in unverified
    assert unverified.index("Never verified") < unverified.index("Verified long ago")  # the worst first

    drafts = section(html, "drafts")
    assert "An old draft" in drafts and "A new draft" not in drafts

    no_session = section(html, "no_session")
    listed = set(re.findall(r'change/">([^<]+)</a>', no_session))
    assert listed == {str(records["no_session"])}  # not the ended session's bill, the adopted one, the draft

    reports = section(html, "submissions")
    old = reverse("admin:recognition_submission_change", args=[records["old_report"].pk])
    new = reverse("admin:recognition_submission_change", args=[records["new_report"].pk])
    assert old in reports and new not in reports and reports.count("<tr>") == 1 + 1  # header + one


def test_each_row_links_to_where_it_is_fixed(editor_client, records):
    html = editor_client.get(reverse(DESK)).content.decode()
    record_url = reverse("admin:recognition_resolution_change", args=[records["broken"].pk])
    assert f'href="{record_url}"' in section(html, "broken")


def test_the_admin_index_shows_every_count(editor_client, records):
    html = editor_client.get(reverse("admin:index")).content.decode()
    summary = html[html.index('id="quality-summary"') :]
    counts = dict(re.findall(r"#desk-(\w+)\">[^<]+: (\d+)<", summary))
    # Counted here from the records made above, not from the desk's own queries.
    expected = {
        "broken": 1,
        "unverified": Resolution.objects.filter(published=True)
        .exclude(last_verified_on__gte=timezone.localdate() - datetime.timedelta(days=365))
        .count(),
        "drafts": 1,
        "session_ended": 1,
        "no_session": 1,
        "submissions": 1,
    }
    assert {key: int(value) for key, value in counts.items()} == expected
    assert expected["unverified"] == 2


def test_only_staff_see_the_desk(client, django_user_model, records):
    response = client.get(reverse(DESK))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    nobody = django_user_model.objects.create_user("visitor", password="a-long-test-password", is_staff=True)
    assert signed_in(nobody).get(reverse(DESK)).status_code == 403


def test_view_on_site_shows_a_draft_as_its_preview(editor_client):
    draft = ResolutionFactory(published=False, confidence=Confidence.MEDIUM)
    published = ResolutionFactory()
    page = editor_client.get(reverse("admin:recognition_resolution_change", args=[draft.pk])).content.decode()
    assert draft.get_preview_url() in page
    page = editor_client.get(
        reverse("admin:recognition_resolution_change", args=[published.pk])
    ).content.decode()
    assert published.get_absolute_url() in page and published.get_preview_url() not in page
