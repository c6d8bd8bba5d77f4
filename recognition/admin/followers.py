"""Follow by email, for staff: how many people follow each state; the addresses for superusers only.

Addresses are personal data kept only to send what people asked for (see /about/): an editor or a
publisher needs the counts, not who the people are.
"""

from collections import defaultdict

from django.contrib import admin
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path

from ..models import Follow, FollowTarget, Jurisdiction, Subscriber, state_code_expression


def followers_per_state():
    """[(state, people)] by name: receiving addresses that follow the state, a place or a measure in it
    (searches name no place, and are counted apart). Two queries."""
    follows = Follow.objects.receiving().filter(target__in=[FollowTarget.JURISDICTION, FollowTarget.MEASURE])
    by_place = follows.filter(target=FollowTarget.JURISDICTION).annotate(
        state=state_code_expression("jurisdiction__")
    )
    by_measure = follows.filter(target=FollowTarget.MEASURE).annotate(
        state=state_code_expression("resolution__jurisdiction__")
    )
    people = defaultdict(set)
    for query in (by_place, by_measure):
        for state, subscriber in query.values_list("state", "subscriber_id"):
            people[state].add(subscriber)
    states = {j.usps: j for j in Jurisdiction.objects.states()}
    rows = [(states[usps], len(ids)) for usps, ids in people.items() if usps in states]
    return sorted(rows, key=lambda row: row[0].name)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Superusers only; read-only but for deletion. Staff get the counts page (`followers/`)."""

    list_display = ["email", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = [("unsubscribed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    readonly_fields = ["email", "created_at", "confirmed_at", "unsubscribed_at"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view  # any active staff account
        return [
            path("followers/", wrap(self.followers_view), name="recognition_followers"),
            *super().get_urls(),
        ]

    def followers_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": "Followers per state",
            "rows": followers_per_state(),
            "searches": Follow.objects.receiving()
            .filter(target=FollowTarget.SEARCH)
            .values("subscriber")
            .distinct()
            .count(),
            "total": Subscriber.objects.receiving().filter(~Q(follows=None)).distinct().count(),
        }
        return TemplateResponse(request, "admin/recognition/followers.html", context)
