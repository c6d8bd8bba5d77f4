"""`reverse()` for the links a page repeats hundreds of times: every county of a state, every row of a list.

Django's `reverse` matches the arguments against the URL pattern on every call (some 40 µs); a state
page with 254 counties, each linked from the map and the table, spent a third of its time there.
Here each URL is reversed once per process with stand-in values, and filled in afterwards. Only
values that the converter would pass through unchanged are filled in (slugs, non-negative integers);
anything else goes to `reverse` itself, which then says what it always says.
"""

import functools
import re

from django.urls import get_script_prefix, get_urlconf, reverse

_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
# Accepted by the slug and int converters, and found in no URL of this site.
_STAND_INS = {"slug": "zzqslugqzz{}", "int": "9876543210987654{}"}


@functools.lru_cache(maxsize=512)
def _template(viewname, fixed, varying, prefix, urlconf):
    """The reversed URL with a numbered stand-in per varying argument (their kinds in `varying`)."""
    stand_ins = {name: _STAND_INS[kind].format(n) for n, (name, kind) in enumerate(varying)}
    return reverse(viewname, urlconf=urlconf, kwargs={**dict(fixed), **stand_ins}), stand_ins


def _fits(kind, value):
    if kind == "int":
        return type(value) is int and value >= 0
    return isinstance(value, str) and _SLUG.match(value) is not None


def repeated_reverse(viewname, fixed=(), **varying):
    """`reverse(viewname, kwargs={**fixed, **varying})`, the same string, faster when called again.

    `fixed`: (name, value) pairs shared by many calls (a state's code); `varying`: name=(kind, value)
    with kind "slug" or "int", the part that changes from link to link.
    """
    fixed = tuple(fixed)
    kinds = tuple((name, kind) for name, (kind, _value) in varying.items())
    values = {name: value for name, (_kind, value) in varying.items()}
    if not all(_fits(kind, values[name]) for name, kind in kinds):
        return reverse(viewname, kwargs={**dict(fixed), **values})
    url, stand_ins = _template(viewname, fixed, kinds, get_script_prefix(), get_urlconf())
    for name, stand_in in stand_ins.items():
        url = url.replace(stand_in, str(values[name]), 1)
    return url
