"""The map on any date (`?as_of=`): `/`, its county layer, state pages, the embeds and /api/states/.

Oracle: the starter CSVs read in plain Python (`Oracle`): which measures were adopted by a
day, or pending on it, by the rule /about/ states (a date known to the month or year counts
from its first day; a bill is pending from its introduction until its adoption or a recorded
ending). Reference data (counties, their FIPS codes and populations) comes from the
database, as the census files loaded it.

The starter dataset and its actions are loaded once for the module, as `make run` loads them
(with the Congresses), inside a transaction rolled back at the end.
"""

import csv
import datetime
import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recognition import past, progress, versioning
from recognition.models import Action, Jurisdiction, LegislativeSession, Level, Resolution, Status
from tests.conftest import PlaceFactory, ResolutionFactory, get_state
from tests.html import coverage_parts, legend_counts, map_regions
from tests.test_caching import Site, commit

pytestmark = pytest.mark.django_db

STARTER = "recognition/data/starter_dataset.csv"
ACTIONS = "recognition/data/starter_actions.csv"
LAW_KINDS = {"statute", "executive_order", "bill"}
RESOLUTION_KINDS = {"resolution", "proclamation", "ordinance"}
LOCAL = {"county", "place", "district"}
ENDINGS = {"executive-veto", "failure", "withdrawal"}
STATE_RANK = ["law", "resolution", "pending", "local"]

AS_OF_PAGES = ["/", "/?layer=counties", "/states/al/", "/embed/map/", "/embed/states/al/", "/api/states/"]


@pytest.fixture(scope="module", autouse=True)
def history(django_db_setup, django_db_blocker):
    """The starter dataset with its actions and Congresses, once for the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            call_command("load_starter_dataset", verbosity=0)
        yield
        transaction.set_rollback(True)


# --- The oracle: the CSVs, in plain Python -----------------------------------------------------------


def first_day(text):
    """ "2021" -> January 1, 2021; "2021-09" -> September 1; "2021-09-14" -> that day; "" -> None."""
    if not text:
        return None
    year, month, day = ([int(part) for part in text.split("-")] + [1, 1])[:3]
    return datetime.date(year, month, day)


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class Oracle:
    def __init__(self):
        # The importer's rule for a new record: a source link, and not of low confidence.
        self.rows = [r for r in read(STARTER) if r["source_url"] and r["confidence"] != "low"]
        self.endings = {}
        for action in read(ACTIONS):
            if action["classification"] in ENDINGS:
                key = (action["level"], action["state"], action["jurisdiction"], action["identifier"])
                on = first_day(action["date"])
                self.endings[key] = min(on, self.endings.get(key, on))

    def ended(self, row):
        level = "federal" if row["level"] == "federal" else row["level"]
        return self.endings.get((level, row["state"], row["jurisdiction"], row["identifier"]))

    def then(self, row, day):
        """ "adopted", "pending" or None on `day` (the state sessions are not entered: none ends)."""
        adopted, introduced, ended = (
            first_day(row["adopted_on"]),
            first_day(row["introduced_on"]),
            self.ended(row),
        )
        if row["status"] == "adopted" and adopted and adopted <= day:
            return "adopted"
        if not introduced or introduced > day or (ended and ended <= day):
            return None
        if row["status"] == "adopted":
            return "pending" if adopted else None
        if row["status"] == "failed" and not ended:
            return None
        return "pending"

    def state_statuses(self, day=None):
        """{usps: status} of every state with something (None for `day`: today, every record counting)."""
        found = {}
        for row in self.rows:
            then = (
                self.then(row, day)
                if day
                else {"adopted": "adopted", "introduced": "pending"}.get(row["status"])
            )
            if row["level"] == "state" and then == "adopted":
                status = (
                    "law"
                    if row["kind"] in LAW_KINDS
                    else "resolution"
                    if row["kind"] in RESOLUTION_KINDS
                    else None
                )
            elif row["level"] == "state" and then == "pending":
                status = "pending"
            elif row["level"] in LOCAL and then == "adopted":
                status = "local"
            else:
                status = None
            if status and (
                row["state"] not in found or STATE_RANK.index(status) < STATE_RANK.index(found[row["state"]])
            ):
                found[row["state"]] = status
        return found

    def counties(self, usps, day):
        """{county FIPS: map colour} of a state's counties on `day`."""
        state_status = self.state_statuses(day).get(usps)
        fips = dict(Jurisdiction.objects.counties().filter(parent__usps=usps).values_list("name", "fips"))
        colour = dict.fromkeys(
            fips.values(), {"law": "state", "resolution": "resolution"}.get(state_status, "none")
        )
        for row in self.rows:
            if row["state"] != usps or row["level"] not in LOCAL or self.then(row, day) != "adopted":
                continue
            if row["level"] == "county":
                colour[row["fips"]] = "county"
            elif colour[fips[row["county"]]] != "county":
                colour[fips[row["county"]]] = "place"
        return colour

    def federal_pending(self, day):
        return {
            r["identifier"] for r in self.rows if r["level"] == "federal" and self.then(r, day) == "pending"
        }

    def first_year(self):
        return min(first_day(r[f]) for r in self.rows for f in ("introduced_on", "adopted_on") if r[f]).year


ORACLE = Oracle()


def law_count(statuses):
    return sum(1 for usps, status in statuses.items() if status == "law" and usps_in_states(usps))


def usps_in_states(usps):
    return not Jurisdiction.objects.get(level=Level.STATE, usps=usps).is_territory


def html_of(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def by_fips(statuses):
    fips = dict(Jurisdiction.objects.states().values_list("usps", "fips"))
    return {fips[usps]: status for usps, status in statuses.items()}


def year_end(year):
    return datetime.date(year, 12, 31)


def dates_to_check():
    """The end of every year with data, mid-2020 (a bill pending before its adoption) and a day before all."""
    today = timezone.localdate()
    before_all = datetime.date(ORACLE.first_year(), 1, 1) - datetime.timedelta(days=1)
    ends = [year_end(y) for y in range(ORACLE.first_year(), today.year) if year_end(y) < today]
    return [before_all, datetime.date(2020, 6, 30), *ends]


# --- The rule, and the date in the address --------------------------------------------------------------


D = datetime.date


@pytest.mark.parametrize(
    "day, record, expected",
    [
        # Adopted: from its adoption date; a month or a year from its first day.
        (D(2021, 8, 31), {"status": "adopted", "adopted_on": D(2021, 9, 1)}, None),
        (D(2021, 9, 1), {"status": "adopted", "adopted_on": D(2021, 9, 1)}, "adopted"),
        # Introduced before, adopted after: pending that day; unknown adoption date: unknown.
        (
            D(2020, 6, 30),
            {"status": "adopted", "introduced_on": D(2020, 1, 17), "adopted_on": D(2020, 9, 11)},
            "introduced",
        ),
        (D(2020, 6, 30), {"status": "adopted", "introduced_on": D(2020, 1, 17), "adopted_on": None}, None),
        # A veto ends it, even if an override adopted it later.
        (
            D(2020, 6, 30),
            {
                "status": "adopted",
                "introduced_on": D(2020, 1, 1),
                "adopted_on": D(2020, 9, 1),
                "ended_on": D(2020, 5, 1),
            },
            None,
        ),
        # Pending until its failure action, or its session's end.
        (
            D(2020, 12, 31),
            {"status": "failed", "introduced_on": D(2019, 3, 7), "ended_on": D(2021, 1, 3)},
            "introduced",
        ),
        (
            D(2021, 1, 3),
            {"status": "failed", "introduced_on": D(2019, 3, 7), "ended_on": D(2021, 1, 3)},
            None,
        ),
        (
            D(2021, 1, 3),
            {"status": "introduced", "introduced_on": D(2019, 3, 7), "session_end_on": D(2021, 1, 3)},
            "introduced",
        ),
        (
            D(2021, 1, 4),
            {"status": "introduced", "introduced_on": D(2019, 3, 7), "session_end_on": D(2021, 1, 3)},
            None,
        ),
        (
            D(2020, 1, 1),
            {"status": "failed", "introduced_on": D(2019, 3, 7), "session_end_on": D(2021, 1, 3)},
            "introduced",
        ),
        # A failed bill whose end is recorded nowhere is never counted as pending on a past date.
        (D(2023, 3, 1), {"status": "failed", "introduced_on": D(2023, 1, 27)}, None),
        # No date, no place in time.
        (D(2030, 1, 1), {"status": "adopted", "adopted_on": None}, None),
        (D(2030, 1, 1), {"status": "introduced", "introduced_on": None}, None),
        (D(2018, 12, 31), {"status": "introduced", "introduced_on": D(2019, 1, 1)}, None),
    ],
)
def test_the_rule_in_words(day, record, expected):
    fields = {"introduced_on": None, "adopted_on": None, "ended_on": None, "session_end_on": None} | record
    assert past.status_on(day, **fields) == expected


@pytest.mark.parametrize(
    "text, says",
    [
        ("2021-02-30", "February 2021 has 28 days"),
        ("2024-02-30", "February 2024 has 29 days"),
        ("2021-13-01", "no month 13"),
        ("1899-12-31", "starts on January 1, 1900"),
        ("0000-01-01", "starts on January 1, 1900"),
        ("2021", "YYYY-MM-DD"),
        ("2021-12", "YYYY-MM-DD"),
        ("31/12/2021", "YYYY-MM-DD"),
        ("２０２１-１２-３１", "YYYY-MM-DD"),  # digits, but not ASCII ones
        ("2021-12-31\x00", "YYYY-MM-DD"),
        ("9" * 5000, "…"),
        ("<script>alert(1)</script>", "YYYY-MM-DD"),
    ],
)
def test_a_date_that_cannot_be_shown_is_refused_in_words(text, says):
    with pytest.raises(past.AsOfError) as error:
        past.parse(text, D(2026, 6, 1))
    assert says in str(error.value)
    assert len(str(error.value)) < 200


def test_the_future_is_refused_and_today_is_todays_map():
    today = D(2026, 6, 1)
    assert past.parse("2026-05-31", today) == D(2026, 5, 31)
    assert past.parse("1900-01-01", today) == D(1900, 1, 1)
    assert past.parse("2026-06-01", today) is None
    assert past.parse(" ", today) is None
    with pytest.raises(past.AsOfError, match="has not come yet"):
        past.parse("2026-06-02", today)


def test_the_database_applies_the_same_rule():
    """`counting_on` (SQL) agrees with the pure rule on every record, starter and edge cases, on many days."""
    ms = get_state("MS")
    session = LegislativeSession.objects.create(
        jurisdiction=ms, name="2020 Regular Session", start_on=D(2020, 1, 7), end_on=D(2020, 5, 15)
    )

    def bill(number, status, introduced, adopted=None, **extra):
        return ResolutionFactory(
            jurisdiction=ms,
            kind="bill",
            status=status,
            identifier=f"SB {number}",
            introduced_on=introduced,
            introduced_on_precision="day" if introduced else "",
            adopted_on=adopted,
            adopted_on_precision="month" if adopted else "",
            **extra,
        )

    def act(measure, on, classification, chamber="upper"):
        Action.objects.create(
            resolution=measure,
            on=on,
            on_precision="day",
            classification=classification,
            chamber=chamber,
            description=classification,
            source_url="https://example.org/journal",
        )

    bill(1, Status.INTRODUCED, D(2020, 1, 10), session=session)  # dies with its session
    bill(2, Status.FAILED, D(2020, 1, 10), session=session)  # failed, no action: its session says when
    withdrawn = bill(3, Status.FAILED, D(2020, 2, 1))
    act(withdrawn, D(2020, 3, 2), "withdrawal")
    late = bill(4, Status.ADOPTED, D(2020, 2, 1), D(2020, 6, 1), session=session)  # signed after sine die
    act(late, D(2020, 6, 20), "executive-signature", "executive")
    overridden = bill(5, Status.ADOPTED, D(2020, 2, 1), D(2020, 8, 1))
    act(overridden, D(2020, 8, 1), "became-law", "")  # first: on its own, a veto contradicts "adopted"
    act(overridden, D(2020, 4, 1), "executive-veto", "executive")
    ResolutionFactory(jurisdiction=ms, status=Status.ADOPTED, adopted_on=None, adopted_on_precision="")

    resolutions = list(Resolution.objects.published().select_related("session").prefetch_related("actions"))
    days = [D(2018, 12, 31), D(2019, 3, 7), D(2020, 3, 1), D(2020, 3, 2), D(2020, 5, 15), D(2020, 5, 16)]
    days += [D(2020, 7, 1), D(2021, 1, 3), D(2021, 1, 4), D(2022, 4, 18), D(2025, 9, 1), timezone.localdate()]
    for day in days:
        in_sql = dict(Resolution.objects.published().counting_on(day).values_list("pk", "status_then"))
        by_rule = {}
        for r in resolutions:
            endings = [a.on for a in r.actions.all() if a.classification in past.ENDINGS]
            status = past.status_on(
                day,
                status=r.status,
                introduced_on=r.introduced_on,
                adopted_on=r.adopted_on,
                ended_on=min(endings, default=None),
                session_end_on=r.session.end_on if r.session else None,
            )
            if status:
                by_rule[r.pk] = status
        assert in_sql == by_rule, day
    # Not vacuous: each way a bill stops counting, and each way it counts, happened on some day.
    on = {
        day: dict(Resolution.objects.counting_on(day).values_list("identifier", "status_then"))
        for day in days
    }
    assert on[D(2020, 5, 15)]["SB 1"] == "introduced" and "SB 1" not in on[D(2020, 5, 16)]
    assert on[D(2020, 5, 16)]["SB 4"] == "introduced" and on[D(2020, 7, 1)]["SB 4"] == "adopted"
    assert on[D(2020, 3, 1)]["SB 3"] == "introduced" and "SB 3" not in on[D(2020, 3, 2)]
    assert "SB 5" not in on[D(2020, 5, 15)] and on[D(2020, 3, 1)]["SB 5"] == "introduced"


# --- The issue's test: the end of 2019, a date before everything, a bad date ---------------------------


def test_the_end_of_2019_shows_fewer_law_states_than_today_as_the_csv_says(client):
    end_2019 = law_count(ORACLE.state_statuses(D(2019, 12, 31)))
    today = law_count(ORACLE.state_statuses())
    assert 0 < end_2019 < today

    then, now = html_of(client, "/?as_of=2019-12-31"), html_of(client, "/")
    assert legend_counts(then)["swatch--state-law"] == end_2019
    assert legend_counts(now)["swatch--state-law"] == today
    assert f"{end_2019} state recognized 911 dispatchers as first responders in law" in text_of(then)
    assert "As it stood on December 31, 2019" in text_of(then)
    assert by_fips(ORACLE.state_statuses(D(2019, 12, 31))).items() <= map_regions(then).items()
    assert set(map_regions(then).values()) - {"none"} == set(ORACLE.state_statuses(D(2019, 12, 31)).values())


@pytest.mark.parametrize("day", dates_to_check(), ids=str)
def test_every_state_s_status_on_a_date_matches_the_csv(client, day):
    rows = client.get("/api/states/", {"as_of": day.isoformat()}).json()
    expected = ORACLE.state_statuses(day)
    assert {row["usps"]: row["status"] for row in rows} == {
        row["usps"]: expected.get(row["usps"], "none") for row in rows
    }


def test_a_date_before_every_measure_shows_none(client):
    before = (D(ORACLE.first_year(), 1, 1) - datetime.timedelta(days=1)).isoformat()
    home = html_of(client, f"/?as_of={before}")
    assert set(map_regions(home).values()) == {"none"}
    assert legend_counts(home) == {f"swatch--state-{s}": 0 for s in STATE_RANK} | {"swatch--state-none": 51}
    assert coverage_parts(home)["covered"][0] == 0 and coverage_parts(home)["partly"][0] == 0
    assert set(map_regions(html_of(client, f"/?layer=counties&as_of={before}")).values()) == {"none"}
    for url in [
        f"/states/tx/?as_of={before}",
        f"/embed/map/?as_of={before}",
        f"/embed/states/co/?as_of={before}",
    ]:
        assert set(map_regions(html_of(client, url)).values()) == {"none"}
    assert {row["status"] for row in client.get("/api/states/", {"as_of": before}).json()} == {"none"}
    federal = html_of(client, f"/?as_of={before}")
    assert (
        "No federal bill recorded as pending that day." in federal and "Nothing adopted by then." in federal
    )


BAD_DATES = {
    "2021-02-30": "February 2021 has 28 days",
    "2021-13-01": "no month 13",
    "1899-12-31": "starts on January 1, 1900",
    "yesterday": "YYYY-MM-DD",
    "2021-12-31'; DROP TABLE recognition_resolution; --": "YYYY-MM-DD",
}


@pytest.mark.parametrize("page", AS_OF_PAGES)
@pytest.mark.parametrize("value", [*BAD_DATES, "tomorrow"])
def test_a_bad_date_is_a_400_that_says_why(client, page, value):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    value, says = (
        (tomorrow.isoformat(), "has not come yet") if value == "tomorrow" else (value, BAD_DATES[value])
    )
    separator = "&" if "?" in page else "?"
    response = client.get(f"{page}{separator}{urlencode({'as_of': value})}")
    assert response.status_code == 400
    if page.startswith("/api/"):
        assert says in response.json()["as_of"][0]
    else:
        assert says in text_of(response.content.decode())
        assert "See the map today" in response.content.decode()


def test_what_was_typed_is_shown_as_text(client):
    page = html_of(client, "/?as_of=%3Cscript%3Ealert(1)%3C/script%3E", status=400)
    assert "&lt;script&gt;alert(1)" in page and "<script>alert" not in page


hostile = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}", fullmatch=True),
    st.sampled_from(["\x00", "%00", "2021-12-31\x00", "0000-00-00", "9999-12-31", "-1", "1e309", "☃" * 40]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=hostile, page=st.sampled_from(AS_OF_PAGES))
def test_hostile_dates_are_never_a_server_error(client, value, page):
    separator = "&" if "?" in page else "?"
    assert client.get(f"{page}{separator}{urlencode({'as_of': value})}").status_code in (200, 400)


def test_today_s_date_is_today_s_map(client):
    today = timezone.localdate().isoformat()
    assert map_regions(html_of(client, f"/?as_of={today}")) == map_regions(html_of(client, "/"))
    assert "As it stood" not in html_of(client, f"/states/al/?as_of={today}")
    assert client.get("/api/states/", {"as_of": today}).json() == client.get("/api/states/").json()


# --- Everything on the page comes from the same day ------------------------------------------------------


def covered_people_by_oracle(day):
    """People in counties covered on `day` (their state's law, or their own county's measure)."""
    statuses = ORACLE.state_statuses(day)
    covered = 0
    for state in Jurisdiction.objects.states().filter(is_territory=False):
        colours = ORACLE.counties(state.usps, day)
        for fips, population in (
            Jurisdiction.objects.counties().filter(parent=state).values_list("fips", "population")
        ):
            if colours.get(fips) == "county" or statuses.get(state.usps) == "law":
                covered += population or 0
    return covered


def test_people_covered_and_counties_on_a_date_match_the_csv(client):
    page = html_of(client, "/?as_of=2019-12-31")
    assert coverage_parts(page)["covered"][0] == covered_people_by_oracle(D(2019, 12, 31))
    assert "lived where 911 dispatchers were recognized" in text_of(page)


@pytest.mark.parametrize(
    "usps, day", [("AL", D(2021, 12, 31)), ("AL", D(2022, 12, 31)), ("CO", D(2020, 12, 31))]
)
def test_a_state_page_on_a_date_matches_the_csv(client, usps, day):
    page = html_of(client, f"/states/{usps.lower()}/?as_of={day.isoformat()}")
    assert map_regions(page) == ORACLE.counties(usps, day)
    labels = {
        "law": "State law",
        "resolution": "State resolution",
        "pending": "Pending state bill",
        "local": "Local action only",
    }
    expected = labels.get(ORACLE.state_statuses(day).get(usps), "No recognition yet")
    assert re.search(rf'class="badge badge--state-\w+">{expected}<', page)
    words = text_of(page)
    assert f"As it stood on {past.display(day)}" in words
    assert "What you can do here is about today" in words and 'data-ask="' not in page
    # The embed of the same day says the same.
    embed = html_of(client, f"/embed/states/{usps.lower()}/?as_of={day.isoformat()}")
    assert map_regions(embed) == map_regions(page) and f"As it stood on {past.display(day)}" in text_of(embed)


def federal_listed(html):
    section = re.search(r'aria-labelledby="federal-heading".*?</section>', html, flags=re.S).group(0)
    return {
        text_of(item).split(":")[0].strip()
        for item in re.findall(r'<li class="bill">.*?</li>', section, flags=re.S)
    }


@pytest.mark.parametrize("day", [D(2019, 12, 31), D(2021, 12, 31), D(2024, 12, 31), D(2025, 6, 30)], ids=str)
def test_the_bills_in_congress_are_those_pending_that_day(client, day):
    assert federal_listed(html_of(client, f"/?as_of={day.isoformat()}")) == ORACLE.federal_pending(day)


def test_each_bill_is_shown_where_it_stood(client):
    """S. 725 passed the Senate in September 2025 (starter_actions.csv): not yet in June, and so in October."""

    def s725(day):
        section = re.search(
            r'<li class="bill"><a [^>]*>S\. 725</a>.*?</li>', html_of(client, f"/?as_of={day}"), flags=re.S
        )
        return text_of(section.group(0))

    assert "passed the Senate" not in s725("2025-06-30") and "February 25, 2025" in s725("2025-06-30")
    assert "passed the Senate, September 2025; in the House" in s725("2025-10-31")


def test_the_latest_adoptions_are_those_made_by_then(client):
    page = html_of(client, "/?as_of=2019-12-31")
    section = re.search(r'aria-labelledby="latest-heading".*?</section>', page, flags=re.S).group(0)
    listed = {text_of(a) for a in re.findall(r"<a [^>]*>.*?</a>", section)}
    adopted = [
        r for r in ORACLE.rows if r["level"] != "federal" and ORACLE.then(r, D(2019, 12, 31)) == "adopted"
    ]
    assert len(adopted) <= 6  # the list's length: every one is shown
    names = {
        r["jurisdiction"] if r["level"] == "state" else f"{r['jurisdiction']}, {r['state']}" for r in adopted
    }
    assert listed == names


def test_the_timeline_and_the_year_links_lead_to_each_year_s_map(client):
    today = timezone.localdate()
    page = html_of(client, "/")
    chart = dict(re.findall(r'<a class="chart__year" href="([^"]*)" aria-label="([^"]*)"', page))
    adoption_years = [
        first_day(r["adopted_on"]).year
        for r in ORACLE.rows
        if r["adopted_on"] and r["status"] == "adopted" and r["level"] != "federal"
    ]
    years = range(min(adoption_years), max(adoption_years) + 1)
    expected = {f"?as_of={y}-12-31" if year_end(y) < today else "?" for y in years}
    assert set(chart) == expected
    nav = re.search(r'<nav class="year-ends".*?</nav>', page, flags=re.S).group(0)
    hrefs = re.findall(r'<a href="([^"]*)"', nav)
    assert hrefs == [f"?as_of={y}-12-31" for y in range(ORACLE.first_year(), today.year)] + ["?"]
    # Followed, a link shows that year, on the same layer.
    county_layer = html_of(client, "/?layer=counties&as_of=2021-12-31")
    assert 'href="?layer=counties&amp;as_of=2020-12-31"' in county_layer
    assert 'href="?layer=counties&amp;as_of=2021-12-31"' in county_layer  # the layer switch keeps the day
    assert "As it stood on December 31, 2021" in text_of(county_layer)


def test_links_embeds_and_the_canonical_address_keep_the_date(client):
    page = html_of(client, "/?as_of=2021-12-31&utm_source=x")
    assert '<link rel="canonical" href="http://testserver/?as_of=2021-12-31">' in page
    assert '&lt;iframe src="http://testserver/embed/map/?as_of=2021-12-31"' in page
    assert 'href="/?as_of=2021-12-31"' in page  # the "States" layer link
    state = html_of(client, "/states/al/?as_of=2021-12-31&sort=population")
    assert '<link rel="canonical" href="http://testserver/states/al/?as_of=2021-12-31">' in state
    assert "/embed/states/al/?as_of=2021-12-31" in state
    assert '<link rel="canonical" href="http://testserver/states/al/">' in html_of(client, "/states/al/")
    assert "adopted_before=2021-12-31" in state


def test_about_states_the_rule_in_words(client):
    page = text_of(html_of(client, "/about/").replace("&#x27;", "'"))
    for rule in past.RULES:
        assert text_of(rule) in page


# --- Cache and queries -------------------------------------------------------------------------------------


def test_the_page_cache_keys_by_the_date(django_assert_num_queries, monkeypatch):
    # The local copy of the data version lasts 2 seconds: on a busy machine that can end between two
    # requests here. What is tested is the key, never that expiry.
    monkeypatch.setattr(versioning, "LOCAL_MIRROR_SECONDS", 600)
    commit()
    site = Site()
    answers = {url: site(url) for url in ["/?as_of=2019-12-31", "/?as_of=2022-12-31", "/"]}
    maps = {url: map_regions(answer["body"].decode()) for url, answer in answers.items()}
    assert len({tuple(sorted(m.items())) for m in maps.values()}) == 3
    with django_assert_num_queries(0):
        again = site("/?as_of=2019-12-31&utm_source=newsletter")
    assert again["body"] == answers["/?as_of=2019-12-31"]["body"]
    embed_first = site("/embed/map/?as_of=2019-12-31")
    api_first = site("/api/states/?as_of=2019-12-31", ACCEPT="application/json")
    with django_assert_num_queries(0):
        assert site("/embed/map/?as_of=2019-12-31")["body"] == embed_first["body"]
        assert site("/api/states/?as_of=2019-12-31", ACCEPT="application/json")["body"] == api_first["body"]
    assert site("/?as_of=2021-02-30")["status"].startswith("400")
    assert site("/?as_of=2021-02-30")["status"].startswith("400")  # never kept: answered again, still a 400


def grow():
    """More of everything a page on a past date reads: dated state, local and federal measures, with actions."""
    for usps in ["AL", "TX", "OH", "GA"]:
        state = get_state(usps)
        ResolutionFactory.create_batch(
            3,
            jurisdiction=state,
            adopted_on=D(2021, 3, 1),
            introduced_on=D(2021, 1, 4),
            introduced_on_precision="day",
        )
        county = state.children.filter(level=Level.COUNTY).first()
        ResolutionFactory.create_batch(3, jurisdiction=county, adopted_on=D(2021, 5, 1))
        ResolutionFactory.create_batch(
            2, jurisdiction=PlaceFactory(parent=state, county=county), adopted_on=D(2020, 5, 1)
        )
    for number in range(4):
        bill = ResolutionFactory(
            jurisdiction=Jurisdiction.objects.nation(),
            kind="bill",
            status=Status.INTRODUCED,
            identifier=f"H.R. {9000 + number}",
            introduced_on=D(2021, 2, 1),
            introduced_on_precision="day",
            adopted_on=None,
            adopted_on_precision="",
        )
        Action.objects.create(
            resolution=bill,
            on=D(2021, 3, 1),
            on_precision="day",
            classification="referral-committee",
            chamber="lower",
            description="Referred",
            source_url="https://example.org/record",
        )


# The data version; then as today's page, except: a past date's bills bring their actions (one query,
# always), and a state page on a past date asks nothing of today ("What you can do here": one query less).
QUERIES = {
    "/?as_of=2021-12-31": 10,
    "/?layer=counties&as_of=2021-12-31": 10,
    # (their state measures' actions are asked only when there are state measures, as on today's page)
    "/states/al/?as_of=2022-12-31": 9,
    "/states/tx/?as_of=2021-12-31": 9,
    # the version, and national_progress on a past date (no year links in an embed)
    "/embed/map/?as_of=2021-12-31": 9,
    # the version, the state, and its progress on a past date
    "/embed/states/al/?as_of=2022-12-31": 8,
    # the version, the states, the measures' statuses, local jurisdictions, counties, state measures counted
    "/api/states/?as_of=2021-12-31": 6,
}


def test_pages_on_a_date_take_a_fixed_number_of_queries(client, django_assert_num_queries):
    for step in ("starter", "grown"):
        if step == "grown":
            grow()
        for url, budget in QUERIES.items():
            cache.clear()  # the data version is read from the database each time, as on a cold start
            with django_assert_num_queries(budget, info=f"{url} ({step})"):
                assert client.get(url).status_code == 200


@pytest.mark.postgres  # EXPLAIN plans are PostgreSQL's
def test_a_past_date_s_counts_can_be_read_from_the_partial_index():
    """As today's: who acted, and the timeline, are read through an index of the measures (at scale,
    `resolution_adopted_published`: see tests/test_progress.py; on this small database the planner may
    start from the jurisdictions' level instead, as other tests' statistics lead it); the state measures'
    statuses from the jurisdiction's index, never a whole scan."""
    with CaptureQueriesContext(connection) as queries:
        progress.status_inputs(D(2021, 12, 31))
        progress.adoption_counts(D(2021, 12, 31))
    assert len(queries) == 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for query in queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'recognition_resolution'")
        resolution_indexes = {name for (name,) in cursor.fetchall()}
    for plan in plans:
        assert "Seq Scan on recognition_resolution" not in plan, plan
    for plan in plans[1:]:
        used = set(re.findall(r"(?:Scan using|Bitmap Index Scan on) (\w+)", plan))
        assert used & resolution_indexes, plan
