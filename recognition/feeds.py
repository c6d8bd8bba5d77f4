"""Atom feeds: follow a search, or a state, and see new records as they are published.

Both feeds take the list page's filter parameters (through the one ResolutionFilter),
list published records only, newest first, and answer a bad parameter with a 400.
"""

import re
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from . import exports
from .filters import ResolutionFilter
from .models import Jurisdiction, Level, Resolution

FEED_LENGTH = 50
SITE_NAME = "Dispatcher Recognition Tracker"
# Characters XML 1.0 cannot carry (a search for "\x08" is a valid search, but not valid XML).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text):
    """Text safe to put in the feed: characters XML 1.0 forbids become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


class InvalidSearch(Exception):
    def __init__(self, filterset):
        super().__init__("invalid filter parameters")
        self.filterset = filterset


@dataclass
class Search:
    filterset: ResolutionFilter
    query: str  # the filter parameters, URL-encoded, without `page`
    state: Jurisdiction | None = None


def _query(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _with_query(path, query):
    return f"{path}?{query}" if query else path


def describe(filterset):
    """The search in words, for the feed's title: `Alabama, Texas; county; adopted`."""
    data = filterset.form.cleaned_data
    fields = filterset.form.fields
    parts = []
    for name in ("state", "level", "kind", "status"):
        labels = dict(fields[name].choices)
        if data.get(name):
            parts.append(", ".join(str(labels.get(value, value)) for value in data[name]))
    if data.get("adopted_after"):
        parts.append(f"adopted on or after {data['adopted_after'].isoformat()}")
    if data.get("adopted_before"):
        parts.append(f"adopted on or before {data['adopted_before'].isoformat()}")
    if (data.get("q") or "").strip():
        parts.append(f"matching “{data['q'].strip()}”")
    return xml_text("; ".join(parts))


class ResolutionFeed(Feed):
    """/feeds/resolutions/?state=AL&level=county: newest records matching the search first."""

    feed_type = Atom1Feed
    author_name = SITE_NAME

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except InvalidSearch as error:
            return exports.bad_request(error.filterset)

    def get_object(self, request, *args, **kwargs):
        filterset = ResolutionFilter(request.GET)
        if not filterset.is_valid():
            raise InvalidSearch(filterset)
        return Search(filterset=filterset, query=_query(request))

    def items(self, search):
        return search.filterset.qs.order_by("-created_at", "-pk")[:FEED_LENGTH]

    def title(self, search):
        described = describe(search.filterset)
        return f"{SITE_NAME}: {described}" if described else f"{SITE_NAME}: all records"

    def subtitle(self, search):
        return "Laws and resolutions recognizing 911 dispatchers as first responders, newest records first."

    def link(self, search):
        return _with_query(reverse("recognition:resolution_list"), search.query)

    def feed_url(self, search):
        return _with_query(reverse("recognition:feed"), search.query)

    def item_title(self, item):
        return xml_text(f"{item.jurisdiction}: {item.title}")

    def item_description(self, item):
        # Atom says type="html": escape the plain text so it shows as written.
        return escape(xml_text(item.summary or item.title))

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_categories(self, item):
        return [
            value for value in (item.state_code, item.get_kind_display(), item.get_status_display()) if value
        ]


class StateFeed(ResolutionFeed):
    """/states/al/feed/: the state's own measures and those of everything inside it."""

    def get_object(self, request, usps):
        state = Jurisdiction.objects.get(level=Level.STATE, usps=usps.upper())  # DoesNotExist: 404
        filterset = ResolutionFilter(request.GET, queryset=Resolution.objects.published().in_state(usps))
        if not filterset.is_valid():
            raise InvalidSearch(filterset)
        return Search(filterset=filterset, query=_query(request), state=state)

    def title(self, search):
        described = describe(search.filterset)
        title = f"{SITE_NAME}: {search.state.name}"
        return f"{title} ({described})" if described else title

    def subtitle(self, search):
        return (
            f"Measures recognizing 911 dispatchers as first responders in {search.state.name} "
            "(the state, its counties, cities and districts), newest records first."
        )

    def link(self, search):
        return search.state.get_absolute_url()

    def feed_url(self, search):
        return _with_query(
            reverse("recognition:state_feed", kwargs={"usps": search.state.usps.lower()}), search.query
        )
