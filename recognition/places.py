"""Find your county or city: from what a person types (a name, "Mobile, AL", a ZIP code) to our pages.

Names are compared by a key that forgives what people do to them (`name_key`): case, accents,
spaces and punctuation, "St."/"St"/"Saint", a trailing "County", "Parish" or "Borough", a leading
"City of". The pure part (keys, reading a query, the spellings the ZIP data uses) needs no database,
so it is tested on its own. The states, counties, cities and districts come from one query of
the jurisdictions; cities we do not record, and ZIP codes, come from the `zipcodes` package (MIT),
which names each ZIP code's state and county, one county per ZIP code.
"""

import bisect
import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import zipcodes
from django.db.models import Case, Exists, F, OuterRef, Q, When

from . import status as rules
from .models import Jurisdiction, Level, Resolution
from .versioning import current_version, database_namespace

MAX_QUERY_LENGTH = 100  # the longest county name is under 50 characters, with its state under 70
PAGE_LIMIT = 20  # results listed on the page; the rest are counted
SUGGEST_LIMIT = 8  # options the type-ahead offers
MIN_PREFIX = 2  # characters before a name is matched by its beginning

# Abbreviations people write either way: compared spelled out.
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}
# Words after a county's own name (the longest first). Not "city": Virginia's Richmond city and
# Richmond County are two different counties.
COUNTY_WORDS = (
    ("city", "and", "borough"),
    ("census", "area"),
    ("county",),
    ("parish",),
    ("borough",),
    ("municipality",),
    ("municipio",),
    ("co",),
)
# Words before a name: "City of Mobile", and the ZIP data's "Municipality of Anchorage".
NAME_PREFIXES = (
    ("city", "and", "borough", "of"),
    ("municipality", "of"),
    ("borough", "of"),
    ("county", "of"),
    ("city", "of"),
    ("town", "of"),
    ("township", "of"),
    ("village", "of"),
)
CITY_COUNTY_WORDS = {"city and borough", "municipality"}  # Alaska's consolidated cities
PLACE_PREFIXES = {("city", "of"), ("town", "of"), ("township", "of"), ("village", "of")}
ZIP_PATTERN = re.compile(r"(\d{5})(?:-\d{4})?")
WHITESPACE_CONTROLS = {"\t", "\n", "\r"}

ZIP_NOTE = (
    "A ZIP code can cross county lines: we show the county the ZIP code is assigned to, "
    "which may not be yours. If it is not, search for your county or city by name."
)


class InvalidQuery(ValueError):
    """What was typed cannot be searched; the message says why, in words."""


# --- Pure: names and queries ------------------------------------------------------------------------


def words(text):
    """Lower-case words without accents or punctuation, abbreviations spelled out: "St. Mary's" ->
    ["saint", "mary", "s"]."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return [ABBREVIATIONS.get(word, word) for word in re.findall(r"[^\W_]+", plain.replace("&", " and "))]


@dataclass(frozen=True, slots=True)
class Name:
    """A name reduced for comparison: its key, and which kind of place its own words said it is."""

    key: str
    words: tuple = ()  # the words of the key: what the ZIP data's city names are spelled from
    county_word: str = ""  # the words that say it is a county: "county", "parish", "city and borough"...
    place_word: bool = False  # it began with City of, Town of...
    city_word: bool = False  # it ends with "city": Virginia's independent cities, "Carson City"


@functools.lru_cache(maxsize=16384)  # every search reads the same few thousand names again
def read_name(text):
    """Split off one leading "City of" and one trailing "County" (or the like); the rest, run together,
    is the key: "St. Louis County" and "Saint Louis" both have the key "saintlouis"."""
    parts = words(text)
    place_word, county_word = False, ""
    for prefix in NAME_PREFIXES:
        if len(parts) > len(prefix) and tuple(parts[: len(prefix)]) == prefix:
            place_word = prefix in PLACE_PREFIXES
            county_word = "" if place_word else " ".join(prefix[:-1])
            parts = parts[len(prefix) :]
            break
    for suffix in COUNTY_WORDS:
        if len(parts) > len(suffix) and tuple(parts[-len(suffix) :]) == suffix:
            county_word = " ".join(suffix)
            parts = parts[: -len(suffix)]
            break
    city_word = len(parts) > 1 and parts[-1] == "city"
    return Name("".join(parts), tuple(parts), county_word, place_word, city_word)


def name_key(text):
    return read_name(text).key


def entry_keys(name, level):
    """The keys a jurisdiction is found by: its name's, and for a county ending in "city" (Baltimore
    city, Carson City) also without it, so "Baltimore" finds the city as well as the county."""
    read = read_name(name)
    keys = [read.key]
    if level == Level.COUNTY and read.city_word:
        keys.append(read.key.removesuffix("city"))
    return tuple(keys)


def clean_query(raw):
    """The query with its spaces tidied, or InvalidQuery: too long, control characters, nothing to search."""
    if len(raw) > MAX_QUERY_LENGTH:
        raise InvalidQuery(
            f"That is {len(raw):,} characters long; a place name or ZIP code is at most "
            f"{MAX_QUERY_LENGTH}. Type just the county or city, and its state if you like."
        )
    text = "".join(" " if char in WHITESPACE_CONTROLS else char for char in raw)
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise InvalidQuery(
            "The search contains control characters (such as a NUL byte). Type a name or ZIP code."
        )
    text = " ".join(text.split())
    if text and not words(text):
        raise InvalidQuery("The search has no letters or digits. Type a county or city name, or a ZIP code.")
    return text


def zip_code(text):
    """The five-digit ZIP code a query is ("36602", "36602-1234"), None for a name; InvalidQuery for digits
    that are no ZIP code."""
    if match := ZIP_PATTERN.fullmatch(text):
        return match.group(1)
    compact = text.replace(" ", "").replace("-", "")
    if compact.isascii() and compact.isdigit():
        raise InvalidQuery(
            f"A ZIP code has five digits; “{text}” has {len(compact)}. Type a five-digit ZIP code or a name."
        )
    return None


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read a query: a name, maybe limited to a state (USPS code)."""

    name: Name
    state: str | None = None


def readings(text, state_keys):
    """The ways to read `text`, most literal first.

    `state_keys` maps a state's name key and its lower-case USPS code to the code. "Mobile, AL" is
    read as Mobile in Alabama only; "Albany County Wyoming" as itself, then as Albany County in
    Wyoming (the first reading that finds something wins, so "West Virginia" stays a state).
    """
    if "," in text:
        name, _, state = text.rpartition(",")
        code = state_keys.get(name_key(state)) if words(name) else None
        if code:
            return [Reading(read_name(name), code)]
    parts = words(text)
    found = [Reading(read_name(text))]
    for size in (3, 2, 1):  # "District of Columbia", "New York", "Wyoming", "WY"
        if len(parts) > size and (code := state_keys.get("".join(parts[-size:]))):
            found.append(Reading(read_name(" ".join(parts[:-size])), code))
    return found


def city_spellings(name_words):
    """How the ZIP data may spell a city: words capitalized, punctuation as spaces ("O Fallon",
    "Coeur D Alene", "Saint Louis"), with "Mc", "De", "La" and the like both apart and joined."""
    if not name_words:
        return []
    spellings = [" ".join(word.capitalize() for word in name_words)]
    joined, particles = [], {"mc", "de", "la", "le", "du", "di", "van", "o"}
    for word in name_words:
        if joined and joined[-1].lower() in particles:
            joined[-1] += word
        else:
            joined.append(word.capitalize())
    spellings.append(" ".join(word.capitalize() for word in joined))
    if name_words[0].startswith("mc") and len(name_words[0]) > 2:
        spellings.append(
            " ".join(["Mc", name_words[0][2:].capitalize(), *(w.capitalize() for w in name_words[1:])])
        )
    return list(dict.fromkeys(spellings))


# --- The places we know: one query -------------------------------------------------------------------

SEARCHED_LEVELS = (Level.STATE, Level.COUNTY, Level.PLACE, Level.DISTRICT)
# Listed in this order: a state, its counties, then cities and districts.
LEVEL_ORDER = {Level.STATE: 0, Level.COUNTY: 1, Level.PLACE: 2, Level.DISTRICT: 3}


@dataclass(frozen=True, slots=True)
class Entry:
    """A state, county, city or district as the search sees it."""

    pk: int
    level: str
    name: str
    usps: str  # its state's code
    state_name: str
    keys: tuple
    is_city: bool = False  # a city or district, or a county that is a city
    county_word: str = ""  # "county", "parish", "borough"...: what its name calls it

    @property
    def sort_key(self):
        return (LEVEL_ORDER[self.level], self.state_name, self.name)


class Directory:
    """Every searchable jurisdiction, by key (one query), and the states by name and code."""

    def __init__(self, rows):
        self.entries = []
        self.by_key = {}
        self.state_keys = {}
        self.state_names = {}
        self.counties_by_state = {}
        for pk, level, name, own_usps, parent_usps, parent_name in rows:
            usps = own_usps if level == Level.STATE else parent_usps
            state_name = name if level == Level.STATE else parent_name
            if not usps:
                continue
            read = read_name(name)
            # Counties that are cities: Baltimore city, Carson City, Juneau City and Borough, Anchorage.
            is_city = level in (Level.PLACE, Level.DISTRICT) or (
                level == Level.COUNTY and (read.city_word or read.county_word in CITY_COUNTY_WORDS)
            )
            entry = Entry(
                pk, level, name, usps, state_name, entry_keys(name, level), is_city, read.county_word
            )
            self.entries.append(entry)
            for key in entry.keys:
                self.by_key.setdefault(key, []).append(entry)
            if level == Level.STATE:
                self.by_key.setdefault(usps.lower(), []).append(entry)  # "AL" alone is Alabama
                self.state_keys[name_key(name)] = usps
                self.state_keys[usps.lower()] = usps
                self.state_names[usps] = name
            elif level == Level.COUNTY:
                self.counties_by_state.setdefault(usps, []).append(entry)
        # Every key with its entry's position, in key order: the names beginning with what was typed are
        # one run of it (the type-ahead asks at every keystroke).
        self.sorted_keys = sorted(
            (key, index) for index, entry in enumerate(self.entries) for key in entry.keys
        )

    @classmethod
    def load(cls, usps=None):
        rows = Jurisdiction.objects.filter(level__in=SEARCHED_LEVELS)
        if usps:  # a ZIP code: its state and that state's counties are enough
            rows = rows.filter(Q(level=Level.STATE, usps=usps) | Q(level=Level.COUNTY, parent__usps=usps))
        return cls(rows.values_list("pk", "level", "name", "usps", "parent__usps", "parent__name"))

    def matching(self, reading, prefix=False):
        """The entries a reading names: exactly (its key), or every key starting with it."""
        key = reading.name.key
        if not key:
            return []
        if prefix:
            if len(key) < MIN_PREFIX:
                return []
            positions = set()
            for other, index in self.sorted_keys[bisect.bisect_left(self.sorted_keys, (key,)) :]:
                if not other.startswith(key):
                    break
                if other != key:
                    positions.add(index)
            candidates = [self.entries[index] for index in sorted(positions)]
        else:
            candidates = list(self.by_key.get(key, ()))
        found = []
        for entry in candidates:
            if reading.state and entry.usps != reading.state:
                continue
            if entry.level == Level.STATE and (
                reading.state or reading.name.county_word or reading.name.place_word
            ):
                continue
            if reading.name.county_word and entry.level != Level.COUNTY:
                continue
            if reading.name.place_word and entry.level not in (Level.PLACE, Level.DISTRICT):
                continue
            # "Richmond County" is not "Richmond city": the key without "city" is for a bare name only.
            if reading.name.county_word and not prefix and entry.keys[0] != key:
                continue
            found.append(entry)
        # "Orleans Parish" is Louisiana's, not Orleans County in New York or Vermont; "Mobile Parish"
        # still finds Mobile County, since no parish has that name.
        said = reading.name.county_word
        if said and any(entry.county_word == said for entry in found):
            found = [entry for entry in found if entry.county_word == said]
        return found

    def county_named(self, usps, county_name):
        """The county of this state the ZIP data names, compared by key; a state with a single county
        (the District of Columbia) has it for any name, since the ZIP data sometimes leaves it blank."""
        counties = self.counties_by_state.get(usps, [])
        wanted = name_key(county_name) if county_name else None
        found = [entry for entry in counties if wanted and entry.keys[0] == wanted]
        if not found and len(counties) == 1:
            return counties[0]
        return found[0] if len(found) == 1 else None


_kept = {}  # {(database, data version): Directory}: this process's copy of the names as they are now


def current_directory():
    """Every searchable name, read once per version of the data rather than at every search."""
    key = (database_namespace(), current_version()[0])
    directory = _kept.get(key)
    if directory is None:
        directory = Directory.load()
        _kept.clear()
        _kept[key] = directory
    return directory


# --- Searching ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """One answer: a jurisdiction, and why it answers when its name does not say (a city, a ZIP code)."""

    entry: Entry
    note: str = ""
    via_city: bool = False  # a city we do not record, found in the ZIP data: the county is offered


@dataclass
class Outcome:
    """What a search found, or why it found nothing (`message`), in the order to list it."""

    query: str
    zip_code: str | None = None
    found: list = field(default_factory=list)
    message: str = ""
    state: str | None = None  # a state to suggest browsing (its USPS code)
    state_name: str = ""

    @property
    def total(self):
        return len(self.found)

    @property
    def single(self):
        """The one place to go straight to, or None. A county found through a city of the ZIP data is
        shown with its sentence ("Covington, Kentucky lies in Kenton County") rather than jumped to."""
        if len(self.found) == 1 and not self.found[0].via_city:
            return self.found[0].entry
        return None


def search(raw, suggest=False):
    """Search for what was typed (InvalidQuery if it cannot be). `suggest`: also the places whose name
    begins with it, after the exact matches (the type-ahead); otherwise those only when nothing matched
    exactly."""
    text = clean_query(raw)
    if not text:
        return Outcome(query="")
    if code := zip_code(text):
        return zip_search(text, code)
    directory = current_directory()
    choices = readings(text, directory.state_keys)
    found = []
    for reading in choices:
        found = [Found(entry) for entry in sorted(directory.matching(reading), key=lambda e: e.sort_key)]
        found += cities(directory, reading, found)
        if found:
            break
    if suggest or not found:
        seen = {item.entry.pk for item in found}
        for reading in choices:
            more = [Found(e) for e in directory.matching(reading, prefix=True) if e.pk not in seen]
            if more:
                found += sorted(more, key=lambda item: item.entry.sort_key)
                break
    if not found:
        return Outcome(query=text, message=f"We found no state, county or city called “{text}”.")
    # The District of Columbia is a state here and its own county: the state's page answers for both.
    states = {item.entry.usps for item in found if item.entry.level == Level.STATE}
    found = [
        item
        for item in found
        if not (item.entry.usps in states and item.entry.name == item.entry.state_name)
        or item.entry.level == Level.STATE
    ]
    exact = [item for item in found if not item.via_city]
    return Outcome(query=text, found=exact + [item for item in found if item.via_city])


def cities(directory, reading, found):
    """Counties offered for a city we do not record, from the ZIP data: "Covington, Kentucky lies in
    Kenton County". Not for a name that says it is a county, nor in a state where one of our own
    cities or districts (or a county that is a city: Baltimore city) already answers; a county
    already found is not offered twice."""
    if reading.name.county_word or not reading.name.words:
        return []
    answered_states = {item.entry.usps for item in found if item.entry.is_city}
    listed = {item.entry.pk for item in found}
    zips_by_city = {}
    for spelling in city_spellings(reading.name.words):
        filters = {"city": spelling, **({"state": reading.state} if reading.state else {})}
        for record in zipcodes.filter_by(**filters):
            zips_by_city.setdefault((record["city"], record["state"]), Counter())[record["county"]] += 1
    offered = []
    for (city, usps), counties in sorted(zips_by_city.items(), key=lambda item: item[0][1]):
        if usps in answered_states or usps not in directory.state_names:
            continue
        state_name = directory.state_names[usps]
        entries = [directory.county_named(usps, name) for name, _count in counties.most_common()]
        entries = list(dict.fromkeys(entry for entry in entries if entry is not None))
        for entry in entries:
            if entry.pk in listed:
                continue
            listed.add(entry.pk)
            where = "lies in" if len(entries) == 1 else "lies partly in"
            offered.append(Found(entry, f"{city}, {state_name} {where} {entry.name}", via_city=True))
    return offered


def zip_search(text, code):
    """The county a ZIP code is assigned to, or a message saying why there is none we can show."""
    records = zipcodes.matching(code)
    if not records:
        return Outcome(
            query=text,
            zip_code=code,
            message=f"There is no ZIP code {code} in the ZIP code list we use.",
        )
    usps = records[0]["state"]
    directory = Directory.load(usps=usps)
    if usps not in directory.state_names:
        return Outcome(
            query=text,
            zip_code=code,
            message=f"ZIP code {code} is a military or overseas address ({usps}), which lies in no "
            "U.S. county or state that we track.",
        )
    state_name = directory.state_names[usps]
    found, missing = [], []
    for record in records:
        entry = directory.county_named(record["state"], record["county"])
        if entry is None:
            missing.append(record)
        elif entry not in [item.entry for item in found]:
            city = f"{record['city']}, " if record["city"] else ""
            found.append(Found(entry, f"ZIP code {code} ({city}{state_name}) is assigned to {entry.name}"))
    if found:
        return Outcome(query=text, zip_code=code, found=found)
    record = missing[0]
    city = f" ({record['city']}, {state_name})" if record["city"] else ""
    if record["county"]:
        message = (
            f"ZIP code {code}{city} is assigned to {record['county']}, which is not one of "
            f"{state_name}’s counties as we record them, so we cannot tell which county it is."
        )
    else:
        message = f"ZIP code {code}{city} has no county in the ZIP code list we use."
    return Outcome(query=text, zip_code=code, message=message, state=usps, state_name=state_name)


# --- Where each answer stands: the one coverage rule, for the states involved (two queries) ----------


@dataclass(frozen=True, slots=True)
class Listed:
    """One line of the results: the jurisdiction, where it stands in words, and why it is listed."""

    jurisdiction: Jurisdiction
    status: str  # a state's status, or a county's or city's coverage ("Covered", "Covered by state law")
    detail: str  # who acted ("county acted"), when it adds to `status`
    note: str

    @property
    def state_name(self):
        return self.jurisdiction.state.name


def jurisdictions(entries):
    """The jurisdictions of these entries, with their state and county, in the entries' order (one query)."""
    by_pk = Jurisdiction.objects.select_related("parent", "county").in_bulk([entry.pk for entry in entries])
    return [by_pk[entry.pk] for entry in entries if entry.pk in by_pk]


def listed(found):
    """The lines for these answers, each with its status by the same rules as the maps (three queries)."""
    places = jurisdictions([item.entry for item in found])
    notes = {item.entry.pk: item.note for item in found}
    if not places:
        return []
    state_status, county_results, acted = standings(places)
    lines = []
    for place in places:
        usps = place.state.usps
        if place.level == Level.STATE:
            lines.append(Listed(place, state_status[usps].label, "", notes[place.pk]))
            continue
        if place.level == Level.COUNTY:
            result = county_results.get(place.fips) or rules.CountyResult(
                *rules.county_standing(
                    county_acted=False, locality_acted=False, state_status=state_status[usps]
                )
            )
            status, coverage = result.status, result.coverage
        else:  # a city or district: its own measure or its county's covers all of it
            county = county_results.get(place.county.fips) if place.county_id else None
            status, coverage = rules.county_standing(
                county_acted=place.pk in acted
                or (county is not None and county.status == rules.CountyStatus.COUNTY),
                locality_acted=False,
                state_status=state_status[usps],
            )
        if place.level != Level.COUNTY and place.pk in acted:
            label, detail = coverage.label, "acted itself"
        elif place.level != Level.COUNTY and status == rules.CountyStatus.COUNTY:
            label, detail = coverage.label, "its county acted"
        elif status.label.startswith(coverage.label) or status.label == coverage.label:
            label, detail = status.label, ""  # "Covered by state law", "No recognition yet"
        else:
            label, detail = coverage.label, status.label.lower()  # "Covered: county acted"
        lines.append(Listed(place, label, detail, notes[place.pk]))
    return lines


def standings(places):
    """The statuses of the states these places are in, their counties' results and the local
    jurisdictions among them that adopted a measure: `status_inputs`' two queries, for these states only."""
    codes = sorted({place.state.usps for place in places})
    state_rows = (
        Resolution.objects.published()
        .counting()
        .filter(jurisdiction__level=Level.STATE, jurisdiction__usps__in=codes)
        .order_by()
        .values_list("jurisdiction__level", "jurisdiction__usps", "kind", "status")
        .distinct()
    )
    adopted_here = Resolution.objects.published().adopted().filter(jurisdiction=OuterRef("pk"))
    local_rows = (
        Jurisdiction.objects.filter(
            Exists(adopted_here), level__in=rules.LOCAL_LEVELS, parent__usps__in=codes
        )
        .annotate(map_county=Case(When(level=Level.COUNTY, then=F("fips")), default=F("county__fips")))
        .order_by()
        .values_list("pk", "level", "parent__usps", "map_county")
    )
    rows = [
        (0, level, usps, None, None, None, kind, status, True) for level, usps, kind, status in state_rows
    ]
    acted = set()
    for pk, level, usps, county_fips in local_rows:
        acted.add(pk)
        rows.append((pk, level, None, usps, county_fips, county_fips, "", rules.ADOPTED, True))
    measures = rules.measures_from_rows(rows)
    state_status = rules.state_statuses(measures, codes)
    counties = {}
    for place in places:
        county = place if place.level == Level.COUNTY else place.county
        if county is not None and county.fips:
            counties.setdefault(place.state.usps, set()).add(county.fips)
    return state_status, rules.county_results(measures, counties, state_status), acted
