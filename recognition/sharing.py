"""What a shared link says about a place: its status in one plain sentence, and the site's name.

Pure words, no Django: the page's description (Open Graph and Twitter tags) and
its share card say the same thing, in the status labels the maps use.
"""

from .status import CountyStatus, StateStatus

SITE_NAME = "Dispatcher Recognition Tracker"
SITE_DESCRIPTION = (
    "Which US states, counties and cities recognize 911 dispatchers as first responders, "
    "with a source for every record."
)
NAMED_MEASURES = 3  # a sentence names at most this many measures ("HB 414, SB 12 and 2 more")


def named(names):
    """ "HB 414", "HB 414 and SB 12", "HB 414, SB 12, HR 3 and 2 more": blank names left out."""
    names = [name for name in dict.fromkeys(names) if name]
    if len(names) > NAMED_MEASURES:
        shown, more = names[: NAMED_MEASURES - 1], len(names) - NAMED_MEASURES + 1
        return f"{', '.join(shown)} and {more} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else ""


def _with_measures(text, names):
    listed = named(names)
    if not listed:
        return text
    # "HB 1090 (86th Leg., R.S.)" in parentheses would nest them: a colon then.
    return f"{text}: {listed}" if "(" in listed else f"{text} ({listed})"


def state_sentence(state_name, status, measure_names=(), local_counties=0):
    """A state's status in words: "Alabama: state law recognizes 911 dispatchers as first responders (HB 414)."

    `measure_names` are the identifiers of the measures that decide the status;
    `local_counties` the counties where the county or a city in it acted (for "local action only").
    """
    status = StateStatus(status)
    if status == StateStatus.LAW:
        words = _with_measures("state law recognizes 911 dispatchers as first responders", measure_names)
    elif status == StateStatus.RESOLUTION:
        words = _with_measures(
            "the legislature adopted a resolution recognizing 911 dispatchers as first responders",
            measure_names,
        )
        words += ", which is not a law"
    elif status == StateStatus.PENDING:
        words = _with_measures(
            "a bill recognizing 911 dispatchers as first responders is pending", measure_names
        )
    elif status == StateStatus.LOCAL:
        where = (
            f"in {local_counties} count{'y' if local_counties == 1 else 'ies'}"
            if local_counties
            else "locally"
        )
        words = f"no state measure yet, but 911 dispatchers are recognized as first responders {where}"
    else:
        words = "911 dispatchers are not yet recognized as first responders"
    return f"{state_name}: {words}."


def local_counties(county_counts):
    """Counties where the county itself or a city or district in it acted, from a legend's counts."""
    return county_counts.get(CountyStatus.COUNTY, 0) + county_counts.get(CountyStatus.PLACE, 0)
