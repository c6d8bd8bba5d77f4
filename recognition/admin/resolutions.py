"""Resolutions and their sources: the change form with its sources inline, the publish actions, and the
CSV import (with a preview) and export.

The import is the same service as `manage.py import_resolutions`: one implementation, two doors.
Between the preview and the confirmation the file's text travels in the page itself, signed for the
person who uploaded it and for an hour: nothing is stored on disk or in the session, and a changed or
replayed value is refused.
"""

import io

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import ngettext

from .. import action_importer, exports
from ..importer import COLUMNS, import_resolutions
from ..models import Confidence, Resolution, Source, state_code_expression
from ..roles import can_publish
from . import legislative, quality
from .base import HistoryAdmin, RecordPartAdmin, RecordPartInline, StateListFilter, published_and_locked
from .forms import ImportUploadForm, ResolutionAdminForm, SourceFormSet

IMPORT_SALT = "recognition.admin.import"
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be confirmed


def _import_salt(request):
    return f"{IMPORT_SALT}:{request.user.pk}"


class ResolutionStateListFilter(StateListFilter):
    jurisdiction_path = "jurisdiction__"


class NeedsVerificationFilter(admin.SimpleListFilter):
    """No source with a link, or low confidence, or not verified in the last 12 months; or pending when its
    session has ended (its outcome is never assumed: staff record it)."""

    title = "needs verification"
    parameter_name = "needs_verification"

    def lookups(self, request, model_admin):
        return [("yes", "Needs verification"), ("no", "Verified")]

    @staticmethod
    def condition(today=None):
        has_link = Exists(Source.objects.filter(resolution=OuterRef("pk")).exclude(url=""))
        session_ended = Q(pk__in=Resolution.objects.session_ended(today).values("pk"))
        return (
            ~Q(has_link) | Q(confidence=Confidence.LOW) | quality.not_verified_lately(today) | session_ended
        )

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class SourceInline(RecordPartInline, admin.StackedInline):
    """Stacked, two fields a row: a table of long links and titles would not fit the form."""

    model = Source
    formset = SourceFormSet
    extra = 1
    fields = [("url", "archived_url"), ("title", "publisher"), ("accessed_on", "changes")]
    readonly_fields = ["changes"]


@admin.register(Source)
class SourceAdmin(RecordPartAdmin):
    """Sources are entered on their resolution's form; this list is for finding one and its history."""

    list_display = ["__str__", "resolution", "publisher", "accessed_on"]
    search_fields = ["url", "title", "publisher", "resolution__title"]
    list_select_related = ["resolution", "resolution__jurisdiction"]
    autocomplete_fields = ["resolution"]

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        record = obj.resolution
        # Even a publisher keeps a published record cited: add the new link before removing the last one.
        last_link = record.published and not record.sources.exclude(pk=obj.pk).exclude(url="").exists()
        locked = published_and_locked(request, record) or last_link
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
    inlines = [SourceInline, legislative.ActionInline]
    date_hierarchy = "adopted_on"
    readonly_fields = ["created_at", "updated_at", "stage_shown", "latest_action_shown"]
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
            "Progress",
            {
                "description": "A bill's stage follows from its actions (below) and its status.",
                "fields": ["session", "stage_shown", "latest_action_shown"],
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

    def view_on_site(self, obj):
        """A draft has no public page yet: staff see it on the public template, marked as a draft."""
        return obj.get_absolute_url() if obj.published else obj.get_preview_url()

    @admin.display(description="state", ordering="state_code")
    def state(self, obj):
        return obj.state_code or None

    @admin.display(description="adopted", ordering="adopted_on")
    def adopted_date(self, obj):
        return obj.adopted.display() if obj.adopted else None

    # --- legislative progress ---

    @admin.display(description="stage")
    def stage_shown(self, obj):
        """Today's stage, as the public pages say it (in force once the effective date has come)."""
        if obj.session_ended:
            return f"{obj.current_stage.label}: session ended on {obj.session.end_on}, record the outcome"
        return obj.current_stage.label

    @admin.display(description="latest action")
    def latest_action_shown(self, obj):
        return f"{obj.latest_action_date}: {obj.latest_action}" if obj.latest_action_on else "None recorded"

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not getattr(request, "reverting_history", False):
            return self.fieldsets
        # Derived on save from what is saved: nothing to show for a new record or an old version.
        derived = {"stage_shown", "latest_action_shown"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in derived]})
            for name, options in self.fieldsets
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            # Every legislature's sessions: the record's own clean says when one is not its legislature's.
            kwargs["queryset"] = legislative.session_choices()
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = legislative.session_label
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- who may do what ---

    def has_publish_permission(self, request):
        return can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not published_and_locked(request, obj)

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
        # Without the actions inline (the revert form, or no right to see actions) the model checks the
        # status against the saved actions.
        options["actions_in_same_submit"] = not getattr(request, "reverting_history", False) and any(
            isinstance(inline, legislative.ActionInline) for inline in self.get_inline_instances(request, obj)
        )
        return type(form.__name__, (form,), options)

    def save_model(self, request, obj, form, change):
        withdrawn = getattr(form, "publication_withdrawn", False)
        if obj.published and not can_publish(request.user):  # a last guard: the form has done it
            obj.published, withdrawn = False, True
        if withdrawn:  # an editor reverting to a published version of a draft
            self.message_user(
                request, "Saved as a draft: only a publisher can publish a record.", messages.WARNING
            )
        if change and form.actions_in_same_submit:
            form.saved_after_actions = True  # see save_related
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """The actions first, then the record, which stores its stage from them and its new status.

        The database refuses a stage that contradicts the status, so neither may be written alone: the
        old actions can contradict the new status, and the new actions the old one.
        """
        actions = [formset for formset in formsets if isinstance(formset, legislative.ActionFormSet)]
        for formset in actions:
            self.save_formset(request, form, formset, change)
        if getattr(form, "saved_after_actions", False):
            super().save_model(request, form.instance, form, change)
        elif actions:  # a new record, saved before its actions
            Resolution.objects.filter(pk=form.instance.pk).refresh_progress()
        others = [formset for formset in formsets if formset not in actions]
        super().save_related(request, form, others, change)

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
            self.message_user(
                request, ngettext("Published %d record.", "Published %d records.", published) % published
            )

    @admin.action(permissions=["publish"], description="Unpublish the selected records (back to draft)")
    def unpublish(self, request, queryset):
        unpublished = 0
        for resolution in queryset.filter(published=True).select_related("jurisdiction"):
            resolution.published = False
            resolution.save(update_fields=["published", "updated_at"])
            self.log_change(request, resolution, "Unpublished.")
            unpublished += 1
        self.message_user(
            request, ngettext("Unpublished %d record.", "Unpublished %d records.", unpublished) % unpublished
        )

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
            request,
            ngettext("Marked %d record as verified today.", "Marked %d records as verified today.", verified)
            % verified,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d published record was left as it was: only a publisher changes a published record.",
                    "%d published records were left as they were: only a publisher changes a published record.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )

    # --- import and export ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="recognition_resolution_import"),
            path("export/", wrap(self.export_view), name="recognition_resolution_export"),
            path("quality/", wrap(self.quality_view), name="recognition_quality"),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    @staticmethod
    def _import(data, *, dry_run, allow_publish, overwrite):
        """A file of measures (`import_resolutions`) or of their actions (`import_actions`): its header says which."""
        if action_importer.is_actions_file(data):
            return action_importer.import_actions(data, dry_run=dry_run, allow_publish=allow_publish)
        return import_resolutions(
            io.BytesIO(data), dry_run=dry_run, allow_publish=allow_publish, overwrite=overwrite
        )

    def import_view(self, request):
        """Upload → preview (a dry run: nothing written) → confirm (the same file, imported for real)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        allow_publish = can_publish(request.user)
        if request.method == "POST" and "payload" in request.POST:
            return self._confirm_import(request, allow_publish)
        form = ImportUploadForm(request.POST or None, request.FILES or None, may_overwrite=allow_publish)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            overwrite = form.cleaned_data.get("overwrite", False)
            data = upload.read()
            report = self._import(data, dry_run=True, allow_publish=allow_publish, overwrite=overwrite)
            payload = ""
            if report.ok:
                payload = signing.dumps(
                    {"name": upload.name, "text": data.decode("utf-8-sig"), "overwrite": overwrite},
                    salt=_import_salt(request),
                    compress=True,
                )
            return self._import_preview(request, report, upload.name, payload)
        return self.render_page(
            request,
            "admin/recognition/resolution/import.html",
            "Import resolutions or actions from a CSV file",
            form=form,
            columns=COLUMNS,
            action_columns=action_importer.COLUMNS,
            allow_publish=allow_publish,
        )

    def _import_preview(self, request, report, filename, payload, changed_since=False):
        page = {"report": report, "filename": filename, "payload": payload, "changed_since": changed_since}
        if isinstance(report, action_importer.ImportReport):
            template = "admin/recognition/resolution/import_actions_preview.html"
            return self.render_page(request, template, f"Import preview: {filename}", **page)
        if report.allow_publish:
            remedy = (
                "to put the file's values back, upload it again with “Overwrite records edited in the "
                "admin” ticked"
            )
        else:
            remedy = "a publisher can import the file to overwrite it"
        return self.render_page(
            request,
            "admin/recognition/resolution/import_preview.html",
            f"Import preview: {filename}",
            **page,
            allow_publish=report.allow_publish,
            skipped=[row.skip_message(remedy) for row in report.skipped_rows],
            overwritten=[row for row in report.rows if row.overwritten],
        )

    def _confirm_import(self, request, allow_publish):
        start_again = redirect("admin:recognition_resolution_import")
        try:
            payload = signing.loads(
                request.POST["payload"], salt=_import_salt(request), max_age=PREVIEW_MAX_AGE
            )
        except signing.SignatureExpired:
            messages.error(
                request, "That preview is more than an hour old: nothing was imported. Upload the file again."
            )
            return start_again
        except signing.BadSignature:
            messages.error(
                request, "That preview could not be read: nothing was imported. Upload the file again."
            )
            return start_again
        # The preview's choice, and only for someone who may still publish when confirming.
        overwrite = allow_publish and payload.get("overwrite", False)
        report = self._import(
            payload["text"].encode(), dry_run=False, allow_publish=allow_publish, overwrite=overwrite
        )
        if not report.ok:
            # The records changed between the preview and the confirmation: show what stands in the way now.
            return self._import_preview(request, report, payload["name"], "", changed_since=True)
        messages.success(request, f"Imported {payload['name']}. {report.summary()}")
        return redirect("admin:recognition_resolution_changelist")

    def quality_view(self, request):
        """The data-quality desk: every list with its count, its rows and where to fix each."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        lists = [
            (desk, [(row, quality.fix_url(desk.key, row)) for row in desk.rows()]) for desk in quality.desks()
        ]
        return self.render_page(
            request, "admin/recognition/quality.html", "Data quality", lists=lists, listed=quality.LISTED
        )

    def export_view(self, request):
        """The changelist's rows, filtered, searched and ordered as on screen, as CSV (all pages)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                "These filters cannot be used: go back to the list and clear them.\n",
                content_type="text/plain",
            )
        response = StreamingHttpResponse(
            exports.csv_lines(changelist.queryset, request.build_absolute_uri, staff=True),
            content_type="text/csv; charset=utf-8",
        )
        filename = f"dispatcher-recognition-admin-{timezone.localdate().isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)
