"""Certification over HTTP and through its plain modules: what's left, issuing (automatic and
approved), the certificate page and PDF, revoke and reissue, verification, the rate limit,
the settings, the celebration page."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from portal.certification import certificates, evidence
from portal.certification.demo import record_requirements
from portal.extensions import db, limiter
from portal.models import AuditEvent, Certificate, CertificationSettings, Cohort, Role, User
from tests.conftest import text_of


class Programme:
    """A cohort whose six weeks are over, its facilitator, a supervisor, an admin, and trainees."""

    def __init__(self, app, make_user, make_cohort, n=3, key="cert", approval=False):
        self.app = app
        self.fran = make_user(f"fran.{key}@example.org", roles=[Role.FACILITATOR], name="Fran Facil")
        self.sue = make_user(f"sue.{key}@example.org", roles=[Role.SUPERVISOR], name="Sue Super")
        self.ada = make_user(f"ada.{key}@example.org", roles=[Role.ADMIN], name="Ada Admin")
        self.trainees = [make_user(f"t{i}.{key}@example.org", name=f"Trainee {i}") for i in range(n)]
        self.cohort = make_cohort(facilitators=[self.fran], trainees=self.trainees,
                                  first_day=date.today() - timedelta(weeks=7), name=f"Cohort {key}")
        with app.app_context():
            from portal.cohorts import roster

            admin = db.session.get(User, self.ada.id)
            for t in self.trainees:
                roster.set_supervisor(db.session.get(User, t.id), db.session.get(User, self.sue.id), admin)
            if approval:
                db.session.add(CertificationSettings(cohort_id=self.cohort.id, needs_approval=True,
                                                     required_competencies=list(range(1, 9))))
            db.session.commit()

    def complete(self, trainee, **kwargs):
        with self.app.app_context():
            record_requirements(db.session.get(User, trainee.id), db.session.get(Cohort, self.cohort.id),
                                db.session.get(User, self.fran.id), db.session.get(User, self.sue.id), **kwargs)
            db.session.commit()

    def certificate_of(self, trainee):
        with self.app.app_context():
            cert = certificates.current_certificate(trainee.id, self.cohort.id)
            if cert is not None:
                db.session.expunge(cert)
            return cert


@pytest.fixture
def programme(app, make_user, make_cohort):
    return Programme(app, make_user, make_cohort)


def audit_actions(app, action):
    with app.app_context():
        return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars())


# --- what's left, from the other areas' records ---------------------------------------------------


@pytest.mark.parametrize("left_out", ["attendance", "oral_exam", "written_test", "competencies"])
def test_each_requirement_missing_alone_from_the_real_records(app, programme, left_out):
    trainee = programme.trainees[0]
    programme.complete(trainee, skip=(left_out,))
    with app.app_context():
        verdict = evidence.verdict_for(trainee.id, programme.cohort.id)
        assert [item.key for item in verdict.missing] == [left_out]
    programme.complete(programme.trainees[1])
    with app.app_context():
        assert evidence.verdict_for(programme.trainees[1].id, programme.cohort.id).certified


def test_a_failed_written_test_and_a_missed_week_read_from_the_records(app, programme):
    trainee = programme.trainees[0]
    programme.complete(trainee, weeks=(1, 2, 3, 5, 6), score=30)
    with app.app_context():
        reasons = {i.key: i.reasons for i in evidence.verdict_for(trainee.id, programme.cohort.id).missing}
    assert reasons == {
        "attendance": ("Week 4 not attended: ask for a make-up.",),
        "written_test": ("Written test: best score 75 %, 1 attempt left.",),
    }
    # An extra attempt granted to this trainee counts; one granted to someone else does not.
    from portal.models import AttemptGrant, Offering

    with app.app_context():
        offering = db.session.execute(db.select(Offering).where(Offering.cohort_id == programme.cohort.id)).scalar_one()
        db.session.add(AttemptGrant(offering_id=offering.id, user_id=trainee.id, granted_by_id=programme.fran.id))
        db.session.add(AttemptGrant(offering_id=offering.id, user_id=programme.trainees[1].id,
                                    granted_by_id=programme.fran.id))
        db.session.commit()
        reasons = {i.key: i.reasons for i in evidence.verdict_for(trainee.id, programme.cohort.id).missing}
        assert reasons["written_test"] == ("Written test: best score 75 %, 2 attempts left.",)
        assert "Written test not taken yet: 3 attempts left." in [
            r for i in evidence.verdict_for(programme.trainees[1].id, programme.cohort.id).missing for r in i.reasons
        ]


def test_weeks_still_ahead_read_as_coming_up(app, programme, make_user, make_cohort):
    trainee = make_user("t.ahead@example.org")
    cohort = make_cohort(facilitators=[programme.fran], trainees=[trainee], first_day=date.today() - timedelta(days=10),
                         name="Under way")
    with app.app_context():
        [item] = [i for i in evidence.verdict_for(trainee.id, cohort.id).missing if i.key == "attendance"]
    assert [r.split(":")[0] for r in item.reasons[:3]] == ["Week 1 not attended", "Week 2 not attended", "Week 3"]
    assert item.reasons[2].startswith("Week 3: coming up on ") and item.reasons[5].startswith("Week 6: coming up on ")


def test_a_make_up_in_another_cohort_covers_the_week(app, programme, make_cohort):
    from portal.models import Attendance, CohortSession, MakeupRequest

    trainee = programme.trainees[0]
    programme.complete(trainee, weeks=(1, 2, 3, 5, 6))
    other = make_cohort(facilitators=[programme.fran], first_day=date.today() - timedelta(weeks=6), name="Host")
    with app.app_context():
        own = db.session.execute(db.select(CohortSession).where(
            CohortSession.cohort_id == programme.cohort.id, CohortSession.week == 4)).scalar_one()
        host = db.session.execute(db.select(CohortSession).where(
            CohortSession.cohort_id == other.id, CohortSession.week == 4)).scalar_one()
        db.session.add(MakeupRequest(user_id=trainee.id, own_session_id=own.id, host_session_id=host.id,
                                     status="accepted"))
        db.session.add(Attendance(session_id=host.id, user_id=trainee.id, status="present", minutes=120,
                                  source="roll"))
        db.session.commit()
        assert evidence.verdict_for(trainee.id, programme.cohort.id).certified


def test_the_trainee_sees_whats_left_with_links_on_dashboard_and_progress(app, client, auth, programme):
    trainee = programme.trainees[0]
    programme.complete(trainee, skip=("oral_exam",), competencies=(1, 2, 3, 4, 5, 6, 8))
    auth.login_as(trainee)
    for url in ("/dashboard/trainee", f"/dashboard/trainees/{trainee.id}", "/certification"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text_of(response)
        assert "Group oral exam not taken yet" in page, url
        assert "Competency 7 waiting for your supervisor's confirmation." in page, url
        assert 'href="/my-assessment"' in response.get_data(as_text=True), url


def test_facilitators_and_supervisors_see_whats_left_per_trainee(app, client, auth, programme):
    programme.complete(programme.trainees[0], skip=("written_test",))
    auth.login_as(programme.fran)
    page = client.get(f"/cohorts/{programme.cohort.id}/certification")
    assert page.status_code == 200
    assert "Trainee 0" in text_of(page) and "Written test not taken yet" in text_of(page)
    auth.login_as(programme.sue)
    progress = client.get(f"/dashboard/trainees/{programme.trainees[0].id}")
    assert progress.status_code == 200 and "Written test not taken yet" in text_of(progress)


# --- issuing ----------------------------------------------------------------------------------------


def test_automatic_issue_when_everything_is_met(app, programme, outbox):
    programme.complete(programme.trainees[0])
    programme.complete(programme.trainees[1], skip=("oral_exam",))
    with app.app_context():
        assert certificates.issue_due() == 1
        assert certificates.issue_due() == 0  # once
    cert = programme.certificate_of(programme.trainees[0])
    assert cert is not None and cert.holder_name == "Trainee 0" and cert.issued_by_id is None
    assert programme.certificate_of(programme.trainees[1]) is None
    assert len(audit_actions(app, "certificate.issued")) == 1
    assert re.fullmatch(r"[ACDEFGHJKMNPQRTWXY34679]{20}", cert.code)
    with app.app_context():
        from portal.models import OutboxMail

        [mail] = db.session.execute(db.select(OutboxMail).where(OutboxMail.to_address == programme.trainees[0].email)).scalars()
        assert certificates.display_code(cert.code) in mail.body and f"/certificates/{cert.id}" in mail.body


def test_approved_issue_needs_a_facilitator(app, client, auth, make_user, make_cohort):
    p = Programme(app, make_user, make_cohort, key="appr", approval=True)
    trainee = p.trainees[0]
    p.complete(trainee)
    with app.app_context():
        assert certificates.issue_due() == 0, "this cohort waits for approval"
    url = f"/cohorts/{p.cohort.id}/certification/{trainee.id}/approve"
    for who in (trainee, p.sue):
        auth.login_as(who)
        assert client.post(url).status_code == 403
    assert p.certificate_of(trainee) is None
    auth.login_as(p.fran)
    page = client.get(f"/cohorts/{p.cohort.id}/certification")
    assert f'action="{url}"' in page.get_data(as_text=True)
    assert client.post(url).status_code == 303
    cert = p.certificate_of(trainee)
    assert cert is not None and cert.issued_by_id == p.fran.id
    assert [e.actor_id for e in audit_actions(app, "certificate.approved")] == [p.fran.id]
    # Not twice, and never for someone who does not meet the rule.
    client.post(url)
    p.complete(p.trainees[1], skip=("competencies",))
    client.post(f"/cohorts/{p.cohort.id}/certification/{p.trainees[1].id}/approve")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar_one() == 1


def test_the_supervisor_can_no_longer_change_answers_once_certified(app, programme):
    from portal.assessment import competencies

    programme.complete(programme.trainees[0])
    with app.app_context():
        assert not competencies.certificate_issued(programme.trainees[0].id)
        certificates.issue_due()
        assert competencies.certificate_issued(programme.trainees[0].id)


def test_the_name_chosen_for_the_certificate(app, client, auth, programme):
    trainee = programme.trainees[0]
    auth.login_as(trainee)
    response = client.post(f"/certification/{programme.cohort.id}/choices",
                           data={"certificate_name": "Trinity Zero-Ñúñez", "celebrate": "y", "message": "Thanks!"})
    assert response.status_code == 303
    programme.complete(trainee)
    with app.app_context():
        certificates.issue_due()
    assert programme.certificate_of(trainee).holder_name == "Trinity Zero-Ñúñez"
    # Another cohort's choices are not theirs to set.
    other = programme.trainees[1]
    auth.login_as(other)
    assert client.post(f"/certification/{programme.cohort.id + 999}/choices", data={}).status_code == 404


# --- the certificate, its PDF, revoke and reissue ---------------------------------------------------


@pytest.fixture
def certified(app, programme):
    programme.complete(programme.trainees[0])
    with app.app_context():
        certificates.issue_due()
    return programme, programme.certificate_of(programme.trainees[0])


def test_the_certificate_page_and_the_pdf(app, client, auth, certified):
    from pypdf import PdfReader

    programme, cert = certified
    auth.login_as(programme.trainees[0])
    page = client.get(f"/certificates/{cert.id}")
    assert page.status_code == 200
    text = text_of(page)
    shown = certificates.display_code(cert.code)
    assert "Trainee 0" in text and shown in text and programme.cohort.name in text
    assert f"/verify/{cert.code}" in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    response = client.get(f"/certificates/{cert.id}/certificate.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    extracted = " ".join(p.extract_text() for p in reader.pages)
    assert shown in extracted and "Trainee 0" in extracted and programme.cohort.name in extracted
    assert f"http://localhost/verify/{cert.code}" in extracted
    # One issue date, the same on the page, the PDF and the verification page, whatever the
    # reader's time zone (issued at 02:05 UTC: still the day before in New York).
    from datetime import UTC, datetime

    with app.app_context():
        db.session.get(Certificate, cert.id).issued_at = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)
        db.session.get(User, programme.trainees[0].id).time_zone = "America/New_York"
        db.session.commit()
    auth.login_as(programme.trainees[0])
    page_text = text_of(client.get(f"/certificates/{cert.id}"))
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/certificates/{cert.id}/certificate.pdf").data)).pages)
    for shown_text in (page_text, pdf_text, text_of(client.get(f"/verify/{cert.code}"))):
        assert "Issued on 22 November 2026" in shown_text and "21 November" not in shown_text
    images = reader.pages[0].images
    assert len(images) == 1, "the QR code"
    # Someone else's certificate: refused.
    auth.login_as(programme.trainees[1])
    assert client.get(f"/certificates/{cert.id}").status_code == 403
    assert client.get(f"/certificates/{cert.id}/certificate.pdf").status_code == 403


def test_revoke_and_reissue_keep_history_and_are_audited(app, client, auth, certified, outbox):
    programme, cert = certified
    auth.login_as(programme.trainees[0])
    assert client.post(f"/certificates/{cert.id}/reissue",
                       data={"reissue-holder_name": "Me", "reissue-reason": "x"}).status_code == 403
    auth.login_as(programme.ada)
    missing_reason = client.post(f"/certificates/{cert.id}/revoke", data={"revoke-reason": ""})
    assert missing_reason.status_code == 422 and "Give the reason for revoking." in text_of(missing_reason)
    response = client.post(f"/certificates/{cert.id}/reissue",
                           data={"reissue-holder_name": "Tina Zero", "reissue-reason": "Name change"})
    assert response.status_code == 303
    new = programme.certificate_of(programme.trainees[0])
    assert new.id != cert.id and new.code != cert.code and new.holder_name == "Tina Zero"
    with app.app_context():
        old = db.session.get(Certificate, cert.id)
        assert old.status == "replaced" and old.replaced_by_id == new.id and new.replaces_id == old.id
    assert client.get(f"/verify/{cert.code}").status_code == 200
    assert "Replaced certificate" in text_of(client.get(f"/verify/{cert.code}"))
    assert "Valid certificate" in text_of(client.get(f"/verify/{new.code}"))
    assert client.post(f"/certificates/{new.id}/revoke", data={"revoke-reason": "Issued in error"}).status_code == 303
    revoked = text_of(client.get(f"/verify/{new.code}"))
    assert "Revoked certificate" in revoked and "revoked on" in revoked
    with app.app_context():
        assert db.session.get(Certificate, new.id).revoked_reason == "Issued in error"
    assert len(audit_actions(app, "certificate.reissued")) == 1
    assert len(audit_actions(app, "certificate.revoked")) == 1
    # The holder is told each time, with the new code (reissue) or the reason (revocation).
    told = [m for m in outbox if m["To"] == programme.trainees[0].email]
    assert [m["Subject"] for m in told][-2:] == ["Your certificate has been reissued", "Your certificate has been revoked"]
    assert certificates.display_code(new.code) in told[-2].get_content() and "Issued in error" in told[-1].get_content()
    # The audit log says it in sentences, under its own kind of change.
    log = text_of(client.get("/admin/audit", query_string={"kind": "certification"}))
    assert "revoked the certificate of Trainee 0 in " + programme.cohort.name + " (reason: Issued in error)" in log
    assert "reissued the certificate of Trainee 0" in log and "The portal issued the certificate of Trainee 0" in log
    # Revoked stays revoked: the job does not issue a fresh one, and no one is offered to approve it.
    with app.app_context():
        assert certificates.issue_due() == 0
        assert certificates.ready_for_approval(programme.cohort.id) == []
    assert programme.certificate_of(programme.trainees[0]) is None
    assert "Revoked certificate" in text_of(client.get(f"/verify/{new.code}"))


# --- verification -----------------------------------------------------------------------------------


def test_verification_shows_the_certificate_fields_and_nothing_else(app, client, certified):
    programme, cert = certified
    trainee = programme.trainees[0]
    response = client.get(f"/verify/{cert.code}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Valid certificate" in page
    for value in ("Trainee 0", programme.cohort.name, certificates.PROGRAMME, certificates.display_code(cert.code)):
        assert value in page
    html = response.get_data(as_text=True)
    assert trainee.email not in html and "@" not in page.replace("@example.org", "")
    assert "Written test" not in page and "Competenc" not in page and "Sue Super" not in page
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]


def test_codes_are_normalised(app, client, certified):
    _, cert = certified
    messy = " ".join(cert.code[i:i + 4].lower() for i in range(0, 20, 4)).replace(" ", " - ", 1)
    form = client.get("/verify", query_string={"code": messy})
    assert form.status_code == 303 and form.headers["Location"].endswith(f"/verify/{cert.code}")
    assert "Valid certificate" in text_of(client.get(f"/verify/{cert.code.lower()}"))
    dashed = certificates.display_code(cert.code)
    assert "Valid certificate" in text_of(client.get(f"/verify/{dashed}"))


def test_unknown_codes(app, client, certified):
    _, cert = certified
    wrong = ("A" if cert.code[0] != "A" else "C") + cert.code[1:]
    for code in (wrong, "nothing", "x" * 64):
        response = client.get(f"/verify/{code}")
        assert response.status_code == 200 and "Unknown code" in text_of(response)


def test_known_and_unknown_codes_take_about_as_long(app, client, certified):
    import time

    _, cert = certified

    def took(code):
        start = time.perf_counter()
        client.get(f"/verify/{code}")
        return time.perf_counter() - start

    known = min(took(cert.code) for _ in range(3))
    unknown = min(took("C" * 20) for _ in range(3))
    assert abs(known - unknown) < 0.1
    assert known >= 0.15 and unknown >= 0.15


def test_verification_is_rate_limited_per_address(app, client):
    with app.app_context():
        limiter.reset()
    statuses = [client.get(f"/verify/{'C' * 19}{n % 10}").status_code for n in range(5)]
    assert statuses == [200] * 5, "a person checking a few codes never notices"
    app.config["VERIFY_LIMIT_PER_ADDRESS"] = "10 per 10 minutes"
    try:
        statuses = [client.get(f"/verify/{'D' * 20}").status_code for _ in range(12)]
        assert 429 in statuses
        other = app.test_client()
        ok = other.get("/verify/CCCCCCCCCCCCCCCCCCCC", environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
        assert ok.status_code == 200, "per address"
    finally:
        app.config.pop("VERIFY_LIMIT_PER_ADDRESS")
        with app.app_context():
            limiter.reset()


# --- settings and celebration -------------------------------------------------------------------------


def test_admin_changes_the_rule_for_a_cohort_not_completed(app, client, auth, make_user, make_cohort):
    fran = make_user("fran.set@example.org", roles=[Role.FACILITATOR])
    ada = make_user("ada.set@example.org", roles=[Role.ADMIN])
    cohort = make_cohort(facilitators=[fran], first_day=date.today() + timedelta(weeks=2), name="Later")
    url = f"/cohorts/{cohort.id}/certification/settings"
    auth.login_as(fran)
    assert client.get(url).status_code == 403
    auth.login_as(ada)
    assert client.get(url).status_code == 200
    body = {"min_weeks": "5", "min_hours": "0", "required": [str(n) for n in range(1, 8)], "pass_percent": "75",
            "needs_approval": "y"}
    assert client.post(url, data=body).status_code == 303
    with app.app_context():
        settings = evidence.settings_for(cohort.id)
    assert settings.min_weeks == 5 and settings.pass_percent == 75 and settings.needs_approval
    assert settings.required_competencies == frozenset(range(1, 8))
    [event] = audit_actions(app, "certification.settings_changed")
    assert event.details["changes"]["pass_percent"] == [80, 75]
    bad = client.post(url, data={**body, "pass_percent": "120"})
    assert bad.status_code == 422


def test_a_completed_cohorts_rule_no_longer_changes(app, client, auth, programme):
    auth.login_as(programme.ada)
    url = f"/cohorts/{programme.cohort.id}/certification/settings"
    client.post(url, data={"min_weeks": "1", "min_hours": "0", "required": ["1"], "pass_percent": "10"})
    with app.app_context():
        assert evidence.settings_for(programme.cohort.id).min_weeks == 6
    assert not audit_actions(app, "certification.settings_changed")


def test_celebration_lists_only_graduates_who_opted_in(app, client, auth, programme):
    a, b, c = programme.trainees
    for t in (a, b):
        programme.complete(t)
    with app.app_context():
        certificates.issue_due()
    auth.login_as(a)
    client.post(f"/certification/{programme.cohort.id}/choices", data={"celebrate": "y", "message": "We did it"})
    auth.login_as(c)  # opted in but not certified
    client.post(f"/certification/{programme.cohort.id}/choices", data={"celebrate": "y"})
    page = text_of(client.get(f"/cohorts/{programme.cohort.id}/celebration"))
    assert "Trainee 0" in page and "We did it" in page
    assert "Trainee 1" not in page and "Trainee 2" not in page
    auth.login_as(a)
    client.post(f"/certification/{programme.cohort.id}/choices", data={})
    assert "Trainee 0" not in text_of(client.get(f"/cohorts/{programme.cohort.id}/celebration"))


def test_admin_forms_need_the_csrf_token(app, client, auth, certified):
    programme, cert = certified
    auth.login_as(programme.ada)
    response = client.post(f"/certificates/{cert.id}/revoke", data={"revoke-reason": "No token"}, csrf=False)
    assert response.status_code == 400
    assert programme.certificate_of(programme.trainees[0]).id == cert.id


def test_nothing_is_issued_before_week_6_starts(app, make_user, make_cohort):
    fran = make_user("fran.early@example.org", roles=[Role.FACILITATOR])
    trainee = make_user("t.early@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[trainee], first_day=date.today() + timedelta(weeks=1))
    with app.app_context():
        record_requirements(db.session.get(User, trainee.id), db.session.get(Cohort, cohort.id),
                            db.session.get(User, fran.id))
        db.session.commit()
        assert evidence.verdict_for(trainee.id, cohort.id).certified  # the records alone would do
        assert certificates.issue_due() == 0


def test_the_demo_autumn_cohort(app, runner):
    from portal.models import CohortStatus, utcnow

    assert runner.invoke(args=["seed-demo", "--password", "demo password long"]).exit_code == 0
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Autumn Cohort 2026")).scalar_one()
        assert cohort.current_status(utcnow()) == CohortStatus.COMPLETED
        assert [f.email for f in cohort.facilitators] == ["facilitator1@example.org"]
        by_email = {}
        for n in range(1, 7):
            user = db.session.execute(db.select(User).where(User.email == f"graduate{n:02d}@example.org")).scalar_one()
            by_email[n] = (user, certificates.current_certificate(user.id, cohort.id))
        assert all(by_email[n][1] is not None for n in range(1, 6))
        assert by_email[6][1] is None
        missing = evidence.verdict_for(by_email[6][0].id, cohort.id).missing
        assert [(i.key, i.reasons) for i in missing] == [
            ("competencies", ("Competency 7 waiting for your supervisor's confirmation.",))]
        second = by_email[2][1]
        assert second.replaces_id is not None and second.holder_name == "Gabriela Graduate"
        assert db.session.get(Certificate, second.replaces_id).status == "replaced"
        assert certificates.celebrants(cohort.id)


def test_anyone_finds_the_verification_page_from_the_front_door(client):
    for path in ("/", "/login"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert 'href="/verify">Check a certificate</a>' in html, path


def test_the_oral_exam_a_certificate_was_issued_on_cannot_be_unlocked(app, client, auth, certified):
    """Like the competencies: once the certificate is issued, its oral exam result stays (a
    walkthrough found a certified graduate shown 'Certified' beside 'oral exam missing')."""
    from portal.models import OralExamResult

    programme, cert = certified
    trainee = programme.trainees[0]
    with app.app_context():
        result = db.session.execute(
            db.select(OralExamResult).where(OralExamResult.trainee_id == trainee.id)
        ).scalars().first()
        assert result is not None and result.finalised_at is not None
        exam_id, outcome = result.exam_id, result.outcome
    auth.login_as(programme.fran)
    refused = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/unlock", data={"reason": "Second thoughts"})
    assert refused.status_code in (303, 409, 422)
    with app.app_context():
        result = db.session.execute(
            db.select(OralExamResult).where(OralExamResult.trainee_id == trainee.id)
        ).scalars().first()
        assert result.finalised_at is not None and result.outcome == outcome
    page = client.get(refused.headers["Location"]) if refused.status_code == 303 else refused
    assert "The certificate has been issued on this result" in text_of(page)
