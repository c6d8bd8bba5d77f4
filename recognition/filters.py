"""One FilterSet for the list page, the CSV, the JSON API and the feeds (and one for the actions).

The URL is the shareable state of a search: every parameter here is a plain
query-string value, and a bad value is a form error (shown on the page, or a 400
from the exports), never a 500.
"""

import re

import django_filters
import us
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, Value
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from .models import (
    Action,
    ActionClassification,
    Kind,
    LegislativeSession,
    Level,
    Resolution,
    Stage,
    Status,
    state_code_expression,
    stored_state,
)

# Static choices (no query per request): the 50 states, DC and the inhabited territories.
STATE_CHOICES = sorted(
    ((state.abbr, state.name) for state in us.states.STATES_AND_TERRITORIES), key=lambda choice: choice[1]
)
MAX_QUERY_LENGTH = 200
# A text search matching more records than this is counted only to here ("more than 1,000"),
# sorted newest first rather than ranked, and shown without facet counts: ranking, counting
# and grouping every match of a common word ("first", "county") would read most of the table.
SEARCH_CAP = 1000
# Words of a search that count (each part of "first-responder" or "O'Brien" is one); the rest is ignored.
MAX_SEARCH_WORDS = 32
SEARCH_HELP = (
    "Words in the title, summary, number, adopting body or jurisdiction. "
    '"A phrase" in quotes, -word to leave a word out, "or" between alternatives; '
    f"other punctuation separates words, and only the first {MAX_SEARCH_WORDS} words count."
)


class StateCodeField(django_filters.fields.MultipleChoiceField):
    """Accepts `al` as well as `AL`: people type codes in either case."""

    def to_python(self, value):
        return [code.upper() for code in super().to_python(value)]


class StateFilter(django_filters.MultipleChoiceFilter):
    """`state=AL&state=TX`: measures by those states and by anything inside them."""

    field_class = StateCodeField

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.in_states(value)


class SessionFilter(django_filters.ModelChoiceFilter):
    """`session=12`: the measures a legislative session or Congress holds (its page's link)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", LegislativeSession.objects.all())
        kwargs.setdefault("error_messages", {"invalid_choice": "There is no legislative session %(value)s."})
        super().__init__(**kwargs)


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """An OrderingFilter whose `nulls_last` fields put empty values last in both directions.

    Measures with no recorded action have no latest action: they come after every dated
    one whichever way the list is sorted, on every database.
    """

    def __init__(self, *args, nulls_last=(), **kwargs):
        self.nulls_last = set(nulls_last)
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        name = value.removeprefix("-")
        if name not in self.nulls_last:
            return value
        return F(name).desc(nulls_last=True) if value.startswith("-") else F(name).asc(nulls_last=True)


class ResolutionFilter(django_filters.FilterSet):
    state = StateFilter(choices=STATE_CHOICES, label="State or territory")
    level = django_filters.MultipleChoiceFilter(
        field_name="jurisdiction__level", choices=Level.choices, label="Jurisdiction level"
    )
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices, label="Kind")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="Status")
    stage = django_filters.MultipleChoiceFilter(
        choices=Stage.choices,
        method="at_stages",
        label="Stage",
        help_text="Where a measure stands, from its recorded actions and status. Repeatable.",
    )
    session = SessionFilter(
        label="Legislative session",
        help_text="The id of a legislative session or Congress: the measures it holds.",
    )
    adopted_after = django_filters.DateFilter(
        field_name="adopted_on",
        lookup_expr="gte",
        label="Adopted on or after",
        input_formats=["%Y-%m-%d"],
        help_text="YYYY-MM-DD. A date known only to the month or year counts from its first day.",
    )
    adopted_before = django_filters.DateFilter(
        field_name="adopted_on",
        lookup_expr="lte",
        label="Adopted on or before",
        input_formats=["%Y-%m-%d"],
        help_text="YYYY-MM-DD.",
    )
    q = django_filters.CharFilter(
        method="search", label="Search", max_length=MAX_QUERY_LENGTH, help_text=SEARCH_HELP
    )
    ordering = NullsLastOrderingFilter(
        fields=(
            ("adopted_on", "adopted"),
            ("latest_action_on", "latest_action"),
            ("jurisdiction__name", "jurisdiction"),
            ("state_code", "state"),
        ),
        field_labels={
            "adopted_on": "Adopted (oldest first)",
            "-adopted": "Adopted (newest first)",
            "latest_action_on": "Latest action (oldest first)",
            "-latest_action": "Latest action (newest first)",
            "jurisdiction__name": "Jurisdiction (A–Z)",
            "-jurisdiction": "Jurisdiction (Z–A)",
            "state_code": "State (A–Z)",
            "-state": "State (Z–A)",
        },
        nulls_last=("latest_action_on",),
        label="Sort by",
    )

    class Meta:
        model = Resolution
        fields = [
            "state",
            "level",
            "kind",
            "status",
            "stage",
            "session",
            "adopted_after",
            "adopted_before",
            "q",
            "ordering",
        ]

    def __init__(self, data=None, queryset=None, *, search_cap=None, **kwargs):
        """`search_cap` (the list page's SEARCH_CAP): a text search matching more is counted to there,
        not ranked, and has no facet counts (see `search_matches`). The exports rank every match."""
        if queryset is None:
            queryset = Resolution.objects.published()
        state = F("state_usps") if stored_state() else state_code_expression()
        queryset = queryset.with_jurisdiction().annotate(state_code=state)
        self.search_cap = search_cap
        super().__init__(data, queryset, **kwargs)

    def without(self, *names):
        """The search with the filters `names` left out, unordered: what a facet of those filters counts.

        Every other filter applies exactly as in `qs` (the text search and the published-only base
        included). None when no other filter has a value: the base queryset alone. Needs a valid form.
        """
        queryset, applied = self.queryset, False
        for name, value in self.form.cleaned_data.items():
            if name in names or name == "ordering" or value in (None, "", [], ()):
                continue
            queryset, applied = self.filters[name].filter(queryset, value), True
        return queryset.order_by() if applied else None

    def at_stages(self, queryset, name, value):
        return queryset.in_stages(value) if value else queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if connection.vendor == "postgresql":
            return full_text_search(queryset, value)
        return queryset.filter(
            Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(identifier__icontains=value)
            | Q(body__icontains=value)
            | Q(jurisdiction__name__icontains=value)
        )

    # "Adopted (newest first)" is the default order itself: one option in the list, and links that
    # carry it (shared before the two were merged) still give the default order.
    DEFAULT_ORDER_SYNONYM = "-adopted"

    @property
    def sort_choices(self):
        """The "Sort by" options after the default one ("Newest adopted first")."""
        return [
            (value, label)
            for value, label in self.form.fields["ordering"].choices
            if value and value != self.DEFAULT_ORDER_SYNONYM
        ]

    @property
    def qs(self):
        queryset = super().qs
        chosen = self.form.cleaned_data.get("ordering") if self.is_bound and self.form.is_valid() else None
        if chosen and list(chosen) != [self.DEFAULT_ORDER_SYNONYM]:
            return queryset.order_by(*queryset.query.order_by, "pk")
        newest_first = (F("adopted_on").desc(nulls_last=True), "-introduced_on", "title", "pk")
        if self.is_ranked:
            return queryset.order_by("-rank", *newest_first)
        return queryset.order_by(*newest_first)

    @property
    def is_text_search(self):
        """A valid search with words to look for."""
        return (
            self.is_bound and self.form.is_valid() and bool((self.form.cleaned_data.get("q") or "").strip())
        )

    @cached_property
    def search_matches(self):
        """How many records a text search matches, counted to `search_cap` + 1 at most (one query);
        None without a text search or a cap."""
        if self.search_cap is None or not self.is_text_search:
            return None
        return super().qs.count_up_to(self.search_cap)

    @property
    def is_capped(self):
        """A text search matching more than `search_cap` records: newest first, no facet counts."""
        return self.search_matches is not None and self.search_matches > self.search_cap

    @property
    def is_ranked(self):
        """A text search on PostgreSQL, best matches first unless the reader chose an order or it matches
        too many to rank."""
        return connection.vendor == "postgresql" and self.is_text_search and not self.is_capped


class MeasureIdsField(django_filters.fields.ModelMultipleChoiceField):
    """Measure ids. A number too big for any database integer is unknown, like any other unknown id:
    SQLite would refuse it in the query (an OverflowError, a 500) rather than find nothing."""

    LARGEST_ID = 2**63 - 1

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a number at all: the parent class says so
            if not 0 < number <= self.LARGEST_ID:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class MeasureFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = MeasureIdsField


class ActionFilter(django_filters.FilterSet):
    """The actions download and /api/actions/: every action of every published measure, or some of them.

    In a fixed order, so that pages and batches never skip or repeat a row: by measure, then
    by date (a date known only to the month or year counts from its first day), then in the
    order they were recorded.
    """

    resolution = MeasureFilter(
        # With its jurisdiction: the browsable API lists every measure by name in its filter form.
        queryset=Resolution.objects.published().select_related("jurisdiction"),
        distinct=False,
        label="Measure",
        help_text="The id of a published measure: its actions. Repeatable.",
    )
    classification = django_filters.MultipleChoiceFilter(
        choices=ActionClassification.choices, label="Classification", help_text="Repeatable."
    )

    class Meta:
        model = Action
        fields = ["resolution", "classification"]

    def __init__(self, data=None, queryset=None, **kwargs):
        if queryset is None:
            queryset = Action.objects.published()
        queryset = queryset.chronological()
        super().__init__(data, queryset.order_by("resolution_id", *queryset.query.order_by), **kwargs)


# The text a resolution is found by: a stored tsvector column with a GIN index on PostgreSQL
# (migration 0012 defines both: change them together).
SEARCH_DOCUMENT_SQL = "recognition_resolution.search_document"
# Jurisdiction names, matched as written (no stemming: "Mobile" is a name, not a verb).
_NAMED = (
    "SELECT j.id FROM recognition_jurisdiction j"
    " WHERE to_tsvector('simple', j.name) @@ websearch_to_tsquery('simple', %s)"
)
# The same set twice, for the two plans PostgreSQL chooses between. `= ANY(ARRAY(...))` lets a rare word
# be found from the index on jurisdiction_id (a bitmap beside the text's); but read row by row, as a
# common word's newest matches are, it is a walk through the array, for "city" 16,000 ids a row. `IN`
# before it is a hashed lookup that settles most rows at once. Two parameters: the words, twice.
JURISDICTION_MATCH_SQL = (
    f"(recognition_resolution.jurisdiction_id IN ({_NAMED})"
    f" AND recognition_resolution.jurisdiction_id = ANY(ARRAY({_NAMED})))"
)


_SEARCH_TOKEN = re.compile(r'(?P<negated>-?)"(?P<phrase>[^"]*)"?|(?P<chunk>[^\s"]+)')
# A word: letters or digits, with single hyphens or apostrophes inside ("9-1-1", "O'Brien").
_WORD = re.compile(r"\w+(?:['-]\w+)*")
_WORD_PART = re.compile(r"\w+")


def websearch_text(value):
    """The search rebuilt from its words alone, in websearch_to_tsquery's syntax.

    PostgreSQL's parser fails on some punctuation (33 hyphens in a row: "tsquery
    stack too small"), so nothing but words reaches it: `word`, `"a phrase"`,
    `-word` (left out), and `or` between two terms. Any other character only
    separates words, and words past MAX_SEARCH_WORDS are dropped. "" when no word
    is left.
    """
    terms, budget, alternative = [], MAX_SEARCH_WORDS, False
    for match in _SEARCH_TOKEN.finditer(value):
        chunk, phrase = match.group("chunk"), match.group("phrase")
        if chunk is not None and chunk.lower() == "or":
            alternative = bool(terms)
            continue
        words = []
        for word in _WORD.findall(chunk if chunk is not None else phrase):
            parts = _WORD_PART.findall(word)
            if len(parts) > budget:
                word = "-".join(parts[:budget])  # a long compound, cut at the limit
            words.append(word)
            budget -= min(len(parts), budget)
            if not budget:
                break
        if phrase is None:
            # "or" out of punctuation (":or") is still the operator word: never a term of its own.
            negated = chunk.startswith("-") and words and words[0].lower() != "or"
            kept = [word for word in words if word.lower() != "or"]
            if len(kept) < len(words) and not kept:
                alternative = bool(terms)
                continue
            words = kept
        if not words:
            continue
        if phrase is not None:
            found = [("-" if match.group("negated") else "") + '"' + " ".join(words) + '"']
        else:
            found = [("-" if negated else "") + words[0], *words[1:]]
        if alternative:
            terms.append("or")
            alternative = False
        terms.extend(found)
        if not budget:
            break
    return " ".join(terms)


def full_text_search(queryset, value):
    """PostgreSQL full-text search over the measure and its jurisdiction's name, best matches first.

    Both conditions are answered from GIN indexes (see SEARCH_DOCUMENT_SQL), so a
    search never reads every resolution. The query is built from `websearch_text`,
    never from the raw text; a search with no word in it matches nothing.
    """
    text = websearch_text(value)
    if not text:
        return queryset.none().annotate(rank=Value(0.0, output_field=FloatField()))
    query = "websearch_to_tsquery('english', %s)"
    in_document = RawSQL(f"{SEARCH_DOCUMENT_SQL} @@ {query}", [text], output_field=BooleanField())
    in_name = RawSQL(JURISDICTION_MATCH_SQL, [text, text], output_field=BooleanField())
    rank = RawSQL(f"ts_rank({SEARCH_DOCUMENT_SQL}, {query})", [text], output_field=FloatField())
    return queryset.filter(Q(in_document) | Q(in_name)).annotate(rank=rank)
