"""The group oral exam: a cohort's assessment page, opening a sitting, the grid, one cell,
one trainee's plain form, finalising, unlocking, re-examination, and a trainee's own view."""

from __future__ import annotations

from flask import abort, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import inputs, people
from portal.assessment import bp, checklists, competencies, oral_exam
from portal.assessment.forms import FinaliseForm, MarksForm, OpenExamForm, ReexamineForm, RemindForm, UnlockForm
from portal.assessment.pages import exam_for, grid_row, grid_rows
from portal.authz import require
from portal.extensions import db
from portal.models import (
    ChecklistItem,
    Cohort,
    CohortSession,
    Enrollment,
    EnrollmentStatus,
    OralExam,
    OralExamResult,
    Supervision,
    User,
    utcnow,
)
from portal.web import get_or_404, redirect_to, render_page, say_here, wants_fragment


def _template_choices() -> list[SelectChoice]:
    return [SelectChoice(t.id, t.name) for t in checklists.usable_templates()]


# --- a cohort's assessment page (facilitators) ----------------------------------------------------


def _cohort_page(cohort: Cohort, open_form=None, status=200):
    require("view_assessment", cohort)
    open_form = open_form or OpenExamForm()
    open_form.template_id.choices = _template_choices()
    week_six = next((s for s in cohort.sessions if s.week == oral_exam.EXAM_WEEK), None)
    exams = list(
        db.session.execute(
            db.select(OralExam)
            .join(CohortSession, CohortSession.id == OralExam.session_id)
            .where(CohortSession.cohort_id == cohort.id)
            .order_by(OralExam.opened_at)
        ).scalars()
    )
    trainees = db.session.execute(
        db.select(User.id, User.display_name, Supervision.supervisor_id)
        .join(Enrollment, Enrollment.user_id == User.id)
        .outerjoin(Supervision, (Supervision.trainee_id == User.id) & Supervision.ended_at.is_(None))
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
        .order_by(User.display_name, User.id)
    ).all()
    supervisor_names = dict(
        db.session.execute(
            db.select(User.id, User.display_name).where(
                User.id.in_({t.supervisor_id for t in trainees if t.supervisor_id})
            )
        ).all()
    )
    standings = competencies.standings([t.id for t in trainees])
    latest = oral_exam.latest_results([t.id for t in trainees])
    return render_page(
        "assessment/cohort.html",
        status=status,
        cohort=cohort,
        week_six=week_six,
        # The form is offered from the day before the week-6 session (open_exam's rule).
        opens_at=oral_exam.opens_at(week_six) if week_six else None,
        can_open=week_six is not None and oral_exam.opens_at(week_six) <= utcnow(),
        exams=exams,
        open_form=open_form,
        trainees=trainees,
        supervisor_names=supervisor_names,
        standings=standings,
        latest=latest,
        remind_form=RemindForm(),
        required=competencies.REQUIRED,
    )


@bp.get("/cohorts/<int:cohort_id>/assessment")
@login_required
def cohort_assessment(cohort_id: int):
    return _cohort_page(get_or_404(Cohort, cohort_id))


@bp.post("/sessions/<int:session_id>/oral-exams")
@login_required
def open_exam(session_id: int):
    session = get_or_404(CohortSession, session_id)
    require("open_oral_exam", session)
    form = OpenExamForm()
    form.template_id.choices = _template_choices()
    if not form.validate_on_submit():
        return _cohort_page(session.cohort, open_form=form, status=422)
    try:
        exam = oral_exam.open_exam(session, form.template_id.data, current_user)
    except oral_exam.ExamError as error:
        db.session.rollback()
        form.template_id.errors.append(str(error))
        return _cohort_page(session.cohort, open_form=form, status=422)
    db.session.commit()
    say_here("grid", "The oral exam is open: mark each trainee as they show each item.")
    return redirect_to(url_for("assessment.grid", exam_id=exam.id, _anchor="grid-message"))


@bp.post("/cohorts/<int:cohort_id>/assessment/<int:trainee_id>/remind")
@login_required
def remind_supervisor(cohort_id: int, trainee_id: int):
    cohort = get_or_404(Cohort, cohort_id)
    require("view_assessment", cohort)
    if not RemindForm().validate_on_submit():
        abort(400)
    enrolled = db.session.execute(
        db.select(Enrollment.id).where(
            Enrollment.cohort_id == cohort.id,
            Enrollment.user_id == trainee_id,
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
        )
    ).first()
    if enrolled is None:
        abort(404)
    trainee = db.session.get(User, trainee_id)
    try:
        supervisor = competencies.request_confirmation(trainee, current_user)
    except competencies.CompetencyError as error:
        db.session.rollback()
        say_here(f"remind-{trainee_id}", str(error), "error")
    else:
        db.session.commit()
        say_here(f"remind-{trainee_id}", f"The request was sent again to {supervisor.display_name}.")
    return redirect_to(
        url_for("assessment.cohort_assessment", cohort_id=cohort.id, _anchor=f"remind-{trainee_id}-message")
    )


# --- the grid ---------------------------------------------------------------------------------


def _grid_page(exam: OralExam, reexamine_form=None, status=200):
    items = oral_exam.items_of(exam)
    return render_page(
        "assessment/grid.html",
        status=status,
        exam=exam,
        cohort=exam.session.cohort,
        items=items,
        rows=grid_rows(exam),
        reexamine_form=reexamine_form or ReexamineForm(),
        labels=oral_exam.LABELS,
        next_mark=oral_exam.NEXT,
    )


@bp.get("/oral-exams/<int:exam_id>")
@login_required
def grid(exam_id: int):
    return _grid_page(exam_for(exam_id))


def _parse_mark(raw: str | None) -> tuple[str, int] | None:
    """ "met:3" -> ("met", 3): the value wanted and the cell version it was chosen on."""
    value, _, version = (raw or "").partition(":")
    number = inputs.optional_record_id(version) if version != "0" else 0
    if value not in oral_exam.MARKS or number is None:
        return None
    return value, number


def _item_of(exam: OralExam, item_id: int) -> ChecklistItem:
    item = db.session.get(ChecklistItem, item_id)
    if item is None or item.version_id != exam.version_id:
        abort(404)
    return item


def _examinee(exam: OralExam, trainee_id: int) -> None:
    if trainee_id not in oral_exam.examinee_ids(exam):
        abort(404)


@bp.post("/oral-exams/<int:exam_id>/trainees/<int:trainee_id>/items/<int:item_id>")
@login_required
def mark_cell(exam_id: int, trainee_id: int, item_id: int):
    exam = exam_for(exam_id)
    item = _item_of(exam, item_id)
    _examinee(exam, trainee_id)
    if not FinaliseForm().validate_on_submit():  # the CSRF token, nothing else
        abort(400)
    parsed = _parse_mark(request.form.get("mark"))
    if parsed is None:
        abort(400)
    value, version = parsed
    status, message, kind = 200, "Saved.", "status"
    try:
        state = oral_exam.set_mark(exam, trainee_id, item.id, value, version, current_user)
    except oral_exam.StaleMark as stale:
        db.session.rollback()
        state, status, message, kind = stale.current, 409, str(stale), "alert"
    except oral_exam.ExamError as error:
        db.session.rollback()
        row = grid_row(exam, trainee_id)
        state, status, message, kind = row.cell(item.id), 409, str(error), "alert"
    else:
        db.session.commit()
    place = f"trainee-{trainee_id}"
    if not wants_fragment():
        if status == 200:
            say_here(place, f"{item.title}: {oral_exam.LABELS[state.value].lower()}. Saved.")
        else:
            say_here(place, f"{item.title}: {message}", "error")
        return redirect_to(url_for("assessment.grid", exam_id=exam.id, _anchor=f"{place}-message"))
    locked = grid_row(exam, trainee_id).locked
    html = render_template(
        "assessment/_cell.html",
        exam=exam,
        item=item,
        trainee_id=trainee_id,
        state=state,
        locked=locked,
        message=message,
        message_kind=kind,
        labels=oral_exam.LABELS,
        next_mark=oral_exam.NEXT,
    )
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


# --- one trainee: the plain form, finalise, unlock --------------------------------------------------


def _trainee_page(
    exam: OralExam, trainee_id: int, form=None, unlock_form=None, conflicts=(), status=200, keep_note=None
):
    row = grid_row(exam, trainee_id)
    rows = grid_rows(exam)
    ids = [r.trainee_id for r in rows]
    at = ids.index(trainee_id)
    # After a colleague's note came first, the box keeps what this person typed (on top of the
    # colleague's version, shown above it), so saving again is a choice, never a retype.
    note = row.note if keep_note is None else keep_note
    form = form or MarksForm(formdata=None, note=note, note_version=row.note_version)
    return render_page(
        "assessment/trainee.html",
        "marks",
        status=status,
        exam=exam,
        cohort=exam.session.cohort,
        items=oral_exam.items_of(exam),
        row=row,
        previous=rows[at - 1] if at > 0 else None,
        following=rows[at + 1] if at + 1 < len(rows) else None,
        form=form,
        finalise_form=FinaliseForm(),
        unlock_form=unlock_form or UnlockForm(),
        conflicts=set(conflicts),
        note_conflict=keep_note is not None,
        labels=oral_exam.LABELS,
        passes=oral_exam.passes(
            [(i.id, i.required) for i in oral_exam.items_of(exam)], {k: v.value for k, v in row.cells.items()}
        ),
    )


@bp.route("/oral-exams/<int:exam_id>/trainees/<int:trainee_id>", methods=["GET", "POST"])
@login_required
def trainee_marks(exam_id: int, trainee_id: int):
    exam = exam_for(exam_id)
    _examinee(exam, trainee_id)
    if request.method == "GET":
        return _trainee_page(exam, trainee_id)
    form = MarksForm()
    if not form.validate_on_submit():
        return _trainee_page(exam, trainee_id, form=form, status=422)
    changes = []
    for item in oral_exam.items_of(exam):
        wanted, shown = request.form.get(f"m_{item.id}"), request.form.get(f"o_{item.id}")
        if wanted is None or wanted == shown:
            continue  # not touched on this form
        parsed = _parse_mark(f"{wanted}:{request.form.get(f'v_{item.id}', '')}")
        if parsed is None:
            abort(400)
        changes.append((item, *parsed))
    conflicts, errors = [], []
    try:
        for item, value, version in changes:
            try:
                oral_exam.set_mark(exam, trainee_id, item.id, value, version, current_user)
            except oral_exam.StaleMark:
                conflicts.append(item.id)
        if form.note.data is not None:
            try:
                oral_exam.set_note(exam, trainee_id, form.note.data, form.note_version.data, current_user)
            except oral_exam.Locked:
                raise
            except oral_exam.ExamError as error:
                errors.append(str(error))
    except oral_exam.ExamError as error:  # locked
        db.session.rollback()
        say_here("marks", str(error), "error")
        return redirect_to(
            url_for("assessment.trainee_marks", exam_id=exam.id, trainee_id=trainee_id, _anchor="marks-message")
        )
    db.session.commit()
    if conflicts or errors:
        # Nothing is written over: the page shows what is there now, the rest was saved.
        typed_note = form.note.data
        message = (
            "Someone else changed the marks shown in red since you loaded the page; yours were not saved there. "
            if conflicts
            else ""
        ) + " ".join(errors)
        if errors:
            message += " Your text is still in the box: compare it with theirs, then save again."
        say_here("marks", message.strip(), "error")
        return _trainee_page(
            exam, trainee_id, conflicts=conflicts, status=409, keep_note=typed_note if errors else None
        )
    say_here("marks", "Saved.")
    return redirect_to(
        url_for("assessment.trainee_marks", exam_id=exam.id, trainee_id=trainee_id, _anchor="marks-message")
    )


@bp.post("/oral-exams/<int:exam_id>/trainees/<int:trainee_id>/finalise")
@login_required
def finalise(exam_id: int, trainee_id: int):
    exam = exam_for(exam_id)
    _examinee(exam, trainee_id)
    if not FinaliseForm().validate_on_submit():
        abort(400)
    try:
        result = oral_exam.finalise(exam, trainee_id, current_user)
    except oral_exam.ExamError as error:
        db.session.rollback()
        say_here("result", str(error), "error")
    else:
        db.session.commit()
        say_here("result", "Finalised: " + ("passed." if result.outcome == oral_exam.PASSED else "not passed yet."))
    return redirect_to(
        url_for("assessment.trainee_marks", exam_id=exam.id, trainee_id=trainee_id, _anchor="result-message")
    )


@bp.post("/oral-exams/<int:exam_id>/trainees/<int:trainee_id>/unlock")
@login_required
def unlock(exam_id: int, trainee_id: int):
    exam = exam_for(exam_id)
    _examinee(exam, trainee_id)
    form = UnlockForm()
    # From the grid's row (its own small form) the answer comes back to that row.
    from_grid = request.form.get("from") == "grid"
    place = f"trainee-{trainee_id}" if from_grid else "result"
    if from_grid:
        back = url_for("assessment.grid", exam_id=exam.id, _anchor=f"{place}-message")
    else:
        back = url_for("assessment.trainee_marks", exam_id=exam.id, trainee_id=trainee_id, _anchor=f"{place}-message")
    if not form.validate_on_submit():
        if from_grid:
            say_here(place, "Say why the result is unlocked.", "error")
            return redirect_to(back)
        return _trainee_page(exam, trainee_id, unlock_form=form, status=422)
    result = oral_exam.result_of(exam, trainee_id)
    try:
        if result is None:
            raise oral_exam.ExamError("This result is not finalised.")
        oral_exam.unlock(result, form.reason.data, current_user)
    except oral_exam.ExamError as error:
        db.session.rollback()
        say_here(place, str(error), "error")
    else:
        db.session.commit()
        say_here(place, "Unlocked: the marks can change again. The reason is in the audit log.")
    return redirect_to(back)


@bp.post("/oral-exams/<int:exam_id>/reexaminees")
@login_required
def add_reexaminee(exam_id: int):
    exam = exam_for(exam_id)
    form = ReexamineForm()
    if not form.validate_on_submit():
        return _grid_page(exam, reexamine_form=form, status=422)
    trainee = people.find_by_email(form.email.data)
    try:
        if trainee is None:
            raise oral_exam.ExamError("No trainee has that email.")
        oral_exam.add_for_reexamination(exam, trainee, current_user)
    except oral_exam.ExamError as error:
        db.session.rollback()
        form.email.errors.append(str(error))
        return _grid_page(exam, reexamine_form=form, status=422)
    db.session.commit()
    say_here(f"trainee-{trainee.id}", f"{trainee.display_name} is on this exam.")
    return redirect_to(url_for("assessment.grid", exam_id=exam.id, _anchor=f"trainee-{trainee.id}-message"))


# --- a trainee's own view ---------------------------------------------------------------------------


@bp.get("/my-assessment")
@login_required
def mine():
    require("own_assessment")
    results = list(
        db.session.execute(
            db.select(OralExamResult)
            .where(OralExamResult.trainee_id == current_user.id, OralExamResult.finalised_at.is_not(None))
            .order_by(OralExamResult.finalised_at.desc(), OralExamResult.id.desc())
        ).scalars()
    )
    met = {}
    items = {}
    for result in results:
        items[result.id] = oral_exam.items_of(result.exam)
        met[result.id] = {k for k, v in oral_exam.marks_of(result.id).items() if v == oral_exam.MET}
    return render_page(
        "assessment/mine.html",
        results=results,
        items=items,
        met=met,
        standings=competencies.standings([current_user.id])[current_user.id],
        required=competencies.REQUIRED,
    )
