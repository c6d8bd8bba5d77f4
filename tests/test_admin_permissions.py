"""Who may do what in the admin, door by door: every admin page of every model, for an anonymous visitor,
an Editor and a Publisher (owner / other / anonymous, as healthchecks tests its views).

Publishing locks a record's citations: the sources and actions of a published record, and the places and
legislative sessions published records name, are changed only by Publishers, whichever form, list action or
revert is used.
"""

from dataclasses import dataclass

import pytest
from django.contrib.admin import site
from django.urls import reverse
from django.utils import timezone

from recognition import roles
from recognition.models import (
    Action,
    Confidence,
    Jurisdiction,
    LegislativeSession,
    Resolution,
    Source,
    Submission,
    Subscriber,
)
from tests.conftest import PlaceFactory, ResolutionFactory
from tests.legislative import act, bill, session
from tests.staff import make_user, signed_in
from tests.test_staff import form_data

pytestmark = pytest.mark.django_db

LOGIN = "login"  # anonymous: sent to the admin's sign-in page


@pytest.fixture
def world(django_user_model):
    draft = ResolutionFactory(
        published=False, confidence=Confidence.MEDIUM, sources=["https://example.org/d"]
    )
    published = ResolutionFactory(sources=["https://example.org/p"])
    cited_twice = ResolutionFactory(sources=["https://example.org/a", "https://example.org/b"])
    cited_place = PlaceFactory(name="City of Cited")
    ResolutionFactory(jurisdiction=cited_place)
    plain_place = PlaceFactory(name="City of Plain")
    submission = Submission.objects.create(
        state="AL", jurisdiction_name="Mobile County", url="https://example.org/report"
    )
    cited_session = session("AL", name="Cited session")
    bill(session=cited_session)
    plain_session = session("AL", name="Plain session")
    bill(session=plain_session, published=False, confidence=Confidence.MEDIUM)
    return {
        "draft": draft,
        "published": published,
        "draft_source": draft.sources.get(),
        "published_source": published.sources.get(),
        "second_link": cited_twice.sources.last(),
        "cited_place": cited_place,
        "plain_place": plain_place,
        "submission": submission,
        "draft_action": act(draft, "2022-01-10", "introduction"),
        "published_action": act(published, "2022-01-10", "introduction"),
        "cited_session": cited_session,
        "plain_session": plain_session,
        "subscriber": Subscriber.objects.create(email="reader@example.org", confirmed_at=timezone.now()),
        "anonymous": None,
        "editor": make_user(django_user_model, "editor", roles.EDITORS),
        "publisher": make_user(django_user_model, "publisher", roles.PUBLISHERS),
    }


def admin_url(name, obj=None):
    return reverse(f"admin:{name}", args=[obj.pk] if obj is not None else [])


def history_form_url(obj):
    model = obj._meta.model_name
    version = obj.history.latest().history_id
    return reverse(f"admin:recognition_{model}_simple_history", args=[obj.pk, version])


@dataclass(frozen=True)
class Page:
    """An admin page read with GET: the status each role gets (LOGIN for a redirect to sign in)."""

    name: str
    obj: str | None
    anonymous: object
    editor: int
    publisher: int

    def url(self, world):
        obj = world[self.obj] if self.obj else None
        if self.name == "history_form":
            return history_form_url(obj)
        return admin_url(self.name, obj)


PAGES = [
    Page("recognition_resolution_changelist", None, LOGIN, 200, 200),
    Page("recognition_resolution_add", None, LOGIN, 200, 200),
    Page("recognition_resolution_change", "draft", LOGIN, 200, 200),
    Page("recognition_resolution_change", "published", LOGIN, 200, 200),  # read-only for an editor
    Page("recognition_resolution_delete", "draft", LOGIN, 403, 403),  # nobody deletes a record here
    Page("recognition_resolution_history", "published", LOGIN, 200, 200),
    Page("history_form", "published", LOGIN, 200, 200),
    Page("recognition_resolution_import", None, LOGIN, 200, 200),
    Page("recognition_resolution_export", None, LOGIN, 200, 200),
    Page("recognition_quality", None, LOGIN, 200, 200),
    Page("recognition_source_changelist", None, LOGIN, 200, 200),
    Page("recognition_source_add", None, LOGIN, 403, 200),
    Page("recognition_source_change", "draft_source", LOGIN, 200, 200),
    Page("recognition_source_change", "published_source", LOGIN, 200, 200),  # read-only for an editor
    Page("recognition_source_delete", "draft_source", LOGIN, 200, 200),
    Page("recognition_source_delete", "published_source", LOGIN, 403, 403),  # its record's only link
    Page("recognition_source_delete", "second_link", LOGIN, 403, 200),
    Page("recognition_source_history", "published_source", LOGIN, 200, 200),
    Page("recognition_jurisdiction_changelist", None, LOGIN, 200, 200),
    Page("recognition_jurisdiction_add", None, LOGIN, 200, 200),
    Page("recognition_jurisdiction_change", "plain_place", LOGIN, 200, 200),
    Page("recognition_jurisdiction_change", "cited_place", LOGIN, 200, 200),  # read-only for an editor
    Page("recognition_jurisdiction_delete", "plain_place", LOGIN, 403, 403),
    Page("recognition_submission_changelist", None, LOGIN, 200, 200),
    Page("recognition_submission_change", "submission", LOGIN, 200, 200),
    Page("recognition_submission_accept", "submission", LOGIN, 200, 200),
    Page("recognition_submission_reject", "submission", LOGIN, 200, 200),
    Page("recognition_submission_add", None, LOGIN, 403, 403),  # submissions come from the public form
    Page("recognition_action_changelist", None, LOGIN, 200, 200),
    Page("recognition_action_add", None, LOGIN, 403, 200),
    Page("recognition_action_change", "draft_action", LOGIN, 200, 200),
    Page("recognition_action_change", "published_action", LOGIN, 200, 200),  # read-only for an editor
    Page("recognition_action_delete", "draft_action", LOGIN, 200, 200),
    Page("recognition_action_delete", "published_action", LOGIN, 403, 200),
    Page("recognition_action_history", "published_action", LOGIN, 200, 200),
    Page("history_form", "published_action", LOGIN, 200, 200),
    Page("recognition_legislativesession_changelist", None, LOGIN, 200, 200),
    Page("recognition_legislativesession_add", None, LOGIN, 200, 200),
    Page("recognition_legislativesession_change", "plain_session", LOGIN, 200, 200),
    Page("recognition_legislativesession_change", "cited_session", LOGIN, 200, 200),  # read-only: editor
    Page("recognition_legislativesession_delete", "plain_session", LOGIN, 403, 403),  # nobody, here
    Page("recognition_legislativesession_history", "cited_session", LOGIN, 200, 200),
    # Follow by email: staff see counts per state; addresses are for superusers only.
    Page("recognition_followers", None, LOGIN, 200, 200),
    Page("recognition_subscriber_changelist", None, LOGIN, 403, 403),
    Page("recognition_subscriber_change", "subscriber", LOGIN, 403, 403),
]


def test_every_registered_model_is_walked():
    walked = {page.name.split("_")[1] for page in PAGES if page.name.count("_") >= 2}
    registered = {
        model._meta.model_name for model in site._registry if model._meta.app_label == "recognition"
    }
    assert registered == walked


@pytest.mark.parametrize("role", ["anonymous", "editor", "publisher"])
@pytest.mark.parametrize("page", PAGES, ids=lambda page: f"{page.name}:{page.obj}")
def test_who_may_open_each_admin_page(client, world, page, role):
    if world[role] is not None:
        client = signed_in(world[role])
    response = client.get(page.url(world))
    expected = getattr(page, role)
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected


def change_form_post(client, url):
    """What saving a change form unchanged posts (read from the page as a publisher sees it)."""
    data = {}
    form = client.get(url).context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = "on" if value is True else str(value)
    return data


# Each write: the role, what it posts, and whether it may. A refused write changes nothing.
def add_source_to(record_key):
    def post(client, world):
        record = world[record_key]
        before = record.sources.count()
        response = client.post(
            admin_url("recognition_source_add"),
            {"resolution": record.pk, "url": "https://example.org/new", "title": "New"},
        )
        return response, record.sources.count() != before

    return post


def move_source_to_published(client, world):
    source = world["draft_source"]
    url = admin_url("recognition_source_change", source)
    data = change_form_post(signed_in(world["publisher"]), url) | {"resolution": world["published"].pk}
    response = client.post(url, data)
    source.refresh_from_db()
    return response, source.resolution_id == world["published"].pk


def delete_source(key):
    def post(client, world):
        source = world[key]
        response = client.post(admin_url("recognition_source_delete", source), {"post": "yes"})
        return response, not Source.objects.filter(pk=source.pk).exists()

    return post


def bulk_delete_source(key):
    def post(client, world):
        source = world[key]
        response = client.post(
            admin_url("recognition_source_changelist"),
            {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"},
        )
        return response, not Source.objects.filter(pk=source.pk).exists()

    return post


def rename(key):
    def post(client, world):
        place = world[key]
        url = admin_url("recognition_jurisdiction_change", place)
        data = change_form_post(signed_in(world["publisher"]), url) | {"name": f"{place.name} Renamed"}
        response = client.post(url, data)
        return response, Jurisdiction.objects.get(pk=place.pk).name.endswith("Renamed")

    return post


def revert_source(key):
    def post(client, world):
        source = world[key]
        Source.objects.filter(pk=source.pk).update(title="Changed since")
        url = history_form_url(source)
        data = change_form_post(signed_in(world["publisher"]), url)
        response = client.post(url, data)
        return response, Source.objects.get(pk=source.pk).title != "Changed since"

    return post


def add_action_on_form(record_key):
    """A new action typed into the inline of its record's change form."""

    def post(client, world):
        record = world[record_key]
        url = admin_url("recognition_resolution_change", record)
        data = form_data(signed_in(world["publisher"]).get(url))
        new = int(data["actions-INITIAL_FORMS"])
        data |= {
            f"actions-{new}-date": "2022-02",
            f"actions-{new}-chamber": "",
            f"actions-{new}-classification": "referral-committee",
            f"actions-{new}-description": "Referred to a committee.",
            f"actions-{new}-source_url": "https://example.org/referred",
        }
        before = record.actions.count()
        response = client.post(url, data)
        return response, record.actions.count() != before

    return post


def add_action_standalone(client, world):
    record = world["draft"]
    before = record.actions.count()
    response = client.post(
        admin_url("recognition_action_add"),
        {
            "resolution": record.pk,
            "date": "2022-02",
            "classification": "referral-committee",
            "description": "Referred to a committee.",
            "source_url": "https://example.org/referred",
        },
    )
    return response, record.actions.count() != before


def describe_action(key):
    def post(client, world):
        action = world[key]
        url = admin_url("recognition_action_change", action)
        data = change_form_post(signed_in(world["publisher"]), url) | {"description": "Described anew."}
        response = client.post(url, data)
        return response, Action.objects.get(pk=action.pk).description == "Described anew."

    return post


def delete_action(key):
    def post(client, world):
        action = world[key]
        response = client.post(admin_url("recognition_action_delete", action), {"post": "yes"})
        return response, not Action.objects.filter(pk=action.pk).exists()

    return post


def revert_action(key):
    def post(client, world):
        action = world[key]
        Action.objects.filter(pk=action.pk).update(description="Changed since")
        url = history_form_url(action)
        data = change_form_post(signed_in(world["publisher"]), url)
        response = client.post(url, data)
        return response, Action.objects.get(pk=action.pk).description != "Changed since"

    return post


def add_session(client, world):
    before = LegislativeSession.objects.count()
    response = client.post(
        admin_url("recognition_legislativesession_add"),
        {
            "jurisdiction": world["published"].jurisdiction.parent_id,
            "name": "2027 Regular Session",
            "start_on": "2027-01-12",
            "end_on": "2027-05-20",
        },
    )
    return response, LegislativeSession.objects.count() != before


def move_session_end(key):
    def post(client, world):
        item = world[key]
        url = admin_url("recognition_legislativesession_change", item)
        data = change_form_post(signed_in(world["publisher"]), url) | {"end_on": "2025-06-30"}
        response = client.post(url, data)
        return response, str(LegislativeSession.objects.get(pk=item.pk).end_on) == "2025-06-30"

    return post


WRITES = {
    "add a source to a published record": (add_source_to("published"), {"editor": False, "publisher": True}),
    "add a source to a draft (standalone form)": (add_source_to("draft"), {"editor": False, "publisher": True}),
    "move a draft's source onto a published record": (
        move_source_to_published,
        {"editor": False, "publisher": True},
    ),
    "delete a published record's only link": (delete_source("published_source"), {"editor": False, "publisher": False}),
    "delete a published record's second link": (delete_source("second_link"), {"editor": False, "publisher": True}),
    "bulk-delete a published record's second link": (
        bulk_delete_source("second_link"),
        {"editor": False, "publisher": True},
    ),
    "delete a draft's source": (delete_source("draft_source"), {"editor": True, "publisher": True}),
    "rename a place that published records name": (rename("cited_place"), {"editor": False, "publisher": True}),
    "rename a place no published record names": (rename("plain_place"), {"editor": True, "publisher": True}),
    "revert a published record's source": (revert_source("published_source"), {"editor": False, "publisher": True}),
    "add an action to a draft on its form": (add_action_on_form("draft"), {"editor": True, "publisher": True}),
    "add an action to a published record on its form": (
        add_action_on_form("published"),
        {"editor": False, "publisher": True},
    ),
    "add an action (standalone form)": (add_action_standalone, {"editor": False, "publisher": True}),
    "change a draft's action": (describe_action("draft_action"), {"editor": True, "publisher": True}),
    "change a published record's action": (describe_action("published_action"), {"editor": False, "publisher": True}),
    "delete a draft's action": (delete_action("draft_action"), {"editor": True, "publisher": True}),
    "delete a published record's action": (delete_action("published_action"), {"editor": False, "publisher": True}),
    "revert a published record's action": (revert_action("published_action"), {"editor": False, "publisher": True}),
    "add a session": (add_session, {"editor": True, "publisher": True}),
    "move the end of a session published records name": (
        move_session_end("cited_session"),
        {"editor": False, "publisher": True},
    ),
    "move the end of a session no published record names": (
        move_session_end("plain_session"),
        {"editor": True, "publisher": True},
    ),
}  # fmt: skip


@pytest.mark.parametrize("role", ["anonymous", "editor", "publisher"])
@pytest.mark.parametrize("write", list(WRITES))
def test_who_may_change_what(client, world, write, role):
    post, allowed = WRITES[write]
    if world[role] is not None:
        client = signed_in(world[role])
    response, changed = post(client, world)
    if role == "anonymous":
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
        assert not changed
    elif allowed[role]:
        assert changed, (response.status_code, response.content[:500])
    else:
        assert not changed
        assert response.status_code in (403, 200)  # refused outright, or the form says why
        if response.status_code == 200:
            assert "only a publisher" in response.content.decode()


def test_an_editor_import_cannot_add_a_source_to_a_published_record(world, tmp_path):
    from recognition.importer import import_resolutions

    published = world["published"]
    published.history.update(history_change_reason="CSV import, line 2")  # as if it came from a file
    header = (
        "level,state,jurisdiction,county,fips,body,kind,status,identifier,title,introduced_on,adopted_on,"
        "effective_on,summary,source_url,source_title,source_accessed,confidence"
    )
    row = [
        "county", "AL", "Mobile County", "", "01097", published.body, published.kind, published.status, "",
        published.title, "", published.adopted.isoformat(), "", published.summary, "https://example.org/other",
        "Another source", "", "high",
    ]  # fmt: skip
    path = tmp_path / "rows.csv"
    path.write_text(header + "\n" + ",".join(f'"{cell}"' for cell in row) + "\n", encoding="utf-8")
    report = import_resolutions(path, allow_publish=False)
    assert not report.written and Resolution.objects.get(pk=published.pk).sources.count() == 1
