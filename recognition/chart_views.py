"""The timeline's embed, and the charts as PNG downloads (recognition/chart_images.py draws them).

Public pages like the others: cached per data version, day and `?as_of=`, so an image is drawn once per
change of the data. Each view reads the figures through one call of recognition/progress.py, on today or
on the past date asked for (a bad date is the same 400 as the pages'), and names that date in the image.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

from . import chart_images, past, progress
from .embeds import EMBED_BASE, EMBED_CSP
from .models import Jurisdiction, Level
from .pagecache import public_page
from .views import MAP_LAYERS, as_of_context, bad_as_of, read_as_of


def _png(request, image, name, on):
    response = HttpResponse(chart_images.png(image), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{name}-{on.isoformat()}.png"'
    return response


def _address(request, path):
    """The page the image comes from, without its scheme, for the image's footer."""
    return f"{request.get_host()}{path}"


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page(params=(past.PARAMETER,))
def embed_timeline(request):
    """The timeline for other sites' iframes (framable, as the map embeds)."""
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error, base=EMBED_BASE)
    context = {"t": progress.adoption_timeline(as_of=as_of), **as_of_context(as_of)}
    return render(request, "recognition/embed_timeline.html", context)


@public_page(params=(past.PARAMETER,))
def timeline_png(request):
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error)
    on = as_of or timezone.localdate()
    timeline = progress.adoption_timeline(as_of=as_of)
    if timeline is None:
        return HttpResponse(
            "Nothing adopted yet: no timeline to draw.\n", status=404, content_type="text/plain"
        )
    image = chart_images.timeline(timeline, on, _address(request, "/"))
    return _png(request, image, "dispatcher-recognition-timeline", on)


@public_page(params=("layer", past.PARAMETER))
def national_map_png(request):
    layer = request.GET.get("layer", "states")
    if layer not in MAP_LAYERS:
        layer = "states"
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error)
    on = as_of or timezone.localdate()
    national = progress.national_progress(with_county_layer=layer == "counties", as_of=as_of)
    path = "/?layer=counties" if layer == "counties" else "/"
    image = chart_images.national_map(national, layer, on, _address(request, path))
    name = "dispatcher-recognition-counties" if layer == "counties" else "dispatcher-recognition-states"
    return _png(request, image, name, on)


@public_page(params=(past.PARAMETER,))
def state_map_png(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    try:
        as_of = read_as_of(request)
    except past.AsOfError as error:
        return bad_as_of(request, error)
    on = as_of or timezone.localdate()
    state_progress = progress.state_progress(state, as_of=as_of)
    if not any(region.jurisdiction.shape for region in state_progress.counties):
        return HttpResponse(
            f"{state.name} has no county map to draw.\n", status=404, content_type="text/plain"
        )
    image = chart_images.state_map(
        state_progress,
        progress.padded_viewbox(state.shape_viewbox),
        on,
        _address(request, state.get_absolute_url()),
    )
    return _png(request, image, f"dispatcher-recognition-{state.usps.lower()}-counties", on)
