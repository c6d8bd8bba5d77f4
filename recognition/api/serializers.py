"""JSON shapes of the API. Every link is absolute; unknown values are null, never invented."""

from django.urls import reverse as page_reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from recognition import citations, stages
from recognition import status as rules
from recognition.addresses import Addresses
from recognition.dates import Precision
from recognition.models import (
    LOCAL_LEVELS,
    Action,
    ActionClassification,
    Chamber,
    Confidence,
    Jurisdiction,
    Kind,
    LegislativeSession,
    Level,
    Resolution,
    Source,
    Stage,
    Status,
)

PARTIAL_DATE_SCHEMA = {
    "type": "string",
    "nullable": True,
    "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
    "example": "2022-04",
    "description": "A partial date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precise as the source; "
    "null when unknown.",
}
USPS_SCHEMA = {
    "type": "string",
    "nullable": True,
    "pattern": "^[A-Z]{2}$",
    "example": "TX",
    "description": "USPS code of the state or territory; null for the nation and federal measures.",
}


def absolute(request, path):
    return request.build_absolute_uri(path) if request is not None else path


class RequestAddresses:
    """The addresses a response names, built for its request (recognition/addresses.py): one pattern per
    kind of address rather than a `reverse()` per row."""

    def __init__(self, request):
        self.request = request
        self.addresses = Addresses()

    @classmethod
    def of(cls, field):
        """The one shared by every field of a serializer (they share its context: the request's)."""
        context = field.context
        found = context.get("_addresses")
        if found is None:
            found = context["_addresses"] = cls(context.get("request"))
        return found

    def page(self, obj):
        """The object's page on this site (an object with `page_route`), absolute."""
        viewname, kwargs = obj.page_route()
        return self.addresses(self._page, viewname, kwargs)

    def api(self, viewname, **kwargs):
        """An API address, as DRF's `reverse` gives it for this request."""
        return self.addresses(self._api, viewname, kwargs)

    def _page(self, viewname, kwargs):
        return absolute(self.request, page_reverse(viewname, kwargs=kwargs))

    def _api(self, viewname, kwargs):
        return reverse(viewname, kwargs=kwargs, request=self.request)


def state_code(jurisdiction):
    """The USPS code of the state a jurisdiction is in (its own for a state), or None.

    Needs the parent loaded with the jurisdiction (`select_related("parent")`).
    """
    if jurisdiction.level == Level.STATE:
        return jurisdiction.usps or None
    if jurisdiction.level in LOCAL_LEVELS and jurisdiction.parent_id:
        return jurisdiction.parent.usps or None
    return None


@extend_schema_field(PARTIAL_DATE_SCHEMA)
class PartialDateField(serializers.Field):
    """A `PartialDateDescriptor` (resolution.adopted, ...) as its ISO text: `2022`, `2022-04`, `2022-04-18`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.isoformat() if value else None


class PrecisionField(serializers.ChoiceField):
    """The precision of a partial date; the database stores "" when there is no date: null here."""

    def __init__(self, **kwargs):
        super().__init__(choices=Precision.choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class BlankAsNullURLField(serializers.URLField):
    """A URL that may be blank in the database (a source known only by its title): null here."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class BlankAsNullCharField(serializers.CharField):
    """Text the database stores as "" when there is none (no action recorded): null here."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice the database stores as "" when there is none (no chamber acted): null here."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices=choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


@extend_schema_field({"type": "string", "format": "uri"})
class AbsoluteURLField(serializers.Field):
    """The object's HTML page on this site, as an absolute URL."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        if hasattr(value, "page_route"):
            return RequestAddresses.of(self).page(value)
        return absolute(self.context.get("request"), value.get_absolute_url())


@extend_schema_field(USPS_SCHEMA)
class StateCodeField(serializers.Field):
    """The USPS code of the state a jurisdiction is in (the field's source is the jurisdiction)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return state_code(value)


class JurisdictionSummarySerializer(serializers.ModelSerializer):
    """A jurisdiction as a resolution names it."""

    state = StateCodeField()
    url = AbsoluteURLField(help_text="Its page on this site.")

    class Meta:
        model = Jurisdiction
        fields = ["id", "name", "level", "state", "fips", "url"]
        read_only_fields = fields


class JurisdictionSerializer(JurisdictionSummarySerializer):
    """A jurisdiction in /api/jurisdictions/."""

    county_fips = serializers.SerializerMethodField(
        help_text="For a city, town or district: the FIPS code of the county it lies in (null if unknown)."
    )

    class Meta(JurisdictionSummarySerializer.Meta):
        fields = [
            *JurisdictionSummarySerializer.Meta.fields,
            "county_fips",
            "is_territory",
            "population",
            "population_year",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "pattern": r"^\d{5}$"})
    def get_county_fips(self, jurisdiction):
        if jurisdiction.level in (Level.PLACE, Level.DISTRICT) and jurisdiction.county_id:
            return jurisdiction.county.fips
        return None


class SourceSerializer(serializers.ModelSerializer):
    url = BlankAsNullURLField(help_text="Link to the source; null for a source known only by its title.")
    archived_url = BlankAsNullURLField(
        help_text="A copy of the source in a web archive; null when none is known."
    )

    class Meta:
        model = Source
        fields = ["url", "title", "publisher", "accessed_on", "archived_url"]
        read_only_fields = fields


STAGE_HELP = (
    "Where the measure stands, from its recorded actions and its status. "
    + " ".join(f"`{stage}`: {stage.rule}" for stage in stages.Stage)
    + " A pending bill whose session has ended keeps the stage it reached: see `session_ended`."
)


class SessionSerializer(serializers.ModelSerializer):
    """The legislative session or Congress that holds a measure."""

    id = serializers.IntegerField(read_only=True, help_text="Its id: `?session=` on /api/resolutions/.")
    name = serializers.CharField(read_only=True, help_text="“119th Congress”, “2025-2026 Regular Session”.")
    start_on = serializers.DateField(read_only=True, help_text="The day it starts.")
    end_on = serializers.DateField(
        read_only=True, help_text="The day it ends; a pending bill not passed by then dies with it."
    )

    class Meta:
        model = LegislativeSession
        fields = ["id", "name", "start_on", "end_on"]
        read_only_fields = fields


_DATETIME = serializers.DateTimeField(read_only=True)  # its format and time zone, from the settings


def _text(value):
    return None if value is None else str(value)


def _iso(value):
    """A date or a PartialDate as ISO text (`2022-04-18`, `2022-04`, `2022`); None without one."""
    return value.isoformat() if value else None


class ResolutionSerializer(serializers.ModelSerializer):
    """A published measure: who acted, what, when (as precisely as the sources say), and the sources."""

    url = AbsoluteURLField(help_text="The record's permanent link: its page on this site.")
    api_url = serializers.SerializerMethodField(help_text="This record in the API.")
    jurisdiction = JurisdictionSummarySerializer(read_only=True)
    state = StateCodeField(source="jurisdiction")
    level = serializers.ChoiceField(source="jurisdiction.level", choices=Level.choices, read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    confidence = serializers.ChoiceField(
        choices=Confidence.choices,
        read_only=True,
        help_text="How well the record is verified: `high` (an official source, or two sources that agree) "
        "or `medium` (one reliable secondary source). Records of `low` confidence are never published.",
    )
    last_verified_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="When the record was last checked against its sources; null when never.",
    )
    introduced_on = PartialDateField(source="introduced")
    introduced_on_precision = PrecisionField()
    adopted_on = PartialDateField(source="adopted")
    adopted_on_precision = PrecisionField()
    effective_on = PartialDateField(source="effective")
    effective_on_precision = PrecisionField()
    stage = serializers.ChoiceField(
        choices=Stage.choices, source="current_stage", read_only=True, help_text=STAGE_HELP
    )
    latest_action = BlankAsNullCharField(
        help_text="Its latest recorded action, in one sentence; null when no action is recorded. "
        "Every action: `actions_api_url`."
    )
    latest_action_on = PartialDateField(
        source="latest_action_date", help_text="When its latest action happened; null when there is none."
    )
    latest_action_on_precision = PrecisionField(
        help_text="How precise `latest_action_on` is; null without it."
    )
    session = SessionSerializer(
        read_only=True,
        allow_null=True,
        help_text="The legislative session or Congress that holds it; null when none is recorded "
        "(local measures have none).",
    )
    session_ended = serializers.BooleanField(
        read_only=True,
        help_text="True when it is pending and its session has ended: its outcome is not yet recorded "
        "(never assumed). Pages then say “Session ended; outcome not yet recorded”.",
    )
    actions_api_url = serializers.SerializerMethodField(help_text="Its actions in the API, oldest first.")
    sources = SourceSerializer(many=True, read_only=True)
    source_title = serializers.SerializerMethodField(
        help_text="The title of the record's primary source, the one its citation names: the first in "
        "`sources` with a link, else the first. Null when that source has no title."
    )

    class Meta:
        model = Resolution
        fields = [
            "id",
            "url",
            "api_url",
            "jurisdiction",
            "state",
            "level",
            "kind",
            "status",
            "body",
            "identifier",
            "title",
            "summary",
            "introduced_on",
            "introduced_on_precision",
            "adopted_on",
            "adopted_on_precision",
            "effective_on",
            "effective_on_precision",
            "stage",
            "latest_action",
            "latest_action_on",
            "latest_action_on_precision",
            "session",
            "session_ended",
            "last_verified_on",
            "confidence",
            "sources",
            "actions_api_url",
            "updated_at",
            # Appended after the fields clients already read.
            "source_title",
        ]
        read_only_fields = fields

    def to_representation(self, resolution):
        """The declared fields, written out. Read field by field through DRF, a page of 50 records was a
        third of the API's time. The declarations stay the contract (the schema is made from them); a
        test holds this equal to DRF's own reading of them, `generic_representation`."""
        addresses = RequestAddresses.of(self)
        jurisdiction = resolution.jurisdiction
        state = state_code(jurisdiction)
        session = resolution.session
        sources = resolution.sources.all()
        today = timezone.localdate()
        return {
            "id": resolution.pk,
            "url": addresses.page(resolution),
            "api_url": addresses.api("api:resolution", pk=resolution.pk),
            "jurisdiction": {
                "id": jurisdiction.pk,
                "name": _text(jurisdiction.name),
                "level": jurisdiction.level,
                "state": state,
                "fips": _text(jurisdiction.fips),
                "url": addresses.page(jurisdiction),
            },
            "state": state,
            "level": jurisdiction.level,
            "kind": resolution.kind,
            "status": resolution.status,
            "body": _text(resolution.body),
            "identifier": _text(resolution.identifier),
            "title": _text(resolution.title),
            "summary": _text(resolution.summary),
            "introduced_on": _iso(resolution.introduced),
            "introduced_on_precision": resolution.introduced_on_precision or None,
            "adopted_on": _iso(resolution.adopted),
            "adopted_on_precision": resolution.adopted_on_precision or None,
            "effective_on": _iso(resolution.effective),
            "effective_on_precision": resolution.effective_on_precision or None,
            "stage": str(resolution.stage_on(today)),
            "latest_action": resolution.latest_action or None,
            "latest_action_on": _iso(resolution.latest_action_date),
            "latest_action_on_precision": resolution.latest_action_on_precision or None,
            "session": session
            and {
                "id": session.pk,
                "name": _text(session.name),
                "start_on": _iso(session.start_on),
                "end_on": _iso(session.end_on),
            },
            "session_ended": resolution.session_ended_on(today),
            "last_verified_on": _iso(resolution.last_verified_on),
            "confidence": resolution.confidence,
            "sources": [
                {
                    "url": source.url or None,
                    "title": _text(source.title),
                    "publisher": _text(source.publisher),
                    "accessed_on": _iso(source.accessed_on),
                    "archived_url": source.archived_url or None,
                }
                for source in sources
            ],
            "actions_api_url": self.get_actions_api_url(resolution),
            "updated_at": _DATETIME.to_representation(resolution.updated_at),
            "source_title": self.get_source_title(resolution),
        }

    def generic_representation(self, resolution):
        """DRF's reading of the declared fields, for the test that holds the written-out one to it."""
        return super().to_representation(resolution)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_source_title(self, resolution):
        source = citations.primary_source(resolution)
        return (source.title if source else "") or None

    @extend_schema_field(OpenApiTypes.URI)
    def get_api_url(self, resolution):
        return RequestAddresses.of(self).api("api:resolution", pk=resolution.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_actions_api_url(self, resolution):
        return f"{RequestAddresses.of(self).api('api:actions')}?resolution={resolution.pk}"


class ActionSerializer(serializers.ModelSerializer):
    """Something that happened to a published measure: introduced, referred, passed a chamber, signed."""

    url = AbsoluteURLField(help_text="The action on its measure's page.")
    resolution = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The measure's id.")
    resolution_url = serializers.SerializerMethodField(help_text="The measure's page on this site.")
    resolution_api_url = serializers.SerializerMethodField(help_text="The measure in the API.")
    headline = serializers.CharField(
        read_only=True, help_text="The action in a phrase: “S. 725 passed the Senate”."
    )
    date = PartialDateField(help_text="When it happened, as precisely as the source says.")
    date_precision = PrecisionField(source="on_precision", help_text="How precise `date` is.")
    chamber = BlankAsNullChoiceField(
        Chamber.choices, help_text="Who acted; null when no chamber did (a bill dying with its session)."
    )
    classification = serializers.ChoiceField(
        choices=ActionClassification.choices,
        read_only=True,
        help_text="What the action did, in Open States' words.",
    )
    description = serializers.CharField(read_only=True, help_text="What happened, in one plain sentence.")
    source_url = serializers.URLField(read_only=True, help_text="The source that reports the action.")
    created_at = serializers.DateTimeField(read_only=True, help_text="When it was recorded here.")

    class Meta:
        model = Action
        fields = [
            "id",
            "url",
            "resolution",
            "resolution_url",
            "resolution_api_url",
            "headline",
            "date",
            "date_precision",
            "chamber",
            "classification",
            "description",
            "source_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_resolution_url(self, action):
        return RequestAddresses.of(self).page(action.resolution)

    @extend_schema_field(OpenApiTypes.URI)
    def get_resolution_api_url(self, action):
        return RequestAddresses.of(self).api("api:resolution", pk=action.resolution_id)


class StateCountsSerializer(serializers.Serializer):
    state_resolutions = serializers.IntegerField(
        help_text="Published measures by the state itself (any status: adopted, pending or failed); "
        "with `as_of`, those introduced or adopted on or before that day."
    )
    local_jurisdictions_acted = serializers.IntegerField(
        help_text="Counties, cities, towns and districts in the state with an adopted, published measure "
        "(with `as_of`, adopted on or before that day)."
    )


class CoverageCountsSerializer(serializers.Serializer):
    covered = serializers.IntegerField(help_text=rules.Coverage.COVERED.rule)
    partly = serializers.IntegerField(help_text=rules.Coverage.PARTLY.rule)
    resolution = serializers.IntegerField(help_text=rules.Coverage.RESOLUTION.rule)
    none = serializers.IntegerField(help_text=rules.Coverage.NONE.rule)


class CoveragePeopleSerializer(CoverageCountsSerializer):
    total = serializers.IntegerField(help_text="The state's population; the four parts add up to it.")
    under_law = serializers.IntegerField(
        help_text="Covered people whose state has a law (part of `covered`)."
    )


class StateCoverageSerializer(serializers.Serializer):
    counties = CoverageCountsSerializer(help_text="The state's counties by coverage.")
    people = CoveragePeopleSerializer(
        allow_null=True,
        help_text="People by coverage, each part a sum over counties (Census Vintage 2022); null for "
        "the territories, which have no figures.",
    )


class StateSerializer(serializers.Serializer):
    """A state or territory and its status on the national map."""

    usps = serializers.CharField()
    fips = serializers.CharField()
    name = serializers.CharField()
    is_territory = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=[(status.value, status.label) for status in rules.StateStatus],
        help_text=" ".join(f"`{status}`: {status.rule}" for status in rules.StateStatus),
    )
    status_label = serializers.CharField()
    counts = StateCountsSerializer()
    population = serializers.IntegerField(allow_null=True)
    population_year = serializers.IntegerField(allow_null=True)
    coverage = StateCoverageSerializer()
    url = serializers.URLField(help_text="The state's page on this site.")
    resolutions_api_url = serializers.URLField(help_text="The state's published measures in the API.")
