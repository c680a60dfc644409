"""What the assessment route modules share: finding an exam for an action, and the grid's
rows read in a fixed number of queries whatever the number of trainees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import abort
from sqlalchemy import literal, union
from sqlalchemy.orm import aliased

from portal.assessment import oral_exam
from portal.assessment.oral_exam import CellState
from portal.authz import require
from portal.extensions import db
from portal.models import Enrollment, EnrollmentStatus, OralExam, OralExamMark, OralExamResult, User
from portal.web import get_or_404


@cache
def _user_alias(name: str):
    """A named alias of users, made once (SQLAlchemy memoises an alias's columns)."""
    return aliased(User, name=name)


def exam_for(exam_id: int, action: str = "mark_oral_exam") -> OralExam:
    exam = get_or_404(OralExam, exam_id)
    require(action, exam)
    return exam


@dataclass
class GridRow:
    trainee_id: int
    name: str
    own_cohort: bool
    result_id: int | None = None
    note: str = ""
    note_version: int = 0
    outcome: str | None = None
    finalised_at: datetime | None = None
    finalised_by: str | None = None
    passed_before: bool = False
    cells: dict[int, CellState] = field(default_factory=dict)

    def cell(self, item_id: int) -> CellState:
        return self.cells.get(item_id) or CellState(oral_exam.NOT_OBSERVED, 0)

    @property
    def locked(self) -> bool:
        return self.finalised_at is not None


def grid_rows(exam: OralExam, only: int | None = None) -> list[GridRow]:
    """The examinees of a sitting with their results and marks (four queries)."""
    enrolled = db.select(Enrollment.user_id.label("uid"), literal(True).label("own")).where(
        Enrollment.cohort_id == exam.session.cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value
    )
    added = db.select(OralExamResult.trainee_id.label("uid"), literal(False).label("own")).where(
        OralExamResult.exam_id == exam.id
    )
    people = union(enrolled, added).subquery()
    query = db.select(User.id, User.display_name, people.c.own).join(people, people.c.uid == User.id)
    if only is not None:
        query = query.where(User.id == only)
    rows: dict[int, GridRow] = {}
    for uid, name, own in db.session.execute(query.order_by(User.display_name, User.id, people.c.own.desc())):
        row = rows.setdefault(uid, GridRow(uid, name, bool(own)))
        row.own_cohort = row.own_cohort or bool(own)
    if not rows:
        return []
    finaliser = _user_alias("finaliser")
    result_query = (
        db.select(OralExamResult, finaliser.display_name)
        .outerjoin(finaliser, finaliser.id == OralExamResult.finalised_by_id)
        .where(OralExamResult.exam_id == exam.id)
    )
    if only is not None:
        result_query = result_query.where(OralExamResult.trainee_id == only)
    by_result = {}
    for result, by in db.session.execute(result_query):
        row = rows.get(result.trainee_id)
        if row is None:
            continue
        row.result_id, row.note, row.note_version = result.id, result.note or "", result.note_version
        row.outcome, row.finalised_at, row.finalised_by = result.outcome, result.finalised_at, by
        by_result[result.id] = row
    if by_result:
        changer = _user_alias("changer")
        for result_id, item_id, value, version, name, at in db.session.execute(
            db.select(
                OralExamMark.result_id,
                OralExamMark.item_id,
                OralExamMark.value,
                OralExamMark.version,
                changer.display_name,
                OralExamMark.changed_at,
            )
            .outerjoin(changer, changer.id == OralExamMark.changed_by_id)
            .where(OralExamMark.result_id.in_(list(by_result)))
        ):
            by_result[result_id].cells[item_id] = CellState(value, version, name, at)
    # Passed in an earlier sitting (their latest finalised result elsewhere is a pass).
    for trainee_id, result in oral_exam.latest_results(list(rows)).items():
        if result.exam_id != exam.id and result.outcome == oral_exam.PASSED:
            rows[trainee_id].passed_before = True
    return list(rows.values())


def grid_row(exam: OralExam, trainee_id: int) -> GridRow:
    rows = grid_rows(exam, only=trainee_id)
    if not rows:
        abort(404)
    return rows[0]
