"""Charts to embed and to download (issue 18): the timeline's embed, and PNGs of the timeline and the maps.

A PNG's size is read from its header (the PNG specification, via tests/test_share.py's `png_size`); what
an image says is read from its SVG before CairoSVG, and compared with counts made from the starter CSV.
"""

import csv
import re

import pytest

from recognition import chart_images, progress
from recognition.models import Kind, Status
from tests.conftest import ResolutionFactory, get_state
from tests.test_caching import call_wsgi, commit, header, wsgi_application
from tests.test_share import STARTER, png_size, steady_version  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(starter_dataset):
    commit()


def starter_rows():
    with STARTER.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_timeline_embed_may_be_framed_and_is_offered_beside_the_chart(client, published):
    response = client.get("/embed/timeline/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    page = response.content.decode()
    assert page.count('class="chart__line') == 2  # the two series
    assert "Dispatcher Recognition Tracker</a>" in page  # the link back
    home = client.get("/").content.decode()
    assert '&lt;iframe src="http://testserver/embed/timeline/"' in home
    assert 'id="embed-timeline-code"' in home and 'id="embed-code"' in home  # two snippets, two ids
    assert 'href="/timeline.png" download' in home and 'href="/map.png" download' in home
    assert 'href="/map.png?layer=counties" download' in client.get("/?layer=counties").content.decode()
    assert 'href="/states/al/map.png" download' in client.get("/states/al/").content.decode()
    assert "map.png" not in client.get("/states/pr/").content.decode()  # no county shapes to draw


@pytest.mark.parametrize(
    "url",
    ["/timeline.png", "/map.png", "/map.png?layer=counties", "/states/al/map.png", "/states/ri/map.png"],
)
def test_each_chart_downloads_as_a_png_1200_pixels_wide(client, published, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="dispatcher-recognition-')
    width, height = png_size(response.content)
    assert width == 1200 and 600 < height < 1400


@pytest.mark.parametrize("url", ["/states/zz/map.png", "/states/pr/map.png"])
def test_no_map_no_png(client, published, url):
    assert client.get(url).status_code == 404


def test_the_state_map_image_says_what_the_legend_counts(published):
    """The image's legend: Alabama's counties by status, from the starter CSV (a state law, so every
    county is covered; Mobile County acted itself; the cities' counties are coloured for them)."""
    rows = [r for r in starter_rows() if r["state"] == "AL" and r["source_url"] and r["confidence"] != "low"]
    assert any(r["level"] == "state" and r["kind"] == "statute" for r in rows)
    state = get_state("AL")
    image = chart_images.state_map(
        progress.state_progress(state), "0 0 100 100", _day(), "example.org/states/al/"
    )
    drawn = chart_images.svg(image)
    counties = 67
    assert "Alabama: counties by who has recognized" in drawn
    assert "Statewide: State law." in drawn
    shown = dict(re.findall(r">([A-Z][A-Za-z ]+): ([\d,]+)</text>", drawn))
    assert sum(int(n.replace(",", "")) for n in shown.values()) == counties
    assert shown["No recognition yet"] == "0" and shown["State resolution only"] == "0"
    assert "Source: Dispatcher Recognition Tracker, example.org/states/al/ · Data as of" in drawn
    assert drawn.count("<path d=") == counties


def test_the_national_image_counts_the_states_with_a_law_as_the_home_page_does(client, published):
    national = client.get("/").context["progress"]
    drawn = chart_images.svg(chart_images.national_map(national, "states", _day(), "example.org/"))
    laws = national.state_counts["law"]
    words = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>", drawn))  # the title's lines, rejoined
    assert f"{laws} states recognize 911 dispatchers as first responders in law" in words
    assert drawn.count("<path d=") == 51


def _day():
    from django.utils import timezone

    return timezone.localdate()


def test_a_png_is_drawn_once_per_data_version(steady_version, monkeypatch):  # noqa: F811
    drawn = []
    real = chart_images.png
    monkeypatch.setattr(chart_images, "png", lambda image: drawn.append(image) or real(image))
    application = wsgi_application()
    first = call_wsgi(application, "/timeline.png")
    second = call_wsgi(application, "/timeline.png")
    assert first["status"].startswith("200") and second["body"] == first["body"] and len(drawn) == 1
    assert call_wsgi(application, "/timeline.png", IF_NONE_MATCH=header(first, "ETag"))["status"].startswith(
        "304"
    )
    ResolutionFactory(
        jurisdiction=get_state("RI"), kind=Kind.STATUTE, status=Status.ADOPTED, identifier="H 1"
    )
    commit()
    assert call_wsgi(application, "/timeline.png")["body"] != first["body"] and len(drawn) == 2


def test_chart_queries_are_fixed(steady_version, client, django_assert_num_queries):  # noqa: F811
    with django_assert_num_queries(1):  # the adopted measures by year
        assert client.get("/timeline.png").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/embed/timeline/").status_code == 200
    with django_assert_num_queries(7):  # the state, then its progress (6), as its page
        assert client.get("/states/tx/map.png").status_code == 200


def test_on_a_past_date_the_images_and_the_embed_show_that_date(client, published):
    """The downloads under a dated map are of that date: the same count of law states as the dated page,
    named in the title; the timeline embed stops at its year; a bad date is the pages' 400."""
    day = "2019-12-31"
    page = client.get(f"/?as_of={day}")
    national = page.context["progress"]
    assert national.as_of.isoformat() == day
    home = page.content.decode()
    assert f'href="/map.png?as_of={day}" download' in home and f'href="/timeline.png?as_of={day}" download' in home
    laws = national.state_counts["law"]
    assert laws < client.get("/").context["progress"].state_counts["law"]
    drawn = chart_images.svg(chart_images.national_map(national, "states", national.as_of, "example.org/"))
    words = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>", drawn))
    assert f"On December 31, 2019, {laws} state" in words and "recognized 911 dispatchers" in words
    for url in (f"/map.png?as_of={day}", f"/states/al/map.png?as_of={day}", f"/timeline.png?as_of={day}"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert day in response["Content-Disposition"]
    embed = client.get(f"/embed/timeline/?as_of={day}").content.decode()
    assert "As it stood on December 31, 2019" in embed and f'/?as_of={day}"' in embed  # and its credit link
    ticks = {int(year) for year in re.findall(r">(\d{4})</text>", embed)}
    assert ticks and max(ticks) == 2019
    for url in ("/map.png?as_of=2019-02-30", "/timeline.png?as_of=soon", "/embed/timeline/?as_of=1800-01-01"):
        assert client.get(url).status_code == 400


@pytest.mark.parametrize("url", ["/", "/embed/timeline/", "/states/al/"])
def test_numbers_in_the_markup_are_never_localized(client, published, url):
    """A locale with a decimal comma (German) must not reach the SVG's coordinates: they are markup."""
    from django.utils import translation

    with translation.override("de"):
        assert translation.get_language() == "de"
        html = client.get(url).content.decode()
    values = re.findall(r'\s(?:c?[xy][12]?|width|height|r)="([^"]*)"', html)
    assert any("." in value for value in values)  # the page does write fractions
    assert [value for value in values if not re.fullmatch(r"-?\d+(\.\d+)?(%|em)?", value)] == []
