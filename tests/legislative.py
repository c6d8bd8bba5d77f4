"""Bills, legislative sessions and actions for tests, made by hand (each test says what it needs)."""

import datetime
import itertools

from django.utils import timezone

from recognition.models import Action, Confidence, Kind, LegislativeSession, Status
from tests.conftest import ResolutionFactory, get_state

_numbers = itertools.count(1)


def session(usps="AL", name="2025 Regular Session", start=(2025, 1, 14), end=(2025, 6, 5), jurisdiction=None):
    return LegislativeSession.objects.create(
        jurisdiction=jurisdiction or get_state(usps),
        name=name,
        start_on=datetime.date(*start),
        end_on=datetime.date(*end),
    )


def bill(usps="AL", status=Status.INTRODUCED, **fields):
    """A state bill (pending unless told otherwise), published, cited and verified today."""
    fields.setdefault("jurisdiction", get_state(usps))
    fields.setdefault("kind", Kind.BILL)
    fields.setdefault("identifier", f"HB {next(_numbers)}")
    fields.setdefault("body", "Legislature")
    fields.setdefault("confidence", Confidence.HIGH)
    fields.setdefault("last_verified_on", timezone.localdate())
    if status != Status.ADOPTED:
        fields.setdefault("adopted_on", None)
        fields.setdefault("adopted_on_precision", "")
    return ResolutionFactory(status=status, **fields)


def act(resolution, when, classification, chamber="", description=None):
    """Record an action on `resolution` (`when`: "2025", "2025-09" or "2025-09-11")."""
    action = Action(
        resolution=resolution,
        classification=classification,
        chamber=chamber,
        description=description or f"{classification} {chamber} {when}".replace("  ", " "),
        source_url=f"https://example.org/actions/{classification}/{when}",
    )
    action.date = when
    action.save()
    return action
