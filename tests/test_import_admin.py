"""The admin's CSV import and records staff changed since their import: the preview shows the skipped rows,
a publisher may tick "Overwrite records edited in the admin", an editor may not."""

import csv
import io

import pytest
from django.urls import reverse

from recognition import roles
from recognition.importer import Action, import_resolutions
from recognition.models import Resolution
from tests.staff import make_user, signed_in
from tests.test_importer import GOOD, HEADER, csv_row, staff_edit

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
