"""Pages are gzipped at a cheaper level than Django's, with the same headers and the same bytes inside."""

import gzip

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware
from django.test import RequestFactory

from recognition.compression import FasterGZipMiddleware

# Text shaped like a map's paths: what the level was chosen on.
PAGE = ('<path d="M123.4,567.8L234.5,678.9Z" data-fips="01001"/>' * 400).encode()


def answer(body=PAGE, **headers):
    return HttpResponse(body, content_type="text/html; charset=utf-8", headers=headers)


def both(request, make):
    ours = FasterGZipMiddleware(lambda request: make()).process_response(request, make())
    django = GZipMiddleware(lambda request: make()).process_response(request, make())
    return ours, django


def unzipped(response):
    return (
        gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    )


@pytest.mark.parametrize(
    "accept, make",
    [
        ("gzip, deflate, br", lambda: answer(ETag='"abc"')),
        ("gzip", lambda: answer(ETag='W/"abc"')),
        ("br", lambda: answer()),  # not taken: not compressed
        ("gzip", lambda: answer(b"short")),  # too short to be worth it
        ("gzip", lambda: answer(**{"Content-Encoding": "br"})),  # already encoded
    ],
    ids=["strong etag", "weak etag", "no gzip", "short", "encoded"],
)
def test_the_same_headers_and_content_as_djangos(accept, make):
    request = RequestFactory().get("/", headers={"Accept-Encoding": accept})
    ours, django = both(request, make)
    assert unzipped(ours) == unzipped(django)
    assert {k: v for k, v in ours.items() if k != "Content-Length"} == {
        k: v for k, v in django.items() if k != "Content-Length"
    }
    assert ours.has_header("Content-Length") == django.has_header("Content-Length")
    if ours.has_header("Content-Length"):
        assert int(ours["Content-Length"]) == len(ours.content)


def test_the_length_still_varies_against_breach():
    """A random file name in the gzip header, as Django writes, so that equal pages differ in length."""
    request = RequestFactory().get("/", headers={"Accept-Encoding": "gzip"})
    sizes = {len(FasterGZipMiddleware(answer).process_response(request, answer()).content) for _ in range(40)}
    assert len(sizes) > 1
    first = FasterGZipMiddleware(answer).process_response(request, answer()).content
    assert first[3] & gzip.FNAME


def test_a_streamed_answer_is_compressed_as_django_does():
    request = RequestFactory().get("/", headers={"Accept-Encoding": "gzip"})
    ours = FasterGZipMiddleware(answer).process_response(request, StreamingHttpResponse([PAGE, PAGE]))
    assert ours["Content-Encoding"] == "gzip" and not ours.has_header("Content-Length")
    assert gzip.decompress(b"".join(ours.streaming_content)) == PAGE + PAGE


def test_the_site_answers_gzipped_pages(client, db):
    response = client.get("/about/", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert b"</html>" in gzip.decompress(response.content)
