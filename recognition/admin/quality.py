"""The data-quality desk: what staff should fix first, each list with its count and a link to the fix.

Lists, not a score: a broken link, a record nobody has checked for a year, a draft left
for a month, a report nobody answered for a week, a bill whose session ended with no outcome
recorded, a pending bill with no session (the site cannot tell when it dies). The admin's index shows the counts.
"""

import datetime
from dataclasses import dataclass

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from ..models import Level, Resolution, Source, Status, Submission

VERIFICATION_INTERVAL = datetime.timedelta(days=365)
DRAFT_AGE = datetime.timedelta(days=30)
SUBMISSION_WAIT = datetime.timedelta(days=7)
LISTED = 100  # rows shown per list; the count is always the whole


@dataclass(frozen=True)
class Desk:
    """One list of the desk: what it is, how to fix it, and its records."""

    key: str
    title: str
    fix: str
    queryset: object

    def count(self):
        return self.queryset.count()

    def rows(self):
        return list(self.queryset[:LISTED])


def broken_links():
    """Published records citing a link whose last check failed."""
    return (
        Source.objects.broken_links()
        .filter(resolution__published=True)
        .select_related("resolution", "resolution__jurisdiction", "resolution__jurisdiction__parent")
        .order_by("link_checked_at", "pk")
    )


def not_verified_lately(today=None):
    """Q: not checked against its source in the last 12 months (never counts as not lately)."""
    year_ago = (today or timezone.localdate()) - VERIFICATION_INTERVAL
    return Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=year_ago)


def unverified(today=None):
    """Published records not checked against their source in the last 12 months."""
    return (
        Resolution.objects.published()
        .filter(not_verified_lately(today))
        .with_jurisdiction()
        .order_by(F("last_verified_on").asc(nulls_first=True), "pk")  # never verified first
    )


def old_drafts(now=None):
    """Drafts created more than 30 days ago: publish them, or say why not."""
    return (
        Resolution.objects.filter(published=False, created_at__lt=(now or timezone.now()) - DRAFT_AGE)
        .with_jurisdiction()
        .order_by("created_at", "pk")
    )


def session_ended(today=None):
    """Pending measures whose session has ended: what became of them is recorded, never assumed."""
    return (
        Resolution.objects.session_ended(today)
        .with_jurisdiction()
        .order_by("session__end_on", "pk")  # the longest overdue first
    )


def without_session():
    """Published bills pending before a legislature with no session entered.

    Pages call them pending, and ask people to support them, until staff record an outcome: with
    its session, a bill stops being called pending the day the session ends.
    """
    return (
        Resolution.objects.published()
        .filter(
            status=Status.INTRODUCED,
            session__isnull=True,
            jurisdiction__level__in=[Level.STATE, Level.NATION],
        )
        .with_jurisdiction()
        .order_by(F("introduced_on").asc(nulls_first=True), "pk")  # the oldest first
    )


def waiting_submissions(now=None):
    """Public reports still pending after a week."""
    return Submission.objects.filter(
        status=Submission.Review.PENDING, created_at__lt=(now or timezone.now()) - SUBMISSION_WAIT
    ).order_by("created_at", "pk")


def desks():
    return [
        Desk("broken", "Broken source links", "Replace the link, or add an archived copy.", broken_links()),
        Desk(
            "unverified",
            "Not verified for 12 months",
            "Check each record against its source, then “Mark the selected records as verified today”.",
            unverified(),
        ),
        Desk("drafts", "Drafts older than 30 days", "Verify and publish, or note why not.", old_drafts()),
        Desk(
            "session_ended",
            "Session ended: record the outcome",
            "Find out what became of each bill: add the action that ended it (failed, vetoed, withdrawn) and "
            "set its status to failed, or the one that passed it.",
            session_ended(),
        ),
        Desk(
            "no_session",
            "Pending with no session",
            "Enter the legislative session each bill belongs to (Legislative sessions, then the bill's Session box), "
            "so that it stops being called pending when the session ends.",
            without_session(),
        ),
        Desk(
            "submissions",
            "Submissions waiting more than 7 days",
            "Accept into a draft, or reject with a reason.",
            waiting_submissions(),
        ),
    ]


def fix_url(desk_key, obj):
    """Where a row of a list is fixed."""
    if desk_key == "broken":
        return reverse("admin:recognition_resolution_change", args=[obj.resolution_id])
    if desk_key == "submissions":
        return reverse("admin:recognition_submission_change", args=[obj.pk])
    return reverse("admin:recognition_resolution_change", args=[obj.pk])
