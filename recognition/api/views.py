"""Read-only API views. Each runs a fixed number of queries, whatever the size of the data.

* /api/resolutions/: count + page + sources (3 queries), filtered by the list
  page's own `ResolutionFilter` through DjangoFilterBackend.
* /api/resolutions/<id>/: the record + its sources (2 queries).
* /api/actions/: count + page, each action with its measure and jurisdiction (2 queries).
* /api/jurisdictions/: count + page (2 queries).
* /api/states/: states + measures + two counts (4 queries), statuses from
  `recognition.status` in one pass; `?as_of=` gives them as they stood on a past date.
"""

import copy

import django_filters
from django.db.models import Count
from django.utils import timezone
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from recognition import past, progress
from recognition import status as rules
from recognition.filters import MAX_QUERY_LENGTH, STATE_CHOICES, ActionFilter, ResolutionFilter
from recognition.models import Action, Jurisdiction, Level, Resolution, in_states

from .serializers import (
    ActionSerializer,
    JurisdictionSerializer,
    ResolutionSerializer,
    StateSerializer,
    absolute,
)


class CopyingDjangoFilterExtension(DjangoFilterExtension):
    """Documents DjangoFilterBackend's filters from copies, leaving the shared FilterSets untouched.

    drf-spectacular 0.30 reads `filter.field` on the FilterSet class's own filters
    (for `null_label`), which builds and caches a form field before any model is
    attached, so without a label. Every later FilterSet deep-copies that field: after
    the first /api/schema/ request the list page, the CSV and the feeds would show
    "level" instead of "Jurisdiction level". Registered by being defined (priority 1
    beats the built-in extension); tests/api/test_schema.py checks it.
    """

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        filter_field = copy.deepcopy(filter_field)
        return super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)


BAD_REQUEST = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"state": ["Select a valid choice. ZZ is not one of the available choices."]},
    },
    description="A filter parameter has a value that cannot be used: the messages, by parameter name.",
)
NOT_FOUND = OpenApiResponse(
    response=inline_serializer(name="NotFound", fields={"detail": serializers.CharField()}),
    description="No such published record, or no such page.",
)


@extend_schema(
    summary="Published measures, filtered",
    description=(
        "The same search as the /resolutions/ page: the same parameters, the same rows in the same "
        "order. `state`, `level`, `kind`, `status` and `stage` may be repeated (`?state=AL&state=TX`). "
        "Dates in `adopted_after` and `adopted_before` are `YYYY-MM-DD`; a date known only to the "
        "month or year counts from its first day. `ordering=-latest_action` puts the latest action "
        "first; measures with no recorded action come last whichever way."
    ),
    responses={200: ResolutionSerializer(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
)
class ResolutionList(generics.ListAPIView):
    serializer_class = ResolutionSerializer
    filterset_class = ResolutionFilter  # adds the jurisdiction join and the state_code annotation
    queryset = Resolution.objects.published().prefetch_related("sources")


@extend_schema(
    summary="One published measure",
    responses={200: ResolutionSerializer, 404: NOT_FOUND},
)
class ResolutionDetail(generics.RetrieveAPIView):
    serializer_class = ResolutionSerializer
    queryset = Resolution.objects.published().with_jurisdiction().prefetch_related("sources")
    filter_backends = []  # the list's filters say nothing about one record


@extend_schema(
    summary="Actions of published measures",
    description=(
        "Every recorded action of every published measure: by measure, then oldest first, as each "
        "measure's history reads. `resolution` (a measure's id) and `classification` may be repeated."
    ),
    responses={200: ActionSerializer(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
)
class ActionList(generics.ListAPIView):
    serializer_class = ActionSerializer
    filterset_class = ActionFilter  # adds the order
    queryset = Action.objects.published().select_related("resolution__jurisdiction__parent")


class StateCodeFilter(django_filters.MultipleChoiceFilter):
    """`state=TX`: the state itself and every county, city and district in it."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(in_states(value))


class JurisdictionFilter(django_filters.FilterSet):
    state = StateCodeFilter(
        choices=STATE_CHOICES, help_text="USPS code: the state and everything in it. Repeatable."
    )
    level = django_filters.MultipleChoiceFilter(choices=Level.choices, help_text="Repeatable.")
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        max_length=MAX_QUERY_LENGTH,
        help_text="Part of the name, any case.",
    )

    class Meta:
        model = Jurisdiction
        fields = ["state", "level", "q"]


@extend_schema(
    summary="Jurisdictions: the nation, states and territories, counties, cities and districts",
    responses={200: JurisdictionSerializer(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
)
class JurisdictionList(generics.ListAPIView):
    serializer_class = JurisdictionSerializer
    filterset_class = JurisdictionFilter
    queryset = Jurisdiction.objects.select_related("parent", "county").order_by("name", "pk")


def coverage_row(state):
    """A state's counties and people by coverage (the one county rule), as the state page shows them."""
    people = state.people
    return {
        "counties": {str(coverage): n for coverage, n in state.counties.items()},
        "people": None
        if people is None
        else {
            "total": people.total,
            "under_law": people.under_law,
            "covered": people.covered,
            "partly": people.partly,
            "resolution": people.resolution,
            "none": people.none,
        },
    }


def state_rows(request, as_of=None):
    """Every state and territory with its status, counts and coverage (five queries, whatever the data),
    today or as they stood on the past date `as_of`."""
    states = list(
        Jurisdiction.objects.states().only(
            "level", "name", "usps", "fips", "is_territory", "population", "population_year"
        )
    )
    inputs = progress.status_inputs(as_of)
    results = rules.state_results(inputs.for_states, [state.usps for state in states])
    state_status = {usps: result.status for usps, result in results.items()}
    fips_by_state, county_population, _ = progress.county_index(with_territories=True)
    counties = rules.county_standings(fips_by_state, state_status, *inputs.acted_counties())
    coverage = progress.population_coverage(
        states,
        state_status,
        {fips: coverage for fips, (_status, coverage) in counties.items()},
        county_population,
    ).states
    local_acted = inputs.local_acted_by_state()
    own = Resolution.objects.published() if as_of is None else Resolution.objects.published().dated_by(as_of)
    state_measures = dict(
        own.filter(jurisdiction__level=Level.STATE)
        .values_list("jurisdiction__usps")
        .annotate(n=Count("id"))
        .order_by()
    )
    resolutions_url = reverse("api:resolutions", request=request)
    rows = []
    for state in states:
        status = results[state.usps].status
        rows.append(
            {
                "usps": state.usps,
                "fips": state.fips,
                "name": state.name,
                "is_territory": state.is_territory,
                "status": status.value,
                "status_label": status.label,
                "counts": {
                    "state_resolutions": state_measures.get(state.usps, 0),
                    "local_jurisdictions_acted": local_acted.get(state.usps, 0),
                },
                "population": state.population,
                "population_year": state.population_year,
                "coverage": coverage_row(coverage[state.usps]),
                "url": absolute(request, state.get_absolute_url()),
                "resolutions_api_url": f"{resolutions_url}?state={state.usps}",
            }
        )
    return rows


AS_OF_HELP = (
    "A past date, `YYYY-MM-DD` (from 1900-01-01 to today): every status, count and coverage as it "
    "stood that day. " + " ".join(past.RULES) + " Without it, or with today's date: today."
)


@extend_schema(
    summary="Every state and territory, with its status on the national map",
    description=" ".join(f"`{status}`: {status.rule}" for status in rules.StateStatus),
    parameters=[OpenApiParameter(past.PARAMETER, OpenApiTypes.DATE, description=AS_OF_HELP)],
    responses={200: StateSerializer(many=True), 400: BAD_REQUEST},
)
class StateList(APIView):
    """Not paginated: 56 rows. No filters (a plain APIView, so the browsable API offers none)."""

    def get(self, request):
        try:
            as_of = past.parse(request.query_params.get(past.PARAMETER, ""), timezone.localdate())
        except past.AsOfError as error:
            return Response({past.PARAMETER: [str(error)]}, status=400)
        return Response(StateSerializer(state_rows(request, as_of), many=True).data)


@extend_schema(
    summary="Links to every endpoint",
    responses={
        200: inline_serializer(
            name="ApiRoot",
            fields={
                name: serializers.URLField()
                for name in ("resolutions", "actions", "jurisdictions", "states", "schema", "docs")
            },
        )
    },
)
class ApiRoot(APIView):
    """The API's endpoints, its OpenAPI schema and its documentation."""

    def get(self, request):
        names = {
            "resolutions": "api:resolutions",
            "actions": "api:actions",
            "jurisdictions": "api:jurisdictions",
            "states": "api:states",
            "schema": "api:schema",
            "docs": "api:docs",
        }
        return Response({key: reverse(name, request=request) for key, name in names.items()})
