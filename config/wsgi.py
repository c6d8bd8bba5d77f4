"""WSGI entry point (gunicorn config.wsgi).

Repeated visits to public pages are answered by the page cache in front of
Django (recognition/pagecache.py): a front-page link costs a lookup in the
worker's memory, the data version kept exact by Redis announcements. Without
Redis, or while it is down, Django answers every request from the database.
"""

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from recognition.pagecache import FinishedPageCache  # noqa: E402  (needs Django set up first)

application = FinishedPageCache(application)

TEMPLATE_SUFFIXES = {".html", ".svg", ".txt"}  # what `prepare` compiles


def prepare():
    """What a process's first pages would otherwise do on a visitor's time: load the template tag
    libraries, compile every template of the site and build the URL patterns' reverse lookups. gunicorn
    calls it as each worker starts (gunicorn.conf.py): the first page of each kind a fresh or recycled
    worker drew took about 60 ms more than the next. No query: a worker starts with the database down."""
    from pathlib import Path

    from django.template import engines
    from django.urls import get_resolver

    resolver = get_resolver()
    for _namespace, (_prefix, included) in resolver.namespace_dict.items():
        included.reverse_dict  # noqa: B018  (built on first read)
    resolver.reverse_dict  # noqa: B018
    for engine in engines.all():
        for directory in engine.dirs:  # the site's own templates (the admin's compile when first asked for)
            for path in sorted(Path(directory).rglob("*")):
                if path.suffix not in TEMPLATE_SUFFIXES:
                    continue  # an editor's backup, a stray file: not a template
                try:
                    engine.get_template(str(path.relative_to(directory)))
                except Exception:  # noqa: BLE001 - a page that fails to compile fails when asked for, not the worker
                    logging.getLogger(__name__).warning("Could not compile %s", path, exc_info=True)
