"""Addresses built from one reversed pattern per kind are exactly what `reverse()` gives, for any value.

The oracle is Django's `reverse()` (and the request's `build_absolute_uri`) called for each value: the
address, or the same exception. The API's links are checked row by row against addresses written out
here from each record's own fields.
"""

import re

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st

from recognition.addresses import Addresses, page_address
from recognition.models import Action, Level, Resolution
from tests import progress_records
from tests.api.test_api import api_rows

ROUTES = [
    ("recognition:resolution", ("pk",)),
    ("recognition:state", ("usps",)),
    ("recognition:jurisdiction", ("usps", "slug")),
    ("recognition:nation", ()),
    ("api:resolution", ("pk",)),
    ("recognition:resolution_list", ()),
]
# Values near what each argument accepts, and far from it: other letters, case, lengths, quoting, stand-ins.
values = st.one_of(
    st.integers(min_value=-5, max_value=10**19),
    st.text(alphabet="abcxyzqQXjvkw-_09%/é. ", max_size=12),
    st.sampled_from(["qx", "9081726354", "zjvkwy-zkq", "tx", "harris-county", "0", "00123"]),
    st.text(max_size=6),
)


def outcome(function, *args):
    """The address, or the kind of error (NoReverseMatch; an AttributeError for a number as a state)."""
    try:
        return function(*args)
    except (NoReverseMatch, AttributeError) as error:
        return type(error)


def page_path(viewname, kwargs):
    return reverse(viewname, kwargs=kwargs)


HOSTS = ["testserver", "qx.example.org", "9081726354.example:8000"]
REQUESTS = {host: RequestFactory().get("/", HTTP_HOST=host) for host in HOSTS}


def absolute_on(host):
    def build(viewname, kwargs):
        return REQUESTS[host].build_absolute_uri(reverse(viewname, kwargs=kwargs))

    return build


BUILDS = [page_path, *(absolute_on(host) for host in HOSTS)]
ADDRESSES = {}  # one for each way of building, kept across examples as a response keeps its own


@override_settings(ALLOWED_HOSTS=[host.partition(":")[0] for host in HOSTS])
@settings(max_examples=300, deadline=None)
@given(route=st.sampled_from(ROUTES), build=st.sampled_from(BUILDS), data=st.data())
def test_each_address_is_the_one_reverse_gives(route, build, data):
    viewname, names = route
    kwargs = {name: data.draw(values, label=name) for name in names}
    addresses = ADDRESSES.setdefault((build, viewname), Addresses())
    assert outcome(addresses, build, viewname, kwargs) == outcome(build, viewname, kwargs)


@pytest.mark.parametrize("prefix", ["/", "/tracker/", "/qx/"])
def test_under_a_script_prefix_too(prefix):
    try:
        set_script_prefix(prefix)
        addresses = Addresses()
        for pk in (1, 42, 9081726354, 7):
            kwargs = {"pk": pk}
            assert addresses(page_path, "recognition:resolution", kwargs) == f"{prefix}resolutions/{pk}/"
        for usps, slug in (("tx", "harris-county"), ("al", "mobile"), ("qx", "qx")):
            kwargs = {"usps": usps, "slug": slug}
            expected = f"{prefix}states/{usps}/{slug}/"
            assert addresses(page_path, "recognition:jurisdiction", kwargs) == expected
    finally:
        set_script_prefix("/")


@settings(max_examples=200, deadline=None)
@given(route=st.sampled_from(ROUTES[:4]), prefix=st.sampled_from(["/", "/tracker/", "/qx/"]), data=st.data())
def test_a_page_address_is_the_one_reverse_gives_under_the_requests_prefix(route, prefix, data):
    # The site's own links (`get_absolute_url`): one set of patterns per script prefix, kept by the process.
    viewname, names = route
    kwargs = {name: data.draw(values, label=name) for name in names}
    try:
        set_script_prefix(prefix)
        assert outcome(page_address, viewname, kwargs) == outcome(page_path, viewname, kwargs)
    finally:
        set_script_prefix("/")


def page_of(jurisdiction):
    """A jurisdiction's page, from its fields: /states/<usps>/ for a state, the nation's own page,
    /states/<its state>/<slug>/ for anything in a state."""
    if jurisdiction.level == Level.STATE:
        return f"http://testserver/states/{jurisdiction.usps.lower()}/"
    if jurisdiction.level == Level.NATION:
        return "http://testserver/united-states/"
    return f"http://testserver/states/{jurisdiction.parent.usps.lower()}/{jurisdiction.slug}/"


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{}, {"format": "json"}])
def test_every_row_of_the_api_links_where_reverse_would(client, starter_dataset, extra):
    rows = api_rows(client, extra)
    records = Resolution.objects.select_related("jurisdiction__parent").in_bulk([row["id"] for row in rows])
    assert len(rows) > 50
    levels = set()
    suffix = "?format=json" if extra else ""
    for row in rows:
        record = records[row["id"]]
        levels.add(record.jurisdiction.level)
        assert row["url"] == f"http://testserver/resolutions/{record.pk}/"
        assert row["api_url"] == f"http://testserver/api/resolutions/{record.pk}/{suffix}"
        assert row["actions_api_url"] == f"http://testserver/api/actions/{suffix}?resolution={record.pk}"
        assert row["jurisdiction"]["url"] == page_of(record.jurisdiction)
    assert {Level.STATE, Level.COUNTY, Level.PLACE} <= levels


@pytest.mark.django_db
def test_every_action_in_the_api_links_to_its_measure(client):
    progress_records.build()
    rows = api_rows(client, url="/api/actions/")
    assert len(rows) > 5
    actions = Action.objects.in_bulk([row["id"] for row in rows])
    for row in rows:
        pk = actions[row["id"]].resolution_id
        assert row["resolution_url"] == f"http://testserver/resolutions/{pk}/"
        assert row["resolution_api_url"] == f"http://testserver/api/resolutions/{pk}/"


ROW_LINKS = re.compile(r'<tr>\s*<td><a href="([^"]*)">[^<]*</a></td>\s*<td><a href="([^"]*)">')


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"state": "AL"}, {"q": "county"}])
def test_every_row_of_the_list_links_to_its_record_and_jurisdiction(client, starter_dataset, params):
    for number in range(1, 4):
        cache.clear()
        response = client.get("/resolutions/", {**params, "page": number})
        if response.status_code == 404:
            break
        records = Resolution.objects.select_related("jurisdiction__parent").in_bulk(
            [record.pk for record in response.context["page_obj"]]
        )
        expected = [
            (
                page_of(records[record.pk].jurisdiction).removeprefix("http://testserver"),
                f"/resolutions/{record.pk}/",
            )
            for record in response.context["page_obj"]
        ]
        assert expected
        assert ROW_LINKS.findall(response.content.decode()) == expected
