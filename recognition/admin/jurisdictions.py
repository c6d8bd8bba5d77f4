"""Jurisdictions: superusers keep the reference geography; other staff add and correct cities and districts."""

from django.contrib import admin
from django.db.models import Q

from ..filters import STATE_CHOICES
from ..models import LOCALITY_LEVELS, Jurisdiction, Level, in_states
from ..roles import can_publish
from .base import HistoryAdmin, StateListFilter

STATE_CODES = frozenset(code for code, _name in STATE_CHOICES)


@admin.register(Jurisdiction)
class JurisdictionAdmin(HistoryAdmin):
    """Superusers maintain the reference geography; other staff add and correct cities and districts."""

    list_display = ["name", "level", "parent", "county", "fips", "usps", "population"]
    list_filter = ["level", StateListFilter, "is_territory"]
    search_fields = ["name", "fips", "usps", "parent__usps"]
    list_select_related = ["parent", "county"]
    autocomplete_fields = ["county"]
    readonly_fields = ["shape", "shape_viewbox"]
    full_fieldsets = [
        (None, {"fields": ["level", "name", "slug", "parent", "county"]}),
        ("Codes", {"fields": ["fips", "usps", "is_territory"]}),
        ("Population", {"fields": ["population", "population_year"]}),
        ("Map shape", {"classes": ["collapse"], "fields": ["shape_viewbox", "shape"]}),
    ]
    locality_fieldsets = [
        (
            None,
            {
                "description": "A city, town or 911 district, under its state and the county it lies in "
                "(the county's map shows it). States and counties are reference data: only an "
                "administrator changes them.",
                "fields": ["level", "name", "parent", "county"],
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        return self.full_fieldsets if request.user.is_superuser else self.locality_fieldsets

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ["name"]} if request.user.is_superuser else {}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # Nothing hangs below a county: a jurisdiction's parent is the nation or a state.
            levels = [Level.NATION, Level.STATE] if request.user.is_superuser else [Level.STATE]
            kwargs["queryset"] = Jurisdiction.objects.filter(level__in=levels).order_by("name")
            if not request.user.is_superuser:
                kwargs["label"] = "State"
                kwargs["help_text"] = "The state or territory it is in."
        if db_field.name == "county":
            kwargs["help_text"] = "Type the county's name; it must be in the state above."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "level" and not request.user.is_superuser:
            kwargs["choices"] = [
                ("", "---------"),
                *((level.value, level.label) for level in LOCALITY_LEVELS),
            ]
            kwargs["help_text"] = (
                "“City or town” for a city council; “District” for a 911 communications district."
            )
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        """Also "Escambia County, AL", "Escambia, AL" and "escambia al": a name, then a state's code.

        The jurisdiction box on the resolution form searches here, and staff type places as the
        sources write them.
        """
        words = search_term.replace(",", " ").split()
        if len(words) >= 2 and words[-1].upper() in STATE_CODES:
            name = " ".join(words[:-1])
            found = queryset.filter(in_states([words[-1]])).filter(
                Q(name__icontains=name) | Q(name__iexact=f"{name} County")
            )
            return found, False
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or request.user.is_superuser:
            return allowed
        # Renaming or moving a place changes every published record that names it: a publisher's call.
        cited = not can_publish(request.user) and obj.resolutions.filter(published=True).exists()
        return allowed and obj.level in LOCALITY_LEVELS and not cited

    def save_model(self, request, obj, form, change):
        if not obj.slug:  # the form has no slug box for most staff: the URL is made from the name
            obj.slug = obj.unused_slug()
        super().save_model(request, obj, form, change)
