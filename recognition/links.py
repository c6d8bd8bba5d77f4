"""Checking that the sources' links still answer.

The standard library only (urllib.request): a link check needs a HEAD or GET,
a timeout and redirects followed by hand, which is what urllib does; a client
library would be a new dependency for a few lines. The opener knows HTTP and
HTTPS and nothing else (no ftp:, file: or data:), follows no redirect itself
and raises on no status: `check_url` reads each answer and decides, so it can
count redirects, keep HEAD a HEAD, and never read a body.

Fetching runs in threads that never touch the database; the results are saved
together, from the calling thread. The URLs are the ones staff cite (some came
from public submissions); what a check reveals (a status, an address) is shown
to staff only.
"""

import http.client
import ssl
import string
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.error import URLError
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from .models import BROKEN_LINK_OUTCOMES, LINK_CHECK_FIELDS, LinkOutcome, Source

DEFAULT_TIMEOUT = 10.0  # seconds, per connection and per read
DEFAULT_WORKERS = 8
MAX_REDIRECTS = 5
# A server that refuses HEAD answers one of these (or drops the connection); GET is then tried.
HEAD_REFUSED = frozenset({403, 405, 501})
SCHEMES = ("http", "https")
FINAL_URL_MAX = Source._meta.get_field("link_final_url").max_length


def user_agent():
    """Who is asking, and where to read why: servers' operators look at this when a check worries them."""
    about = f"+{settings.SITE_URL}{reverse('recognition:about')}; " if settings.SITE_URL else ""
    return f"DispatcherRecognitionTracker/1.0 ({about}link check)"


@dataclass(frozen=True)
class LinkCheck:
    outcome: str
    status: int | None  # the last HTTP status received; None when no answer came
    final_url: str  # the address that gave that answer (or failed)

    @property
    def broken(self):
        return self.outcome in BROKEN_LINK_OUTCOMES


class _ConnectionDropped(Exception):
    """The server closed or reset the connection without an answer (some do that to HEAD)."""


def build_opener():
    """HTTP and HTTPS only, with the environment's proxies; no redirect or error handling of its own."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def check_url(url, *, timeout=DEFAULT_TIMEOUT, opener=None, agent=None):
    """HEAD the URL, following up to MAX_REDIRECTS redirects; GET instead if HEAD is refused."""
    opener = opener or build_opener()
    agent = agent or user_agent()
    try:
        result = _follow(opener, url, "HEAD", timeout, agent)
    except _ConnectionDropped:
        result = None
    if result is None or result.status in HEAD_REFUSED:
        try:
            result = _follow(opener, url, "GET", timeout, agent)
        except _ConnectionDropped:
            result = LinkCheck(LinkOutcome.UNREACHABLE, None, url)
    return result


def _follow(opener, url, method, timeout, agent):
    """One method, from `url` through its redirects: the last answer, and the address that gave it."""
    start = current = _as_sent(url)
    redirects = 0
    while True:
        request = urllib.request.Request(
            current, method=method, headers={"User-Agent": agent, "Accept": "*/*"}
        )
        try:
            # Closed unread: only the status line and headers matter.
            with opener.open(request, timeout=timeout) as response:
                status, location = response.status, response.headers.get("Location")
        except (OSError, http.client.HTTPException, ValueError) as error:
            return LinkCheck(_failure_outcome(error), None, current)
        if not 300 <= status < 400:
            return LinkCheck(_status_outcome(status, redirected=current != start), status, current)
        # As urllib's own redirect handler does: the header was read as Latin-1, so this gives back its bytes.
        target = urljoin(current, quote(location or "", encoding="iso-8859-1", safe=string.punctuation))
        if redirects == MAX_REDIRECTS or not location or urlsplit(target).scheme not in SCHEMES:
            return LinkCheck(LinkOutcome.REDIRECT_ERROR, status, current)
        current, redirects = target, redirects + 1


def _as_sent(url):
    """A cited address as HTTP sends it: an IRI (accents are fine in a link) with its host in IDNA and
    the rest percent-encoded, which http.client requires."""
    parts = urlsplit(url)
    try:
        host = parts.netloc if "@" in parts.netloc else parts.netloc.encode("idna").decode("ascii")
    except UnicodeError:
        return url  # not a host name: the request fails, and is recorded as unreachable
    rest = (iri_to_uri(part) for part in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme, host, *rest))


def _status_outcome(status, redirected):
    if 200 <= status < 300:
        return LinkOutcome.REDIRECTED if redirected else LinkOutcome.OK
    if 400 <= status < 500:
        return LinkOutcome.CLIENT_ERROR
    return LinkOutcome.SERVER_ERROR


def _failure_outcome(error):
    """Timeout, or unreachable; a dropped connection is raised, for the caller to try GET."""
    reason = error.reason if isinstance(error, URLError) and isinstance(error.reason, Exception) else error
    if isinstance(reason, TimeoutError):
        return LinkOutcome.TIMEOUT
    if isinstance(reason, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        raise _ConnectionDropped from error
    return LinkOutcome.UNREACHABLE  # no such host, refused, TLS, not HTTP, an address urllib cannot use


def sources_to_check(only_published=False, stale_days=None, now=None):
    """Sources with a link, optionally only on published records or not checked for `stale_days` days."""
    sources = Source.objects.exclude(url="").order_by("pk")
    if only_published:
        sources = sources.filter(resolution__published=True)
    if stale_days is not None:
        cutoff = (now or timezone.now()) - timedelta(days=stale_days)
        sources = sources.filter(Q(link_checked_at__isnull=True) | Q(link_checked_at__lt=cutoff))
    return sources


@dataclass
class CheckReport:
    checked: list  # (source, LinkCheck) in source order
    skipped: list  # sources whose link is neither http nor https

    @property
    def broken(self):
        return [(source, result) for source, result in self.checked if result.broken]

    def as_dict(self):
        return {
            "checked": len(self.checked),
            "ok": len(self.checked) - len(self.broken),
            "broken": [source.pk for source, _result in self.broken],
            "skipped": [source.pk for source in self.skipped],
        }


def check_sources(sources, *, timeout=DEFAULT_TIMEOUT, workers=DEFAULT_WORKERS):
    """Check each source's link, `workers` at a time, and record every result in one bulk update."""
    sources = list(sources.only("pk", "url", "resolution_id", *LINK_CHECK_FIELDS))
    skipped = [s for s in sources if urlsplit(s.url).scheme.lower() not in SCHEMES]
    to_check = [s for s in sources if s not in skipped]
    opener, agent = build_opener(), user_agent()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check-sources") as pool:
        results = list(
            pool.map(lambda s: check_url(s.url, timeout=timeout, opener=opener, agent=agent), to_check)
        )
    checked_at = timezone.now()
    for source, result in zip(to_check, results, strict=True):
        source.link_checked_at = checked_at
        source.link_status = result.status
        source.link_outcome = result.outcome
        source.link_final_url = result.final_url if len(result.final_url) <= FINAL_URL_MAX else ""
    Source.objects.record_link_checks(to_check)
    return CheckReport(checked=list(zip(to_check, results, strict=True)), skipped=skipped)


@task
def check_source_links(
    only_published=False, stale_days=None, timeout=DEFAULT_TIMEOUT, workers=DEFAULT_WORKERS
):
    """`manage.py check_sources` as a task, for a task backend with a worker (the default runs it at once)."""
    sources = sources_to_check(only_published=only_published, stale_days=stale_days)
    return check_sources(sources, timeout=timeout, workers=workers).as_dict()
