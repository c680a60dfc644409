"""Taking the test: the list of one's tests, starting, the test page, saving answers,
submitting, the result and the review.

The test page never carries the key: options are rendered by their shown position, without
their text's correctness, feedback or rationale, in any attribute, fragment or JSON. The
pages of an open attempt are `Cache-Control: no-store` and kept out of htmx's history cache.
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal import markup
from portal.authz import can, require, visible_offerings
from portal.exams import attempts as service
from portal.exams import bp
from portal.exams.draw import COMPETENCIES, WEEKS
from portal.exams.forms import AnswersForm, StartForm, SubmitForm
from portal.extensions import db
from portal.inputs import record_id
from portal.models import Attempt, AttemptItem, ItemVersion, Offering, utcnow
from portal.templating import localtime, viewer_zone
from portal.web import get_or_404, redirect_to, render_page, say_here

PER_PAGE_ONE = 1


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _attempt(attempt_id: int, action: str = "view_attempt") -> Attempt:
    # With its offering in the same query (every check of who may see it reads the offering).
    attempt = db.session.execute(
        db.select(Attempt).options(joinedload(Attempt.offering)).where(Attempt.id == attempt_id)
    ).scalar_one_or_none()
    if attempt is None:
        abort(404)
    if not can(current_user, action, attempt):
        # Another person's attempt is not there, as far as this person can tell.
        abort(404 if attempt.user_id != current_user.id and not can(current_user, "view_attempt", attempt) else 403)
    return attempt


@bp.get("/exams")
@login_required
def index():
    require("list_exams")
    now = utcnow()
    offerings = list(db.session.execute(visible_offerings(current_user).order_by(Offering.opens_at.desc())).scalars())
    mine = [o for o in offerings if can(current_user, "take_exam", o)]
    running = [o for o in offerings if can(current_user, "manage_offering", o)]
    zone = viewer_zone()
    standings = {o.id: service.standing(current_user.id, o, now, zone) for o in mine}
    history = list(
        db.session.execute(
            db.select(Attempt).where(Attempt.user_id == current_user.id).order_by(Attempt.started_at.desc())
        ).scalars()
    )
    return _no_store(
        render_page(
            "exams/index.html",
            None,
            mine=mine,
            running=running,
            standings=standings,
            history=history,
            now=now,
            form=StartForm(),
        )
    )


@bp.post("/exams/offerings/<int:offering_id>/start")
@login_required
def start(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    require("take_exam", offering)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attempt = service.start(current_user.id, offering, zone=viewer_zone())
    except service.Refused as refused:
        say_here(f"offering-{offering.id}", str(refused), "error")
        return redirect_to(url_for("exams.index", _anchor=f"offering-{offering.id}-message"))
    return redirect_to(url_for("exams.attempt", attempt_id=attempt.id))


def _page_items(attempt: Attempt, view: str, number: int):
    """The items this page shows, with their versions (one query), and the page count."""
    query = (
        db.select(AttemptItem, ItemVersion.stem, ItemVersion.format, ItemVersion.options)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    )
    pages = attempt.item_count if view == "one" else 1
    if view == "one":
        query = query.where(AttemptItem.position == number)
    rows = db.session.execute(query).all()
    shown = []
    for row, stem, fmt, options in rows:
        # Only the texts, in the shown order: nothing says which is correct.
        texts = [markup.render(options[i]["text"], fmt, inline=True) for i in row.option_order]
        chosen = row.option_order.index(row.chosen) if row.chosen is not None else None
        shown.append(
            {
                "id": row.id,
                "position": row.position,
                "stem": markup.render(stem, fmt),
                "options": texts,
                "chosen": chosen,
                "flagged": row.flagged,
            }
        )
    return shown, pages


def _progress(attempt: Attempt) -> dict:
    answered, flagged = db.session.execute(
        db.select(
            db.func.count(AttemptItem.chosen),
            db.func.coalesce(db.func.sum(db.case((AttemptItem.flagged.is_(True), 1), else_=0)), 0),
        ).where(AttemptItem.attempt_id == attempt.id)
    ).one()
    return {"answered": answered, "flagged": int(flagged), "total": attempt.item_count}


def _view_args():
    view = "one" if request.args.get("view") == "one" else "all"
    number = record_id_or_one(request.args.get("q"))
    return view, number


def record_id_or_one(value) -> int:
    from portal.inputs import optional_record_id

    number = optional_record_id(value)
    return number if number else 1


@bp.get("/exams/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt = _attempt(attempt_id)
    now = utcnow()
    if attempt.is_open and service.close_if_due(attempt, now):
        say_here("result", "Time is up: your test was submitted with the answers you had saved.", "info")
    if not attempt.is_open:
        return _no_store(_result(attempt, now))
    if attempt.user_id != current_user.id:  # a facilitator looking at an attempt in progress
        return _no_store(render_page("exams/in_progress.html", None, attempt=attempt, progress=_progress(attempt)))
    view, number = _view_args()
    number = min(max(1, number), attempt.item_count)
    items, pages = _page_items(attempt, view, number)
    return _no_store(
        render_page(
            "exams/take.html",
            None,
            attempt=attempt,
            items=items,
            view=view,
            number=number,
            pages=pages,
            progress=_progress(attempt),
            form=AnswersForm(),
            now=now,
        )
    )


def _parse_answers():
    """{item: shown option or None}, {item: flagged} from the form; 400 on anything malformed."""
    answers: dict[int, int | None] = {}
    flags: dict[int, bool] = {}
    listed = request.form.getlist("items")
    if not listed or len(listed) > 100:
        abort(400)
    for raw in listed:
        try:
            item_id = record_id(raw)
        except ValueError:
            abort(400)
        value = request.form.get(f"a-{item_id}")
        if value is not None:
            if not value.isdigit() or len(value) > 2:
                abort(400)
            answers[item_id] = int(value)
        flags[item_id] = request.form.get(f"f-{item_id}") in ("1", "on", "y")
    return answers, flags


@bp.post("/exams/attempts/<int:attempt_id>/answers")
@login_required
def save_answers(attempt_id: int):
    # The attempt's row, locked, with what the check needs, in one query (an autosave runs on
    # every click); anyone refused gets the full check's answer (404, or 403 for a reader).
    attempt = service.answer_state(attempt_id, current_user.id)
    if attempt is None or not can(current_user, "save_answers", attempt):
        db.session.rollback()
        _attempt(attempt_id, "answer_attempt")
        abort(403)
    form = AnswersForm()
    if not form.validate_on_submit():
        abort(400)
    answers, flags = _parse_answers()
    view = "one" if request.form.get("view") == "one" else "all"
    number = record_id_or_one(request.form.get("q"))
    message, status, saved = None, 200, None
    zone = viewer_zone().key  # read before the save commits (after it, the person would be read again)
    try:
        saved = service.save_answers(attempt, answers, flags)
        message = f"Saved at {localtime(utcnow(), '%H:%M:%S', zone)}."  # in the person's own zone
    except KeyError:
        abort(404)
    except service.Refused as refused:
        message, status = str(refused), 409
        db.session.rollback()
    if request.headers.get("X-Autosave"):
        # The page's script: a small text, nothing else (no answers, no key).
        # The progress comes from the save itself (no query after the commit).
        progress = {"answered": saved.answered, "flagged": saved.flagged, "total": saved.total} if saved else None
        return _no_store(render_page("exams/_saved.html", None, status=status, message=message, progress=progress))
    if status != 200:
        # Refused only once the attempt is over: the attempt's page is then its result.
        say_here("result", message, "error")
        return redirect_to(url_for("exams.attempt", attempt_id=attempt.id, _anchor="result-message"))
    say_here("saved" if view == "all" else "question", message, "info")
    go = request.form.get("go")
    if view == "one" and go in ("next", "previous"):
        number = number + 1 if go == "next" else number - 1
        number = min(max(1, number), attempt.item_count)
    if go == "summary":
        say_here("summary", message, "info")
        return redirect_to(url_for("exams.summary", attempt_id=attempt.id, _anchor="summary-message"))
    anchor = "saved-message" if view == "all" else "question-message"
    args = {"view": "one", "q": number} if view == "one" else {}
    return redirect_to(url_for("exams.attempt", attempt_id=attempt.id, **args, _anchor=anchor))


@bp.get("/exams/attempts/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int):
    attempt = _attempt(attempt_id, "answer_attempt")
    now = utcnow()
    if attempt.is_open and service.close_if_due(attempt, now):
        say_here("result", "Time is up: your test was submitted with the answers you had saved.", "info")
    if not attempt.is_open:
        return redirect_to(url_for("exams.attempt", attempt_id=attempt.id, _anchor="result-message"))
    rows = db.session.execute(
        db.select(AttemptItem.position, AttemptItem.chosen, AttemptItem.flagged)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    ).all()
    unanswered = [r.position for r in rows if r.chosen is None]
    flagged = [r.position for r in rows if r.flagged]
    return _no_store(
        render_page(
            "exams/summary.html",
            None,
            attempt=attempt,
            unanswered=unanswered,
            flagged=flagged,
            form=SubmitForm(),
            progress=_progress(attempt),
            now=now,
        )
    )


@bp.post("/exams/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    attempt = _attempt(attempt_id, "answer_attempt")
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    if attempt.is_open:
        service.submit(attempt, by="trainee")
    return redirect_to(url_for("exams.attempt", attempt_id=attempt.id) + "#result")


def _result(attempt: Attempt, now):
    parts = service.breakdown(attempt)
    return render_page(
        "exams/result.html",
        None,
        attempt=attempt,
        parts=parts,
        weeks=WEEKS,
        competencies=COMPETENCIES,
        review=service.review_open(attempt, now),
        mine=attempt.user_id == current_user.id,
    )


@bp.get("/exams/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt = _attempt(attempt_id)
    if attempt.is_open:
        service.close_if_due(attempt)
    if attempt.is_open or not (service.review_open(attempt) or can(current_user, "manage_offering", attempt.offering)):
        abort(403)
    rows = db.session.execute(
        db.select(AttemptItem, ItemVersion)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id, AttemptItem.correct.is_not(True))
        .order_by(AttemptItem.position)
    ).all()
    missed = []
    for row, version in rows:
        missed.append(
            {
                "position": row.position,
                "stem": markup.render(version.stem, version.format),
                "options": [
                    {
                        "text": markup.render(version.options[i]["text"], version.format, inline=True),
                        "correct": bool(version.options[i].get("correct")),
                        "chosen": row.chosen == i,
                        "feedback": version.options[i].get("feedback") or "",
                    }
                    for i in row.option_order
                ],
                "rationale": markup.render(version.rationale, version.format) if version.rationale else None,
            }
        )
    return _no_store(render_page("exams/review.html", None, attempt=attempt, missed=missed))
