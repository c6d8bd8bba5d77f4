"""The Congresses, shipped as reference data, and the federal measures each holds.

A Congress's term is fixed by the 20th Amendment: from noon on January 3 of an odd year to noon on
January 3 two years later (the 74th Congress, from 1935, was the first). So its dates are known, not
guessed. State sessions vary by state and year and are entered by staff: nothing here invents them.
"""

import datetime
import re

from .models import Jurisdiction, LegislativeSession, Level

FIRST_UNDER_20TH_AMENDMENT = 74  # sat from 1935-01-03
SHIPPED = range(116, 120)  # the Congresses of the starter data: 2019 to 2027

# The starter dataset's body names its Congress: "U.S. Senate (119th Congress)".
_BODY_CONGRESS = re.compile(r"\((\d+)(?:st|nd|rd|th) Congress\)")
LINKED_REASON = "Starter dataset: linked to its Congress"


def ordinal(number):
    """1st, 2nd, 3rd, 4th, 11th, 112th, 121st."""
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def name(number):
    return f"{ordinal(number)} Congress"


def term(number):
    """(start, end) of a Congress since the 20th Amendment: January 3 of an odd year, two years."""
    if number < FIRST_UNDER_20TH_AMENDMENT:
        raise ValueError(f"the {ordinal(number)} Congress sat before the 20th Amendment fixed its term")
    year = 1935 + 2 * (number - FIRST_UNDER_20TH_AMENDMENT)
    return datetime.date(year, 1, 3), datetime.date(year + 2, 1, 3)


def ensure_congresses(numbers=SHIPPED):
    """Create the shipped Congresses that are missing (idempotent; an existing one is left as it is).

    Returns how many were created; none without the nation (run load_geography first).
    """
    nation = Jurisdiction.objects.filter(level=Level.NATION).first()
    if nation is None:
        return 0
    existing = set(LegislativeSession.objects.filter(jurisdiction=nation).values_list("name", flat=True))
    created = 0
    for number in numbers:
        if name(number) in existing:
            continue
        start, end = term(number)
        session = LegislativeSession(jurisdiction=nation, name=name(number), start_on=start, end_on=end)
        session._change_reason = "Reference data: a Congress's term is fixed by the 20th Amendment"
        session.save()
        created += 1
    return created


def congress_number(resolution):
    """The Congress a federal measure belongs to: as its body says, else the one its introduction falls in."""
    match = _BODY_CONGRESS.search(resolution.body)
    if match:
        return int(match.group(1))
    introduced = resolution.introduced
    if introduced is None or introduced.year < 1935:
        return None
    number = FIRST_UNDER_20TH_AMENDMENT + (introduced.year - 1935) // 2
    for candidate in (number - 1, number):
        if candidate < FIRST_UNDER_20TH_AMENDMENT:
            continue
        start, end = term(candidate)
        # The whole period must lie in one term: "2019" alone could be January 1, in the 115th.
        if start <= introduced.start and introduced.end < end:
            return candidate
    return None


def link_federal_measures(resolutions):
    """Put each federal measure without a session in its Congress, if it exists; returns how many it put."""
    congresses = {
        session.name: session
        for session in LegislativeSession.objects.filter(jurisdiction__level=Level.NATION)
    }
    linked = 0
    measures = resolutions.filter(jurisdiction__level=Level.NATION, session=None).select_related(
        "jurisdiction"
    )
    for resolution in measures:
        number = congress_number(resolution)
        session = congresses.get(name(number)) if number else None
        if session is None:
            continue
        resolution.session = session
        resolution._change_reason = LINKED_REASON
        resolution.save(update_fields=["session", "updated_at"])
        linked += 1
    return linked
