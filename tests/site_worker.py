"""The site's own application as gunicorn loads it (config.wsgi), answering every request with how many of
the site's templates its worker had compiled before that request: what tests/test_gunicorn.py asks."""

from config.wsgi import application  # noqa: F401  (loading it is what makes the worker the site's)


def compiled(environ, start_response):
    from django.template import engines

    loader = engines["django"].engine.template_loaders[0]  # the cached loader, in front of the others
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(loader.get_template_cache)).encode()]
