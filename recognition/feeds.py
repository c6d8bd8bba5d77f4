"""Atom feeds: follow a search, or a state, and see new records and what happens to them.

Both feeds take the list page's filter parameters (through the one ResolutionFilter),
list published records only, and answer a bad parameter with a 400. An entry is a
measure, or a new action of a measure matching the search ("S. 725 passed the
Senate"): following a bill means following its progress. Entries are newest first by
when they were recorded here, FEED_LENGTH at most.
"""

import re
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.http import HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from . import changes, exports
from .filters import ResolutionFilter
from .models import Action, Jurisdiction, Level, Resolution

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
    for name in ("state", "level", "kind", "status", "stage"):
        labels = dict(fields[name].choices)
        if data.get(name):
            parts.append(", ".join(str(labels.get(value, value)) for value in data[name]))
    if data.get("session"):
        parts.append(str(data["session"]))
    if data.get("adopted_after"):
        parts.append(f"adopted on or after {data['adopted_after'].isoformat()}")
    if data.get("adopted_before"):
        parts.append(f"adopted on or before {data['adopted_before'].isoformat()}")
    if (data.get("q") or "").strip():
        parts.append(f"matching “{data['q'].strip()}”")
    return xml_text("; ".join(parts))


def new_actions(filterset):
    """The FEED_LENGTH newest actions of the measures a search matches (two queries, or one if none).

    Read from the measures' side so that the search's conditions stay in the query they were
    written for (the full-text search refers to the measures' own table).
    """
    ids = list(
        filterset.qs.order_by()
        .annotate(action_pk=F("actions__pk"), action_created_at=F("actions__created_at"))
        .filter(action_pk__isnull=False)
        .order_by("-action_created_at", "-action_pk")
        .values_list("action_pk", flat=True)[:FEED_LENGTH]
    )
    if not ids:
        return []
    return list(Action.objects.filter(pk__in=ids).select_related("resolution__jurisdiction__parent"))


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
        """The newest measures and the newest actions of measures matching the search, mixed."""
        measures = list(search.filterset.qs.order_by("-created_at", "-pk")[:FEED_LENGTH])
        entries = measures + new_actions(search.filterset)
        entries.sort(key=lambda entry: (entry.created_at, isinstance(entry, Action), entry.pk), reverse=True)
        return entries[:FEED_LENGTH]

    def title(self, search):
        described = describe(search.filterset)
        return f"{SITE_NAME}: {described}" if described else f"{SITE_NAME}: all records"

    def subtitle(self, search):
        return (
            "Laws and resolutions recognizing 911 dispatchers as first responders, and what happens to them: "
            "newest records and actions first."
        )

    def link(self, search):
        return _with_query(reverse("recognition:resolution_list"), search.query)

    def feed_url(self, search):
        return _with_query(reverse("recognition:feed"), search.query)

    def item_title(self, item):
        if isinstance(item, Action):
            return xml_text(item.headline)
        return xml_text(f"{item.jurisdiction}: {item.title}")

    def item_description(self, item):
        # Atom says type="html": escape the plain text so it shows as written.
        if isinstance(item, Action):
            measure = item.resolution
            return escape(
                xml_text(
                    f"{item.date.display()}: {item.description} ({measure.jurisdiction}: {measure.title})"
                )
            )
        return escape(xml_text(item.summary or item.title))

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_categories(self, item):
        if isinstance(item, Action):
            measure = item.resolution
            state = measure.jurisdiction.state
            values = (state and state.usps, measure.get_kind_display(), item.get_classification_display())
        else:
            values = (item.state_code, item.get_kind_display(), item.status_label)
        return [value for value in values if value]


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
            "(the state, its counties, cities and districts), and what happens to them: newest records and "
            "actions first."
        )

    def link(self, search):
        return search.state.get_absolute_url()

    def feed_url(self, search):
        return _with_query(
            reverse("recognition:state_feed", kwargs={"usps": search.state.usps.lower()}), search.query
        )


class ChangeFeed(Feed):
    """/changes/feed/?state=AL: the newest FEED_LENGTH changes to published data (recognition/changes.py)."""

    feed_type = Atom1Feed
    author_name = SITE_NAME

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except changes.BadQuery as error:
            return HttpResponseBadRequest(f"{error}\n", content_type="text/plain; charset=utf-8")

    def get_object(self, request, *args, **kwargs):
        states, _page = changes.read_query(request.GET)
        page_path = reverse("recognition:changes")
        query = "&".join(f"state={code}" for code in states)
        return {
            "states": states,
            "page": _with_query(page_path, query),
            "feed": _with_query(reverse("recognition:changes_feed"), query),
            # An entry's id: the same in every state's feed, whatever the filter.
            "id_base": request.build_absolute_uri(page_path),
        }

    def items(self, asked):
        entries = changes.page(1, asked["states"], size=FEED_LENGTH).changes
        for change in entries:
            change.guid = f"{asked['id_base']}#{change.anchor}"
        return entries

    def title(self, asked):
        names = ", ".join(changes.STATE_NAMES[code] for code in asked["states"])
        return f"{SITE_NAME}: what changed" + (f" ({names})" if names else "")

    def subtitle(self, asked):
        return (
            "Every change to the published records, newest first: records added or withdrawn, new actions "
            "on bills, and corrections."
        )

    def link(self, asked):
        return asked["page"]

    def feed_url(self, asked):
        return asked["feed"]

    def item_title(self, change):
        return xml_text(change.headline)

    def item_description(self, change):
        return escape(xml_text(" · ".join(change.details)))

    def item_link(self, change):
        return change.url or f"{reverse('recognition:changes')}#{change.anchor}"

    def item_guid(self, change):
        return change.guid

    item_guid_is_permalink = False

    def item_pubdate(self, change):
        return change.when

    def item_updateddate(self, change):
        return change.when

    def item_categories(self, change):
        return [value for value in (change.state, change.word) if value]
