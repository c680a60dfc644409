"""Checklist templates (admins): the list, one template's current version, editing and adding
items (a used version is never changed: the edit makes a new version)."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required

from portal.assessment import bp, checklists
from portal.assessment.forms import ChecklistItemForm, MoveItemForm, NewChecklistForm, RetireChecklistForm
from portal.authz import require
from portal.extensions import db
from portal.models import ChecklistItem, ChecklistTemplate, ChecklistVersion, utcnow
from portal.web import get_or_404, redirect_to, render_page, say_here


@bp.get("/checklists")
@login_required
def checklists_index():
    require("manage_checklists")
    return _index_page()


def _index_page(form=None, status=200):
    templates = list(db.session.execute(db.select(ChecklistTemplate).order_by(ChecklistTemplate.id)).scalars())
    versions = {t.id: checklists.current_version(t.id) for t in templates}
    return render_page(
        "assessment/checklists.html",
        status=status,
        templates=templates,
        versions=versions,
        form=form or NewChecklistForm(formdata=None),
    )


@bp.post("/checklists")
@login_required
def create_checklist():
    require("manage_checklists")
    form = NewChecklistForm()
    if not form.validate_on_submit():
        return _index_page(form, status=422)
    try:
        template = checklists.new_template(form.name.data, current_user)
    except checklists.ChecklistError as error:
        db.session.rollback()
        form.name.errors.append(str(error))
        return _index_page(form, status=422)
    db.session.commit()
    say_here("add", f"Created {template.name}: add its items.")
    return redirect_to(url_for("assessment.checklist", template_id=template.id, _anchor="add-message"))


@bp.post("/checklists/<int:template_id>/retire")
@login_required
def retire_checklist(template_id: int):
    require("manage_checklists")
    template = get_or_404(ChecklistTemplate, template_id)
    if not RetireChecklistForm().validate_on_submit():
        abort(400)
    changed = checklists.retire(template, current_user, utcnow())
    db.session.commit()
    say_here(
        "status",
        "Retired: it is no longer offered for new oral exams; results marked on it keep it."
        if changed
        else "Already retired.",
        "success" if changed else "info",
    )
    return redirect_to(url_for("assessment.checklist", template_id=template.id, _anchor="status-message"))


@bp.post("/checklists/<int:template_id>/items/<int:item_id>/move")
@login_required
def move_item(template_id: int, item_id: int):
    require("manage_checklists")
    template = get_or_404(ChecklistTemplate, template_id)
    item = get_or_404(ChecklistItem, item_id)
    before = checklists.current_version(template.id)
    if item.version_id != before.id:
        abort(404)
    form = MoveItemForm()
    if not form.validate_on_submit():
        return _template_page(template, status=422)
    # The item ends where its neighbour was (a new version keeps the positions): the answer
    # is shown there, next to the item's buttons.
    positions = [i.position for i in before.items]
    here = positions.index(item.position) + (-1 if form.direction.data == "up" else 1)
    place = f"item-{positions[here] if 0 <= here < len(positions) else item.position}"
    try:
        version = checklists.move_item(template, item.id, form.direction.data, current_user)
    except checklists.ChecklistError as error:
        db.session.rollback()
        place = f"item-{item.position}"
        say_here(place, str(error), "error")
        return redirect_to(url_for("assessment.checklist", template_id=template.id, _anchor=f"{place}-message"))
    return _saved(template, before.number, version, place)


def _template_page(template: ChecklistTemplate, add_form=None, edit_forms=None, status=200):
    version = checklists.current_version(template.id)
    edit_forms = edit_forms or {}
    forms = {}
    for item in version.items:
        forms[item.id] = edit_forms.get(item.id) or ChecklistItemForm(
            formdata=None,
            prefix=f"item{item.id}",
            competency=item.competency,
            title=item.title,
            met_looks_like=item.met_looks_like,
            required="yes" if item.required else "no",
        )
    return render_page(
        "assessment/checklist.html",
        status=status,
        checklist=template,
        version=version,
        used=checklists.version_used(version.id),
        forms=forms,
        add_form=add_form or ChecklistItemForm(formdata=None, prefix="new"),
    )


@bp.get("/checklists/<int:template_id>")
@login_required
def checklist(template_id: int):
    require("manage_checklists")
    return _template_page(get_or_404(ChecklistTemplate, template_id))


def _text(form: ChecklistItemForm) -> checklists.ItemText:
    return checklists.ItemText(
        form.competency.data, form.title.data or "", form.met_looks_like.data or "", form.required.data == "yes"
    )


def _saved(template: ChecklistTemplate, before: int, version: ChecklistVersion, place: str):
    """Commit, and answer at `place` (the item's own entry, or the add form)."""
    db.session.commit()
    if version.number != before:
        say_here(place, f"Saved as version {version.number}: results marked on version {before} keep their items.")
    else:
        say_here(place, "Saved.")
    return redirect_to(url_for("assessment.checklist", template_id=template.id, _anchor=f"{place}-message"))


@bp.post("/checklists/<int:template_id>/items/<int:item_id>")
@login_required
def edit_item(template_id: int, item_id: int):
    require("manage_checklists")
    template = get_or_404(ChecklistTemplate, template_id)
    item = get_or_404(ChecklistItem, item_id)
    before = checklists.current_version(template.id)
    if item.version_id != before.id:
        abort(404)
    form = ChecklistItemForm(prefix=f"item{item.id}")
    if not form.validate_on_submit():
        return _template_page(template, edit_forms={item.id: form}, status=422)
    try:
        version = checklists.edit_item(template, item.id, _text(form), current_user)
    except checklists.ChecklistError as error:
        db.session.rollback()
        form.title.errors.append(str(error))
        return _template_page(template, edit_forms={item.id: form}, status=422)
    return _saved(template, before.number, version, f"item-{item.position}")


@bp.post("/checklists/<int:template_id>/items")
@login_required
def add_item(template_id: int):
    require("manage_checklists")
    template = get_or_404(ChecklistTemplate, template_id)
    before = checklists.current_version(template.id)
    form = ChecklistItemForm(prefix="new")
    if not form.validate_on_submit():
        return _template_page(template, add_form=form, status=422)
    try:
        version = checklists.add_item(template, _text(form), current_user)
    except checklists.ChecklistError as error:
        db.session.rollback()
        form.title.errors.append(str(error))
        return _template_page(template, add_form=form, status=422)
    return _saved(template, before.number, version, "add")
