"""The staff side: roles, the resolution form, publication by every path, history, import and export, and
the admin sign-in lockout.

Editors enter drafts; only publishers publish, unpublish or change a published record, whatever the door.
"""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recognition import roles
from recognition.models import Confidence, Jurisdiction, Level, Resolution
from tests.conftest import PlaceFactory, ResolutionFactory, get_county, get_state
from tests.staff import PASSWORD, make_user, signed_in

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recognition_resolution_changelist"
ADD = "admin:recognition_resolution_add"
IMPORT = "admin:recognition_resolution_import"
EXPORT = "admin:recognition_resolution_export"


def draft(**kwargs):
    kwargs.setdefault("published", False)
    kwargs.setdefault("confidence", Confidence.MEDIUM)
    return ResolutionFactory(**kwargs)


def change_url(resolution):
    return reverse("admin:recognition_resolution_change", args=[resolution.pk])


def form_data(response):
    """The POST a person makes by saving an admin form unchanged: every field and inline as rendered."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else str(value)
    return data


def new_resolution_data(jurisdiction, **overrides):
    """What a person types in the empty add form: one record and one source."""
    data = {
        "kind": "resolution",
        "status": "adopted",
        "identifier": "",
        "title": "Resolution recognizing 911 dispatchers as first responders",
        "summary": "Recognizes the county's dispatchers as first responders.",
        "jurisdiction": str(jurisdiction.pk),
        "body": "County Commission",
        "introduced": "",
        "adopted": "2022-09",
        "effective": "",
        "confidence": "high",
        "last_verified_on": "",
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
        "sources-0-url": "https://example.org/minutes/2022-09",
        "sources-0-title": "Commission minutes",
        "sources-0-publisher": "",
        "sources-0-accessed_on": "",
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response):
    """Every error message on an admin change form (fields, whole form and inlines)."""
    messages = list(response.context["adminform"].form.errors.values())
    flat = [str(message) for group in messages for message in group]
    for inline in response.context["inline_admin_formsets"]:
        flat += [str(error) for error in inline.formset.non_form_errors()]
        for form_errors in inline.formset.errors:
            flat += [str(message) for group in form_errors.values() for message in group]
    return flat


# --- roles ---------------------------------------------------------------------------------------


def test_the_migration_creates_both_roles_as_roles_py_defines_them():
    for name, codes in roles.ROLES.items():
        group = Group.objects.get(name=name)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(codes), name
    assert roles.PUBLISH_PERMISSION not in roles.EDITOR_PERMISSIONS


def test_role_checks(editor, publisher, admin_user):
    assert not roles.can_publish(editor)
    assert roles.can_publish(publisher)
    assert roles.can_publish(admin_user)


# --- the resolution form -------------------------------------------------------------------------


def test_an_editor_enters_a_draft_with_a_partial_date_and_a_source(editor_client, editor):
    county = get_county("56001")  # Albany County, Wyoming
    response = editor_client.post(reverse(ADD), new_resolution_data(county, published="on"))
    assert response.status_code == 302, errors_of(response)
    resolution = Resolution.objects.get(jurisdiction=county)
    assert (resolution.adopted_on, resolution.adopted_on_precision) == (datetime.date(2022, 9, 1), "month")
    assert str(resolution.adopted) == "September 2022"
    assert resolution.published is False  # the checkbox is not theirs: the posted value is ignored
    assert list(resolution.sources.values_list("url", flat=True)) == ["https://example.org/minutes/2022-09"]
    record = resolution.history.latest()
    assert record.history_user == editor and record.history_type == "+"


def test_the_form_has_one_text_box_per_date_and_groups_the_fields(editor_client):
    response = editor_client.get(reverse(ADD))
    form = response.context["adminform"].form
    assert {"introduced", "adopted", "effective"} <= set(form.fields)
    assert not {"adopted_on", "adopted_on_precision"} & set(form.fields)
    assert "2022-09" in form.fields["adopted"].help_text
    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert names == ["What", "Where", "When", "Progress", "Publication"]
    html = response.content.decode()
    # Sources and actions come before publication on the page.
    publication = html.index('<h2 id="fieldset-0-4-heading"')
    assert html.index('id="sources-group"') < html.index('id="actions-group"') < publication
    assert "published" not in form.fields  # read-only for an editor


@pytest.mark.parametrize(
    "typed, message",
    [
        ("2023-02-30", "February 2023 has 28 days"),
        ("2022-13", "There is no month 13"),
        ("22-09", "Write the date as a year (2022)"),
        ("2022/09/01", "Write the date as a year (2022)"),
        ("0202", "Check the year"),
    ],
)
def test_an_impossible_date_is_a_clear_error_and_nothing_is_saved(publisher_client, typed, message):
    response = publisher_client.post(reverse(ADD), new_resolution_data(get_county("56001"), adopted=typed))
    assert response.status_code == 200
    assert any(message in error for error in errors_of(response)), errors_of(response)
    assert not Resolution.objects.filter(jurisdiction__fips="56001").exists()


def test_a_year_or_a_full_date_keeps_its_precision(publisher_client):
    data = new_resolution_data(get_county("56001"), introduced="2022", adopted="2022-04-18", effective="")
    assert publisher_client.post(reverse(ADD), data).status_code == 302
    resolution = Resolution.objects.get(jurisdiction__fips="56001")
    assert resolution.introduced_on_precision == "year" and resolution.adopted_on_precision == "day"


def test_model_rules_are_shown_on_the_date_box(publisher_client):
    data = new_resolution_data(get_county("56001"), introduced="2023-05", adopted="2022")
    response = publisher_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["adopted"] == [
        "Adopted (2022) cannot be before introduced (May 2023)."
    ]


def test_a_publisher_publishes_a_new_record_with_the_source_added_in_the_same_submit(publisher_client):
    data = new_resolution_data(get_county("56001"), published="on")
    response = publisher_client.post(reverse(ADD), data)
    assert response.status_code == 302, errors_of(response)
    assert Resolution.objects.get(jurisdiction__fips="56001").published


def test_publishing_a_saved_draft_sees_the_source_added_in_the_same_submit(publisher_client):
    resolution = draft(sources=[])
    data = form_data(publisher_client.get(change_url(resolution)))
    data.update(
        {"published": "on", "sources-0-url": "https://example.org/new-source", "sources-0-title": "Minutes"}
    )
    response = publisher_client.post(change_url(resolution), data)
    assert response.status_code == 302, errors_of(response)
    resolution.refresh_from_db()
    assert resolution.published and resolution.sources.get().url == "https://example.org/new-source"


def test_publishing_without_a_source_link_is_refused_in_words(publisher_client):
    data = new_resolution_data(get_county("56001"), published="on", **{"sources-0-url": ""})
    response = publisher_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert "Add at least one source with a link before publishing." in errors_of(response)
    assert not Resolution.objects.filter(jurisdiction__fips="56001").exists()


def test_removing_the_last_link_of_a_published_record_is_refused(publisher_client):
    resolution = ResolutionFactory()
    data = form_data(publisher_client.get(change_url(resolution)))
    data["sources-0-DELETE"] = "on"
    response = publisher_client.post(change_url(resolution), data)
    assert response.status_code == 200
    assert "Add at least one source with a link before publishing." in errors_of(response)
    assert resolution.sources.count() == 1


def test_publishing_a_low_confidence_record_is_refused_in_words(publisher_client):
    data = new_resolution_data(get_county("56001"), published="on", confidence="low")
    response = publisher_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["published"] == [Resolution.LOW_CONFIDENCE_MESSAGE]
    assert not Resolution.objects.filter(jurisdiction__fips="56001").exists()


# --- an editor cannot publish, by any path ----------------------------------------------------------


def test_an_editor_cannot_publish_a_draft_from_its_change_form(editor_client):
    resolution = draft()
    data = form_data(editor_client.get(change_url(resolution)))
    data["published"] = "on"
    data["summary"] = "Edited by an editor."
    assert editor_client.post(change_url(resolution), data).status_code == 302
    resolution.refresh_from_db()
    assert resolution.summary == "Edited by an editor." and not resolution.published


def test_an_editor_cannot_change_a_published_record(editor_client):
    resolution = ResolutionFactory(summary="As published.")
    response = editor_client.get(change_url(resolution))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False  # shown read-only
    data = new_resolution_data(resolution.jurisdiction, summary="Changed.")
    assert editor_client.post(change_url(resolution), data).status_code == 403
    resolution.refresh_from_db()
    assert resolution.summary == "As published." and resolution.published


def test_publish_actions_are_neither_offered_to_nor_run_for_an_editor(editor_client):
    resolution = draft()
    response = editor_client.get(reverse(CHANGELIST))
    offered = [value for value, _label in response.context["action_form"].fields["action"].choices]
    assert "mark_verified_today" in offered
    assert "publish" not in offered and "unpublish" not in offered
    editor_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [resolution.pk]})
    resolution.refresh_from_db()
    assert not resolution.published
    published = ResolutionFactory()
    editor_client.post(reverse(CHANGELIST), {"action": "unpublish", "_selected_action": [published.pk]})
    published.refresh_from_db()
    assert published.published


def test_an_editor_cannot_publish_by_reverting_to_a_published_version(editor_client, publisher_client):
    resolution = draft()
    publisher_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [resolution.pk]})
    publisher_client.post(reverse(CHANGELIST), {"action": "unpublish", "_selected_action": [resolution.pk]})
    resolution.sources.all().delete()  # and since then its link went too
    resolution.refresh_from_db()
    assert not resolution.published
    published_version = resolution.history.filter(published=True).get()
    url = reverse(
        "admin:recognition_resolution_simple_history", args=[resolution.pk, published_version.history_id]
    )
    response = editor_client.post(url, form_data(editor_client.get(url)), follow=True)
    assert response.redirect_chain  # saved, not refused
    assert "Saved as a draft: only a publisher can publish a record." in [
        str(m) for m in response.context["messages"]
    ]
    resolution.refresh_from_db()
    assert not resolution.published


def test_viewing_history_does_not_give_the_right_to_revert(django_user_model):
    viewer = make_user(django_user_model, "viewer")
    viewer.user_permissions.add(
        *Group.objects.get(name=roles.EDITORS).permissions.filter(codename__startswith="view")
    )
    resolution = draft(summary="Before")
    resolution.summary = "After"
    resolution.save()
    first = resolution.history.earliest()
    url = reverse("admin:recognition_resolution_simple_history", args=[resolution.pk, first.history_id])
    client = signed_in(viewer)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    resolution.refresh_from_db()
    assert resolution.summary == "After"


def test_an_editor_import_brings_new_rows_in_as_drafts(editor_client):
    csv_text = csv_file([good_row()])
    response = upload(editor_client, csv_text)
    assert response.context["report"].ok and response.context["report"].drafts == 1
    confirm(editor_client, response)
    resolution = Resolution.objects.get(title=good_row()["title"])
    assert not resolution.published  # the file would publish it: a publisher's import does


def test_an_editor_import_that_would_change_a_published_record_is_refused(editor_client, publisher_client):
    confirm(publisher_client, upload(publisher_client, csv_file([good_row()])))
    resolution = Resolution.objects.get(title=good_row()["title"])
    assert resolution.published
    # Unchanged, it is fine (and stays published); changed, it is an error naming the row.
    report = upload(editor_client, csv_file([good_row()])).context["report"]
    assert report.ok and report.unchanged == 1 and report.published == 1
    response = upload(editor_client, csv_file([good_row(summary="Changed by an editor.")]))
    report = response.context["report"]
    assert [(e.line, e.column) for e in report.errors] == [(2, "title")]
    assert "only a publisher can change a published record" in response.content.decode()
    resolution.refresh_from_db()
    assert resolution.published and resolution.summary != "Changed by an editor."


def test_superusers_can_do_everything(admin_client):
    resolution = draft()
    admin_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [resolution.pk]})
    resolution.refresh_from_db()
    assert resolution.published
    assert admin_client.get(change_url(resolution)).context["has_change_permission"] is True


# --- list, filters and actions -------------------------------------------------------------------


def test_the_list_shows_the_adopted_date_at_its_precision_and_the_state(editor_client):
    ResolutionFactory(
        jurisdiction=get_county("56001"), adopted_on=datetime.date(2021, 9, 1), adopted_on_precision="month"
    )
    response = editor_client.get(reverse(CHANGELIST), {"state": "WY"})
    html = response.content.decode()
    assert "September 2021" in html
    assert re.search(r'<td class="field-state">WY</td>', html)


def test_needs_verification_filter(editor_client):
    today = timezone.localdate()
    fresh = ResolutionFactory(last_verified_on=today)
    stale = ResolutionFactory(last_verified_on=today - datetime.timedelta(days=400))
    never = ResolutionFactory(last_verified_on=None)
    no_link = draft(sources=[], last_verified_on=today)
    low = draft(confidence=Confidence.LOW, last_verified_on=today)
    url = reverse(CHANGELIST)
    needing = set(editor_client.get(url, {"needs_verification": "yes"}).context["cl"].queryset)
    assert {stale, never, no_link, low} <= needing and fresh not in needing
    verified = set(editor_client.get(url, {"needs_verification": "no"}).context["cl"].queryset)
    assert fresh in verified and not {stale, never, no_link, low} & verified
    assert editor_client.get(url, {"_facets": "True"}).status_code == 200  # "Show counts"


def test_filters_and_search_and_date_hierarchy(editor_client, starter_dataset):
    url = reverse(CHANGELIST)
    assert editor_client.get(url, {"q": "Baldwin"}).context["cl"].result_count >= 1
    response = editor_client.get(url, {"adopted_on__year": "2022"})
    assert all(r.adopted_on.year == 2022 for r in response.context["cl"].queryset)
    response = editor_client.get(url, {"jurisdiction__level": "place", "state": "AL"})
    assert {r.jurisdiction.level for r in response.context["cl"].queryset} == {"place"}


def test_publish_action_publishes_what_it_can_and_says_why_not_for_the_rest(publisher_client):
    ready = draft()
    unsourced = draft(sources=[])
    unverified = draft(confidence=Confidence.LOW)
    response = publisher_client.post(
        reverse(CHANGELIST),
        {"action": "publish", "_selected_action": [ready.pk, unsourced.pk, unverified.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "Published 1 record." in messages
    assert any(str(unsourced) in m and Resolution.NO_SOURCE_MESSAGE in m for m in messages)
    assert any(str(unverified) in m and Resolution.LOW_CONFIDENCE_MESSAGE in m for m in messages)
    assert [
        r.published
        for r in Resolution.objects.filter(pk__in=[ready.pk, unsourced.pk, unverified.pk]).order_by("pk")
    ] == [True, False, False]
    assert ready.history.latest().history_user.username == "publisher"


def test_unpublish_action(publisher_client):
    resolution = ResolutionFactory()
    publisher_client.post(reverse(CHANGELIST), {"action": "unpublish", "_selected_action": [resolution.pk]})
    resolution.refresh_from_db()
    assert not resolution.published


def test_mark_verified_today_leaves_published_records_to_publishers(editor_client, publisher_client):
    a_draft, published = draft(last_verified_on=None), ResolutionFactory(last_verified_on=None)
    selected = {"action": "mark_verified_today", "_selected_action": [a_draft.pk, published.pk]}
    editor_client.post(reverse(CHANGELIST), selected)
    a_draft.refresh_from_db(), published.refresh_from_db()
    assert a_draft.last_verified_on == timezone.localdate() and published.last_verified_on is None
    publisher_client.post(reverse(CHANGELIST), selected)
    published.refresh_from_db()
    assert published.last_verified_on == timezone.localdate()


# --- anonymous visitors --------------------------------------------------------------------------


def test_anonymous_never_sees_a_draft_and_is_sent_to_the_admin_login(client):
    hidden = draft(title="An unreviewed draft about dispatchers")
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(f"/api/resolutions/{hidden.pk}/").status_code == 404
    for url in [
        "/feeds/resolutions/",
        "/states/al/feed/",
        "/resolutions/",
        "/resolutions.csv",
        "/api/resolutions/",
    ]:
        response = client.get(url)
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert hidden.title.encode() not in body, url
    for url in [reverse(CHANGELIST), change_url(hidden), reverse(IMPORT), reverse(EXPORT)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


# --- jurisdictions: adding a place from the resolution form ----------------------------------------


def test_the_resolution_form_offers_to_add_a_jurisdiction(editor_client):
    html = editor_client.get(reverse(ADD)).content.decode()
    assert 'id="add_id_jurisdiction"' in html


def test_an_editor_adds_a_city_in_the_add_another_popup(editor_client):
    url = reverse("admin:recognition_jurisdiction_add") + "?_to_field=id&_popup=1"
    response = editor_client.get(url)
    form = response.context["adminform"].form
    assert [value for value, _ in form.fields["level"].choices] == ["", "place", "district"]
    assert set(form.fields) == {"level", "name", "parent", "county"}
    assert {j.level for j in form.fields["parent"].queryset} == {"state"}
    state, county = get_state("WY"), get_county("56001")
    response = editor_client.post(
        url,
        {
            "level": "place",
            "name": "City of Laramie",
            "parent": state.pk,
            "county": county.pk,
            "_popup": "1",
            "_to_field": "id",
        },
    )
    assert response.status_code == 200
    assert "popup_response" in response.templates[0].name
    laramie = Jurisdiction.objects.get(name="City of Laramie")
    assert (laramie.parent, laramie.county, laramie.slug) == (state, county, "city-of-laramie")
    assert str(laramie.pk) in response.content.decode()
    assert laramie.history.get().history_user.username == "editor"


def test_a_second_city_of_the_same_name_in_a_state_is_a_form_error(editor_client):
    PlaceFactory(name="City of Mobile")
    response = editor_client.post(
        reverse("admin:recognition_jurisdiction_add"),
        {
            "level": "place",
            "name": "city of MOBILE",
            "parent": get_state("AL").pk,
            "county": get_county("01097").pk,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "City of Mobile is already recorded as a city or town in Alabama: pick it instead of adding it again."
    ]
    assert Jurisdiction.objects.filter(name__iexact="city of mobile").count() == 1
    # The same name in another state is another city.
    PlaceFactory(name="City of Mobile", parent=get_state("AZ"), county=None)


def test_the_database_refuses_a_second_city_of_the_same_name_whatever_its_case():
    PlaceFactory(name="City of Mobile")
    with pytest.raises(IntegrityError), transaction.atomic():
        Jurisdiction.objects.create(
            level=Level.PLACE, name="CITY OF MOBILE", slug="other", parent=get_state("AL")
        )


def test_a_county_in_another_state_is_refused(editor_client):
    response = editor_client.post(
        reverse("admin:recognition_jurisdiction_add"),
        {
            "level": "place",
            "name": "City of Somewhere",
            "parent": get_state("WY").pk,
            "county": get_county("01097").pk,
        },
    )
    assert response.context["adminform"].form.errors["county"] == ["Mobile County is not in Wyoming."]


def test_editors_cannot_change_states_or_counties(editor_client):
    county = get_county("56001")
    url = reverse("admin:recognition_jurisdiction_change", args=[county.pk])
    assert editor_client.get(url).context["has_change_permission"] is False
    assert (
        editor_client.post(
            url, {"level": "county", "name": "Renamed", "parent": county.parent_id}
        ).status_code
        == 403
    )
    response = editor_client.post(
        reverse("admin:recognition_jurisdiction_add"),
        {"level": "county", "name": "New County", "parent": get_state("WY").pk},
    )
    assert "level" in response.context["adminform"].form.errors


# --- history -------------------------------------------------------------------------------------


def test_every_change_is_recorded_with_its_author(editor_client, publisher_client, editor, publisher):
    assert editor_client.post(reverse(ADD), new_resolution_data(get_county("56001"))).status_code == 302
    resolution = Resolution.objects.get(jurisdiction__fips="56001")
    data = form_data(editor_client.get(change_url(resolution)))
    data["summary"] = "A better summary."
    editor_client.post(change_url(resolution), data)
    publisher_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [resolution.pk]})
    records = list(resolution.history.order_by("history_date"))
    assert [(r.history_type, r.history_user) for r in records] == [
        ("+", editor),
        ("~", editor),
        ("~", publisher),
    ]
    assert [r.published for r in records] == [False, False, True]
    assert records[1].diff_against(records[0]).changed_fields == ["summary"]
    source = resolution.sources.get()
    assert source.history.get().history_user == editor
    page = publisher_client.get(reverse("admin:recognition_resolution_history", args=[resolution.pk]))
    assert page.status_code == 200 and "A better summary." in page.content.decode()


def test_a_change_can_be_undone_by_reverting(publisher_client):
    resolution = draft(summary="Right")
    resolution.summary = "Wrong"
    resolution.save()
    right = resolution.history.earliest()
    url = reverse("admin:recognition_resolution_simple_history", args=[resolution.pk, right.history_id])
    response = publisher_client.post(url, form_data(publisher_client.get(url)))
    assert response.status_code == 302
    resolution.refresh_from_db()
    assert resolution.summary == "Right"
    assert resolution.history.count() == 3


def test_the_geography_loader_writes_no_history():
    from recognition.models import Jurisdiction as J

    assert not J.history.filter(level__in=["nation", "state", "county"]).exists()


# --- import in the admin -------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "level", "state", "jurisdiction", "county", "fips", "body", "kind", "status", "identifier", "title",
    "introduced_on", "adopted_on", "effective_on", "summary", "source_url", "source_title", "source_accessed",
    "confidence",
)  # fmt: skip


def good_row(**overrides):
    row = dict.fromkeys(IMPORT_COLUMNS, "")
    row.update(
        level="county",
        state="WY",
        jurisdiction="Albany County",
        fips="56001",
        body="Albany County Commission",
        kind="resolution",
        status="adopted",
        title="Albany County resolution recognizing 911 dispatchers",
        adopted_on="2023-05",
        summary="Recognizes dispatchers as first responders.",
        source_url="https://example.org/albany/minutes",
        source_title="Minutes",
        confidence="high",
    )
    row.update(overrides)
    return row


def csv_file(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client, text, name="records.csv"):
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = name
    response = client.post(reverse(IMPORT), {"file": upload})
    assert response.status_code == 200
    return response


def confirm(client, preview):
    return client.post(reverse(IMPORT), {"payload": preview.context["payload"]})


def test_the_changelist_has_import_and_export_buttons(editor_client):
    html = editor_client.get(reverse(CHANGELIST), {"state": "WY"}).content.decode()
    assert reverse(IMPORT) in html
    assert f"{reverse(EXPORT)}?state=WY" in html


def test_the_import_preview_writes_nothing(publisher_client):
    text = csv_file(
        [
            good_row(),
            good_row(
                jurisdiction="City of Laramie",
                level="place",
                fips="",
                county="Albany County",
                title="Laramie",
            ),
        ]
    )
    before = (Resolution.objects.count(), Resolution.history.count(), Jurisdiction.objects.count())
    response = upload(publisher_client, text)
    assert (Resolution.objects.count(), Resolution.history.count(), Jurisdiction.objects.count()) == before
    report = response.context["report"]
    assert report.ok and report.dry_run and report.created == 2
    html = response.content.decode()
    assert "Nothing has been written yet." in html and "Confirm import" in html
    assert "City of Laramie" in html  # the new place is announced


def test_confirming_imports_with_history_for_the_person(publisher_client, publisher):
    response = confirm(publisher_client, upload(publisher_client, csv_file([good_row()])))
    assert response.status_code == 302 and response["Location"] == reverse(CHANGELIST)
    resolution = Resolution.objects.get(title=good_row()["title"])
    assert resolution.published and resolution.adopted_on_precision == "month"
    record = resolution.history.get()
    assert (record.history_user, record.history_type, record.history_change_reason) == (
        publisher,
        "+",
        "CSV import, line 2",
    )
    assert resolution.sources.get().history.get().history_user == publisher


def test_a_bad_file_writes_nothing_and_names_row_and_column(publisher_client):
    text = csv_file(
        [good_row(), good_row(title="Second", adopted_on="2023-02-30"), good_row(title="Third", fips="99999")]
    )
    before = Resolution.objects.count()
    response = upload(publisher_client, text)
    assert Resolution.objects.count() == before
    report = response.context["report"]
    assert [(e.line, e.column) for e in report.errors] == [(3, "adopted_on"), (4, "fips")]
    html = response.content.decode()
    assert "<td>3</td><td>adopted_on</td>" in html and "<td>4</td><td>fips</td>" in html
    assert "Confirm import" not in html and 'name="payload"' not in html


def test_a_tampered_or_foreign_preview_is_refused(publisher_client, editor_client):
    preview = upload(publisher_client, csv_file([good_row()]))
    payload = preview.context["payload"]
    tampered = signing.dumps({"name": "x.csv", "text": csv_file([good_row(title="Injected")])}, salt="other")
    for client, value in [(publisher_client, tampered), (editor_client, payload)]:
        response = client.post(reverse(IMPORT), {"payload": value}, follow=True)
        assert "could not be read" in response.content.decode()
    assert not Resolution.objects.filter(title__in=[good_row()["title"], "Injected"]).exists()


def test_upload_size_is_limited(publisher_client, monkeypatch):
    from recognition.admin import forms as admin_forms

    monkeypatch.setattr(admin_forms, "MAX_IMPORT_BYTES", 100)
    response = upload(publisher_client, csv_file([good_row()]))
    assert "split it into smaller files" in response.context["form"].errors["file"][0]
    assert "report" not in response.context


# --- export from the admin -----------------------------------------------------------------------


def test_export_is_the_filtered_changelist(editor_client, starter_dataset):
    params = {"state": "AL", "published__exact": "0"}
    expected = list(
        editor_client.get(reverse(CHANGELIST), params).context["cl"].queryset.values_list("pk", flat=True)
    )
    response = editor_client.get(reverse(EXPORT), params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == expected and expected
    assert {row["published"] for row in rows} == {"no"}
    assert {"confidence", "state", "adopted_on"} <= set(rows[0])


def test_export_of_everything_includes_drafts(editor_client, starter_dataset):
    response = editor_client.get(reverse(EXPORT))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == Resolution.objects.count()


# --- admin sign-in lockout -----------------------------------------------------------------------


def sign_in(client, username, password, address):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_the_account_out_from_that_address_only(client, editor):
    for attempt in range(1, 5):
        response = sign_in(client, "editor", "wrong", "203.0.113.7")
        assert response.status_code == 200, attempt  # the login page again, with its error
    assert sign_in(client, "editor", "wrong", "203.0.113.7").status_code == 429  # the fifth
    locked = sign_in(client, "editor", PASSWORD, "203.0.113.7")
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.content.decode()
    assert locked["Retry-After"] == "3600"  # the hour of the lockout
    elsewhere = sign_in(Client(), "editor", PASSWORD, "198.51.100.4")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == reverse("admin:index")


def test_behind_a_proxy_the_lockout_is_per_visitor_address(client, editor, settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    proxy = "10.0.0.2"

    def through_proxy(password, visitor):
        return Client().post(
            reverse("admin:login"),
            {"username": "editor", "password": password, "next": reverse("admin:index")},
            REMOTE_ADDR=proxy,
            HTTP_X_REAL_IP=visitor,
        )

    for _attempt in range(5):
        through_proxy("wrong", "203.0.113.10")
    assert through_proxy(PASSWORD, "203.0.113.10").status_code == 429
    colleague = through_proxy(PASSWORD, "198.51.100.10")
    assert colleague.status_code == 302 and colleague["Location"] == reverse("admin:index")


def test_the_lockout_is_per_username(client, editor, publisher):
    for _attempt in range(5):
        sign_in(client, "editor", "wrong", "203.0.113.8")
    assert sign_in(Client(), "publisher", PASSWORD, "203.0.113.8").status_code == 302


def test_the_lockout_ends_after_an_hour(client, editor):
    for _attempt in range(5):
        sign_in(client, "editor", "wrong", "203.0.113.9")
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(hours=1, minutes=1))
    assert sign_in(client, "editor", PASSWORD, "203.0.113.9").status_code == 302


def test_four_wrong_passwords_then_the_right_one_signs_in(client, editor):
    for _attempt in range(4):
        sign_in(client, "editor", "wrong", "203.0.113.10")
    assert sign_in(client, "editor", PASSWORD, "203.0.113.10").status_code == 302
