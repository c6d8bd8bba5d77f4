"""Public pages. Views stay thin: the work is in `progress` (queries) and `status` (rules)."""

import hashlib
import hmac
from functools import wraps

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control, never_cache
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit
from redis.exceptions import RedisError

from . import exports, next_steps, places, progress, sharedcache, stages
from . import status as rules
from .filters import ActionFilter, ResolutionFilter
from .forms import SubmissionForm
from .models import Action, Jurisdiction, Level, Resolution
from .pagecache import public_page
from .security import client_ip

MAP_LAYERS = {"states", "counties"}
RESULTS_PER_PAGE = 50


@public_page(params=("layer",))
def home(request):
    layer = request.GET.get("layer", "states")
    if layer not in MAP_LAYERS:
        layer = "states"
    national = progress.national_progress(with_county_layer=layer == "counties")
    return render(
        request,
        "recognition/home.html",
        {
            "progress": national,
            "layer": layer,
            "county_statuses": list(rules.CountyStatus),
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
        },
    )


@public_page
def nation(request):
    jurisdiction = get_object_or_404(Jurisdiction, level=Level.NATION)
    return _jurisdiction_page(request, jurisdiction)


@public_page(params=("sort",))
def state_detail(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    state_progress = progress.state_progress(state)
    county_sort = request.GET.get("sort") if request.GET.get("sort") in {"name", "population"} else ""
    context = {
        "progress": state_progress,
        "county_sort": county_sort,
        "county_rows": state_progress.counties_sorted(county_sort),
        "state": state,
        "viewbox": progress.padded_viewbox(state.shape_viewbox),
        "next_steps": progress.state_next_steps(state_progress),
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


@public_page(params=(*ResolutionFilter.base_filters, "page"))
def resolution_list(request):
    """Search and filter every published record; the URL is the shareable state of the search."""
    filterset = ResolutionFilter(request.GET)
    valid = filterset.is_valid()
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "query": _query_without_page(request),
        # The chosen session, read once by the filter's validation: named above the results.
        "session": filterset.form.cleaned_data.get("session"),
    }
    template = "recognition/resolution_list.html"
    if not valid:
        context["errors"] = exports.filter_errors(filterset)
        return render(request, template, context, status=400)
    paginator = Paginator(filterset.qs, RESULTS_PER_PAGE)
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
        page_range=list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
        is_ranked=filterset.is_ranked,
    )
    return render(request, template, context)


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
    }
    return render(request, "recognition/data.html", context)


# --- Public submissions ---------------------------------------------------------------------------

SUBMISSION_RATE = "5/h"  # per client address; the counts live in the cache (settings.CACHES)


def _submission_wait(request):
    """Seconds until the client's submission window ends (at least 1)."""
    usage = get_usage(request, fn=submit, key="ip", rate=SUBMISSION_RATE, method="POST")
    return max(int(usage["time_left"]), 1) if usage else 3600


def _correction_target(request):
    """The published record a correction is about (`?resolution=<id>`), None for a new report; else 404."""
    value = request.GET.get("resolution")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise Http404("No such record.")
    return get_object_or_404(Resolution.objects.published().with_jurisdiction(), pk=int(value))


def _reported_place(request):
    """The place a report starts from ("Tell us about one" on its page, `?jurisdiction=<id>`); else 404."""
    value = request.GET.get("jurisdiction")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise Http404("No such place.")
    return get_object_or_404(
        Jurisdiction.objects.select_related("parent").filter(level__in=[Level.STATE, *rules.LOCAL_LEVELS]),
        pk=int(value),
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
