"""The oral exam checklist and the competencies: the plain rules directly, then over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.assessment import checklists, competencies, oral_exam
from portal.extensions import db
from portal.models import (
    AuditEvent,
    ChecklistVersion,
    CohortSession,
    CompetencyDecision,
    CompetencyRecord,
    OralExam,
    OralExamResult,
    Role,
    User,
    utcnow,
)
from tests.conftest import text_of

# --- the rule, directly --------------------------------------------------------------------------


def test_passing_needs_every_required_item_met():
    items = [(1, True), (2, True), (3, False)]
    assert oral_exam.passes(items, {1: "met", 2: "met"})
    assert oral_exam.passes(items, {1: "met", 2: "met", 3: "not_yet"})
    assert not oral_exam.passes(items, {1: "met", 2: "not_yet", 3: "met"})
    assert not oral_exam.passes(items, {1: "met", 3: "met"})  # not observed is not met
    assert not oral_exam.passes([], {})


def test_the_default_checklist_covers_every_competency():
    assert len(checklists.DEFAULT_ITEMS) >= 12
    assert {i.competency for i in checklists.DEFAULT_ITEMS} == set(range(1, 11))
    assert all(i.required for i in checklists.DEFAULT_ITEMS if i.competency in (1, 2, 3, 5, 6, 7, 8))


# --- a programme to examine ----------------------------------------------------------------------


class Exam:
    """A cohort whose week 6 is under way, its facilitators, trainees and supervisor, and the
    default checklist."""

    def __init__(self, app, make_user, make_cohort, n=3, name="Exam Cohort", week6_started=True):
        self.app = app
        key = name.lower().replace(" ", "")
        self.fran = make_user(f"fran.{key}@example.org", roles=[Role.FACILITATOR], name="Fran Facil")
        self.gus = make_user(f"gus.{key}@example.org", roles=[Role.FACILITATOR], name="Gus Facil")
        self.sue = make_user(f"sue.{key}@example.org", roles=[Role.SUPERVISOR], name="Sue Super")
        self.trainees = [make_user(f"t{n_}.{key}@example.org", name=f"Trainee {n_:03d}") for n_ in range(n)]
        first = date.today() - timedelta(weeks=5) if week6_started else date(2027, 3, 1)
        self.cohort = make_cohort(
            facilitators=[self.fran, self.gus],
            trainees=self.trainees,
            first_day=first,
            start=time(0, 1),
            zone="UTC",
            capacity=max(n, 2),
            name=name,
            supervisor=self.sue,
        )
        with app.app_context():
            self.template_id = checklists.ensure_default().id
            db.session.commit()
        self.week6 = self.cohort.session_ids[5]

    def open(self, by=None) -> int:
        with self.app.app_context():
            exam = oral_exam.open_exam(
                db.session.get(CohortSession, self.week6), self.template_id, db.session.get(User, (by or self.fran).id)
            )
            db.session.commit()
            return exam.id

    def items(self, exam_id):
        with self.app.app_context():
            return [(i.id, i.required) for i in oral_exam.items_of(db.session.get(OralExam, exam_id))]


@pytest.fixture
def exam(app, make_user, make_cohort):
    return Exam(app, make_user, make_cohort)


def _mark_all(client, exam_id, trainee_id, items, value="met", skip=()):
    for item_id, _ in items:
        if item_id in skip:
            continue
        response = client.post(
            f"/oral-exams/{exam_id}/trainees/{trainee_id}/items/{item_id}", data={"mark": f"{value}:0"}
        )
        assert response.status_code == 303, response.status_code


def _result(app, exam_id, trainee_id):
    with app.app_context():
        row = db.session.execute(
            db.select(OralExamResult).where(OralExamResult.exam_id == exam_id, OralExamResult.trainee_id == trainee_id)
        ).scalar_one_or_none()
        if row is not None:
            db.session.expunge(row)
        return row


def test_a_facilitator_opens_the_exam_in_week_six_only(app, client, auth, exam):
    auth.login_as(exam.fran)
    page = client.get(f"/cohorts/{exam.cohort.id}/assessment")
    assert page.status_code == 200 and "Open the oral exam" in text_of(page)
    week1 = exam.cohort.session_ids[0]
    refused = client.post(f"/sessions/{week1}/oral-exams", data={"template_id": exam.template_id})
    assert refused.status_code == 422 and "week 6" in text_of(refused)
    opened = client.post(f"/sessions/{exam.week6}/oral-exams", data={"template_id": exam.template_id})
    assert opened.status_code == 303
    with app.app_context():
        exam_row = db.session.execute(db.select(OralExam)).scalar_one()
        assert opened.headers["Location"].endswith(f"/oral-exams/{exam_row.id}#grid-message")
    grid = client.get(opened.headers["Location"])
    assert grid.status_code == 200
    assert all(t.name in text_of(grid) for t in exam.trainees)


def test_finalising_passes_only_when_every_required_item_is_met_and_locks(app, client, auth, exam):
    exam_id = exam.open()
    items = exam.items(exam_id)
    optional = [i for i, required in items if not required]
    required = [i for i, r in items if r]
    first, second = exam.trainees[0], exam.trainees[1]
    auth.login_as(exam.fran)
    _mark_all(client, exam_id, first.id, items, skip=optional)  # optional items not observed
    _mark_all(client, exam_id, second.id, items, skip=[required[-1]])  # one required item missing
    for t in (first, second):
        assert client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/finalise").status_code == 303
    r1, r2 = _result(app, exam_id, first.id), _result(app, exam_id, second.id)
    assert (r1.outcome, r2.outcome) == ("passed", "not_passed")
    assert r1.finalised_by_id == exam.fran.id and r1.finalised_at is not None
    with app.app_context():
        assert oral_exam.oral_exam_passed(first.id) and not oral_exam.oral_exam_passed(second.id)
    # Locked: a mark is refused, and the result stays.
    locked = client.post(
        f"/oral-exams/{exam_id}/trainees/{first.id}/items/{required[0]}",
        data={"mark": "not_yet:1"},
        headers={"HX-Request": "true"},
    )
    assert locked.status_code == 409 and "finalised" in text_of(locked)
    assert _result(app, exam_id, first.id).outcome == "passed"
    again = client.post(f"/oral-exams/{exam_id}/trainees/{first.id}/finalise", follow_redirects=True)
    assert "already finalised" in text_of(again)


def test_unlocking_needs_a_reason_and_is_audited(app, client, auth, exam):
    exam_id = exam.open()
    items = exam.items(exam_id)
    t = exam.trainees[0]
    auth.login_as(exam.fran)
    _mark_all(client, exam_id, t.id, items)
    client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/finalise")
    auth.login_as(exam.gus)
    no_reason = client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/unlock", data={"reason": ""})
    assert no_reason.status_code == 422 and _result(app, exam_id, t.id).finalised_at is not None
    ok = client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/unlock", data={"reason": "Marked the wrong trainee"})
    assert ok.status_code == 303
    result = _result(app, exam_id, t.id)
    assert result.finalised_at is None and result.outcome is None
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "oral_exam.unlocked")).scalar_one()
        assert event.actor_id == exam.gus.id
        assert event.details["reason"] == "Marked the wrong trainee"
        assert event.details["was_outcome"] == "passed" and event.details["was_finalised_by_id"] == exam.fran.id
    # The marks can change again.
    changed = client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/items/{items[0][0]}", data={"mark": "not_yet:1"})
    assert changed.status_code == 303
    with app.app_context():
        assert oral_exam.marks_of(result.id)[items[0][0]] == "not_yet"


def test_a_stale_change_is_refused_with_the_current_mark_shown(app, client, auth, exam, hx):
    exam_id = exam.open()
    item_id = exam.items(exam_id)[0][0]
    t = exam.trainees[0]
    url = f"/oral-exams/{exam_id}/trainees/{t.id}/items/{item_id}"
    auth.login_as(exam.fran)
    first = client.post(url, data={"mark": "met:0"}, headers=hx)
    assert first.status_code == 200 and "Met" in text_of(first) and "Fran Facil" in text_of(first)
    assert 'value="not_yet:1"' in first.get_data(as_text=True)  # the next press names version 1
    auth.login_as(exam.gus)
    stale = client.post(url, data={"mark": "not_yet:0"}, headers=hx)  # Gus's page still showed "not observed"
    assert stale.status_code == 409
    body = text_of(stale)
    assert "Someone else changed this" in body and "Met" in body and "Fran Facil" in body
    with app.app_context():
        result = db.session.execute(db.select(OralExamResult)).scalar_one()
        assert oral_exam.marks_of(result.id) == {item_id: "met"}
    # On the current version, Gus's change goes through.
    assert client.post(url, data={"mark": "not_yet:1"}, headers=hx).status_code == 200
    with app.app_context():
        assert oral_exam.marks_of(result.id) == {item_id: "not_yet"}


def test_the_plain_form_per_trainee_saves_marks_and_refuses_stale_ones(app, client, auth, exam):
    exam_id = exam.open()
    (a, _), (b, _), *_ = exam.items(exam_id)
    t = exam.trainees[0]
    auth.login_as(exam.fran)
    page = client.get(f"/oral-exams/{exam_id}/trainees/{t.id}")
    assert page.status_code == 200 and f'name="m_{a}"' in page.get_data(as_text=True)
    saved = client.post(
        f"/oral-exams/{exam_id}/trainees/{t.id}",
        data={f"m_{a}": "met", f"o_{a}": "not_observed", f"v_{a}": "0", "note": "Calm and clear", "note_version": "0"},
    )
    assert saved.status_code == 303
    # A stale form (version 0 of a) changing both a and b: b is saved, a is refused and shown.
    stale = client.post(
        f"/oral-exams/{exam_id}/trainees/{t.id}",
        data={
            f"m_{a}": "not_yet",
            f"o_{a}": "not_observed",
            f"v_{a}": "0",
            f"m_{b}": "met",
            f"o_{b}": "not_observed",
            f"v_{b}": "0",
            "note": "Calm and clear",
            "note_version": "1",
        },
    )
    assert stale.status_code == 409 and "Changed by someone else" in text_of(stale)
    with app.app_context():
        result = db.session.execute(db.select(OralExamResult)).scalar_one()
        assert oral_exam.marks_of(result.id) == {a: "met", b: "met"}
        assert result.note == "Calm and clear"
    # A note typed over a colleague's newer note is refused, and kept in the box to save again.
    late = client.post(
        f"/oral-exams/{exam_id}/trainees/{t.id}", data={"note": "Spoke about boundaries", "note_version": "0"}
    )
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "Your text is still in the box" in text_of(late)
    assert "Spoke about boundaries</textarea>" in html and 'name="note_version" value="1"' in html
    assert "Note saved by a colleague meanwhile: Calm and clear" in text_of(late)
    again = client.post(
        f"/oral-exams/{exam_id}/trainees/{t.id}", data={"note": "Spoke about boundaries", "note_version": "1"}
    )
    assert again.status_code == 303 and _result(app, exam_id, t.id).note == "Spoke about boundaries"


def test_re_examination_in_another_cohorts_week_six_and_the_latest_result_counts(
    app, client, auth, exam, make_user, make_cohort
):
    exam_id = exam.open()
    items = exam.items(exam_id)
    t = exam.trainees[0]
    auth.login_as(exam.fran)
    with app.app_context():
        assert oral_exam.latest_outcome(t.id) is None  # not finalised yet
    client.post(f"/oral-exams/{exam_id}/trainees/{t.id}/finalise")  # nothing met: not passed
    assert _result(app, exam_id, t.id).outcome == "not_passed"
    with app.app_context():
        assert oral_exam.latest_outcome(t.id) == "not_passed"
    other = Exam(app, make_user, make_cohort, n=1, name="Later Cohort")
    later_id = other.open()
    auth.login_as(other.fran)
    # Someone not enrolled anywhere cannot be added; the trainee who did not pass can.
    stranger = make_user("stranger@example.org")
    refused = client.post(f"/oral-exams/{later_id}/reexaminees", data={"email": stranger.email})
    assert refused.status_code == 422
    added = client.post(f"/oral-exams/{later_id}/reexaminees", data={"email": t.email})
    assert added.status_code == 303
    grid = text_of(client.get(f"/oral-exams/{later_id}"))
    assert t.name in grid and "re-examination" in grid
    _mark_all(client, later_id, t.id, items)
    assert client.post(f"/oral-exams/{later_id}/trainees/{t.id}/finalise").status_code == 303
    with app.app_context():
        assert oral_exam.oral_exam_passed(t.id)
        assert oral_exam.latest_outcome(t.id) == "passed"  # the latest result, what certification reads
    # Once passed, they cannot be added to a further sitting.
    third = exam.open(by=exam.gus)
    auth.login_as(exam.gus)
    grid = text_of(client.get(f"/oral-exams/{third}"))
    assert "Passed in an earlier round: that result stands" in grid
    # ... nor marked or finalised there: a pass is never replaced by a later round's marks.
    cell = f"/oral-exams/{third}/trainees/{t.id}/items/{items[0][0]}"
    client.post(cell, data={"mark": "not_yet:0"})
    refused = client.post(f"/oral-exams/{third}/trainees/{t.id}/finalise", follow_redirects=True)
    assert "passed the oral exam in an earlier round" in text_of(refused)
    assert _result(app, third, t.id) is None
    with app.app_context():
        assert oral_exam.oral_exam_passed(t.id)


def test_only_a_trainee_who_did_not_pass_is_added_to_another_round(app, client, auth, exam, make_user, make_cohort):
    """A trainee of another cohort who has not sat the exam is examined by their own cohort's
    facilitators in their week 6, not added to this one's sitting."""
    exam_id = exam.open()
    other = Exam(app, make_user, make_cohort, n=1, name="Other Cohort", week6_started=False)
    auth.login_as(exam.fran)
    refused = client.post(f"/oral-exams/{exam_id}/reexaminees", data={"email": other.trainees[0].email})
    assert refused.status_code == 422 and "has not sat the oral exam yet" in text_of(refused)
    with app.app_context():
        assert oral_exam.latest_results([other.trainees[0].id]) == {}
        assert other.trainees[0].id not in oral_exam.examinee_ids(db.session.get(OralExam, exam_id))


def test_the_exam_opens_from_the_day_before_the_week_six_session(app, client, auth, make_user, make_cohort):
    early = Exam(app, make_user, make_cohort, n=1, name="Early Cohort", week6_started=False)
    auth.login_as(early.fran)
    # The page says from when, rather than offering a button that can only be refused.
    page = text_of(client.get(f"/cohorts/{early.cohort.id}/assessment"))
    assert "Open the oral exam" not in page
    assert "You can open the oral exam from Sun 4 Apr 2027, 00:01 UTC, the day before the week-6 session." in page
    refused = client.post(f"/sessions/{early.week6}/oral-exams", data={"template_id": early.template_id})
    assert refused.status_code == 422 and "from the day before the week-6 session" in text_of(refused)
    with app.app_context():
        session = db.session.get(CohortSession, early.week6)
        fran = db.session.get(User, early.fran.id)
        with pytest.raises(oral_exam.ExamError):
            oral_exam.open_exam(session, early.template_id, fran, now=session.starts_at - timedelta(days=1, minutes=1))
        assert oral_exam.open_exam(session, early.template_id, fran, now=session.starts_at - timedelta(hours=23))
        db.session.rollback()


def test_trainees_see_their_own_result_and_met_items_only(app, client, auth, exam):
    exam_id = exam.open()
    items = exam.items(exam_id)
    me, peer = exam.trainees[0], exam.trainees[1]
    auth.login_as(exam.fran)
    _mark_all(client, exam_id, me.id, items[:2])
    _mark_all(client, exam_id, peer.id, items)
    client.post(f"/oral-exams/{exam_id}/trainees/{me.id}/finalise")
    client.post(f"/oral-exams/{exam_id}/trainees/{peer.id}/finalise")
    auth.login_as(me)
    page = text_of(client.get("/my-assessment"))
    with app.app_context():
        titles = [i.title for i in oral_exam.items_of(db.session.get(OralExam, exam_id))]
    assert "Not passed yet" in page and titles[0] in page and titles[1] in page
    # What is still missing is shown apart from what was met: the required items not met.
    met_part, missing_part = page.split("Still to show (required to pass):")
    assert titles[2] not in met_part and titles[2] in missing_part and titles[0] not in missing_part
    assert peer.name not in page
    for url in (
        f"/oral-exams/{exam_id}",
        f"/oral-exams/{exam_id}/trainees/{peer.id}",
        f"/oral-exams/{exam_id}/trainees/{me.id}",
        f"/cohorts/{exam.cohort.id}/assessment",
    ):
        assert client.get(url).status_code == 403, url
    refused = client.post(f"/oral-exams/{exam_id}/trainees/{me.id}/items/{items[3][0]}", data={"mark": "met:0"})
    assert refused.status_code == 403
    # The supervisor sees the results of the people they supervise.
    auth.login_as(exam.sue)
    page = text_of(client.get("/supervision"))
    assert me.name in page and "not passed yet" in page and "oral exam: passed" in page


# --- checklist versions ---------------------------------------------------------------------------


def test_editing_a_used_checklist_makes_a_new_version_and_results_keep_theirs(app, client, auth, exam, make_user):
    admin = make_user("ada@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    with app.app_context():
        first_item = checklists.current_version(exam.template_id).items[0]
        first_item_id, old_title = first_item.id, first_item.title
    edit = lambda item_id: client.post(  # noqa: E731
        f"/checklists/{exam.template_id}/items/{item_id}",
        data={
            f"item{item_id}-competency": "1",
            f"item{item_id}-title": "A clearer wording",
            f"item{item_id}-met_looks_like": "Says it plainly.",
            f"item{item_id}-required": "yes",
        },
    )
    assert edit(first_item_id).status_code == 303  # unused: edited in place
    with app.app_context():
        assert checklists.current_version(exam.template_id).number == 1
    exam_id = exam.open()
    assert edit(first_item_id).status_code == 303  # used now: a new version
    with app.app_context():
        current = checklists.current_version(exam.template_id)
        assert current.number == 2 and current.items[0].title == "A clearer wording"
        used = db.session.get(OralExam, exam_id)
        assert db.session.get(ChecklistVersion, used.version_id).number == 1
        assert oral_exam.items_of(used)[0].id == first_item_id
    assert old_title  # (the first edit changed version 1 before any exam used it)
    # The old item id is no longer editable: only the current version's items are.
    assert edit(first_item_id).status_code == 404
    auth.login_as(exam.fran)
    assert client.get(f"/checklists/{exam.template_id}").status_code == 403


# --- competencies --------------------------------------------------------------------------------


def _records(app, trainee_id):
    with app.app_context():
        return {
            r.competency: (r.status, r.note)
            for r in db.session.execute(
                db.select(CompetencyRecord).where(CompetencyRecord.trainee_id == trainee_id)
            ).scalars()
        }


def test_a_supervisor_confirms_declines_and_changes_their_answer(app, client, auth, exam):
    t = exam.trainees[0]
    auth.login_as(exam.sue)
    listing = text_of(client.get("/supervision"))
    assert t.name in listing and "Waiting for you" in listing
    ok = client.post(
        f"/supervision/{t.id}/confirm", data={"competencies": ["1", "2", "3"], "evidence": "Seen on shift"}
    )
    assert ok.status_code == 303
    no_reason = client.post(f"/supervision/{t.id}/decline", data={"competency": "2", "reason": ""})
    assert no_reason.status_code == 422
    declined = client.post(f"/supervision/{t.id}/decline", data={"competency": "2", "reason": "Not yet seen alone"})
    assert declined.status_code == 303
    assert _records(app, t.id) == {
        1: ("confirmed", "Seen on shift"),
        2: ("declined", "Not yet seen alone"),
        3: ("confirmed", "Seen on shift"),
    }
    # Changed again: confirmed; the history keeps every answer.
    client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["2"], "evidence": ""})
    assert _records(app, t.id)[2] == ("confirmed", None)
    # Confirming a confirmed one again without a note keeps the note given before.
    client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["1"], "evidence": ""})
    assert _records(app, t.id)[1] == ("confirmed", "Seen on shift")
    with app.app_context():
        history = (
            db.session.execute(
                db.select(CompetencyDecision.status)
                .where(CompetencyDecision.trainee_id == t.id, CompetencyDecision.competency == 2)
                .order_by(CompetencyDecision.id)
            )
            .scalars()
            .all()
        )
        assert history == ["confirmed", "declined", "confirmed"]
        assert competencies.confirmed_competencies(t.id) == {1, 2, 3}
        assert not competencies.competencies_confirmed(t.id)
    client.post(f"/supervision/{t.id}/confirm", data={"competencies": [str(n) for n in range(4, 9)]})
    with app.app_context():
        assert competencies.competencies_confirmed(t.id)  # 1-8; 9 and 10 are emerging
    # The trainee reads the answers and the reason, and cannot change them.
    auth.login_as(t)
    page = text_of(client.get("/my-assessment"))
    assert "Not yet seen alone" not in page  # the latest answer is a confirmation
    assert "Self-care (emerging, not required)" in page
    assert client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["9"]}).status_code == 403
    assert client.get(f"/supervision/{t.id}").status_code == 403


def test_the_trainee_reads_a_declined_reason(app, client, auth, exam):
    t = exam.trainees[1]
    auth.login_as(exam.sue)
    client.post(f"/supervision/{t.id}/decline", data={"competency": "7", "reason": "Shadow a crisis call first"})
    auth.login_as(t)
    page = text_of(client.get("/my-assessment"))
    assert "Declined" in page and "Shadow a crisis call first" in page


def test_a_former_supervisor_can_no_longer_confirm(app, client, auth, exam, make_user):
    from portal.cohorts import roster

    t = exam.trainees[0]
    new = make_user("new.super@example.org", roles=[Role.SUPERVISOR])
    auth.login_as(exam.sue)
    page = client.get(f"/supervision/{t.id}")  # Sue's page is open ...
    assert page.status_code == 200
    with app.app_context():
        admin = db.session.get(User, new.id)
        roster.set_supervisor(db.session.get(User, t.id), db.session.get(User, new.id), admin)
        db.session.commit()
    # ... and then she is no longer the supervisor: refused, nothing written.
    assert client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["1"]}).status_code == 403
    assert client.get(f"/supervision/{t.id}").status_code == 403
    assert t.name not in text_of(client.get("/supervision"))
    assert _records(app, t.id) == {}
    with app.app_context():
        with pytest.raises(competencies.NotSupervisor):
            competencies.decide(t.id, [1], "confirmed", None, db.session.get(User, exam.sue.id))
        db.session.rollback()
    auth.login_as(new)
    assert client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["1"]}).status_code == 303
    assert _records(app, t.id) == {1: ("confirmed", None)}


def test_a_facilitator_never_confirms_but_sees_and_resends_pending_requests(app, client, auth, exam, outbox):
    t = exam.trainees[0]
    auth.login_as(exam.fran)
    assert client.post(f"/supervision/{t.id}/confirm", data={"competencies": ["1"]}).status_code == 403
    page = client.get(f"/cohorts/{exam.cohort.id}/assessment")
    assert "Resend the request" in text_of(page)
    assert client.post(f"/cohorts/{exam.cohort.id}/assessment/{t.id}/remind").status_code == 303
    assert [m["To"] for m in outbox] == [exam.sue.email]
    assert t.name in outbox[0]["Subject"] and f"/supervision/{t.id}" in outbox[0].get_content()


# --- reminders ------------------------------------------------------------------------------------


def test_the_weekly_reminder_sends_one_mail_per_supervisor_per_week_and_none_when_all_is_confirmed(
    app, make_user, make_cohort, outbox
):
    exam = Exam(app, make_user, make_cohort, n=3)
    # A cohort still in its early weeks: its supervisor is not reminded yet.
    early = Exam(app, make_user, make_cohort, n=1, name="Early Cohort", week6_started=False)
    from portal.assessment.tasks import remind_supervisors_weekly

    with app.app_context():
        remind_supervisors_weekly()  # the huey periodic task, as the consumer runs it
    assert [m["To"] for m in outbox] == [exam.sue.email]  # one mail for three trainees
    assert all(t.name in outbox[0].get_content() for t in exam.trainees)
    assert "\n\n- Trainee 000\n- Trainee 001\n- Trainee 002\n\nConfirm" in outbox[0].get_content()  # one per line
    assert early.sue.email not in [m["To"] for m in outbox]
    with app.app_context():
        assert competencies.send_weekly_reminders() == 0  # same week: nothing more
        # The last second of this week (whatever weekday the suite runs on) is still this week.
        end_of_week = competencies.week_of(utcnow()) + timedelta(days=7, seconds=-1)
        assert competencies.send_weekly_reminders(end_of_week) == 0
        next_week = utcnow() + timedelta(days=7)
        assert competencies.send_weekly_reminders(next_week) == 1
        sue = db.session.get(User, exam.sue.id)
        for t in exam.trainees:
            competencies.decide(t.id, range(1, 9), "confirmed", None, sue)
        db.session.commit()
        assert competencies.send_weekly_reminders(utcnow() + timedelta(days=14)) == 0
    assert len(outbox) == 2


def test_week_of_is_monday():
    assert competencies.week_of(datetime(2027, 3, 3, 15, 0, tzinfo=UTC)) == datetime(2027, 3, 1, tzinfo=UTC)


# --- pages that cost the same whatever the size --------------------------------------------------


def test_the_grid_and_the_supervisor_page_cost_the_same_for_5_and_200_trainees(
    app, client, auth, make_user, make_cohort, queries
):
    counts = {}
    for n in (5, 200):
        exam = Exam(app, make_user, make_cohort, n=n, name=f"Size {n}")
        exam_id = exam.open()
        items = exam.items(exam_id)
        with app.app_context():
            fran = db.session.get(User, exam.fran.id)
            sue = db.session.get(User, exam.sue.id)
            ex = db.session.get(OralExam, exam_id)
            for t in exam.trainees[:: max(1, n // 5)]:
                oral_exam.set_mark(ex, t.id, items[0][0], "met", 0, fran)
                competencies.decide(t.id, [1, 2], "confirmed", None, sue)
            db.session.commit()
        auth.login_as(exam.fran)
        with queries() as grid:
            assert client.get(f"/oral-exams/{exam_id}").status_code == 200
        with queries() as cohort_page:
            assert client.get(f"/cohorts/{exam.cohort.id}/assessment").status_code == 200
        auth.login_as(exam.sue)
        with queries() as supervision:
            assert client.get("/supervision").status_code == 200
        counts[n] = (len(grid), len(cohort_page), len(supervision))
    assert counts[5] == counts[200], counts


# --- the week-6 notice and the unsubscribe link ----------------------------------------------------


def _unsubscribe_url(message) -> str:
    import re

    found = re.search(r"https?://\S+(/reminders/unsubscribe/\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def _notices(app):
    from portal.models import WeekSixNotice

    with app.app_context():
        return sorted((n.supervisor_id, n.trainee_id) for n in db.session.execute(db.select(WeekSixNotice)).scalars())


def test_supervisors_are_told_once_per_trainee_when_week_six_is_reached(
    app, client, auth, make_user, make_cohort, outbox
):
    exam = Exam(app, make_user, make_cohort, n=2)
    early = Exam(app, make_user, make_cohort, n=1, name="Early Cohort", week6_started=False)
    from portal.assessment.tasks import notify_week_six

    with app.app_context():
        notify_week_six()  # the huey periodic task, as a consumer runs it ...
        notify_week_six()  # ... and a second consumer in the same tick: skipped
        assert competencies.send_week_six_notices() == 0  # and run again later: nothing new
        assert competencies.send_week_six_notices(utcnow() + timedelta(days=3)) == 0
    assert sorted(m["To"] for m in outbox) == [exam.sue.email] * 2
    assert sorted(m["Subject"] for m in outbox) == sorted(f"{t.name} has reached week 6" for t in exam.trainees)
    assert _notices(app) == sorted((exam.sue.id, t.id) for t in exam.trainees)
    assert early.sue.email not in [m["To"] for m in outbox]
    # In the portal: the supervisor's page lists them.
    auth.login_as(exam.sue)
    page = text_of(client.get("/supervision"))
    assert "Reached week 6" in page and all(t.name in page for t in exam.trainees)
    auth.login_as(early.sue)
    assert "Reached week 6" not in text_of(client.get("/supervision"))


def test_the_unsubscribe_link_works_signed_out_and_stops_only_the_weekly_reminder(app, make_user, make_cohort, outbox):
    exam = Exam(app, make_user, make_cohort, n=1)
    with app.app_context():
        assert competencies.send_weekly_reminders() == 1
    reminder = outbox[-1]
    url = _unsubscribe_url(reminder)
    assert reminder["List-Unsubscribe"] == f"<{app.config['PUBLIC_BASE_URL'].rstrip('/')}{url}>"
    stranger = app.test_client()  # signed out, never signed in
    page = stranger.get(url)
    assert page.status_code == 200 and "Stop the weekly reminders" in text_of(page)
    done = stranger.post(url)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"{url}#reminders-message")
    assert "no longer get the weekly reminder" in text_of(stranger.get(url))
    with app.app_context():
        assert not competencies.gets_reminders(exam.sue.id)
        assert competencies.send_weekly_reminders(utcnow() + timedelta(days=7)) == 0
    # The first week-6 notice still goes after unsubscribing.
    assert _notices(app) == []
    with app.app_context():
        assert competencies.send_week_six_notices() == 1
    assert outbox[-1]["To"] == exam.sue.email and "reached week 6" in outbox[-1]["Subject"]
    assert outbox[-1]["List-Unsubscribe"] is None  # the notice is not a reminder


def test_a_forged_or_altered_unsubscribe_token_is_refused(app, make_user, make_cohort, outbox):
    from itsdangerous import URLSafeSerializer

    exam = Exam(app, make_user, make_cohort, n=1)
    with app.app_context():
        competencies.send_weekly_reminders()
    url = _unsubscribe_url(outbox[-1])
    token = url.rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    payload, signature = token.split(".")
    other_payload = (
        URLSafeSerializer(app.secret_key, salt=competencies.UNSUBSCRIBE_SALT)
        .dumps({"supervisor": exam.trainees[0].id})
        .split(".")[0]
    )
    forged = [
        altered,  # the signature changed
        f"{other_payload}.{signature}",  # someone else's id with this signature
        URLSafeSerializer("not the secret key", salt=competencies.UNSUBSCRIBE_SALT).dumps({"supervisor": exam.sue.id}),
        URLSafeSerializer(app.secret_key, salt="another-salt").dumps({"supervisor": exam.sue.id}),
        "garbage",
    ]
    stranger = app.test_client()
    stranger.get(url)  # a session with a CSRF token, so only the token decides
    for bad in forged:
        assert stranger.get(f"/reminders/unsubscribe/{bad}").status_code == 404, bad
        assert stranger.post(f"/reminders/unsubscribe/{bad}").status_code == 404, bad
    with app.app_context():
        assert competencies.gets_reminders(exam.sue.id)
        assert competencies.unsubscribed_ids() == set()


def test_a_supervisor_subscribes_again_on_the_supervision_page(app, client, auth, make_user, make_cohort, outbox):
    exam = Exam(app, make_user, make_cohort, n=1)
    auth.login_as(exam.sue)
    assert "Stop the weekly reminders" in text_of(client.get("/supervision"))
    stopped = client.post("/supervision/reminders", data={"reminders": "off"})
    assert stopped.status_code == 303 and stopped.headers["Location"].endswith("/supervision#reminders-message")
    with app.app_context():
        assert competencies.send_weekly_reminders() == 0
    assert "Send me the weekly reminders again" in text_of(client.get("/supervision"))
    assert client.post("/supervision/reminders", data={"reminders": "sideways"}).status_code == 422
    assert client.post("/supervision/reminders", data={"reminders": "on"}).status_code == 303
    with app.app_context():
        assert competencies.send_weekly_reminders() == 1
    assert outbox[-1]["To"] == exam.sue.email


# --- checklist templates: create, retire, reorder -------------------------------------------------


def test_admins_create_and_retire_checklists_and_retired_ones_are_not_offered(app, client, auth, exam, make_user):
    admin = make_user("admin.checklists@example.org", roles=[Role.ADMIN])
    exam_id = exam.open()  # an exam on the default checklist, before it is retired
    auth.login_as(admin)
    assert client.post("/checklists", data={"name": ""}).status_code == 422
    created = client.post("/checklists", data={"name": "Short re-sit checklist"})
    assert created.status_code == 303
    with app.app_context():
        from portal.models import ChecklistTemplate

        new = db.session.execute(
            db.select(ChecklistTemplate).where(ChecklistTemplate.name == "Short re-sit checklist")
        ).scalar_one()
        new_id = new.id
    assert created.headers["Location"].endswith(f"/checklists/{new_id}#add-message")
    assert "Short re-sit checklist" in text_of(client.get("/checklists"))
    retired = client.post(f"/checklists/{exam.template_id}/retire")
    assert retired.status_code == 303
    assert "Retired" in text_of(client.get(f"/checklists/{exam.template_id}"))
    with app.app_context():
        assert db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "checklist.retired")
        ).scalar_one_or_none()
    # Not offered for a new exam, and refused when sent anyway; the exam on it keeps it.
    auth.login_as(exam.fran)
    page = client.get(f"/cohorts/{exam.cohort.id}/assessment")
    assert f'value="{exam.template_id}"' not in page.get_data(as_text=True)
    # ... nor is the new checklist while it has no required item (it could not be used).
    assert f'value="{new_id}"' not in page.get_data(as_text=True)
    refused = client.post(f"/sessions/{exam.week6}/oral-exams", data={"template_id": exam.template_id})
    assert refused.status_code == 422
    with app.app_context():
        assert len(db.session.execute(db.select(OralExam)).scalars().all()) == 1
    assert client.get(f"/oral-exams/{exam_id}").status_code == 200


def test_admins_reorder_items_and_a_used_version_keeps_its_order(app, client, auth, exam, make_user):
    admin = make_user("admin.order@example.org", roles=[Role.ADMIN])
    exam_id = exam.open()
    first, second = exam.items(exam_id)[0][0], exam.items(exam_id)[1][0]
    with app.app_context():
        titles = [i.title for i in oral_exam.items_of(db.session.get(OralExam, exam_id))]
    auth.login_as(admin)
    page = client.get(f"/checklists/{exam.template_id}")
    assert f"/items/{first}/move" in page.get_data(as_text=True)
    assert (
        client.post(f"/checklists/{exam.template_id}/items/{first}/move", data={"direction": "up"}).status_code == 303
    )
    with app.app_context():
        assert checklists.current_version(exam.template_id).number == 1  # already first: nothing changed
    moved = client.post(f"/checklists/{exam.template_id}/items/{second}/move", data={"direction": "up"})
    assert moved.status_code == 303
    with app.app_context():
        current = checklists.current_version(exam.template_id)
        assert current.number == 2
        assert [i.title for i in current.items][:3] == [titles[1], titles[0], titles[2]]
        assert [i.position for i in current.items] == list(range(1, len(titles) + 1))
        assert [i.title for i in oral_exam.items_of(db.session.get(OralExam, exam_id))] == titles
        new_first = current.items[0].id
    # On the unused version 2 a move changes it in place.
    assert (
        client.post(f"/checklists/{exam.template_id}/items/{new_first}/move", data={"direction": "down"}).status_code
        == 303
    )
    with app.app_context():
        current = checklists.current_version(exam.template_id)
        assert current.number == 2 and [i.title for i in current.items][:2] == titles[:2]
    assert (
        client.post(f"/checklists/{exam.template_id}/items/{new_first}/move", data={"direction": "left"}).status_code
        == 422
    )
