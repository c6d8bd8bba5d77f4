"""A text search on /resolutions/ matching more records than the cap: counted only to the cap, newest
first, without facet counts, and saying so; at the cap or under it, the search is counted, ranked and
faceted as always. The expected rows come from the live query of the same search without a cap."""

import pytest
from django.core.cache import cache
from django.db.models import F
from django.http import QueryDict

from recognition import views
from recognition.filters import ResolutionFilter
from recognition.models import Resolution
from tests.test_list import listed

pytestmark = pytest.mark.django_db

LIST_URL = "/resolutions/"
WORD = "county"
NEWEST_FIRST = (F("adopted_on").desc(nulls_last=True), "-introduced_on", "title", "pk")


def matches(params):
    """The ids the search gives in the exports' order (no cap): the live query."""
    return list(ResolutionFilter(QueryDict(params)).qs.values_list("pk", flat=True))


def page(client, monkeypatch, cap, params):
    monkeypatch.setattr(views, "SEARCH_CAP", cap)
    cache.clear()
    response = client.get(LIST_URL + "?" + params)
    assert response.status_code == 200
    return response


def test_above_the_cap_newest_first_counted_to_the_cap_without_facet_counts(
    client, starter_dataset, monkeypatch, django_assert_num_queries
):
    found = matches(f"q={WORD}")
    assert len(found) > 3
    cap = len(found) - 1
    newest = list(
        Resolution.objects.filter(pk__in=found).order_by(*NEWEST_FIRST).values_list("pk", flat=True)
    )
    monkeypatch.setattr(views, "SEARCH_CAP", cap)
    cache.clear()
    with django_assert_num_queries(3):  # the data version, the count up to the cap, the page
        response = client.get(LIST_URL, {"q": WORD})
    html = response.content.decode()
    assert f"More than {cap} resolutions" in html
    assert "sorted newest first (not by best match)" in html
    assert "too many to count by choice" in html
    assert 'class="facet__count"' not in html
    assert listed(client, {"q": WORD})[1] == newest[:cap]
    assert response.context["page_obj"].paginator.count == cap


def test_at_the_cap_counted_ranked_and_faceted_as_always(
    client, starter_dataset, monkeypatch, django_assert_num_queries
):
    found = matches(f"q={WORD}")
    monkeypatch.setattr(views, "SEARCH_CAP", len(found))
    cache.clear()
    with django_assert_num_queries(9):  # the data version, the count, six facet counts, the page
        response = client.get(LIST_URL, {"q": WORD})
    html = response.content.decode()
    assert response.context["page_obj"].paginator.count == len(found)
    assert f"{len(found)} resolutions" in html and "More than" not in html
    assert 'class="facet__count"' in html
    assert listed(client, {"q": WORD})[1] == found  # ranked on PostgreSQL, as the exports are


def test_the_cap_leaves_filters_without_text_alone(client, starter_dataset, monkeypatch):
    response = page(client, monkeypatch, 1, "state=AL")
    assert response.context["page_obj"].paginator.count == len(matches("state=AL")) > 1
    assert 'class="facet__count"' in response.content.decode()


def test_count_up_to_stops_one_past_the_limit(starter_dataset):
    published = Resolution.objects.published()
    total = published.count()
    assert published.count_up_to(total) == total
    assert published.count_up_to(total - 1) == total
    assert published.count_up_to(2) == 3
