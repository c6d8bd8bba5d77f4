"""Embeddable maps for other sites' iframes.

These two views, and only these, may be framed by any site: everything else
keeps Django's X-Frame-Options DENY (and, with the CSP, frame-ancestors 'none').
"""

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

from . import progress
from .models import Jurisdiction, Level
from .pagecache import public_page

# The site's policy, except that any site may frame these two views.
EMBED_CSP = {**getattr(settings, "SECURE_CSP", {}), "frame-ancestors": ["*"]}


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page
def embed_national_map(request):
    return render(request, "recognition/embed_map.html", {"progress": progress.national_progress()})


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page
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
