"""First cut of the admin: staff can find jurisdictions and resolutions quickly."""

import pytest
from django.urls import reverse

from recognition.models import Resolution
from tests.conftest import get_state

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
