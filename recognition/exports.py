"""CSV export of a filtered search, and the plain-text answer to a bad search.

The CSV is streamed: rows are read from the database in batches (one query for
the sources of each batch) and written out as they come, so memory stays flat
however many rows match. Every cell is neutralised against spreadsheet formula
injection.
"""

import csv

from django.db.models import Prefetch
from django.http import HttpResponseBadRequest
from django.utils import timezone

from .models import Level, Source

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
    ("introduced_on", "When it was introduced, as a partial date (see below)."),
    ("adopted_on", "When it was adopted, as a partial date. Blank when pending, failed or not recorded."),
    ("effective_on", "When it took effect, as a partial date."),
    ("identifier", "Bill, act or resolution number, when there is one."),
    ("title", "Title of the measure."),
    ("summary", "One neutral, plain-language sentence."),
    ("body", "The adopting body: “Mobile County Commission”, “Texas Legislature”."),
    ("source_urls", f"Links to the sources, separated by “{SOURCE_URL_SEPARATOR.strip()}”."),
    ("last_verified_on", "When the record was last checked against its sources (YYYY-MM-DD)."),
    ("url", "Permanent link to the record's page on this site."),
]
HEADER = [name for name, _meaning in COLUMNS]
# The admin's export adds what only staff see (public exports hold published records only).
STAFF_COLUMNS = [
    ("published", "yes or no: whether the record is public."),
    ("confidence", "high, medium or low."),
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


def _iso(partial_date):
    return partial_date.isoformat() if partial_date else ""


def csv_row(resolution, absolute_url):
    """One CSV row (a list of cells, in HEADER order) for a resolution.

    Expects the jurisdiction, its parent and county selected and the sources
    prefetched, as `export_queryset` does, and the `state_code` annotation of
    ResolutionFilter.
    """
    jurisdiction = resolution.jurisdiction
    county_fips = ""
    if jurisdiction.level in (Level.PLACE, Level.DISTRICT) and jurisdiction.county_id:
        county_fips = jurisdiction.county.fips or ""
    cells = [
        resolution.pk,
        jurisdiction.name,
        resolution.state_code,
        jurisdiction.fips or "",
        county_fips,
        jurisdiction.level,
        jurisdiction.population,
        jurisdiction.population_year,
        resolution.kind,
        resolution.status,
        _iso(resolution.introduced),
        _iso(resolution.adopted),
        _iso(resolution.effective),
        resolution.identifier,
        resolution.title,
        resolution.summary,
        resolution.body,
        SOURCE_URL_SEPARATOR.join(source.url for source in resolution.sources.all() if source.url),
        resolution.last_verified_on.isoformat() if resolution.last_verified_on else "",
        absolute_url(resolution.get_absolute_url()),
    ]
    return [neutralise(cell) for cell in cells]


def export_queryset(queryset):
    """The filtered queryset, with what a row needs fetched in bulk."""
    sources = Source.objects.only("id", "resolution_id", "url")
    return queryset.select_related("jurisdiction__county").prefetch_related(Prefetch("sources", sources))


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value):
        return value


def staff_cells(resolution):
    return [neutralise("yes" if resolution.published else "no"), neutralise(resolution.confidence)]


def csv_lines(queryset, absolute_url, *, staff=False):
    """Yield the CSV text: a UTF-8 byte-order mark and the header, then the rows batch by batch.

    `absolute_url` turns a path into a full URL (request.build_absolute_uri). `staff` adds the
    STAFF_COLUMNS (the admin's export, which may include drafts).
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(STAFF_HEADER if staff else HEADER)
    batch = []
    for resolution in export_queryset(queryset).iterator(chunk_size=CSV_CHUNK_SIZE):
        cells = csv_row(resolution, absolute_url)
        if staff:
            cells += staff_cells(resolution)
        batch.append(writer.writerow(cells))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_filename():
    return f"dispatcher-recognition-{timezone.localdate().isoformat()}.csv"


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
