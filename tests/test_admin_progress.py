"""Legislative progress in the admin: actions inline on a measure's form (under the publish lock, never
contradicting the status), the session box, the lists of actions and sessions, and bills whose session
ended without an outcome.

Expected stages are read from the rules in words (recognition/stages.py's docstring), not from the code.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recognition.admin import quality
from recognition.models import Action, Confidence, Kind, Resolution, Status
from tests.conftest import ResolutionFactory, get_county, get_state
from tests.legislative import act, bill, session
from tests.test_staff import errors_of, form_data, new_resolution_data

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recognition_resolution_changelist"


def change_url(resolution):
    return reverse("admin:recognition_resolution_change", args=[resolution.pk])


def new_action(when, classification, chamber="", description=None):
    return {
        "date": when,
        "chamber": chamber,
        "classification": classification,
        "description": description or f"{classification} {chamber} {when}",
        "source_url": f"https://example.org/{classification}/{when}",
    }


def edit(client, resolution, *added, **changes):
    """Save `resolution`'s change form as `client` sees it, with `added` actions and `changes` to the fields
    (a key such as "actions-0-DELETE" reaches an inline's field)."""
    data = form_data(client.get(change_url(resolution)))
    first = int(data["actions-INITIAL_FORMS"])
    for offset, action in enumerate(added):
        for name, value in action.items():
            data[f"actions-{first + offset}-{name}"] = value
    data["actions-TOTAL_FORMS"] = str(max(int(data["actions-TOTAL_FORMS"]), first + len(added)))
    data.update(changes)
    return client.post(change_url(resolution), {k: v for k, v in data.items() if v is not None})


def snapshot(resolution):
    """What a refused save must leave as it was."""
    resolution = Resolution.objects.get(pk=resolution.pk)
    actions = list(resolution.actions.values_list("pk", "on", "classification", "chamber"))
    return resolution.status, resolution.stage, resolution.adopted_on, actions, resolution.history.count()


# --- actions inline -----------------------------------------------------------------------------------


def test_an_editor_adds_actions_inline_and_the_stage_follows(editor_client, editor):
    measure = bill(published=False, confidence=Confidence.MEDIUM)
    response = edit(
        editor_client,
        measure,
        new_action("2025-02", "introduction", "upper", "Introduced in the Senate."),
        new_action("2025-03-04", "passage", "upper", "Passed the Senate, 30-0."),
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    introduced, passed = measure.actions.order_by("on")
    assert (introduced.on, introduced.on_precision) == (datetime.date(2025, 2, 1), "month")
    assert (passed.on, passed.on_precision) == (datetime.date(2025, 3, 4), "day")
    # Passed the Senate of a two-chamber legislature, nothing since.
    assert measure.stage == "passed_upper"
    assert (measure.latest_action, measure.latest_action_on) == ("Passed the Senate, 30-0.", passed.on)
    record = passed.history.get()
    assert (record.history_type, record.history_user) == ("+", editor)


def test_a_new_measure_is_entered_with_its_actions(publisher_client):
    data = new_resolution_data(
        get_state("WY"),
        kind="bill",
        status="introduced",
        identifier="SF 0042",
        adopted="",
        body="Wyoming Legislature",
        **{
            "actions-TOTAL_FORMS": "2",
            **{f"actions-0-{k}": v for k, v in new_action("2025-01-15", "introduction", "upper").items()},
            **{f"actions-1-{k}": v for k, v in new_action("2025-02-03", "passage", "upper").items()},
        },
    )
    response = publisher_client.post(reverse("admin:recognition_resolution_add"), data)
    assert response.status_code == 302, errors_of(response)
    measure = Resolution.objects.get(identifier="SF 0042")
    assert measure.actions.count() == 2
    assert (measure.stage, measure.latest_action_on) == ("passed_upper", datetime.date(2025, 2, 3))
    # A signature on a new pending measure is refused the same way, and nothing is created.
    data |= {
        "identifier": "SF 0043",
        "actions-1-classification": "executive-signature",
        "actions-1-chamber": "executive",
    }
    response = publisher_client.post(reverse("admin:recognition_resolution_add"), data)
    assert any("set the status to adopted" in e for e in errors_of(response)), errors_of(response)
    assert not Resolution.objects.filter(identifier="SF 0043").exists()


def test_editing_and_removing_actions_inline_moves_the_stage(publisher_client, publisher):
    measure = bill()
    introduced = act(measure, "2025-02-01", "introduction", "lower")
    passed = act(measure, "2025-03-01", "passage", "lower")
    assert Resolution.objects.get(pk=measure.pk).stage == "passed_lower"
    index = {action.pk: i for i, action in enumerate(measure.actions.order_by("on", "pk"))}
    response = edit(
        publisher_client,
        measure,
        new_action("2025-04-02", "passage", "upper", "Passed the Senate."),
        **{f"actions-{index[passed.pk]}-date": "2025-03-02", f"actions-{index[introduced.pk]}-chamber": ""},
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert measure.stage == "passed_both" and measure.latest_action == "Passed the Senate."
    passed.refresh_from_db()
    assert passed.on == datetime.date(2025, 3, 2)
    assert [(r.history_type, r.history_user) for r in passed.history.order_by("history_date")] == [
        ("+", None),
        ("~", publisher),
    ]
    # Removing the Senate's passage takes the measure back to where the House left it.
    senate = measure.actions.get(chamber="upper")
    index = {action.pk: i for i, action in enumerate(measure.actions.order_by("on", "pk"))}
    response = edit(publisher_client, measure, **{f"actions-{index[senate.pk]}-DELETE": "on"})
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert measure.stage == "passed_lower" and not Action.objects.filter(pk=senate.pk).exists()
    assert senate.history.latest().history_type == "-"


def test_an_action_may_take_the_date_of_one_removed_in_the_same_submit(publisher_client):
    """The form lists the corrected action first: it is written after the removal all the same."""
    measure = bill()
    kept = act(measure, "2025-02-01", "introduction", "lower", "Introduced in the House.")
    act(measure, "2025-02-03", "introduction", "lower", "Entered twice, at its right date.")
    response = edit(publisher_client, measure, **{"actions-0-date": "2025-02-03", "actions-1-DELETE": "on"})
    assert response.status_code == 302, errors_of(response)
    assert [(a.pk, a.on) for a in measure.actions.all()] == [(kept.pk, datetime.date(2025, 2, 3))]


def test_each_action_links_to_its_history(publisher_client):
    measure = bill()
    action = act(measure, "2025-02-01", "introduction", "lower")
    html = publisher_client.get(change_url(measure)).content.decode()
    assert reverse("admin:recognition_action_history", args=[action.pk]) in html
    # "View on site" leads to the action on its measure's page; on a draft's preview, until published.
    assert f'href="/resolutions/{measure.pk}/#action-{action.pk}"' in html
    draft = bill(published=False, confidence=Confidence.MEDIUM)
    drafted = act(draft, "2025-02-01", "introduction", "lower")
    html = publisher_client.get(change_url(draft)).content.decode()
    assert f'href="/resolutions/{draft.pk}/preview/#action-{drafted.pk}"' in html


@pytest.mark.parametrize(
    "typed, message",
    [
        ("2023-02-30", "February 2023 has 28 days"),
        ("2025-13", "There is no month 13"),
        ("25-09", "Write the date as a year (2022)"),
        ("", "Give the action's date"),
    ],
)
def test_an_action_date_is_typed_like_the_measures_own(publisher_client, typed, message):
    measure = bill()
    before = snapshot(measure)
    response = edit(publisher_client, measure, new_action(typed, "introduction", "lower"))
    assert response.status_code == 200
    assert any(message in error for error in errors_of(response)), errors_of(response)
    assert snapshot(measure) == before


def test_the_same_action_twice_is_refused_in_words(publisher_client):
    measure = bill()
    act(measure, "2025-02-01", "introduction", "lower")
    before = snapshot(measure)
    response = edit(publisher_client, measure, new_action("2025-02-01", "introduction", "lower"))
    assert response.status_code == 200
    assert any("Two actions record the same introduction" in error for error in errors_of(response))
    assert snapshot(measure) == before


# --- the status agrees with the actions ------------------------------------------------------------------


def test_a_signature_on_a_pending_measure_is_refused_and_nothing_is_saved(publisher_client):
    measure = bill()
    act(measure, "2025-02-01", "introduction", "lower")
    before = snapshot(measure)
    response = edit(publisher_client, measure, new_action("2025-06-01", "executive-signature", "executive"))
    assert response.status_code == 200
    errors = errors_of(response)
    assert any("signature (2025-06-01)" in e and "set the status to adopted" in e for e in errors), errors
    assert "set the status to adopted" in response.content.decode()  # shown on the page, not only in context
    assert snapshot(measure) == before


@pytest.mark.parametrize(
    "classification, word", [("executive-veto", "vetoed"), ("failure", "failed"), ("withdrawal", "withdrawn")]
)
def test_an_adopted_measure_cannot_end_in_a_veto_failure_or_withdrawal(
    publisher_client, classification, word
):
    measure = bill(status=Status.ADOPTED, adopted_on=datetime.date(2025, 5, 1))
    act(measure, "2025-02-01", "introduction", "lower")
    before = snapshot(measure)
    response = edit(publisher_client, measure, new_action("2025-06-01", classification, "executive"))
    assert response.status_code == 200
    errors = errors_of(response)
    assert any(f"says it was {word}" in e and "an adopted measure cannot end that way" in e for e in errors)
    assert snapshot(measure) == before


def test_a_status_change_that_contradicts_the_saved_actions_is_refused(publisher_client):
    measure = bill(status=Status.ADOPTED, adopted_on=datetime.date(2025, 6, 1))
    act(measure, "2025-06-01", "executive-signature", "executive")
    before = snapshot(measure)
    response = edit(publisher_client, measure, status="introduced", adopted="")
    assert response.status_code == 200
    assert any("set the status to adopted" in e for e in errors_of(response)), errors_of(response)
    assert snapshot(measure) == before


def test_a_signature_with_the_status_adopted_in_the_same_submit_is_accepted(publisher_client):
    measure = bill()
    act(measure, "2025-02-01", "introduction", "lower")
    response = edit(
        publisher_client,
        measure,
        new_action("2025-06-01", "executive-signature", "executive", "Signed by the Governor."),
        status="adopted",
        adopted="2025-06-01",
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert (measure.status, measure.stage, measure.latest_action) == (
        "adopted",
        "adopted",
        "Signed by the Governor.",
    )


@pytest.mark.parametrize(
    "classification, stage",
    [("executive-veto", "vetoed"), ("failure", "failed"), ("withdrawal", "withdrawn")],
)
def test_an_ending_with_the_status_failed_in_the_same_submit_is_accepted(
    publisher_client, classification, stage
):
    measure = bill()
    act(measure, "2025-03-01", "passage", "lower")
    response = edit(
        publisher_client, measure, new_action("2025-06-01", classification, "executive"), status="failed"
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert (measure.status, measure.stage) == ("failed", stage)


def test_correcting_a_signature_into_a_veto_with_the_status_failed(publisher_client):
    """Neither half can be written first: the veto with the status adopted, or the signature with failed."""
    measure = bill(status=Status.ADOPTED, adopted_on=datetime.date(2025, 6, 1))
    signature = act(measure, "2025-06-01", "executive-signature", "executive")
    response = edit(
        publisher_client,
        measure,
        status="failed",
        adopted="",
        **{"actions-0-classification": "executive-veto", "actions-0-description": "Vetoed by the Governor."},
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert (measure.status, measure.stage, measure.latest_action) == (
        "failed",
        "vetoed",
        "Vetoed by the Governor.",
    )
    signature.refresh_from_db()
    assert signature.classification == "executive-veto"


def test_removing_a_wrong_failure_reopens_the_measure(publisher_client):
    measure = bill(status=Status.FAILED)
    act(measure, "2025-03-01", "passage", "upper")
    act(measure, "2025-06-05", "failure")
    assert Resolution.objects.get(pk=measure.pk).stage == "failed"
    response = edit(publisher_client, measure, status="introduced", **{"actions-1-DELETE": "on"})
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert (measure.status, measure.stage) == ("introduced", "passed_upper")


def test_an_override_and_a_later_failure_added_together(publisher_client):
    """Saved one at a time, the override alone would put a failed measure in force."""
    measure = bill(status=Status.FAILED)
    act(measure, "2024-05-02", "executive-veto", "executive")
    act(measure, "2024-05-01", "executive-signature", "executive")
    response = edit(
        publisher_client,
        measure,
        new_action("2024-06-01", "became-law", "", "Became law over the veto."),
        new_action("2024-09-01", "failure", "", "Struck down."),
    )
    assert response.status_code == 302, errors_of(response)
    measure.refresh_from_db()
    assert (measure.status, measure.stage, measure.latest_action) == ("failed", "failed", "Struck down.")


def test_reverting_to_a_status_the_actions_contradict_is_refused_on_the_status(publisher_client):
    measure = bill()
    pending = measure.history.latest()
    measure.status, measure.adopted = Status.ADOPTED, "2025-06-01"
    measure.save()
    act(measure, "2025-06-01", "executive-signature", "executive")
    url = reverse("admin:recognition_resolution_simple_history", args=[measure.pk, pending.history_id])
    before = snapshot(measure)
    response = publisher_client.post(url, form_data(publisher_client.get(url)))
    assert response.status_code == 200
    status_errors = response.context["adminform"].form.errors["status"]
    assert any("signature (2025-06-01)" in e for e in status_errors), status_errors
    assert snapshot(measure) == before


# --- the publish lock ------------------------------------------------------------------------------------


def test_an_editor_is_locked_out_of_a_published_measures_actions(editor_client, publisher_client):
    measure = bill()
    action = act(measure, "2025-02-01", "introduction", "lower")
    page = editor_client.get(change_url(measure))
    inline = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Action)
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
    # What a publisher posts to replace the introduction by a passage.
    data = form_data(publisher_client.get(change_url(measure)))
    data["actions-0-DELETE"] = "on"
    data |= {
        f"actions-1-{name}": value for name, value in new_action("2025-03-01", "passage", "lower").items()
    }
    before = snapshot(measure)
    assert editor_client.post(change_url(measure), data).status_code == 403
    assert snapshot(measure) == before
    action_url = reverse("admin:recognition_action_change", args=[action.pk])
    assert editor_client.get(action_url).context["has_change_permission"] is False
    delete_url = reverse("admin:recognition_action_delete", args=[action.pk])
    assert editor_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert snapshot(measure) == before
    assert publisher_client.post(change_url(measure), data).status_code == 302
    assert Resolution.objects.get(pk=measure.pk).stage == "passed_lower"


def test_an_editor_changes_a_drafts_actions(editor_client):
    measure = bill(published=False, confidence=Confidence.MEDIUM)
    act(measure, "2025-02-01", "introduction", "lower")
    response = edit(editor_client, measure, **{"actions-0-description": "Introduced by Rep. Smith."})
    assert response.status_code == 302, errors_of(response)
    assert measure.actions.get().description == "Introduced by Rep. Smith."


# --- the actions list ------------------------------------------------------------------------------------


def test_the_actions_list_finds_an_action(client, admin_user):
    measure = bill()
    wanted = act(measure, "2025-02-01", "introduction", "lower", "Introduced by Rep. Oduya.")
    act(measure, "2025-03-01", "passage", "lower", "Passed the House.")
    client.force_login(admin_user)
    response = client.get(reverse("admin:recognition_action_changelist"), {"q": "Oduya"})
    assert [action.pk for action in response.context["cl"].result_list] == [wanted.pk]
    history = client.get(reverse("admin:recognition_action_history", args=[wanted.pk]))
    assert history.status_code == 200


def test_a_standalone_change_that_contradicts_the_status_is_refused(client, admin_user):
    measure = bill()
    action = act(measure, "2025-02-01", "introduction", "lower")
    client.force_login(admin_user)
    url = reverse("admin:recognition_action_change", args=[action.pk])
    data = {
        "date": "2025-06-01",
        "chamber": "executive",
        "classification": "executive-signature",
        "description": "Signed.",
        "source_url": "https://example.org/signed",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "set the status to adopted" in str(response.context["adminform"].form.errors)
    action.refresh_from_db()
    assert action.classification == "introduction"
    response = client.post(url, data | {"classification": "passage", "chamber": "lower"})
    assert response.status_code == 302
    assert Resolution.objects.get(pk=measure.pk).stage == "passed_lower"


def test_deleting_an_action_the_status_needs_is_refused(client, admin_user):
    """An overridden veto: without the override the adopted measure would read vetoed."""
    measure = bill(status=Status.ADOPTED, adopted_on=datetime.date(2024, 6, 1))
    override = act(measure, "2024-06-01", "became-law")
    act(measure, "2024-05-01", "executive-veto", "executive")
    client.force_login(admin_user)
    response = client.post(reverse("admin:recognition_action_delete", args=[override.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Resolution.objects.get(pk=measure.pk).stage == "in_force"
    changelist = client.get(reverse("admin:recognition_action_changelist"))
    assert changelist.context["action_form"] is None  # no bulk delete either


# --- sessions --------------------------------------------------------------------------------------------


def test_the_session_box_lists_every_legislatures_sessions_and_saves_one(publisher_client):
    congress = session(
        jurisdiction=get_state("AL").parent, name="119th Congress", start=(2025, 1, 3), end=(2027, 1, 3)
    )
    alabama = session("AL")
    texas = session("TX", name="89th Legislature")
    measure = bill()
    field = publisher_client.get(change_url(measure)).context["adminform"].form.fields["session"]
    labels = [label for value, label in field.choices if value]
    assert labels == [
        "United States: 119th Congress (2025-01-03 to 2027-01-03)",
        "Alabama: 2025 Regular Session (2025-01-14 to 2025-06-05)",
        "Texas: 89th Legislature (2025-01-14 to 2025-06-05)",
    ]
    response = edit(publisher_client, measure, session=str(alabama.pk))
    assert response.status_code == 302, errors_of(response)
    assert Resolution.objects.get(pk=measure.pk).session == alabama
    for other in (texas, congress):
        response = edit(publisher_client, measure, session=str(other.pk))
        assert response.context["adminform"].form.errors["session"] == [
            f"{other.name} is not a session of Alabama."
        ]
        assert Resolution.objects.get(pk=measure.pk).session == alabama


def test_a_local_measure_belongs_to_no_session(publisher_client):
    measure = ResolutionFactory(jurisdiction=get_county("01097"))
    response = edit(publisher_client, measure, session=str(session("AL").pk))
    assert response.context["adminform"].form.errors["session"] == [
        "Only federal and state measures belong to a legislative session."
    ]
    assert Resolution.objects.get(pk=measure.pk).session is None


def test_the_change_form_shows_the_stage_and_the_latest_action(publisher_client):
    measure = bill()
    act(measure, "2025-03", "passage", "upper", "Passed the Senate, 33-0.")
    html = publisher_client.get(change_url(measure)).content.decode()
    assert "Passed the upper chamber" in html and "March 2025: Passed the Senate, 33-0." in html
    form = publisher_client.get(change_url(measure)).context["adminform"].form
    assert "stage" not in form.fields and "latest_action" not in form.fields  # read-only


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_sessions_list(client, admin_user):
    ended = session("AL", name="2024 Regular Session", start=(2024, 2, 6), end=(2024, 5, 10))
    running = session("AL", name="2026 Regular Session", start=(2026, 1, 13), end=(2099, 5, 10))
    bill(session=ended)
    bill(session=ended)
    bill(session=ended, status=Status.FAILED)
    client.force_login(admin_user)
    url = reverse("admin:recognition_legislativesession_changelist")
    rows = {s.pk: s for s in client.get(url).context["cl"].result_list}
    assert (rows[ended.pk].pending_count, rows[running.pk].pending_count) == (2, 0)
    assert (rows[ended.pk].has_ended(), rows[running.pk].has_ended()) == (True, False)
    html = client.get(url).content.decode()
    assert f"?session__exact={ended.pk}&amp;status__exact=introduced" in html
    pending = client.get(reverse(CHANGELIST), {"session__exact": ended.pk, "status__exact": "introduced"})
    assert pending.context["cl"].result_count == 2
    assert client.get(url, {"q": "2024"}).context["cl"].result_count == 1
    assert [s.pk for s in client.get(url, {"ended": "yes"}).context["cl"].result_list] == [ended.pk]
    assert [s.pk for s in client.get(url, {"ended": "no"}).context["cl"].result_list] == [running.pk]
    assert client.get(url, {"q": "Alabama"}).context["cl"].result_count == 2
    history = reverse("admin:recognition_legislativesession_history", args=[ended.pk])
    assert client.get(history).status_code == 200
    # A session holding measures keeps its legislature; an empty one may still be corrected.
    change = "admin:recognition_legislativesession_change"
    assert "jurisdiction" not in client.get(reverse(change, args=[ended.pk])).context["adminform"].form.fields
    assert "jurisdiction" in client.get(reverse(change, args=[running.pk])).context["adminform"].form.fields


def test_the_new_lists_cost_the_same_queries_whatever_their_length(client, admin_user):
    client.force_login(admin_user)
    sessions_url = reverse("admin:recognition_legislativesession_changelist")
    actions_url = reverse("admin:recognition_action_changelist")
    first = session("TX", name="Session 0", start=(2020, 1, 1), end=(2020, 6, 1))
    act(bill(usps="TX", session=first), "2020-02-01", "introduction", "lower")
    few = queries_of(client, sessions_url), queries_of(client, actions_url)
    for year in range(2021, 2025):
        more = session("TX", name=f"Session {year}", start=(year, 1, 1), end=(year, 6, 1))
        act(bill(usps="TX", session=more), f"{year}-02-01", "introduction", "lower")
    assert (queries_of(client, sessions_url), queries_of(client, actions_url)) == few


# --- needs verification: bills whose session ended ---------------------------------------------------------


@pytest.fixture
def sessions():
    today = timezone.localdate()
    return {
        "ended": session("AL", name="Ended", start=(2024, 1, 1), end=(2024, 6, 1)),
        "ends_today": session(
            "AL", name="Ends today", start=(2024, 1, 1), end=(today.year, today.month, today.day)
        ),
        "running": session("AL", name="Running", start=(2024, 1, 1), end=(today.year + 1, 12, 31)),
    }


def needs_verification(client):
    response = client.get(reverse(CHANGELIST), {"needs_verification": "yes"})
    return {r.pk for r in response.context["cl"].result_list}


def test_a_pending_bill_of_an_ended_session_needs_verification(publisher_client, sessions):
    overdue = bill(session=sessions["ended"])
    ends_today = bill(session=sessions["ends_today"])
    running = bill(session=sessions["running"])
    assert needs_verification(publisher_client) == {overdue.pk}
    verified = publisher_client.get(reverse(CHANGELIST), {"needs_verification": "no"}).context["cl"]
    assert {ends_today.pk, running.pk} <= {r.pk for r in verified.result_list}
    assert overdue.pk not in {r.pk for r in verified.result_list}
    # Once its outcome is recorded, it is off the list.
    response = edit(
        publisher_client,
        overdue,
        new_action("2024-06-01", "failure", "", "Died in committee."),
        status="failed",
    )
    assert response.status_code == 302, errors_of(response)
    assert needs_verification(publisher_client) == set()


def test_the_desk_lists_bills_whose_session_ended(publisher_client, sessions):
    overdue = bill(session=sessions["ended"], title="Overdue bill")
    bill(session=sessions["ended"], status=Status.FAILED, title="Recorded as failed")
    bill(session=sessions["running"], title="Still in session")
    html = publisher_client.get(reverse("admin:recognition_quality")).content.decode()
    start = html.index('id="desk-session_ended"')
    desk = html[start : html.index("</section>", start)]
    assert 'Session ended: record the outcome: <span class="quality-desk__count">1</span>' in desk
    assert "session ended on 2024-06-01: record the outcome" in desk
    assert f'href="{change_url(overdue)}"' in desk
    assert "Recorded as failed" not in desk and "Still in session" not in desk


def test_the_desk_waits_for_the_end_of_the_session():
    congress = session(
        jurisdiction=get_state("AL").parent, name="119th Congress", start=(2025, 1, 3), end=(2027, 1, 3)
    )
    measure = bill(jurisdiction=congress.jurisdiction, session=congress)
    assert list(quality.session_ended(today=datetime.date(2027, 1, 3))) == []  # its last day
    assert list(quality.session_ended(today=datetime.date(2027, 1, 4))) == [measure]
    measure.status = Status.FAILED
    measure.save()
    assert list(quality.session_ended(today=datetime.date(2027, 1, 4))) == []


# --- found in review ---------------------------------------------------------------------------------


def test_two_actions_may_trade_dates_in_one_submit(publisher_client):
    """Two House passages entered the wrong way round: corrected at once, each keeps its history."""
    measure = bill()
    first = act(measure, "2025-03-01", "passage", "lower", "Passed the House.")
    second = act(measure, "2025-05-01", "passage", "lower", "The House agreed to the Senate's amendments.")
    response = edit(
        publisher_client, measure, **{"actions-0-date": "2025-05-01", "actions-1-date": "2025-03-01"}
    )
    assert response.status_code == 302, errors_of(response)
    dates = dict(measure.actions.values_list("pk", "on"))
    assert dates == {first.pk: datetime.date(2025, 5, 1), second.pk: datetime.date(2025, 3, 1)}
    # The history holds what was recorded and what it became, never the parking date.
    assert {h.on.year for h in first.history.all()} == {2025}


def test_a_session_name_its_legislature_already_uses_is_refused_in_words(client, admin_user):
    client.force_login(admin_user)
    session("AL", "2025 Regular Session")
    special = session("AL", "2025 First Special Session", start=(2025, 7, 1), end=(2025, 7, 20))
    bill(session=special)  # its legislature is now shown read-only
    url = reverse("admin:recognition_legislativesession_change", args=[special.pk])
    data = form_data(client.get(url))
    data["name"] = "2025 Regular Session"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already has a session named 2025 Regular Session" in response.content.decode()
    special.refresh_from_db()
    assert special.name == "2025 First Special Session"


def test_a_session_holding_measures_keeps_its_legislature_even_on_revert():
    from django.core.exceptions import ValidationError

    alabama = session("AL", "2025 Regular Session")
    texas_bill = bill("TX")
    alabama.jurisdiction = texas_bill.jurisdiction
    alabama.save()
    Resolution.objects.filter(pk=texas_bill.pk).update(session=alabama)
    alabama.jurisdiction = get_state("AL")  # what reverting to its first version would do
    with pytest.raises(ValidationError, match="keeps its own"):
        alabama.full_clean()


def test_an_adopted_resolution_without_actions_shows_no_steps_it_never_recorded(client):
    """A state Senate's own resolution, adopted: no House step, no committee step drawn as done."""
    resolution = bill("WV", status=Status.ADOPTED, kind=Kind.RESOLUTION, identifier="SR 42")
    html = client.get(resolution.get_absolute_url()).content.decode()
    bar = html[html.index('class="stagebar__steps') :]
    bar = bar[: bar.index("</ol>")]
    assert "Introduced" in bar and "Adopted" in bar
    for never_recorded in ("In committee", "Passed committee", "Passed the Senate", "House of Delegates"):
        assert never_recorded not in bar, never_recorded


def test_the_inline_lists_actions_in_the_order_the_public_page_does(publisher_client):
    measure = bill()
    passed = act(measure, "2025-09", "passage", "upper", "Passed the Senate.")
    reported = act(measure, "2025-09-02", "committee-passage", "upper", "Reported by committee.")
    introduced = act(measure, "2025-02-25", "introduction", "upper", "Introduced.")
    response = publisher_client.get(change_url(measure))
    inline = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Action)
    shown = [form.instance.pk for form in inline.formset.forms if form.instance.pk]
    assert shown == [introduced.pk, reported.pk, passed.pk]
