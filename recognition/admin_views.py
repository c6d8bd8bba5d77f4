"""The admin's own pages: CSV import with a preview, CSV export of the filtered list, and the review of
public submissions (accept into a draft, or reject with a reason).

The import is the same service as `manage.py import_resolutions` (recognition.importer): one
implementation, two doors. Between the preview and the confirmation the file's text travels in the page
itself, signed (django.core.signing) for the person who uploaded it and for an hour: nothing is stored on
disk or in the session, and a changed or replayed value is refused.
"""

import io

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from . import exports
from .admin_forms import AcceptSubmissionForm, ImportUploadForm, RejectSubmissionForm, ReviewNoteForm
from .forms import parse_partial_date
from .importer import COLUMNS, import_resolutions
from .models import Jurisdiction, Level, Source, Submission, name_key
from .roles import can_publish

IMPORT_SALT = "recognition.admin.import"
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be confirmed
DEFAULT_TITLE = "Resolution recognizing 911 dispatchers as first responders"


def _context(model_admin, request, title, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        **extra,
    }


# --- Import --------------------------------------------------------------------------------------


def _import_salt(request):
    return f"{IMPORT_SALT}:{request.user.pk}"


def import_resolutions_view(model_admin, request):
    """Upload → preview (a dry run: nothing written) → confirm (the same file, imported for real)."""
    allow_publish = can_publish(request.user)
    if request.method == "POST" and "payload" in request.POST:
        return _confirm_import(model_admin, request, allow_publish)
    form = ImportUploadForm(request.POST or None, request.FILES or None, may_overwrite=allow_publish)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        overwrite = form.cleaned_data.get("overwrite", False)
        data = upload.read()
        report = import_resolutions(
            io.BytesIO(data), dry_run=True, allow_publish=allow_publish, overwrite=overwrite
        )
        payload = ""
        if report.ok:
            payload = signing.dumps(
                {"name": upload.name, "text": data.decode("utf-8-sig"), "overwrite": overwrite},
                salt=_import_salt(request),
                compress=True,
            )
        return _preview(model_admin, request, report, upload.name, payload)
    context = _context(
        model_admin,
        request,
        "Import resolutions from a CSV file",
        form=form,
        columns=COLUMNS,
        allow_publish=allow_publish,
    )
    return TemplateResponse(request, "admin/recognition/resolution/import.html", context)


def _skip_remedy(allow_publish):
    if allow_publish:
        return "to put the file's values back, upload it again with “Overwrite records edited in the admin” ticked"
    return "a publisher can import the file to overwrite it"


def _preview(model_admin, request, report, filename, payload, changed_since=False):
    remedy = _skip_remedy(report.allow_publish)
    context = _context(
        model_admin,
        request,
        f"Import preview: {filename}",
        report=report,
        filename=filename,
        payload=payload,
        changed_since=changed_since,
        allow_publish=report.allow_publish,
        skipped=[row.skip_message(remedy) for row in report.skipped_rows],
        overwritten=[row for row in report.rows if row.overwritten],
    )
    return TemplateResponse(request, "admin/recognition/resolution/import_preview.html", context)


def _confirm_import(model_admin, request, allow_publish):
    start_again = redirect("admin:recognition_resolution_import")
    try:
        payload = signing.loads(request.POST["payload"], salt=_import_salt(request), max_age=PREVIEW_MAX_AGE)
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
    report = import_resolutions(
        io.StringIO(payload["text"]), dry_run=False, allow_publish=allow_publish, overwrite=overwrite
    )
    if not report.ok:
        # The records changed between the preview and the confirmation: show what stands in the way now.
        return _preview(model_admin, request, report, payload["name"], "", changed_since=True)
    messages.success(request, f"Imported {payload['name']}. {report.summary()}")
    return redirect("admin:recognition_resolution_changelist")


# --- Export --------------------------------------------------------------------------------------


def export_resolutions_view(model_admin, request):
    """The changelist's rows, filtered, searched and ordered as on screen, as CSV (all pages)."""
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return HttpResponseBadRequest(
            "These filters cannot be used: go back to the list and clear them.\n", content_type="text/plain"
        )
    response = StreamingHttpResponse(
        exports.csv_lines(changelist.queryset, request.build_absolute_uri, staff=True),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"dispatcher-recognition-admin-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Submissions ---------------------------------------------------------------------------------


def record_review(request, submission, status, reason="", created_resolution=None):
    submission.status = status
    submission.reason = reason
    submission.reviewed_by = request.user
    submission.reviewed_at = timezone.now()
    if created_resolution is not None:
        submission.created_resolution = created_resolution
    submission._change_reason = f"{status.capitalize()} by {request.user.get_username()}"
    submission.save()


def match_jurisdiction(submission):
    """The jurisdiction the report names, when exactly one in its state has that name (any case)."""
    state = Jurisdiction.objects.filter(level=Level.STATE, usps=submission.state).first()
    if state is None:
        return None
    wanted = name_key(" ".join(submission.jurisdiction_name.split()))
    if wanted == name_key(state.name):
        return state
    candidates = Jurisdiction.objects.filter(parent=state).only("id", "name", "level")
    found = [j for j in candidates if name_key(j.name) == wanted]
    if not found:  # "Albany" for "Albany County"
        found = [j for j in candidates if j.level == Level.COUNTY and name_key(j.name) == f"{wanted} county"]
    return found[0] if len(found) == 1 else None


def _already_reviewed(request, submission):
    reviewer = submission.reviewed_by.get_username() if submission.reviewed_by else "someone"
    when = timezone.localtime(submission.reviewed_at).strftime("%B %-d, %Y") if submission.reviewed_at else ""
    messages.warning(
        request,
        f"This submission was already {submission.get_status_display().lower()} by {reviewer} {when}.",
    )
    return redirect("admin:recognition_submission_change", submission.pk)


def accept_submission_view(model_admin, request, submission):
    if submission.status != Submission.Review.PENDING:
        return _already_reviewed(request, submission)
    if submission.is_correction:
        return _accept_correction(model_admin, request, submission)
    try:
        adopted = parse_partial_date(submission.date_text) if submission.date_text else None
    except ValidationError:
        adopted = None
    initial = {"jurisdiction": match_jurisdiction(submission), "adopted": adopted, "title": DEFAULT_TITLE}
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
                record_review(request, submission, Submission.Review.ACCEPTED, created_resolution=resolution)
            messages.success(
                request,
                "Draft created from the submission. Check it against its source, set the confidence, "
                "then a publisher can publish it.",
            )
            return redirect("admin:recognition_resolution_change", resolution.pk)
    context = _context(
        model_admin,
        request,
        "Accept this submission as a draft",
        submission=submission,
        form=form,
        media=model_admin.media + form.media,
        matched=initial["jurisdiction"] is not None,
    )
    return TemplateResponse(request, "admin/recognition/submission/accept.html", context)


def _accept_correction(model_admin, request, submission):
    form = ReviewNoteForm(request.POST or None)
    resolution = submission.resolution
    if request.method == "POST" and form.is_valid():
        record_review(request, submission, Submission.Review.ACCEPTED, form.cleaned_data["reason"])
        if resolution.published and not can_publish(request.user):
            todo = "The record is published: ask a publisher to make the change."
        else:
            todo = "Now make the change on the record."
        messages.success(request, f"Correction accepted. {todo}")
        return redirect("admin:recognition_resolution_change", resolution.pk)
    context = _context(
        model_admin,
        request,
        "Accept this correction",
        submission=submission,
        form=form,
        media=model_admin.media,
        resolution=resolution,
        resolution_url=reverse("admin:recognition_resolution_change", args=[resolution.pk]),
    )
    return TemplateResponse(request, "admin/recognition/submission/accept.html", context)


def reject_submission_view(model_admin, request, submission):
    if submission.status != Submission.Review.PENDING:
        return _already_reviewed(request, submission)
    form = RejectSubmissionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record_review(request, submission, Submission.Review.REJECTED, form.cleaned_data["reason"])
        messages.success(request, f"Rejected: {submission}.")
        return redirect("admin:recognition_submission_changelist")
    context = _context(
        model_admin,
        request,
        "Reject this submission",
        submission=submission,
        form=form,
        media=model_admin.media,
    )
    return TemplateResponse(request, "admin/recognition/submission/reject.html", context)
