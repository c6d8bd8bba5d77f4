"""Embeddable maps for other sites' iframes.

These two views, and only these, may be framed by any site: everything else
keeps Django's X-Frame-Options DENY (and, with the CSP, frame-ancestors 'none').
"""

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

from . import past, progress
from .models import Jurisdiction, Level
from .pagecache import public_page
from .views import as_of_context, bad_as_of, read_as_of

# The site's policy, except that any site may frame these two views.
EMBED_CSP = {**getattr(settings, "SECURE_CSP", {}), "frame-ancestors": ["*"]}


EMBED_BASE = "embed_base.html"


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page(params=(past.PARAMETER,))
def embed_national_map(request):
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error, base=EMBED_BASE)
    context = {"progress": progress.national_progress(as_of=as_of), **as_of_context(as_of)}
    return render(request, "recognition/embed_map.html", context)


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page(params=(past.PARAMETER,))
def embed_state_map(request, usps):
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error, base=EMBED_BASE)
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    return render(
        request,
        "recognition/embed_state.html",
        {
            "state": state,
            "progress": progress.state_progress(state, as_of=as_of),
            "viewbox": progress.padded_viewbox(state.shape_viewbox),
            **as_of_context(as_of),
        },
    )
