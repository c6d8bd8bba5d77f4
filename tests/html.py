"""Small HTML readers for tests: what a person (or a screen reader) would find on a page."""

import re
from html.parser import HTMLParser

# A number in SVG path data, as a browser reads it (SVG 2, "The grammar for path data"): an optional sign,
# then digits with an optional fraction, or a fraction alone; it ends where the next cannot continue it.
SVG_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")


class _RegionParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.regions = {}
        self.link_labels = []
        self.paths = []
        self._links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self._links.append(attrs)
            if attrs.get("aria-label"):
                self.link_labels.append(attrs["aria-label"])
        if tag == "path" and "data-fips" in attrs:
            self.paths.append((attrs.get("d"), attrs["data-fips"], attrs.get("data-status")))
        for fips in (attrs.get("data-fips") or "").split():  # a path may draw several (the county layer)
            assert fips not in self.regions, f"region {fips} drawn twice"
            self.regions[fips] = attrs.get("data-status")


def map_regions(html):
    """{fips: status} for every region drawn: each code in the data-fips of an element."""
    parser = _RegionParser()
    parser.feed(html)
    return parser.regions


def paths_in(html):
    """[(d, data-fips, data-status)] of every path carrying data-fips, in document order."""
    parser = _RegionParser()
    parser.feed(html)
    return parser.paths


def link_labels(html):
    parser = _RegionParser()
    parser.feed(html)
    return parser.link_labels


class _CoverageParser(HTMLParser):
    """Reads the coverage table (rows marked data-part), the legends and the standing sentence."""

    def __init__(self):
        super().__init__()
        self.parts = {}
        self.legend = {}
        self.standing = None
        self._part = None
        self._cells = None
        self._cell = None
        self._legend_item = None
        self._legend_field = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "tr" and "data-part" in attrs:
            self._part, self._cells = attrs["data-part"], []
        elif tag == "td" and self._part is not None:
            self._cell = ""
        elif tag == "section" and "standing" in classes:
            self.standing = next(c.removeprefix("standing--") for c in classes if c.startswith("standing--"))
        elif tag == "li" and "legend__item" in classes:
            self._legend_item = {"status": None, "count": ""}
        elif tag == "span" and self._legend_item is not None:
            if any(c.startswith("swatch--") for c in classes):
                self._legend_item["status"] = next(c for c in classes if c.startswith("swatch--"))
            elif "legend__count" in classes:
                self._legend_field = "count"

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._legend_field is not None:
            self._legend_item[self._legend_field] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._cells.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._part is not None:
            self.parts[self._part] = self._cells
            self._part = None
        elif tag == "span":
            self._legend_field = None
        elif tag == "li" and self._legend_item is not None:
            self.legend[self._legend_item["status"]] = int(self._legend_item["count"].replace(",", ""))
            self._legend_item = None


def _number(text):
    return None if text in ("—", "") else int(text.replace(",", "").removesuffix("%").split(".")[0])


def coverage_parts(html):
    """{part: (people, counties)} from the coverage table ("covered", "under_law", ..., "total")."""
    parser = _CoverageParser()
    parser.feed(html)
    return {part: (_number(cells[0]), _number(cells[2])) for part, cells in parser.parts.items()}


def legend_counts(html):
    """{swatch class: count} from the map legend, e.g. {"swatch--county-place": 2, ...}."""
    parser = _CoverageParser()
    parser.feed(html)
    return parser.legend


def standing(html):
    """The coverage named by a county, city or district page's sentence ("covered", "partly", ...)."""
    parser = _CoverageParser()
    parser.feed(html)
    return parser.standing
