"""The public change log (`/changes/`): every change to published data, newest first, in plain words.

Built from the change history that django-simple-history already keeps for measures, their actions
and their sources; it has no table of its own. A history row is a public change when:

- **a measure's row** publishes it (published, and its previous row was a draft or there is none:
  "Added"), withdraws it (unpublished or deleted while published: "Withdrawn from publication"), or,
  published before and after, changes its status ("Status") or a public field ("Corrected");
- **an action's or a source's row** was written while its measure had been published for at least
  `PUBLISH_WINDOW` and stayed so: a new action is "Status: S. 725 passed the Senate", a new or
  removed source "Source added"/"Source removed", any other change "Corrected". Actions and sources
  saved with the measure as it is published (the admin saves them just after the measure) are part
  of that publication, not news of their own; so are those removed with a measure being deleted.

A change made while a record was a draft never appears, nor do staff-only fields (who made a change
and why, the link checker's findings), nor re-verification alone (confidence, last verified): the
record's page shows those. Everything an entry says comes from history rows that were public when
written, never from a draft's current values.

The rows are chosen, ordered and paged by the database (UNION ALL of the three filtered history
tables, each row's previous version found by an indexed correlated subquery on the object's id), so a
page costs the same few queries whatever the size of the history; the words are made in Python for
the page's rows only.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from .dates import PartialDate
from .exports import printable
from .filters import STATE_CHOICES
from .models import (
    Action,
    ActionClassification,
    Chamber,
    Jurisdiction,
    Kind,
    LegislativeSession,
    Resolution,
    Source,
    Status,
    in_states,
)

PAGE_SIZE = 50
# Actions and sources saved this close after a measure's publication are part of it (see the docstring).
PUBLISH_WINDOW = datetime.timedelta(seconds=60)
ADDED, STATUS, CORRECTED, WITHDRAWN = "Added", "Status", "Corrected", "Withdrawn from publication"
SOURCE_ADDED, SOURCE_REMOVED = "Source added", "Source removed"

# The public fields of each history, by what a reader calls them (several columns may make one part).
MEASURE_PARTS = {
    "jurisdiction": ("jurisdiction_id",),
    "kind": ("kind",),
    "adopting body": ("body",),
    "number": ("identifier",),
    "title": ("title",),
    "summary": ("summary",),
    "introduction date": ("introduced_on", "introduced_on_precision"),
    "adoption date": ("adopted_on", "adopted_on_precision"),
    "effective date": ("effective_on", "effective_on_precision"),
    "session": ("session_id",),
}
ACTION_PARTS = {
    "measure": ("resolution_id",),
    "date": ("on", "on_precision"),
    "chamber": ("chamber",),
    "kind of action": ("classification",),
    "description": ("description",),
    "source": ("source_url",),
}
SOURCE_PARTS = {
    "measure": ("resolution_id",),
    "link": ("url",),
    "title": ("title",),
    "publisher": ("publisher",),
    "access date": ("accessed_on",),
    "archived copy": ("archived_url",),
}
# Values short enough to quote in an entry ("adoption date: 2021 → September 14, 2021").
QUOTED_PARTS = {
    "kind",
    "adopting body",
    "number",
    "title",
    "introduction date",
    "adoption date",
    "effective date",
    "jurisdiction",
    "date",
    "chamber",
    "kind of action",
    "description",
    "session",
}

HistoricalResolution = Resolution.history.model
HistoricalAction = Action.history.model
HistoricalSource = Source.history.model

_SEPARATOR = Value("\x1f")


def _columns(parts):
    return [column for columns in parts.values() for column in columns]


class _Joined(Func):
    """`a || b || c`, flat (Concat nests one level per piece, past what SQLite's parser takes)."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = TextField()


def _fingerprint(columns, prefix=()):
    """One text of a row's public columns, to tell in SQL whether any of them changed."""
    pieces = list(prefix)
    for column in columns:
        pieces += [Coalesce(Cast(column, TextField()), Value("")), _SEPARATOR]
    return _Joined(*pieces)


def _previous(model):
    """The same object's row before this one (history ids grow with every row written)."""
    return model.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id")).order_by(
        "-history_id"
    )


# A measure's row as one text: published or draft first, then its status and public fields.
_MEASURE_KEY = _fingerprint(
    _columns(MEASURE_PARTS),
    prefix=(Case(When(published=True, then=Value("P")), default=Value("D")), F("status"), _SEPARATOR),
)


def _page_columns(queryset, kind, measure_row):
    """The columns every branch of the union gives, in one order: annotations only, added in that order."""
    return (
        queryset.annotate(
            when=F("history_date"),
            change_kind=Value(kind, output_field=TextField()),
            row=F("history_id"),
            previous_row=Subquery(_previous(queryset.model).values("history_id")[:1]),
            measure_row=measure_row,
        )
        .order_by()
        .values_list("when", "change_kind", "row", "previous_row", "measure_row")
    )


def _where(rows, condition):
    """`rows` that meet `condition`, given to the database as one opaque boolean.

    PostgreSQL cannot tell how many history rows pass these subqueries and guessed about 1 in 100:
    it then read a whole history and sorted it, even for the first page. A CASE it estimates at one
    half, so it walks the index on the change's date, newest first, and stops when the page is full.
    """
    return rows.filter(
        Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def _measure_changes(states=()):
    rows = HistoricalResolution.objects.annotate(
        key=_MEASURE_KEY,
        previous_key=Subquery(_previous(HistoricalResolution).annotate(k=_MEASURE_KEY).values("k")[:1]),
    )
    was_public = Q(previous_key__startswith="P")
    rows = _where(
        rows,
        # published: new, or after being a draft
        (
            Q(published=True)
            & ~Q(history_type="-")
            & (Q(previous_key__isnull=True) | Q(previous_key__startswith="D"))
        )
        # withdrawn: unpublished, or deleted while published
        | Q(history_type="-", published=True)
        | (Q(published=False) & was_public)
        # public before and after, and its status or a public field changed
        | (Q(published=True) & ~Q(history_type="-") & was_public & ~Q(previous_key=F("key"))),
    )
    if states:
        rows = rows.filter(jurisdiction_id__in=Jurisdiction.objects.filter(in_states(states)).values("pk"))
    return _page_columns(rows, "r", F("history_id"))


def _part_changes(model, parts, kind, states=()):
    """Changes to a measure's actions or sources while the measure was public (see the module docstring)."""
    key = _fingerprint(_columns(parts))
    measure = HistoricalResolution.objects.filter(id=OuterRef("resolution_id"))
    newest_first = ("-history_date", "-history_id")
    rows = model.objects.annotate(
        key=key,
        previous_key=Subquery(_previous(model).annotate(k=key).values("k")[:1]),
        window_start=ExpressionWrapper(F("history_date") - PUBLISH_WINDOW, output_field=DateTimeField()),
        window_end=ExpressionWrapper(F("history_date") + PUBLISH_WINDOW, output_field=DateTimeField()),
        public_before=Subquery(
            measure.filter(history_date__lte=OuterRef("window_start"))
            .exclude(history_type="-")
            .order_by(*newest_first)
            .values("published")[:1]
        ),
        draft_meanwhile=Exists(
            measure.filter(
                history_date__gt=OuterRef("window_start"), history_date__lte=OuterRef("window_end")
            ).filter(Q(published=False) | Q(history_type="-"))
        ),
    )
    rows = _where(
        rows,
        Q(public_before=True, draft_meanwhile=False)
        & (Q(history_type__in=["+", "-"]) | Q(previous_key__isnull=True) | ~Q(previous_key=F("key"))),
    )
    if states:
        inside = Jurisdiction.objects.filter(in_states(states)).values("pk")
        rows = rows.filter(resolution_id__in=Resolution.objects.filter(jurisdiction__in=inside).values("pk"))
    # The measure as it stood when the change was made (public then): what the entry names.
    measure_row = Subquery(
        measure.filter(history_date__lte=OuterRef("history_date"))
        .order_by(*newest_first)
        .values("history_id")[:1]
    )
    return _page_columns(rows, kind, measure_row)


def change_branches(states=()):
    """The public changes of measures, actions and sources: three querysets of (when, kind, history id,
    previous history id, measure's history id), each to be read newest first."""
    return (
        _measure_changes(states),
        _part_changes(HistoricalAction, ACTION_PARTS, "a", states),
        _part_changes(HistoricalSource, SOURCE_PARTS, "s", states),
    )


NEWEST_FIRST = ("-when", "-row")


def newest_changes(states=(), offset=0, limit=PAGE_SIZE):
    """Public changes `offset` to `offset + limit`, newest first, in three queries.

    Each history is read newest first along its index on the change's date, as far as this page
    needs and no further (a UNION of the three, ordered as one, made PostgreSQL filter every row of
    the history before sorting); the three short lists are merged here.
    """
    rows = []
    for branch in change_branches(states):
        rows += branch.order_by(*NEWEST_FIRST)[: offset + limit]
    rows.sort(key=lambda row: (row[0], row[1], row[2]), reverse=True)
    return rows[offset : offset + limit]


# --- In words -------------------------------------------------------------------------------------


@dataclass
class Change:
    anchor: str  # "change-r12": unique on the page and in the feed
    when: datetime.datetime
    word: str  # ADDED, STATUS, CORRECTED, ...
    text: str
    details: list = field(default_factory=list)
    url: str = ""  # the record's page (or an action on it), while it is published
    state: str = ""  # the USPS code, "" for a federal measure

    @property
    def headline(self):
        return f"{self.word}: {self.text}"

    @property
    def day(self):
        return timezone.localtime(self.when).date()


@dataclass
class ChangePage:
    number: int
    changes: list
    has_next: bool

    @property
    def has_previous(self):
        return self.number > 1


def _values(row, parts):
    return {label: tuple(getattr(row, column) for column in columns) for label, columns in parts.items()}


def changed_parts(row, previous, parts):
    """The parts (by their names) whose columns differ between two rows of one object, in `parts` order."""
    if previous is None:
        return []
    before, after = _values(previous, parts), _values(row, parts)
    return [label for label in parts if before[label] != after[label]]


def _and(words):
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


class _Names:
    """What entries name: jurisdictions (loaded once for the page) and measures as their rows stood."""

    def __init__(self, jurisdictions, sessions=None):
        self.jurisdictions = jurisdictions
        self.sessions = sessions or {}

    def jurisdiction(self, pk):
        found = self.jurisdictions.get(pk)
        return str(found) if found else "an unknown jurisdiction"

    def state(self, pk):
        found = self.jurisdictions.get(pk)
        state = found.state if found else None
        return state.usps if state else ""

    def measure(self, row):
        """ "City of Mobile, AL resolution", "Alabama statute HB 414", "United States bill S. 725"."""
        kind = Kind(row.kind).label.lower() if row.kind in Kind.values else row.kind
        name = f"{self.jurisdiction(row.jurisdiction_id)} {kind}"
        return f"{name} {row.identifier}" if row.identifier else name

    def value(self, label, values):
        """A part's value as the public pages show it."""
        if label == "jurisdiction":
            return self.jurisdiction(values[0])
        if label == "session":
            found = self.sessions.get(values[0])
            return found.name if found else "none"
        if label == "kind":
            return Kind(values[0]).label if values[0] in Kind.values else values[0]
        if len(values) == 2 and isinstance(values[0], datetime.date):
            return PartialDate.from_stored(*values).display()
        if label == "chamber":
            return _chamber_label(values[0])
        if label == "kind of action":
            return _classification_label(values[0])
        value = values[0]
        return "none" if value in (None, "") else str(value)


def _chamber_label(value):
    return Chamber(value).label if value in Chamber.values else (value or "none")


def _classification_label(value):
    return ActionClassification(value).label if value in ActionClassification.values else value


def _details(names, row, previous, parts, labels):
    details = []
    for label in labels:
        if label in QUOTED_PARTS:
            before = names.value(label, tuple(getattr(previous, c) for c in parts[label]))
            after = names.value(label, tuple(getattr(row, c) for c in parts[label]))
            details.append(f"{label[0].upper()}{label[1:]}: {before} → {after}")
        else:
            details.append(f"{label[0].upper()}{label[1:]} changed")
    return details


def _measure_change(row, previous, names, link):
    # A record withdrawn (and perhaps edited in the same save) is named as it last stood in public.
    shown = previous if (row.history_type == "-" or not row.published) and previous is not None else row
    name = names.measure(shown)
    base = {
        "anchor": f"change-r{row.history_id}",
        "when": row.history_date,
        "state": names.state(row.jurisdiction_id),
    }
    was_public = previous is not None and previous.published
    if row.history_type == "-" or not row.published:
        return Change(word=WITHDRAWN, text=name, details=[shown.title], **base)
    base["url"] = link
    if not was_public:
        return Change(word=ADDED, text=name, details=[row.title], **base)
    labels = changed_parts(row, previous, MEASURE_PARTS)
    details = _details(names, row, previous, MEASURE_PARTS, labels)
    if row.status != previous.status:
        status = {Status.INTRODUCED: "pending", Status.ADOPTED: "adopted", Status.FAILED: "failed"}
        now = status.get(row.status, row.status)
        was = status.get(previous.status, previous.status)
        return Change(word=STATUS, text=f"{name} {now} (was {was})", details=[row.title, *details], **base)
    if not labels:  # no earlier row: what changed was not recorded
        return Change(word=CORRECTED, text=name, details=[row.title], **base)
    return Change(word=CORRECTED, text=f"{_and(labels)} of {name}", details=[row.title, *details], **base)


def _action_change(row, previous, measure_row, names, link):
    name = names.measure(measure_row) if measure_row else "a record no longer published"
    base = {
        "anchor": f"change-a{row.history_id}",
        "when": row.history_date,
        "state": names.state(measure_row.jurisdiction_id) if measure_row else "",
    }
    date = PartialDate.from_stored(row.on, row.on_precision)
    said = f"{date.display()}: {row.description}" if date else row.description
    if row.history_type == "+":
        action = row.instance
        action.resolution = _measure_from_row(measure_row, names) if measure_row else Resolution(title=name)
        return Change(
            word=STATUS,
            text=action.headline,
            details=[name, said],
            url=f"{link}#action-{row.id}" if link else "",
            **base,
        )
    if row.history_type == "-":
        return Change(word=CORRECTED, text=f"an action of {name} removed", details=[said], url=link, **base)
    labels = changed_parts(row, previous, ACTION_PARTS)
    details = [said, *_details(names, row, previous, ACTION_PARTS, labels)]
    what = f"{_and(labels)} of an action of {name}" if labels else f"an action of {name}"
    return Change(
        word=CORRECTED, text=what, details=details, url=f"{link}#action-{row.id}" if link else "", **base
    )


def _source_change(row, previous, measure_row, names, link):
    name = names.measure(measure_row) if measure_row else "a record no longer published"
    base = {
        "anchor": f"change-s{row.history_id}",
        "when": row.history_date,
        "state": names.state(measure_row.jurisdiction_id) if measure_row else "",
        "url": link,
    }
    said = row.title or row.url
    if row.history_type == "+":
        return Change(word=SOURCE_ADDED, text=name, details=[said], **base)
    if row.history_type == "-":
        return Change(word=SOURCE_REMOVED, text=name, details=[said], **base)
    labels = changed_parts(row, previous, SOURCE_PARTS)
    what = f"{_and(labels)} of a source of {name}" if labels else f"a source of {name}"
    return Change(
        word=CORRECTED,
        text=what,
        details=[said, *_details(names, row, previous, SOURCE_PARTS, labels)],
        **base,
    )


def _measure_from_row(row, names):
    """A measure as its history row stood, with its jurisdiction, for an action's headline."""
    measure = Resolution(
        pk=row.id, kind=row.kind, identifier=row.identifier, title=row.title, status=row.status
    )
    measure.jurisdiction = names.jurisdictions.get(row.jurisdiction_id) or Jurisdiction(name="")
    return measure


def page(number=1, states=(), size=PAGE_SIZE):
    """Page `number` of the public changes (of these states' measures and of everything in them), newest first.

    At most nine queries whatever the history's size: the page's rows from each of the three histories
    (one more than the page holds, to know whether another page follows), the measures', actions' and sources' history rows they name, the
    jurisdictions, the sessions (when a row has one), and which measures are published now (only those
    are linked).
    """
    rows = newest_changes(states, (number - 1) * size, size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    wanted = {"r": set(), "a": set(), "s": set()}
    for _when, kind, row, previous, measure_row in rows:
        wanted[kind].update(pk for pk in (row, previous) if pk)
        if measure_row:
            wanted["r"].add(measure_row)
    loaded = {
        kind: {h.history_id: h for h in model.objects.filter(history_id__in=ids)} if ids else {}
        for kind, model, ids in (
            ("r", HistoricalResolution, wanted["r"]),
            ("a", HistoricalAction, wanted["a"]),
            ("s", HistoricalSource, wanted["s"]),
        )
    }
    measures = loaded["r"]
    jurisdiction_ids = {h.jurisdiction_id for h in measures.values()}
    jurisdictions = (
        Jurisdiction.objects.select_related("parent").in_bulk(jurisdiction_ids) if jurisdiction_ids else {}
    )
    session_ids = {h.session_id for h in measures.values() if h.session_id}
    names = _Names(jurisdictions, LegislativeSession.objects.in_bulk(session_ids) if session_ids else {})
    measure_ids = {h.id for h in measures.values()}
    public_now = (
        set(Resolution.objects.published().filter(pk__in=measure_ids).values_list("pk", flat=True))
        if measure_ids
        else set()
    )

    def link(measure_id):
        return Resolution(pk=measure_id).get_absolute_url() if measure_id in public_now else ""

    changes = []
    for _when, kind, row, previous, measure_row in rows:
        current = loaded[kind][row]
        before = loaded[kind].get(previous)
        if kind == "r":
            changes.append(_measure_change(current, before, names, link(current.id)))
            continue
        measure = measures.get(measure_row)
        url = link(measure.id) if measure else ""
        make = _action_change if kind == "a" else _source_change
        changes.append(make(current, before, measure, names, url))
    return ChangePage(number=number, changes=changes, has_next=has_next)


# --- What a request asks for ------------------------------------------------------------------------

# Pages further back cost more (each history is read down to the page): at 150,000 history rows, page 1
# took 0.2 to 0.3 s on PostgreSQL and page 100 about 1 s; a state's changes go back further per page.
MAX_PAGE = 100
STATE_NAMES = dict(STATE_CHOICES)


class BadQuery(ValueError):
    """A parameter /changes/ cannot use; the message says why, in words."""


def read_query(params):
    """(states, page number) from /changes/'s parameters: `state` (USPS codes, any case, repeatable;
    none is every state) and `page` (1 when absent). Anything else is a BadQuery."""
    states = []
    for value in params.getlist("state"):
        code = value.strip().upper()
        if not code:
            continue
        if code not in STATE_NAMES:
            shown = printable(value[:20] + ("…" if len(value) > 20 else ""))
            raise BadQuery(f"“{shown}” is not the two-letter code of a state or territory (AL, TX, PR…).")
        if code not in states:
            states.append(code)
    number = params.get("page", "1").strip() or "1"
    if not (number.isascii() and number.isdigit()) or len(number) > 6 or int(number) < 1:
        shown = printable(number[:20] + ("…" if len(number) > 20 else ""))
        raise BadQuery(f"“{shown}” is not a page number.")
    if int(number) > MAX_PAGE:
        raise BadQuery(
            f"Only the newest {MAX_PAGE} pages of changes are listed: for older ones, download the data "
            "(every record with its dates) or read a record's own page."
        )
    return states, int(number)


def last_changed():
    """When published data last changed (the newest change listed here), as an aware datetime; None when
    nothing is published. Data loaded without history (a fixture, an old database) falls back to the
    published records' own last save. One query, two in that case."""
    newest = [branch.order_by(*NEWEST_FIRST).values("when")[:1] for branch in change_branches()]
    found = (  # any one row of the records' table carries the three answers
        Resolution.objects.order_by()
        .annotate(a=Subquery(newest[0]), b=Subquery(newest[1]), c=Subquery(newest[2]))
        .values_list("a", "b", "c")[:1]
    )
    moments = [moment for moment in next(iter(found), ()) if moment is not None]
    if moments:
        return max(moments)
    return Resolution.objects.published().aggregate(latest=Max("updated_at"))["latest"]
