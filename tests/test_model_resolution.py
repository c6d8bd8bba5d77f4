"""The model resolution: a place's page and its .docx say the same text, filled in from the data.

The oracle is the starter CSV itself: which bills are pending in Congress (federal rows still
introduced, whose Congress has not ended: a Congress's term ends on January 3 of an odd year fixed by
the 20th Amendment, 1789 + 2 x its number), and which body each place's own records name.
"""

import csv
import datetime
import io
import re
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import docx
import pytest
from django.core.management import call_command
from django.utils import timezone

from recognition import resolution_text
from recognition.models import Jurisdiction, Level, Resolution, Status
from tests.conftest import ResolutionFactory

STARTER = Path(__file__).resolve().parent.parent / "recognition" / "data" / "starter_dataset.csv"
CC0_URL = "https://creativecommons.org/publicdomain/zero/1.0/"


def starter_rows():
    with STARTER.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def congress_ends(number):
    return datetime.date(1789 + 2 * number, 1, 3)


def pending_federal_numbers(today):
    """The numbers of the bills the CSV records as pending in a Congress not yet over on `today`."""
    numbers = []
    for row in starter_rows():
        if row["level"] != "federal" or row["status"] != "introduced" or not row["identifier"]:
            continue
        congress = re.search(r"\((\d+)(?:st|nd|rd|th) Congress\)", row["body"])
        if congress and congress_ends(int(congress.group(1))) < today:
            continue
        numbers.append(row["identifier"])
    return numbers


def csv_bodies(level, state, name):
    return {
        row["body"]
        for row in starter_rows()
        if row["level"] == level and row["state"] == state and row["jurisdiction"] == name
    }


@pytest.fixture
def dataset(starter_dataset):
    """The starter dataset with its Congresses, as `make setup` loads it (a session can end)."""
    call_command("load_congresses", "--link", verbosity=0, stdout=io.StringIO())


def docx_paragraphs(response):
    document = docx.Document(BytesIO(response.content))
    return [paragraph.text for paragraph in document.paragraphs]


def docx_text(response):
    return "\n".join(docx_paragraphs(response))


def is_signature(paragraph):
    """A signature block: a line that is nothing but the line to sign on."""
    return any(line and set(line) == {"_"} for line in paragraph.split("\n"))


def docx_clauses(response):
    """The resolution's paragraphs in the .docx, up to the first signature line."""
    paragraphs = [p for p in docx_paragraphs(response) if p.strip()]
    end = next(i for i, p in enumerate(paragraphs) if is_signature(p))
    return paragraphs[:end]


def docx_signature_labels(response):
    labels = []
    for paragraph in docx_paragraphs(response):
        if is_signature(paragraph):
            labels.append(paragraph.split("\n")[-1])
    return labels


class ArticleReader(HTMLParser):
    """The model resolution on the page: its paragraphs (before the notes) and its signature labels."""

    def __init__(self):
        super().__init__()
        self.paragraphs, self.signatures, self.notes = [], [], []
        self._depth = 0  # inside the article
        self._in_notes = False
        self._open = None  # the list the text being read belongs to
        self._text = ""

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article" and "model-resolution" in classes:
            self._depth = 1
        elif not self._depth:
            return
        if tag == "footer":
            self._in_notes = True
        if tag == "p":
            self._open = self.notes if self._in_notes else self.paragraphs
            self._text = ""
        elif tag == "div" and "model-resolution__signature" in classes:
            self._open, self._text = self.signatures, ""

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if tag == "article":
            self._depth = 0
        if (tag == "p" or (tag == "div" and self._open is self.signatures)) and self._open is not None:
            self._open.append(" ".join(self._text.split()))
            self._open = None

    def handle_data(self, data):
        if self._depth and self._open is not None:
            self._text += data


def read_article(response):
    reader = ArticleReader()
    reader.feed(response.content.decode())
    return reader


def local(usps, name):
    return Jurisdiction.objects.select_related("parent").get(parent__usps=usps, name=name)


def page_url(jurisdiction, docx=False):
    suffix = "model-resolution.docx" if docx else "model-resolution/"
    if jurisdiction.level == Level.STATE:
        return f"/states/{jurisdiction.usps.lower()}/{suffix}"
    return f"/states/{jurisdiction.parent.usps.lower()}/{jurisdiction.slug}/{suffix}"


@pytest.mark.django_db
class TestTheDocx:
    @pytest.mark.parametrize(
        "level, usps, state_name, name",
        [
            ("county", "AL", "Alabama", "Mobile County"),
            ("place", "AL", "Alabama", "City of Mobile"),
            ("district", "AL", "Alabama", "Jefferson County 911 Emergency Communications District"),
            ("county", "TN", "Tennessee", "Wilson County"),
        ],
    )
    def test_names_the_place_the_state_its_body_and_every_pending_bill(
        self, client, dataset, level, usps, state_name, name
    ):
        (body,) = csv_bodies(level, usps, name)
        bills = pending_federal_numbers(timezone.localdate())
        assert bills, "the starter CSV should hold bills pending in Congress"

        response = client.get(page_url(local(usps, name), docx=True))

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert local(usps, name).slug in disposition and f"-{usps.lower()}.docx" in disposition
        text = docx_text(response)
        assert name in text and state_name in text
        assert f"BE IT RESOLVED by the {body}" in text
        for number in bills:
            assert number in text, number
        assert "Adopted this ____ day of __________, 20__." in text
        assert "[" not in body and f"[{name}]" not in text  # a known body leaves no placeholder for it

    def test_a_place_with_no_record_gets_a_bracketed_body(self, client, dataset):
        albany = Jurisdiction.objects.get(level=Level.COUNTY, parent__usps="WY", name="Albany County")
        assert not csv_bodies("county", "WY", "Albany County")

        text = docx_text(client.get(page_url(albany, docx=True)))
        page = client.get(page_url(albany)).content.decode()

        assert "BE IT RESOLVED by the [Albany County] Commission" in text
        assert "Albany County, Wyoming" in text
        assert "[Albany County]</mark> Commission" in page
        assert "We have no record of the name of the body for Albany County" in page

    def test_a_state_version_is_a_resolution_of_the_legislature(self, client, dataset):
        alabama = Jurisdiction.objects.get(level=Level.STATE, usps="AL")
        # Alabama's own records name its legislature (its law, HB 414).
        assert "Alabama Legislature" in csv_bodies("state", "AL", "Alabama")

        response = client.get(page_url(alabama, docx=True))
        text = docx_text(response)

        assert 'filename="model-resolution-alabama.docx"' in response["Content-Disposition"]
        assert "resolution of the Alabama Legislature" in text
        assert "Alabama’s delegation in the United States Congress" in text
        for number in pending_federal_numbers(timezone.localdate()):
            assert number in text

    def test_a_state_whose_records_name_only_one_chamber_gets_the_placeholder(self, client, dataset):
        georgia = Jurisdiction.objects.get(level=Level.STATE, usps="GA")
        assert csv_bodies("state", "GA", "Georgia") == {"Georgia House of Representatives"}

        text = docx_text(client.get(page_url(georgia, docx=True)))

        assert "BE IT RESOLVED by the [Georgia] Legislature" in text
        assert "House of Representatives that" not in text

    def test_without_pending_bills_it_urges_reclassification_and_names_none(self, client, dataset):
        Resolution.objects.filter(jurisdiction__level=Level.NATION, status=Status.INTRODUCED).update(
            published=False
        )
        numbers = [
            row["identifier"] for row in starter_rows() if row["level"] == "federal" and row["identifier"]
        ]

        text = docx_text(client.get(page_url(local("AL", "Mobile County"), docx=True)))

        assert (
            "urges the United States Congress and the U.S. Office of Management and Budget to classify"
            in text
        )
        assert "bills now pending" not in text
        for number in numbers:
            assert number not in text

    def test_is_a_letter_page_with_one_inch_margins(self, client, dataset):
        response = client.get(page_url(local("AL", "Mobile County"), docx=True))
        section = docx.Document(BytesIO(response.content)).sections[0]

        assert (section.page_width.inches, section.page_height.inches) == (8.5, 11)
        assert {section.left_margin.inches, section.right_margin.inches, section.top_margin.inches} == {1}


@pytest.mark.django_db
class TestThePage:
    @pytest.mark.parametrize(
        "usps, name",
        [("AL", "Mobile County"), ("WY", "Albany County"), ("AL", "City of Mobile"), ("GA", None)],
    )
    def test_says_the_same_clauses_as_the_docx(self, client, dataset, usps, name):
        place = local(usps, name) if name else Jurisdiction.objects.get(level=Level.STATE, usps=usps)

        page = read_article(client.get(page_url(place)))
        document = client.get(page_url(place, docx=True))

        assert page.paragraphs == docx_clauses(document)
        assert page.signatures
        assert [label.removeprefix("Attest: ") for label in page.signatures] == docx_signature_labels(
            document
        )

    def test_the_body_from_the_data_is_escaped_on_the_page(self, client, dataset):
        albany = Jurisdiction.objects.get(level=Level.COUNTY, parent__usps="WY", name="Albany County")
        ResolutionFactory(jurisdiction=albany, body="<b>Albany</b> County Commission")

        page = client.get(page_url(albany)).content.decode()

        assert "by the &lt;b&gt;Albany&lt;/b&gt; County Commission" in page
        assert "<b>Albany</b>" not in page

    def test_cc0_is_stated_on_the_page_and_in_the_document(self, client, dataset):
        place = local("AL", "Mobile County")

        page = client.get(page_url(place)).content.decode()
        text = docx_text(client.get(page_url(place, docx=True)))

        for output in (page, text):
            assert "CC0 1.0" in output and CC0_URL in output
            assert "public domain" in output

    def test_links_the_docx_and_the_report_form(self, client, dataset):
        place = local("AL", "Mobile County")

        page = client.get(page_url(place)).content.decode()

        assert f'href="{page_url(place, docx=True)}"' in page
        assert "Download as Word (.docx)" in page
        assert f'href="/submit/?jurisdiction={place.pk}"' in page

    def test_url_names(self, dataset):
        from django.urls import reverse

        place = local("AL", "Mobile County")
        kwargs = {"usps": "al", "slug": place.slug}
        assert reverse("recognition:model_resolution", kwargs=kwargs) == page_url(place)
        assert reverse("recognition:model_resolution_docx", kwargs=kwargs) == page_url(place, docx=True)
        assert (
            reverse("recognition:state_model_resolution", kwargs={"usps": "ga"})
            == "/states/ga/model-resolution/"
        )
        assert (
            reverse("recognition:state_model_resolution_docx", kwargs={"usps": "ga"})
            == "/states/ga/model-resolution.docx"
        )

    @pytest.mark.parametrize(
        "url",
        [
            "/states/al/no-such-place/model-resolution/",
            "/states/al/no-such-place/model-resolution.docx",
            "/states/wy/mobile-county/model-resolution/",  # Mobile County is in Alabama
            "/states/zz/model-resolution/",
            "/states/zz/model-resolution.docx",
            "/united-states/model-resolution/",
            "/states/AL/model-resolution/",
        ],
    )
    def test_unknown_places_and_the_nation_are_404(self, client, dataset, url):
        assert client.get(url).status_code == 404

    @pytest.mark.parametrize("docx_too", [False, True])
    def test_query_count_is_fixed(self, client, dataset, django_assert_num_queries, docx_too):
        # The data version, the place, its bodies, the pending bills.
        for place in (local("AL", "Mobile County"), Jurisdiction.objects.get(level=Level.STATE, usps="GA")):
            with django_assert_num_queries(4):
                assert client.get(page_url(place, docx=docx_too)).status_code == 200

    def test_is_a_cached_public_page(self, client, dataset, django_assert_num_queries):
        url = page_url(local("AL", "Mobile County"))
        first = client.get(url)

        assert "public" in first["Cache-Control"] and first["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


class TestTheWording:
    """The pure rules, on cases the starter data does not have."""

    @pytest.mark.parametrize(
        "body, chamber",
        [
            ("West Virginia Senate", True),
            ("Georgia House of Representatives", True),
            ("New York State Assembly", True),
            ("Illinois General Assembly", False),
            ("North Dakota Legislative Assembly", False),
            ("New Hampshire General Court", False),
            ("Texas Legislature", False),
        ],
    )
    def test_a_state_chamber_is_not_the_legislature(self, body, chamber):
        assert resolution_text.is_chamber(body) is chamber
        expected = None if chamber else body
        assert resolution_text.chosen_body("state", [body]) == expected

    def test_a_county_keeps_its_commission_even_if_named_like_a_chamber(self):
        assert resolution_text.chosen_body("county", ["", "Harney County Court"]) == "Harney County Court"

    @pytest.mark.parametrize(
        "level, name, expected",
        [
            ("county", "Albany County", "[Albany County] Commission"),
            ("county", "Orleans Parish", "[governing body of Orleans Parish]"),
            ("place", "City of Laramie", "[City of Laramie] Council"),
            ("state", "Wyoming", "[Wyoming] Legislature"),
            ("state", "District of Columbia", "[Council of the District of Columbia]"),
        ],
    )
    def test_a_placeholder_body_fits_the_kind_of_place(self, level, name, expected):
        assert resolution_text.placeholder_body(level, name) == expected

    def test_every_placeholder_is_marked_for_both_outputs(self):
        text = resolution_text.compose(
            level="district",
            name="Test 911 District",
            state="Ohio",
            body="[Test 911 District] Board of Directors",
            bills=[],
            as_of="January 1, 2027",
        )
        marked = [
            piece
            for clause in text.clauses
            for piece, placeholder in resolution_text.parts(clause)
            if placeholder
        ]
        assert "[Test 911 District]" in marked
        assert all(piece.startswith("[") and piece.endswith("]") for piece in marked)
