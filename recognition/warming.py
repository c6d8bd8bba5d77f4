"""Warm after publish: the task worker, not the first visitor, pays for the pages a publish made cold.

A change gives the data a new version (recognition/versioning.py), and every cached page is
then cold. When a transaction that changed what the public sees commits, one task is queued
(one per transaction, however many rows it wrote: the admin's list actions run in one). The
worker (`manage.py db_worker`) then requests `/`, its county layer, `/resolutions/` and the
pages of the states, counties and places the change touched, through the site's own WSGI
stack (the page cache in front of Django), as a visitor at DJANGO_SITE_URL asking for gzip
would: the pages are kept under exactly the keys a visitor's request looks up.

- Only with a shared cache (REDIS_URL): without one the worker's pages would stay in its own memory;
  and only with a worker (not the immediate backend, which would run the task in the publisher's request).
- A task finding that the data has changed again since stops: the newer change's task warms.
- Edits to drafts are not noted (nothing the public sees changed), nor is anything when warming
  is off (DJANGO_WARM_PAGES=0); then no extra query is made either.
- A failure while warming is logged and never reaches the change: the task is queued once the
  transaction has committed, and an unreachable queue or cache only means cold pages.
"""

import logging
import sys
from io import BytesIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django.tasks.backends.immediate import ImmediateBackend

from . import sharedcache
from .versioning import current_version

logger = logging.getLogger(__name__)

# The pages every change makes cold, warmed first: the ones most visitors arrive on.
FIRST_PAGES = ("/", "/?layer=counties", "/resolutions/")
# State, county and place pages per task: a bulk import touching thousands of places warms the states
# and the first counties; the rest are made by their first visitor, as before.
MAX_PLACE_PAGES = 300
USER_AGENT = "tracker-warmer (pages made after a publish)"

# Per model: the path to a row's jurisdiction and to whether the public sees it (None: always).
PLACE_PATHS = {
    "Jurisdiction": ("pk", None),
    "LegislativeSession": ("jurisdiction_id", None),
    "Resolution": ("jurisdiction_id", "published"),
    "Source": ("resolution__jurisdiction_id", "resolution__published"),
    "Action": ("resolution__jurisdiction_id", "resolution__published"),
}
# Set on an instance before it is saved: where the stored row was public until then (see `row_saving`).
WAS = "_warming_was"


def enabled():
    """Only with a shared cache, and a worker of its own: the immediate backend would make the pages inside
    the publisher's own request (hundreds of them, with that request's connection and thread)."""
    return (
        settings.WARM_PAGES
        and isinstance(caches["default"], RedisCache)
        and not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], ImmediateBackend)
    )


# --- Noting what a transaction touched ------------------------------------------------------------


class _PendingWarm:
    """This transaction's touched jurisdictions; one task queued for them when it commits."""

    def __init__(self, jurisdiction_ids):
        self.jurisdiction_ids = set(jurisdiction_ids)
        self.queued = False

    def __call__(self):
        self.queued = True
        try:
            # The committed version from its row: the cache's copy may still be the old one (it is stored
            # by a callback of this same commit, which may run after this one).
            warm_pages.enqueue(committed_token(), sorted(self.jurisdiction_ids))
        except Exception:  # committed already: an unreachable queue only leaves the pages cold
            logger.exception("Could not queue the warming of pages for %s", sorted(self.jurisdiction_ids))


def committed_token():
    from .models import DataVersion

    return DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("token", flat=True).first()


def note(jurisdiction_ids):
    """The public sees a change to these jurisdictions' data (an empty set: to none)."""
    jurisdiction_ids = {pk for pk in jurisdiction_ids if pk is not None}
    if not jurisdiction_ids:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        for _savepoints, callback, _robust in reversed(connection.run_on_commit):
            if isinstance(callback, _PendingWarm) and not callback.queued:
                callback.jurisdiction_ids |= jurisdiction_ids
                return
    transaction.on_commit(_PendingWarm(jurisdiction_ids), robust=True)


def row_saving(sender, instance, raw=False, **kwargs):
    """pre_save: the places whose pages showed the stored row until now. A record unpublished or moved to
    another jurisdiction, a source or action moved to another record, a session to another legislature,
    a place to another county or state: the old place's pages are stale too. One query."""
    if raw or not enabled() or instance.pk is None:
        return
    setattr(instance, WAS, _stored_places(sender, instance.pk, kwargs.get("using")))


def _stored_places(model, pk, using=None):
    """The jurisdictions whose pages show the stored row `pk` of `model` (in the database `using`): its own
    place when the public sees it (a jurisdiction: its state and county, which list it)."""
    place_path, published_path = PLACE_PATHS[model.__name__]
    stored = model._default_manager.db_manager(using).filter(pk=pk)
    if place_path == "pk":
        return set(stored.values_list("parent_id", "county_id").first() or ())
    fields = [place_path] if published_path is None else [place_path, published_path]
    row = stored.values_list(*fields).first()
    if row is None or (published_path is not None and not row[1]):
        return set()
    return {row[0]}


def row_changed(sender, instance, raw=False, **kwargs):
    """post_save and post_delete of public data: note its jurisdiction when the public sees the row, and
    where the stored row was public before a save."""
    if raw or not enabled():
        return
    from .models import Action, Jurisdiction, Resolution, Source

    note(instance.__dict__.pop(WAS, None) or set())
    if isinstance(instance, Resolution):
        note({instance.jurisdiction_id} if instance.published else set())
        return
    if isinstance(instance, (Action, Source)):
        row = (
            Resolution.objects.filter(pk=instance.resolution_id)
            .values_list("jurisdiction_id", "published")
            .first()
        )
        place, public = row or (None, False)
    elif isinstance(instance, Jurisdiction):
        place, public = instance.pk, True
    else:  # a legislative session: its state's page (or the nation's) lists it
        place, public = instance.jurisdiction_id, True
    if public:
        note({place})


def moves(model, fields):
    """Whether writing `fields` can move a row of `model` to another jurisdiction (its own, or that of
    the record it belongs to): then the pages of both places are stale."""
    place_path, _published_path = PLACE_PATHS[model.__name__]
    if place_path == "pk":
        return False
    field = place_path.split("__")[0].removesuffix("_id")
    return any(name.removesuffix("_id") == field for name in fields)


def note_rows(queryset, changes=None):
    """Before (or after) a bulk write of these rows: note the jurisdictions of those the public sees,
    or will see when `changes` publishes them. One query.

    When `changes` can move them to another jurisdiction, returns the ids of the rows the public will
    see, for the caller to note again after the write (their new places): a second query."""
    if not enabled():
        return None
    changes = changes or {}
    place_path, published_path = PLACE_PATHS[queryset.model.__name__]
    publishing = published_path == "published" and bool(changes.get("published"))
    if published_path is not None and not publishing:
        queryset = queryset.filter(**{published_path: True})
    note(set(queryset.order_by().values_list(place_path, flat=True).distinct()))
    unpublishing = published_path == "published" and "published" in changes and not changes["published"]
    if unpublishing or not moves(queryset.model, changes):
        return None
    return list(queryset.order_by().values_list("pk", flat=True))


def note_objects(model, objs):
    """After bulk_create or bulk_update: the written rows as they now stand (in batches)."""
    note_pks(model, [obj.pk for obj in objs])


def note_pks(model, pks):
    """These rows as they now stand (in batches)."""
    if not enabled():
        return
    pks = [pk for pk in pks if pk is not None]
    for start in range(0, len(pks), 2000):
        note_rows(model._default_manager.filter(pk__in=pks[start : start + 2000]))


# --- The task -----------------------------------------------------------------------------------------


def pages(jurisdiction_ids):
    """The addresses to warm, most visited first: the FIRST_PAGES, then the touched states, counties
    (a place's own county) and places."""
    from .models import Jurisdiction, Level

    states, counties, places = {}, {}, {}
    touched = Jurisdiction.objects.filter(pk__in=jurisdiction_ids).select_related(
        "parent", "county", "county__parent"
    )
    for place in touched.order_by("pk"):
        if place.level == Level.STATE:
            states[place.pk] = place
        elif place.level == Level.COUNTY:
            counties[place.pk] = place
            states[place.parent_id] = place.parent
        elif place.level != Level.NATION:
            places[place.pk] = place
            states[place.parent_id] = place.parent
            if place.county is not None:
                counties[place.county_id] = place.county
    ordered = [*states.values(), *counties.values(), *places.values()]
    return [*FIRST_PAGES, *(place.get_absolute_url() for place in ordered[:MAX_PLACE_PAGES])]


_site = None


def site():
    """The site as gunicorn runs it (config/wsgi.py's stack), built once per worker process."""
    global _site
    if _site is None:
        from django.core.handlers.wsgi import WSGIHandler

        from .pagecache import FinishedPageCache

        _site = FinishedPageCache(WSGIHandler())
    return _site


def visitor_environ(address):
    """A browser's GET of `address` at DJANGO_SITE_URL (it asks for gzip, as every browser does)."""
    base = urlsplit(settings.SITE_URL or "http://127.0.0.1:8000")
    scheme = base.scheme or "http"
    path, _, query = address.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": base.hostname or "127.0.0.1",
        "SERVER_PORT": str(base.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": base.netloc.lower(),
        "HTTP_ACCEPT_ENCODING": "gzip",
        "HTTP_USER_AGENT": USER_AGENT,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = secure_value if scheme == "https" else "http"
    return environ


def request(address):
    """GET `address` through the site; its status line."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    result = site()(visitor_environ(address), start_response)
    try:
        for _chunk in result:
            pass
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer.get("status", "")


@task
def warm_pages(token, jurisdiction_ids):
    """Make the pages a change made cold, for the data version `token`; how many were requested."""
    if not enabled() or not sharedcache.cache_available():
        return 0  # no shared cache to fill: visitors are answered from the database meanwhile
    warmed = 0
    try:
        for address in pages(jurisdiction_ids):
            if current_version()[0] != token:
                break  # changed again since: that change's own task warms
            status = request(address)
            if not status.startswith("200"):
                logger.warning("Warming %s answered %s", address, status)
            warmed += 1
    finally:
        site().forget()  # the worker serves nobody: its copies would only take memory
    return warmed
