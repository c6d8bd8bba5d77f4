"""What a shared link shows: the canonical address, absolute URLs, and a page's title and summary as text.

base.html captures each page's blocks once (`capture`) and writes them into the
<title>, the description, the canonical link and the Open Graph and Twitter
tags, so a page states its title and description once and every tag agrees.
"""

import html
import re
from urllib.parse import urlencode

from django import template
from django.utils.html import strip_tags

from .. import sharing

register = template.Library()

# Query parameters that never make another page: which page of results, and a table's order.
NOT_CANONICAL = frozenset({"page", "sort"})


class CaptureNode(template.Node):
    child_nodelists = ("nodelist",)  # so that a {% block %} inside stays overridable

    def __init__(self, nodelist, name):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        # Plain text (tags removed, entities decoded): `{{ name }}` escapes it again where it is written.
        text = html.unescape(strip_tags(self.nodelist.render(context)))
        context[self.name] = re.sub(r"\s+", " ", text).strip()
        return ""


@register.tag
def capture(parser, token):
    """{% capture as name %}...{% endcapture %}: the content as one line of plain text, in `name`, output
    nowhere."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("usage: {% capture as name %}...{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


def _request(context):
    return context.get("request")


@register.simple_tag(takes_context=True)
def canonical_url(context, query=None):
    """This page's absolute address without what does not change it.

    A public page's request holds only the parameters the page reads (the page cache
    removed the rest, tracking parameters included); of those, `page` and `sort` and
    empty ones are left out. Any other page keeps none. `query` replaces the
    computed query string. A page whose address holds a secret (a follower's `token`) has
    none: a preview would only repeat the secret.
    """
    request = _request(context)
    match = getattr(request, "resolver_match", None)
    if request is None or (match is not None and "token" in match.kwargs):
        return ""
    if query is None:
        policy = getattr(match.func, "page_policy", None) if match else None
        pairs = []
        if policy is not None:
            pairs = [
                (name, value)
                for name in request.GET
                if name not in NOT_CANONICAL
                for value in request.GET.getlist(name)
                if value.strip()
            ]
        query = urlencode(pairs)
    address = request.build_absolute_uri(request.path)
    return f"{address}?{query}" if query else address


@register.simple_tag(takes_context=True)
def absolute_url(context, path):
    """`path` as an absolute URL on the host the page was asked for (as the API and feeds build theirs)."""
    request = _request(context)
    return request.build_absolute_uri(path) if request is not None else ""


@register.simple_tag(takes_context=True)
def card_url(context, path):
    """A share card's absolute URL, with the data version the page was made from (`?v=`).

    Link previews keep an image for days under its URL; a new version gives a new URL once the data
    changed. The card's view reads no parameter, so `v` makes no new cache entry.
    """
    request = _request(context)
    if request is None:
        return ""
    version = getattr(request, "_data_version", None)  # set on public pages (the page cache's key)
    address = request.build_absolute_uri(path)
    return f"{address}?v={version[0][:12]}" if version else address


@register.filter
def without_site_name(title):
    """A page's <title> without the site's name after it: og:site_name says that."""
    suffix = f" · {sharing.SITE_NAME}"
    return title[: -len(suffix)] if title.endswith(suffix) and title != suffix else title


@register.filter
def state_sentence(state_progress):
    """A state page's status in words: "Alabama: state law recognizes … (HB 414)."."""
    return sharing.state_sentence(
        state_progress.state.name,
        state_progress.status,
        [measure.identifier for measure in state_progress.deciding],
        sharing.local_counties(state_progress.county_counts),
    )


@register.filter
def search_words(filterset):
    """The list's filters in words ("Alabama; county; adopted"), or "" for no filter."""
    from ..feeds import describe

    if not hasattr(filterset.form, "cleaned_data"):
        return ""
    return describe(filterset)
