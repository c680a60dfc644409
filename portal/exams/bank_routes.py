"""The item bank (admins): list and filter, write and edit items, import GIFT or CSV through
a preview, export GIFT or CSV."""

from __future__ import annotations

import re

from flask import Response, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_

from portal import audit, markup
from portal.authz import require
from portal.exams import bank, bp, gift
from portal.exams.draw import COMPETENCIES, WEEKS
from portal.exams.forms import BankFilterForm, ImportForm, ItemForm
from portal.extensions import db
from portal.models import Item, ItemVersion
from portal.web import get_or_404, page_number, redirect_to, render_page, say_here

PER_PAGE = 50
MAX_UPLOAD = 2 * 1024 * 1024


def _filtered(form: BankFilterForm):
    query = db.select(Item).order_by(Item.week, Item.competency, Item.id)
    if form.week.data and not form.week.errors:
        query = query.where(Item.week == form.week.data)
    if form.competency.data and not form.competency.errors:
        query = query.where(Item.competency == form.competency.data)
    if form.status.data and not form.status.errors:
        query = query.where(Item.status == form.status.data)
    if form.q.data and not form.q.errors:
        like = f"%{form.q.data.strip()}%"
        query = query.where(or_(Item.title.ilike(like), ItemVersion.stem.ilike(like)))
    return query


@bp.get("/exams/bank")
@login_required
def bank_index():
    require("manage_item_bank")
    form = BankFilterForm(request.args)
    valid = form.validate()
    page = page_number()
    rows = bank.bank_rows(_filtered(form).limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    total = db.session.scalar(
        db.select(db.func.count()).select_from(
            _filtered(form).join(ItemVersion, ItemVersion.id == Item.current_version_id).subquery()
        )
    )
    counts = dict(db.session.execute(db.select(Item.status, db.func.count()).group_by(Item.status)).all())
    return render_page(
        "exams/bank.html",
        "bank_results",
        status=200 if valid else 422,
        form=form,
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        counts=counts,
        weeks=WEEKS,
        competencies=COMPETENCIES,
        args={k: v for k, v in request.args.items() if k in ("q", "week", "competency", "status") and v},
    )


def _export_rows():
    form = BankFilterForm(request.args)
    form.validate()
    return bank.bank_rows(_filtered(form))


@bp.get("/exams/bank/export.gift")
@login_required
def bank_export_gift():
    require("manage_item_bank")
    return Response(
        bank.to_gift(_export_rows()),
        mimetype="text/plain",
        headers={"Content-Disposition": "attachment; filename=item-bank.gift.txt"},
    )


@bp.get("/exams/bank/export.csv")
@login_required
def bank_export_csv():
    require("manage_item_bank")
    return Response(
        bank.to_csv(_export_rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=item-bank.csv"},
    )


def _draft_from_form(form: ItemForm, item_id: int | None) -> bank.Draft:
    options = form.options()
    return bank.Draft(
        title=form.title.data.strip(),
        stem=form.stem.data.strip(),
        options=[
            {"text": t, "correct": i == form.correct.data, "feedback": ""} for i, t in enumerate(options, start=1)
        ],
        rationale=(form.rationale.data or "").strip(),
        week=form.week.data,
        competency=form.competency.data,
        status=form.status.data,
        item_id=item_id,
    )


@bp.route("/exams/bank/new", methods=["GET", "POST"])
@login_required
def item_new():
    require("manage_item_bank")
    form = ItemForm()
    if form.validate_on_submit():
        item = bank.save(_draft_from_form(form, None), current_user.id)
        audit.record(current_user, "exam_item.created", item, title=item.title)
        db.session.commit()
        say_here("item-form", f"Item “{item.title}” saved.")
        return redirect_to(url_for("exams.item_edit", bank_item_id=item.id, _anchor="item-form-message"))
    return render_page(
        "exams/item.html",
        "item_form",
        status=422 if form.errors else 200,
        form=form,
        item=None,
        versions=[],
        preview=None,
    )


@bp.route("/exams/bank/<int:bank_item_id>", methods=["GET", "POST"])
@login_required
def item_edit(bank_item_id: int):
    require("manage_item_bank")
    item = get_or_404(Item, bank_item_id)
    version = db.session.get(ItemVersion, item.current_version_id)
    form = ItemForm()
    if request.method == "GET":
        form.title.data, form.stem.data, form.rationale.data = item.title, version.stem, version.rationale or ""
        for i, option in enumerate(version.options, start=1):
            getattr(form, f"option_{i}").data = option["text"]
        form.correct.data = version.correct_index + 1
        form.week.data, form.competency.data, form.status.data = version.week, version.competency, item.status
    elif form.validate_on_submit():
        draft = _draft_from_form(form, item.id)
        draft.id_number = item.id_number
        draft.tags = list(version.tags or [])
        draft.format = version.format
        # Option feedback written elsewhere (GIFT) stays with options whose text is unchanged.
        old = {o["text"]: o.get("feedback") or "" for o in version.options}
        for o in draft.options:
            o["feedback"] = old.get(o["text"], "")
        bank.save(draft, current_user.id)
        audit.record(current_user, "exam_item.changed", item, title=item.title)
        db.session.commit()
        say_here(
            "item-form",
            "Item saved."
            + (" Attempts that showed the earlier version keep it." if item.current_version_id != version.id else ""),
        )
        return redirect_to(url_for("exams.item_edit", bank_item_id=item.id, _anchor="item-form-message"))
    versions = list(
        db.session.execute(
            db.select(ItemVersion.number, ItemVersion.created_at)
            .where(ItemVersion.item_id == item.id)
            .order_by(ItemVersion.number)
        ).all()
    )
    preview = {
        "stem": markup.render(version.stem, version.format),
        "options": [(markup.render(o["text"], version.format, inline=True), o["correct"]) for o in version.options],
        "rationale": markup.render(version.rationale, version.format) if version.rationale else None,
    }
    return render_page(
        "exams/item.html",
        "item_form",
        status=422 if form.errors else 200,
        form=form,
        item=item,
        versions=versions,
        preview=preview,
    )


def _read_source(form: ImportForm) -> str | None:
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        data = upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            form.file.errors.append("The file is larger than 2 MB.")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors.append("The file is not UTF-8 text.")
            return None
    if form.source.data and form.source.data.strip():
        return form.source.data
    form.source.errors.append("Choose a file or paste the questions.")
    return None


_PLACE_FIELD = re.compile(r"place-([0-9]{1,7})-(week|competency)")


def _chosen_places() -> dict[int, dict[str, int]]:
    """{line: {"week": n, "competency": n}} from the preview's selects: only where the admin
    changed what the preview showed as the default (place-<line>-<kind>-was), so a new
    default for the whole import still reaches the items nobody changed by hand."""
    chosen: dict[int, dict[str, int]] = {}
    for key, value in request.form.items():
        found = _PLACE_FIELD.fullmatch(key)
        if not found or value == request.form.get(f"{key}-was", ""):
            continue
        line, kind = int(found.group(1)), found.group(2)
        if value.isdigit() and len(value) <= 2 and int(value) in (WEEKS if kind == "week" else COMPETENCIES):
            chosen.setdefault(line, {})[kind] = int(value)
    return chosen


@bp.route("/exams/bank/import", methods=["GET", "POST"])
@login_required
def bank_import():
    require("manage_item_bank")
    form = ImportForm()
    preview = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            text = _read_source(form)
            if text is None:
                status = 422
            else:
                # From here on the text travels in the form (a preview saves nothing).
                form.source.data = text
                if form.kind.data == "csv":
                    drafts, problems = bank.csv_drafts(text, form.week.data, form.competency.data)
                    skipped = []
                else:
                    result = gift.parse(text)
                    drafts = bank.drafts_from_gift(result, form.week.data, form.competency.data)
                    problems, skipped = list(result.problems), list(result.skipped)
                # The admin's week and competency for single items (the preview's selects).
                bank.place(drafts, _chosen_places())
                drafts, unplaced = bank.sort_out(drafts, problems)
                problems.sort()
                bank.match(drafts)
                action = request.form.get("action", "preview")
                if action in ("save", "save_valid") and drafts and (not problems or action == "save_valid"):
                    saved = 0
                    for d in drafts:
                        if d.action != "unchanged":
                            bank.save(d, current_user.id, default_status=form.status.data)
                            saved += 1
                    audit.record(
                        current_user,
                        "exam_items.imported",
                        "exam_items",
                        saved=saved,
                        unchanged=len(drafts) - saved,
                        kind=form.kind.data,
                    )
                    db.session.commit()
                    say_here(
                        "bank-results",
                        f"Imported: {sum(d.action == 'new' for d in drafts)} new, "
                        f"{sum(d.action == 'update' for d in drafts)} updated, "
                        f"{sum(d.action == 'unchanged' for d in drafts)} unchanged.",
                    )
                    return redirect_to(url_for("exams.bank_index", _anchor="bank-results-message"))
                preview = {
                    "drafts": drafts,
                    "unplaced": unplaced,
                    "problems": problems,
                    "skipped": skipped,
                    "render": markup.render,
                }
                status = 422 if problems or not drafts else 200
    return render_page(
        "exams/import.html",
        "import_preview",
        status=status,
        form=form,
        preview=preview,
        weeks=WEEKS,
        competencies=COMPETENCIES,
    )
