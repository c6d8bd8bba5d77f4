"""Follow by email, end to end through a real SMTP server (aiosmtpd) started by the test.

The oracles are independent of recognition/alerts.py: which measures lie in which place is written
out by hand from the records the tests create, and a followed search is checked against the ids that
the list page itself links to for the same query.
"""

import datetime
import re
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recognition import alerts
from recognition.models import (
    AlertItem,
    Delivery,
    Follow,
    FollowTarget,
    Frequency,
    Kind,
    Level,
    Resolution,
    Subscriber,
)
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.progress_records import add_action
from tests.smtp import html_of, running_sink, text_of

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port; the site's mail goes to it over SMTP. Stopped after the test."""
    sink, controller = running_sink(settings, SITE)
    yield sink
    controller.stop()


def site_path(url):
    assert url.startswith(SITE), url
    return urlsplit(url).path


def ask(client, params, address, frequency=Frequency.IMMEDIATE, **extra):
    return client.post(
        f"/follow/?{params}", {"email": address, "frequency": frequency, "website": ""}, **extra
    )


def confirm_link(message):
    found = re.search(r"http://testserver(/follow/confirm/[^/\s]+/)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def follow_confirmed(client, smtp, params, address, frequency=Frequency.IMMEDIATE):
    """Ask, open the mail's link, press Confirm: the way a person does it."""
    before = len(smtp.to(address))
    assert ask(client, params, address, frequency).status_code == 302
    mails = smtp.to(address)
    assert len(mails) == before + 1
    response = client.post(confirm_link(mails[-1]))
    assert response.status_code == 200
    return Subscriber.objects.get(email=address.lower())


def record_ids(message):
    """The records a mail links to (its plain-text part)."""
    return {int(pk) for pk in re.findall(r"/resolutions/(\d+)/", text_of(message))}


def publish(measure, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        measure.published = True
        measure.save()


def draft(**kwargs):
    kwargs.setdefault("published", False)
    return ResolutionFactory(**kwargs)


# --- Double opt-in -----------------------------------------------------------------------------------


def test_the_confirmation_arrives_with_a_working_link_and_nothing_is_kept_before(client, smtp):
    response = ask(client, "state=AL", "Reader@Example.org", Frequency.WEEKLY)
    assert response.status_code == 302 and response["Location"] == reverse("recognition:follow_sent")
    [message] = smtp.to("reader@example.org")
    assert "Alabama" in message["Subject"]
    assert Subscriber.objects.count() == 0  # nothing stored until the link is used

    link = confirm_link(message)
    assert link in html_of(message)
    page = client.get(link)
    assert page.status_code == 200 and b"Confirm" in page.content
    assert Subscriber.objects.count() == 0  # opening the link (a mail scanner may) confirms nothing

    assert client.post(link).status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.org" and subscriber.confirmed_at is not None
    follow = Follow.objects.get()
    assert (follow.target, follow.jurisdiction, follow.frequency) == (
        FollowTarget.JURISDICTION,
        get_state("AL"),
        Frequency.WEEKLY,
    )


def test_an_expired_link_is_refused_with_a_clear_page(client, smtp):
    target = alerts.target_from_params({"state": "AL"})
    long_ago = timezone.now().timestamp() - 49 * 3600
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = alerts.confirmation_token("late@example.org", target, Frequency.IMMEDIATE)
    for method in (client.get, client.post):
        response = method(f"/follow/confirm/{token}/")
        assert response.status_code == 400
        assert b"expired" in response.content
    assert Subscriber.objects.count() == 0


def test_a_link_within_48_hours_still_works(client, smtp):
    target = alerts.target_from_params({"state": "AL"})
    recently = timezone.now().timestamp() - 47 * 3600
    with mock.patch("django.core.signing.time.time", return_value=recently):
        token = alerts.confirmation_token("prompt@example.org", target, Frequency.IMMEDIATE)
    assert client.post(f"/follow/confirm/{token}/").status_code == 200
    assert Subscriber.objects.filter(email="prompt@example.org").exists()


def test_a_tampered_link_is_refused_with_a_clear_page(client, smtp):
    ask(client, "state=AL", "someone@example.org")
    link = confirm_link(smtp.to("someone@example.org")[0])
    token = link.split("/")[-2]
    forged = signing.dumps(
        {"e": "victim@example.org", "k": "jurisdiction", "v": 1, "f": "immediate"}, salt="x"
    )
    changed = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (changed, forged, "not-a-token"):
        response = client.post(f"/follow/confirm/{bad}/")
        assert response.status_code == 400
        assert b"not valid" in response.content
    assert Subscriber.objects.count() == 0


def test_the_same_answer_for_a_new_and_an_existing_address(client, smtp):
    follow_confirmed(client, smtp, "state=AL", "known@example.org")
    answers = [ask(client, "state=AL", address) for address in ("known@example.org", "new@example.org")]
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    pages = [client.get(a["Location"]) for a in answers]
    assert pages[0].content == pages[1].content
    # Each address got its own confirmation, and nothing else.
    assert len(smtp.to("known@example.org")) == 2 and len(smtp.to("new@example.org")) == 1


# --- Sending as it happens ------------------------------------------------------------------------------


def test_publishing_a_matching_measure_sends_one_mail_with_both_unsubscribe_headers(
    client, smtp, django_capture_on_commit_callbacks
):
    follow_confirmed(client, smtp, "state=AL", "al@example.org")
    smtp.clear()
    measure = draft(identifier="Res. 2026-7")
    publish(measure, django_capture_on_commit_callbacks)

    [message] = smtp.to("al@example.org")
    assert len(smtp.messages) == 1
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<(http://testserver/follow/unsubscribe/[^>]+/)>", message["List-Unsubscribe"]
    )
    assert unsubscribe
    text, html = text_of(message), html_of(message)
    record = f"{SITE}/resolutions/{measure.pk}/"
    source = measure.sources.get().url
    for part in (text, html):
        assert record in part and source in part and "Res. 2026-7" in part
        assert unsubscribe.group(1) in part
    assert "<img" not in html


def test_one_click_unsubscribe_works_without_a_session_and_stops_the_mail(
    client, smtp, django_capture_on_commit_callbacks
):
    subscriber = follow_confirmed(client, smtp, "state=AL", "leaving@example.org")
    smtp.clear()
    publish(draft(), django_capture_on_commit_callbacks)
    [message] = smtp.to("leaving@example.org")
    url = message["List-Unsubscribe"].strip("<>")

    mail_client = Client(enforce_csrf_checks=True)  # a mail client: no cookie, no CSRF token
    response = mail_client.post(
        site_path(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None

    smtp.clear()
    publish(draft(), django_capture_on_commit_callbacks)
    assert smtp.messages == []


def test_the_unsubscribe_page_asks_before_it_acts(client, smtp):
    subscriber = follow_confirmed(client, smtp, "state=AL", "careful@example.org")
    path = site_path(alerts.unsubscribe_url(subscriber))
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post"' in page.content
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None
    assert client.get(path[:-5] + "xxxx/").status_code == 400


def _news_in_places():
    """Measures in Alabama, its counties and cities, and elsewhere, as drafts; named for the oracle."""
    mobile, baldwin = get_county("01097"), get_county("01003")
    city = PlaceFactory(name="City of Semmes", county=mobile)
    district = PlaceFactory(name="Baldwin 911 District", level=Level.DISTRICT, county=baldwin)
    return {
        "state": draft(jurisdiction=get_state("AL"), kind=Kind.STATUTE, body="Alabama Legislature"),
        "mobile": draft(jurisdiction=mobile),
        "semmes": draft(jurisdiction=city, kind=Kind.PROCLAMATION),
        "baldwin": draft(jurisdiction=baldwin),
        "baldwin-district": draft(jurisdiction=district, kind=Kind.ORDINANCE),
        "georgia": draft(jurisdiction=get_county("13121")),  # Fulton County, Georgia
    }


def test_matching_state_takes_its_counties_and_cities_county_takes_its_own(
    client, smtp, django_capture_on_commit_callbacks
):
    mobile, baldwin = get_county("01097"), get_county("01003")
    news = _news_in_places()
    follow_confirmed(client, smtp, "state=AL", "state@example.org")
    follow_confirmed(client, smtp, f"jurisdiction={mobile.pk}", "mobile@example.org")
    follow_confirmed(client, smtp, f"jurisdiction={baldwin.pk}", "baldwin@example.org")
    follow_confirmed(client, smtp, f"jurisdiction={news['semmes'].jurisdiction_id}", "semmes@example.org")
    smtp.clear()
    for measure in news.values():
        publish(measure, django_capture_on_commit_callbacks)

    def received(address):
        return set().union(*(record_ids(m) for m in smtp.to(address)))

    ids = {name: m.pk for name, m in news.items()}
    assert received("state@example.org") == {
        ids[n] for n in ("state", "mobile", "semmes", "baldwin", "baldwin-district")
    }
    assert received("mobile@example.org") == {ids["mobile"], ids["semmes"]}
    assert received("baldwin@example.org") == {ids["baldwin"], ids["baldwin-district"]}
    assert received("semmes@example.org") == {ids["semmes"]}


def listed_ids(client, query):
    """The oracle for a search: the ids the list page itself links to for this query."""
    response = client.get(f"/resolutions/?{query}")
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(rb'href="/resolutions/(\d+)/"', response.content)}


@pytest.mark.parametrize(
    "query", ["state=AL&kind=ordinance&kind=proclamation", "level=county&state=al", "q=Semmes"]
)
def test_a_search_follow_gets_exactly_what_the_list_lists(
    client, smtp, django_capture_on_commit_callbacks, query
):
    news = _news_in_places()
    follow_confirmed(client, smtp, "search=" + query.replace("&", "%26"), "searcher@example.org")
    smtp.clear()
    for measure in news.values():
        publish(measure, django_capture_on_commit_callbacks)
    sent = set().union(*(record_ids(m) for m in smtp.to("searcher@example.org")))
    expected = listed_ids(client, query) & {m.pk for m in news.values()}
    assert expected  # the case means something
    assert sent == expected


def test_a_measure_follow_gets_its_new_actions(client, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # published, and committed, before
        followed = ResolutionFactory(
            jurisdiction=get_state("AL"),
            kind=Kind.BILL,
            identifier="SB 9",
            status="introduced",
            adopted_on=None,
            adopted_on_precision="",
        )
        other = ResolutionFactory()
    follow_confirmed(client, smtp, f"resolution={followed.pk}", "bill@example.org")
    smtp.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action = add_action(followed, "2026-02-03", "passage", "upper", "Passed the Senate")
    with django_capture_on_commit_callbacks(execute=True):
        add_action(other, "2026-02-04", "passage", "upper")
    [message] = smtp.to("bill@example.org")
    assert f"/resolutions/{followed.pk}/#action-{action.pk}" in text_of(message)
    assert action.source_url in text_of(message)


def test_actions_imported_in_bulk_are_news_too(client, smtp, django_capture_on_commit_callbacks, tmp_path):
    """An import writes actions in bulk (no save signal): a follower hears of them all the same."""
    from recognition.action_importer import import_actions

    with django_capture_on_commit_callbacks(execute=True):
        followed = ResolutionFactory(
            jurisdiction=get_state("AL"),
            kind=Kind.BILL,
            identifier="SB 77",
            status="introduced",
            adopted_on=None,
            adopted_on_precision="",
        )
    follow_confirmed(client, smtp, f"resolution={followed.pk}", "importer@example.org")
    smtp.clear()
    path = tmp_path / "actions.csv"
    path.write_text(
        "level,state,jurisdiction,identifier,date,chamber,classification,description,source_url\n"
        "state,AL,Alabama,SB 77,2026-03-04,upper,passage,Passed the Senate,https://example.org/sb77\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = import_actions(path)
    assert report.created == 1, report
    [message] = smtp.to("importer@example.org")
    assert "https://example.org/sb77" in text_of(message)


def test_actions_saved_with_a_measure_being_published_are_not_news_of_their_own(
    client, smtp, django_capture_on_commit_callbacks
):
    follow_confirmed(client, smtp, "state=AL", "quiet@example.org")
    smtp.clear()
    with django_capture_on_commit_callbacks(execute=True):
        measure = ResolutionFactory()
        add_action(measure, "2025-05-01", "introduction", "lower")
    [message] = smtp.to("quiet@example.org")
    assert "#action-" not in text_of(message)
    assert AlertItem.objects.filter(resolution=measure).count() == 1


# --- Exactly once, and only to whom it may go ---------------------------------------------------------


def test_exactly_once_when_the_task_runs_twice_and_when_two_follows_match(
    client, smtp, django_capture_on_commit_callbacks
):
    follow_confirmed(client, smtp, "state=AL", "twice@example.org")
    follow_confirmed(client, smtp, "search=state%3DAL", "twice@example.org")  # matches the same measures
    assert Follow.objects.filter(subscriber__email="twice@example.org").count() == 2
    smtp.clear()
    measure = draft()
    publish(measure, django_capture_on_commit_callbacks)
    [message] = smtp.to("twice@example.org")
    assert text_of(message).count(f"/resolutions/{measure.pk}/") == 1

    item = AlertItem.objects.get(resolution=measure, action=None)
    assert alerts.send_new_items.call([item.pk]) == 0  # a retry: nothing left to claim
    assert alerts.send_new_items.enqueue([item.pk]).return_value == 0
    assert len(smtp.to("twice@example.org")) == 1
    assert Delivery.objects.filter(item=item).count() == 1


def test_claims_are_exclusive(client, smtp):
    subscriber = Subscriber.objects.create(email="c@example.org", confirmed_at=timezone.now())
    item = AlertItem.objects.get(resolution=ResolutionFactory())
    assert alerts.claim([(subscriber.pk, item.pk)]) == {(subscriber.pk, item.pk)}
    assert alerts.claim([(subscriber.pk, item.pk)]) == set()


def test_nothing_to_unconfirmed_or_unsubscribed_addresses(client, smtp, django_capture_on_commit_callbacks):
    state = get_state("AL")
    unconfirmed = Subscriber.objects.create(email="unconfirmed@example.org")
    gone = Subscriber.objects.create(
        email="gone@example.org", confirmed_at=timezone.now(), unsubscribed_at=timezone.now()
    )
    for subscriber in (unconfirmed, gone):
        Follow.objects.create(subscriber=subscriber, target=FollowTarget.JURISDICTION, jurisdiction=state)
    follow_confirmed(client, smtp, "state=AL", "active@example.org")
    smtp.clear()
    publish(draft(), django_capture_on_commit_callbacks)
    assert [rcpts for rcpts, _m in smtp.messages] == [["active@example.org"]]


def test_weekly_followers_get_one_digest_once(client, smtp, django_capture_on_commit_callbacks):
    follow_confirmed(client, smtp, "state=AL", "weekly@example.org", Frequency.WEEKLY)
    follow_confirmed(client, smtp, "state=AL", "now@example.org")
    smtp.clear()
    first, second = draft(), draft()
    publish(first, django_capture_on_commit_callbacks)
    publish(second, django_capture_on_commit_callbacks)
    assert smtp.to("weekly@example.org") == [] and len(smtp.to("now@example.org")) == 2

    call_command("send_digests", verbosity=0)
    [digest] = smtp.to("weekly@example.org")
    assert record_ids(digest) == {first.pk, second.pk}
    assert digest["List-Unsubscribe"] and digest["List-Unsubscribe-Post"]
    call_command("send_digests", verbosity=0)
    assert len(smtp.to("weekly@example.org")) == 1  # nothing new: nothing sent
    assert len(smtp.to("now@example.org")) == 2


def test_digests_go_out_in_batches_any_worker_may_send_each_once(
    client, smtp, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(alerts, "SEND_BATCH", 2)
    addresses = [f"reader{n}@example.org" for n in range(5)]
    for address in addresses:
        follow_confirmed(client, smtp, "state=AL", address, Frequency.WEEKLY)
    smtp.clear()
    measure = draft()
    publish(measure, django_capture_on_commit_callbacks)

    queued, task = [], alerts.send_digest_batch
    monkeypatch.setattr(
        alerts, "send_digest_batch", SimpleNamespace(enqueue=lambda *a: queued.append(a) or task.enqueue(*a))
    )
    call_command("send_digests", verbosity=0)
    assert len(queued) == 3 and sorted(len(subscribers) for subscribers, _ in queued) == [1, 2, 2]
    assert all(items == [AlertItem.objects.get(resolution=measure).pk] for _, items in queued)
    assert all(len(smtp.to(address)) == 1 for address in addresses) and len(smtp.messages) == 5

    for subscribers, items in queued:  # a batch run again (a retried task) sends nothing twice
        task.call(subscribers, items)
    assert len(smtp.messages) == 5


def test_digests_drawn_once_per_list_stay_personal(client, smtp, django_capture_on_commit_callbacks):
    """Addresses with the same news share its list but never each other's links; another list is its own."""
    for address in ("one@example.org", "two@example.org"):
        follow_confirmed(client, smtp, "state=AL", address, Frequency.WEEKLY)
    follow_confirmed(client, smtp, "state=WY", "wyoming@example.org", Frequency.WEEKLY)
    smtp.clear()
    alabama = draft()
    wyoming = draft(jurisdiction=get_county("56001"))  # Albany County, Wyoming
    publish(alabama, django_capture_on_commit_callbacks)
    publish(wyoming, django_capture_on_commit_callbacks)

    call_command("send_digests", verbosity=0)
    [one], [two], [wy] = (smtp.to(a) for a in ("one@example.org", "two@example.org", "wyoming@example.org"))
    assert record_ids(one) == record_ids(two) == {alabama.pk} and record_ids(wy) == {wyoming.pk}
    links = [re.findall(r"/follow/(?:unsubscribe|manage)/[^/\s]+/", text_of(m)) for m in (one, two, wy)]
    assert all(len(found) == 2 for found in links)
    assert len({link for found in links for link in found}) == 6  # every address its own two links
    assert "Wyoming" in text_of(wy) and "Wyoming" not in text_of(one)


def test_the_text_part_is_plain_and_the_html_part_escaped(client, smtp, django_capture_on_commit_callbacks):
    follow_confirmed(client, smtp, "state=AL", "reader@example.org")
    smtp.clear()
    measure = draft(title="Smith & Jones <b>County</b> resolution")
    publish(measure, django_capture_on_commit_callbacks)
    [message] = smtp.to("reader@example.org")
    assert "Smith & Jones <b>County</b> resolution" in text_of(message)
    assert "Smith &amp; Jones &lt;b&gt;County&lt;/b&gt; resolution" in html_of(message)
    assert "<b>County</b>" not in html_of(message)
    for part in message.iter_parts():  # plain ASCII goes out as it is, long signed links and all
        assert part["Content-Transfer-Encoding"] == "7bit"


def test_a_title_beyond_ascii_arrives_intact(client, smtp, django_capture_on_commit_callbacks):
    follow_confirmed(client, smtp, "state=AL", "reader@example.org")
    smtp.clear()
    measure = draft(title="Resolución de Doña Ana: “911 telecommunicators” — first responders")
    publish(measure, django_capture_on_commit_callbacks)
    [message] = smtp.to("reader@example.org")
    assert measure.title in text_of(message) and measure.title in html_of(message)


# --- Abuse and bad input --------------------------------------------------------------------------------


def test_per_client_rate_limit_answers_429_with_retry_after(client, smtp):
    for n in range(10):
        assert ask(client, "state=AL", f"p{n}@example.org").status_code == 302
    response = ask(client, "state=AL", "p10@example.org")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert len(smtp.messages) == 10


def test_per_address_limit_on_confirmation_mails(client, smtp):
    for n in range(3):
        assert ask(client, "state=AL", "flooded@example.org", REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
    response = ask(client, "state=AL", "FLOODED@example.org", REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert len(smtp.to("flooded@example.org")) == 3


def test_the_honeypot_refuses_and_sends_nothing(client, smtp):
    response = client.post(
        "/follow/?state=AL", {"email": "bot@example.org", "frequency": "immediate", "website": "x"}
    )
    assert response.status_code == 400 and smtp.messages == []


@pytest.mark.parametrize(
    ("params", "data", "message"),
    [
        (
            "state=AL",
            {"email": "a@example.org", "frequency": "daily"},
            "Choose “As it happens” or “Weekly digest”",
        ),
        ("state=AL", {"email": "a" * 250 + "@example.org", "frequency": "weekly"}, "at most 254 characters"),
        ("state=AL", {"email": "not an address", "frequency": "weekly"}, "valid email address"),
        ("state=ZZ", {}, "no such state"),
        ("jurisdiction=abc", {}, "no such place"),
        ("resolution=99999999999999999999", {}, "no such published record"),
        ("search=state%3DZZ", {}, "This search has an error"),
        ("search=adopted_after%3Dyesterday", {}, "This search has an error"),
        ("search=ordering%3D-adopted", {}, "at least one filter"),
        ("search=" + "q%3D" + "x" * 1200, {}, "too long"),
        ("", {}, "Choose what to follow"),
    ],
)
def test_bad_input_gets_a_clear_message_and_sends_nothing(client, smtp, params, data, message):
    response = client.post(f"/follow/?{params}", data) if data else client.get(f"/follow/?{params}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert smtp.messages == [] and Subscriber.objects.count() == 0


# --- Managing ---------------------------------------------------------------------------------------------


def test_the_manage_page_lists_changes_and_stops(client, smtp, django_assert_num_queries):
    subscriber = follow_confirmed(client, smtp, "state=AL", "manager@example.org")
    follow_confirmed(client, smtp, f"jurisdiction={get_county('01097').pk}", "manager@example.org")
    path = site_path(alerts.manage_url(subscriber))
    with django_assert_num_queries(2):
        page = client.get(path)
    assert page.status_code == 200
    assert b"Alabama" in page.content and b"Mobile County" in page.content
    state_follow, county_follow = Follow.objects.filter(subscriber=subscriber).order_by("pk")

    client.post(path, {"action": "frequency", "follow": state_follow.pk, "frequency": "weekly"})
    state_follow.refresh_from_db()
    assert state_follow.frequency == Frequency.WEEKLY
    client.post(path, {"action": "remove", "follow": county_follow.pk})
    assert list(subscriber.follows.all()) == [state_follow]
    assert (
        client.post(path, {"action": "frequency", "follow": state_follow.pk, "frequency": "x"}).status_code
        == 400
    )
    client.post(path, {"action": "unsubscribe"})
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None


def test_the_manage_link_of_another_address_cannot_be_made(client, smtp):
    subscriber = follow_confirmed(client, smtp, "state=AL", "mine@example.org")
    token = alerts.subscriber_token(subscriber, alerts.UNSUBSCRIBE_SALT)  # right signer, wrong purpose
    assert client.get(f"/follow/manage/{token}/").status_code == 400


def test_addresses_unsubscribed_over_30_days_ago_are_deleted(client, smtp):
    now = timezone.now()
    old = Subscriber.objects.create(
        email="old@example.org", confirmed_at=now, unsubscribed_at=now - datetime.timedelta(days=31)
    )
    recent = Subscriber.objects.create(
        email="recent@example.org", confirmed_at=now, unsubscribed_at=now - datetime.timedelta(days=29)
    )
    active = Subscriber.objects.create(
        email="active@example.org", confirmed_at=now - datetime.timedelta(days=400)
    )
    Follow.objects.create(subscriber=old, target=FollowTarget.JURISDICTION, jurisdiction=get_state("AL"))
    call_command("send_digests", verbosity=0)
    assert set(Subscriber.objects.values_list("pk", flat=True)) == {recent.pk, active.pk}
    assert not Follow.objects.filter(subscriber_id=old.pk).exists()


# --- The follow link on the four kinds of page --------------------------------------------------------------


def test_every_kind_of_page_links_to_its_follow_form(client, starter_dataset):
    measure = Resolution.objects.published().filter(jurisdiction__level=Level.COUNTY).first()
    county = measure.jurisdiction
    pages = {
        "/states/al/": "/follow/?state=AL",
        county.get_absolute_url(): f"/follow/?jurisdiction={county.pk}",
        measure.get_absolute_url(): f"/follow/?resolution={measure.pk}",
        "/resolutions/?state=AL&kind=bill": "/follow/?search=state%3DAL%26kind%3Dbill",
    }
    for page, link in pages.items():
        response = client.get(page)
        assert link in response.content.decode(), page
        assert client.get(link).status_code == 200, link


# --- Privacy in the admin -------------------------------------------------------------------------------------


def test_staff_see_counts_per_state_and_only_superusers_see_addresses(
    publisher_client, editor_client, admin_client, django_assert_max_num_queries
):
    alabama, georgia = get_state("AL"), get_state("GA")
    now = timezone.now()
    people = [Subscriber.objects.create(email=f"person{n}@example.org", confirmed_at=now) for n in range(4)]
    gone = Subscriber.objects.create(email="gone@example.org", confirmed_at=now, unsubscribed_at=now)
    follows = [
        (people[0], {"jurisdiction": alabama}),
        (people[0], {"jurisdiction": get_county("01097")}),  # the same person, twice in Alabama: once
        (people[1], {"jurisdiction": get_county("01003")}),
        (people[2], {"resolution": ResolutionFactory()}),  # a measure in Mobile County, Alabama
        (people[3], {"jurisdiction": georgia}),
        (gone, {"jurisdiction": alabama}),  # unsubscribed: not counted
    ]
    for subscriber, what in follows:
        target = FollowTarget.JURISDICTION if "jurisdiction" in what else FollowTarget.MEASURE
        Follow.objects.create(subscriber=subscriber, target=target, **what)
    expected = {"Alabama": 3, "Georgia": 1}  # counted by hand from the list above

    for staff in (editor_client, publisher_client):
        page = staff.get("/admin/recognition/subscriber/followers/")
        assert page.status_code == 200
        counts = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", page.content.decode()))
        assert {state: int(n) for state, n in counts.items()} == expected
        assert b"person0@example.org" not in page.content
        assert staff.get("/admin/recognition/subscriber/").status_code == 403
        assert staff.get(f"/admin/recognition/subscriber/{people[0].pk}/change/").status_code in (302, 403)
    listing = admin_client.get("/admin/recognition/subscriber/")
    assert listing.status_code == 200 and b"person0@example.org" in listing.content
