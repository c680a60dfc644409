"""Claims about simultaneous requests, against a real multi-worker server process."""

from __future__ import annotations

import threading

from portal.auth import tokens
from portal.extensions import db
from portal.models import AuditEvent, Invitation, Role, User
from tests.server import Browser, gunicorn


def test_an_invitation_link_works_once_even_when_used_at_the_same_moment(app, make_user):
    person = make_user("race@example.org", roles=[Role.TRAINEE], status="invited")
    with app.app_context():
        token = tokens.issue("invite", db.session.get(User, person.id), app.config["INVITATION_MAX_AGE"])
        db.session.commit()
        url = str(db.engine.url.render_as_string(hide_password=False))
    path = f"/invitation/{token}"
    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        browsers = [Browser(base) for _ in range(8)]
        forms = [b.form_token(path) for b in browsers]
        start = threading.Barrier(len(browsers))
        results: list[int] = []

        def accept(browser, csrf, n):
            start.wait()
            status, _, _ = browser.post(
                path,
                {
                    "csrf_token": csrf,
                    "display_name": f"Racer {n}",
                    "password": f"racing phrase {n} x",
                    "confirm": f"racing phrase {n} x",
                },
            )
            results.append(status)

        threads = [
            threading.Thread(target=accept, args=(b, t, n))
            for n, (b, t) in enumerate(zip(browsers, forms, strict=True))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(results) == [303] + [410] * 7
    with app.app_context():
        assert db.session.execute(db.select(Invitation)).scalar_one().used_at is not None
        assert len(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "account.activated")).all()) == 1
