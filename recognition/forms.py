"""Forms shared by the admin and the public pages: the partial-date text box and the submission form."""

from django import forms
from django.core.exceptions import ValidationError

from .dates import PartialDate, PartialDateError
from .filters import STATE_CHOICES
from .models import Frequency, Submission

PARTIAL_DATE_HELP = "2022, 2022-09 or 2022-04-18: only as precise as the source."


def parse_partial_date(text):
    """A PartialDate from `2022`, `2022-09` or `2022-04-18`; a ValidationError that says what is wrong."""
    try:
        return PartialDate.parse(text)
    except PartialDateError as error:
        raise ValidationError(str(error), code=error.code) from None


class PartialDateField(forms.CharField):
    """One text box for a date known to the year, the month or the day. Cleans to a PartialDate or None."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", PARTIAL_DATE_HELP)
        # The cleaned value is a PartialDate, so the length limit is the text box's (and the format's).
        kwargs.setdefault("widget", forms.TextInput(attrs={"maxlength": 10, "size": 12}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, PartialDate):
            return value.isoformat()
        return value

    def to_python(self, value):
        if isinstance(value, PartialDate):
            return value
        text = super().to_python(value)
        if not text:
            return None
        return parse_partial_date(text)


class SubmissionForm(forms.ModelForm):
    """“Tell us about a resolution”, and “Suggest a correction” (the same form, tied to a record)."""

    # Anti-spam: people never see this field (hidden with CSS, aria-hidden, out of the tab order); scripts
    # that fill in every field do. The view refuses a filled one before anything else.
    HONEYPOT = "website"

    state = forms.ChoiceField(
        label="State or territory", choices=[("", "Choose a state or territory"), *STATE_CHOICES]
    )
    date_text = PartialDateField(
        label="Date adopted",
        help_text="If you know it: a year (2022), a month (2022-09) or a full date (2022-04-18).",
    )
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = Submission
        fields = ["state", "jurisdiction_name", "body", "date_text", "url", "description", "email"]
        labels = {
            "jurisdiction_name": "City, county or district",
            "body": "Adopting body",
            "url": "Link to the text or a news report",
            "description": "What it says",
            "email": "Your email",
        }
        help_texts = {
            "jurisdiction_name": "As it is usually written: “Albany County”, “City of Laramie”. "
            "For a state law, the state's name.",
            "body": "If you know it: “County Commission”, “City Council”, “State Legislature”.",
            "url": "The official text, the meeting minutes or a news report: we check every record against "
            "its source before publishing it.",
            "description": "In a sentence or two. At most 2,000 characters.",
            "email": "Only to ask you about this report. Never published or shared.",
        }
        widgets = {
            "url": forms.URLInput(attrs={"placeholder": "https://"}),
            "description": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, correction_of=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.correction_of = correction_of
        if correction_of is not None:
            self.fields["description"].label = "What should be corrected"
            self.fields["description"].required = True
            self.fields["description"].help_text = "What is wrong or missing, and what it should say."
            self.fields["url"].label = "Link to a source for the correction"

    def clean_date_text(self):
        date = self.cleaned_data.get("date_text")
        return date.isoformat() if date else ""

    def save(self, commit=True):
        self.instance.resolution = self.correction_of
        return super().save(commit)

    @classmethod
    def initial_for_place(cls, jurisdiction):
        """What a report about a place starts with: its state and its name."""
        return {"state": jurisdiction.state.usps, "jurisdiction_name": jurisdiction.name}

    @classmethod
    def initial_for(cls, resolution):
        """What a correction form starts with: the record as the public sees it."""
        jurisdiction = resolution.jurisdiction
        state = jurisdiction.state
        return {
            "state": state.usps if state else "",
            "jurisdiction_name": jurisdiction.name,
            "body": resolution.body,
            "date_text": resolution.adopted.isoformat() if resolution.adopted else "",
        }


class FollowForm(forms.Form):
    """ "Follow by email": an address and how often. What is followed comes from the page's link."""

    HONEYPOT = "website"  # as on the submission form: hidden from people, filled in by scripts

    email = forms.EmailField(
        label="Your email",
        max_length=254,
        help_text="We send one message with a link to confirm. Nothing else until you use it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Frequency.choices,
        initial=Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose “As it happens” or “Weekly digest”."},
    )
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
