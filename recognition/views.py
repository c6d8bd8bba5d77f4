from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from .models import Jurisdiction, Level, Resolution


def home(request):
    states = Jurisdiction.objects.states().annotate(
        published_count=Count("resolutions", filter=Q(resolutions__published=True), distinct=True)
    )
    return render(request, "recognition/home.html", {"states": states})


def nation(request):
    jurisdiction = Jurisdiction.objects.nation()
    return _jurisdiction_page(request, jurisdiction)


def state_detail(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    return _jurisdiction_page(request, state)


def jurisdiction_detail(request, usps, slug):
    jurisdiction = get_object_or_404(
        Jurisdiction.objects.select_related("parent"), parent__usps=usps.upper(), slug=slug
    )
    return _jurisdiction_page(request, jurisdiction)


def _jurisdiction_page(request, jurisdiction):
    resolutions = jurisdiction.resolutions.published()
    return render(
        request,
        "recognition/jurisdiction_detail.html",
        {"jurisdiction": jurisdiction, "resolutions": resolutions},
    )


def resolution_detail(request, pk):
    resolution = get_object_or_404(
        Resolution.objects.published().with_jurisdiction().prefetch_related("sources"), pk=pk
    )
    return render(request, "recognition/resolution_detail.html", {"resolution": resolution})
