"""The admin for the staff's day: finding jurisdictions and resolutions quickly, pages that say what they do."""

import pytest
from django.urls import reverse

from recognition import roles
from recognition.models import Resolution, Submission
from tests.conftest import get_state
from tests.staff import make_user, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "a-long-test-password")
    client.force_login(user)
    return client


@pytest.mark.parametrize("query", ["Mobile", "01097", "AL"])
def test_jurisdictions_searchable_by_name_fips_and_usps(staff_client, query):
    response = staff_client.get(reverse("admin:recognition_jurisdiction_changelist"), {"q": query})
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_jurisdiction_filters_by_level_and_state(staff_client):
    response = staff_client.get(
        reverse("admin:recognition_jurisdiction_changelist"), {"level": "county", "state": "AL"}
    )
    assert (
        response.context["cl"].result_count == get_state("AL").children.filter(level="county").count() == 67
    )


def test_resolution_filters(staff_client, starter_dataset):
    url = reverse("admin:recognition_resolution_changelist")
    response = staff_client.get(
        url, {"state": "AL", "jurisdiction__level": "county", "published__exact": "0"}
    )
    assert [r.jurisdiction.name for r in response.context["cl"].result_list] == ["Baldwin County"]
    response = staff_client.get(url, {"kind": "bill", "status": "introduced"})
    expected = Resolution.objects.filter(kind="bill", status="introduced").count()
    assert response.context["cl"].result_count == expected


def test_jurisdiction_autocomplete_for_the_resolution_form(staff_client):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Mobile",
            "app_label": "recognition",
            "model_name": "resolution",
            "field_name": "jurisdiction",
        },
    )
    assert response.status_code == 200
    assert any(result["text"].startswith("Mobile County") for result in response.json()["results"])


def test_resolution_form_has_sources_inline(staff_client, starter_dataset):
    resolution = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
    response = staff_client.get(reverse("admin:recognition_resolution_change", args=[resolution.pk]))
    assert response.status_code == 200
    assert "sources-TOTAL_FORMS" in response.content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("admin:recognition_resolution_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- The staff's day --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["Escambia County, AL", "Escambia, AL", "escambia al", "ESCAMBIA  county al"]
)
def test_the_place_autocomplete_understands_a_name_and_a_state(editor_client, typed):
    """Florida has an Escambia County too: the state's code decides."""
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {"term": typed, "app_label": "recognition", "model_name": "resolution", "field_name": "jurisdiction"},
    )
    assert response.status_code == 200
    results = [result["text"] for result in response.json()["results"]]
    assert results == ["Escambia County, AL"]


def test_the_autocomplete_still_finds_plain_names(editor_client):
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Escambia",
            "app_label": "recognition",
            "model_name": "resolution",
            "field_name": "jurisdiction",
        },
    )
    assert sorted(result["text"] for result in response.json()["results"]) == [
        "Escambia County, AL",
        "Escambia County, FL",
    ]


def test_a_submission_page_is_read_only_and_shows_no_save_button(editor_client):
    submission = Submission.objects.create(
        state="AL", jurisdiction_name="Mobile", url="https://example.org/r"
    )
    page = editor_client.get(reverse("admin:recognition_submission_change", args=[submission.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in html and 'name="_continue"' not in html and 'name="_addanother"' not in html
    assert reverse("admin:recognition_submission_accept", args=[submission.pk]) in html  # the review stays


@pytest.fixture
def editor_client(django_user_model):
    return signed_in(make_user(django_user_model, "editor", roles.EDITORS))
