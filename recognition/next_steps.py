"""What a place can ask for next: one rule behind "What you can do here" on every county, city, district
and state page, and behind the fact sheets.

The ask follows what is missing, from the nearest body up. Nothing covers the place: ask its own
commission or council for a resolution. Recognized at home (or only by a state resolution, which is
not a law): ask the legislature for a law. Under a state law: thank the legislature and ask Congress,
where dispatchers are still classed as clerks. The first ask is the one to make now; the others
follow, so a page never leaves a visitor without a next step.

Pure: no database, no Django. The statuses are the map's (see `status`).
"""

import enum

from .status import COUNTY, DISTRICT, PLACE, STATE, StateStatus


class Ask(enum.StrEnum):
    """One thing an advocate can ask for, and of whom."""

    do_not_call_in_templates = enum.nonmember(True)

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    LOCAL = "local", "Ask for a local resolution"
    LEGISLATURE = "legislature", "Ask the legislature for a law"
    CONGRESS = "congress", "Ask Congress to reclassify dispatchers"


PLACE_LEVELS = frozenset({STATE, COUNTY, PLACE, DISTRICT})


def asks(
    *,
    level: str,
    state_status: StateStatus | str,
    recognized_here: bool = False,
    one_government: bool = False,
) -> tuple[Ask, ...]:
    """The asks for one place, most pressing first.

    `recognized_here`: the place adopted a measure itself, or (for a city or district) its county did,
    which covers all of its people. A state resolution is not a law, so it never ends the ask to the
    legislature; a state law makes a local resolution unnecessary, so it is not asked for.
    `one_government`: the place's own body is its legislature (the District of Columbia's council), so
    there is no separate local ask.
    """
    if level not in PLACE_LEVELS:
        raise ValueError(f"no asks for a {level!r}: only states, counties, cities and districts")
    if state_status == StateStatus.LAW:
        return (Ask.CONGRESS,)
    if level == STATE or recognized_here or one_government:
        return (Ask.LEGISLATURE, Ask.CONGRESS)
    if state_status == StateStatus.RESOLUTION:
        return (Ask.LEGISLATURE, Ask.LOCAL, Ask.CONGRESS)
    return (Ask.LOCAL, Ask.LEGISLATURE, Ask.CONGRESS)


def governing_body(level: str, name: str) -> str:
    """Whom a place's resolution is asked of, in words that fit every kind of county-equivalent.

    Parishes, boroughs and independent cities are governed by councils, juries and assemblies, not
    commissions: only a "County" is said to have a commission.
    """
    if level == COUNTY:
        return f"the {name} commission" if name.endswith(" County") else f"the governing body of {name}"
    if level == DISTRICT:
        return f"the {name} board"
    return f"the {name} council"


def neighbors_in_words(recognized: int, total: int) -> str:
    """ "3 of 5 neighboring counties have recognized their dispatchers", in whole words for the odd cases."""
    if total == 0:
        return ""
    if total == 1:
        return (
            "The one neighboring county has recognized its dispatchers"
            if recognized
            else "The one neighboring county has not recognized its dispatchers yet"
        )
    if recognized == 0:
        return f"None of the {total} neighboring counties has recognized its dispatchers yet"
    if recognized == total:
        return f"All {total} neighboring counties have recognized their dispatchers"
    if recognized == 1:
        return f"1 of {total} neighboring counties has recognized its dispatchers"
    return f"{recognized} of {total} neighboring counties have recognized their dispatchers"
