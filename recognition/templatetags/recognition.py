from django import template

register = template.Library()


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
