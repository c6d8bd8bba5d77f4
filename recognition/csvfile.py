"""Reading the CSV files people give us: one way for every importer (resolutions, census estimates).

Spreadsheets save UTF-8 with or without a byte-order mark, quote cells that span
lines, and leave stray spaces; a person fixing a file needs every problem at once,
each named by line and column. So a file is read whole into records that know the
line they start on, and cells are read through `Cells`, which collects an error
per bad cell instead of stopping at the first.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .dates import PartialDate


@dataclass(frozen=True)
class RowError:
    """One problem, located so a person can find it in a spreadsheet."""

    line: int  # in the file, the header being line 1
    column: str  # "" when the problem is the whole line (e.g. a wrong number of fields)
    message: str

    def __str__(self):
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


def sort_errors(errors, columns):
    """By line, then in the order of the file's columns (whole-line problems first)."""
    return sorted(errors, key=lambda e: (e.line, columns.index(e.column) if e.column in columns else -1))


def read_rows(source, columns):
    """([(line, {column: text})], errors) from a path, bytes, or an open file (text or binary).

    The errors concern the file as a whole (encoding, header, a line with the wrong number
    of fields); every column in `columns` must be in the header. Raises OSError only when a
    path cannot be opened.
    """
    text, error = _read_text(source)
    if error:
        return [], [error]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    listed = ", ".join(columns)
    if not any(header):
        return [], [RowError(1, "", f"the file is empty: the first line must name the columns {listed}")]
    missing = [
        RowError(1, column, f"missing column “{column}”; the header needs {listed}")
        for column in columns
        if column not in header
    ]
    if missing:
        return [], missing
    reader.fieldnames = header
    rows, errors = [], []
    last_line = 1
    for record in reader:
        # A quoted cell may span lines: a record starts on the line after the previous one ended.
        line, last_line = last_line + 1, reader.line_num
        if None in record or None in record.values():
            count = sum(1 for key, value in record.items() if key is not None and value is not None)
            count += len(record.get(None) or [])
            errors.append(RowError(line, "", f"{count} fields, the header has {len(header)}"))
            continue
        rows.append((line, record))
    return rows, errors


def _read_text(source):
    if isinstance(source, (str, Path)):
        return _decode(Path(source).read_bytes())
    data = source if isinstance(source, bytes) else source.read()
    if isinstance(data, bytes):
        return _decode(data)
    return data.removeprefix("\ufeff"), None  # a text stream opened as "utf-8" keeps the BOM


def _decode(data):
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return "", RowError(line, "", "the file is not UTF-8 text: save it as “CSV UTF-8”")


class Cells:
    """One record's cells, read and checked; each bad cell adds a RowError to `errors`.

    A reader returns its best value (None when nothing usable) so that the rest of the
    record can still be checked. `limits` caps the length of text columns.
    """

    limits: dict[str, int] = {}

    def __init__(self, line, record):
        self.line = line
        self.record = record
        self.errors = []

    def error(self, column, message):
        self.errors.append(RowError(self.line, column, message))

    def text(self, column):
        """The cell with stray spaces and line breaks folded, as spreadsheets leave them."""
        value = " ".join(self.record[column].split())
        limit = self.limits.get(column)
        if limit is not None and len(value) > limit:
            self.error(column, f"too long: {len(value)} characters, at most {limit}")
        return value

    def required_text(self, column):
        value = self.text(column)
        if not value:
            self.error(column, "required")
        return value

    def choice(self, column, allowed):
        """One of `allowed` ({text: value}), whatever its case."""
        value = self.text(column).lower()
        if value not in allowed:
            shown = f"“{value}”" if value else "blank"
            self.error(column, f"{shown} is not a {column}; use one of: {', '.join(allowed)}")
            return None
        return allowed[value]

    def partial_date(self, column):
        value = self.text(column)
        if not value:
            return None
        try:
            return PartialDate.parse(value)
        except ValueError as error:
            self.error(column, str(error))
            return None

    def date(self, column):
        value = self.text(column)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.error(column, f"“{value}” is not a date: use YYYY-MM-DD (a real calendar day)")
            return None

    def url(self, column):
        value = self.text(column)
        if value:
            try:
                URLValidator()(value)
            except ValidationError:
                self.error(column, f"“{value}” is not a web address: it should start with https://")
        return value
