from __future__ import annotations

from flask import request, url_for
from flask_login import current_user, login_required
from wtforms import BooleanField, SearchField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.authz import can, require
from portal.directory import bp, core
from portal.extensions import db
from portal.forms import PortalForm, QueryForm
from portal.web import page_number, redirect_to, render_page, say_here


class FilterForm(QueryForm):
    region = SelectField("Region", validate_choice=False)
    interest = SearchField("Interest", validators=[Optional(), Length(max=80)])


class EntryForm(PortalForm):
    listed = BooleanField("List me in the member directory")
    region = StringField(
        "Region", validators=[Optional(), Length(max=80)], description="For example: Ohio, or Pacific Northwest."
    )
    interests = StringField(
        "Interests",
        validators=[Optional(), Length(max=300)],
        description="Separated by commas: youth, recovery, veterans.",
    )
    open_to_networking = BooleanField("Open to networking")
    intro = TextAreaField(
        "A short introduction", validators=[Optional(), Length(max=600, message="At most 600 characters.")]
    )


@bp.get("/directory")
@login_required
def index():
    require("use_directory")
    form = FilterForm(request.args)
    form.region.choices = [SelectChoice("", "Any region")] + [SelectChoice(r, r) for r in core.regions()]
    region = form.region.data or None
    interest = (form.interest.data or "").strip()[:80] or None
    listing = core.listing(region, interest, page_number())
    cert = {row.id: core.certification_status(row.id) for row in listing.rows}
    can_message = {row.id: row.id != current_user.id for row in listing.rows}
    return render_page(
        "notify/directory.html",
        "entries",
        form=form,
        listing=listing,
        cert=cert,
        can_message=can_message,
        own=core.entry_of(current_user.id),
        region=region or "",
        interest=interest or "",
        messaging=can(current_user, "use_messages"),
    )


@bp.route("/directory/me", methods=["GET", "POST"])
@login_required
def entry():
    require("use_directory")
    own = core.entry_of(current_user.id)
    form = EntryForm(obj=own) if request.method == "GET" else EntryForm()
    if form.validate_on_submit():
        core.save(
            current_user.id,
            listed=form.listed.data,
            region=form.region.data or "",
            interests=form.interests.data or "",
            open_to_networking=form.open_to_networking.data,
            intro=form.intro.data or "",
        )
        db.session.commit()
        say_here(
            "entry", "Saved: you are listed in the directory." if form.listed.data else "Saved: you are not listed."
        )
        return redirect_to(url_for("directory.entry"))
    status = 422 if form.is_submitted() else 200
    return render_page("notify/directory_entry.html", status=status, form=form)
