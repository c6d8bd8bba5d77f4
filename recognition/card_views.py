"""Share cards as PNG: the national map, a state, and a county, city or district (see recognition.cards).

Public pages like the others: cached per data version (ETag and Last-Modified
from it), so a card is drawn once per change of the data and a revisit gets a 304.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from . import cards
from .models import Jurisdiction, Level
from .pagecache import public_page


def _png(request, card, page):
    """The card as an image; its footer names the page's address on the host asked for."""
    return HttpResponse(cards.png(card, f"{request.get_host()}{page}"), content_type="image/png")


@public_page
def national_card(request):
    return _png(request, cards.national_card(), "/")


@public_page
def state_card(request, usps):
    state = get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())
    return _png(request, cards.state_card(state), state.get_absolute_url())


@public_page
def jurisdiction_card(request, usps, slug):
    jurisdiction = get_object_or_404(
        Jurisdiction.objects.select_related("parent", "county"),
        parent__level=Level.STATE,
        parent__usps=usps.upper(),
        slug=slug,
    )
    return _png(request, cards.jurisdiction_card(jurisdiction), jurisdiction.get_absolute_url())
