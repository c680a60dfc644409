"""Handouts: upload checked by content, served only to the cohort through an authorised route."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from portal.cohorts.handouts import HandoutError, check_file
from portal.demo import minimal_pdf
from portal.extensions import db
from portal.models import Handout, Role
from tests.conftest import text_of

PDF = minimal_pdf(["Week notes"])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def _office(part: str, extra: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
        for name in extra:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.pdf", PDF),
        ("slide.png", PNG),
        ("doc.docx", _office("word/document.xml")),
        ("deck.pptx", _office("ppt/presentation.xml")),
    ],
)
def test_real_files_are_accepted(name, data):
    assert check_file(name, data).extension == "." + name.rsplit(".", 1)[1]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.pdf", ELF, "not really a PDF"),
        ("notes.pdf", EXE, "not really a PDF"),
        ("photo.jpg", PNG, "not really a JPEG"),
        ("deck.pptx", _office("word/document.xml"), "not really a PowerPoint"),
        ("doc.docx", _office("word/document.xml", ("word/vbaProject.bin",)), "not really a Word"),
        ("tool.exe", EXE, "Upload a PDF"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_files_whose_content_does_not_match_are_refused(name, data, message):
    with pytest.raises(HandoutError, match=message):
        check_file(name, data)


def test_upload_and_download_through_the_authorised_route(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    mine, other = make_user(), make_user()
    cohort = make_cohort(facilitators=[fran], trainees=[mine])
    make_cohort(facilitators=[fran], trainees=[other])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/handouts",
        data={"week": "3", "title": "Equity checklist", "file": (io.BytesIO(PDF), "checklist.pdf"), "scope": "cohort"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context():
        handout = db.session.execute(db.select(Handout)).scalar_one()
        assert handout.week == 3 and handout.content_type == "application/pdf" and handout.cohort_id == cohort.id
        assert "static" not in app.config["UPLOAD_FOLDER"]
    auth.login_as(mine)
    assert "Equity checklist" in text_of(client.get("/dashboard/trainee"))
    download = client.get(f"/handouts/{handout.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "private" in download.headers["Cache-Control"]
    auth.login_as(other)
    assert client.get(f"/handouts/{handout.id}").status_code == 403
    assert app.test_client().get(f"/handouts/{handout.id}").status_code == 302


def test_a_renamed_executable_is_refused_and_nothing_is_saved(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/handouts",
        data={"week": "1", "title": "Totally a PDF", "file": (io.BytesIO(ELF), "handout.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "This file is not really a PDF file" in text_of(response)
    with app.app_context():
        assert db.session.execute(db.select(Handout)).first() is None


def test_more_than_twenty_megabytes_is_refused(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    big = PDF + b"0" * (21 * 1024 * 1024)
    response = client.post(
        f"/cohorts/{cohort.id}/handouts",
        data={"week": "1", "title": "Huge", "file": (io.BytesIO(big), "huge.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    # The form comes back, the message next to the file field, the summary autofocused.
    assert f'action="/cohorts/{cohort.id}/handouts"' in html
    assert re.search(r'id="file-error" class="error-text">That file is larger than 20 MB', html)
    assert 'aria-describedby="file-error"' in html and "error-summary" in html


def test_a_link_handout_and_a_programme_handout(app, client, auth, make_user, make_cohort):
    admin = make_user(roles=[Role.ADMIN])
    fran = make_user(roles=[Role.FACILITATOR])
    a, b = make_user(), make_user()
    first = make_cohort(facilitators=[fran], trainees=[a])
    second = make_cohort(facilitators=[fran], trainees=[b])
    auth.login_as(fran)
    refused = client.post(
        f"/cohorts/{first.id}/handouts",
        data={"week": "4", "title": "Everyone", "link_url": "https://example.org/x", "scope": "programme"},
    )
    assert refused.status_code == 403  # only admins add programme handouts
    both = client.post(
        f"/cohorts/{first.id}/handouts",
        data={"week": "4", "title": "Both", "link_url": "https://example.org/x", "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert both.status_code == 422 and "one of the two" in text_of(both)
    auth.login_as(admin)
    response = client.post(
        f"/cohorts/{first.id}/handouts",
        data={
            "week": "4",
            "title": "Privacy statement guide",
            "link_url": "https://example.org/privacy",
            "scope": "programme",
        },
    )
    assert response.status_code == 303
    auth.login_as(b)
    assert "Privacy statement guide" in text_of(client.get(f"/cohorts/{second.id}"))
    with app.app_context():
        handout_id = db.session.execute(db.select(Handout.id)).scalar_one()
    link = client.get(f"/handouts/{handout_id}")
    assert link.status_code == 302 and link.headers["Location"] == "https://example.org/privacy"


def test_removing_a_handout_hides_it(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    trainee = make_user()
    cohort = make_cohort(facilitators=[fran], trainees=[trainee])
    auth.login_as(fran)
    client.post(
        f"/cohorts/{cohort.id}/handouts", data={"week": "2", "title": "Old notes", "link_url": "https://example.org/o"}
    )
    with app.app_context():
        handout_id = db.session.execute(db.select(Handout.id)).scalar_one()
    # It asks first, and changes nothing until confirmed.
    asked = client.post(f"/handouts/{handout_id}/remove", data={"cohort_id": cohort.id})
    assert asked.status_code == 200 and "Remove “Old notes”?" in text_of(asked)
    assert 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Handout, handout_id).removed_at is None
    done = client.post(f"/handouts/{handout_id}/remove", data={"cohort_id": cohort.id, "confirm": "yes"})
    assert done.status_code == 303
    session_id = cohort.session_ids[1]
    assert done.headers["Location"].endswith(f"/cohorts/{cohort.id}#session-{session_id}-message")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert re.search(
        rf'id="session-{session_id}-message"[^>]*>\s*<p class="flash flash-success" role="status">“Old notes” removed',
        html,
    )
    auth.login_as(trainee)
    assert "Old notes" not in text_of(client.get(f"/cohorts/{cohort.id}"))
    assert client.get(f"/handouts/{handout_id}").status_code == 403
    with app.app_context():
        assert db.session.get(Handout, handout_id).removed_at is not None  # kept, not deleted
