"""/data/: the whole-dataset downloads (records and actions) and the dictionaries of their columns.

Each dictionary is checked against the header of the file it describes, downloaded here.
"""

import re
from html import unescape

import pytest
from django.core.cache import cache

from recognition.models import Chamber, Stage
from tests import progress_records
from tests.test_exports import read_csv

pytestmark = pytest.mark.django_db

DATA_URL = "/data/"


@pytest.fixture
def records(db):
    return progress_records.build()


def header(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return read_csv(b"".join(response.streaming_content))[0]


def table_rows(html, caption):
    """[[cell text, ...]] of the table whose caption starts with `caption`, one list per body row."""
    start = html.index(f"<caption>{caption}")
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def dictionary(html, caption):
    """{column: meaning} of a two-column dictionary."""
    return dict(table_rows(html, caption))


def test_each_file_s_columns_are_explained_in_order(client, records):
    html = client.get(DATA_URL).content.decode()
    for caption, url in (
        ("The columns of the records CSV", "/resolutions.csv"),
        ("The columns of the actions CSV", "/actions.csv"),
    ):
        explained = dictionary(html, caption)
        assert list(explained) == header(client, url), caption
        assert all(explained.values()), caption


def test_the_new_columns_say_what_they_mean(client, records):
    html = client.get(DATA_URL).content.decode()
    records_columns = dictionary(html, "The columns of the records CSV")
    assert "actions" in records_columns["stage"] and "status" in records_columns["stage"]
    for value in Stage.values:
        assert value in records_columns["stage"]
    assert "latest recorded action" in records_columns["latest_action"]
    assert "partial date" in records_columns["latest_action_on"]
    assert "119th Congress" in records_columns["session"]
    assert "outcome is not yet recorded" in records_columns["session_ended"]
    actions_columns = dictionary(html, "The columns of the actions CSV")
    assert "id column of the records file" in actions_columns["resolution_id"]
    for value in (*Chamber.values, "Blank"):
        assert value in actions_columns["chamber"]
    assert (
        "became-law" in actions_columns["classification"]
        and "withdrawal" in actions_columns["classification"]
    )


def test_the_citation_columns_say_what_they_mean_and_come_last(client, records):
    html = client.get(DATA_URL).content.decode()
    records_columns = dictionary(html, "The columns of the records CSV")
    assert list(records_columns)[-2:] == ["confidence", "source_title"]
    assert "high" in records_columns["confidence"] and "medium" in records_columns["confidence"]
    assert "never published" in records_columns["confidence"]
    assert "primary source" in records_columns["source_title"]
    assert "Permanent link" in records_columns["url"]
    assert "last checked" in records_columns["last_verified_on"]
    assert "only ever added after the last column" in html


def test_every_stage_value_is_explained(client, records):
    html = client.get(DATA_URL).content.decode()
    rows = table_rows(html, "The values of the <code>stage</code> column")
    assert [(value, shown) for value, shown, _meaning in rows] == Stage.choices
    assert all(meaning.endswith(".") for _value, _shown, meaning in rows)
    assert "Session ended; outcome not yet recorded" in html


def test_links_and_counts(client, records):
    html = client.get(DATA_URL).content.decode()
    assert 'href="/actions.csv" download' in html and 'href="/api/actions/"' in html
    published = [record for record in records if record.published]
    actions = sum(len(record.actions) for record in published)
    assert f"{len(published)} records and the {actions} actions recorded on them" in html


def test_query_count_is_pinned(client, records, django_assert_num_queries):
    for grow in (False, True):
        if grow:
            progress_records.build_more(records)
        cache.clear()
        # The data version, the records, the actions, and the last change to published data (its version).
        with django_assert_num_queries(4):
            assert client.get(DATA_URL).status_code == 200
