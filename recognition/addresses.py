"""Addresses of many objects of one kind, as `reverse()` gives them, at a fraction of its cost.

`reverse()` matches the URL pattern, converts and quotes each argument on every call (about 0.1 ms
on the bench machine): four per row are most of the time an API page of 50 takes to write. Here each
pattern is built once, with stand-in arguments, and each object's address is that one with its own
values in the stand-ins' places. Only values that every step of building an address leaves as they
are (ASCII letters, digits, `-` and `_`, accepted by the argument's converter) take the short way;
any other value, or a pattern whose stand-ins cannot be found again, is built the long way. So the
result is always what the long way gives (tests/test_addresses.py compares them).

One instance per request where the addresses depend on it (the API's are absolute, on the request's
host, and keep its `format` parameter); `page_address` keeps one per script prefix for the site's own
paths (a state page links its 254 counties from the map and from the table).
"""

import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# The arguments this knows, each with what its converter accepts and a stand-in that it accepts too.
# The stand-ins share no letters in a row with each other or with the site's fixed paths.
_ARGUMENTS = {
    "pk": (re.compile(r"[0-9]+"), "9081726354"),
    "usps": (re.compile(r"[a-z]{2}"), "qx"),
    "slug": (re.compile(r"[-a-zA-Z0-9_]+"), "zjvkwy-zkq"),
}


class Addresses:
    def __init__(self):
        self._patterns = {}

    def __call__(self, build, viewname, kwargs):
        """`build(viewname, kwargs)`, the address the long way (a function of this request), for these
        arguments."""
        key = (build, viewname, tuple(kwargs))
        pattern = self._patterns.get(key)
        if pattern is None:
            pattern = self._patterns[key] = _Pattern(build, viewname, tuple(kwargs))
        return pattern.fill(kwargs)


class _Pattern:
    def __init__(self, build, viewname, names):
        self.build, self.viewname, self.names = build, viewname, names
        self.parts = None  # the address cut at each argument, in the arguments' order; None: the long way
        if not all(name in _ARGUMENTS for name in names):
            return
        address = build(viewname, {name: _ARGUMENTS[name][1] for name in names})
        places = []
        for name in names:
            stand_in = _ARGUMENTS[name][1]
            if address.count(stand_in) != 1:
                return
            places.append((address.index(stand_in), name, stand_in))
        parts, order, start = [], [], 0
        for at, name, stand_in in sorted(places):
            if at < start:  # overlapping stand-ins
                return
            parts.append(address[start:at])
            order.append(name)
            start = at + len(stand_in)
        parts.append(address[start:])
        self.parts, self.order = parts, order

    def fill(self, kwargs):
        if self.parts is None:
            return self.build(self.viewname, kwargs)
        values = []
        for name in self.order:
            value = str(kwargs[name])
            if not _ARGUMENTS[name][0].fullmatch(value) or not value.isascii():
                return self.build(self.viewname, kwargs)
            values.append(value)
        pieces = [self.parts[0]]
        for value, part in zip(values, self.parts[1:], strict=True):
            pieces += (value, part)
        return "".join(pieces)


def _reverse(viewname, kwargs):
    return reverse(viewname, kwargs=kwargs)


_PAGE_ADDRESSES = {}
# A deployment has one script prefix or a few; a proxy could send many (SCRIPT_NAME): kept to this many.
_MOST_PREFIXES = 16


def page_address(viewname, kwargs):
    """`reverse(viewname, kwargs=kwargs)`: the same string, the short way when it can be."""
    where = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    addresses = _PAGE_ADDRESSES.get(where)
    if addresses is None:
        if len(_PAGE_ADDRESSES) >= _MOST_PREFIXES:
            _PAGE_ADDRESSES.clear()
        addresses = _PAGE_ADDRESSES.setdefault(where, Addresses())
    return addresses(_reverse, viewname, kwargs)

