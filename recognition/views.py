"""Public pages. Views stay thin: the work is in `progress` (queries) and `status` (rules)."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from . import progress
from . import status as rules
from .models import Jurisdiction, Level, Resolution

MAP_LAYERS = {"states", "counties"}


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


def about(request):
    return render(
        request,
        "recognition/about.html",
        {"state_statuses": list(rules.StateStatus), "county_statuses": list(rules.CountyStatus)},
    )


def nation(request):
    jurisdiction = get_object_or_404(Jurisdiction, level=Level.NATION)
    return _jurisdiction_page(request, jurisdiction)


def state_detail(request, usps):
    if usps != usps.lower():
        raise Http404("State codes are lower case in URLs.")
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    context = {
        "progress": progress.state_progress(state),
        "state": state,
        "viewbox": progress.padded_viewbox(state.shape_viewbox),
    }
    return render(request, "recognition/state_detail.html", context)


def jurisdiction_detail(request, usps, slug):
    jurisdiction = get_object_or_404(
        Jurisdiction.objects.select_related("parent", "county"),
        parent__level=Level.STATE,
        parent__usps=usps.upper(),
        slug=slug,
    )
    return _jurisdiction_page(request, jurisdiction)


def _jurisdiction_page(request, jurisdiction):
    context = progress.jurisdiction_progress(jurisdiction)
    return render(request, "recognition/jurisdiction_detail.html", context)


def resolution_detail(request, pk):
    resolution = get_object_or_404(
        Resolution.objects.published().with_jurisdiction().prefetch_related("sources"), pk=pk
    )
    return render(request, "recognition/resolution_detail.html", {"resolution": resolution})
