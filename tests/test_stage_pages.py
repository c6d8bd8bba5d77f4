"""Where each measure stands, on the public pages: its stage bar, its actions, its session; `/`'s bills in Congress.

Actions are created here from the shipped `starter_actions.csv`, which is also the oracle for what the pages
must say (the starter load may have created them already: they are only added when missing).
"""

import calendar
import csv
import datetime
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from recognition import roles
from recognition.dates import PartialDate
from recognition.models import Action, Jurisdiction, Kind, LegislativeSession, Level, Resolution, Status
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.staff import make_user, signed_in
from tests.test_caching import Site, commit

pytestmark = pytest.mark.django_db

STARTER_ACTIONS = "recognition/data/starter_actions.csv"
SESSION_ENDED = "Session ended; outcome not yet recorded"
# Open States' vocabulary, in the order of a measure's life: the order of actions of one period.
VOCABULARY = [
    "introduction",
    "referral-committee",
    "committee-passage",
    "passage",
    "executive-signature",
    "executive-veto",
    "became-law",
    "failure",
    "withdrawal",
]


# --- The oracle: the CSV, read plainly ------------------------------------------------------------------


def action_rows(identifier=None):
    with open(STARTER_ACTIONS, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if identifier is None or row["identifier"] == identifier]


def period_end(text):
    """The last day a `2025`, `2025-09` or `2025-09-11` date may be."""
    parts = [int(part) for part in text.split("-")]
    if len(parts) == 1:
        return datetime.date(parts[0], 12, 31)
    if len(parts) == 2:
        return datetime.date(parts[0], parts[1], calendar.monthrange(*parts)[1])
    return datetime.date(*parts)


def in_words(text):
    """`2025`, `September 2025` or `September 2, 2025`."""
    parts = [int(part) for part in text.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = calendar.month_name[parts[1]]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{month} {parts[2]}, {parts[0]}"


def in_order(rows):
    """A measure's actions as the page must list them: by the end of their period, then by the life order."""
    return sorted(rows, key=lambda row: (period_end(row["date"]), VOCABULARY.index(row["classification"])))


def measure_of(row):
    found = Resolution.objects.filter(identifier=row["identifier"])
    if row["level"] == "federal":
        return found.get(jurisdiction__level=Level.NATION)
    return found.get(jurisdiction__level=row["level"], jurisdiction__usps=row["state"])


def add_actions(rows):
    """The rows' actions, in the order given; an action the starter load already made is kept as it is."""
    actions = []
    for row in rows:
        date = PartialDate.parse(row["date"])
        action, _created = Action.objects.get_or_create(
            resolution=measure_of(row),
            on=date.start,
            classification=row["classification"],
            chamber=row["chamber"],
            defaults={
                "on_precision": date.precision,
                "description": row["description"],
                "source_url": row["source_url"],
            },
        )
        actions.append(action)
    return actions


# --- Reading pages ------------------------------------------------------------------------------------


class Page(HTMLParser):
    """What a reader finds: the text of <main>, each stage bar's steps and each listed action."""

    def __init__(self, html):
        super().__init__()
        self.text, self.bars, self.actions = [], [], []
        self._in_main = self._skip = False
        self._step = self._action = None
        self._classes = []
        self.feed(html)
        self.text = " ".join("".join(self.text).split())

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag not in self.VOID:
            self._classes.append(classes)
        if tag == "main":
            self._in_main = True
        if tag in ("script", "style"):
            self._skip = True
        if tag == "ol" and "stagebar__steps" in classes:
            self.bars.append([])
        if tag == "li" and "stagebar__step" in classes:
            self._step = {"name": "", "date": "", "current": attrs.get("aria-current"), "classes": classes}
            self.bars[-1].append(self._step)
        if tag == "li" and (attrs.get("id") or "").startswith("action-"):
            self._action = {"id": attrs["id"], "text": "", "datetime": None, "links": []}
            self.actions.append(self._action)
        if tag == "time" and self._action is not None:
            self._action["datetime"] = attrs.get("datetime")
        if tag == "a" and self._action is not None:
            self._action["links"].append(attrs.get("href"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        classes = self._classes.pop() if self._classes else []
        if tag == "main":
            self._in_main = False
        if tag in ("script", "style"):
            self._skip = False
        if tag == "li":
            if "stagebar__step" in classes:
                self._step = None
            elif self._action is not None and not any("stagebar" in c for c in classes):
                self._action["text"] = " ".join(self._action["text"].split())
                self._action = None

    def handle_data(self, data):
        if self._in_main and not self._skip:
            self.text.append(data)
        if self._step is not None:
            current = self._classes[-1] if self._classes else []
            if "stagebar__name" in current:
                self._step["name"] += data
            elif "stagebar__date" in current:
                self._step["date"] += data
        if self._action is not None:
            self._action["text"] += data


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return Page(response.content.decode())


def steps(bar):
    """[(name, "done" | "current" | "ahead")] of a stage bar."""
    result = []
    for step in bar:
        state = next(
            c.removeprefix("stagebar__step--")
            for c in step["classes"]
            if c.endswith(("--done", "--ahead", "--current"))
        )
        assert (state == "current") == (step["current"] == "step"), step  # the current step, and only it
        result.append((step["name"], state))
    return result


@pytest.fixture
def autumn_2025(monkeypatch):
    """Today is October 1, 2025: after every starter action, before any of their sessions ends."""
    real_localdate = timezone.localdate
    day = datetime.date(2025, 10, 1)

    def localdate(value=None, timezone=None):
        return day if value is None else real_localdate(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


# --- `/`: where each bill in Congress stands -------------------------------------------------------------


def test_home_says_s_725_passed_the_senate_and_waits_in_the_house(client, starter_dataset, autumn_2025):
    rows = action_rows("S. 725")
    latest = in_order(rows)[-1]
    assert (latest["classification"], latest["chamber"], latest["date"]) == ("passage", "upper", "2025-09")
    add_actions(rows)

    text = page(client, "/").text

    assert f"S. 725: passed the Senate, {in_words(latest['date'])}; in the House" in text
    assert "S. 725: passed the Senate, September 2025; in the House" in text  # the words


def test_home_lists_pending_bills_first(client, starter_dataset, nation):
    add_actions(action_rows())
    # Newer than every pending bill, yet after them: it is over.
    late = measure(
        nation,
        status=Status.FAILED,
        identifier="S. 9999",
        introduced_on=datetime.date(2025, 6, 2),
        introduced_on_precision="day",
    )
    with open("recognition/data/starter_dataset.csv", encoding="utf-8", newline="") as handle:
        federal = [row for row in csv.DictReader(handle) if row["level"] == "federal"]
    pending = {row["identifier"] for row in federal if row["status"] == "introduced"}
    assert pending == {"S. 725", "H.R. 540", "H.R. 637"}

    bills = [bill.identifier for bill in client.get("/").context["progress"].federal]

    assert set(bills[: len(pending)]) == pending
    assert bills[len(pending)] == late.identifier
    assert len(bills) == len(federal) + 1


# --- A measure page: its stage bar and its actions ---------------------------------------------------------


def test_a_measure_page_lists_every_action_in_order_with_its_date_chamber_and_source(client, starter_dataset):
    rows = action_rows("S. 725")
    created = add_actions(list(reversed(rows)))  # recorded last first: the page must not list by record
    by_description = {action.description: action for action in created}
    expected = in_order(rows)
    assert [row["date"] for row in expected] == [
        "2025-02-25",
        "2025-09-02",
        "2025-09",
    ]  # a month after its days

    listed = page(client, measure_of(rows[0]).get_absolute_url()).actions

    assert [action["id"] for action in listed] == [
        f"action-{by_description[row['description']].pk}" for row in expected
    ]
    for action, row in zip(listed, expected, strict=True):
        assert action["datetime"] == row["date"]
        assert action["text"].startswith(f"{in_words(row['date'])} Senate {row['description']}")
        assert action["links"] == [row["source_url"]]


@pytest.mark.parametrize("identifier", ["HB 414 (Act 2022-387)", "H.R. 6319"])
def test_the_actions_name_their_chamber(client, starter_dataset, identifier):
    rows = in_order(action_rows(identifier))
    add_actions(rows)
    chambers = {"executive": "Governor", "lower": "House", "upper": "Senate", "": ""}

    listed = page(client, measure_of(rows[0]).get_absolute_url()).actions

    assert [action["text"].split(" Source: ")[0] for action in listed] == [
        " ".join(
            part for part in (in_words(row["date"]), chambers[row["chamber"]], row["description"]) if part
        )
        for row in rows
    ]


@pytest.fixture
def nation():
    return Jurisdiction.objects.nation()


def measure(jurisdiction, kind=Kind.BILL, status=Status.INTRODUCED, **kwargs):
    values = {"jurisdiction": jurisdiction, "kind": kind, "status": status, "identifier": "B 1"}
    if status != Status.ADOPTED:
        values |= {"adopted_on": None, "adopted_on_precision": ""}
    return ResolutionFactory(**(values | kwargs))


def act(resolution, on, classification, chamber=""):
    date = PartialDate.parse(on)
    return Action.objects.create(
        resolution=resolution,
        on=date.start,
        on_precision=date.precision,
        classification=classification,
        chamber=chamber,
        description=f"{classification} {chamber}".strip(),
        source_url="https://example.org/bill",
    )


BILL_STEPS = ["Introduced", "In committee", "Passed committee"]
# (where, kind, status, identifier, actions, expected bar): written from the rules in words, not from the code.
SEQUENCES = {
    "a bill just introduced in the Senate": (
        "US",
        Kind.BILL,
        Status.INTRODUCED,
        "S. 1",
        [("2025-02-25", "introduction", "upper")],
        [("Introduced", "current")]
        + [(name, "ahead") for name in BILL_STEPS[1:]]
        + [
            ("Passed the Senate", "ahead"),
            ("Passed the House", "ahead"),
            ("Signed", "ahead"),
            ("In force", "ahead"),
        ],
    ),
    "S. 725: reported, then passed the Senate": (
        "US",
        Kind.BILL,
        Status.INTRODUCED,
        "S. 725",
        [
            ("2025-02-25", "introduction", "upper"),
            ("2025-09-02", "committee-passage", "upper"),
            ("2025-09", "passage", "upper"),
        ],
        [(name, "done") for name in BILL_STEPS]
        + [
            ("Passed the Senate", "current"),
            ("Passed the House", "ahead"),
            ("Signed", "ahead"),
            ("In force", "ahead"),
        ],
    ),
    "a California bill through both chambers, awaiting the Governor": (
        "CA",
        Kind.BILL,
        Status.INTRODUCED,
        "AB 2",
        [
            ("2024-01-10", "introduction", "lower"),
            ("2024-05", "passage", "lower"),
            ("2024-08-20", "passage", "upper"),
        ],
        [(name, "done") for name in BILL_STEPS]
        + [
            ("Passed the Assembly", "done"),
            ("Passed the Senate", "current"),
            ("Signed", "ahead"),
            ("In force", "ahead"),
        ],
    ),
    "a bill vetoed after both chambers passed it": (
        "TX",
        Kind.BILL,
        Status.FAILED,
        "HB 3",
        [
            ("2023-02-01", "introduction", "lower"),
            ("2023-04-01", "passage", "lower"),
            ("2023-05-01", "passage", "upper"),
            ("2023-06-01", "executive-veto", "executive"),
        ],
        [(name, "done") for name in BILL_STEPS]
        + [("Passed the House", "done"), ("Passed the Senate", "done"), ("Vetoed", "current")],
    ),
    "H.R. 6319: out of committee, died with its Congress": (
        "US",
        Kind.BILL,
        Status.FAILED,
        "H.R. 6319",
        [
            ("2023-11-08", "introduction", "lower"),
            ("2024-07-10", "committee-passage", "lower"),
            ("2025-01-03", "failure", ""),
        ],
        [(name, "done") for name in BILL_STEPS] + [("Failed", "current")],
    ),
    "a bill withdrawn in committee": (
        "OH",
        Kind.BILL,
        Status.FAILED,
        "SB 4",
        [
            ("2024-01-10", "introduction", "upper"),
            ("2024-01-11", "referral-committee", "upper"),
            ("2024-03", "withdrawal", "upper"),
        ],
        [("Introduced", "done"), ("In committee", "done"), ("Withdrawn", "current")],
    ),
    "a signed law that took effect": (
        "AL",
        Kind.STATUTE,
        Status.ADOPTED,
        "HB 5",
        [("2022-04-18", "executive-signature", "executive"), ("2022-07-01", "became-law", "")],
        [(name, "done") for name in BILL_STEPS]
        + [
            ("Passed the House", "done"),
            ("Passed the Senate", "done"),
            ("Signed", "done"),
            ("In force", "current"),
        ],
    ),
    "Nebraska's one chamber": (
        "NE",
        Kind.BILL,
        Status.INTRODUCED,
        "LB 6",
        [("2024-01-10", "introduction", "lower"), ("2024-03-01", "passage", "lower")],
        [(name, "done") for name in BILL_STEPS]
        + [("Passed the Legislature", "current"), ("Signed", "ahead"), ("In force", "ahead")],
    ),
    "a county resolution, adopted": (
        "01097",
        Kind.RESOLUTION,
        Status.ADOPTED,
        "",
        [],
        [("Introduced", "done"), ("Adopted", "current")],
    ),
    "a city ordinance, pending": (
        "place",
        Kind.ORDINANCE,
        Status.INTRODUCED,
        "Ord. 7",
        [("2025-03-03", "introduction", "")],
        [("Introduced", "current"), ("Adopted", "ahead"), ("In force", "ahead")],
    ),
}


def place_of(where):
    if where == "US":
        return Jurisdiction.objects.nation()
    if where == "place":
        return PlaceFactory()
    return get_county(where) if where.isdigit() else get_state(where)


@pytest.mark.parametrize("name", SEQUENCES)
def test_the_stage_bar_marks_the_step_the_measure_reached(client, name):
    where, kind, status, identifier, actions, expected = SEQUENCES[name]
    record = measure(place_of(where), kind=kind, status=status, identifier=identifier)
    for on, classification, chamber in actions:
        act(record, on, classification, chamber)

    bars = page(client, record.get_absolute_url()).bars

    assert len(bars) == 1
    assert steps(bars[0]) == expected


def test_each_step_carries_the_date_of_the_action_that_reached_it(client, starter_dataset):
    rows = action_rows("S. 725")
    add_actions(rows)
    bar = page(client, measure_of(rows[0]).get_absolute_url()).bars[0]
    dated = {step["name"]: step["date"] for step in bar if step["date"]}
    assert dated == {
        "Introduced": "February 25, 2025",
        "Passed committee": "September 2, 2025",
        "Passed the Senate": "September 2025",
    }


def test_a_law_recorded_without_actions_is_in_force_from_its_effective_date(client, starter_dataset):
    law = Resolution.objects.get(identifier="HB 414 (Act 2022-387)")
    assert not law.actions.exists() and law.effective_on == datetime.date(2022, 7, 1)
    bar = page(client, law.get_absolute_url()).bars[0]
    assert [(step["name"], step["date"]) for step in bar[-2:]] == [
        ("Signed", "April 18, 2022"),  # its adoption date
        ("In force", "July 1, 2022"),
    ]
    assert bar[-1]["current"] == "step"


def test_a_drafts_preview_shows_its_stage_bar_and_actions(django_user_model, nation):
    draft = measure(nation, identifier="S. 9", published=False)
    act(draft, "2025-02-25", "introduction", "upper")
    act(draft, "2025-03", "referral-committee", "upper")
    editor = make_user(django_user_model, "editor", roles.EDITORS)

    shown = Page(signed_in(editor).get(draft.get_preview_url()).content.decode())

    assert [name for name, state in steps(shown.bars[0]) if state == "current"] == ["In committee"]
    assert [action["text"][:10] for action in shown.actions] == ["February 2", "March 2025"]


# --- Lists: state and jurisdiction pages ---------------------------------------------------------------------


def test_state_and_nation_pages_show_each_pending_bills_stage(client, starter_dataset, autumn_2025):
    add_actions(action_rows())
    nation_page = page(client, "/united-states/")
    assert "Pending: passed the Senate, September 2025; in the House" in nation_page.text
    s_725 = next(bar for bar in nation_page.bars if any(step["name"] == "Passed the Senate" for step in bar))
    assert [step["name"] for step in s_725 if step["current"]] == ["Passed the Senate"]
    assert "Pending: introduced, February 3, 2025" in page(client, "/states/pa/").text  # HB 453's one action


def test_a_pending_local_measure_shows_its_stage_in_the_states_table(client, starter_dataset):
    measure(get_county("01003"), kind=Kind.RESOLUTION, title="Baldwin County draft resolution")
    assert "Pending: introduced" in page(client, "/states/al/").text


# --- A session that ended with the measure still pending ----------------------------------------------------


def ended_session(jurisdiction, name, days_ago=1):
    today = timezone.localdate()
    return LegislativeSession.objects.create(
        jurisdiction=jurisdiction,
        name=name,
        start_on=today - datetime.timedelta(days=700),
        end_on=today - datetime.timedelta(days=days_ago),
    )


@pytest.mark.parametrize("days_ago, ended", [(1, True), (0, False), (-30, False)])
def test_a_pending_bill_of_an_ended_session_is_labelled_and_not_called_pending(
    client, nation, days_ago, ended
):
    session = ended_session(nation, "118th Congress", days_ago)
    bill = measure(nation, session=session, title="A bill", summary="Would recognize dispatchers.")
    act(bill, "2024-02-01", "introduction", "lower")

    text = page(client, bill.get_absolute_url()).text

    assert (SESSION_ENDED in text) is ended
    assert ("pending" in text.lower()) is not ended
    if ended:
        assert (
            f"118th Congress ended on {session.end_on:%B} {session.end_on.day}, {session.end_on.year}" in text
        )


def test_the_ended_session_label_on_home_state_and_nation_pages(client, starter_dataset, nation):
    add_actions(action_rows())
    congress = ended_session(nation, "A Congress that ended")
    pennsylvania = ended_session(get_state("PA"), "A session that ended")
    s_725 = Resolution.objects.get(identifier="S. 725")
    hb_453 = Resolution.objects.get(identifier__startswith="HB 453", jurisdiction__usps="PA")
    for bill, session in ((s_725, congress), (hb_453, pennsylvania)):
        bill.session = session
        bill.save()

    assert f"S. 725: {SESSION_ENDED}" in page(client, "/").text
    assert SESSION_ENDED in page(client, "/united-states/").text
    assert SESSION_ENDED in page(client, "/states/pa/").text
    assert "Pending: passed the Senate" not in page(client, "/united-states/").text


def congress_119(nation):
    """The 119th Congress (perhaps already loaded with the starter data)."""
    congress, _created = LegislativeSession.objects.get_or_create(
        jurisdiction=nation,
        name="119th Congress",
        defaults={"start_on": datetime.date(2025, 1, 3), "end_on": datetime.date(2027, 1, 3)},
    )
    assert (congress.start_on, congress.end_on) == (datetime.date(2025, 1, 3), datetime.date(2027, 1, 3))
    return congress


def test_the_session_is_shown_with_its_dates(client, nation):
    bill = measure(nation, session=congress_119(nation))
    text = page(client, bill.get_absolute_url()).text
    assert "119th Congress, January 3, 2025 – January 3, 2027" in text


# --- The page cache keeps a page for one day ------------------------------------------------------------------


def test_a_page_cached_one_day_is_not_served_the_next(
    starter_dataset, nation, monkeypatch, django_assert_num_queries
):
    congress = congress_119(nation)
    bill = Resolution.objects.get(identifier="S. 725")
    bill.session = congress
    bill.save()
    commit()
    real_localdate = timezone.localdate
    today = {"date": congress.end_on}  # its last day: still pending

    def localdate(value=None, timezone=None):
        return today["date"] if value is None else real_localdate(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    site = Site()
    first = site(bill.get_absolute_url())
    with django_assert_num_queries(0):
        assert site(bill.get_absolute_url()) == first  # kept for the rest of the day
    assert SESSION_ENDED not in first["body"].decode()

    today["date"] += datetime.timedelta(days=1)
    next_day = site(bill.get_absolute_url())

    assert SESSION_ENDED in next_day["body"].decode()
    assert dict(next_day["headers"])["ETag"] != dict(first["headers"])["ETag"]
