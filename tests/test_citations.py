"""Citations (issue 18): a record's and the dataset's, in plain text, APA and BibTeX; and the contact.

The BibTeX is read back with pybtex, a BibTeX implementation (a development dependency), and its fields
compared with what the test put in: a parser, not a regular expression, decides that it parses.
"""

import codecs
import datetime
import html
import re

import latexcodec  # noqa: F401  (registers the "ulatex" codec that decodes the escaped text)
import pytest
from django.utils import timezone
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pybtex.database import parse_string

from recognition import citations
from recognition.models import Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status
from tests.conftest import get_county
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

SOURCE = {
    "url": "https://www.mobilecountyal.gov/minutes/2022-04-18#item-7",
    "title": "Minutes of the regular meeting, April 18, 2022",
    "publisher": "Mobile County Commission",
}


def long_date(day):
    return f"{day:%B} {day.day}, {day.year}"


def citation_texts(response):
    """{format label: text} of each citation on a page, as a reader would copy it."""
    page = response.content.decode()
    labels = re.findall(r'<h3 class="citation__format" id="[^"]+">([^<]+)</h3>', page)
    texts = re.findall(r'<pre class="citation__text[^"]*"[^>]*>(.*?)</pre>', page, flags=re.S)
    assert len(labels) == len(texts) == 3
    return {label: html.unescape(text) for label, text in zip(labels, texts, strict=True)}


@pytest.fixture
def record():
    resolution = Resolution.objects.create(
        jurisdiction=get_county("01097"),
        kind=Kind.RESOLUTION,
        status=Status.ADOPTED,
        body="Mobile County Commission",
        identifier="2022-118",
        title="Resolution recognizing 911 telecommunicators as first responders",
        adopted_on=datetime.date(2022, 4, 18),
        adopted_on_precision="day",
        confidence=Confidence.HIGH,
    )
    Source.objects.create(resolution=resolution, accessed_on=datetime.date(2024, 1, 15), **SOURCE)
    resolution.published = True
    resolution.save()
    return resolution


def test_a_record_is_cited_with_the_access_date_and_its_own_source_in_every_format(client, record):
    today = timezone.localdate()
    page_url = f"http://testserver/resolutions/{record.pk}/"

    texts = citation_texts(client.get(record.get_absolute_url()))

    for label, text in texts.items():
        assert page_url in text, label
        assert SOURCE["url"] in text, label
        assert "Mobile County Commission" in text, label
    assert f"accessed {long_date(today)}" in texts["Plain text"]
    assert SOURCE["title"] in texts["Plain text"]
    assert f"Retrieved {long_date(today)}, from {page_url}" in texts["APA"]
    assert f"Mobile County Commission. (2022). {SOURCE['title']}. {SOURCE['url']}" in texts["APA"]

    entries = parse_string(texts["BibTeX"], "bibtex").entries
    tracker, source = entries[f"drt-record-{record.pk}"], entries[f"drt-record-{record.pk}-source"]
    assert tracker.fields["url"] == page_url
    assert tracker.fields["urldate"] == today.isoformat()
    assert long_date(today) in tracker.fields["note"]
    assert codecs.decode(tracker.fields["title"], "ulatex") == f"Mobile County, AL: {record.title}"
    assert source.fields["url"] == SOURCE["url"]
    assert codecs.decode(source.fields["title"], "ulatex") == SOURCE["title"]
    assert source.fields["year"] == "2022"
    assert source.fields["urldate"] == "2024-01-15"  # when the source itself was read
    assert [str(person) for person in source.persons["author"]] == ["{Mobile County Commission}"]


def _unsaved_record(title, source_title, url="https://example.org/a?b=1&c=2%20d", jurisdiction="Testville"):
    """A record and its source in memory (the citation reads them, nothing else)."""
    record = Resolution(
        pk=7,
        kind=Kind.RESOLUTION,
        status=Status.ADOPTED,
        title=title,
        jurisdiction=Jurisdiction(name=jurisdiction, level=Level.NATION),
    )
    record._prefetched_objects_cache = {
        "sources": [Source(url=url, title=source_title, publisher="Clerk & Co.")]
    }
    return record


SPECIALS = "\\{}&%$#_~^"


def test_bibtex_escapes_latex_specials_so_that_each_prints_as_itself():
    title = r"Fees & 50% of $100 for #911_{dispatch} ~ ^ \ back"
    bibtex = citations.record_citation(
        _unsaved_record(title, "x"), "https://t/r/7/", datetime.date(2025, 1, 2)
    ).bibtex
    field = parse_string(bibtex, "bibtex").entries["drt-record-7"].fields["title"]
    # Each special is escaped (braces, as commands, would otherwise group or unbalance the entry, % end the line, $ open maths, # and & break
    # the entry in LaTeX, _ and ^ subscript, ~ tie, \ start a command).
    assert field == (
        r"Testville: Fees \& 50\% of \$100 for \#911\_\textbraceleft{}dispatch\textbraceright{} "
        r"\textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} back"
    )


def test_bibtex_keeps_double_hyphens_and_quotes_as_typed():
    assert citations.bibtex_text("SB 12 -- ``Dispatch'' Act!`") == "SB 12 -{}- `{}`Dispatch'{}' Act!{}`"


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
        | st.sampled_from(SPECIALS)
        | st.sampled_from("-`'!?<>,"),  # TeX's ligatures
        min_size=1,
        max_size=60,
    ),
    url=st.text(alphabet=st.sampled_from("abc/?=&%#{}\\ _~"), max_size=20),
)
def test_any_text_gives_bibtex_that_parses_to_the_same_entries(title, url):
    assume(title.strip())  # a record's title is never blank (the admin and the importer require one)
    record = _unsaved_record(title, title, url=f"https://example.org/{url}")
    bibtex = citations.record_citation(record, "https://t/r/7/", datetime.date(2025, 1, 2)).bibtex
    entries = parse_string(bibtex, "bibtex").entries  # raises on a syntax error, unbalanced braces included
    assert set(entries) == {"drt-record-7", "drt-record-7-source"}
    source = entries["drt-record-7-source"]
    assert source.fields["url"].count("{") == source.fields["url"].count("}") == 0
    plain = " ".join(title.split())
    if not set(plain) & set(SPECIALS) - set("&%#_"):
        # What latexcodec can decode (its table has &, %, # and _), it decodes back to the title; an
        # empty group is where TeX would otherwise join two characters ("--" into an en dash).
        parts = source.fields["title"].split("{}")
        assert "".join(codecs.decode(part, "ulatex") for part in parts) == plain


def test_the_dataset_is_cited_with_its_version_the_date_of_the_last_change_to_published_data(client):
    changed = datetime.datetime(2025, 6, 2, 15, 0, tzinfo=datetime.UTC)  # 11 a.m. in New York
    record = Resolution(
        jurisdiction=get_county("01097"),
        kind=Kind.RESOLUTION,
        status=Status.ADOPTED,
        title="Published",
        confidence=Confidence.HIGH,
        published=True,
    )
    record._history_date = changed
    record.save()
    draft = Resolution(
        jurisdiction=get_county("01097"), kind=Kind.RESOLUTION, status=Status.ADOPTED, title="Draft"
    )
    draft.save()  # today: a draft is not published data, so the version stays

    texts = citation_texts(client.get("/data/"))

    assert "version 2025-06-02" in texts["Plain text"]
    assert f"accessed {long_date(timezone.localdate())}" in texts["Plain text"]
    assert (
        "(2025). Laws and resolutions recognizing 911 dispatchers as first responders (Version 2025-06-02)"
        in texts["APA"]
    )
    (entry,) = parse_string(texts["BibTeX"], "bibtex").entries.values()
    assert entry.fields["version"] == "2025-06-02" and entry.fields["url"] == "http://testserver/data/"
    assert entry.fields["urldate"] == timezone.localdate().isoformat()


@pytest.mark.parametrize("path", ["/", "/about/", "/data/"])
def test_the_press_contact_is_shown_when_set(client, settings, path):
    settings.CONTACT_EMAIL = "press@tracker.example.org"
    assert 'href="mailto:press@tracker.example.org"' in client.get(path).content.decode()


@pytest.mark.parametrize("path", ["/", "/about/", "/data/"])
def test_without_a_contact_nothing_is_broken_and_corrections_go_to_the_form(client, settings, path):
    settings.CONTACT_EMAIL = ""
    page = client.get(path).content.decode()
    assert "mailto:" not in page
    assert 'Corrections: <a href="/submit/">' in page  # the footer


def test_a_contact_that_is_not_an_address_stops_the_site_at_start():
    result = run_manage("check", DJANGO_SECRET_KEY="x", DJANGO_CONTACT_EMAIL="press at example")
    assert result.returncode != 0
    assert "DJANGO_CONTACT_EMAIL" in result.stderr and "Traceback" not in result.stderr
