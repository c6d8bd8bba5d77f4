from django import template
from django.utils.html import format_html, format_html_join

from ..resolution_text import lead, parts

register = template.Library()


def _marked(text):
    return format_html_join(
        "",
        "{}",
        (
            (format_html('<mark class="placeholder">{}</mark>', words) if placeholder else words,)
            for words, placeholder in parts(text)
        ),
    )


@register.filter
def clause(text):
    """A clause of the model resolution: its opening words in bold, its [bracketed] parts marked, as in the .docx."""
    opening, rest = lead(text)
    if not opening:
        return _marked(rest)
    return format_html("<strong>{}</strong>{}", _marked(opening), _marked(rest))
