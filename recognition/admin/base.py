"""What every model admin here shares: history with a guarded revert, the state filter, the publish lock."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
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
