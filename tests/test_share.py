"""Share tags on every public page, and the 1200x630 share cards of states and counties (issue 16, "Share").

The pages are enumerated from the URLconf itself, filled in from the starter data, so a
new page that does not carry the tags fails here. A card's size is read from its PNG
header with struct (the PNG specification, not CairoSVG); its statuses from the starter
CSV. Cards are fetched through config/wsgi.py's application, as gunicorn serves them,
with the page cache in front.
"""

import csv
import struct
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from config.settings import redis_cache_settings
from recognition import cards, sharedcache, versioning
from recognition.models import Kind, Resolution, Status
from tests.conftest import ResolutionFactory, get_county, get_state, start_redis
from tests.test_caching import call_wsgi, commit, header, wsgi_application

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "recognition" / "data" / "starter_dataset.csv"
HOST = "http://testserver"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Pages that are not for sharing: embeds (framed by other sites, minimal heads), downloads and feeds
# (not HTML), the cards themselves, and the staff preview (a 404, with its tags, for the public).
NOT_SHARED_PAGES = {
    "embed_map",
    "embed_state",
    "resolution_csv",
    "action_csv",
    "feed",
    "state_feed",
    "model_resolution_docx",
    "state_model_resolution_docx",
    "place_suggestions",  # the find box's type-ahead: JSON, not a page
    "embed_timeline",
    "changes_feed",
    "timeline_png",  # the charts as images to download
    "map_png",
    "state_map_png",
}
# A follower's own pages: their address holds a secret, which no tag repeats.
PERSONAL_PAGES = {"follow_confirm", "follow_manage", "unsubscribe"}
CARDS = {"home_card", "state_card", "jurisdiction_card"}
REQUIRED = (
    "og:title",
    "og:description",
    "og:type",
    "og:site_name",
    "og:image",
    "twitter:card",
    "twitter:title",
    "twitter:description",
    "twitter:image",
)


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta, self.canonical, self.title, self._in_title, self._in_head = {}, [], "", False, True

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs.get("name")
            assert key not in self.meta, f"{key} twice"
            self.meta[key] = attrs.get("content")
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])
        self._in_title = tag == "title" and self._in_head  # not an SVG's <title> in the body

    def handle_endtag(self, tag):
        self._in_title = False
        self._in_head = self._in_head and tag != "head"

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def image_path(tags):
    """og:image without its version parameter."""
    image = urlsplit(tags.meta["og:image"])
    return f"{image.scheme}://{image.netloc}{image.path}"


def head(response):
    return head_of({"body": response.content})


def head_of(answer):
    """The head of an answer from call_wsgi (or the test client's, through `head`)."""
    parser = _Head()
    parser.feed(answer["body"].decode())
    return parser


def png_size(data):
    """(width, height) from a PNG's IHDR chunk: the signature, then length, type, width, height."""
    assert data[:8] == PNG_SIGNATURE
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    return width, height


def starter_rows():
    with STARTER.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def published(starter_dataset):
    commit()


def sample_kwargs():
    """Values for each URL converter, from the starter data and the geography."""
    measure = Resolution.objects.published().order_by("pk").first()
    return {
        "usps": ["al", "ri"],
        "slug": ["mobile-county", "city-of-mobile"],
        "pk": [measure.pk],
        "token": ["not-a-real-token"],
    }


def public_urls():
    """(name, url) of every page in the recognition URLconf, each converter filled in with samples."""
    samples = sample_kwargs()
    resolver = get_resolver()
    (recognition,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "recognition"]
    urls = []
    for pattern in recognition.url_patterns:
        assert isinstance(pattern, URLPattern)
        names = list(pattern.pattern.converters)
        choices = [{}]
        for name in names:
            choices = [{**c, name: value} for c in choices for value in samples[name]]
        # Slugs only within Alabama (Mobile County and the City of Mobile are there).
        choices = [c for c in choices if "slug" not in c or c["usps"] == "al"]
        urls += [(pattern.name, reverse(f"recognition:{pattern.name}", kwargs=c)) for c in choices]
    return urls


def check_tags(response, url, personal=False):
    tags = head(response)
    for key in REQUIRED:
        assert tags.meta.get(key), f"{url}: no {key}"
    assert tags.meta["og:site_name"] == "Dispatcher Recognition Tracker"
    assert tags.meta["og:description"] == tags.meta["description"] == tags.meta["twitter:description"]
    assert tags.meta["og:title"] == tags.meta["twitter:title"]
    assert tags.meta["twitter:card"] == "summary_large_image"
    assert tags.meta["og:image"] == tags.meta["twitter:image"]
    image = urlsplit(tags.meta["og:image"])
    assert f"{image.scheme}://{image.netloc}" == HOST and image.path.endswith("/card.png"), url
    assert (tags.meta["og:image:width"], tags.meta["og:image:height"]) == ("1200", "630")
    if response.status_code == 404 or personal:
        assert tags.canonical == [] and "og:url" not in tags.meta, url  # no address of its own to share
    else:
        assert len(tags.canonical) == 1, url
        assert tags.meta["og:url"] == tags.canonical[0], url
        assert tags.canonical[0].startswith(f"{HOST}/"), url
    return tags


def test_every_public_page_carries_the_share_tags(published, client):
    urls = public_urls()
    names = {name for name, _url in urls}
    checked = set()
    for name, url in urls:
        if name in NOT_SHARED_PAGES | CARDS:
            continue
        response = client.get(url, follow=True)  # the staff preview of a published record leads to it
        assert response["Content-Type"].startswith("text/html"), url
        check_tags(response, url, personal=name in PERSONAL_PAGES)
        checked.add(name)
    # Every other page was checked: a page added to the URLconf is checked here too.
    assert checked == names - NOT_SHARED_PAGES - CARDS
    assert {"home", "nation", "about", "state", "jurisdiction", "resolution", "resolution_list"} <= checked
    assert {"data", "submit", "submit_thanks", "resolution_preview"} <= checked


def test_embeds_keep_their_minimal_heads(published, client):
    for url in ("/embed/map/", "/embed/states/al/"):
        assert "og:title" not in head(client.get(url)).meta


def test_the_error_pages_carry_the_tags(published, client):
    check_tags(client.get("/no-such-page/"), "/no-such-page/")
    check_tags(client.get("/resolutions/999999/"), "/resolutions/999999/")
    for name in ("500.html", "503.html"):  # drawn without a request: no address, no image
        text = (ROOT / "templates" / name).read_text(encoding="utf-8")
        for key in ("og:title", "og:description", "og:type", "og:site_name", "twitter:card"):
            assert f'"{key}"' in text, (name, key)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/?utm_source=newsletter&fbclid=x", "/"),
        ("/?layer=counties&utm_source=x", "/?layer=counties"),
        ("/?layer=states", "/"),
        ("/?layer=nonsense", "/"),
        ("/states/al/?sort=population&ref=x", "/states/al/"),
        ("/states/al/mobile-county/?utm_medium=social", "/states/al/mobile-county/"),
        ("/resolutions/?state=AL&page=1&utm_campaign=z", "/resolutions/?state=AL"),
        ("/resolutions/?state=AL&state=TX&status=adopted", "/resolutions/?state=AL&state=TX&status=adopted"),
        ("/resolutions/?q=&state=AL", "/resolutions/?state=AL"),
        ("/about/?gclid=1", "/about/"),
        ("/submit/?utm_source=x", "/submit/"),
    ],
)
def test_the_canonical_address_keeps_what_makes_the_page_and_drops_the_rest(
    published, client, url, canonical
):
    tags = head(client.get(url))
    assert tags.canonical == [f"{HOST}{canonical}"]
    assert tags.meta["og:url"] == f"{HOST}{canonical}"


def test_a_correction_form_is_the_submit_page_for_sharing(published, client):
    measure = Resolution.objects.published().first()
    tags = head(client.get(f"/submit/?resolution={measure.pk}&utm_source=x"))
    assert tags.canonical == [f"{HOST}/submit/"]


def test_the_canonical_address_is_on_the_host_asked_for(published, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    tags = head(Client(HTTP_HOST="localhost").get("/states/al/"))
    assert tags.canonical == ["http://localhost/states/al/"]
    assert image_path(tags) == "http://localhost/states/al/card.png"


def test_a_state_page_says_its_status_in_words_and_shows_its_card(published, client):
    alabama_law = next(
        row
        for row in starter_rows()
        if row["level"] == "state" and row["state"] == "AL" and row["kind"] == "statute"
    )
    tags = head(client.get("/states/al/"))
    assert tags.meta["og:description"] == (
        f"Alabama: state law recognizes 911 dispatchers as first responders: {alabama_law['identifier']}."
        if "(" in alabama_law["identifier"]
        else f"Alabama: state law recognizes 911 dispatchers as first responders ({alabama_law['identifier']})."
    )
    assert image_path(tags) == f"{HOST}/states/al/card.png"
    assert tags.meta["og:title"] == "Alabama: 911 dispatcher recognition"
    # Rhode Island has no row in the starter data.
    assert not [row for row in starter_rows() if row["state"] == "RI"]
    assert head(client.get("/states/ri/")).meta["og:description"] == (
        "Rhode Island: 911 dispatchers are not yet recognized as first responders."
    )


def test_a_county_page_says_its_one_sentence_and_shows_its_card(published, client):
    tags = head(client.get("/states/al/mobile-county/"))
    description = tags.meta["og:description"]
    assert description.startswith(
        "Covered: Mobile County adopted its own resolution, and Alabama has a state law"
    )
    assert "<" not in description and "  " not in description
    assert image_path(tags) == f"{HOST}/states/al/mobile-county/card.png"
    assert tags.meta["og:title"] == "Mobile County, Alabama: 911 dispatcher recognition"
    place = head(client.get("/states/al/city-of-mobile/"))
    assert image_path(place) == f"{HOST}/states/al/city-of-mobile/card.png"


def test_names_are_escaped_once(published, client):
    """An apostrophe in a name reads as one in every tag (HTMLParser decodes what the page escaped)."""
    tags = head(client.get("/states/md/prince-georges-county/"))
    assert tags.meta["og:title"] == "Prince George's County, Maryland: 911 dispatcher recognition"
    assert (
        tags.title
        == "Prince George's County, MD: 911 dispatcher recognition · Dispatcher Recognition Tracker"
    )
    assert tags.meta["og:description"].startswith("Covered: Maryland's state law")
    raw = client.get("/states/md/prince-georges-county/").content.decode()
    assert "&amp;#x27;" not in raw and "&amp;amp;" not in raw


def test_a_measure_page_says_its_summary(published, client):
    row = next(row for row in starter_rows() if row["identifier"] == "HB 414 (Act 2022-387)")
    measure = Resolution.objects.get(identifier=row["identifier"])
    tags = head(client.get(measure.get_absolute_url()))
    assert tags.meta["og:description"] == " ".join(row["summary"].split())
    assert tags.meta["og:type"] == "article"


def test_a_filtered_list_is_shared_with_its_filters_in_words(published, client):
    tags = head(client.get("/resolutions/?state=AL&page=1"))
    assert tags.meta["og:title"] == "Laws and resolutions: Alabama"
    expected = sum(1 for row in starter_rows() if row["state"] == "AL") - sum(
        1
        for row in starter_rows()
        if row["state"] == "AL" and (not row["source_url"] or row["confidence"] == "low")
    )
    assert tags.meta["og:description"].startswith(f"{expected} records recognizing 911 dispatchers")


# --- The cards ------------------------------------------------------------------------------------


CARD_URLS = {
    "Alabama": "/states/al/card.png",
    "Rhode Island": "/states/ri/card.png",
    "Mobile County, AL": "/states/al/mobile-county/card.png",
    "Bristol County, RI": "/states/ri/bristol-county/card.png",
    "City of Mobile, AL": "/states/al/city-of-mobile/card.png",
    "San Juan, PR (no map shapes)": "/states/pr/san-juan-municipio/card.png",
    "the nation": "/card.png",
}


@pytest.mark.parametrize("place", list(CARD_URLS))
def test_a_card_is_a_png_of_exactly_1200_by_630(published, client, place):
    response = client.get(CARD_URLS[place])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png_size(response.content) == (1200, 630)


def test_the_card_urls_are_named(published):
    assert reverse("recognition:state_card", kwargs={"usps": "al"}) == "/states/al/card.png"
    assert (
        reverse("recognition:jurisdiction_card", kwargs={"usps": "al", "slug": "mobile-county"})
        == "/states/al/mobile-county/card.png"
    )


@pytest.mark.parametrize(
    "url",
    ["/states/zz/card.png", "/states/al/no-such-county/card.png", "/states/al/baldwin-county-x/card.png"],
)
def test_an_unknown_place_has_no_card(published, client, url):
    assert client.get(url).status_code == 404


def test_a_county_of_another_state_has_no_card_there(published, client):
    assert client.get("/states/ms/mobile-county/card.png").status_code == 404


def test_a_card_says_the_status_the_page_says(published):
    """The card's words (its SVG, before CairoSVG) are the label and sentence of its page."""
    card = cards.state_card(get_state("AL"))
    drawn = cards.svg(card, "testserver/states/al/")
    assert "State law" in drawn
    assert "HB 414" in drawn
    county = cards.svg(cards.jurisdiction_card(get_county("01097")), "testserver/states/al/mobile-county/")
    assert "Mobile County" in county and "Alabama" in county and "Covered" in county
    assert "testserver/states/al/mobile-county/" in county


def test_a_long_address_leaves_the_footer_to_the_host(published):
    assert cards.footer_address("example.org/states/al/") == "example.org/states/al/"
    long = "tracker.example.org/states/ak/prince-of-wales-hyder-census-area/"
    assert cards.footer_address(long) == "tracker.example.org"


@pytest.fixture
def steady_version(published, monkeypatch):
    """The data version's mirror in local memory lasts 2 s: a card can take most of that to draw on a busy
    machine, and a lapsed mirror costs a query and skips the page cache. Kept for the test instead."""
    monkeypatch.setattr(versioning, "LOCAL_MIRROR_SECONDS", 600)
    versioning.forget_version_mirror()
    versioning.current_version()


def test_card_queries_are_fixed(steady_version, client, django_assert_num_queries):
    with django_assert_num_queries(8):  # the state, its progress (6), the states' shapes
        assert client.get("/states/tx/card.png").status_code == 200
    # The county, its measures, what covers it from above, its cities' and districts' measures, the shapes.
    with django_assert_num_queries(5):
        assert client.get("/states/tx/harris-county/card.png").status_code == 200
    with django_assert_num_queries(5):
        assert client.get("/states/al/mobile-county/card.png").status_code == 200
    with django_assert_num_queries(4):  # a city: no cities of its own to ask about
        assert client.get("/states/al/city-of-mobile/card.png").status_code == 200
    with django_assert_num_queries(3):
        assert client.get("/card.png").status_code == 200


@pytest.fixture
def renders(monkeypatch):
    """Every card drawn (CairoSVG run), listed."""
    drawn = []
    real = cards.png

    def counted(card, address):
        drawn.append(address)
        return real(card, address)

    monkeypatch.setattr(cards, "png", counted)
    return drawn


def test_a_card_is_drawn_once_per_data_version_and_changes_with_the_status(steady_version, renders):
    application = wsgi_application()
    url = "/states/ri/card.png"
    image_before = head_of(call_wsgi(application, "/states/ri/")).meta["og:image"]
    first = call_wsgi(application, url)
    second = call_wsgi(application, url)
    assert first["status"].startswith("200") and second["body"] == first["body"]
    assert header(second, "ETag") == header(first, "ETag")
    assert len(renders) == 1  # the second came from the page cache
    revisit = call_wsgi(application, url, IF_NONE_MATCH=header(first, "ETag"))
    assert revisit["status"].startswith("304") and len(renders) == 1

    ResolutionFactory(
        jurisdiction=get_state("RI"), kind=Kind.STATUTE, status=Status.ADOPTED, identifier="H 1"
    )
    commit()
    changed = call_wsgi(application, url)
    assert changed["status"].startswith("200")
    assert png_size(changed["body"]) == (1200, 630)
    assert changed["body"] != first["body"]
    assert header(changed, "ETag") != header(first, "ETag")
    assert len(renders) == 2
    call_wsgi(application, url)
    assert len(renders) == 2
    tags = head_of(call_wsgi(application, "/states/ri/"))
    assert (
        tags.meta["og:description"]
        == "Rhode Island: state law recognizes 911 dispatchers as first responders (H 1)."
    )
    # The page names the card with the data version: link previews that keep images by URL fetch the new one.
    assert tags.meta["og:image"] != image_before
    assert parse_qs(urlsplit(tags.meta["og:image"]).query)["v"] != parse_qs(urlsplit(image_before).query)["v"]
    assert call_wsgi(application, urlsplit(tags.meta["og:image"]).path + "?v=x")["body"] == changed["body"]


@pytest.fixture
def own_redis(tmp_path, settings):
    server = start_redis(tmp_path)
    try:
        settings.CACHES = {"default": redis_cache_settings(server.url)}
        sharedcache.reset()
        yield server
    finally:
        server.stop()


@pytest.mark.redis
def test_cards_are_served_while_redis_is_down(own_redis, published, renders):
    application = wsgi_application()
    url = "/states/al/mobile-county/card.png"
    call_wsgi(application, url)
    kept = call_wsgi(application, url)
    assert len(renders) == 1
    own_redis.kill()
    answer = call_wsgi(application, "/states/al/card.png")
    assert answer["status"].startswith("200") and png_size(answer["body"]) == (1200, 630)
    again = call_wsgi(application, url)  # this worker's own copy, or drawn again: the same card
    assert again["status"].startswith("200") and again["body"] == kept["body"]
