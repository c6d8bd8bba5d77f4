"""JSON shapes of the API. Every link is absolute; unknown values are null, never invented."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from recognition import status as rules
from recognition.dates import Precision
from recognition.models import LOCAL_LEVELS, Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status

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


@extend_schema_field({"type": "string", "format": "uri"})
class AbsoluteURLField(serializers.Field):
    """The object's HTML page on this site, as an absolute URL."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
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


class ResolutionSerializer(serializers.ModelSerializer):
    """A published measure: who acted, what, when (as precisely as the sources say), and the sources."""

    url = AbsoluteURLField(help_text="The record's permanent page on this site.")
    api_url = serializers.SerializerMethodField(help_text="This record in the API.")
    jurisdiction = JurisdictionSummarySerializer(read_only=True)
    state = StateCodeField(source="jurisdiction")
    level = serializers.ChoiceField(source="jurisdiction.level", choices=Level.choices, read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    confidence = serializers.ChoiceField(choices=Confidence.choices, read_only=True)
    introduced_on = PartialDateField(source="introduced")
    introduced_on_precision = PrecisionField()
    adopted_on = PartialDateField(source="adopted")
    adopted_on_precision = PrecisionField()
    effective_on = PartialDateField(source="effective")
    effective_on_precision = PrecisionField()
    sources = SourceSerializer(many=True, read_only=True)

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
            "last_verified_on",
            "confidence",
            "sources",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_api_url(self, resolution):
        return reverse("api:resolution", kwargs={"pk": resolution.pk}, request=self.context.get("request"))


class StateCountsSerializer(serializers.Serializer):
    state_resolutions = serializers.IntegerField(
        help_text="Published measures by the state itself (any status: adopted, pending or failed)."
    )
    local_jurisdictions_acted = serializers.IntegerField(
        help_text="Counties, cities, towns and districts in the state with an adopted, published measure."
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
