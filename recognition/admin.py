from django.contrib import admin
from django.db.models import Q

from .models import Jurisdiction, Level, Resolution, Source


class StateListFilter(admin.SimpleListFilter):
    """Filter by state: the state itself and everything inside it."""

    title = "state"
    parameter_name = "state"
    # Path from the filtered model to its jurisdiction ("" when it is the jurisdiction).
    jurisdiction_path = ""

    def lookups(self, request, model_admin):
        return Jurisdiction.objects.states().values_list("usps", "name")

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        prefix = self.jurisdiction_path
        return queryset.filter(
            Q(**{f"{prefix}level": Level.STATE, f"{prefix}usps": self.value()})
            | Q(**{f"{prefix}parent__level": Level.STATE, f"{prefix}parent__usps": self.value()})
        )


class ResolutionStateListFilter(StateListFilter):
    jurisdiction_path = "jurisdiction__"


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "parent", "fips", "usps", "population"]
    list_filter = ["level", StateListFilter, "is_territory"]
    search_fields = ["name", "fips", "usps", "parent__usps"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent", "county"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["shape", "shape_viewbox"]
    fieldsets = [
        (None, {"fields": ["level", "name", "slug", "parent", "county"]}),
        ("Codes", {"fields": ["fips", "usps", "is_territory"]}),
        ("Population", {"fields": ["population", "population_year"]}),
        ("Map shape", {"classes": ["collapse"], "fields": ["shape_viewbox", "shape"]}),
    ]


class SourceInline(admin.TabularInline):
    model = Source
    extra = 1
    fields = ["url", "title", "publisher", "accessed_on"]


@admin.register(Resolution)
class ResolutionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "jurisdiction",
        "kind",
        "status",
        "adopted_on",
        "published",
        "confidence",
        "last_verified_on",
    ]
    list_filter = [
        ResolutionStateListFilter,
        "jurisdiction__level",
        "kind",
        "status",
        "published",
        "confidence",
    ]
    search_fields = ["title", "identifier", "body", "summary", "jurisdiction__name"]
    list_select_related = ["jurisdiction", "jurisdiction__parent"]
    autocomplete_fields = ["jurisdiction"]
    inlines = [SourceInline]
    date_hierarchy = "adopted_on"
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        ("What", {"fields": ["kind", "status", "identifier", "title", "summary"]}),
        ("Where", {"fields": ["jurisdiction", "body"]}),
        (
            "When",
            {
                "description": "Keep the precision the source gives: a year, a month or a day.",
                "fields": [
                    ("introduced_on", "introduced_on_precision"),
                    ("adopted_on", "adopted_on_precision"),
                    ("effective_on", "effective_on_precision"),
                ],
            },
        ),
        (
            "Publication",
            {"fields": ["published", "confidence", "last_verified_on", "created_at", "updated_at"]},
        ),
    ]
