"""Caching with exact invalidation.

Every change to a resolution, source or jurisdiction bumps one data version
(a row in the database, changed inside the same transaction as the change).
The version is part of every cache key and of every ETag, so a publish shows on
the very next request, on every worker and server, and a revisit of an
unchanged page gets a 304 for the price of one primary-key read.

The version is a random token rather than a counter, so a rolled-back
transaction or a restored backup can never bring back a key that was cached
for other data.

Reading it costs one cache lookup: the database row is mirrored in the cache,
and a bump deletes the mirror (at once, and again when the transaction commits),
so the next reader fetches the new token. With Redis (REDIS_URL) every worker
shares the mirror; with the local-memory cache of a single-process local run the
mirror lives a few seconds at most, in case several processes share a database.
"""

import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import condition

PAGE_TIMEOUT = 60 * 60 * 24  # a day; the version in the key is what keeps pages fresh
VERSION_KEY = "data-version"


def _version_mirror_seconds():
    shared = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    return 60 * 60 if shared else 2


def current_version():
    """(token, changed_at) of the data: from the cache, else from its database row."""
    row = cache.get(VERSION_KEY)
    if row is None:
        from .models import DataVersion

        row = DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("token", "changed_at").first()
        if row is None:
            row = bump_data_version()
        cache.set(VERSION_KEY, row, _version_mirror_seconds())
    return row


def _forget_mirror():
    cache.delete(VERSION_KEY)


def bump_data_version(**_signal_kwargs):
    """Give the data a new version: every cached page and ETag is now stale."""
    from django.utils import timezone

    from .models import DataVersion

    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        updated = DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(token=token, changed_at=now)
        if not updated:
            DataVersion.objects.update_or_create(
                pk=DataVersion.SINGLETON, defaults={"token": token, "changed_at": now}
            )
    _forget_mirror()
    transaction.on_commit(_forget_mirror)
    return token, now


def _request_version(request):
    if not hasattr(request, "_data_version"):
        request._data_version = current_version()
    return request._data_version


def _etag(request, *args, **kwargs):
    token, _changed = _request_version(request)
    path_hash = hashlib.blake2b(request.get_full_path().encode(), digest_size=6).hexdigest()
    return f"{token[:16]}-{path_hash}"


def _last_modified(request, *args, **kwargs):
    return _request_version(request)[1]


def public_page(view):
    """A public, anonymous page: conditional GET (ETag, Last-Modified) and a versioned page cache.

    Only for pages that are the same for every visitor (no form with a CSRF
    token, nothing per user). Only successful answers are cached.
    """

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        token, _changed = _request_version(request)
        key = (
            "page:"
            + hashlib.blake2b(f"{token}|{request.get_full_path()}".encode(), digest_size=16).hexdigest()
        )
        stored = cache.get(key)
        if stored is not None:
            content, content_type, headers = stored
            response = HttpResponse(content, content_type=content_type)
            for name, value in headers.items():
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            kept = {
                name: response[name]
                for name in ("Content-Disposition", "X-Frame-Options")
                if name in response
            }
            cache.set(key, (response.content, response["Content-Type"], kept), PAGE_TIMEOUT)
        return response

    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(cached_view)

    @wraps(view)
    def page(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        # Revalidate on every visit: cheap (a 304), and never stale after a publish.
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        if "Last-Modified" not in response and hasattr(request, "_data_version"):
            response["Last-Modified"] = http_date(request._data_version[1].timestamp())
        return response

    return page
