"""Measures at every stage, each built from its actions, for the list, CSV, API and feed tests.

Every record says by hand the stage its actions and status must give (read from the rules
in words, never computed here) and whether its session has ended, so that what a test
expects is plain Python over these records, never the code under test.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from recognition.dates import PartialDate
from recognition.models import Action, Confidence, Jurisdiction, Kind, LegislativeSession, Level, Resolution
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state


@dataclass
class Record:
    key: str
    resolution: Resolution
    stage: str  # what the rules give, written by hand
    session_ended: bool = False
    steps: list = field(default_factory=list)  # (date as written, classification, chamber), in order
    actions: list = field(default_factory=list)  # the Action made from each step

    @property
    def pk(self):
        return self.resolution.pk

    @property
    def published(self):
        return self.resolution.published

    @property
    def latest_written(self):
        """The latest action's date as written here (`2025-09`); "" without actions."""
        return self.steps[-1][0] if self.steps else ""

    @property
    def latest_on(self):
        """The first day of the latest action's period (what lists sort by); None without actions."""
        return PartialDate.parse(self.latest_written).start if self.steps else None

    @property
    def latest_description(self):
        return self.actions[-1].description if self.actions else ""

    @property
    def state(self):
        """The USPS code of the measure's state, '' for a federal one."""
        jurisdiction = self.resolution.jurisdiction
        if jurisdiction.level == Level.STATE:
            return jurisdiction.usps
        return (
            jurisdiction.parent.usps if jurisdiction.parent_id and jurisdiction.level != Level.NATION else ""
        )


def add_action(resolution, when, classification, chamber="", description=None):
    date = PartialDate.parse(when)
    return Action.objects.create(
        resolution=resolution,
        on=date.start,
        on_precision=date.precision,
        classification=classification,
        chamber=chamber,
        description=description or f"{classification} {chamber} {when}".strip(),
        source_url=f"https://example.org/{resolution.pk}/{classification}/{when}",
    )


def make_session(jurisdiction, name, *, ended):
    """A session that ended a month ago, or that ends in a year (the tests never depend on today's date)."""
    today = timezone.localdate()
    end = today - datetime.timedelta(days=30) if ended else today + datetime.timedelta(days=365)
    return LegislativeSession.objects.create(
        jurisdiction=jurisdiction, name=name, start_on=end - datetime.timedelta(days=730), end_on=end
    )


def build():
    """The records, created in this order (their actions after them, in the order given)."""
    nation = Jurisdiction.objects.get(level=Level.NATION)
    ongoing = make_session(nation, "Ongoing Congress", ended=False)
    ended = make_session(nation, "Ended Congress", ended=True)
    alabama, pennsylvania, colorado, texas = (get_state(code) for code in ("AL", "PA", "CO", "TX"))
    mobile = get_county("01097")
    city = PlaceFactory(name="City of Stageville")
    # (key, jurisdiction, status, adopted on, session, published, [(date, classification, chamber)],
    #  the stage they give, whether the session has ended for it)
    specs = [
        ("S. 725", nation, "introduced", None, ongoing, True,
         [("2025-02-25", "introduction", "upper"), ("2025-09", "passage", "upper")], "passed_upper", False),
        ("H.R. 6319", nation, "failed", None, ended, True,
         [("2023-11-08", "introduction", "lower"), ("2024-07-10", "committee-passage", "lower"),
          ("2025-01-03", "failure", "")], "failed", False),
        ("H.R. 100", nation, "introduced", None, ended, True,
         [("2023-03-01", "introduction", "lower"), ("2023-03-01", "referral-committee", "lower")],
         "in_committee", True),
        ("HB 1", alabama, "introduced", None, None, True,
         [("2024-02-06", "introduction", "lower"), ("2024-03-05", "passage", "lower"),
          ("2024-04-02", "passage", "upper")], "passed_both", False),
        ("HB 2", alabama, "adopted", "2022-04-18", None, True,
         [("2022-01-11", "introduction", "lower"), ("2022-02", "passage", "lower"),
          ("2022-03-29", "passage", "upper"), ("2022-04-18", "executive-signature", "executive")],
         "adopted", False),
        ("HB 3", texas, "adopted", "2019", None, True,
         [("2019-02", "introduction", "lower"), ("2019", "became-law", "")], "in_force", False),
        ("SB 4", pennsylvania, "failed", None, None, True,
         [("2023-05-01", "introduction", "upper"), ("2023-06-01", "passage", "upper"),
          ("2023-06-20", "passage", "lower"), ("2023-07-01", "executive-veto", "executive")], "vetoed", False),
        ("SB 5", pennsylvania, "failed", None, None, True,
         [("2023-02-01", "introduction", "upper"), ("2023-03-15", "withdrawal", "upper")], "withdrawn", False),
        ("HB 6", colorado, "introduced", None, None, True,
         [("2024-01-10", "introduction", "lower"), ("2024-01-10", "referral-committee", "lower"),
          ("2024-02-01", "committee-passage", "lower")], "passed_committee", False),
        ("HB 7", colorado, "introduced", None, None, True,
         [("2024-01-12", "introduction", "lower"), ("2024-03-01", "passage", "lower")], "passed_lower", False),
        ("Mobile resolution", mobile, "adopted", "2020-05-05", None, True, [], "adopted", False),
        ("Mobile vote", mobile, "adopted", "2021-06-15", None, True,
         [("2021-06-15", "passage", "")], "adopted", False),
        ("Stageville pending", city, "introduced", None, None, True, [], "introduced", False),
        ("HB 99 draft", alabama, "introduced", None, None, False,
         [("2025-01-10", "introduction", "upper"), ("2025-03-01", "passage", "upper")], "passed_upper", False),
    ]  # fmt: skip
    records = []
    for key, jurisdiction, status, adopted, session, published, actions, stage, session_ended in specs:
        resolution = ResolutionFactory(
            jurisdiction=jurisdiction,
            kind=Kind.BILL if jurisdiction.level in (Level.NATION, Level.STATE) else Kind.RESOLUTION,
            status=status,
            adopted_on=PartialDate.parse(adopted).start if adopted else None,
            adopted_on_precision=PartialDate.parse(adopted).precision if adopted else "",
            identifier=key if jurisdiction.level in (Level.NATION, Level.STATE) else "",
            title=f"Measure {key}",
            session=session,
            published=published,
            confidence=Confidence.HIGH if published else Confidence.LOW,
        )
        made = [add_action(resolution, *action) for action in actions]
        records.append(Record(key, resolution, stage, session_ended, list(actions), made))
    for record in records:
        record.resolution.refresh_from_db()
        assert record.resolution.stage == record.stage, record.key  # the fixture is what it says
    return records


def by_key(records):
    return {record.key: record for record in records}


def as_list(value):
    return value if isinstance(value, list) else [value]


def matches(record, params):
    """Whether a published record satisfies the parameters this module's tests use, in plain Python."""
    for name, value in params.items():
        values = [str(v) for v in as_list(value)]
        if name == "stage" and record.stage not in values:
            return False
        if name == "state" and record.state not in values:
            return False
        if name == "level" and record.resolution.jurisdiction.level not in values:
            return False
        if name == "status" and record.resolution.status not in values:
            return False
        if name == "session" and str(record.resolution.session_id) not in values:
            return False
    return True


def expected_ids(records, params):
    """The ids of the published records a search must give."""
    return {record.pk for record in records if record.published and matches(record, params)}


def by_latest_action(records, *, newest_first):
    """Published records' ids by latest action, those without an action last (in any order)."""
    published = [record for record in records if record.published]
    dated = sorted((r for r in published if r.latest_on), key=lambda r: r.latest_on, reverse=newest_first)
    return [r.pk for r in dated], {r.pk for r in published if not r.latest_on}


def build_more(records, n=12):
    """More published measures with actions, in the ongoing session and out of it (for query counts)."""
    nation = Jurisdiction.objects.get(level=Level.NATION)
    ongoing = LegislativeSession.objects.get(jurisdiction=nation, name="Ongoing Congress")
    for i in range(n):
        federal = i % 2 == 0
        resolution = ResolutionFactory(
            jurisdiction=nation if federal else get_state("AL"),
            kind=Kind.BILL,
            status="introduced",
            adopted_on=None,
            adopted_on_precision="",
            identifier=f"S. {1000 + i}" if federal else f"HB {1000 + i}",
            session=ongoing if federal else None,
            sources=[f"https://example.org/more/{i}/a", f"https://example.org/more/{i}/b"],
        )
        steps = [("2025-03-01", "introduction", "upper"), (f"2025-{4 + i % 6:02d}-02", "passage", "upper")]
        made = [add_action(resolution, *step) for step in steps]
        records.append(Record(f"more {i}", resolution, "passed_upper", False, steps, made))
