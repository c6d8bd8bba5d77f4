"""The admin's CSV import and records staff changed since their import: the preview shows the skipped rows,
a publisher may tick "Overwrite records edited in the admin", an editor may not. A file of actions goes
through the same upload, preview and confirmation."""

import csv
import io

import pytest
from django.urls import reverse

from recognition import roles
from recognition.action_importer import import_actions
from recognition.importer import Action, import_resolutions
from recognition.models import Action as LegislativeAction
from recognition.models import Resolution
from tests.staff import make_user, signed_in
from tests.test_action_importer import HEADER as ACTIONS_HEADER
from tests.test_action_importer import STARTER_ACTIONS, data_version, starter_action_rows
from tests.test_importer import GOOD, HEADER, STARTER, csv_row, staff_edit, starter_lines

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:recognition_resolution_import")
OVERWRITE_LABEL = "Overwrite records edited in the admin"


@pytest.fixture
def publisher_client(django_user_model):
    return signed_in(make_user(django_user_model, "publisher", roles.PUBLISHERS))


@pytest.fixture
def editor_client(django_user_model):
    return signed_in(make_user(django_user_model, "editor", roles.EDITORS))


def csv_text(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client, text, **fields):
    file = io.BytesIO(text.encode("utf-8"))
    file.name = "records.csv"
    response = client.post(IMPORT, {"file": file, **fields})
    assert response.status_code == 200
    return response


def confirm(client, preview):
    return client.post(IMPORT, {"payload": preview.context["payload"]})


@pytest.fixture
def edited_record():
    """A record imported from a file, then corrected by staff: the file's row now differs from it."""
    import_resolutions(io.StringIO(csv_text([csv_row()])))
    return staff_edit(Resolution.objects.get(), summary="Corrected by staff.")


def test_the_preview_shows_the_skipped_row_and_the_confirmation_keeps_the_edit(
    publisher_client, edited_record
):
    preview = upload(publisher_client, csv_text([csv_row()]))

    report = preview.context["report"]
    assert [row.action for row in report.rows] == [Action.SKIPPED]
    html = preview.content.decode()
    assert "line 2: skipped, edited in the admin since import;" in html
    assert "1 skipped (edited in the admin since import)" in html
    confirm(publisher_client, preview)
    edited_record.refresh_from_db()
    assert edited_record.summary == "Corrected by staff."


def test_a_publisher_may_overwrite_and_publication_stays(publisher_client, edited_record):
    staff_edit(edited_record, published=False)
    assert OVERWRITE_LABEL in publisher_client.get(IMPORT).content.decode()

    preview = upload(publisher_client, csv_text([csv_row()]), overwrite="on")

    assert [(row.action, row.overwritten) for row in preview.context["report"].rows] == [
        (Action.UPDATED, True)
    ]
    assert 'id="import-overwritten"' in preview.content.decode()
    confirm(publisher_client, preview)
    edited_record.refresh_from_db()
    assert edited_record.summary == GOOD["summary"] and not edited_record.published


def test_an_editor_is_not_offered_overwrite_and_cannot_send_it(editor_client, edited_record):
    staff_edit(edited_record, published=False)  # a draft, which an editor may otherwise change
    assert OVERWRITE_LABEL not in editor_client.get(IMPORT).content.decode()

    preview = upload(editor_client, csv_text([csv_row()]), overwrite="on")

    assert [row.action for row in preview.context["report"].rows] == [Action.SKIPPED]
    confirm(editor_client, preview)
    edited_record.refresh_from_db()
    assert edited_record.summary == "Corrected by staff."


# --- A file of actions, through the same preview ---------------------------------------------------------


def actions_text(rows=None):
    """The shipped starter actions, or these rows under its header."""
    if rows is None:
        return STARTER_ACTIONS.read_text(encoding="utf-8")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ACTIONS_HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_an_actions_file_is_previewed_then_imported_for_the_person(publisher_client, starter_dataset):
    rows = starter_action_rows()
    before = (
        LegislativeAction.history.count(),
        data_version(),
        dict(Resolution.objects.values_list("pk", "stage")),
    )

    preview = upload(publisher_client, actions_text())

    assert (
        LegislativeAction.history.count(),
        data_version(),
        dict(Resolution.objects.values_list("pk", "stage")),
    ) == before
    assert LegislativeAction.objects.count() == 0
    html = preview.content.decode()
    assert "Nothing has been written yet." in html and "Confirm import" in html
    assert f"{len(rows)} actions: {len(rows)} created" in html
    assert "S. 725 (United States): Introduced → Passed the upper chamber" in html
    assert "<td>2025-09</td><td>upper</td><td>passage</td>" in html

    response = confirm(publisher_client, preview)

    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:recognition_resolution_changelist"
    )
    assert LegislativeAction.objects.count() == len(rows)
    assert Resolution.objects.get(identifier="S. 725").stage == "passed_upper"
    publisher = preview.wsgi_request.user
    assert set(LegislativeAction.history.values_list("history_user", flat=True)) == {publisher.pk}
    followed = publisher_client.get(response["Location"])
    assert f"Imported records.csv. {len(rows)} actions: {len(rows)} created" in (followed.content.decode())


def test_an_actions_file_with_bad_lines_names_them_and_offers_no_confirmation(
    publisher_client, starter_dataset
):
    rows = starter_action_rows()
    rows[0]["date"] = "2019-02-30"
    rows[3]["identifier"] = "H.R. 9999"

    preview = upload(publisher_client, actions_text(rows))

    html = preview.content.decode()
    assert "<td>2</td><td>date</td>" in html and "<td>5</td><td>identifier</td>" in html
    assert "February 2019 has 28 days" in html and "no measure “H.R. 9999” of the United States" in html
    assert "Confirm import" not in html and 'name="payload"' not in html
    assert LegislativeAction.objects.count() == 0


def test_an_editor_adds_actions_to_drafts_only(editor_client, starter_dataset):
    preview = upload(editor_client, actions_text())
    assert "only a publisher can add or change its actions" in preview.content.decode()
    assert 'name="payload"' not in preview.content.decode()

    Resolution.objects.filter(identifier="S. 725").update(published=False)
    senate_bill = next(row for row in starter_action_rows() if row["identifier"] == "S. 725")
    passage = senate_bill | {
        "date": "2025-12-02",
        "chamber": "lower",
        "classification": "passage",
        "description": "Passed the House",
    }
    preview = upload(editor_client, actions_text([passage]))
    html = preview.content.decode()
    assert "As an editor, you can add and change the actions of drafts only." in html
    assert "S. 725 (United States): Introduced → Passed the lower chamber" in html

    confirm(editor_client, preview)
    action = LegislativeAction.objects.get()
    assert (action.resolution.identifier, action.history.get().history_user.username) == ("S. 725", "editor")


def test_a_contradicting_status_is_an_error_in_the_preview_not_a_server_error(publisher_client):
    assert import_resolutions(STARTER).ok and import_actions(STARTER_ACTIONS).ok
    line, row = next((line, row) for line, row in starter_lines() if row["identifier"] == "H.R. 6319")
    row["status"] = "introduced"

    preview = upload(publisher_client, csv_text([row]))

    assert [(error.line, error.column) for error in preview.context["report"].errors] == [(2, "status")]
    html = preview.content.decode()
    assert "<td>2</td><td>status</td>" in html and "says it was failed" in html
    assert Resolution.objects.get(identifier="H.R. 6319").status == "failed"
