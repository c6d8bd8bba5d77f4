"""The staff admin: resolutions with their sources, jurisdictions, and the moderation of public submissions.

Who may do what (see recognition/roles.py): editors enter and correct drafts; only publishers (and
superusers) publish, unpublish or change a published record, whatever the path: the change form, the
list actions, the history's revert, or the CSV import. Every change is recorded (django-simple-history).
"""

import datetime

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import admin_views
from .admin_forms import ResolutionAdminForm, SourceFormSet
from .models import (
    LOCALITY_LEVELS,
    Confidence,
    Jurisdiction,
    Level,
    Resolution,
    Source,
    Submission,
    state_code_expression,
)
from .roles import can_publish

VERIFICATION_INTERVAL = datetime.timedelta(days=365)

admin.site.site_header = "Dispatcher Recognition Tracker: staff"
admin.site.site_title = "Tracker staff"
admin.site.index_title = "Records, places and public submissions"


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


class NeedsVerificationFilter(admin.SimpleListFilter):
    """No source with a link, or low confidence, or not verified in the last 12 months."""

    title = "needs verification"
    parameter_name = "needs_verification"

    def lookups(self, request, model_admin):
        return [("yes", "Needs verification"), ("no", "Verified")]

    @staticmethod
    def condition():
        year_ago = timezone.localdate() - VERIFICATION_INTERVAL
        has_link = Exists(Source.objects.filter(resolution=OuterRef("pk")).exclude(url=""))
        return (
            ~Q(has_link)
            | Q(confidence=Confidence.LOW)
            | Q(last_verified_on__isnull=True)
            | Q(last_verified_on__lt=year_ago)
        )

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


# --- Jurisdictions -------------------------------------------------------------------------------


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


# --- Resolutions ---------------------------------------------------------------------------------


def _published_and_locked(request, obj):
    """A published record is changed only by someone who may publish."""
    return obj is not None and obj.published and not can_publish(request.user)


class SourceInline(admin.TabularInline):
    model = Source
    formset = SourceFormSet
    extra = 1
    fields = ["url", "title", "publisher", "accessed_on", "changes"]
    readonly_fields = ["changes"]

    @admin.display(description="history")
    def changes(self, obj):
        if obj.pk is None:
            return ""
        url = reverse("admin:recognition_source_history", args=[obj.pk])
        return format_html('<a href="{}">History</a>', url)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not _published_and_locked(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _published_and_locked(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _published_and_locked(request, obj)


@admin.register(Source)
class SourceAdmin(HistoryAdmin):
    """Sources are entered on their resolution's form; this list is for finding one and its history."""

    list_display = ["__str__", "resolution", "publisher", "accessed_on"]
    search_fields = ["url", "title", "publisher", "resolution__title"]
    list_select_related = ["resolution", "resolution__jurisdiction"]
    autocomplete_fields = ["resolution"]

    def has_add_permission(self, request):
        # The standalone form can attach a source to any record, published ones included; editors add
        # sources on their draft's own form, where the lock is checked against that record.
        return super().has_add_permission(request) and can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        locked = obj is not None and _published_and_locked(request, obj.resolution)
        return super().has_change_permission(request, obj) and not locked

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        record = obj.resolution
        # Even a publisher keeps a published record cited: add the new link before removing the last one.
        last_link = record.published and not record.sources.exclude(pk=obj.pk).exclude(url="").exists()
        locked = _published_and_locked(request, record) or last_link
        return super().has_delete_permission(request, obj) and not locked

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if can_publish(request.user):
            return form

        class LockedRecordForm(form):
            def clean_resolution(self):
                resolution = self.cleaned_data.get("resolution")
                if resolution is not None and resolution.published:
                    raise ValidationError(
                        "This record is published: only a publisher can change the sources it cites."
                    )
                return resolution

        return LockedRecordForm

    def has_module_permission(self, request):
        return request.user.is_superuser  # not in the admin's menu for other staff: use the resolution form


@admin.register(Resolution)
class ResolutionAdmin(HistoryAdmin):
    form = ResolutionAdminForm
    change_form_template = "admin/recognition/resolution/change_form.html"
    change_list_template = "admin/recognition/resolution/change_list.html"
    list_display = [
        "jurisdiction",
        "state",
        "title",
        "kind",
        "status",
        "adopted_date",
        "published",
        "confidence",
        "last_verified_on",
    ]
    list_display_links = ["title"]
    list_filter = [
        ResolutionStateListFilter,
        "jurisdiction__level",
        "kind",
        "status",
        "published",
        NeedsVerificationFilter,
        "confidence",
    ]
    search_fields = ["title", "identifier", "body", "summary", "jurisdiction__name", "jurisdiction__fips"]
    list_select_related = ["jurisdiction", "jurisdiction__parent"]
    autocomplete_fields = ["jurisdiction"]
    inlines = [SourceInline]
    date_hierarchy = "adopted_on"
    readonly_fields = ["created_at", "updated_at"]
    actions = ["publish", "unpublish", "mark_verified_today"]
    fieldsets = [
        ("What", {"fields": ["kind", "status", "identifier", "title", "summary"]}),
        (
            "Where",
            {
                "description": "Type a name, a state code or a FIPS code to find the jurisdiction. "
                "A city or 911 district not listed yet: add it with the + button.",
                "fields": ["jurisdiction", "body"],
            },
        ),
        (
            "When",
            {
                "description": "Type a year (2022), a month (2022-09) or a full date (2022-04-18): keep "
                "the precision the source gives, never guess a month or a day.",
                "fields": ["introduced", "adopted", "effective"],
            },
        ),
        (
            "Publication",
            {
                "description": "Publishing needs a source with a link and a confidence of medium or high. "
                "Only a publisher can publish, and change a published record.",
                "fields": ["published", "confidence", "last_verified_on", "created_at", "updated_at"],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(state_code=state_code_expression())

    @admin.display(description="state", ordering="state_code")
    def state(self, obj):
        return obj.state_code or None

    @admin.display(description="adopted", ordering="adopted_on")
    def adopted_date(self, obj):
        return obj.adopted.display() if obj.adopted else None

    # --- who may do what ---

    def has_publish_permission(self, request):
        return can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _published_and_locked(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            readonly.append("published")
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        options = {"may_publish": can_publish(request.user)}
        if getattr(request, "reverting_history", False):
            # No sources inline on the revert form: the model checks the saved sources.
            options["sources_in_same_submit"] = False
        return type(form.__name__, (form,), options)

    def save_model(self, request, obj, form, change):
        withdrawn = getattr(form, "publication_withdrawn", False)
        if obj.published and not can_publish(request.user):  # a last guard: the form has done it
            obj.published, withdrawn = False, True
        if withdrawn:  # an editor reverting to a published version of a draft
            self.message_user(
                request, "Saved as a draft: only a publisher can publish a record.", messages.WARNING
            )
        super().save_model(request, obj, form, change)

    # --- list actions ---

    @admin.action(permissions=["publish"], description="Publish the selected records")
    def publish(self, request, queryset):
        published = 0
        for resolution in queryset.filter(published=False).select_related("jurisdiction"):
            problems = resolution.publication_problems()
            if problems:
                self.message_user(
                    request, f"Not published: {resolution}. {' '.join(problems)}", messages.ERROR
                )
                continue
            resolution.published = True
            resolution.save(update_fields=["published", "updated_at"])
            self.log_change(request, resolution, "Published.")
            published += 1
        if published:
            self.message_user(request, f"Published {published} record{'s' if published != 1 else ''}.")

    @admin.action(permissions=["publish"], description="Unpublish the selected records (back to draft)")
    def unpublish(self, request, queryset):
        unpublished = 0
        for resolution in queryset.filter(published=True).select_related("jurisdiction"):
            resolution.published = False
            resolution.save(update_fields=["published", "updated_at"])
            self.log_change(request, resolution, "Unpublished.")
            unpublished += 1
        self.message_user(request, f"Unpublished {unpublished} record{'s' if unpublished != 1 else ''}.")

    @admin.action(permissions=["change"], description="Mark the selected records as verified today")
    def mark_verified_today(self, request, queryset):
        today = timezone.localdate()
        verified, skipped = 0, 0
        for resolution in queryset.select_related("jurisdiction"):
            if not self.has_change_permission(request, resolution):
                skipped += 1
                continue
            resolution.last_verified_on = today
            resolution.save(update_fields=["last_verified_on", "updated_at"])
            self.log_change(request, resolution, "Marked as verified today.")
            verified += 1
        self.message_user(
            request, f"Marked {verified} record{'s' if verified != 1 else ''} as verified today."
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} published record{'s were' if skipped != 1 else ' was'} left as "
                f"{'they were' if skipped != 1 else 'it was'}: only a publisher changes a published record.",
                messages.WARNING,
            )

    # --- import and export ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="recognition_resolution_import"),
            path("export/", wrap(self.export_view), name="recognition_resolution_export"),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return admin_views.import_resolutions_view(self, request)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return admin_views.export_resolutions_view(self, request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)


# --- Public submissions --------------------------------------------------------------------------


class SubmissionStatusFilter(admin.SimpleListFilter):
    """The moderation queue: pending submissions unless asked otherwise."""

    title = "status"
    parameter_name = "status"
    default = Submission.Review.PENDING

    def lookups(self, request, model_admin):
        return [*Submission.Review.choices, ("all", "All")]

    def current(self):
        return self.value() or self.default

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.current() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.current() == "all":
            return queryset
        return queryset.filter(status=self.current())


@admin.register(Submission)
class SubmissionAdmin(HistoryAdmin):
    change_form_template = "admin/recognition/submission/change_form.html"
    list_display = [
        "created_at",
        "what",
        "state",
        "jurisdiction_name",
        "body",
        "date_text",
        "link",
        "status",
        "reviewed_by",
    ]
    list_display_links = ["jurisdiction_name"]
    list_filter = [SubmissionStatusFilter, "state"]
    search_fields = ["jurisdiction_name", "body", "description", "url", "email"]
    list_select_related = ["reviewed_by", "resolution"]
    date_hierarchy = "created_at"
    actions = ["reject_as_spam"]
    fieldsets = [
        (
            "Reported",
            {
                "fields": [
                    "resolution",
                    "state",
                    "jurisdiction_name",
                    "body",
                    "date_text",
                    "url",
                    "description",
                    "email",
                    "created_at",
                    "client_hash",
                ]
            },
        ),
        ("Review", {"fields": ["status", "reason", "reviewed_by", "reviewed_at", "created_resolution"]}),
    ]
    # What the public sent is kept as sent; the review is made with the Accept and Reject buttons.
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    @admin.display(description="what")
    def what(self, obj):
        return "Correction" if obj.is_correction else "New"

    @admin.display(description="link")
    def link(self, obj):
        shown = obj.url if len(obj.url) <= 60 else obj.url[:59] + "…"
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', obj.url, shown
        )

    def has_add_permission(self, request):
        return False  # submissions come from the public form

    def revert_disabled(self, request, obj=None):
        return True  # a review is undone by a new review, not by rewriting the old one

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/accept/", wrap(self.accept_view), name="recognition_submission_accept"),
            path("<path:object_id>/reject/", wrap(self.reject_view), name="recognition_submission_reject"),
            *super().get_urls(),
        ]

    def _reviewable(self, request, object_id):
        submission = self.get_object(request, unquote(object_id))
        if submission is None:
            raise Http404("No such submission.")
        if not self.has_change_permission(request, submission):
            raise PermissionDenied
        return submission

    def accept_view(self, request, object_id):
        submission = self._reviewable(request, object_id)
        if not submission.is_correction and not request.user.has_perm("recognition.add_resolution"):
            raise PermissionDenied
        return admin_views.accept_submission_view(self, request, submission)

    def reject_view(self, request, object_id):
        return admin_views.reject_submission_view(self, request, self._reviewable(request, object_id))

    @admin.action(permissions=["change"], description="Reject the selected pending submissions as spam")
    def reject_as_spam(self, request, queryset):
        rejected = 0
        for submission in queryset.filter(status=Submission.Review.PENDING):
            admin_views.record_review(request, submission, Submission.Review.REJECTED, "Spam")
            rejected += 1
        self.message_user(request, f"Rejected {rejected} submission{'s' if rejected != 1 else ''} as spam.")
