"""The group oral exam: sittings, marks with a version check, finalising and unlocking.
No Flask here; callers commit. Errors carry a sentence for people.

The rules:
- A sitting is opened in a week-6 session against the checklist's current version.
- Its examinees are the trainees enrolled in that session's cohort, plus anyone added for a
  re-examination (a trainee of any cohort whose latest finalised result is not a pass).
- A cell (trainee x item) is "met", "not yet" or "not observed" (no row: not observed). A
  change names the cell version it was made on; when someone changed the cell since, the
  change is refused (StaleMark, carrying the current mark), never written over it.
- Finalising records the outcome: passed when every required item is met. A finalised result
  is locked; unlocking needs a reason and is audited.
- The latest finalised result of a trainee is the one that counts (`oral_exam_passed`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, update
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.assessment import checklists
from portal.extensions import db
from portal.models import (
    ChecklistItem,
    CohortSession,
    Enrollment,
    EnrollmentStatus,
    OralExam,
    OralExamMark,
    OralExamResult,
    User,
    read_rows,
    utcnow,
)

MET, NOT_YET, NOT_OBSERVED = "met", "not_yet", "not_observed"
MARKS = (MET, NOT_YET, NOT_OBSERVED)
LABELS = {MET: "Met", NOT_YET: "Not yet", NOT_OBSERVED: "Not observed"}
# What one press of a cell makes it.
NEXT = {NOT_OBSERVED: MET, MET: NOT_YET, NOT_YET: NOT_OBSERVED}
PASSED, NOT_PASSED = "passed", "not_passed"
EXAM_WEEK = 6
OPENS_BEFORE = timedelta(days=1)  # the grid can be set up the day before the week-6 session


def opens_at(session) -> datetime:
    """When the oral exam of this week-6 session may be opened."""
    return session.starts_at - OPENS_BEFORE


class ExamError(ValueError):
    pass


class StaleMark(ExamError):  # noqa: N818 - a refusal, carried to the person
    """The cell changed since the view the change was made on."""

    def __init__(self, current: CellState):
        super().__init__("Someone else changed this since you loaded the page: it now shows their mark.")
        self.current = current


class Locked(ExamError):  # noqa: N818
    pass


@dataclass(frozen=True)
class CellState:
    value: str
    version: int
    changed_by: str | None = None
    changed_at: datetime | None = None


def passes(items: Iterable[tuple[int, bool]], marks: dict[int, str]) -> bool:
    """The rule: every required item met. `items` are (item id, required)."""
    items = list(items)
    required = [item_id for item_id, is_required in items if is_required]
    return bool(items) and all(marks.get(item_id) == MET for item_id in required)


# --- sittings ----------------------------------------------------------------------------------


def open_exam(session: CohortSession, template_id: int, by: User, now: datetime | None = None) -> OralExam:
    if session.week != EXAM_WEEK:
        raise ExamError("The group oral exam takes place in week 6.")
    if opens_at(session) > (now or utcnow()):
        raise ExamError("The oral exam can be opened from the day before the week-6 session.")
    version = checklists.current_version(template_id)
    if version is not None and version.template.retired_at is not None:
        raise ExamError("That checklist is retired: choose another one.")
    if version is None or not version.items:
        raise ExamError("That checklist has no items yet.")
    if not any(item.required for item in version.items):
        raise ExamError("That checklist has no required item: nobody could pass or fail it.")
    exam = OralExam(session_id=session.id, version_id=version.id, opened_by_id=by.id)
    db.session.add(exam)
    db.session.flush()
    audit.record(by, "oral_exam.opened", exam, session_id=session.id, version_id=version.id)
    return exam


def items_of(exam: OralExam) -> list[ChecklistItem]:
    return list(
        db.session.execute(
            db.select(ChecklistItem).where(ChecklistItem.version_id == exam.version_id).order_by(ChecklistItem.position)
        ).scalars()
    )


def examinee_ids(exam: OralExam) -> set[int]:
    """Enrolled trainees of the sitting's cohort, and those added to it for a re-examination."""
    enrolled = db.select(Enrollment.user_id).where(
        Enrollment.cohort_id == exam.session.cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value
    )
    added = db.select(OralExamResult.trainee_id).where(OralExamResult.exam_id == exam.id)
    return set(db.session.execute(enrolled.union(added)).scalars())


def _result(exam: OralExam, trainee_id: int, *, create: bool = True) -> OralExamResult | None:
    query = db.select(OralExamResult).where(OralExamResult.exam_id == exam.id, OralExamResult.trainee_id == trainee_id)
    result = db.session.execute(query).scalar_one_or_none()
    if result is None and create:
        if trainee_id not in examinee_ids(exam):
            raise ExamError("That person is not taking this exam.")
        if passed_elsewhere(exam, trainee_id):
            # A second round is for those who did not pass: marking a pass again could only
            # replace it with a worse result (the latest result counts).
            raise ExamError("This trainee passed the oral exam in an earlier round; that result stands.")
        try:
            with db.session.begin_nested():
                result = OralExamResult(exam_id=exam.id, trainee_id=trainee_id)
                db.session.add(result)
        except IntegrityError:  # a colleague's first mark for the same trainee came first
            result = db.session.execute(query).scalar_one()
    return result


def passed_elsewhere(exam: OralExam, trainee_id: int) -> bool:
    """Has the trainee's latest finalised result, in another sitting, a pass?"""
    latest = latest_results([trainee_id]).get(trainee_id)
    return latest is not None and latest.exam_id != exam.id and latest.outcome == PASSED


def result_of(exam: OralExam, trainee_id: int) -> OralExamResult | None:
    return _result(exam, trainee_id, create=False)


def cell(result_id: int | None, item_id: int) -> CellState:
    if result_id is None:
        return CellState(NOT_OBSERVED, 0)
    row = db.session.execute(
        db.select(OralExamMark.value, OralExamMark.version, User.display_name, OralExamMark.changed_at)
        .outerjoin(User, User.id == OralExamMark.changed_by_id)
        .where(OralExamMark.result_id == result_id, OralExamMark.item_id == item_id)
    ).first()
    return CellState(*row) if row else CellState(NOT_OBSERVED, 0)


def set_mark(exam: OralExam, trainee_id: int, item_id: int, value: str, seen_version: int, by: User) -> CellState:
    """Change one cell, made on a view that showed it at `seen_version`. Returns the new
    state; raises StaleMark (with the current state) when the cell moved on since."""
    if value not in MARKS:
        raise ExamError("Choose met, not yet or not observed.")
    if item_id not in {i.id for i in items_of(exam)}:
        raise ExamError("That item is not on this exam's checklist.")
    result = _result(exam, trainee_id)
    if result.finalised_at is not None:
        raise Locked("This result is finalised: unlock it to change a mark.")
    now = utcnow()
    if seen_version == 0:
        try:
            with db.session.begin_nested():
                db.session.add(
                    OralExamMark(
                        result_id=result.id,
                        item_id=item_id,
                        value=value,
                        version=1,
                        changed_by_id=by.id,
                        changed_at=now,
                    )
                )
        except IntegrityError:  # someone marked it first
            raise StaleMark(cell(result.id, item_id)) from None
        return CellState(value, 1, by.display_name, now)
    # Compare-and-set: only the version the person saw may be replaced.
    changed = db.session.execute(
        update(OralExamMark)
        .where(
            OralExamMark.result_id == result.id,
            OralExamMark.item_id == item_id,
            OralExamMark.version == seen_version,
        )
        .values(value=value, version=seen_version + 1, changed_by_id=by.id, changed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleMark(cell(result.id, item_id))
    return CellState(value, seen_version + 1, by.display_name, now)


def set_note(exam: OralExam, trainee_id: int, note: str, seen_version: int, by: User) -> OralExamResult:
    result = _result(exam, trainee_id)
    if result.finalised_at is not None:
        raise Locked("This result is finalised: unlock it to change the note.")
    if (note or "") == (result.note or ""):
        return result
    changed = db.session.execute(
        update(OralExamResult)
        .where(OralExamResult.id == result.id, OralExamResult.note_version == seen_version)
        .values(note=note, note_version=seen_version + 1, note_by_id=by.id, note_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(result)
    if changed != 1:
        raise ExamError("Someone else changed the note since you loaded the page: theirs is shown above the box.")
    return result


def marks_of(result_id: int) -> dict[int, str]:
    return dict(
        db.session.execute(
            db.select(OralExamMark.item_id, OralExamMark.value).where(OralExamMark.result_id == result_id)
        ).all()
    )


def finalise(exam: OralExam, trainee_id: int, by: User) -> OralExamResult:
    result = _result(exam, trainee_id)
    # Lock the row: a mark and a finalise at once are serialised.
    db.session.execute(db.select(OralExamResult.id).where(OralExamResult.id == result.id).with_for_update())
    db.session.refresh(result)
    if result.finalised_at is not None:
        raise Locked("This result is already finalised.")
    items = [(i.id, i.required) for i in items_of(exam)]
    result.outcome = PASSED if passes(items, marks_of(result.id)) else NOT_PASSED
    result.finalised_at, result.finalised_by_id = utcnow(), by.id
    audit.record(by, "oral_exam.finalised", result, trainee_id=trainee_id, exam_id=exam.id, outcome=result.outcome)
    db.session.flush()
    return result


def unlock(result: OralExamResult, reason: str, by: User) -> OralExamResult:
    reason = (reason or "").strip()
    if not reason:
        raise ExamError("Say why the result is unlocked.")
    if result.finalised_at is None:
        raise ExamError("This result is not finalised.")
    from portal.assessment.competencies import certificate_issued

    if certificate_issued(result.trainee_id):
        # As the competencies: what the certificate was issued on stays as it was (an admin
        # revokes the certificate first if it was issued in error).
        raise ExamError("The certificate has been issued on this result: it can no longer change.")
    audit.record(
        by,
        "oral_exam.unlocked",
        result,
        trainee_id=result.trainee_id,
        exam_id=result.exam_id,
        reason=reason,
        was_outcome=result.outcome,
        was_finalised_at=result.finalised_at.isoformat(),
        was_finalised_by_id=result.finalised_by_id,
    )
    result.outcome = result.finalised_at = result.finalised_by_id = None
    db.session.flush()
    return result


# --- re-examination -----------------------------------------------------------------------------


def latest_results(trainee_ids: Iterable[int]) -> dict[int, OralExamResult]:
    """Each trainee's latest finalised result (one query)."""
    ids = list(trainee_ids)
    if not ids:
        return {}
    rows = db.session.execute(_latest_results_statement(), {"ids": ids}).scalars()
    latest: dict[int, OralExamResult] = {}
    for row in rows:
        latest.setdefault(row.trainee_id, row)
    return latest


def latest_outcome(trainee_id: int) -> str | None:
    """The outcome of the trainee's latest finalised result (the one `latest_results` gives),
    or None when they have none: one column (what certification's rule reads)."""
    return read_rows(db.session, _latest_outcome_statement(), {"uid": trainee_id}).scalar()


@functools.cache
def _latest_outcome_statement():
    return (
        db.select(OralExamResult.outcome)
        .where(OralExamResult.trainee_id == bindparam("uid", type_=Integer), OralExamResult.finalised_at.is_not(None))
        .order_by(OralExamResult.finalised_at.desc(), OralExamResult.id.desc())
        .limit(1)
    )


@functools.cache
def _latest_results_statement():
    """Built once (every trainee's dashboard reads it): the trainees are parameter `ids`."""
    return (
        db.select(OralExamResult)
        .where(
            OralExamResult.trainee_id.in_(bindparam("ids", expanding=True)),
            OralExamResult.finalised_at.is_not(None),
        )
        .order_by(OralExamResult.trainee_id, OralExamResult.finalised_at.desc(), OralExamResult.id.desc())
    )


def add_for_reexamination(exam: OralExam, trainee: User, by: User) -> OralExamResult:
    """Add a trainee of any cohort to this sitting, as for a make-up: only someone enrolled
    somewhere whose latest finalised result is not a pass."""
    enrolled = db.session.execute(
        db.select(Enrollment.id).where(
            Enrollment.user_id == trainee.id, Enrollment.status == EnrollmentStatus.ENROLLED.value
        )
    ).first()
    if enrolled is None or trainee.deactivated_at is not None:
        raise ExamError("Only a trainee enrolled in a cohort can be examined.")
    latest = latest_results([trainee.id]).get(trainee.id)
    if latest is not None and latest.outcome == PASSED:
        raise ExamError(f"{trainee.display_name} has already passed the oral exam.")
    if latest is None:
        # Re-examination is for a result that was not a pass; a first sitting is with the
        # trainee's own cohort, whose facilitators examine them.
        raise ExamError(
            f"{trainee.display_name} has not sat the oral exam yet: they take it with their own cohort in week 6."
        )
    if trainee.id in examinee_ids(exam):
        raise ExamError(f"{trainee.display_name} is already on this exam.")
    result = OralExamResult(exam_id=exam.id, trainee_id=trainee.id, added_by_id=by.id)
    db.session.add(result)
    db.session.flush()
    audit.record(by, "oral_exam.trainee_added", result, trainee_id=trainee.id, exam_id=exam.id)
    return result


# --- what the certification issue reads ---------------------------------------------------------


def oral_exam_passed(trainee_id: int) -> bool:
    """Has this trainee passed the group oral exam? Their latest finalised result counts
    (a later re-examination replaces an earlier result, whichever way it went)."""
    latest = latest_results([trainee_id]).get(trainee_id)
    return latest is not None and latest.outcome == PASSED
