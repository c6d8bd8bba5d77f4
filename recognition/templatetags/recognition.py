from django import template

register = template.Library()


@register.filter
def partial_date(value):
    """Show a PartialDate at its own precision: `2022`, `September 2021`, `April 18, 2022`."""
    return value.display() if value else ""
