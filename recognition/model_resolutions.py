"""Model resolution pages: a place's ready text, as a printable page and as a Word file.

Both come from one text (recognition/resolution_text.py), filled in with what the data knows: the body
named in the place's own published records, and the bills pending in Congress. A page costs 3 queries
(the place, its bodies, the bills) besides the data version. Cached like every public page: the text
depends on the data and on the day (the bills' "as of" date, a session's end).
"""

from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import progress, resolution_docx
from . import resolution_text as text
from .models import Jurisdiction, Level, Resolution
from .pagecache import public_page


def _bodies(jurisdiction):
    """The adopting bodies the place's own published records name, newest record first (1 query)."""
    return list(
        Resolution.objects.published()
        .filter(jurisdiction=jurisdiction)
        .exclude(body="")
        .order_by(F("adopted_on").desc(nulls_last=True), F("introduced_on").desc(nulls_last=True), "-pk")
        .values_list("body", flat=True)
    )


def _pending_bills():
    return [
        text.Bill(number=bill.identifier, title=bill.title, session=bill.session.name if bill.session else "")
        for bill in progress.pending_federal_bills()
    ]


def _as_of(day):
    return f"{day:%B} {day.day}, {day.year}"


def model_resolution_for(jurisdiction):
    """The filled-in text for a county, place, district or state (2 queries), and whether the body came
    from the data (False: it is a bracketed placeholder)."""
    level = str(jurisdiction.level)
    state = jurisdiction if jurisdiction.level == Level.STATE else jurisdiction.parent
    known = text.chosen_body(level, _bodies(jurisdiction))
    body = known or text.placeholder_body(level, jurisdiction.name)
    composed = text.compose(
        level=level,
        name=jurisdiction.name,
        state=state.name,
        body=body,
        bills=_pending_bills(),
        as_of=_as_of(timezone.localdate()),
    )
    return composed, known is not None


def docx_filename(jurisdiction):
    """ "model-resolution-mobile-county-al.docx"; a state's: "model-resolution-georgia.docx"."""
    if jurisdiction.level == Level.STATE:
        return f"model-resolution-{slugify(jurisdiction.name)}.docx"
    return f"model-resolution-{jurisdiction.slug}-{jurisdiction.parent.usps.lower()}.docx"


def _local(usps, slug):
    return get_object_or_404(
        Jurisdiction.objects.select_related("parent"),
        parent__level=Level.STATE,
        parent__usps=usps.upper(),
        slug=slug,
        level__in=[Level.COUNTY, Level.PLACE, Level.DISTRICT],
    )


def _state(usps):
    return get_object_or_404(Jurisdiction, level=Level.STATE, usps=usps.upper())


def _page(request, jurisdiction, docx_url):
    composed, body_known = model_resolution_for(jurisdiction)
    state = jurisdiction if jurisdiction.level == Level.STATE else jurisdiction.parent
    context = {
        "jurisdiction": jurisdiction,
        "state": state,
        "is_state": jurisdiction.level == Level.STATE,
        "text": composed,
        "body_known": body_known,
        "docx_url": docx_url,
        "docx_filename": docx_filename(jurisdiction),
        "submit_url": f"{reverse('recognition:submit')}?jurisdiction={jurisdiction.pk}",
        "cc0_name": text.CC0_NAME,
        "cc0_url": text.CC0_URL,
    }
    return render(request, "recognition/model_resolution.html", context)


def _docx(jurisdiction):
    composed, _known = model_resolution_for(jurisdiction)
    place = (
        str(jurisdiction)
        if jurisdiction.level == Level.STATE
        else f"{jurisdiction.name}, {jurisdiction.parent.name}"
    )
    response = HttpResponse(resolution_docx.build(composed, place), content_type=resolution_docx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{docx_filename(jurisdiction)}"'
    return response


@public_page
def model_resolution(request, usps, slug):
    jurisdiction = _local(usps, slug)
    docx_url = reverse("recognition:model_resolution_docx", kwargs={"usps": usps.lower(), "slug": slug})
    return _page(request, jurisdiction, docx_url)


@public_page
def model_resolution_docx(request, usps, slug):
    return _docx(_local(usps, slug))


@public_page
def state_model_resolution(request, usps):
    state = _state(usps)
    docx_url = reverse("recognition:state_model_resolution_docx", kwargs={"usps": usps.lower()})
    return _page(request, state, docx_url)


@public_page
def state_model_resolution_docx(request, usps):
    return _docx(_state(usps))
