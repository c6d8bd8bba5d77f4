import functools
from html import escape as _html_escape

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.safestring import mark_safe

from .. import progress, stages
from ..models import KIND_LABELS, Status

register = template.Library()


def escape(value):
    """HTML-escaped text, as the template's autoescape writes it (for markup built as plain strings).

    Always escapes, unlike `conditional_escape`: pass it text, never markup already made safe."""
    return _html_escape(str(value))


@functools.lru_cache(maxsize=16_384)
def escape_repeated(value):
    """`escape` of a value that comes back on every request (an outline, a FIPS code, a status): each
    worker escapes each once. A state page draws each of its counties (Texas: 254), and escaping their
    outlines anew on every drawing was a large part of the maps' time."""
    return escape(value)


@register.filter
def partial_date(value):
    """Show a PartialDate at its own precision: `2022`, `September 2021`, `April 18, 2022`."""
    return value.display() if value else ""


@register.filter
def percent(share, digits=1):
    """0.4817 -> "48.2%"."""
    if share is None:
        return ""
    return f"{share * 100:.{int(digits)}f}%"


@register.filter
def people(count):
    """A population for a headline: "160.6 million", "3.6 million", "414,809"."""
    if count is None:
        return ""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} million"
    return f"{count:,}"


@register.filter
def share_of(part, whole):
    """part / whole for `percent`: 0 when the whole is zero (an empty database)."""
    return part / whole if whole else 0.0


@register.filter
def hatch_size(viewbox):
    """The stripe spacing of a hatched fill, in the map's own units: about 1/150 of its width."""
    try:
        width = float(viewbox.split()[2])
    except (AttributeError, IndexError, ValueError):
        return 4
    return round(max(width / 150, 0.05), 2)


@register.filter
def multiply(value, factor):
    return round(float(value) * float(factor), 3)


@register.simple_tag
def stage_bar(resolution, compact=False):
    """A measure's stage bar: the steps that apply to it, in order, each done, current (aria-current="step")
    or still ahead; an ended measure stops at its veto, failure or withdrawal. `compact` in lists:
    segments, the words for screen readers, and one line. Lists prefetch the actions.

    Written as escaped strings rather than an included template: a state page draws 25 of them, and
    their template nodes were a third of its time."""
    r = resolution
    steps = progress.stage_bar(r, r.actions.all())
    current = next(step for step in steps if step.current)
    hidden = " visually-hidden" if compact else ""
    items = []
    for step in steps:
        ended = " stagebar__step--ended" if step.ending else ""
        aria = ' aria-current="step"' if step.current else ""
        date = (
            f' <span class="stagebar__date{hidden}">{escape(partial_date(step.date))}</span>'
            if step.date
            else ""
        )
        said = (
            ""
            if step.current
            else f'<span class="visually-hidden"> ({"done" if step.state == "done" else "not yet"})</span>'
        )
        items.append(
            f'<li class="stagebar__step stagebar__step--{escape(step.state)}{ended}"{aria}>'
            f'<span class="stagebar__name{hidden}">{escape(step.name)}</span>{date}{said}</li>\n    '
        )
    if compact:
        if r.status == Status.INTRODUCED:
            caption = escape(status_in_words(r))
        else:
            caption = escape(current.name) + (
                f", {escape(partial_date(current.date))}" if current.date else ""
            )
        ending = f'<p class="stagebar__caption">{caption}</p>\n  '
    elif r.session_ended:
        ending = (
            f'<p class="stagebar__note"><strong>{escape(r.stage_label)}.</strong> The {escape(r.session.name)}'
            f" ended on {escape(date_filter(r.session.end_on, 'F j, Y'))}; we have not yet recorded what became"
            " of this measure.</p>"
        )
    else:
        ending = ""
    label = f" of {escape(r.identifier or r.title)}" if compact else ""
    return mark_safe(
        f'\n\n<div class="stagebar stagebar--{escape(r.status)}{" stagebar--compact" if compact else ""}">\n'
        f'  <ol class="stagebar__steps" aria-label="Stages{label}">\n    {"".join(items)}\n  </ol>\n'
        f"  {ending}\n</div>\n"
    )


@register.filter
def public_status(resolution):
    """The status in a word or two: "Pending" (whatever its stage), "Adopted", "Vetoed", or that its
    session ended without a recorded outcome."""
    if resolution.session_ended:
        return stages.SESSION_ENDED_LABEL
    if resolution.status == Status.INTRODUCED:
        return "Pending"
    if resolution.status == Status.FAILED:
        return resolution.get_stage_display()
    return resolution.get_status_display()


@register.filter
def status_in_words(resolution):
    """The status with a pending measure's stage: "Pending: passed the Senate, September 2025; in the House"."""
    if resolution.status == Status.INTRODUCED and not resolution.session_ended:
        return f"Pending: {resolution.stage_summary}"
    return public_status(resolution)


@register.simple_tag
def contact_email():
    """The press and corrections address (DJANGO_CONTACT_EMAIL), "" when none is set: a tag rather than a
    context processor, so that pages drawn without a request (the error pages) read it too."""
    from django.conf import settings

    return settings.CONTACT_EMAIL


@register.simple_tag
def map_links(regions, link_target=""):
    """A map's states or counties, each a link named with its status (a region without a shape has
    nothing to draw: no link). Written here as escaped strings rather than by a template loop: Texas
    has 254 counties, each six lookups, which were a third of its page's time."""
    target = f' target="{escape(link_target)}"' if link_target else ""
    return mark_safe(
        "".join(
            f'<a href="{escape(r.url)}"{target} aria-label="{escape(r.label)}">'
            f'<path d="{escape_repeated(r.jurisdiction.shape)}" data-fips="{escape_repeated(r.fips)}"'
            f' data-status="{escape_repeated(r.status)}"/></a>'
            for r in regions
            if r.jurisdiction.shape
        )
    )


@register.simple_tag
def national_county_links(groups):
    """The national county layer: each state a link to its page, named with its status, holding a path
    per colour, its outline the outlines of the counties of that colour, `data-fips` their codes. The
    state is the link, so its counties need not be elements of their own: 62 paths instead of 3,138 on
    the starter data, a quarter fewer bytes, and the same picture."""
    return mark_safe(
        "".join(
            f'<a href="{escape(group.region.url)}" aria-label="{escape(group.region.label)}">'
            + "".join(
                f'<path d="{escape(c.outline)}" data-fips="{escape(c.fips)}"'
                f' data-status="{escape_repeated(c.status)}"/>'
                for c in group.colours
            )
            + "</a>"
            for group in groups
        )
    )


@register.simple_tag
def county_table_rows(regions):
    """A state's table of counties, a row each (as `map_links`, written here for speed)."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><a href="{escape(r.url)}">'
            f"{escape(r.jurisdiction.name)}</a></th><td>{escape(r.coverage.label)}</td>"
            f'<td>{escape(r.status.label)}</td><td class="num">{_grouped(r.jurisdiction.population)}</td></tr>'
            for r in regions
        )
    )


@register.simple_tag
def county_table_by_state(rows):
    """The national county layer's table, a row per state with its counties by status (as
    `county_table_rows`, written here for speed: 51 rows of seven cells were a quarter of the layer's
    rendering)."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><a href="{escape(row.state.get_absolute_url())}">{escape(row.state.name)}</a></th>'
            + "".join(f'<td class="num">{int(n)}</td>' for n in row.counts)
            + "</tr>"
            for row in rows
        )
    )


@register.simple_tag
def state_measure_articles(measures, as_of=None):
    """A state page's own measures, an article each: its name, kind, body and title, and its stage bar
    (on `as_of`, a past date, where it stood that day instead). Written here as strings: 25 articles
    of a dozen lookups each were a sixth of a state page's time."""
    articles = []
    for r in measures:
        if as_of:
            then = "Adopted" if r.status_then == Status.ADOPTED else "Pending"
            standing = f'<p class="measure__then">{then}: {escape(r.then)}</p>'
        else:
            standing = stage_bar(r, compact=True)
        titled = f" · {escape(r.title)}" if r.identifier else ""
        articles.append(
            f'\n  <article class="measure">\n    <h3 class="measure__title"><a href="{escape(r.get_absolute_url())}">'
            f"{escape(r.identifier or r.title)}</a></h3>\n"
            f'    <p class="meta">{escape(r.get_kind_display())} · {escape(r.body)}{titled}</p>\n'
            f"    {standing}\n  </article>\n  "
        )
    return mark_safe("".join(articles))


@register.simple_tag
def local_measure_rows(measures, as_of=None):
    """A state page's table of local measures, a row each: the jurisdiction, the measure, its status (on
    `as_of`, a past date, when given) and its adoption date. Written here as strings, as the tables
    above: 26 rows of a dozen lookups were a twelfth of a state page's time."""
    rows = []
    for r in measures:
        if as_of:
            adopted_then = r.status_then == Status.ADOPTED
            status = "Adopted" if adopted_then else "Pending"
            adopted = (partial_date(r.adopted) or "—") if adopted_then else "—"
        else:
            status = status_in_words(r)
            adopted = partial_date(r.adopted) or "—"
        rows.append(
            f'<tr><th scope="row"><a href="{escape(r.jurisdiction.get_absolute_url())}">'
            f"{escape(r.jurisdiction.name)}</a></th>"
            f'<td><a href="{escape(r.get_absolute_url())}">{escape(r.identifier or r.get_kind_display())}</a></td>'
            f"<td>{escape(status)}</td><td>{escape(adopted)}</td></tr>"
        )
    return mark_safe("".join(rows))


def _year_links(context, timeline):
    """Each year's link (the page at that year's end, other parameters kept), as `{% querystring %}`
    writes it."""
    query = context.request.GET
    links = []
    for column in timeline.columns:
        params = query.copy()
        if column.as_of is None:
            params.pop("as_of", None)
        else:
            params["as_of"] = column.as_of
        links.append(escape(f"?{params.urlencode() if params else ''}"))
    return links


@register.simple_tag(takes_context=True)
def timeline_years(context, timeline, as_of):
    """The timeline's years over the chart: each a band, with its dots, linking to the map at its end
    (as `map_links`, written here for speed: thirty years, a template loop each, were a tenth of the
    home page's time)."""
    band_top, band_height = timeline.plot_top, timeline.plot_bottom + 24
    years = []
    for column, href in zip(timeline.columns, _year_links(context, timeline), strict=True):
        leads_to = f"at the end of {column.year}" if column.as_of else "today"
        current = ' aria-current="page"' if column.as_of == as_of else ""
        dots = "".join(
            f'<circle class="chart__dot chart__dot--{escape(key)}" cx="{column.x}" cy="{y}" r="4.5"/>'
            for key, y in column.dots
        )
        years.append(
            f'<a class="chart__year" href="{href}" aria-label="{escape(column.label)}. The map {leads_to}"'
            f'{current}><rect class="chart__band" x="{column.left}" y="{band_top}" width="{column.width}"'
            f' height="{band_height}"/>{dots}</a>'
        )
    return mark_safe("".join(years))


@register.simple_tag(takes_context=True)
def timeline_rows(context, timeline):
    """The timeline's table alternative, a row a year linking to the map at its end."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><a href="{href}">{column.year}</a></th>'
            + "".join(f'<td class="num">{value}</td>' for value in column.values)
            + "</tr>"
            for column, href in zip(timeline.columns, _year_links(context, timeline), strict=True)
        )
    )


def _in_a_sentence(names, more=0):
    """ "A", "A and B", "A, B and C", "A, B, C and 4 more"."""
    names = [*names, f"{more} more"] if more else list(names)
    if len(names) > 1:
        names[-2:] = [f"{names[-2]} and {names[-1]}"]
    return ", ".join(names)


@register.simple_tag
def measure_links(measures, with_place=False, every=False):
    """Measures named in a sentence, each a link: "HB 1, HB 2 and HB 3" (each after its place's name,
    `with_place`). Past the first few the rest are counted ("HB 1, HB 2, HB 3 and 39 more"), for lists
    the page shows below or links to; `every` names them all (the pending bills to ask about, which
    no other line of the page lists)."""
    capped = progress.Capped(list(measures), 0) if every else progress.Capped.of(measures)
    names = []
    for r in capped.shown:
        link = f'<a href="{escape(r.get_absolute_url())}">{escape(r.identifier or r.get_kind_display().lower())}</a>'
        names.append(f"{escape(r.jurisdiction.name)} ({link})" if with_place else link)
    return mark_safe(_in_a_sentence(names, capped.more))


@register.simple_tag
def measure_names(capped, with_place=False):
    """A `Capped` list of measures in a printed sentence, without links: "Mobile HB 1, HB 2 and 3 more".
    Plain text: the template escapes it."""
    return _in_a_sentence(
        (
            (f"{r.jurisdiction.name} " if with_place else "") + (r.identifier or r.get_kind_display().lower())
            for r in capped.shown
        ),
        capped.more,
    )


def _grouped(count):
    """1234567 -> "1,234,567"; no figure -> "—"."""
    return "—" if count is None else f"{count:,}"


def _option(facet_name, option):
    count = ""
    if option.count is not None:
        plural = "" if option.count == 1 else "s"
        count = (
            f' <span class="facet__count">{option.count:,}<span class="visually-hidden"> record{plural}</span>'
            "</span>"
        )
    label = escape(option.label)
    return (
        f'<label class="facet__option{" facet__option--empty" if option.count == 0 else ""}"'
        f' data-facet-text="{label}"><input type="checkbox" name="{escape(facet_name)}"'
        f' value="{escape(option.value)}"{" checked" if option.selected else ""}> {label}{count}</label>'
    )


@register.simple_tag
def facet_options(facet):
    """A filter's choices, a checkbox each with its count (as `map_links`, written here for speed: the
    list's 80 options, each an included template, were a third of its page's time). Every value is
    escaped here; the rest is this function's own markup."""
    return mark_safe("\n".join(_option(facet.name, option) for option in facet.options))


@register.simple_tag
def resolution_rows(rows):
    """The list's table rows, from (resolution, its address, its jurisdiction's address): 50 rows of
    seven cells, written here for speed, with today's date asked once for all of them. Every value is
    escaped here; the rest is this function's own markup."""
    today = timezone.localdate()
    written = []
    for r, url, jurisdiction_url in rows:
        status_label, stage_label = (escape(label) for label in r.labels_on(today))
        identifier = f"{escape(r.identifier)}: " if r.identifier else ""
        written.append(
            f"""
        <tr>
          <td><a href="{escape(jurisdiction_url)}">{escape(r.jurisdiction)}</a></td>
          <td><a href="{escape(url)}">{identifier}{escape(r.title)}</a></td>
          <td>{escape(KIND_LABELS.get(r.kind, r.kind))}</td>
          <td><span class="badge badge--{escape(r.status)}">{status_label}</span></td>
          <td>{stage_label}</td>
          <td>{escape(partial_date(r.adopted)) or "—"}</td>
          <td>{escape(partial_date(r.latest_action_date)) or "—"}</td>
        </tr>
        """
        )
    return mark_safe("".join(written))
