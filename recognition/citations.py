"""How to cite a record, or the whole dataset: plain text, APA and BibTeX, each with the access date.

A record's citation names the tracker's page for it and the measure's own source (the first one with
a link: the document that backs the record), so a reader can go to either. The access date is today:
public pages are kept per data version and per day (recognition/pagecache.py), so a cached page never
shows yesterday's date. The dataset's version is the date published data last changed.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from .models import Kind

SITE_NAME = "Dispatcher Recognition Tracker"
DATASET_TITLE = "Laws and resolutions recognizing 911 dispatchers as first responders"
LICENCE = "CC BY 4.0"

# LaTeX's special characters, as BibTeX text must carry them to print as themselves. Braces are spelled
# as commands: BibTeX counts every brace, escaped or not, so a lone "\{" would unbalance the entry.
_BIBTEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


# Pairs TeX's fonts join into another character ("--" prints as an en dash, "``" as a curly quote): an
# empty group between the two keeps each as typed.
_LIGATURE = re.compile(r"(?<=[-`'!?<>,])(?=[-`'<>,])")


def bibtex_text(text):
    """Text for a BibTeX field: LaTeX's specials escaped, whitespace (a line break too) made one space,
    ligatures broken."""
    escaped = "".join(_BIBTEX_TEXT.get(char, char) for char in " ".join(str(text).split()))
    return _LIGATURE.sub("{}", escaped)


def bibtex_url(url):
    """A URL for BibTeX's `url` field, read verbatim by biblatex and hyperref: only what would unbalance
    the braces around it (braces, a backslash) or end it (whitespace) is percent-encoded, as a browser would."""
    return "".join(quote(char) if char in "{}\\" or char.isspace() else char for char in url)


def _long_date(day):
    return f"{day:%B} {day.day}, {day.year}"


def _bibtex(kind, key, fields):
    lines = [f"@{kind}{{{key},"]
    lines += [f"  {name} = {{{value}}}," for name, value in fields if value]
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join([*lines, "}"])


@dataclass(frozen=True)
class Format:
    key: str  # "plain", "apa", "bibtex": ids on the page
    label: str
    text: str


@dataclass(frozen=True)
class Citation:
    plain: str
    apa: str
    bibtex: str

    @property
    def formats(self):
        return [
            Format("plain", "Plain text", self.plain),
            Format("apa", "APA", self.apa),
            Format("bibtex", "BibTeX", self.bibtex),
        ]


def first_linked(sources):
    """The primary source among `sources`, in their listed order: the first with a link, else the first
    (None without any). Anything with a `url` serves: the CSV passes rows read as values."""
    sources = list(sources)
    return next((source for source in sources if source.url), sources[0] if sources else None)


def primary_source(resolution):
    """The measure's own source (`first_linked`), the one its citation, the CSV and the API name.
    Reads `resolution.sources.all()`, which the record's page and the API prefetch."""
    return first_linked(resolution.sources.all())


def _measure_date(resolution):
    """The date the measure's own document carries: its adoption, else its introduction (a PartialDate)."""
    return resolution.adopted or resolution.introduced


def record_citation(resolution, url, accessed):
    """How to cite one record: the tracker's page (`url`, absolute), accessed on `accessed`, and its source."""
    jurisdiction = resolution.jurisdiction
    kind = Kind(resolution.kind).label if resolution.kind in Kind.values else resolution.kind
    dated = _measure_date(resolution)
    source = primary_source(resolution)
    # Who published the measure's document: the source's publisher, else the body that acted, else the place.
    publisher = (source.publisher if source else "") or resolution.body or str(jurisdiction)
    source_title = (source.title if source else "") or resolution.title
    source_url = source.url if source else ""
    facts = ", ".join(
        part for part in (str(jurisdiction), resolution.identifier, dated and dated.display()) if part
    )

    plain = f"{SITE_NAME}, “{resolution.title}” ({facts}), {url}, accessed {_long_date(accessed)}."
    if source:
        plain += " Source: " + ", ".join(part for part in (source_title, publisher, source_url) if part) + "."

    apa = (
        f"{SITE_NAME}. (n.d.). {resolution.title} [{kind} record, {jurisdiction}"
        f"{', ' + resolution.identifier if resolution.identifier else ''}]. "
        f"Retrieved {_long_date(accessed)}, from {url}"
    )
    if source:
        year = dated.year if dated else "n.d."
        apa += f"\n\n{publisher}. ({year}). {source_title}." + (f" {source_url}" if source_url else "")

    key = f"drt-record-{resolution.pk}"
    entries = [
        _bibtex(
            "misc",
            key,
            [
                ("author", f"{{{bibtex_text(SITE_NAME)}}}"),
                ("title", bibtex_text(f"{jurisdiction}: {resolution.title}")),
                (
                    "howpublished",
                    bibtex_text(
                        f"{kind} record" + (f", {resolution.identifier}" if resolution.identifier else "")
                    ),
                ),
                ("url", bibtex_url(url)),
                ("urldate", accessed.isoformat()),
                (
                    "note",
                    bibtex_text(
                        f"Accessed {_long_date(accessed)}"
                        + (f". Source: {source_title}, {publisher}" if source else "")
                    ),
                ),
            ],
        )
    ]
    if source:
        entries.append(
            _bibtex(
                "misc",
                f"{key}-source",
                [
                    ("author", f"{{{bibtex_text(publisher)}}}"),
                    ("title", bibtex_text(source_title)),
                    ("year", str(dated.year) if dated else ""),
                    ("url", bibtex_url(source_url) if source_url else ""),
                    ("urldate", source.accessed_on.isoformat() if source.accessed_on else ""),
                ],
            )
        )
    return Citation(plain=plain, apa=apa, bibtex="\n\n".join(entries))


def dataset_citation(url, version, accessed):
    """How to cite the dataset at `url` (absolute): its version is the date published data last changed
    (None for a dataset with nothing published yet)."""
    version_text = version.isoformat() if version else ""
    year = version.year if version else "n.d."
    plain = (
        f"{SITE_NAME}, “{DATASET_TITLE}” (dataset{', version ' + version_text if version else ''}), {url}, "
        f"accessed {_long_date(accessed)}. Licensed under {LICENCE}."
    )
    apa = (
        f"{SITE_NAME}. ({year}). {DATASET_TITLE}{' (Version ' + version_text + ')' if version else ''} "
        f"[Data set]. Retrieved {_long_date(accessed)}, from {url}"
    )
    bibtex = _bibtex(
        "misc",
        f"drt-dataset-{version_text or 'undated'}",
        [
            ("author", f"{{{bibtex_text(SITE_NAME)}}}"),
            ("title", bibtex_text(DATASET_TITLE)),
            ("year", str(version.year) if version else ""),
            ("version", version_text),
            ("howpublished", "Data set"),
            ("url", bibtex_url(url)),
            ("urldate", accessed.isoformat()),
            ("note", bibtex_text(f"Accessed {_long_date(accessed)}. Licensed under {LICENCE}")),
        ],
    )
    return Citation(plain=plain, apa=apa, bibtex=bibtex)
