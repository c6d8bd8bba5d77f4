"""Failing politely: a 503 while the database is away, and a health check for operators."""

import logging
import sys

from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

logger = logging.getLogger("recognition.health")

RETRY_AFTER_SECONDS = 30
_database_down = False  # so the cause is logged once per outage, not once per request


def _is_database_unreachable(error):
    return isinstance(error, OperationalError | InterfaceError)


def database_recovered():
    """Called when a request reaches the database again after an outage."""
    global _database_down
    if _database_down:
        logger.warning("Database reachable again.")
        _database_down = False


def service_unavailable(request, error):
    global _database_down
    if not _database_down:
        logger.error("Database unreachable, answering 503 until it is back: %s", error)
        _database_down = True
    html = loader.render_to_string("503.html", request=None)
    response = _plain_response(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _plain_response(html, status):
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    """handler500: a 503 with Retry-After when the database is unreachable, else the 500 page.

    Rendered without a request context and without touching the database, so it
    works whatever failed.
    """
    error = sys.exc_info()[1]
    if error is not None and _is_database_unreachable(error):
        return service_unavailable(request, error)
    return _plain_response(loader.render_to_string("500.html"), status=500)


class DatabaseOutageMiddleware:
    """Turns "database unreachable" raised by a view into a 503, and notes recovery."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 500:
            database_recovered()
        return response

    def process_exception(self, request, exception):
        if _is_database_unreachable(exception):
            return service_unavailable(request, exception)
        return None


@never_cache
def healthz(request):
    """`{"database": "ok", "cache": "ok"}` with 200, or 503 naming what failed. One query, one cache round trip."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: database failed: %s", error)
        return "unreachable"
    return "ok"


def _check_cache():
    try:
        cache.set("healthz", "ok", 10)
        if cache.get("healthz") != "ok":
            return "not storing values"
    except Exception as error:  # any backend error (Redis down, misconfigured) is a failed check
        logger.warning("Health check: cache failed: %s", error)
        return "unreachable"
    return "ok"
