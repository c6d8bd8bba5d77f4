"""recognition/reversing.py: the same string as Django's reverse, whatever the values and the script prefix."""

import contextlib

from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st

from recognition.reversing import repeated_reverse

USPS = st.sampled_from(["al", "tx", "dc", "pr"])
ANY_TEXT = st.text(max_size=30)  # unicode, slashes, spaces, %, empty: what reverse refuses or quotes


def django_says(viewname, kwargs):
    try:
        return reverse(viewname, kwargs=kwargs)
    except NoReverseMatch:
        return NoReverseMatch


def ours(viewname, fixed, **varying):
    try:
        return repeated_reverse(viewname, fixed, **varying)
    except NoReverseMatch:
        return NoReverseMatch


# What a deployment under a sub-path sets for each request; the address must follow it.
PREFIXES = st.sampled_from(["/", "/tracker/"])


@contextlib.contextmanager
def prefixed(prefix):
    set_script_prefix(prefix)
    try:
        yield
    finally:
        set_script_prefix("/")


@settings(deadline=None)  # the first call loads the URLconf
@given(prefix=PREFIXES, usps=USPS, slug=st.one_of(st.from_regex(r"[-a-zA-Z0-9_]+", fullmatch=True), ANY_TEXT))
def test_a_place_link_is_what_reverse_gives(prefix, usps, slug):
    with prefixed(prefix):
        expected = django_says("recognition:jurisdiction", {"usps": usps, "slug": slug})
        assert ours("recognition:jurisdiction", [("usps", usps)], slug=("slug", slug)) == expected
        # Asked again (now from the stored address), the same.
        assert ours("recognition:jurisdiction", [("usps", usps)], slug=("slug", slug)) == expected


@settings(deadline=None)
@given(prefix=PREFIXES, pk=st.one_of(st.integers(min_value=-5, max_value=10**12), st.booleans()))
def test_a_measure_link_is_what_reverse_gives(prefix, pk):
    with prefixed(prefix):
        assert ours("recognition:resolution", (), pk=("int", pk)) == django_says(
            "recognition:resolution", {"pk": pk}
        )


def test_the_prefix_is_that_of_the_request():
    for prefix in ["/", "/tracker/", "/"]:
        with prefixed(prefix):
            assert repeated_reverse("recognition:resolution", pk=("int", 12)) == f"{prefix}resolutions/12/"
