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


def test_capacity_holds_when_facilitators_add_people_at_the_same_moment(app, make_user, make_cohort):
    from portal.models import Enrollment, EnrollmentStatus

    fran = make_user("fran.race@example.org", roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], capacity=3)
    people = [make_user(f"racer{n}@example.org") for n in range(10)]
    with app.app_context():
        url = str(db.engine.url.render_as_string(hide_password=False))
    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        browsers = []
        for _ in people:
            browser = Browser(base)
            token = browser.form_token("/login")
            status, _, _ = browser.post("/login", {"csrf_token": token, "email": fran.email, "password": fran.password})
            assert status == 303
            browsers.append(browser)
        tokens_ = [b.form_token(f"/cohorts/{cohort.id}/roster/add") for b in browsers]
        start = threading.Barrier(len(browsers))
        results: list[int] = []

        def add(browser, csrf, person):
            start.wait()
            status, _, _ = browser.post(f"/cohorts/{cohort.id}/roster/add", {"csrf_token": csrf, "user_ids": person.id})
            results.append(status)

        threads = [threading.Thread(target=add, args=args) for args in zip(browsers, tokens_, people, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert results == [303] * 10
    with app.app_context():
        statuses = (
            db.session.execute(db.select(Enrollment.status).where(Enrollment.cohort_id == cohort.id)).scalars().all()
        )
        assert statuses.count(EnrollmentStatus.ENROLLED.value) == 3
        assert statuses.count(EnrollmentStatus.WAITLISTED.value) == 7
