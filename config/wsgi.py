"""WSGI entry point (gunicorn config.wsgi).

Repeated visits to public pages are answered by the page cache in front of
Django (recognition/pagecache.py): a front-page link costs a lookup in the
worker's memory, the data version kept exact by Redis announcements. Without
Redis, or while it is down, Django answers every request from the database.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from recognition.pagecache import FinishedPageCache  # noqa: E402  (needs Django set up first)

application = FinishedPageCache(application)
