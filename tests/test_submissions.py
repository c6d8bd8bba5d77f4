"""Public submissions and corrections: stored as pending, never public by themselves, guarded against spam
and scripts, and moderated in the admin (accept into a prefilled draft, or reject with a reason)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from recognition import roles
from recognition.models import Confidence, Jurisdiction, Resolution, Submission
from tests.conftest import ResolutionFactory, get_county
from tests.staff import make_user, signed_in

pytestmark = pytest.mark.django_db

SUBMIT = reverse("recognition:submit")
SCRIPT = '<script>alert("owned")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The rate limit counts in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def editor_client(django_user_model):
    return signed_in(make_user(django_user_model, "editor", roles.EDITORS))


@pytest.fixture
def publisher_client(django_user_model):
    return signed_in(make_user(django_user_model, "publisher", roles.PUBLISHERS))


def report(**overrides):
    data = {
        "state": "WY",
        "jurisdiction_name": "Albany County",
        "body": "Board of County Commissioners",
        "date_text": "2024-03",
        "url": "https://example.org/albany/resolution-2024-12",
        "description": "Recognizes the county's 911 dispatchers as first responders.",
        "email": "reader@example.org",
        "website": "",
    }
    data.update(overrides)
    return data


def post(data, client=None, address="192.0.2.10", url=SUBMIT):
    return (client or Client()).post(url, data, REMOTE_ADDR=address)


# --- the form ------------------------------------------------------------------------------------


def test_the_form_asks_for_the_essentials_and_hides_the_trap_from_people(client):
    response = client.get(SUBMIT)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tell us about a resolution" in html
    assert 'name="csrfmiddlewaretoken"' in html
    for name in ["state", "jurisdiction_name", "body", "date_text", "url", "description", "email"]:
        assert f'name="{name}"' in html
    # The trap: hidden from people (off screen, aria-hidden), out of the tab order, never autofilled.
    trap = re.search(r'<div class="submit-form__trap" aria-hidden="true">(.*?)</div>', html, re.S)
    assert trap, "the honeypot's container is missing or not aria-hidden"
    assert 'name="website"' in trap[1] and 'tabindex="-1"' in trap[1] and 'autocomplete="off"' in trap[1]
    assert reverse("recognition:submit") in client.get("/").content.decode()  # linked from every page


def test_a_report_is_stored_pending_and_the_person_is_thanked(client):
    response = post(report())
    assert response.status_code == 302 and response["Location"] == reverse("recognition:submit_thanks")
    submission = Submission.objects.get()
    assert submission.status == "pending" and submission.resolution is None
    assert (submission.state, submission.jurisdiction_name, submission.date_text) == (
        "WY",
        "Albany County",
        "2024-03",
    )
    assert submission.client_hash and "192.0.2.10" not in submission.client_hash
    assert submission.history.get().history_type == "+"
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_a_report_never_appears_publicly_by_itself(client):
    post(report(jurisdiction_name="Nowhere County Unique", description="A unique description text"))
    for url in [
        "/",
        "/states/wy/",
        "/resolutions/",
        "/resolutions/?q=Unique",
        "/api/resolutions/",
        "/feeds/resolutions/",
    ]:
        body = client.get(url).content.decode()
        assert "Nowhere County Unique" not in body and "unique description" not in body, url


def test_a_partial_date_is_stored_as_typed_and_an_impossible_one_explained():
    assert post(report(date_text="2024")).status_code == 302
    assert Submission.objects.get().date_text == "2024"
    response = post(report(date_text="2024-02-30"))
    assert response.status_code == 200  # the form again, with the error
    assert "February 2024 has 29 days" in response.content.decode()
    assert Submission.objects.count() == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("url", "", "This field is required."),
        ("url", "javascript:alert(1)", "Enter a valid URL."),
        ("url", "not a link", "Enter a valid URL."),
        ("state", "ZZ", "Select a valid choice."),
        ("jurisdiction_name", "", "This field is required."),
        ("jurisdiction_name", "x" * 201, "at most 200 characters"),
        ("description", "x" * 2001, "at most 2000 characters"),
        ("email", "not-an-email", "Enter a valid email address."),
    ],
)
def test_invalid_input_is_refused_with_a_reason(field, value, message):
    response = post(report(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Submission.objects.exists()


# --- defences ------------------------------------------------------------------------------------


def test_a_filled_honeypot_is_refused_and_nothing_stored():
    response = post(report(website="https://spam.example"))
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_csrf_is_required():
    response = post(report(), client=Client(enforce_csrf_checks=True))
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_five_an_hour_per_address_then_429():
    for number in range(5):
        assert post(report(jurisdiction_name=f"County {number}"), address="192.0.2.20").status_code == 302
    response = post(report(jurisdiction_name="County 6"), address="192.0.2.20")
    assert response.status_code == 429
    assert "try again" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 3600  # when the hour's window ends
    assert Submission.objects.count() == 5
    assert post(report(jurisdiction_name="From elsewhere"), address="192.0.2.21").status_code == 302
    assert Submission.objects.count() == 6


PROXY = "10.0.0.2"  # behind nginx, every request comes from the proxy's address


def post_through_proxy(data, real_address):
    return Client().post(SUBMIT, data, REMOTE_ADDR=PROXY, HTTP_X_REAL_IP=real_address)


def test_behind_a_proxy_the_limit_is_per_visitor_not_for_the_whole_site(settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    for number in range(5):
        assert (
            post_through_proxy(report(jurisdiction_name=f"County {number}"), "198.51.100.20").status_code
            == 302
        )
    assert post_through_proxy(report(jurisdiction_name="County 6"), "198.51.100.20").status_code == 429
    assert post_through_proxy(report(jurisdiction_name="Another visitor"), "198.51.100.21").status_code == 302
    assert Submission.objects.count() == 6
    # Staff tell repeat senders apart by the visitor's address too, never the proxy's.
    hashes = dict(Submission.objects.values_list("jurisdiction_name", "client_hash"))
    assert hashes["County 0"] == hashes["County 4"] != hashes["Another visitor"]


def test_without_the_setting_a_forged_header_changes_nothing():
    for number in range(5):
        assert (
            post_through_proxy(
                report(jurisdiction_name=f"County {number}"), f"198.51.100.{number}"
            ).status_code
            == 302
        )
    assert post_through_proxy(report(jurisdiction_name="County 6"), "198.51.100.99").status_code == 429


@pytest.mark.parametrize("value", ["", "not-an-address", "198.51.100.7, 10.0.0.1", "999.1.1.1"])
def test_a_malformed_client_address_header_falls_back_to_the_connection(settings, value):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    for number in range(5):
        assert post_through_proxy(report(jurisdiction_name=f"County {number}"), value).status_code == 302
    assert (
        post_through_proxy(report(jurisdiction_name="County 6"), value).status_code == 429
    )  # the proxy's limit


def test_the_rate_limit_counts_only_posts():
    for _ in range(8):
        assert Client().get(SUBMIT, REMOTE_ADDR="192.0.2.30").status_code == 200
    assert post(report(), address="192.0.2.30").status_code == 302


def test_scripts_are_text_everywhere(editor_client, publisher_client):
    post(
        report(
            jurisdiction_name=f"Albany {SCRIPT}",
            body=SCRIPT,
            description=SCRIPT,
            url=f"https://example.org/?q={SCRIPT}",
        )
    )
    submission = Submission.objects.get()
    pages = [
        reverse("admin:recognition_submission_changelist"),
        reverse("admin:recognition_submission_change", args=[submission.pk]),
        reverse("admin:recognition_submission_accept", args=[submission.pk]),
        reverse("admin:recognition_submission_reject", args=[submission.pk]),
        reverse("admin:recognition_submission_history", args=[submission.pk]),
    ]
    for url in pages:
        html = editor_client.get(url).content.decode()
        assert SCRIPT not in html, url
        assert ESCAPED in html or "alert(&quot;owned&quot;)" in html, url
    # Accepted and published, the text reaches the public page as text.
    county = get_county("56001")
    response = editor_client.post(
        reverse("admin:recognition_submission_accept", args=[submission.pk]),
        {
            "jurisdiction": county.pk,
            "kind": "resolution",
            "status": "adopted",
            "title": f"Title {SCRIPT}",
            "adopted": "2024-03",
        },
    )
    assert response.status_code == 302
    resolution = Resolution.objects.get(jurisdiction=county)
    resolution.confidence = Confidence.HIGH
    resolution.save()
    publisher_client.post(
        reverse("admin:recognition_resolution_changelist"),
        {"action": "publish", "_selected_action": [resolution.pk]},
    )
    resolution.refresh_from_db()
    assert resolution.published
    for url in [
        resolution.get_absolute_url(),
        "/states/wy/",
        county.get_absolute_url(),
        "/resolutions/",
        "/feeds/resolutions/",
    ]:
        body = Client().get(url).content.decode()
        assert SCRIPT not in body, url
    html = editor_client.get(reverse("admin:recognition_resolution_changelist")).content.decode()
    assert SCRIPT not in html and ESCAPED in html


# --- corrections ---------------------------------------------------------------------------------


def test_each_published_record_offers_a_prefilled_correction_form(client):
    resolution = ResolutionFactory(jurisdiction=get_county("56001"), body="Albany County Commission")
    page = client.get(resolution.get_absolute_url()).content.decode()
    link = f"{SUBMIT}?resolution={resolution.pk}"
    assert link in page and "Suggest a correction" in page
    response = client.get(link)
    form = response.context["form"]
    assert form.initial["state"] == "WY" and form.initial["jurisdiction_name"] == "Albany County"
    assert form.initial["body"] == "Albany County Commission"
    assert resolution.title in response.content.decode()
    assert post(report(description="The date is wrong."), url=link).status_code == 302
    assert Submission.objects.get().resolution == resolution


def test_a_correction_needs_to_say_what_is_wrong():
    resolution = ResolutionFactory()
    response = post(report(description=""), url=f"{SUBMIT}?resolution={resolution.pk}")
    assert response.status_code == 200 and not Submission.objects.exists()
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize("value", ["draft", "999999999", "abc", "-1", "²", "1" * 40])
def test_corrections_only_for_published_records(client, value):
    hidden = ResolutionFactory(published=False, confidence=Confidence.LOW)
    target = str(hidden.pk) if value == "draft" else value
    assert client.get(SUBMIT, {"resolution": target}).status_code == 404
    assert post(report(), url=f"{SUBMIT}?resolution={target}").status_code == 404
    assert not Submission.objects.exists()


def test_tell_us_about_one_on_a_place_page_opens_the_form_with_that_place_filled_in(client):
    albany = get_county("56001")
    page = client.get(albany.get_absolute_url()).content.decode()
    link = f"{SUBMIT}?jurisdiction={albany.pk}"
    assert link in page
    form = client.get(link).context["form"]
    assert (form.initial["state"], form.initial["jurisdiction_name"]) == ("WY", "Albany County")
    # The report itself is posted to the plain form address, as any other.
    assert post(report(state="WY", jurisdiction_name="Albany County")).status_code == 302


@pytest.mark.parametrize("value", ["999999999", "abc", "-1", "²", "1" * 40, "nation"])
def test_an_unknown_place_to_report_on_is_404(client, value):
    target = str(Jurisdiction.objects.nation().pk) if value == "nation" else value
    assert client.get(SUBMIT, {"jurisdiction": target}).status_code == 404


# --- moderation ----------------------------------------------------------------------------------


def make_submission(**overrides):
    values = {key: value for key, value in report().items() if key != "website"}
    values.update(overrides)
    return Submission.objects.create(**values)


def test_the_queue_shows_pending_submissions_by_default(editor_client):
    pending = make_submission(jurisdiction_name="Pending County")
    done = make_submission(jurisdiction_name="Done County", status="rejected")
    url = reverse("admin:recognition_submission_changelist")
    shown = list(editor_client.get(url).context["cl"].queryset)
    assert shown == [pending]
    assert set(editor_client.get(url, {"status": "all"}).context["cl"].queryset) == {pending, done}
    assert list(editor_client.get(url, {"status": "rejected"}).context["cl"].queryset) == [done]
    assert editor_client.get(url, {"_facets": "True"}).status_code == 200  # "Show counts"


def test_anonymous_cannot_reach_the_queue(client):
    submission = make_submission()
    for url in [
        reverse("admin:recognition_submission_changelist"),
        reverse("admin:recognition_submission_accept", args=[submission.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_accept_creates_a_prefilled_draft_with_the_link_as_its_source(editor_client):
    submission = make_submission(jurisdiction_name="albany county")
    url = reverse("admin:recognition_submission_accept", args=[submission.pk])
    form = editor_client.get(url).context["form"]
    county = get_county("56001")
    assert form.initial["jurisdiction"] == county  # matched by name in the state, whatever the case
    assert str(form.initial["adopted"]) == "March 2024"
    response = editor_client.post(
        url,
        {
            "jurisdiction": county.pk,
            "kind": "resolution",
            "status": "adopted",
            "title": form.initial["title"],
            "adopted": "2024-03",
        },
    )
    resolution = Resolution.objects.get(jurisdiction=county)
    assert response["Location"] == reverse("admin:recognition_resolution_change", args=[resolution.pk])
    assert not resolution.published and resolution.confidence == Confidence.LOW
    assert resolution.body == submission.body and resolution.summary == submission.description
    assert (resolution.adopted_on, resolution.adopted_on_precision) == (datetime.date(2024, 3, 1), "month")
    assert list(resolution.sources.values_list("url", flat=True)) == [submission.url]
    submission.refresh_from_db()
    assert submission.status == "accepted" and submission.created_resolution == resolution
    assert submission.reviewed_by.username == "editor" and submission.reviewed_at is not None
    assert submission.history.latest().history_user.username == "editor"
    assert resolution.history.get().history_change_reason == f"From public submission #{submission.pk}"


def test_accept_without_a_match_asks_staff_to_choose(editor_client):
    submission = make_submission(jurisdiction_name="Somewhere Not On File")
    url = reverse("admin:recognition_submission_accept", args=[submission.pk])
    response = editor_client.get(url)
    assert response.context["form"].initial["jurisdiction"] is None
    assert "choose it" in response.content.decode()
    response = editor_client.post(
        url, {"kind": "resolution", "status": "adopted", "title": "T", "adopted": ""}
    )
    assert "jurisdiction" in response.context["form"].errors
    assert Submission.objects.get().status == "pending"


def test_accept_explains_a_record_the_model_refuses(editor_client):
    submission = make_submission()
    response = editor_client.post(
        reverse("admin:recognition_submission_accept", args=[submission.pk]),
        {
            "jurisdiction": get_county("56001").pk,
            "kind": "resolution",
            "status": "introduced",
            "title": "T",
            "adopted": "2024",
        },
    )
    assert response.status_code == 200
    assert "A pending measure has no adoption date" in str(response.context["form"].errors)
    assert not Resolution.objects.filter(jurisdiction__fips="56001").exists()


def test_reject_needs_a_reason_and_is_recorded(editor_client):
    submission = make_submission()
    url = reverse("admin:recognition_submission_reject", args=[submission.pk])
    assert "reason" in editor_client.post(url, {"reason": ""}).context["form"].errors
    response = editor_client.post(url, {"reason": "Already recorded."})
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.reason, submission.reviewed_by.username) == (
        "rejected",
        "Already recorded.",
        "editor",
    )
    # Reviewed once: accepting it now is refused with a message.
    response = editor_client.post(
        reverse("admin:recognition_submission_accept", args=[submission.pk]), {}, follow=True
    )
    assert "already rejected" in response.content.decode()
    assert not Resolution.objects.filter(jurisdiction__fips="56001").exists()


def test_reject_selected_as_spam(editor_client):
    spam = [make_submission(jurisdiction_name=f"Spam {n}") for n in range(3)]
    editor_client.post(
        reverse("admin:recognition_submission_changelist"),
        {"action": "reject_as_spam", "_selected_action": [s.pk for s in spam]},
    )
    assert set(Submission.objects.values_list("status", "reason")) == {("rejected", "Spam")}


def test_accepting_a_correction_marks_it_and_opens_the_record(editor_client):
    resolution = ResolutionFactory()
    submission = make_submission(resolution=resolution, description="The date is wrong.")
    url = reverse("admin:recognition_submission_accept", args=[submission.pk])
    assert resolution.title in editor_client.get(url).content.decode()
    response = editor_client.post(url, {"reason": "Date checked and corrected."}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:recognition_resolution_change", args=[resolution.pk]
    )
    assert "ask a publisher" in response.content.decode()  # published: the editor cannot change it
    submission.refresh_from_db()
    assert submission.status == "accepted" and submission.created_resolution is None


def test_submissions_are_read_only_and_not_added_in_the_admin(editor_client):
    submission = make_submission()
    response = editor_client.get(reverse("admin:recognition_submission_change", args=[submission.pk]))
    assert response.context["adminform"].form.fields == {}
    assert editor_client.get(reverse("admin:recognition_submission_add")).status_code == 403


def test_someone_without_rights_cannot_review(django_user_model):
    viewer = make_user(django_user_model, "viewer")
    viewer.user_permissions.add(
        *Group.objects.get(name=roles.EDITORS).permissions.filter(codename="view_submission")
    )
    submission = make_submission()
    client = signed_in(viewer)
    assert client.get(reverse("admin:recognition_submission_changelist")).status_code == 200
    for action in ["accept", "reject"]:
        url = reverse(f"admin:recognition_submission_{action}", args=[submission.pk])
        assert client.post(url, {"reason": "x"}).status_code == 403
    assert Submission.objects.get().status == "pending"
