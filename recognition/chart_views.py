"""The timeline's embed, and the charts as PNG downloads (recognition/chart_images.py draws them).

Public pages like the others: cached per data version and day, so an image is drawn once per change of
the data. Each view reads the figures through one call of recognition/progress.py and hands the date the
data describe to the image: today, for now (the one argument that a dated view of the map will change).
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

from . import chart_images, progress
from .embeds import EMBED_CSP
from .models import Jurisdiction, Level
from .pagecache import public_page
from .views import MAP_LAYERS


def _png(request, image, name, on):
    response = HttpResponse(chart_images.png(image), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{name}-{on.isoformat()}.png"'
    return response


def _address(request, path):
    """The page the image comes from, without its scheme, for the image's footer."""
    return f"{request.get_host()}{path}"


@csp_override(EMBED_CSP)
@xframe_options_exempt
@public_page
def embed_timeline(request):
    """The timeline for other sites' iframes (framable, as the map embeds)."""
    return render(request, "recognition/embed_timeline.html", {"t": progress.adoption_timeline()})


@public_page
def timeline_png(request):
    on = timezone.localdate()
    timeline = progress.adoption_timeline()
    if timeline is None:
        return HttpResponse(
            "Nothing adopted yet: no timeline to draw.\n", status=404, content_type="text/plain"
        )
    image = chart_images.timeline(timeline, on, _address(request, "/"))
    return _png(request, image, "dispatcher-recognition-timeline", on)


@public_page(params=("layer",))
def national_map_png(request):
    layer = request.GET.get("layer", "states")
    if layer not in MAP_LAYERS:
        layer = "states"
    on = timezone.localdate()
    national = progress.national_progress(with_county_layer=layer == "counties")
    path = "/?layer=counties" if layer == "counties" else "/"
    image = chart_images.national_map(national, layer, on, _address(request, path))
    name = "dispatcher-recognition-counties" if layer == "counties" else "dispatcher-recognition-states"
    return _png(request, image, name, on)


@public_page
def state_map_png(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    on = timezone.localdate()
    state_progress = progress.state_progress(state)
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
