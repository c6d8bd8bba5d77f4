"""Public submissions: the moderation queue, and the review (accept into a draft, or reject with a reason)."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from ..dates import PartialDate
from ..models import Source, Submission
from ..roles import can_publish
from .base import HistoryAdmin
from .forms import AcceptSubmissionForm, RejectSubmissionForm, ReviewNoteForm

DEFAULT_TITLE = "Resolution recognizing 911 dispatchers as first responders"


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: what the public sent is kept as sent, and the review has its own
        # Accept and Reject buttons. No Save button that would save nothing.
        read_only = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**read_only, **(extra_context or {})})

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

    def _already_reviewed(self, request, submission):
        reviewer = submission.reviewed_by.get_username() if submission.reviewed_by else "someone"
        when = (
            timezone.localtime(submission.reviewed_at).strftime("%B %-d, %Y")
            if submission.reviewed_at
            else ""
        )
        messages.warning(
            request,
            f"This submission was already {submission.get_status_display().lower()} by {reviewer} {when}.",
        )
        return redirect("admin:recognition_submission_change", submission.pk)

    def accept_view(self, request, object_id):
        """A report becomes a prefilled draft with its link as the source; a correction is noted."""
        submission = self._reviewable(request, object_id)
        if not submission.is_correction and not request.user.has_perm("recognition.add_resolution"):
            raise PermissionDenied
        if submission.status != Submission.Review.PENDING:
            return self._already_reviewed(request, submission)
        if submission.is_correction:
            return self._accept_correction(request, submission)
        try:
            adopted = PartialDate.parse(submission.date_text) if submission.date_text else None
        except ValueError:
            adopted = None
        matched = submission.matching_jurisdiction()
        initial = {"jurisdiction": matched, "adopted": adopted, "title": DEFAULT_TITLE}
        form = AcceptSubmissionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                resolution = form.draft(submission)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                with transaction.atomic():
                    resolution._change_reason = f"From public submission #{submission.pk}"
                    resolution.save()
                    source = Source(resolution=resolution, url=submission.url)
                    source._change_reason = f"From public submission #{submission.pk}"
                    source.save()
                    submission.review(Submission.Review.ACCEPTED, request.user, created_resolution=resolution)
                messages.success(
                    request,
                    "Draft created from the submission. Check it against its source, set the confidence, "
                    "then a publisher can publish it.",
                )
                return redirect("admin:recognition_resolution_change", resolution.pk)
        return self.render_page(
            request,
            "admin/recognition/submission/accept.html",
            "Accept this submission as a draft",
            submission=submission,
            form=form,
            media=self.media + form.media,
            matched=matched is not None,
        )

    def _accept_correction(self, request, submission):
        form = ReviewNoteForm(request.POST or None)
        resolution = submission.resolution
        if request.method == "POST" and form.is_valid():
            submission.review(Submission.Review.ACCEPTED, request.user, form.cleaned_data["reason"])
            if resolution.published and not can_publish(request.user):
                todo = "The record is published: ask a publisher to make the change."
            else:
                todo = "Now make the change on the record."
            messages.success(request, f"Correction accepted. {todo}")
            return redirect("admin:recognition_resolution_change", resolution.pk)
        return self.render_page(
            request,
            "admin/recognition/submission/accept.html",
            "Accept this correction",
            submission=submission,
            form=form,
            media=self.media,
            resolution=resolution,
            resolution_url=reverse("admin:recognition_resolution_change", args=[resolution.pk]),
        )

    def reject_view(self, request, object_id):
        submission = self._reviewable(request, object_id)
        if submission.status != Submission.Review.PENDING:
            return self._already_reviewed(request, submission)
        form = RejectSubmissionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            submission.review(Submission.Review.REJECTED, request.user, form.cleaned_data["reason"])
            messages.success(request, f"Rejected: {submission}.")
            return redirect("admin:recognition_submission_changelist")
        return self.render_page(
            request,
            "admin/recognition/submission/reject.html",
            "Reject this submission",
            submission=submission,
            form=form,
            media=self.media,
        )

    @admin.action(permissions=["change"], description="Reject the selected pending submissions as spam")
    def reject_as_spam(self, request, queryset):
        rejected = 0
        for submission in queryset.filter(status=Submission.Review.PENDING):
            submission.review(Submission.Review.REJECTED, request.user, "Spam")
            rejected += 1
        self.message_user(
            request,
            ngettext("Rejected %d submission as spam.", "Rejected %d submissions as spam.", rejected)
            % rejected,
        )
