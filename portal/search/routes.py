from __future__ import annotations

from flask import request
from flask_login import current_user, login_required
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from portal.authz import require
from portal.forms import QueryForm
from portal.search import bp, index
from portal.web import page_number, render_page


class SearchForm(QueryForm):
    q = SearchField("Search the boards", validators=[Optional(), Length(max=200)])
    sort = SelectField(
        "Order",
        choices=[SelectChoice("best", "Best match first"), SelectChoice("new", "Newest first")],
        validate_choice=False,
    )


@bp.get("/search")
@login_required
def page():
    require("search_posts")
    form = SearchForm(request.args)
    results = None
    if form.q.data and form.validate():
        sort = form.sort.data if form.sort.data in ("best", "new") else "best"
        results = index.search(current_user, form.q.data, page_number(), sort)
    return render_page("notify/search.html", "results", form=form, results=results)


@bp.cli.command("reindex")
def reindex_command():
    """Rebuild the search index from the board posts: `flask --app app search reindex`."""
    import click

    from portal.extensions import db

    count = index.reindex_all()
    db.session.commit()
    click.echo(f"{count} posts in the search index.")
