"""Public pages. Views stay thin: the work is in `progress` (queries) and `status` (rules)."""

import hashlib
import hmac
import logging
from functools import wraps
from smtplib import SMTPException

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit import ALL
from django_ratelimit.core import get_usage, is_ratelimited
from django_ratelimit.decorators import ratelimit
from redis.exceptions import RedisError

from . import (
    alerts,
    changes,
    citations,
    exports,
    facets,
    next_steps,
    past,
    places,
    progress,
    sharedcache,
    stages,
)
from . import status as rules
from .addresses import Addresses
from .filters import SEARCH_CAP, ActionFilter, ResolutionFilter
from .forms import FollowForm, SubmissionForm
from .models import Action, Frequency, Jurisdiction, Level, Resolution
from .pagecache import public_page
from .security import client_ip

logger = logging.getLogger(__name__)

MAP_LAYERS = {"states", "counties"}
RESULTS_PER_PAGE = 50


def read_as_of(request):
    """The past date a map page is asked for (`?as_of=`), or None for today's; AsOfError when it cannot be."""
    return past.parse(request.GET.get(past.PARAMETER, ""), timezone.localdate())


def as_of_context(as_of):
    """What every page with a map on a past date says about it (the banner, the year links, the embed code)."""
    return {
        "as_of": as_of,
        "as_of_label": past.display(as_of) if as_of else "",
        "as_of_param": f"{past.PARAMETER}={as_of.isoformat()}" if as_of else "",
        "as_of_query": f"?{past.PARAMETER}={as_of.isoformat()}" if as_of else "",
        "today": timezone.localdate(),
    }


def bad_as_of(request, error, base="base.html"):
    """The 400 page for a date the map cannot be shown on: what is wrong, and the way back to today."""
    context = {"message": str(error), "base": base, "earliest": past.EARLIEST, "today": timezone.localdate()}
    return render(request, "recognition/as_of_invalid.html", context, status=400)


@public_page(params=("layer", past.PARAMETER))
def home(request):
    layer = request.GET.get("layer", "states")
    if layer not in MAP_LAYERS:
        layer = "states"
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error)
    national = progress.national_progress(with_county_layer=layer == "counties", as_of=as_of)
    return render(
        request,
        "recognition/home.html",
        {
            "progress": national,
            "layer": layer,
            "county_statuses": list(rules.CountyStatus),
            "year_ends": progress.year_ends(),
            **as_of_context(as_of),
        },
    )


@public_page
def about(request):
    return render(
        request,
        "recognition/about.html",
        {
            "state_statuses": list(rules.StateStatus),
            "county_statuses": list(rules.CountyStatus),
            "coverages": list(rules.Coverage),
            "stages": list(stages.Stage),
            "session_ended_label": stages.SESSION_ENDED_LABEL,
            "asks": {ask.value: ask for ask in next_steps.Ask},
            "as_of_rules": past.RULES,
        },
    )


@public_page
def nation(request):
    jurisdiction = get_object_or_404(Jurisdiction, level=Level.NATION)
    return _jurisdiction_page(request, jurisdiction)


@public_page(params=("sort", past.PARAMETER))
def state_detail(request, usps):
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error)
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    state_progress = progress.state_progress(state, as_of=as_of)
    county_sort = request.GET.get("sort") if request.GET.get("sort") in {"name", "population"} else ""
    context = {
        "progress": state_progress,
        "county_sort": county_sort,
        "county_rows": state_progress.counties_sorted(county_sort),
        "state": state,
        "viewbox": progress.padded_viewbox(state.shape_viewbox),
        # What to ask for is about today: a past date's page says so rather than ask.
        "next_steps": progress.state_next_steps(state_progress) if as_of is None else None,
        "year_ends": progress.year_ends(),
        **as_of_context(as_of),
    }
    return render(request, "recognition/state_detail.html", context)


def _local_jurisdiction(usps, slug):
    """A county, city or district by its state and slug, else 404."""
    return get_object_or_404(
        Jurisdiction.objects.select_related("parent", "county"),
        parent__level=Level.STATE,
        parent__usps=usps.upper(),
        slug=slug,
    )


@public_page
def jurisdiction_detail(request, usps, slug):
    return _jurisdiction_page(request, _local_jurisdiction(usps, slug))


def _fact_sheet_page(request, place):
    context = {
        "sheet": progress.fact_sheet(place),
        "page_url": request.build_absolute_uri(place.get_absolute_url()),
        "today": timezone.localdate(),
    }
    return render(request, "recognition/fact_sheet.html", context)


@public_page
def state_fact_sheet(request, usps):
    """One Letter page about a state, to print and hand to a legislator."""
    return _fact_sheet_page(request, get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper()))


@public_page
def fact_sheet(request, usps, slug):
    """One Letter page about a county, city or district, to print and hand to a commissioner."""
    return _fact_sheet_page(request, _local_jurisdiction(usps, slug))


def _jurisdiction_page(request, jurisdiction):
    context = progress.jurisdiction_progress(jurisdiction)
    return render(request, "recognition/jurisdiction_detail.html", context)


def _measure_page(request, resolution):
    context = {
        "resolution": resolution,
        "actions": progress.measure_actions(resolution, resolution.actions.all()),
        "citation": citations.record_citation(
            resolution, request.build_absolute_uri(resolution.get_absolute_url()), timezone.localdate()
        ),
    }
    return render(request, "recognition/resolution_detail.html", context)


@public_page
def resolution_detail(request, pk):
    resolution = get_object_or_404(
        Resolution.objects.published().with_jurisdiction().prefetch_related("sources", "actions"), pk=pk
    )
    return _measure_page(request, resolution)


PREVIEW_PERMISSION = "recognition.view_resolution"


@never_cache
def resolution_preview(request, pk):
    """A draft on the public template, for staff to check it before publishing.

    For anyone else a draft is a 404 like a missing record; a published record
    redirects to its public page. Per user, so never in the public page cache.
    """
    allowed = request.user.has_perm(PREVIEW_PERMISSION)  # first: a missing record reads the session too
    resolution = get_object_or_404(
        Resolution.objects.with_jurisdiction().prefetch_related("sources", "actions"), pk=pk
    )
    if resolution.published:
        return redirect(resolution)
    if not allowed:
        raise Http404("No such record.")
    response = _measure_page(request, resolution)
    response["X-Robots-Tag"] = "noindex"
    return response


def _query_without_page(request):
    """The filter parameters, URL-encoded: what the CSV, feed and API links carry."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# What a row of the list shows and links to (its labels, dates, stage now, and both pages' addresses):
# the rest of each record and its jurisdiction is left in the database.
LISTED_FIELDS = (
    "kind", "status", "identifier", "title", "stage", "adopted_on", "adopted_on_precision",
    "effective_on", "effective_on_precision", "latest_action_on", "latest_action_on_precision",
    "jurisdiction__level", "jurisdiction__name", "jurisdiction__slug", "jurisdiction__usps",
    "jurisdiction__parent__level", "jurisdiction__parent__name", "jurisdiction__parent__usps",
    "session__end_on",
)  # fmt: skip


@public_page(params=(*ResolutionFilter.base_filters, "page"))
def resolution_list(request):
    """Search and filter every published record; the URL is the shareable state of the search."""
    filterset = ResolutionFilter(request.GET, search_cap=SEARCH_CAP)
    valid = filterset.is_valid()
    found, total = facets.counted(filterset)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "facets": found,
        "checkbox_facets": [found[name] for name in ("level", "kind", "status", "stage")],
        "query": _query_without_page(request),
        # The chosen session, read once by the filter's validation: named above the results.
        "session": filterset.form.cleaned_data.get("session"),
        # A text search matching more than the cap: newest first, counted to the cap, no facet counts.
        "is_capped": filterset.is_capped,
        "search_cap": SEARCH_CAP,
    }
    template = "recognition/resolution_list.html"
    if not valid:
        context["errors"] = exports.filter_errors(filterset)
        return render(request, template, context, status=400)
    paginator = Paginator(filterset.qs.only(*LISTED_FIELDS), RESULTS_PER_PAGE)
    if total is not None:
        paginator.count = total  # summed from the facets' tally (the same rows the facets count)
    if filterset.search_matches is not None:
        # Counted already, up to the cap: past it, the pages hold the newest SEARCH_CAP matches.
        paginator.count = min(filterset.search_matches, SEARCH_CAP)
    number = request.GET.get("page", "1")
    try:
        page = paginator.page(number)
    except PageNotAnInteger:
        shown = exports.printable(number if len(number) <= 20 else number[:20] + "…")
        context["page_error"] = f"“{shown}” is not a page number."
    except EmptyPage:
        pages = paginator.num_pages
        context["page_error"] = ngettext(
            "There is no page %(number)d; this search has %(pages)d page.",
            "There is no page %(number)d; this search has %(pages)d pages.",
            pages,
        ) % {"number": int(number), "pages": pages}
    if "page_error" in context:
        context["last_page"] = paginator.num_pages
        return render(request, template, context, status=404)
    context.update(
        page_obj=page,
        rows=_listed(page),
        page_range=list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
        is_ranked=filterset.is_ranked,
    )
    return render(request, template, context)


def _page_path(viewname, kwargs):
    return reverse(viewname, kwargs=kwargs)


def _listed(page):
    """(record, its page, its jurisdiction's page) for each row: the addresses from one pattern per kind
    (recognition/addresses.py), not two `reverse()` calls a row."""
    addresses = Addresses()

    def page_of(obj):
        viewname, kwargs = obj.page_route()
        return addresses(_page_path, viewname, kwargs)

    return [(record, page_of(record), page_of(record.jurisdiction)) for record in page]


def resolution_csv(request):
    """The list page's search as CSV: same parameters, same rows, same order, streamed."""
    filterset = ResolutionFilter(request.GET)
    if not filterset.is_valid():
        return exports.bad_request(filterset)
    response = StreamingHttpResponse(
        exports.csv_lines(filterset.qs, request.build_absolute_uri), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.csv_filename()}"'
    return response


def action_csv(request):
    """Every action of every published measure (or of some: `?resolution=`) as CSV, streamed."""
    filterset = ActionFilter(request.GET)
    if not filterset.is_valid():
        return exports.bad_request(filterset)
    response = StreamingHttpResponse(
        exports.action_csv_lines(filterset.qs, request.build_absolute_uri),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.csv_filename("dispatcher-recognition-actions")}"'
    )
    return response


@public_page
def data(request):
    """Download the whole dataset: formats, column dictionaries, licence, citation."""
    context = {
        "columns": exports.COLUMNS,
        "action_columns": exports.ACTION_COLUMNS,
        "stages": list(stages.Stage),
        "published_count": Resolution.objects.published().count(),
        "action_count": Action.objects.published().count(),
        **_dataset_citation(request),
    }
    return render(request, "recognition/data.html", context)


def _dataset_citation(request):
    """The dataset's citation, its version the date published data last changed (recognition/changes.py)."""
    changed = changes.last_changed()
    version = timezone.localtime(changed).date() if changed else None
    url = request.build_absolute_uri(reverse("recognition:data"))
    return {
        "citation": citations.dataset_citation(url, version, timezone.localdate()),
        "citation_version": version,
    }


# --- Public submissions ---------------------------------------------------------------------------

SUBMISSION_RATE = "5/h"  # per client address; the counts live in the cache (settings.CACHES)


def _submission_wait(request):
    """Seconds until the client's submission window ends (at least 1)."""
    usage = get_usage(request, fn=submit, key="ip", rate=SUBMISSION_RATE, method="POST")
    return max(int(usage["time_left"]), 1) if usage else 3600


def _id(value):
    """An id from a form or an address: digits only and small enough for the database, else None."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 18 else None


def _correction_target(request):
    """The published record a correction is about (`?resolution=<id>`), None for a new report; else 404."""
    value = request.GET.get("resolution")
    if value is None:
        return None
    if _id(value) is None:
        raise Http404("No such record.")
    return get_object_or_404(Resolution.objects.published().with_jurisdiction(), pk=_id(value))


def _reported_place(request):
    """The place a report starts from ("Tell us about one" on its page, `?jurisdiction=<id>`); else 404."""
    value = request.GET.get("jurisdiction")
    if not value:
        return None
    if _id(value) is None:
        raise Http404("No such place.")
    return get_object_or_404(
        Jurisdiction.objects.select_related("parent").filter(level__in=[Level.STATE, *rules.LOCAL_LEVELS]),
        pk=_id(value),
    )


def client_hash(request):
    """A keyed hash of the client's address: lets staff see repeat senders without keeping addresses.

    The address the rate limit counts (the visitor's, behind a proxy), or every sender would look alike.
    """
    address = client_ip(request)
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


SUBMISSION_PAUSE_SECONDS = 60  # Retry-After while the rate-limit counts are out of reach


def _rate_limit_counts_required(view):
    """Posts need the shared cache, where the rate limit counts: without it they are paused (503).

    Accepting them unlimited would open the form to any script for as long as the cache is away.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if request.method == "POST":
            try:
                if sharedcache.cache_available():
                    return view(request, *args, **kwargs)
            except (RedisError, OSError):  # lost between the check and the count
                pass
            response = render(request, "recognition/submit_unavailable.html", status=503)
            response["Retry-After"] = str(SUBMISSION_PAUSE_SECONDS)
            return response
        return view(request, *args, **kwargs)

    return guarded


@never_cache
@_rate_limit_counts_required
@ratelimit(key="ip", rate=SUBMISSION_RATE, method="POST", block=False)
def submit(request):
    """“Tell us about a resolution” and, with ?resolution=<id>, “Suggest a correction”. Stored as pending."""
    correction_of = _correction_target(request)
    if request.method == "POST":
        if getattr(request, "limited", False):
            response = render(request, "429.html", status=429)
            response["Retry-After"] = str(_submission_wait(request))
            return response
        if request.POST.get(SubmissionForm.HONEYPOT):
            return render(request, "recognition/submit_refused.html", status=400)
        form = SubmissionForm(request.POST, correction_of=correction_of)
        if form.is_valid():
            form.instance.client_hash = client_hash(request)
            form.save()
            return redirect("recognition:submit_thanks")
    else:
        if correction_of:
            initial = SubmissionForm.initial_for(correction_of)
        elif place := _reported_place(request):
            initial = SubmissionForm.initial_for_place(place)
        else:
            initial = None
        form = SubmissionForm(initial=initial, correction_of=correction_of)
    return render(request, "recognition/submit.html", {"form": form, "correction_of": correction_of})


def submit_thanks(request):
    return render(request, "recognition/submit_thanks.html")


# --- Follow by email (the work is in recognition/alerts.py) ---------------------------------------------

FOLLOW_RATE = "10/h"  # follow requests per client address
ADDRESS_RATE = "3/d"  # confirmation mails per address, whoever asks: nobody can flood an inbox from here
# The token in a link page's address must not leak to other sites, but "no-referrer" would also make
# browsers send "Origin: null" with the page's own form, which the CSRF check rightly refuses.
LINK_PAGE_HEADERS = {"X-Robots-Tag": "noindex", "Referrer-Policy": "same-origin"}


def _message_page(request, heading, message, status=200, retry_after=None):
    response = render(
        request, "recognition/follow_message.html", {"heading": heading, "message": message}, status=status
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _address_key(email):
    digest = hmac.new(settings.SECRET_KEY.encode(), alerts.normal_email(email).encode(), hashlib.sha256)
    return digest.hexdigest()


def _too_many(request, group, key, rate):
    usage = get_usage(request, group=group, key=key, rate=rate, method=ALL)
    return max(int(usage["time_left"]), 1) if usage else 3600


@never_cache
@_rate_limit_counts_required
@ratelimit(key="ip", rate=FOLLOW_RATE, method="POST", block=False)
def follow(request):
    """ "Follow by email" for what the link names (?state=, ?jurisdiction=, ?resolution=, ?search=).

    The answer is the same whether the address is new or already follows: only the mail differs.
    """
    try:
        target = alerts.target_from_params(request.GET)
    except ValidationError as error:
        return _message_page(request, "Nothing to follow", " ".join(error.messages), status=400)
    form = FollowForm(request.POST or None)
    if request.method == "POST":
        if getattr(request, "limited", False):
            retry = _submission_wait_for(request, follow, FOLLOW_RATE)
            return _message_page(
                request, "Too many requests", "Please try again later.", status=429, retry_after=retry
            )
        if request.POST.get(FollowForm.HONEYPOT):
            return render(request, "recognition/submit_refused.html", status=400)
        if form.is_valid():
            email = form.cleaned_data["email"]
            key = _address_key(email)
            if is_ratelimited(
                request, group="follow-address", key=lambda _g, _r: key, rate=ADDRESS_RATE, increment=True
            ):
                retry = _too_many(request, "follow-address", lambda _g, _r: key, ADDRESS_RATE)
                return _message_page(
                    request,
                    "Too many confirmation messages",
                    "This address has been sent several confirmation messages today. Please use one of "
                    "them, or try again tomorrow.",
                    status=429,
                    retry_after=retry,
                )
            try:
                alerts.send_confirmation(email, target, form.cleaned_data["frequency"])
            except (SMTPException, OSError):
                logger.exception("Could not send a confirmation message")
                return _message_page(
                    request,
                    "We could not send the message",
                    "Our mail server did not answer. Nothing was saved; please try again in a few minutes.",
                    status=503,
                    retry_after=SUBMISSION_PAUSE_SECONDS,
                )
            return redirect("recognition:follow_sent")
    return render(
        request,
        "recognition/follow.html",
        {"form": form, "what": target.describe(), "query": target.query()},
        status=400 if form.errors else 200,
    )


def _submission_wait_for(request, view, rate):
    usage = get_usage(request, fn=view, key="ip", rate=rate, method="POST")
    return max(int(usage["time_left"]), 1) if usage else 3600


@never_cache
def follow_sent(request):
    return render(request, "recognition/follow_sent.html")


def _with_link_headers(response):
    for name, value in LINK_PAGE_HEADERS.items():
        response[name] = value
    return response


def _bad_link(request, error):
    return _with_link_headers(_message_page(request, "This link cannot be used", error.reason, status=400))


@never_cache
def follow_confirm(request, token):
    """The confirmation link: a button (GET, so that mail scanners opening links confirm nothing), then POST."""
    try:
        email, target, frequency = alerts.read_confirmation(token)
    except alerts.BadLink as error:
        return _bad_link(request, error)
    context = {"what": target.describe(), "frequency": Frequency(frequency).label, "email": email}
    if request.method == "POST":
        subscriber, _follow = alerts.confirm(email, target, frequency)
        context["manage_url"] = alerts.manage_url(subscriber)
        context["done"] = True
    else:
        context["done"] = False
    return _with_link_headers(render(request, "recognition/follow_confirm.html", context))


@never_cache
def follow_manage(request, token):
    """What an address follows: remove one, change how often, or stop everything (from a link in any mail)."""
    try:
        subscriber = alerts.read_subscriber_token(token, alerts.MANAGE_SALT)
    except alerts.BadLink as error:
        return _bad_link(request, error)
    if request.method == "POST":
        action = request.POST.get("action")
        chosen = subscriber.follows.filter(pk=_id(request.POST.get("follow"))).first()
        if action == "unsubscribe":
            alerts.unsubscribe(subscriber)
        elif action == "remove" and chosen:
            chosen.delete()
        elif action == "frequency" and chosen and request.POST.get("frequency") in Frequency.values:
            chosen.frequency = request.POST["frequency"]
            chosen.save(update_fields=["frequency"])
        else:
            return _with_link_headers(
                _message_page(request, "Nothing changed", "That change could not be made.", status=400)
            )
        return redirect(request.path)
    context = {
        "subscriber": subscriber,
        "rows": alerts.follow_rows(subscriber),
        "frequencies": Frequency.choices,
    }
    return _with_link_headers(render(request, "recognition/follow_manage.html", context))


# RFC 8058: a mail client's one-click unsubscribe POSTs here with no session and no CSRF token (it has
# neither). The signed token in the address is what proves the request, and unsubscribing is the only
# thing this endpoint can do, so a forged cross-site POST could only do what the link already allows.
@csrf_exempt
@never_cache
def unsubscribe(request, token):
    """GET: a button; POST (the button, or a mail client's one-click): no more mail to this address."""
    try:
        subscriber = alerts.read_subscriber_token(token, alerts.UNSUBSCRIBE_SALT)
    except alerts.BadLink as error:
        return _bad_link(request, error)
    if request.method == "POST":
        alerts.unsubscribe(subscriber)
    context = {"done": request.method == "POST" or not subscriber.is_receiving, "email": subscriber.email}
    return _with_link_headers(render(request, "recognition/unsubscribe.html", context))


# --- Find your county or city ----------------------------------------------------------------------


def _place_query(request):
    return request.GET.get("q", "")


@cache_control(no_cache=True)
def place_search(request):
    """Find a state, county or city by name or ZIP code; one answer leads straight to its page.

    Not a `public_page`: the page cache keys a page by its parameters, and `q` is anything anyone
    types, so every misspelling would take a place in the shared cache and push out the pages
    that are asked for again and again. A search costs four small queries; browsers revalidate.
    """
    context = {"query": "", "error": "", "outcome": None, "lines": [], "more": 0, "zip_note": places.ZIP_NOTE}
    try:
        outcome = places.search(_place_query(request))
    except places.InvalidQuery as error:
        context["error"] = str(error)
        context["query"] = exports.printable(_place_query(request)[: places.MAX_QUERY_LENGTH])
        return render(request, "recognition/places.html", context, status=400)
    if single := outcome.single:
        return redirect(places.jurisdictions([single])[0])
    lines = places.listed(outcome.found[: places.PAGE_LIMIT])
    context.update(query=outcome.query, outcome=outcome, lines=lines, more=outcome.total - len(lines))
    response = render(request, "recognition/places.html", context)
    if outcome.query:
        response["X-Robots-Tag"] = "noindex"  # a search, not a page of its own
    return response


@cache_control(no_cache=True)
def place_suggestions(request):
    """The type-ahead's options, as JSON: the search's own answers, names that begin with what was
    typed after them, at most `SUGGEST_LIMIT`. Not cached, for the reason `place_search` gives."""
    try:
        outcome = places.search(_place_query(request), suggest=True)
    except places.InvalidQuery as error:
        return JsonResponse({"error": str(error), "results": [], "total": 0}, status=400)
    lines = places.listed(outcome.found[: places.SUGGEST_LIMIT])
    return JsonResponse(
        {
            "query": outcome.query,
            "total": outcome.total,
            "message": outcome.message,
            "results": [
                {
                    "name": line.jurisdiction.name,
                    "level": line.jurisdiction.level,
                    "state": line.state_name,
                    "status": line.status,
                    "detail": line.detail,
                    "note": line.note,
                    "url": line.jurisdiction.get_absolute_url(),
                }
                for line in lines
            ],
        }
    )
