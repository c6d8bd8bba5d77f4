"""Legislative progress: a measure's actions (inline on its form, and a list to find one and its history), and
the legislative sessions that hold bills.

An action belongs to its measure: on a published measure only a publisher adds, changes or removes one, as
for sources. Every write of actions is checked against the measure's status first, so the database never
has to refuse a stage that contradicts it.
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from ..models import Action, Jurisdiction, LegislativeSession, Level, Status
from ..roles import can_publish
from .base import HistoryAdmin, RecordPartAdmin, RecordPartInline, published_and_locked
from .forms import ActionAdminForm, ActionFormSet, StandaloneActionForm

LEGISLATURES = [Level.NATION, Level.STATE]


def action_on_site(action):
    """Where an action is shown: on its measure's page, or for a draft on its preview (staff only)."""
    record = action.resolution
    page = record.get_absolute_url() if record.published else record.get_preview_url()
    return f"{page}#action-{action.pk}"


class ActionInline(RecordPartInline, admin.StackedInline):
    """Oldest first, as the measure's history reads; stacked, as sources are, so long sentences fit."""

    model = Action
    form = ActionAdminForm
    formset = ActionFormSet
    extra = 1
    fields = [("date", "chamber", "classification"), "description", ("source_url", "changes")]
    readonly_fields = ["changes"]

    def get_queryset(self, request):
        """In the order the public page lists them (a month-known action after the days of its month)."""
        return super().get_queryset(request).chronological()

    def view_on_site(self, obj):
        return action_on_site(obj)


def session_label(session):
    """ "United States: 119th Congress (2025-01-03 to 2027-01-03)": sessions of every legislature in one box."""
    return f"{session.jurisdiction.name}: {session.name} ({session.start_on} to {session.end_on})"


def session_choices():
    """The sessions a measure may name, the nation's (Congresses) first, then each state's, latest first."""
    return (
        LegislativeSession.objects.filter(jurisdiction__level__in=LEGISLATURES)
        .select_related("jurisdiction")
        .order_by("jurisdiction__level", "jurisdiction__name", "-start_on")
    )


@admin.register(Action)
class ActionAdmin(RecordPartAdmin):
    """Actions are entered on their measure's form; this list is for finding one and its history."""

    form = StandaloneActionForm
    list_display = ["__str__", "resolution", "chamber", "classification"]
    list_filter = ["classification", "chamber"]
    search_fields = ["description", "resolution__title", "resolution__identifier"]
    list_select_related = ["resolution", "resolution__jurisdiction"]
    autocomplete_fields = ["resolution"]
    fields = ["resolution", "date", "chamber", "classification", "description", "source_url"]
    # No bulk delete: each removal is checked against its measure's status (below), or made on its form.
    actions = None

    def view_on_site(self, obj):
        return action_on_site(obj)

    def get_readonly_fields(self, request, obj=None):
        # An action stays with its measure: moving it would change two measures' stages at once.
        return ["resolution"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        record = obj.resolution
        # Removing it must leave actions that agree with the status (a veto's override, say): change the
        # status and the actions together on the measure's form.
        contradicts = record.status_conflict(
            [a.step for a in record.actions.exclude(pk=obj.pk).order_by("pk")]
        )
        locked = published_and_locked(request, record) or contradicts is not None
        return super().has_delete_permission(request, obj) and not locked

    def has_module_permission(self, request):
        return request.user.is_superuser  # not in the admin's menu for other staff: use the measure's form


class SessionEndedFilter(admin.SimpleListFilter):
    """Ended (its pending bills need their outcome) or not yet."""

    title = "ended"
    parameter_name = "ended"

    def lookups(self, request, model_admin):
        return [("yes", "Ended"), ("no", "Not yet")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(end_on__lt=today)
        if self.value() == "no":
            return queryset.filter(end_on__gte=today)
        return queryset


@admin.register(LegislativeSession)
class LegislativeSessionAdmin(HistoryAdmin):
    """A Congress or a state's session. When one ends, its pending bills need their outcome recorded."""

    list_display = ["name", "jurisdiction", "start_on", "end_on", "ended", "pending"]
    list_filter = [SessionEndedFilter]
    search_fields = ["name", "jurisdiction__name", "jurisdiction__usps"]
    list_select_related = ["jurisdiction"]
    fields = ["jurisdiction", "name", "start_on", "end_on"]

    def get_queryset(self, request):
        pending = Count("measures", filter=Q(measures__status=Status.INTRODUCED))
        return super().get_queryset(request).annotate(pending_count=pending)

    @admin.display(description="ended", boolean=True)
    def ended(self, obj):
        return obj.has_ended()

    @admin.display(description="pending measures", ordering="pending_count")
    def pending(self, obj):
        if not obj.pending_count:
            return 0
        url = reverse("admin:recognition_resolution_changelist")
        return format_html(
            '<a href="{}?session__exact={}&amp;status__exact={}">{}</a>',
            url,
            obj.pk,
            Status.INTRODUCED,
            obj.pending_count,
        )

    def get_readonly_fields(self, request, obj=None):
        # Its measures are of its legislature (their form checks it): it keeps that legislature.
        return ["jurisdiction"] if obj is not None and obj.measures.exists() else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "jurisdiction":
            kwargs["queryset"] = Jurisdiction.objects.filter(level__in=LEGISLATURES).order_by("level", "name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or can_publish(request.user):
            return allowed
        # Its dates decide what published bills say ("Session ended; outcome not yet recorded"): a
        # publisher's call once it holds one.
        return allowed and not obj.measures.filter(published=True).exists()
