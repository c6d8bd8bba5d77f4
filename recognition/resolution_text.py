"""The model resolution's wording: one text, filled in for a place, read by the HTML page and the .docx.

Pure (no Django, no database): the view gathers the facts (the place, its state, the body named in its
own records, the bills pending in Congress) and `compose` returns the text. Words in [brackets] are the
parts a sponsor must check or fill in; both outputs mark them, so they cannot be missed.

Every sentence states only what is true of any place (what telecommunicators do, how the federal
Standard Occupational Classification files them) or what the data says (the body, the bills); what
varies from place to place (the body's exact name, its officers' titles) is left in brackets.
"""

import re
from dataclasses import dataclass

CC0_NAME = "CC0 1.0 Universal"
CC0_URL = "https://creativecommons.org/publicdomain/zero/1.0/"
CC0_NOTICE = (
    f"This model text is dedicated to the public domain under {CC0_NAME} ({CC0_URL}): "
    "anyone may copy, change and adopt it, without asking and without credit."
)

COUNTY, PLACE, DISTRICT, STATE = "county", "place", "district", "state"
LEVELS = (COUNTY, PLACE, DISTRICT, STATE)

# A body that is one chamber (a state's Senate, House or Assembly) cannot adopt the legislature's joint
# resolution; "General Assembly" and "Legislative Assembly" are whole legislatures.
CHAMBER = re.compile(r"\b(senate|house)\b|(?<!general )(?<!legislative )\bassembly\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"(\[[^\]]*\])")
ARTICLED = re.compile(r"^(city|town|village|borough|township|county|city and county) of\b", re.IGNORECASE)


@dataclass(frozen=True)
class Bill:
    """A bill pending in Congress, as the data names it: number (may be blank), title, session (may be blank)."""

    number: str
    title: str
    session: str = ""

    @property
    def reference(self):
        """How a clause names it: by number when it has one."""
        return self.number or self.title

    @property
    def full_name(self):
        """Number and title: "S. 725, the Enhancing First Response Act"."""
        return f"{self.number}, the {self.title}" if self.number else f"the {self.title}"


@dataclass(frozen=True)
class Signature:
    role: str  # "[Chair]"
    of: str  # the body, or "" for a line without one
    attest: bool = False

    @property
    def label(self):
        """What is printed under the line: "[Name], [Chair], Mobile County Commission"."""
        return f"[Name], {self.role}" + (f", {self.of}" if self.of else "")


@dataclass(frozen=True)
class ModelResolution:
    heading: str
    title: str
    whereas: tuple
    resolved: tuple
    adopted: str
    signatures: tuple
    bills_as_of: str
    notice: str = CC0_NOTICE

    @property
    def clauses(self):
        """Every paragraph of the resolution itself, in order: what both outputs must say alike."""
        return (self.heading, self.title, *self.whereas, *self.resolved, self.adopted)


def is_chamber(body):
    return bool(CHAMBER.search(body))


def chosen_body(level, bodies):
    """The adopting body to name: the first of the place's own recorded bodies (newest first) that can
    adopt this kind of resolution (for a state, the legislature, not one chamber); None if none can."""
    for body in bodies:
        body = (body or "").strip()
        if body and not (level == STATE and is_chamber(body)):
            return body
    return None


def placeholder_body(level, name):
    """The body to name when the data has none: the place in brackets, for the sponsor to check.

    Only a "County" is said to have a commission: parishes, boroughs and independent cities have councils,
    juries and assemblies. The District of Columbia's legislature is its Council.
    """
    if level == COUNTY and not name.endswith(" County"):
        return f"[governing body of {name}]"
    if level == STATE and name == "District of Columbia":
        return "[Council of the District of Columbia]"
    return {
        COUNTY: f"[{name}] Commission",
        PLACE: f"[{name}] Council",
        DISTRICT: f"[{name}] Board of Directors",
        STATE: f"[{name}] Legislature",
    }[level]


def _the(name):
    """ "the City of Mobile", "the Mobile County Commission", "the [Albany County] Commission"."""
    return name if name.lower().startswith("the ") else f"the {name}"


def _where(level, name, state):
    """The place in a sentence, closed by a comma when it has one ("Mobile County, Alabama, who...")."""
    if level == STATE:
        return state
    if level == DISTRICT:
        return f"the area served by the {name} in {state}"
    if level == PLACE and ARTICLED.match(name):
        return f"the {name}, {state},"
    return f"{name}, {state},"


def _list(items):
    items = list(items)
    if len(items) < 3:
        return " and ".join(items)
    return "; ".join(items[:-1]) + "; and " + items[-1]


def _short_list(items):
    items = list(items)
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _congress(bills):
    sessions = {bill.session for bill in bills}
    if len(sessions) == 1 and "" not in sessions:
        return f"the {sessions.pop()}"
    return "the United States Congress"


SIGNATURES = {
    COUNTY: (("[Chair]", True), ("[Clerk]", False)),
    PLACE: (("[Mayor]", False), ("[City Clerk]", False)),
    DISTRICT: (("[Chair of the Board]", True), ("[Secretary]", False)),
}


def _signatures(level, body):
    if level == STATE:
        return (
            Signature("[President of the Senate]", ""),
            Signature("[Speaker of the House of Representatives]", ""),
            Signature("[Secretary of the Senate]", "", attest=True),
            Signature("[Chief Clerk of the House of Representatives]", "", attest=True),
        )
    (first, first_of_body), (second, _) = SIGNATURES[level]
    return (
        Signature(first, body if first_of_body else ""),
        Signature(second, "", attest=True),
    )


def compose(*, level, name, state, body, bills, as_of):
    """The model resolution for one place.

    `level` one of LEVELS; `name` the place ("Mobile County"; for a state, the state); `state` the
    state's name; `body` the adopting body (from the data, or `placeholder_body`); `bills` the Bills
    pending in Congress, in the order to name them; `as_of` the day the bills were read ("November 30,
    2026"), since a bill's standing changes and the sponsor should check it before the vote.
    """
    if level not in LEVELS:
        raise ValueError(f"No model resolution for a {level}.")
    bills = tuple(bills)
    where = _where(level, name, state)
    the_body = _the(body)
    if level == STATE:
        heading = "[JOINT OR CONCURRENT] RESOLUTION NO. ______"
        title = (
            f"A [joint or concurrent] resolution of {the_body} recognizing the public safety telecommunicators who serve "
            f"the people of {state} as first responders, and asking that federal job classification "
            "treat them as a protective service occupation."
        )
        who = f"the public safety telecommunicators who serve the people of {state}"
        clerk = "[the Secretary of the Senate]"
        recipients = f"each member of {state}’s delegation in the United States Congress"
    else:
        heading = "RESOLUTION NO. ______"
        who = (
            "its public safety telecommunicators"
            if level == DISTRICT
            else f"the public safety telecommunicators who serve {where}"
        )
        title = f"A resolution of {the_body} recognizing {who} as first responders."
        clerk = f"[the secretary] of {the_body}" if level == DISTRICT else f"the clerk of {the_body}"
        recipients = (
            "the state legislators and the members of the United States Congress who represent "
            + where.rstrip(",")
        )

    whereas = [
        "WHEREAS, public safety telecommunicators, often called 911 dispatchers, are the first contact for "
        f"people in {where} who call for help in an emergency, at any hour of any day;",
        "WHEREAS, telecommunicators gather the facts of each emergency, send police, fire and emergency "
        "medical services to it, and keep those responders informed while they work;",
        "WHEREAS, before help arrives, telecommunicators give callers instructions that save lives, such as "
        "telephone CPR, how to stop severe bleeding and how to help deliver a baby;",
        "WHEREAS, telecommunicators hear people in the worst moments of their lives, call after call, and "
        "this repeated exposure to trauma and stress has been linked to symptoms of post-traumatic stress;",
        "WHEREAS, the federal Standard Occupational Classification, which the U.S. Office of Management and "
        "Budget maintains and federal statistical agencies use to classify workers, still classes public "
        "safety telecommunicators among “office and administrative support” occupations, with clerical "
        "workers, rather than among “protective service” occupations, with police officers and firefighters;",
        "WHEREAS, that classification does not reflect the emergency work telecommunicators do, the training "
        "it takes or the toll it carries;",
    ]
    if bills:
        whereas.append(
            f"WHEREAS, bills now pending in {_congress(bills)} address this classification: "
            f"{_list(bill.full_name for bill in bills)};"
        )

    if bills:
        support = (
            f"BE IT FURTHER RESOLVED that {the_body} supports "
            f"{_short_list(bill.reference for bill in bills)}, and urges the United States Congress and the "
            "U.S. Office of Management and Budget to classify public safety telecommunicators as a protective "
            "service occupation;"
        )
    else:
        support = (
            f"BE IT FURTHER RESOLVED that {the_body} urges the United States Congress and the U.S. Office of "
            "Management and Budget to classify public safety telecommunicators as a protective service "
            "occupation in the Standard Occupational Classification;"
        )
    resolved = (
        f"NOW, THEREFORE, BE IT RESOLVED by {the_body} that it recognizes {who} as first responders;",
        support,
        f"BE IT FURTHER RESOLVED that {clerk} is directed to send copies of this resolution to {recipients}.",
    )
    return ModelResolution(
        heading=heading,
        title=title,
        whereas=tuple(whereas),
        resolved=resolved,
        adopted="Adopted this ____ day of __________, 20__.",
        signatures=_signatures(level, body),
        bills_as_of=(
            f"The bills named were pending in Congress in the Dispatcher Recognition Tracker’s records on "
            f"{as_of}; check that each still is before the vote."
            if bills
            else f"No federal bill was pending in the Dispatcher Recognition Tracker’s records on {as_of}."
        ),
    )


def parts(text):
    """The text cut into (words, is_placeholder) pieces: how both outputs mark the [bracketed] parts."""
    return [(piece, piece.startswith("[")) for piece in PLACEHOLDER.split(text) if piece]


LEAD = re.compile(r"^(WHEREAS,|NOW, THEREFORE, BE IT RESOLVED|BE IT FURTHER RESOLVED)")


def lead(text):
    """A clause's opening words ("WHEREAS,") and the rest: both outputs set the opening in bold."""
    match = LEAD.match(text)
    return (match.group(1), text[match.end() :]) if match else ("", text)
