"""The tracker's data: jurisdictions, the measures they take, and the sources behind them.

The database enforces every rule it can express (constraints below); `clean()`
explains the rest to a person. Reads go through QuerySet methods
(`Resolution.objects.published().in_state("AL")`).
"""

import contextlib
import contextvars
import datetime
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models, transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Length,
    Lower,
    TruncMonth,
    TruncYear,
)
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from . import past, stages, warming
from .addresses import page_address
from .dates import PartialDateDescriptor, Precision
from .versioning import bump_data_version


class Level(models.TextChoices):
    NATION = "nation", "Nation"
    STATE = "state", "State"
    COUNTY = "county", "County"
    PLACE = "place", "City or town"
    DISTRICT = "district", "District"


LOCAL_LEVELS = (Level.COUNTY, Level.PLACE, Level.DISTRICT)
# What staff may add by hand (and the importer creates): the reference loader owns the rest.
LOCALITY_LEVELS = (Level.PLACE, Level.DISTRICT)


def name_key(name):
    """How two names of places are compared: whatever a person did to case and accent encoding."""
    return unicodedata.normalize("NFC", name).casefold()


fips_validator = RegexValidator(r"^[0-9]{2}([0-9]{3})?$", "A FIPS code is 2 digits (state) or 5 (county).")


_in_bulk_update = contextvars.ContextVar("in_bulk_update", default=False)


class PublicDataQuerySet(models.QuerySet):
    """Bulk writes skip the save and delete signals: they bump the data version themselves (and note
    the places whose pages to warm, recognition/warming.py).

    The data version keys every cached page and ETag (recognition/versioning.py), so
    no write path may forget it. One bump per call: bulk_update's own per-batch
    updates do not bump again.
    """

    def update(self, **kwargs):
        if _in_bulk_update.get():
            return super().update(**kwargs)
        # One transaction even in autocommit: the warming is queued when it commits, after the new version.
        with transaction.atomic():
            moving = warming.note_rows(self, kwargs)
            changed = super().update(**kwargs)
            if changed:
                bump_data_version()
            if moving:  # and where they went
                warming.note_pks(self.model, moving)
        return changed

    update.alters_data = True

    def delete(self):
        deleted = super().delete()
        if deleted[0]:
            bump_data_version()
        return deleted

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            bump_data_version()
            warming.note_objects(self.model, created)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic():  # as in update: the warming is queued after the new version
            warming.note_objects(self.model, objs)  # as they were: a row unpublished here was public
            token = _in_bulk_update.set(True)
            try:
                changed = super().bulk_update(objs, fields, *args, **kwargs)
            finally:
                _in_bulk_update.reset(token)
            if changed:
                bump_data_version()
                if "published" in fields or warming.moves(self.model, fields):
                    # as they are: a row published here is public now, a row moved here shows here now
                    warming.note_objects(self.model, objs)
        return changed


class JurisdictionQuerySet(PublicDataQuerySet):
    def states(self):
        """The 50 states, DC and the inhabited territories, in name order."""
        return self.filter(level=Level.STATE).order_by("name")

    def counties(self):
        return self.filter(level=Level.COUNTY)

    def in_state(self, usps):
        """The state and everything in it: its counties, places and districts."""
        return self.filter(in_states([usps]))

    def nation(self):
        return self.get(level=Level.NATION)


class Jurisdiction(models.Model):
    level = models.CharField(max_length=10, choices=Level)
    name = models.CharField(max_length=200, help_text="As people say it: “Mobile County”, “City of Mobile”.")
    slug = models.SlugField(max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The state for a county, place or district; the nation for a state.",
    )
    county = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="localities",
        limit_choices_to={"level": Level.COUNTY},
        help_text="For a place or district: the county it lies in, so the county map can show it.",
    )
    fips = models.CharField(
        "FIPS code",
        max_length=5,
        unique=True,
        null=True,
        blank=True,
        validators=[fips_validator],
        help_text="State (2 digits) or county (5 digits) FIPS code. Places may have none.",
    )
    usps = models.CharField("USPS code", max_length=2, blank=True, help_text="States and territories only.")
    is_territory = models.BooleanField(default=False)
    population = models.PositiveBigIntegerField(null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    shape = models.TextField(blank=True, help_text="SVG path data in the 975×610 Albers USA frame.")
    shape_viewbox = models.CharField(
        max_length=60, blank=True, help_text="Bounding box of the shape: “x y w h”."
    )
    neighbors = models.ManyToManyField(
        "self",
        blank=True,
        editable=False,
        help_text="Counties that share a border with this one (across state lines too), from the atlas.",
    )

    objects = JurisdictionQuerySet.as_manager()
    # Staff edits and imported places are recorded; the reference loaders write in bulk, without history
    # (signals do not fire for bulk_create/bulk_update). The map shape is the loader's: not copied.
    history = HistoricalRecords(excluded_fields=["shape", "shape_viewbox"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="jurisdiction_unique_slug_in_parent"),
            # One "City of Mobile" (as a city) in Alabama, whatever its case. `clean()` says it to a person,
            # comparing as the importer does (`name_key`); this is the database's backstop.
            models.UniqueConstraint(
                F("parent"),
                F("level"),
                Lower("name"),
                condition=Q(level__in=LOCALITY_LEVELS),
                name="jurisdiction_unique_locality_name_in_state",
                violation_error_message="There is already a place or district with this name in this state.",
            ),
            models.UniqueConstraint(fields=["usps"], condition=~Q(usps=""), name="jurisdiction_unique_usps"),
            models.UniqueConstraint(
                fields=["level"], condition=Q(level=Level.NATION), name="jurisdiction_single_nation"
            ),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="jurisdiction_level_valid"),
            # The nation is the only root; everything else hangs below something.
            models.CheckConstraint(
                condition=Q(level=Level.NATION, parent__isnull=True)
                | (~Q(level=Level.NATION) & Q(parent__isnull=False)),
                name="jurisdiction_only_nation_is_root",
            ),
            models.CheckConstraint(
                condition=Q(county__isnull=True) | Q(level__in=[Level.PLACE, Level.DISTRICT]),
                name="jurisdiction_only_localities_name_a_county",
            ),
            models.CheckConstraint(
                condition=Q(usps="") | Q(level=Level.STATE), name="jurisdiction_usps_only_for_states"
            ),
            # A state's FIPS code has 2 digits, a county's 5; places and districts have none.
            models.CheckConstraint(
                condition=Q(fips__isnull=True)
                | Q(Exact(Length("fips"), 2), level=Level.STATE)
                | Q(Exact(Length("fips"), 5), level=Level.COUNTY),
                name="jurisdiction_fips_matches_level",
            ),
        ]
        indexes = [
            # The maps' "every state" and "every county" (WHERE level = 'state' / 'county'): 56 and 3,200
            # rows of some 23,000 once places are loaded, read without scanning the table.
            models.Index(fields=["level"], name="jurisdiction_level"),
        ]

    def __str__(self):
        if self.level in LOCAL_LEVELS and self.parent_id:
            return f"{self.name}, {self.parent.usps or self.parent.name}"
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)
        if self.fips == "":
            self.fips = None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return page_address(*self.page_route())

    def page_route(self):
        """(view name, arguments) of its page: what its address is reversed from."""
        if self.level == Level.STATE:
            return "recognition:state", {"usps": self.usps.lower()}
        if self.level == Level.NATION:
            return "recognition:nation", {}
        return "recognition:jurisdiction", {"usps": self.parent.usps.lower(), "slug": self.slug}

    def unused_slug(self):
        """A slug from the name that no other jurisdiction of the same parent has (the URL is /<usps>/<slug>/)."""
        base = (slugify(self.name) or self.level or "place")[:190]
        taken = set(
            Jurisdiction.objects.filter(parent_id=self.parent_id, slug__startswith=base)
            .exclude(pk=self.pk)
            .values_list("slug", flat=True)
        )
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        return slug

    @property
    def state(self):
        """The state this jurisdiction is in (itself for a state; None for the nation)."""
        if self.level == Level.STATE:
            return self
        if self.level in LOCAL_LEVELS:
            return self.parent
        return None

    def clean(self):
        errors = {}
        expected_parent = {
            Level.STATE: Level.NATION,
            Level.COUNTY: Level.STATE,
            Level.PLACE: Level.STATE,
            Level.DISTRICT: Level.STATE,
        }.get(self.level)
        if expected_parent and (self.parent is None or self.parent.level != expected_parent):
            errors["parent"] = (
                f"A {self.get_level_display().lower()} belongs to a {expected_parent.label.lower()}."
            )
        if self.county_id and self.level not in (Level.PLACE, Level.DISTRICT):
            errors["county"] = "Only a city, town or district names the county it lies in."
        elif self.county_id and self.parent_id and self.county.parent_id != self.parent_id:
            errors["county"] = f"{self.county.name} is not in {self.parent.name}."
        if self.fips:
            wanted = {Level.STATE: 2, Level.COUNTY: 5}.get(self.level)
            if wanted is None:
                errors["fips"] = "Only states and counties have FIPS codes here."
            elif len(self.fips) != wanted:
                errors["fips"] = f"A {self.level}'s FIPS code has {wanted} digits."
        if self.usps and self.level != Level.STATE:
            errors["usps"] = "Only states and territories have a USPS code."
        if "parent" not in errors and (duplicate := self.same_name_in_state()):
            errors["name"] = (
                f"{duplicate.name} is already recorded as a {duplicate.get_level_display().lower()} "
                f"in {self.parent.name}: pick it instead of adding it again."
            )
        if errors:
            raise ValidationError(errors)

    def same_name_in_state(self):
        """Another city or district of this level and name (any case) in the same state, or None."""
        if self.level not in LOCALITY_LEVELS or not self.parent_id or not self.name:
            return None
        siblings = Jurisdiction.objects.filter(parent_id=self.parent_id, level=self.level).exclude(pk=self.pk)
        wanted = name_key(self.name.strip())
        return next((j for j in siblings.only("id", "name", "level") if name_key(j.name) == wanted), None)


class Kind(models.TextChoices):
    STATUTE = "statute", "Statute"
    RESOLUTION = "resolution", "Resolution"
    PROCLAMATION = "proclamation", "Proclamation"
    ORDINANCE = "ordinance", "Ordinance"
    EXECUTIVE_ORDER = "executive_order", "Executive order"
    BILL = "bill", "Bill"


class Status(models.TextChoices):
    INTRODUCED = "introduced", "Introduced (pending)"
    ADOPTED = "adopted", "Adopted"
    FAILED = "failed", "Failed"


# Labels by value, for rows written a page at a time (what get_FOO_display gives, without its per-call work).
KIND_LABELS = dict(Kind.choices)
STATUS_LABELS = dict(Status.choices)

# Where a measure stands: the pure rule's stages, as choices (values and labels from there, so they
# cannot drift apart).
Stage = models.TextChoices("Stage", [(stage.name, (stage.value, stage.label)) for stage in stages.Stage])


class Chamber(models.TextChoices):
    LOWER = stages.LOWER, "Lower chamber (House, Assembly)"
    UPPER = stages.UPPER, "Upper chamber (Senate)"
    EXECUTIVE = stages.EXECUTIVE, "Executive (President, Governor, Mayor)"


class ActionClassification(models.TextChoices):
    """What an action did: Open States' action classifications."""

    INTRODUCTION = stages.Classification.INTRODUCTION, "Introduction"
    REFERRAL_COMMITTEE = stages.Classification.REFERRAL_COMMITTEE, "Referral to committee"
    COMMITTEE_PASSAGE = stages.Classification.COMMITTEE_PASSAGE, "Committee passage"
    PASSAGE = stages.Classification.PASSAGE, "Passage"
    EXECUTIVE_SIGNATURE = stages.Classification.EXECUTIVE_SIGNATURE, "Executive signature"
    EXECUTIVE_VETO = stages.Classification.EXECUTIVE_VETO, "Executive veto"
    BECAME_LAW = stages.Classification.BECAME_LAW, "Became law"
    FAILURE = stages.Classification.FAILURE, "Failure"
    WITHDRAWAL = stages.Classification.WITHDRAWAL, "Withdrawal"


class Confidence(models.TextChoices):
    HIGH = "high", "High: official source, or two sources agree"
    MEDIUM = "medium", "Medium: one reliable secondary source"
    LOW = "low", "Low: not yet verified"


def stored_state():
    """Whether each measure carries its state (`Resolution.state_usps`): on PostgreSQL, whose triggers
    keep it; SQLite finds a measure's state through its jurisdiction."""
    return connection.vendor == "postgresql"


def in_states(codes, path=""):
    """Inside a state: the jurisdiction at `path` is one of these states (USPS codes) or lies in one.

    The one spelling of "in Alabama" for every query: lists, filters, the API and the admin.
    """
    codes = [code.upper() for code in codes]
    return Q(**{f"{path}level": Level.STATE, f"{path}usps__in": codes}) | Q(
        **{f"{path}parent__level": Level.STATE, f"{path}parent__usps__in": codes}
    )


def state_code_expression(path="jurisdiction__"):
    """The state of a jurisdiction in SQL: the USPS code of the one at `path` ('' for the nation)."""
    return Case(
        When(**{f"{path}level": Level.STATE, "then": F(f"{path}usps")}),
        default=Coalesce(F(f"{path}parent__usps"), Value("")),
    )


def _effective_date_passed(today):
    """Q: the recorded effective date has come, the whole of its period (the pure rule's test, in SQL)."""
    tomorrow = today + datetime.timedelta(days=1)
    return (
        Q(effective_on_precision=Precision.DAY, effective_on__lt=tomorrow)
        | Q(effective_on_precision=Precision.MONTH, effective_on__lt=tomorrow.replace(day=1))
        | Q(effective_on_precision=Precision.YEAR, effective_on__lt=tomorrow.replace(month=1, day=1))
    )


def _adopted_by(day):
    """Q: adopted on or before `day` (a date known to the month or year counts from its first day)."""
    return Q(status=Status.ADOPTED, adopted_on__lte=day)


def current_stage_expression(today=None):
    """The stage as of `today` in SQL: the stored stage, in force once an adopted measure's effective date
    has come (the pure rule's test; `in_stages` selects by the same rule)."""
    came = _effective_date_passed(today or timezone.localdate())
    return Case(
        When(Q(stage=Stage.ADOPTED) & came, then=Value(Stage.IN_FORCE)),
        default=F("stage"),
        output_field=models.CharField(),
    )


class ResolutionQuerySet(PublicDataQuerySet):
    def published(self):
        return self.filter(published=True)

    def adopted(self, by=None):
        """Adopted; with `by`, adopted on or before that day (its adoption date known and come)."""
        return self.filter(status=Status.ADOPTED) if by is None else self.filter(_adopted_by(by))

    def counting_on(self, day):
        """What counted toward a status on a past `day`, each with its status then in `status_then`
        ("adopted" or "introduced", i.e. pending): the as-of rule (recognition/past.py), in SQL."""
        first_ending = (
            Action.objects.filter(resolution=OuterRef("pk"), classification__in=past.ENDINGS)
            .order_by("on")
            .values("on")[:1]
        )
        # Aliases, not annotations: they decide, they are not read.
        measures = self.alias(ended_on=Subquery(first_ending), session_end=F("session__end_on"))
        not_ended = Q(ended_on__isnull=True) | Q(ended_on__gt=day)
        adopted_later = Q(status=Status.ADOPTED, adopted_on__isnull=False)
        still_in_session = (
            ~Q(status=Status.ADOPTED)
            & (Q(session_end__isnull=True) | Q(session_end__gte=day))
            # A failed measure whose end is recorded nowhere: how long it was pending is unknown.
            & (~Q(status=Status.FAILED) | Q(ended_on__isnull=False) | Q(session_end__isnull=False))
        )
        pending = Q(introduced_on__lte=day) & not_ended & (adopted_later | still_in_session)
        return measures.filter(_adopted_by(day) | pending).annotate(
            status_then=Case(
                When(_adopted_by(day), then=Value(Status.ADOPTED)),
                default=Value(Status.INTRODUCED),
                output_field=models.CharField(),
            )
        )

    def dated_by(self, day):
        """Measures introduced or adopted on or before `day`: those that existed then, as far as their
        dates tell (a measure without either date is not placed in time)."""
        return self.filter(Q(introduced_on__lte=day) | Q(adopted_on__lte=day))

    def in_state(self, usps):
        """Measures by the state itself and by anything inside it."""
        return self.in_states([usps])

    def in_states(self, codes):
        """Measures by these states (USPS codes) and by anything inside them."""
        if stored_state():
            # Stored on each measure and indexed in the lists' order: a state's newest are read in order,
            # not gathered from its jurisdictions and sorted.
            # No empty code: federal measures store '' (they are in no state).
            return self.filter(state_usps__in=[code.upper() for code in codes if code])
        # The jurisdictions first (a few hundred ids per state), then the measures by their foreign key.
        return self.filter(jurisdiction__in=Jurisdiction.objects.filter(in_states(codes)).values("pk"))

    def with_jurisdiction(self, parent=True):
        """What every listing shows: the jurisdiction, its state and the session, in the same query.

        Without their map shapes: a state's is kilobytes, repeated on every row of its list, and no
        listing draws one. Without `parent` when the caller already holds it (a state page's own lists:
        the state is the page's, or the nation's bills need none)."""
        if not parent:
            return self.select_related("jurisdiction", "session").defer("jurisdiction__shape")
        return self.select_related("jurisdiction", "jurisdiction__parent", "session").defer(
            "jurisdiction__shape", "jurisdiction__parent__shape"
        )

    def bulk_create(self, objs, *args, **kwargs):
        """New measures have no actions yet: their stage is what their status says."""
        objs = list(objs)
        for resolution in objs:
            if resolution.pk is None:
                resolution.set_progress([])
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True

    def in_stages(self, values, today=None):
        """Measures at any of these stages as of `today` (the stored stage, with the effective-date rule)."""
        today = today or timezone.localdate()
        came = _effective_date_passed(today)
        wanted = Q(stage__in=[value for value in values if value not in (Stage.ADOPTED, Stage.IN_FORCE)])
        if Stage.ADOPTED in values:
            wanted |= Q(stage=Stage.ADOPTED) & ~came
        if Stage.IN_FORCE in values:
            wanted |= Q(stage=Stage.IN_FORCE) | (Q(stage=Stage.ADOPTED) & came)
        return self.filter(wanted)

    def count_by(self, key, among=None):
        """{value of `key` (a field or an expression): number of measures}, in one grouped query.

        `among`, a queryset of measures, counts only those, while every value of `key` in this queryset
        still appears (with 0): a facet's options stay visible when another filter leaves them empty.
        """
        key = F(key) if isinstance(key, str) else key
        count = Count("pk") if among is None else Count("pk", filter=Q(pk__in=among.values("pk")))
        rows = self.order_by().values(facet_key=key).annotate(facet_count=count)
        return dict(rows.values_list("facet_key", "facet_count"))

    def count_up_to(self, limit):
        """How many measures there are, counting no further than `limit` + 1: "more than `limit`"
        costs the same however many match."""
        return self.order_by().values("pk")[: limit + 1].count()

    def counting(self, today=None):
        """What may count toward a status: not failed, and not pending past the end of its session
        (its outcome is unknown: it is no longer a pending bill)."""
        ended = Q(status=Status.INTRODUCED, session__end_on__lt=today or timezone.localdate())
        return self.exclude(status=Status.FAILED).exclude(ended)

    def pending(self, today=None):
        """Still before a legislature or council: introduced, and its session (if known) not over."""
        return self.counting(today).filter(status=Status.INTRODUCED)

    def session_ended(self, today=None):
        """Pending measures whose session is over: staff must record the outcome (never assumed)."""
        return self.filter(status=Status.INTRODUCED, session__end_on__lt=today or timezone.localdate())

    def refresh_progress(self):
        """Store each measure's stage and latest action again, from its actions and status (3 queries).

        The stage is derived (recognition/stages.py); it is stored so that lists can
        filter and sort by it. Every write of an action or a status comes through
        here or through `Resolution.save`, so the stored stage cannot drift.
        """
        resolutions = list(self.select_related("jurisdiction", "jurisdiction__parent").order_by())
        steps = {}
        for action in Action.objects.filter(resolution__in=[r.pk for r in resolutions]).order_by("pk"):
            steps.setdefault(action.resolution_id, []).append(action.step)
        changed = []
        for resolution in resolutions:
            if resolution.set_progress(steps.get(resolution.pk, [])):
                changed.append(resolution)
        if changed:
            Resolution.objects.bulk_update(changed, PROGRESS_FIELDS, batch_size=500)
        return len(changed)

    refresh_progress.alters_data = True


# What `Resolution.set_progress` derives.
PROGRESS_FIELDS = ("stage", "latest_action", "latest_action_on", "latest_action_on_precision")


def _stage_agrees_with_status():
    """A pending measure has a pending stage, an adopted one adopted or in force, a failed one an ending."""
    return models.CheckConstraint(
        condition=Q(status=Status.INTRODUCED, stage__in=stages.PENDING_STAGES)
        | Q(status=Status.ADOPTED, stage__in=stages.ADOPTED_STAGES)
        | Q(status=Status.FAILED, stage__in=stages.ENDED_STAGES),
        name="resolution_stage_agrees_with_status",
        violation_error_message="The measure's actions contradict its status.",
    )


def _date_precision_pair_constraint(field, prefix="resolution"):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True, f"{field}_precision": ""})
        | Q(**{f"{field}__isnull": False, f"{field}_precision__in": Precision.values}),
        name=f"{prefix}_{field}_has_precision",
    )


class LegislativeSession(models.Model):
    """A legislature's session, or a Congress: the measures it holds die when it ends unless passed."""

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="sessions",
        limit_choices_to={"level__in": [Level.NATION, Level.STATE]},
        help_text="The nation (for a Congress) or the state whose legislature sits.",
    )
    name = models.CharField(max_length=100, help_text="“119th Congress”, “2025-2026 Regular Session”.")
    start_on = models.DateField("starts")
    end_on = models.DateField("ends", help_text="The day it ends (a Congress: January 3 at noon).")

    objects = PublicDataQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_on", "name"]
        verbose_name = "legislative session"
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "name"], name="session_unique_name"),
            models.CheckConstraint(condition=Q(end_on__gt=F("start_on")), name="session_ends_after_start"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """Its measures, on the filtered list."""
        return f"{reverse('recognition:resolution_list')}?session={self.pk}"

    def has_ended(self, today=None):
        return self.end_on < (today or timezone.localdate())

    def clean(self):
        if self.jurisdiction_id and self.jurisdiction.level not in (Level.NATION, Level.STATE):
            raise ValidationError({"jurisdiction": "A session belongs to the nation (Congress) or a state."})
        if self.start_on and self.end_on and self.end_on <= self.start_on:
            raise ValidationError({"end_on": "A session ends after it starts."})
        if self.jurisdiction_id:
            # Checked here too: a form that shows the legislature read-only leaves the constraint unchecked.
            taken = LegislativeSession.objects.filter(jurisdiction_id=self.jurisdiction_id, name=self.name)
            if taken.exclude(pk=self.pk).exists():
                raise ValidationError(
                    {"name": f"{self.jurisdiction} already has a session named {self.name}."}
                )
            if self.pk and self.measures.exclude(Q(jurisdiction_id=self.jurisdiction_id)).exists():
                raise ValidationError(
                    {"jurisdiction": "This session holds measures of another legislature: it keeps its own."}
                )


class Resolution(models.Model):
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="resolutions")
    kind = models.CharField(max_length=20, choices=Kind)
    status = models.CharField(max_length=12, choices=Status)
    body = models.CharField(
        "adopting body",
        max_length=200,
        blank=True,
        help_text="“Mobile County Commission”, “Texas Legislature”.",
    )
    identifier = models.CharField(
        max_length=100, blank=True, help_text="Bill, act or resolution number, when there is one."
    )
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="One neutral, plain-language sentence.")

    # Partial dates: the first day of the period plus its precision (see recognition/dates.py).
    introduced_on = models.DateField(null=True, blank=True)
    introduced_on_precision = models.CharField(max_length=5, choices=Precision, blank=True)
    adopted_on = models.DateField(null=True, blank=True)
    adopted_on_precision = models.CharField(max_length=5, choices=Precision, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    effective_on_precision = models.CharField(max_length=5, choices=Precision, blank=True)

    introduced = PartialDateDescriptor("introduced_on")
    adopted = PartialDateDescriptor("adopted_on")
    effective = PartialDateDescriptor("effective_on")

    session = models.ForeignKey(
        LegislativeSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        help_text="The session or Congress that holds a bill: when it ends, a pending bill needs its outcome.",
    )
    # Derived from the actions and the status (recognition/stages.py) on every save; stored so that
    # lists filter and sort by them. Not editable, and not in the history (they follow from what is).
    stage = models.CharField(max_length=16, choices=Stage, default=Stage.INTRODUCED, editable=False)
    latest_action = models.CharField(max_length=300, blank=True, editable=False)
    latest_action_on = models.DateField(null=True, blank=True, editable=False)
    latest_action_on_precision = models.CharField(max_length=5, choices=Precision, blank=True, editable=False)
    latest_action_date = PartialDateDescriptor("latest_action_on")
    # The USPS code of the state the jurisdiction is or lies in ('' for the nation), stored on the row so
    # that `?state=` reads one range of an index in the list's order. PostgreSQL's triggers are its only
    # writer (migration 0015): a value set here is replaced, and an instance's own copy is whatever it was
    # loaded with. On SQLite it stays '' (see the migration): read it through `stored_state()`.
    state_usps = models.CharField(max_length=2, blank=True, default="", editable=False)

    published = models.BooleanField(
        default=False,
        help_text="Drafts never reach the public. Only a publisher can publish, after checking the sources.",
    )
    confidence = models.CharField(max_length=6, choices=Confidence, default=Confidence.LOW)
    last_verified_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResolutionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=[*PROGRESS_FIELDS, "state_usps"])

    # `clean()` can only see the sources already saved. The admin's change form sets this to False on its
    # instance because its sources inline checks the sources submitted with the record instead.
    check_saved_sources = True
    # Likewise for the actions: the admin's actions inline checks the submitted ones against the status.
    check_saved_actions = True

    class Meta:
        ordering = ["-adopted_on", "-introduced_on", "title"]
        permissions = [("publish_resolution", "Can publish and unpublish resolutions")]
        constraints = [
            # The same measure cannot be recorded twice. Without a number there is
            # nothing reliable to compare, so blank identifiers are exempt.
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "identifier"],
                condition=~Q(identifier=""),
                name="resolution_unique_identifier",
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="resolution_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="resolution_status_valid"),
            models.CheckConstraint(
                condition=Q(confidence__in=Confidence.values), name="resolution_confidence_valid"
            ),
            _date_precision_pair_constraint("introduced_on"),
            _date_precision_pair_constraint("adopted_on"),
            _date_precision_pair_constraint("effective_on"),
            _date_precision_pair_constraint("latest_action_on"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="resolution_stage_valid"),
            _stage_agrees_with_status(),
            # Adopted is not before introduced, compared at the adopted date's
            # precision: "adopted 2022" is consistent with "introduced 2022-04-18".
            models.CheckConstraint(
                condition=Q(adopted_on__isnull=True)
                | Q(introduced_on__isnull=True)
                | Q(adopted_on_precision=Precision.DAY, adopted_on__gte=F("introduced_on"))
                | Q(adopted_on_precision=Precision.MONTH, adopted_on__gte=TruncMonth("introduced_on"))
                | Q(adopted_on_precision=Precision.YEAR, adopted_on__gte=TruncYear("introduced_on")),
                name="resolution_adopted_not_before_introduced",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.INTRODUCED, adopted_on__isnull=False),
                name="resolution_pending_has_no_adoption_date",
            ),
            models.CheckConstraint(
                condition=~Q(published=True, confidence=Confidence.LOW),
                name="resolution_low_confidence_is_never_published",
            ),
        ]
        indexes = [
            # The first recorded year (the map's past): the earliest published introduction, read from
            # one end of this index rather than by reading every measure.
            models.Index(
                fields=["introduced_on"], condition=Q(published=True), name="resolution_published_intro"
            ),
            # Public listings: Resolution.objects.published().order_by("-adopted_on").
            models.Index(
                fields=["-adopted_on"], condition=Q(published=True), name="resolution_published_recent"
            ),
            # The adopted measures behind the home page's figures, read index-only:
            # Jurisdiction.objects.filter(Exists(Resolution.objects.published().adopted()
            #     .filter(jurisdiction=OuterRef("pk")))) (which counties, cities and districts acted), and
            # Resolution.objects.published().adopted().values(year of adopted_on).annotate(Count(...)).
            models.Index(
                fields=["jurisdiction", "adopted_on"],
                condition=Q(published=True, status=Status.ADOPTED),
                name="resolution_adopted_published",
            ),
            # The list's stage filter: Resolution.objects.published().filter(stage__in=[...]).
            models.Index(fields=["stage"], condition=Q(published=True), name="resolution_published_stage"),
            # The list by latest action: Resolution.objects.published().order_by("-latest_action_on").
            models.Index(
                fields=["-latest_action_on"], condition=Q(published=True), name="resolution_published_action"
            ),
        ]

    def __str__(self):
        label = self.identifier or self.title
        return f"{self.jurisdiction.name}: {label}"

    def save(self, *args, **kwargs):
        # The stored stage follows the status and the actions saved so far (an action's own save
        # updates it too). New measures have no actions: their status decides.
        self.set_progress(self.saved_steps() if self.pk else [])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "status" in update_fields:
            kwargs["update_fields"] = {*update_fields, *PROGRESS_FIELDS}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return page_address(*self.page_route())

    def page_route(self):
        """(view name, arguments) of its page: what its address is reversed from."""
        return "recognition:resolution", {"pk": self.pk}

    def get_preview_url(self):
        """The draft on its public template, for staff (the public address answers 404 until published)."""
        return reverse("recognition:resolution_preview", kwargs={"pk": self.pk})

    def validate_constraints(self, exclude=None):
        # The stage is derived at save from the actions, which a form may be changing alongside: `clean()`
        # checks the status against them in words; the database checks the stored pair.
        super().validate_constraints({*(exclude or ()), *PROGRESS_FIELDS})

    def saved_steps(self):
        return [action.step for action in self.actions.order_by("pk")]

    def _stage_context(self, steps=True):
        if not steps:  # without actions only the status counts: no need to read the jurisdiction
            return {"status": self.status, "level": "", "kind": self.kind}
        state = self.jurisdiction.state if self.jurisdiction.level != Level.NATION else None
        return {
            "status": self.status,
            "level": self.jurisdiction.level,
            "kind": self.kind,
            "unicameral": state is not None and state.usps in stages.UNICAMERAL,
        }

    def progress(self, steps):
        """Where this measure stands given these actions (`Action.step`s) and its status."""
        return stages.progress(steps, **self._stage_context(bool(steps)))

    def set_progress(self, steps):
        """Set the derived stage and latest action; True when they changed."""
        result = self.progress(steps)
        latest = result.latest
        values = {
            "stage": str(result.stage),
            "latest_action": latest.description if latest else "",
            "latest_action_on": latest.on if latest else None,
            "latest_action_on_precision": latest.precision if latest else "",
        }
        changed = any(getattr(self, name) != value for name, value in values.items())
        for name, value in values.items():
            setattr(self, name, value)
        return changed

    def status_conflict(self, steps):
        """Why these actions contradict the status, in words; None when they agree."""
        return stages.conflict(steps, **self._stage_context(bool(steps)))

    def session_ended_on(self, today):
        """Pending, and its session was over by `today`: the outcome is not recorded yet."""
        end = self.session.end_on if self.session_id else None
        return stages.session_ended(self.status, end, today)

    def stage_on(self, today):
        """The stage on `today`: the stored one, in force once the effective date has come."""
        return stages.current_stage(self.stage, self.effective_on, self.effective_on_precision, today)

    def labels_on(self, today):
        """(status, stage) as the public reads them on `today`: a list of rows asks the date once."""
        if self.session_ended_on(today):
            return "Session ended", stages.SESSION_ENDED_LABEL
        return STATUS_LABELS.get(self.status, self.status), self.stage_on(today).label

    @property
    def session_ended(self):
        """Pending, and its session is over: the outcome is not recorded yet."""
        return self.session_ended_on(timezone.localdate())

    @property
    def current_stage(self):
        """The stage as of today: the stored one, in force once the effective date has come."""
        return self.stage_on(timezone.localdate())

    @property
    def status_label(self):
        """The status as lists and feeds say it: never "pending" once the session has ended."""
        return self.labels_on(timezone.localdate())[0]

    @property
    def stage_label(self):
        """The stage as the public reads it: "Passed the upper chamber", or that the session ended."""
        return self.labels_on(timezone.localdate())[1]

    @property
    def stage_summary(self):
        """ "passed the Senate, September 2025; in the House" (from the stored latest action)."""
        if self.session_ended:
            return stages.SESSION_ENDED_LABEL
        latest = None
        current = self.current_stage
        if current != self.stage:  # in force by its effective date: dated by it
            latest = stages.Step(self.effective_on, self.effective_on_precision, "became-law")
        elif self.latest_action_on:
            latest = stages.Step(self.latest_action_on, self.latest_action_on_precision, "introduction")
        jurisdiction = self.jurisdiction
        state = jurisdiction.state.usps if jurisdiction.state else None
        return stages.summary(
            stages.Progress(current, latest=latest),
            state=state,
            one_body=stages.is_one_body(self.jurisdiction.level, self.kind),
        )

    @property
    def has_source_link(self):
        return any(source.url for source in self.sources.all())

    LOW_CONFIDENCE_MESSAGE = "Verify this record (confidence medium or high) before publishing it."
    NO_SOURCE_MESSAGE = "Add at least one source with a link before publishing."

    def publication_problems(self):
        """Why this record cannot be public yet, in words for a person ([] when it can be)."""
        problems = []
        if self.confidence == Confidence.LOW:
            problems.append(self.LOW_CONFIDENCE_MESSAGE)
        if not (self.pk and self.sources.exclude(url="").exists()):
            problems.append(self.NO_SOURCE_MESSAGE)
        return problems

    def clean(self):
        errors = {}
        if self.introduced and self.adopted and self.adopted.is_certainly_before(self.introduced):
            errors["adopted_on"] = (
                f"Adopted ({self.adopted}) cannot be before introduced ({self.introduced})."
            )
        if self.status == Status.INTRODUCED and self.adopted:
            errors["status"] = (
                "A pending measure has no adoption date: set the status to adopted, or clear the date."
            )
        if self.session_id and self.jurisdiction_id:
            legislature = (
                self.jurisdiction if self.jurisdiction.level in (Level.NATION, Level.STATE) else None
            )
            if legislature is None or self.session.jurisdiction_id != legislature.pk:
                errors["session"] = (
                    f"{self.session} is not a session of {legislature}."
                    if legislature
                    else "Only federal and state measures belong to a legislative session."
                )
        if self.check_saved_actions and self.pk and self.jurisdiction_id and self.status:
            problem = self.status_conflict(self.saved_steps())
            if problem:
                errors.setdefault("status", problem)
        if self.published and self.confidence == Confidence.LOW:
            errors["published"] = self.LOW_CONFIDENCE_MESSAGE
        if (
            self.published
            and self.check_saved_sources
            and self.pk
            and not self.sources.exclude(url="").exists()
        ):
            errors.setdefault("published", self.NO_SOURCE_MESSAGE)
        if errors:
            raise ValidationError(errors)


class LinkOutcome(models.TextChoices):
    """What the last check of a source's link found (`manage.py check_sources`)."""

    OK = "ok", "OK"
    REDIRECTED = "redirected", "Redirected (works, at another address)"
    CLIENT_ERROR = "client_error", "Not found or refused (4xx)"
    SERVER_ERROR = "server_error", "Server error (5xx)"
    TIMEOUT = "timeout", "Timed out"
    UNREACHABLE = "unreachable", "Unreachable (no such host, refused, TLS error)"
    REDIRECT_ERROR = "redirect_error", "Too many redirects, or a bad redirect"


BROKEN_LINK_OUTCOMES = (
    LinkOutcome.CLIENT_ERROR,
    LinkOutcome.SERVER_ERROR,
    LinkOutcome.TIMEOUT,
    LinkOutcome.UNREACHABLE,
    LinkOutcome.REDIRECT_ERROR,
)
# Written by the link checker, read by staff only: no public page, feed or API answer shows them.
LINK_CHECK_FIELDS = ("link_checked_at", "link_status", "link_outcome", "link_final_url")


class SourceQuerySet(PublicDataQuerySet):
    def broken_links(self):
        """Sources whose link failed its last check."""
        return self.filter(link_outcome__in=BROKEN_LINK_OUTCOMES)

    def record_link_checks(self, sources):
        """Save the check fields of `sources` in bulk, without a new data version.

        The data version exists to refresh public pages; these fields appear on none, so
        a nightly check must not empty every cache.
        """
        token = _in_bulk_update.set(True)
        try:
            return models.QuerySet.bulk_update(self, sources, LINK_CHECK_FIELDS, batch_size=500)
        finally:
            _in_bulk_update.reset(token)

    record_link_checks.alters_data = True


class Source(models.Model):
    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField("link", max_length=1000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    accessed_on = models.DateField(null=True, blank=True)
    archived_url = models.URLField(
        "archived copy",
        max_length=1000,
        blank=True,
        help_text="A copy in a web archive (e.g. web.archive.org), shown publicly beside the link.",
    )

    # The last link check. Not editable: only the checker knows what it found.
    link_checked_at = models.DateTimeField("link checked", null=True, blank=True, editable=False)
    link_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True, editable=False)
    link_outcome = models.CharField(
        "link check", max_length=16, choices=LinkOutcome, blank=True, editable=False
    )
    link_final_url = models.URLField(
        "final URL", max_length=2000, blank=True, editable=False, help_text="Where redirects led."
    )

    objects = SourceQuerySet.as_manager()
    # A check is not an edit: its fields stay out of the history (a revert keeps the latest check).
    history = HistoricalRecords(excluded_fields=list(LINK_CHECK_FIELDS))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(url="", title=""), name="source_has_link_or_title"),
            models.CheckConstraint(
                condition=Q(link_outcome__in=["", *LinkOutcome.values]), name="source_link_outcome_valid"
            ),
        ]
        indexes = [
            # The few broken links among many, by record: Source.objects.broken_links(), and
            # Exists(Source.objects.broken_links().filter(resolution=OuterRef("pk"))) for the records.
            models.Index(
                fields=["resolution"],
                condition=Q(link_outcome__in=BROKEN_LINK_OUTCOMES),
                name="source_broken_link",
            ),
        ]

    def __str__(self):
        return self.title or self.url

    def get_absolute_url(self):
        return self.url or self.resolution.get_absolute_url()


class ActionQuerySet(PublicDataQuerySet):
    def published(self):
        """Actions of published measures: the only ones the public sees."""
        return self.filter(resolution__published=True)

    def chronological(self):
        """Oldest first, in the order the stage rules read a measure's actions.

        A date known to the month or year sorts after the days of its period, actions of one
        period in the order of a measure's life, then as recorded: the same order as the rules'
        own sort, so every list of actions (page, CSV, API) reads the same.
        """
        month = Case(When(on_precision=Precision.YEAR, then=Value(13)), default=ExtractMonth("on"))
        day = Case(
            When(on_precision__in=[Precision.YEAR, Precision.MONTH], then=Value(32)), default=ExtractDay("on")
        )
        life = Case(
            *(
                When(classification=value, then=Value(index))
                for index, value in enumerate(stages.Classification)
            ),
            default=Value(len(stages.Classification)),
        )
        return self.order_by(ExtractYear("on"), month, day, life, "pk")


class Action(models.Model):
    """Something that happened to a measure: introduced, referred, passed a chamber, signed, vetoed."""

    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="actions")
    on = models.DateField("date")
    on_precision = models.CharField("date precision", max_length=5, choices=Precision)
    date = PartialDateDescriptor("on")
    chamber = models.CharField(
        max_length=10, choices=Chamber, blank=True, help_text="Blank when no chamber acted (a bill dying)."
    )
    classification = models.CharField(max_length=20, choices=ActionClassification)
    description = models.CharField(max_length=300, help_text="What happened, in one plain sentence.")
    source_url = models.URLField("source", max_length=1000, help_text="The source that reports the action.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(classification__in=ActionClassification.values),
                name="action_classification_valid",
            ),
            models.CheckConstraint(
                condition=Q(chamber__in=["", *Chamber.values]), name="action_chamber_valid"
            ),
            models.CheckConstraint(
                condition=Q(on_precision__in=Precision.values), name="action_on_has_precision"
            ),
            # The same action is not recorded twice.
            models.UniqueConstraint(
                fields=["resolution", "on", "classification", "chamber"], name="action_unique_per_day"
            ),
        ]
        indexes = [
            # New actions of published measures, for the feeds: Action.objects.published().order_by("-created_at").
            models.Index(fields=["-created_at"], name="action_recent"),
        ]

    def __str__(self):
        return f"{self.date}: {self.description}"

    def get_absolute_url(self):
        return f"{self.resolution.get_absolute_url()}#action-{self.pk}"

    @property
    def step(self):
        """This action as the stage rules read it."""
        return stages.Step(
            self.on, self.on_precision, self.classification, self.chamber, self.description, self.pk or 0
        )

    @property
    def headline(self):
        """ "S. 725 passed the Senate": a feed entry's title."""
        resolution = self.resolution
        name = resolution.identifier or resolution.title
        jurisdiction = resolution.jurisdiction
        state = jurisdiction.state.usps if jurisdiction.state else None
        where = stages.chamber_name(self.chamber, state)
        verb = stages.Classification(self.classification).label.lower()  # "passed", "signed", ...
        if not where:
            return f"{name} {verb}"
        if self.classification == ActionClassification.PASSAGE:
            return f"{name} passed {where}"
        if self.classification == ActionClassification.INTRODUCTION:
            return f"{name} introduced in {where}"
        if self.classification in (
            ActionClassification.EXECUTIVE_SIGNATURE,
            ActionClassification.EXECUTIVE_VETO,
        ):
            return f"{name} {verb} by {where}"
        return f"{name} {verb}"


_progress_deferred = contextvars.ContextVar("progress_deferred", default=False)


@contextlib.contextmanager
def deferring_progress():
    """Write several actions of a measure without storing its stage after each one.

    Halfway through, the actions may contradict the status (a signature corrected into a
    veto while the status goes from adopted to failed), which the database refuses. The
    caller stores the stage once at the end: by saving the measure, or with
    `Resolution.objects.filter(...).refresh_progress()`.
    """
    token = _progress_deferred.set(True)
    try:
        yield
    finally:
        _progress_deferred.reset(token)


def _refresh_progress_of_action(sender, instance, origin=None, **kwargs):
    """An action saved or deleted: its measure's stored stage follows (not when the measure itself goes)."""
    if _progress_deferred.get():
        return
    if isinstance(origin, Resolution) or (isinstance(origin, models.QuerySet) and origin.model is Resolution):
        return
    Resolution.objects.filter(pk=instance.resolution_id).refresh_progress()


models.signals.post_save.connect(
    _refresh_progress_of_action, sender=Action, dispatch_uid="action-progress-save"
)
models.signals.post_delete.connect(
    _refresh_progress_of_action, sender=Action, dispatch_uid="action-progress-delete"
)


class Submission(models.Model):
    """What a member of the public told us: a new measure, or a correction to a published record.

    Never shown publicly. Staff accept it (a draft resolution is made from it, which a publisher
    publishes after checking) or reject it with a reason.
    """

    class Review(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    state = models.CharField("state or territory", max_length=2)
    jurisdiction_name = models.CharField("city, county or district", max_length=200)
    body = models.CharField("adopting body", max_length=200, blank=True)
    date_text = models.CharField(
        "date",
        max_length=10,
        blank=True,
        help_text="As given: a year (2022), a month (2022-09) or a day (2022-04-18).",
    )
    url = models.URLField("link to the text or a news report", max_length=1000)
    description = models.TextField("what it says", max_length=2000, blank=True)
    email = models.EmailField("contact email", blank=True, help_text="Never published.")
    resolution = models.ForeignKey(
        Resolution,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="corrections",
        help_text="For a correction: the published record it is about.",
    )
    client_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="A keyed hash of the sender's network address: spots repeat senders without storing it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(max_length=8, choices=Review, default=Review.PENDING)
    reason = models.TextField(blank=True, help_text="Why it was rejected, or a note on what was done.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_resolution = models.ForeignKey(
        Resolution,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="from_submissions",
        help_text="The draft made from this submission when it was accepted.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "rejected"]), name="submission_status_valid"
            ),
        ]

    def __str__(self):
        what = "Correction" if self.resolution_id else "Report"
        return f"{what}: {self.jurisdiction_name}, {self.state}"

    @property
    def is_correction(self):
        return self.resolution_id is not None

    def review(self, status, by, reason="", created_resolution=None):
        """Record staff's decision, with who and when; its history keeps every decision."""
        self.status = status
        self.reason = reason
        self.reviewed_by = by
        self.reviewed_at = timezone.now()
        if created_resolution is not None:
            self.created_resolution = created_resolution
        self._change_reason = f"{self.Review(status).label} by {by.get_username()}"
        self.save()

    def matching_jurisdiction(self):
        """The jurisdiction the report names, when exactly one in its state has that name (any case)."""
        state = Jurisdiction.objects.filter(level=Level.STATE, usps=self.state).first()
        if state is None:
            return None
        wanted = name_key(" ".join(self.jurisdiction_name.split()))
        if wanted == name_key(state.name):
            return state
        candidates = Jurisdiction.objects.filter(parent=state).only("id", "name", "level")
        found = [j for j in candidates if name_key(j.name) == wanted]
        if not found:  # "Albany" for "Albany County"
            found = [
                j for j in candidates if j.level == Level.COUNTY and name_key(j.name) == f"{wanted} county"
            ]
        return found[0] if len(found) == 1 else None


class DataVersion(models.Model):
    """A single row: the version of the public data. See recognition/versioning.py.

    Every save or delete of a jurisdiction, resolution or source replaces the
    token, in the same transaction as the change.
    """

    SINGLETON = 1

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="dataversion_single_row")]

    def __str__(self):
        return f"{self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


# --- Follow by email (recognition/alerts.py) -------------------------------------------------------


class SubscriberQuerySet(models.QuerySet):
    def receiving(self):
        """Addresses that may be sent news: confirmed, and not unsubscribed."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)

    def forgettable(self, now=None):
        """Addresses to delete: unsubscribed for more than 30 days, or never confirmed within 2 days."""
        now = now or timezone.now()
        return self.filter(
            Q(unsubscribed_at__lt=now - SUBSCRIBER_RETENTION)
            | Q(confirmed_at__isnull=True, created_at__lt=now - CONFIRMATION_WINDOW)
        )


SUBSCRIBER_RETENTION = datetime.timedelta(days=30)
CONFIRMATION_WINDOW = datetime.timedelta(hours=48)


class Subscriber(models.Model):
    """An email address that follows something. Nothing else about the person is kept.

    A row appears only when its first confirmation link is used; unsubscribing keeps it
    30 days (so a mistaken click can be undone by following again), then it is deleted.
    """

    email = models.EmailField(max_length=254, unique=True, help_text="Kept in lower case.")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # One row per address whatever its case: "Ann@X.org" and "ann@x.org" are one person.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="subscriber_email_lower_case"),
            models.CheckConstraint(condition=~Q(email=""), name="subscriber_email_not_empty"),
        ]

    def __str__(self):
        return self.email

    @property
    def is_receiving(self):
        return self.confirmed_at is not None and self.unsubscribed_at is None


class FollowTarget(models.TextChoices):
    JURISDICTION = "jurisdiction", "A state, county, city or district"
    MEASURE = "measure", "A measure"
    SEARCH = "search", "A search"


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "As it happens"
    WEEKLY = "weekly", "Weekly digest"


# The longest search kept: the list's own parameters, URL-encoded, fit well within it.
MAX_FOLLOWED_SEARCH_LENGTH = 1000


class FollowQuerySet(models.QuerySet):
    def receiving(self):
        """Follows of confirmed addresses that have not unsubscribed."""
        return self.filter(subscriber__confirmed_at__isnull=False, subscriber__unsubscribed_at__isnull=True)


class Follow(models.Model):
    """What an address follows: a jurisdiction (with what lies in it), a measure, or a search of the list.

    A search is kept as the list's own query string, normalised by the same FilterSet the
    list uses (recognition/alerts.py), so it matches exactly what `/resolutions/?<search>` lists.
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="follows")
    target = models.CharField(max_length=12, choices=FollowTarget)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    resolution = models.ForeignKey(
        Resolution, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    search = models.CharField(max_length=MAX_FOLLOWED_SEARCH_LENGTH, blank=True)
    frequency = models.CharField(max_length=9, choices=Frequency, default=Frequency.IMMEDIATE)
    created_at = models.DateTimeField(default=timezone.now)

    objects = FollowQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(target__in=FollowTarget.values), name="follow_target_valid"),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="follow_frequency_valid"
            ),
            # Exactly the field its target names is set.
            models.CheckConstraint(
                condition=Q(
                    target=FollowTarget.JURISDICTION,
                    jurisdiction__isnull=False,
                    resolution__isnull=True,
                    search="",
                )
                | Q(
                    target=FollowTarget.MEASURE,
                    jurisdiction__isnull=True,
                    resolution__isnull=False,
                    search="",
                )
                | (
                    Q(target=FollowTarget.SEARCH, jurisdiction__isnull=True, resolution__isnull=True)
                    & ~Q(search="")
                ),
                name="follow_one_target",
            ),
            # Following the same thing twice changes its frequency instead.
            models.UniqueConstraint(
                fields=["subscriber", "jurisdiction"],
                condition=Q(jurisdiction__isnull=False),
                name="follow_unique_jurisdiction",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "resolution"],
                condition=Q(resolution__isnull=False),
                name="follow_unique_measure",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "search"], condition=~Q(search=""), name="follow_unique_search"
            ),
        ]
        indexes = [
            # Who follows the places a new item is in:
            # Follow.objects.receiving().filter(jurisdiction_id__in=[measure's place, its county, its state]).
            models.Index(
                fields=["jurisdiction"],
                condition=Q(jurisdiction__isnull=False),
                name="follow_by_jurisdiction",
            ),
            # Who follows the measure a new action belongs to: Follow.objects.filter(resolution_id__in=[...]).
            models.Index(
                fields=["resolution"], condition=Q(resolution__isnull=False), name="follow_by_measure"
            ),
        ]

    def __str__(self):
        if self.target == FollowTarget.JURISDICTION:
            return str(self.jurisdiction)
        if self.target == FollowTarget.MEASURE:
            return str(self.resolution)
        return f"Search: {self.search}"


class AlertItemQuerySet(models.QuerySet):
    def since(self, moment):
        return self.filter(created_at__gt=moment)


class AlertItem(models.Model):
    """News to send: a measure when it is first published, or an action recorded on a published measure.

    Written when the change is saved (recognition/alerts.py); the sent-log refers to it, so an
    item is sent to each address once, however many follows match and however often a task runs.
    A measure unpublished and published again is not news a second time.
    """

    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = AlertItemQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["resolution"], condition=Q(action__isnull=True), name="alertitem_measure_once"
            ),
            models.UniqueConstraint(
                fields=["action"], condition=Q(action__isnull=False), name="alertitem_action_once"
            ),
        ]
        indexes = [
            # The weekly digest's window: AlertItem.objects.since(a week ago).
            models.Index(fields=["created_at"], name="alertitem_recent"),
        ]

    def __str__(self):
        return f"{'Action' if self.action_id else 'Published'}: {self.resolution_id}"


class Delivery(models.Model):
    """The sent-log: this item went (or is claimed to go) to this address. Once: the database says so.

    `claim` names the run that inserted the row, so a run sends exactly the rows it inserted,
    never one another run claimed first (see recognition/alerts.py for the trade-off).
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    item = models.ForeignKey(AlertItem, on_delete=models.CASCADE, related_name="deliveries")
    claim = models.UUIDField(editable=False)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "item"], name="delivery_once_per_address_and_item"),
        ]
        indexes = [
            # What one run claimed: Delivery.objects.filter(claim=run, subscriber_id__in=[...]).
            models.Index(fields=["claim"], name="delivery_claim"),
        ]

    def __str__(self):
        return f"{self.item} to {self.subscriber_id}"


# --- Tallies: what the maps count, kept by PostgreSQL in the transaction of each change ---------------
# Triggers (migration 0012) keep the tallies below equal to what they summarise, statement by statement,
# so the national and state maps read a few thousand rows instead of deriving them from every measure;
# the county groups (0018) are counted again from them, and from the counties, when a change commits.
# SQLite has no triggers here: pages read the measures themselves there (recognition/tallies.py).


class JurisdictionTally(models.Model):
    """How many published, adopted measures a jurisdiction has (only jurisdictions with one)."""

    jurisdiction = models.OneToOneField(Jurisdiction, on_delete=models.CASCADE, primary_key=True)
    # Not PositiveIntegerField: the triggers add signed changes (ON CONFLICT), and rows reaching 0 are deleted.
    adopted = models.IntegerField()

    def __str__(self):
        return f"{self.jurisdiction_id}: {self.adopted}"


class CountyTally(models.Model):
    """Per state and county: how many counties, places and districts there have adopted a published
    measure. `fips` is "" for places and districts whose county is unknown (the state's totals count them)."""

    usps = models.CharField(max_length=2)
    fips = models.CharField(max_length=5, blank=True)
    counties = models.PositiveIntegerField()
    places = models.PositiveIntegerField()
    districts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["usps", "fips"], name="countytally_one_row_per_county")
        ]

    def __str__(self):
        return f"{self.usps} {self.fips or '(no county)'}: {self.counties}/{self.places}/{self.districts}"


class CountyGroup(models.Model):
    """The counties of a state (50 states and DC, counties with a FIPS code) that share what acted there:
    the county itself (`county_acted`), else a city, town or district in it (`locality_acted`), else
    nothing. What the national map colours and counts, read as about 100 rows instead of derived from
    3,200 counties and their tallies. Kept by PostgreSQL at each commit (migration 0018)."""

    usps = models.CharField(max_length=2)
    county_acted = models.BooleanField()
    locality_acted = models.BooleanField()
    counties = models.PositiveIntegerField()
    population = models.PositiveBigIntegerField()  # of the counties with a figure
    with_population = models.PositiveIntegerField()
    without_population = models.TextField(blank=True)  # FIPS of the counties with no figure, space-separated
    # The counties the atlas draws, in FIPS order: their codes (space-separated) and outlines joined.
    drawn = models.TextField(blank=True)
    outlines = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["usps", "county_acted", "locality_acted"], name="countygroup_one_row_per_group"
            ),
            models.CheckConstraint(
                condition=~Q(county_acted=True, locality_acted=True), name="countygroup_acted_once"
            ),
        ]

    def __str__(self):
        return f"{self.usps} county {self.county_acted} locality {self.locality_acted}: {self.counties}"


class YearTally(models.Model):
    """Published measures adopted in each year (with a known date): state-level ones and local ones apart."""

    series = models.CharField(max_length=5, choices=[("state", "state"), ("local", "local")])
    year = models.PositiveIntegerField()
    adopted = models.IntegerField()  # as JurisdictionTally.adopted

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="yeartally_one_row_per_year"),
        ]

    def __str__(self):
        return f"{self.series} {self.year}: {self.adopted}"


class FacetTally(models.Model):
    """Published measures by everything the list's filters test but the text and the session: state, level,
    kind, status, stored stage, adoption year (0 when unknown) and, for a stage "adopted", the effective
    date that turns it "in force". A few thousand rows from which every facet count of a search without
    text is summed. The key's unique index (NULLS NOT DISTINCT) is migration 0014's."""

    state = models.CharField(max_length=2, blank=True)
    level = models.CharField(max_length=10, choices=Level)
    kind = models.CharField(max_length=20, choices=Kind)
    status = models.CharField(max_length=12, choices=Status)
    stage = models.CharField(max_length=16, choices=Stage)
    year = models.PositiveIntegerField()
    effective_on = models.DateField(null=True)
    effective_on_precision = models.CharField(max_length=5, blank=True)
    measures = models.IntegerField()  # as JurisdictionTally.adopted

    def __str__(self):
        return (
            f"{self.state} {self.level} {self.kind} {self.status} {self.stage} {self.year}: {self.measures}"
        )
