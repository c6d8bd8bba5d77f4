"""Small HTML readers for tests: what a person (or a screen reader) would find on a page."""

from html.parser import HTMLParser


class _RegionParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.regions = {}
        self.link_labels = []
        self._links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self._links.append(attrs)
            if attrs.get("aria-label"):
                self.link_labels.append(attrs["aria-label"])
        if "data-fips" in attrs:
            assert attrs["data-fips"] not in self.regions, f"region {attrs['data-fips']} drawn twice"
            self.regions[attrs["data-fips"]] = attrs.get("data-status")


def map_regions(html):
    """{fips: status} for every element carrying data-fips."""
    parser = _RegionParser()
    parser.feed(html)
    return parser.regions


def link_labels(html):
    parser = _RegionParser()
    parser.feed(html)
    return parser.link_labels
