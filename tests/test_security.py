"""Safe by default: the deploy check, strict headers everywhere, nothing a person typed marked safe."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-production-like-secret-key-that-is-long-and-random-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "tracker.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://tracker.example.org",
    "DATABASE_URL": "postgres://tracker@127.0.0.1:5432/tracker",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_BEHIND_PROXY": "1",
}


def test_deploy_check_passes_with_production_variables():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env | PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def assert_strict_headers(response, framing="none"):
    csp = response["Content-Security-Policy"]
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives.get("script-src", "")
    assert "'unsafe-inline'" not in directives.get("style-src", "")
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == ("'none'" if framing == "none" else "*")
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]
    if framing == "none":
        assert response["X-Frame-Options"] == "DENY"
    else:
        assert "X-Frame-Options" not in response


@pytest.fixture
def https_client(settings):
    settings.SECURE_SSL_REDIRECT = False
    client = Client(raise_request_exception=False)

    class HTTPS:
        def get(self, url):
            return client.get(url, secure=True)

    return HTTPS()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, status",
    [
        ("/", 200),
        ("/states/al/", 200),
        ("/resolutions/", 200),
        ("/api/resolutions/", 200),
        ("/admin/login/", 200),
        ("/no-such-page/", 404),
    ],
)
def test_headers_on_every_kind_of_page(https_client, starter_dataset, url, status):
    response = https_client.get(url)
    assert response.status_code == status
    assert_strict_headers(response)


@pytest.mark.django_db
def test_embeds_may_be_framed_by_anyone(https_client, starter_dataset):
    for url in ["/embed/map/", "/embed/states/al/"]:
        assert_strict_headers(https_client.get(url), framing="any")


@pytest.mark.django_db
def test_headers_on_a_503(settings):
    settings.SECURE_SSL_REDIRECT = False
    responses = []

    def run():
        wrapper = connections["default"]
        real = wrapper.settings_dict
        wrapper.close()
        if real["ENGINE"].endswith("sqlite3"):
            wrapper.settings_dict = {**real, "NAME": "/nonexistent-directory/tracker.sqlite3"}
        else:
            wrapper.settings_dict = {**real, "HOST": "127.0.0.1", "PORT": "9"}
        try:
            responses.append(Client(raise_request_exception=False).get("/", secure=True))
        finally:
            wrapper.close()
            wrapper.settings_dict = real

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    (response,) = responses
    assert response.status_code == 503
    assert_strict_headers(response)


def test_no_inline_scripts_or_styles_in_templates():
    """A strict CSP blocks inline code, so templates must have none (a JSON-in-script block is not code)."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b", text):
            offenders.append(str(template))
        if re.search(r"""\sstyle=["'](?!border:0)""", text):  # the iframe snippet is text in a textarea
            offenders.append(f"{template} (style attribute)")
    assert offenders == []


# Every use of mark_safe or |safe, and why it is safe. Anything a person typed must never reach one
# unescaped.
ALLOWED_SAFE_USES = {
    # path: number of uses
    # The list's rows and filter choices, the stage bars, the maps' links and a state's county table, and the national
    # county layer's links and its table by state, a state's own measures and its local measures, the timeline's years
    # and the sentences naming measures, written as plain strings for speed: every value goes through html.escape
    # first (tests/test_list.py puts markup in a title, a number and a place name; the tests below in a county's
    # name, a bill's number, the address, a state's name and its measures' numbers, titles, bodies and places).
    "recognition/templatetags/recognition.py": 12,
}


def test_no_mark_safe_on_user_input():
    uses = {}
    for path in [*(ROOT / "recognition").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]:
        text = path.read_text()
        count = len(re.findall(r"mark_safe\(|\|\s*safe\b", text))
        if count:
            uses[str(path.relative_to(ROOT))] = count
    assert uses == ALLOWED_SAFE_USES


def test_plain_http_is_redirected_behind_the_tls_proxy():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    code = "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT, settings.SECURE_PROXY_SSL_HEADER)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env | PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "True ('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.django_db
def test_a_county_name_with_markup_is_text_on_the_maps_and_in_the_table(client):
    """The maps' links and a state's county table are written as plain strings: a name is escaped there."""
    from html import unescape

    from recognition.models import Jurisdiction

    hostile = 'Mobile <script>x("1")</script> & \'Co\''
    Jurisdiction.objects.filter(fips="01097").update(name=hostile)
    for url in ("/states/al/", "/?layer=counties"):
        html = client.get(url).content.decode()
        assert hostile not in html and "<script>x(" not in html
        if url == "/states/al/":
            labels = [unescape(label) for label in re.findall(r'aria-label="([^"]*)"', html)]
            assert any(hostile in label for label in labels)
            assert f">{hostile}</a></th>" in unescape(html)


def test_markup_in_the_address_is_text_in_the_timeline_s_links(client, starter_dataset):
    """The timeline's years keep the address's other parameters, written as plain strings: escaped there."""
    from urllib.parse import quote

    hostile = '"><script>x(1)</script>'
    html = client.get("/", {"layer": hostile}).content.decode()
    assert "<script>x(1)" not in html
    years = re.findall(r'<a class="chart__year" href="([^"]*)"', html)
    rows = re.findall(r'<tr><th scope="row"><a href="([^"]*)">\d{4}</a>', html)
    assert years and rows == years
    layer = f"?layer={quote(hostile, safe='')}"
    assert all(
        href == layer or re.fullmatch(rf"{re.escape(layer)}&amp;as_of=\d{{4}}-12-31", href) for href in years
    )


@pytest.mark.django_db
def test_a_bill_number_with_markup_is_text_in_its_stage_bar(client):
    """The stage bars are written as plain strings: the number they are named by is escaped there."""
    from html import unescape

    from tests.legislative import bill

    hostile = 'HB <img src=x onerror="y()"> & \'1\''
    bill(usps="AL", identifier=hostile, title="A bill")
    for url in ("/states/al/",):
        html = client.get(url).content.decode()
        assert hostile not in html and "<img src=x" not in html
        labels = [unescape(label) for label in re.findall(r'aria-label="([^"]*)"', html)]
        assert f"Stages of {hostile}" in labels


@pytest.mark.django_db
def test_markup_staff_typed_is_text_in_a_state_s_measures_and_the_county_layer_s_table(client):
    """A state page's own measures and its table of local measures, and the county layer's table by
    state, are written as plain strings: a number, title, body or name with markup in it is escaped there."""
    from html import unescape

    from recognition.models import Jurisdiction
    from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state

    hostile = '<img src=x onerror="y()"> & \'1\''
    alabama = get_state("AL")
    ResolutionFactory(
        jurisdiction=alabama, identifier=f"SJR {hostile}", title=f"Title {hostile}", body=f"Senate {hostile}"
    )
    town = PlaceFactory(name=f"Town {hostile}", county=get_county("01097"))
    ResolutionFactory(jurisdiction=town, identifier=f"Res {hostile}")
    Jurisdiction.objects.filter(pk=alabama.pk).update(name=f"Alabama {hostile}")
    state_page = client.get("/states/al/").content.decode()
    county_layer = client.get("/?layer=counties").content.decode()
    assert "<img src=x" not in state_page and "<img src=x" not in county_layer
    for shown in (
        f">SJR {hostile}</a></h3>",
        f"· Senate {hostile} · Title {hostile}</p>",
        f">Town {hostile}</a></th>",
        f">Res {hostile}</a></td>",
    ):
        assert shown in unescape(state_page)
    assert f">Alabama {hostile}</a></th>" in unescape(county_layer)
