"""Forms of the staff admin: the resolution form with one text box per partial date, its actions, the CSV
upload, and the moderation of public submissions."""

import dataclasses
import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import BaseInlineFormSet

from ..forms import PartialDateField
from ..models import Action, Jurisdiction, Kind, Level, Resolution, Status, deferring_progress

PARTIAL_DATES = ("introduced", "adopted", "effective")
# Model errors name the stored columns; the form shows them on its one text box per date.
MODEL_TO_FORM_FIELD = {
    **{f"{name}_on": name for name in PARTIAL_DATES},
    **{f"{name}_on_precision": name for name in PARTIAL_DATES},
}
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def remap_model_errors(error, form_fields):
    """A model ValidationError keyed by the form's fields: dates on their text box, the rest on the form."""
    if not hasattr(error, "error_dict"):
        return error
    remapped = {}
    for field, messages in error.error_dict.items():
        target = MODEL_TO_FORM_FIELD.get(field, field)
        if target != NON_FIELD_ERRORS and target not in form_fields:
            target = NON_FIELD_ERRORS
        remapped.setdefault(target, []).extend(messages)
    return ValidationError(remapped)


class ResolutionAdminForm(forms.ModelForm):
    """Each partial date is one text box ("2022", "2022-09", "2022-04-18") writing the date + precision pair."""

    introduced = PartialDateField(label="Introduced")
    adopted = PartialDateField(label="Adopted")
    effective = PartialDateField(label="Took effect")

    # The sources inline checks the links submitted with the record (see SourceFormSet); a form without
    # that inline (the history's revert form) leaves the check to the model, on the saved sources.
    sources_in_same_submit = True
    # Likewise the actions inline checks the status against the actions submitted (see ActionFormSet).
    actions_in_same_submit = True
    # False for someone who may not publish: what they save is a draft, even a revert to a published version.
    may_publish = True

    class Meta:
        model = Resolution
        # Not the stored date + precision columns: the three text boxes above write them.
        fields = [
            "kind",
            "status",
            "identifier",
            "title",
            "summary",
            "jurisdiction",
            "body",
            "session",
            "published",
            "confidence",
            "last_verified_on",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PARTIAL_DATES:
            self.initial.setdefault(name, getattr(self.instance, name))
        self.instance.check_saved_sources = not self.sources_in_same_submit
        self.instance.check_saved_actions = not self.actions_in_same_submit
        self.publication_withdrawn = False
        if self.is_bound and not self.may_publish and self.instance.published:
            self.instance.published = False  # before validation, which then checks a draft
            self.publication_withdrawn = True

    def clean(self):
        cleaned_data = super().clean()
        for name in PARTIAL_DATES:
            if name in cleaned_data and name in self.fields:
                setattr(self.instance, name, cleaned_data[name])
        return cleaned_data

    def _update_errors(self, errors):
        super()._update_errors(remap_model_errors(errors, self.fields))


class SourceFormSet(BaseInlineFormSet):
    """Publishing needs a source with a link: counted among the sources in this same submit."""

    def clean(self):
        super().clean()
        if not self.instance.published or any(self.errors):
            return
        links = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("url")
        ]
        if not links:
            raise ValidationError(Resolution.NO_SOURCE_MESSAGE, code="no_source")


class ActionAdminForm(forms.ModelForm):
    """An action, its date one text box like the measure's own ("2025", "2025-09", "2025-09-11")."""

    date = PartialDateField(
        label="Date",
        required=True,
        error_messages={"required": "Give the action's date: 2025, 2025-09 or 2025-09-11."},
    )

    class Meta:
        model = Action
        fields = ["date", "chamber", "classification", "description", "source_url"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", self.instance.date)

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("date"):
            self.instance.date = cleaned_data["date"]
        return cleaned_data


def action_set_problem(resolution, actions):
    """Why a measure cannot have these actions (as they will be once saved: Action objects, saved or
    not, in the order they are recorded), in words; None when it can.

    The same action twice is refused, and so is a status they contradict (the database refuses that
    pair: say it here rather than fail there).
    """
    seen = set()
    for action in actions:
        key = (action.on, action.classification, action.chamber)
        if key in seen:
            chamber = f" ({action.get_chamber_display().split(' (')[0].lower()})" if action.chamber else ""
            return (
                f"Two actions record the same {action.get_classification_display().lower()}{chamber} on "
                f"the same date, {action.date}: keep one."
            )
        seen.add(key)
    steps = [dataclasses.replace(action.step, order=index) for index, action in enumerate(actions)]
    return resolution.status_conflict(steps)


class ActionFormSet(BaseInlineFormSet):
    """A measure's actions, checked together against the status submitted with them.

    Written without storing the measure's stage after each one: halfway through, the actions may
    contradict the status, which the database refuses. The admin stores the stage once, after every
    action is written, with the measure itself.
    """

    def submitted_actions(self):
        """The actions as they will be once saved: deleted ones left out, saved ones first (as listed),
        then the new ones."""
        return [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.instance.on is not None
        ]

    def clean(self):
        super().clean()
        resolution = self.instance
        if any(self.errors) or not (resolution.jurisdiction_id and resolution.status):
            return
        problem = action_set_problem(resolution, self.submitted_actions())
        if problem:
            raise ValidationError(problem, code="actions")

    def save(self, commit=True):
        instances = super().save(commit=False)  # what changes, nothing written yet
        if not commit:
            return instances
        with deferring_progress():
            # Removals first, so that a changed or new action may take a removed one's date.
            for action in self.deleted_objects:
                action.delete()
            changed = [action for action, _fields in self.changed_objects]
            # Two changed actions may trade dates (entered the wrong way round): each moved one is first
            # parked on a date no action has, unrecorded, so no step of the swap repeats an action.
            for parked, action in enumerate(changed, start=1):
                Action.objects.filter(pk=action.pk).update(
                    on=datetime.date(1, 1, 1) + datetime.timedelta(parked)
                )
            for action in changed:
                action.save()
            for action in self.new_objects:
                action.save()
        return instances


class StandaloneActionForm(ActionAdminForm):
    """An action on its own page: checked with its measure's other actions, which are saved already."""

    class Meta(ActionAdminForm.Meta):
        fields = ["resolution", *ActionAdminForm.Meta.fields]

    def clean(self):
        cleaned_data = super().clean()
        resolution = cleaned_data.get("resolution") or (
            self.instance.resolution if self.instance.resolution_id else None
        )
        if resolution is None or not cleaned_data.get("date") or not cleaned_data.get("classification"):
            return cleaned_data
        proposed = Action(
            pk=self.instance.pk,
            resolution=resolution,
            classification=cleaned_data["classification"],
            chamber=cleaned_data.get("chamber", ""),
        )
        proposed.date = cleaned_data["date"]
        # In the order they were recorded: a changed action keeps its place, a new one comes last.
        actions = [
            proposed if saved.pk == proposed.pk else saved for saved in resolution.actions.order_by("pk")
        ]
        if proposed.pk is None:
            actions.append(proposed)
        problem = action_set_problem(resolution, actions)
        if problem:
            raise ValidationError(problem, code="actions")
        return cleaned_data


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with the header of the starter dataset (records) or of its actions file "
        "(starter_actions.csv: a classification column and no kind); save from a spreadsheet as “CSV UTF-8”. "
        "At most 2 MB.",
    )
    overwrite = forms.BooleanField(
        label="Overwrite records edited in the admin",
        required=False,
        help_text="Without it, a row for a record someone changed in the admin since its import is skipped. "
        "Publication is never changed by an import either way.",
    )

    def __init__(self, *args, may_overwrite=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_overwrite:  # an editor's import never replaces what staff wrote
            del self.fields["overwrite"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                f"This file is {upload.size / 1024 / 1024:.1f} MB; at most 2 MB can be imported at once: "
                "split it into smaller files."
            )
        return upload


def jurisdiction_widget():
    """The same autocomplete as the resolution form's jurisdiction box."""
    return AutocompleteSelect(Resolution._meta.get_field("jurisdiction"), admin.site)


class AcceptSubmissionForm(forms.Form):
    """What staff confirm to turn a report into a draft: the rest is copied from the report."""

    jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.exclude(level=Level.NATION),
        widget=jurisdiction_widget(),
        help_text="Matched by name in the reported state when possible: check it. Not listed? Add the "
        "city or district first (Jurisdictions › Add), then come back.",
    )
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.RESOLUTION)
    status = forms.ChoiceField(choices=Status.choices, initial=Status.ADOPTED)
    title = forms.CharField(max_length=300, help_text="The measure's title, as the source gives it.")
    adopted = PartialDateField(label="Adopted")

    def draft(self, submission):
        """The unsaved draft resolution; raises ValidationError (keyed by this form's fields) if invalid."""
        data = self.cleaned_data
        resolution = Resolution(
            jurisdiction=data["jurisdiction"],
            kind=data["kind"],
            status=data["status"],
            title=data["title"],
            body=submission.body,
            summary=submission.description,
            published=False,
        )
        resolution.adopted = data["adopted"]
        try:
            resolution.full_clean()
        except ValidationError as error:
            raise remap_model_errors(error, self.fields) from None
        return resolution


class ReviewNoteForm(forms.Form):
    reason = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done, for the record (optional).",
    )


class RejectSubmissionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it is rejected: “spam”, “already recorded”, “not about 911 dispatchers”…",
    )
