"""CSV exports of a filtered search and of the measures' actions, and the plain-text answer to a bad search.

The CSV is streamed: rows are read from the database in batches and written out as
they come, so memory stays flat however many rows match. On PostgreSQL the database
writes each records line; elsewhere Python does (one more query per batch, for the
sources), to the same bytes. Every cell is neutralised against spreadsheet formula
injection.
"""

import contextlib
import csv
import itertools
import re

from django.db import connections, transaction
from django.db.models import Case, F, Func, TextField, Value, When
from django.db.models.functions import Cast, Coalesce
from django.http import HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone

from . import citations, stages
from .dates import stored_isoformat
from .models import (
    ActionClassification,
    Chamber,
    Level,
    Source,
    Stage,
    Status,
    current_stage_expression,
    state_code_expression,
)

CSV_CHUNK_SIZE = 2000  # rows per database batch (and per prefetch query for sources)
SOURCE_URL_SEPARATOR = " | "

# (column, meaning): the header of the CSV, and the column dictionary on the data page.
COLUMNS = [
    ("id", "The record's permanent number on this site."),
    ("jurisdiction", "The government that acted: “Mobile County”, “City of Hanceville”, “Texas”."),
    ("state", "Two-letter USPS code of the state or territory it belongs to. Blank for federal measures."),
    (
        "fips",
        "The jurisdiction's own FIPS code: 2 digits for a state, 5 for a county. "
        "Blank for cities, towns, districts and the nation, which have none here.",
    ),
    (
        "county_fips",
        "For a city, town or district: the 5-digit FIPS code of the county it lies in (not its own). "
        "Blank for other levels.",
    ),
    ("level", "nation, state, county, place (city or town) or district."),
    (
        "population",
        "Resident population of the jurisdiction (states and counties), from the U.S. Census Bureau's "
        "Vintage 2022 estimates. Blank where there is no figure (cities, districts, territories, "
        "Connecticut's former counties).",
    ),
    ("population_year", "The year of that population estimate."),
    ("kind", "statute, resolution, proclamation, ordinance, executive_order or bill."),
    ("status", "introduced (pending), adopted or failed."),
    (
        "stage",
        "Where it stands, from its recorded actions and its status: "
        + ", ".join(Stage.values)
        + " (each explained under “Stages” below). A pending bill whose session has ended keeps the "
        "stage it reached: see session_ended.",
    ),
    ("introduced_on", "When it was introduced, as a partial date (see below)."),
    ("adopted_on", "When it was adopted, as a partial date. Blank when pending, failed or not recorded."),
    ("effective_on", "When it took effect, as a partial date."),
    (
        "latest_action",
        "Its latest recorded action, in one sentence (“Passed the Senate by unanimous consent”). "
        "Blank when no action is recorded; every action is in the actions file.",
    ),
    ("latest_action_on", "When that action happened, as a partial date. Blank when there is none."),
    (
        "session",
        "The legislative session or Congress that holds it (“119th Congress”). Blank when none is "
        "recorded; local measures have none.",
    ),
    (
        "session_ended",
        "yes when it is pending and its session has ended: a bill that was not passed in time dies "
        "with its session, but the outcome is not yet recorded here (never assumed). Otherwise no.",
    ),
    ("identifier", "Bill, act or resolution number, when there is one."),
    ("title", "Title of the measure."),
    ("summary", "One neutral, plain-language sentence."),
    ("body", "The adopting body: “Mobile County Commission”, “Texas Legislature”."),
    ("source_urls", f"Links to the sources, separated by “{SOURCE_URL_SEPARATOR.strip()}”."),
    ("last_verified_on", "When the record was last checked against its sources (YYYY-MM-DD)."),
    ("url", "Permanent link to the record's page on this site."),
    # Newsrooms' scripts read the columns above by position: new columns are only ever appended below.
    (
        "confidence",
        "How well the record is verified: high (an official source, or two sources that agree) or "
        "medium (one reliable secondary source). Records of low confidence are never published.",
    ),
    (
        "source_title",
        "The title of the record's primary source, the one its citation names: its first source with a "
        "link, else its first source. Blank when that source has no title.",
    ),
]
HEADER = [name for name, _meaning in COLUMNS]
# The admin's export adds what only staff see (public exports hold published records only).
STAFF_COLUMNS = [
    ("published", "yes or no: whether the record is public."),
]
STAFF_HEADER = HEADER + [name for name, _meaning in STAFF_COLUMNS]

# A cell starting with one of these can be run as a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as text, prefixed with `'` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


# What a row needs, read as plain values: building model instances for every row
# (resolution, jurisdiction, county, sources) was most of the export's time.
ROW_FIELDS = (
    "pk",
    "jurisdiction__name",
    "state_code",
    "jurisdiction__fips",
    "jurisdiction__county__fips",
    "jurisdiction__level",
    "jurisdiction__population",
    "jurisdiction__population_year",
    "kind",
    "status",
    "stage",
    "introduced_on",
    "introduced_on_precision",
    "adopted_on",
    "adopted_on_precision",
    "effective_on",
    "effective_on_precision",
    "latest_action",
    "latest_action_on",
    "latest_action_on_precision",
    "session__name",
    "session__end_on",
    "identifier",
    "title",
    "summary",
    "body",
    "last_verified_on",
    "published",
    "confidence",
)


def _row_cells(row, sources, url_template, today, *, staff):
    """One CSV row (cells in HEADER order, then STAFF_COLUMNS for staff) from a ROW_FIELDS tuple."""
    (
        pk, name, state, fips, county_fips, level, population, population_year, kind, status, stage,
        introduced_on, introduced_precision, adopted_on, adopted_precision, effective_on, effective_precision,
        latest_action, latest_action_on, latest_action_precision, session, session_end,
        identifier, title, summary, body, last_verified_on, published, confidence,
    ) = row  # fmt: skip
    cells = [
        pk,
        name,
        state,
        fips or "",
        county_fips if level in (Level.PLACE, Level.DISTRICT) and county_fips else "",
        level,
        population,
        population_year,
        kind,
        status,
        stages.current_stage(stage, effective_on, effective_precision, today),
        stored_isoformat(introduced_on, introduced_precision),
        stored_isoformat(adopted_on, adopted_precision),
        stored_isoformat(effective_on, effective_precision),
        latest_action,
        stored_isoformat(latest_action_on, latest_action_precision),
        session or "",
        "yes" if stages.session_ended(status, session_end, today) else "no",
        identifier,
        title,
        summary,
        body,
        SOURCE_URL_SEPARATOR.join(sources.urls),
        last_verified_on.isoformat() if last_verified_on else "",
        url_template.format(pk),
        confidence,
        sources.primary_title,
    ]
    if staff:
        cells.append("yes" if published else "no")
    return [neutralise(cell) for cell in cells]


class _Sources:
    """A record's sources as its row shows them: every link, and the primary source's title."""

    def __init__(self, rows=()):
        self.urls = [row.url for row in rows if row.url]
        primary = citations.first_linked(rows)
        self.primary_title = primary.title if primary else ""


def _sources(resolution_ids):
    """{resolution id: _Sources} for one batch of rows (one query), each record's in their listed order."""
    rows = {}
    found = Source.objects.filter(resolution_id__in=resolution_ids).order_by("id")
    for row in found.values_list("resolution_id", "url", "title", named=True):
        rows.setdefault(row.resolution_id, []).append(row)
    return {resolution_id: _Sources(sources) for resolution_id, sources in rows.items()}


def _record_url_template(absolute_url):
    """ "https://host/resolutions/{}/": one reverse() for the whole export, not one per row."""
    marker = 987654321
    return absolute_url(reverse("recognition:resolution", kwargs={"pk": marker})).replace(str(marker), "{}")


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value):
        return value


def _streamed(header, rows, text):
    """A UTF-8 byte-order mark and the header, then `text(batch)` for each batch of CSV_CHUNK_SIZE rows.

    The first batch is read here, before the caller builds its response: when the database
    cannot answer, the error is raised while a 503 can still be sent, not after a 200 and the
    header row have gone out (the download would then look complete but empty).
    """
    batches = itertools.batched(rows, CSV_CHUNK_SIZE)
    first = next(batches, None)
    first_text = "\ufeff" + header + (text(first) if first else "")
    return itertools.chain([first_text], map(text, batches))


def csv_lines(queryset, absolute_url, *, staff=False):
    """The CSV text as an iterator: a UTF-8 byte-order mark and the header, then the rows batch by batch.

    `absolute_url` turns a path into a full URL (request.build_absolute_uri). `staff` adds the
    STAFF_COLUMNS (the admin's export, which may include drafts). On PostgreSQL the database writes
    each line (two queries whatever the size); elsewhere Python does, with the same bytes.
    """
    if connections[queryset.db].vendor == "postgresql":
        return _Stream(_database_lines(queryset, absolute_url, staff=staff))
    return python_csv_lines(queryset, absolute_url, staff=staff)


def python_csv_lines(queryset, absolute_url, *, staff=False):
    """`csv_lines` written in Python: one query per batch of CSV_CHUNK_SIZE rows reads the rows, one
    more their sources. The export on SQLite, and the reference the database's lines are held to."""
    writer = csv.writer(_Echo())
    url_template = _record_url_template(absolute_url)
    today = timezone.localdate()
    if "state_code" not in queryset.query.annotations:
        queryset = queryset.annotate(state_code=state_code_expression())
    rows = queryset.values_list(*ROW_FIELDS).iterator(chunk_size=CSV_CHUNK_SIZE)

    def text(batch):
        found = _sources([row[0] for row in batch])
        return "".join(
            writer.writerow(
                _row_cells(row, found.get(row[0]) or _Sources(), url_template, today, staff=staff)
            )
            for row in batch
        )

    return _streamed(writer.writerow(STAFF_HEADER if staff else HEADER), rows, text)


# --- Lines written by PostgreSQL -----------------------------------------------------------------
#
# Building every row in Python held the export to ~20,000 rows a second. PostgreSQL writes each line
# as one expression over the search's own queryset (so its filters, search and order are kept), and
# the rows are read through a server-side cursor. The bytes must be the Python writer's: cells
# neutralised against formulas, then quoted as the csv module's default dialect quotes them.

_DIALECT = csv.excel
assert (_DIALECT.delimiter, _DIALECT.quotechar, _DIALECT.lineterminator) == (",", '"', "\r\n")
assert _DIALECT.doublequote and _DIALECT.quoting == csv.QUOTE_MINIMAL


def _sql_chars(characters):
    """SQL for a list of characters, each spelled chr(n): none needs escaping."""
    return ", ".join(f"chr({ord(char)})" for char in characters)


def _regex_class(characters):
    """A bracket expression of PostgreSQL's regular expressions matching any of `characters`."""
    return "[" + "".join(f"\\u{ord(char):04x}" for char in characters) + "]"


# A cell is quoted (QUOTE_MINIMAL) when it holds the delimiter, the quote character or a line break.
_QUOTE_AND_BREAKS = '"\r\n'
_QUOTED_WHEN = "," + _QUOTE_AND_BREAKS


class _Template(Func):
    """A Func whose template names its arguments {0}, {1}, ... as often as it needs: each use carries
    the argument's parameters (a plain Func's template passes them once)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(argument) for argument in self.get_source_expressions()]
        sql, params = [], []
        for position, piece in enumerate(re.split(r"\{(\d)\}", self.template)):
            if position % 2:
                argument_sql, argument_params = compiled[int(piece)]
                sql.append(f"({argument_sql})")
                params.extend(argument_params)
            else:
                sql.append(piece)
        return "".join(sql), params


_FORMULA_SQL = f"left({{0}}, 1) IN ({_sql_chars(FORMULA_TRIGGERS)})"
# A text (never NULL) as its cell: `'` before a formula, then quoted, quotes doubled, when needed.
_CELL_SQL = (
    f"CASE WHEN {{0}} ~ '{_regex_class(_QUOTED_WHEN)}' "
    f"THEN chr(34) || CASE WHEN {_FORMULA_SQL} THEN chr(39) ELSE '' END "
    "|| replace({0}, chr(34), chr(34) || chr(34)) || chr(34) "
    f"WHEN {_FORMULA_SQL} THEN chr(39) || {{0}} ELSE {{0}} END"
)


class _Cell(_Template):
    """A text value as its CSV cell (see `neutralise`); NULL is the empty cell."""

    template = _CELL_SQL

    def __init__(self, expression):
        super().__init__(_text(expression))


class _PartialDate(_Template):
    """A partial date from its two columns: `2022`, `2022-04` or `2022-04-18`; '' for none."""

    template = (
        "COALESCE(left(to_char({0}, 'YYYY-MM-DD'), "
        "CASE {1} WHEN 'year' THEN 4 WHEN 'month' THEN 7 ELSE 10 END), '')"
    )


class _Concat(Func):
    """Its arguments (text, never NULL) end to end."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = TextField()


class _Joined(_Concat):
    """Its arguments (cells) separated by the delimiter."""

    arg_joiner = " || chr(44) || "


class _Row(Func):
    """Its arguments separated by the delimiter, in one step (a NULL argument is left out)."""

    template = "concat_ws(chr(44), %(expressions)s)"
    output_field = TextField()


class _LineWithSources(_Template):
    """A record's line up to its staff columns: the cells `before`, source_urls, the cells `between`,
    source_title.

    One subquery per row reads the sources, in their listed order (every link; the title of the first
    with a link, else of the first). Most rows need no quoting and no formula guard: the cells are
    joined as they are (`plain`), and that text is kept when it proves safe (no quote or line break,
    no cell starting with a formula's character, no delimiter but the separators); otherwise the
    cells are written one by one. OFFSET 0 keeps the plain text computed once, not once per use; its
    delimiters are counted in bytes (counting characters in UTF-8 text cost more than the rest of the test).
    """

    def __init__(self, *, plain_before, plain_between, cells_before, cells_between, count):
        self.commas = count - 1
        super().__init__(
            F("pk"), plain_before, plain_between, cells_before, cells_between, Value(SOURCE_URL_SEPARATOR)
        )

    @property
    def template(self):
        unsafe = f"{_regex_class(_QUOTE_AND_BREAKS)}|,{_regex_class(FORMULA_TRIGGERS)}"
        urls, title = _CELL_SQL.replace("{0}", "urls"), _CELL_SQL.replace("{0}", "title")
        return (
            f"(SELECT CASE WHEN plain ~ '{unsafe}' "
            f"OR octet_length(plain) - octet_length(replace(plain, ',', '')) <> {self.commas} "
            f"THEN {{3}} || chr(44) || {urls} || chr(44) || {{4}} || chr(44) || {title} "
            "ELSE plain END "
            "FROM (SELECT concat_ws(chr(44), {1}, urls, {2}, title) AS plain, urls, title FROM ("
            # In the sources' order (an aggregate keeps its own ORDER BY, not a subquery's).
            "SELECT COALESCE(string_agg(url, {5} ORDER BY id) FILTER (WHERE url <> ''), '') AS urls, "
            "COALESCE((array_agg(title ORDER BY id) FILTER (WHERE url <> ''))[1], "
            "(array_agg(title ORDER BY id))[1], '') AS title "
            f"FROM (SELECT id, url, title FROM {Source._meta.db_table} WHERE resolution_id = {{0}}) "
            "AS listed) AS sources OFFSET 0) AS line)"
        )


def _text(expression):
    """The value as text, '' for NULL."""
    return Coalesce(Cast(expression, TextField()), Value(""))


def _line_expression(url_template, today, *, staff):
    """SQL for a record's line, cells as `_row_cells` makes them, with the line break. Kind, status, stage,
    level and confidence are words the database's constraints allow: never quoted, never a formula."""
    url_head, _braces, url_tail = url_template.partition("{}")
    locality = Case(
        When(jurisdiction__level__in=[Level.PLACE, Level.DISTRICT], then=_text("jurisdiction__county__fips")),
        default=Value(""),
        output_field=TextField(),
    )
    session_ended = Case(
        When(status=Status.INTRODUCED, session__end_on__lt=today, then=Value("yes")), default=Value("no")
    )
    # (value, whether it is free text that may need quoting or a formula guard), in HEADER order.
    before = [
        (_text("pk"), False),
        (_text("jurisdiction__name"), True),
        (_text("state_code"), True),
        (_text("jurisdiction__fips"), True),
        (locality, True),
        (F("jurisdiction__level"), False),
        (_text("jurisdiction__population"), False),
        (_text("jurisdiction__population_year"), False),
        (F("kind"), False),
        (F("status"), False),
        (current_stage_expression(today), False),
        (_PartialDate("introduced_on", "introduced_on_precision"), False),
        (_PartialDate("adopted_on", "adopted_on_precision"), False),
        (_PartialDate("effective_on", "effective_on_precision"), False),
        (_text("latest_action"), True),
        (_PartialDate("latest_action_on", "latest_action_on_precision"), False),
        (_text("session__name"), True),
        (session_ended, False),
        (_text("identifier"), True),
        (_text("title"), True),
        (_text("summary"), True),
        (_text("body"), True),
    ]
    # source_urls comes here
    between = [
        (_PartialDate("last_verified_on", Value("day")), False),
        (_Concat(Value(url_head), _text("pk"), Value(url_tail)), True),
        (F("confidence"), False),
    ]
    # then source_title

    def cells(values):
        return _Joined(*[_Cell(value) if free else value for value, free in values])

    line = _LineWithSources(
        plain_before=_Row(*[value for value, _free in before]),
        plain_between=_Row(*[value for value, _free in between]),
        cells_before=cells(before),
        cells_between=cells(between),
        count=len(before) + 1 + len(between) + 1,
    )
    published = Case(When(published=True, then=Value(",yes")), default=Value(",no"))
    return _Concat(line, published if staff else Value(""), Value(_DIALECT.lineterminator))


# Settings for the export's transaction only. JIT compiling the big query cost more than it saved; every
# row is read, so the plan is made for all of them (one quick to its first rows was ~20% slower in all).
# The two timeouts bound what a download holds the database for (see `_database_lines`).
EXPORT_IDLE_TIMEOUT = "30s"
EXPORT_STATEMENT_TIMEOUT = "60s"
_EXPORT_SETTINGS = (
    "SELECT set_config('jit', 'off', true), set_config('cursor_tuple_fraction', '1', true), "
    "set_config('idle_in_transaction_session_timeout', %s, true), set_config('statement_timeout', %s, true)"
)


def _database_lines(queryset, absolute_url, *, staff):
    """The lines as PostgreSQL writes them, header and first batch in the first text.

    The cursor is read inside a transaction, which scopes the settings (a connection pooler hands the
    connection on unchanged) and spares the WITH HOLD cursor Django declares outside one, whose whole
    result PostgreSQL copies aside when the statement commits.

    That transaction lasts as long as the download, and while it is open its snapshot keeps VACUUM from
    cleaning up and its lock queues a migration (and everything behind that). So it is bounded: a client
    that stops reading for EXPORT_IDLE_TIMEOUT (the transaction idle between two batches) has its
    connection ended by PostgreSQL, and a batch that takes more than EXPORT_STATEMENT_TIMEOUT to read is
    cancelled. Either way the next batch raises: the server breaks the response off (the client sees a
    cut download, never a CSV that looks whole), and Django drops the broken connection at the end of
    the request. A client that keeps reading, however slowly, still holds the transaction (PostgreSQL 15
    has no limit on a transaction's whole length).
    """
    url_template = _record_url_template(absolute_url)
    if "state_code" not in queryset.query.annotations:
        queryset = queryset.annotate(state_code=state_code_expression())
    line = _line_expression(url_template, timezone.localdate(), staff=staff)
    lines = queryset.annotate(csv_line=line).values_list("csv_line", flat=True)
    header = csv.writer(_Echo()).writerow(STAFF_HEADER if staff else HEADER)
    with _transaction(queryset.db):
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(_EXPORT_SETTINGS, [EXPORT_IDLE_TIMEOUT, EXPORT_STATEMENT_TIMEOUT])
        rows = lines.iterator(chunk_size=CSV_CHUNK_SIZE)
        try:
            batches = itertools.batched(rows, CSV_CHUNK_SIZE)
            yield "\ufeff" + header + "".join(next(batches, ()))
            for batch in batches:
                yield "".join(batch)
        finally:
            rows.close()  # its server-side cursor, while the transaction that holds it is open


def _transaction(using):
    """A transaction for the export, or none when one is open already (a test's): a block of the caller's
    must not be ended from inside a generator, which may be closed at any time (a download cut short)."""
    if connections[using].in_atomic_block:
        return contextlib.nullcontext()
    return transaction.atomic(using=using)


class _Stream:
    """A started generator of text as a response's content: its first item is read now, so that a
    database error is raised before the response starts (see `_streamed`), and closing the response
    closes the generator (ending its transaction) even when the download is cut short."""

    def __init__(self, generator):
        self.generator = generator
        self.first = next(generator)

    def __iter__(self):
        first, self.first = self.first, None
        yield first
        yield from self.generator

    def close(self):
        self.generator.close()


# --- The actions -------------------------------------------------------------------------------

# (column, meaning): the header of the actions CSV, and its column dictionary on the data page. A row
# names its measure as the starter actions file does, plus the measure's id and page.
ACTION_COLUMNS = [
    ("id", "The action's permanent number on this site."),
    (
        "level",
        "The measure's jurisdiction level, as in the records file: nation, state, county, place or district.",
    ),
    ("state", "Two-letter USPS code of the measure's state or territory. Blank for federal measures."),
    ("jurisdiction", "The government whose measure it is, as in the records file."),
    ("identifier", "The measure's bill, act or resolution number, when there is one."),
    ("date", "When the action happened, as a partial date (see “Partial dates”)."),
    (
        "chamber",
        f"Who acted: {Chamber.LOWER} (the House, or Assembly), {Chamber.UPPER} (the Senate), "
        f"{Chamber.EXECUTIVE} (the President, a Governor or a Mayor). Blank when no chamber acted "
        "(a bill dying with its session).",
    ),
    (
        "classification",
        "What the action did, in Open States' words: " + ", ".join(ActionClassification.values) + ".",
    ),
    ("description", "What happened, in one plain sentence."),
    ("source_url", "The source that reports the action."),
    ("resolution_id", "The measure's id: the id column of the records file."),
    ("resolution_url", "Permanent link to the measure's page on this site, which lists its actions."),
]
ACTION_HEADER = [name for name, _meaning in ACTION_COLUMNS]
ACTION_ROW_FIELDS = (
    "pk",
    "resolution__jurisdiction__level",
    "state_code",
    "resolution__jurisdiction__name",
    "resolution__identifier",
    "on",
    "on_precision",
    "chamber",
    "classification",
    "description",
    "source_url",
    "resolution_id",
)


def action_csv_lines(queryset, absolute_url):
    """The actions CSV as an iterator, like `csv_lines`: one query per batch of CSV_CHUNK_SIZE rows."""
    writer = csv.writer(_Echo())
    url_template = _record_url_template(absolute_url)
    queryset = queryset.annotate(state_code=state_code_expression("resolution__jurisdiction__"))
    rows = queryset.values_list(*ACTION_ROW_FIELDS).iterator(chunk_size=CSV_CHUNK_SIZE)

    def cells(row):
        pk, level, state, name, identifier, on, precision, *what, resolution_id = row
        date = stored_isoformat(on, precision)
        values = [pk, level, state, name, identifier, date, *what, resolution_id]
        return [neutralise(value) for value in [*values, url_template.format(resolution_id)]]

    def text(batch):
        return "".join(writer.writerow(cells(row)) for row in batch)

    return _streamed(writer.writerow(ACTION_HEADER), rows, text)


def csv_filename(what="dispatcher-recognition"):
    return f"{what}-{timezone.localdate().isoformat()}.csv"


def printable(text):
    """Control characters (a NUL byte in a query, say) shown as U+FFFD, never echoed raw."""
    return "".join("\ufffd" if ord(char) < 32 else char for char in str(text))


def filter_errors(filterset):
    """[(label, [message, ...])] for an invalid ResolutionFilter, in the form's field order."""
    form = filterset.form
    errors = []
    for name, messages in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Search"
        errors.append((label or name, [printable(message) for message in messages]))
    return errors


def bad_request(filterset):
    """A plain-text 400 listing each error by field, for the CSV and the feeds."""
    lines = ["This search cannot be run:"]
    for label, messages in filter_errors(filterset):
        lines.extend(f"- {label}: {message}" for message in messages)
    return HttpResponseBadRequest("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
