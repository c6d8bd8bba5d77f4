"""Hostile query strings never break the list, the CSV, the API or the feed.

Hypothesis sends generated combinations of every filter parameter (unknown
codes, NUL bytes, huge numbers, impossible dates, odd Unicode) and the answer is
always a 2xx, a 400 or a 404: never a 5xx.
"""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/resolutions/", "/resolutions.csv", "/api/resolutions/", "/feeds/resolutions/"]
PARAMETERS = ["state", "level", "kind", "status", "adopted_after", "adopted_before", "q", "ordering", "page"]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "AL",
            "al",
            "ZZ",
            "\x00",
            "AL\x00",
            "2022-02-30",
            "2022-13-01",
            "0000-00-00",
            "99999-01-01",
            "-1",
            "0",
            "9" * 30,
            "1e309",
            "NaN",
            "'; DROP TABLE recognition_resolution; --",
            "<script>alert(1)</script>",
            "%00",
            "county",
            "statute",
            "adopted",
            "-adopted",
            "state",
            "☃" * 50,
            " ",
            "&&||!!",
            '"unterminated',
        ]
    ),
)
query_strings = st.lists(st.tuples(st.sampled_from(PARAMETERS), hostile_text), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=query_strings)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_never_a_server_error(client, starter_dataset, endpoint, pairs):
    response = client.get(f"{endpoint}?{urlencode(pairs)}")
    assert response.status_code < 500, (endpoint, pairs, response.status_code)
    if response.status_code >= 400:
        assert response.status_code in (400, 404)
