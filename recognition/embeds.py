"""Embeddable maps for other sites' iframes.

These two views, and only these, may be framed by any site: everything else
keeps Django's X-Frame-Options DENY (and, with the CSP, frame-ancestors 'none').
"""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt

from . import progress
from .models import Jurisdiction, Level


@xframe_options_exempt
def embed_national_map(request):
    return render(request, "recognition/embed_map.html", {"progress": progress.national_progress()})


@xframe_options_exempt
def embed_state_map(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    return render(
        request,
        "recognition/embed_state.html",
        {
            "state": state,
            "progress": progress.state_progress(state),
            "viewbox": progress.padded_viewbox(state.shape_viewbox),
        },
    )
