"""What every model admin here shares: history with a guarded revert, the state filter, the publish lock."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from ..models import Jurisdiction, in_states
from ..roles import can_publish


class HistoryAdmin(SimpleHistoryAdmin):
    """History with revert, where reverting needs the right to change the record as it is now.

    (django-simple-history's revert form asks only for the right to view it.)
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            current = self.get_object(request, unquote(object_id))
            if (
                current is None
                or not self.has_change_permission(request, current)
                or self.revert_disabled(request, current)
            ):
                raise PermissionDenied
        request.reverting_history = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def response_action(self, request, queryset, **kwargs):
        """A list action (publish the selected, delete the selected...) in one transaction: all or none of
        its changes, one new data version and one warming of the pages they made cold."""
        with transaction.atomic():
            return super().response_action(request, queryset, **kwargs)

    def render_page(self, request, template, title, **context):
        """One of this admin's own pages (import, preview, review), inside the admin's frame."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **context,
        }
        return TemplateResponse(request, template, context)


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
        return queryset.filter(in_states([self.value()], self.jurisdiction_path))


def published_and_locked(request, obj):
    """A published record is changed only by someone who may publish."""
    return obj is not None and obj.published and not can_publish(request.user)


class RecordPartInline:
    """An inline of what a record is made of (its sources, its actions): locked with the record it belongs
    to, and each row linked to its own history."""

    @admin.display(description="history")
    def changes(self, obj):
        if obj.pk is None:
            return ""
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
        return format_html('<a href="{}">History</a>', url)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not published_and_locked(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not published_and_locked(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not published_and_locked(request, obj)


class RecordPartAdmin(HistoryAdmin):
    """The list of one kind of record part (sources, actions), for finding one and its history.

    Parts are entered on their record's own form; here only a publisher adds one (the standalone form
    can attach it to any record, published ones included), and a published record's parts are locked
    as the record is.
    """

    def has_add_permission(self, request):
        return super().has_add_permission(request) and can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        locked = obj is not None and published_and_locked(request, obj.resolution)
        return super().has_change_permission(request, obj) and not locked
