"""Embeds may be framed by other sites; every other page refuses framing."""

import pytest

from tests.html import map_regions

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url, regions", [("/embed/map/", 51), ("/embed/states/al/", 67)])
def test_embed_views_allow_framing(client, starter_dataset, url, regions):
    response = client.get(url)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    html = response.content.decode()
    assert len(map_regions(html)) == regions
    assert 'target="_top"' in html  # a click leaves the iframe for the full page
    assert "Dispatcher Recognition Tracker</a>" in html  # the link back


@pytest.mark.parametrize("url", ["/", "/states/al/", "/about/", "/admin/login/"])
def test_other_pages_refuse_framing(client, starter_dataset, url):
    assert client.get(url).headers["X-Frame-Options"] == "DENY"


def test_home_and_state_pages_offer_the_snippet(client, starter_dataset):
    assert '&lt;iframe src="http://testserver/embed/map/"' in client.get("/").content.decode()
    assert "/embed/states/al/" in client.get("/states/al/").content.decode()


def test_unknown_state_embed_is_404(client):
    assert client.get("/embed/states/zz/").status_code == 404
    assert client.get("/embed/states/AL/").status_code == 404
