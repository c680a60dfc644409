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


def test_concurrent_withdrawals_move_up_exactly_the_first_in_line(app, make_user, make_cohort):
    """Three withdrawals at once (two people, one of them twice, as a double click would):
    exactly two places free up, the first two in line move up, and the cohort never holds
    more than its places."""
    from portal.models import Enrollment, EnrollmentStatus

    fran = make_user("fran.withdraw@example.org", roles=[Role.FACILITATOR])
    people = [make_user(f"waiter{n}@example.org") for n in range(7)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=3)
    with app.app_context():
        url = str(db.engine.url.render_as_string(hide_password=False))
    leaving = [cohort.enrollment_ids[0], cohort.enrollment_ids[1], cohort.enrollment_ids[1]]
    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        browsers, forms = [], []
        for enrollment_id in leaving:
            browser = Browser(base)
            token = browser.form_token("/login")
            status, _, _ = browser.post("/login", {"csrf_token": token, "email": fran.email, "password": fran.password})
            assert status == 303
            browsers.append(browser)
            forms.append(browser.form_token(f"/cohorts/{cohort.id}/roster/{enrollment_id}"))
        start = threading.Barrier(len(browsers))
        results: list[int] = []

        def withdraw(browser, csrf, enrollment_id):
            start.wait()
            status, _, _ = browser.post(
                f"/cohorts/{cohort.id}/roster/{enrollment_id}/withdraw", {"csrf_token": csrf, "reason": "left"}
            )
            results.append(status)

        threads = [threading.Thread(target=withdraw, args=args) for args in zip(browsers, forms, leaving, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(results) == [303, 303, 422]
    with app.app_context():
        statuses = dict(
            db.session.execute(
                db.select(Enrollment.user_id, Enrollment.status).where(Enrollment.cohort_id == cohort.id)
            ).all()
        )
    assert [statuses[p.id] for p in people] == [
        EnrollmentStatus.WITHDRAWN.value,
        EnrollmentStatus.WITHDRAWN.value,
        EnrollmentStatus.ENROLLED.value,
        EnrollmentStatus.ENROLLED.value,
        EnrollmentStatus.ENROLLED.value,
        EnrollmentStatus.WAITLISTED.value,
        EnrollmentStatus.WAITLISTED.value,
    ]


# --- attendance ---------------------------------------------------------------------------------


def test_two_hundred_trainees_check_in_at_once(app, make_user, make_cohort):
    """200 threads, each a signed-in trainee, post the code to one live session at the same
    moment: exactly 200 rows, none twice, no 5xx (ON CONFLICT DO NOTHING + the unique
    constraint on (session, person))."""
    import hashlib
    import secrets
    from datetime import timedelta

    from itsdangerous import URLSafeTimedSerializer

    from portal.attendance import roll
    from portal.models import Attendance, CohortSession, UserSession, utcnow

    fran = make_user("fran.burst@example.org", roles=[Role.FACILITATOR])
    people = [make_user(f"burst{n}@example.org") for n in range(200)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=200)
    sid = cohort.session_ids[0]
    cookies = []
    with app.app_context():
        session = db.session.get(CohortSession, sid)
        session.starts_at = utcnow() - timedelta(minutes=2)
        roll.open_checkin(session, db.session.get(User, fran.id))
        serializer = app.session_interface.get_signing_serializer(app)
        csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        for person in people:
            token = secrets.token_urlsafe(32)
            db.session.add(UserSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=person.id))
            raw = secrets.token_hex(20)
            cookie = serializer.dumps({"_user_id": token, "_fresh": True, "csrf_token": raw})
            cookies.append((f"{app.config['SESSION_COOKIE_NAME']}={cookie}", csrf.dumps(raw)))
        db.session.commit()
        url = str(db.engine.url.render_as_string(hide_password=False))
    import urllib.error
    import urllib.request

    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        import time

        from portal.attendance import codes

        if codes.seconds_left(utcnow()) < 15:  # a fresh code: the burst must not outlive its grace
            time.sleep(codes.seconds_left(utcnow()) + 0.5)
        with app.app_context():
            code = roll.current_code(db.session.get(CohortSession, sid))
        start = threading.Barrier(len(cookies))
        results: list[int] = []

        def post(cookie, token):
            request = urllib.request.Request(  # noqa: S310 - our own test server on 127.0.0.1
                f"{base}/sessions/{sid}/checkin",
                data=f"code={code}".encode(),
                method="POST",
                headers={"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true",
                         "Content-Type": "application/x-www-form-urlencoded"},
            )
            start.wait()
            try:
                with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
                    results.append(r.status)
            except urllib.error.HTTPError as e:
                results.append(e.code)
            except OSError:
                results.append(-1)

        threads = [threading.Thread(target=post, args=pair) for pair in cookies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(results) == 200 and all(s == 200 for s in results), sorted(set(results))
    with app.app_context():
        rows = db.session.execute(db.select(Attendance.user_id).where(Attendance.session_id == sid)).scalars().all()
    assert len(rows) == 200 and len(set(rows)) == 200
def test_two_facilitators_marking_one_cell_at_once_never_lose_an_update_silently(app, make_user, make_cohort):
    """The oral exam grid: two facilitators press the same cell on the same view, at the same
    moment, many times over. Exactly one change per round is written; the other is refused
    (409) with the current mark shown; the cell's version counts exactly the changes written."""
    from datetime import date, time, timedelta

    from portal.assessment import checklists, oral_exam
    from portal.models import CohortSession, OralExamMark

    fran = make_user("fran.grid@example.org", roles=[Role.FACILITATOR], name="Fran Grid")
    gus = make_user("gus.grid@example.org", roles=[Role.FACILITATOR], name="Gus Grid")
    trainee = make_user("tess.grid@example.org", name="Tess Grid")
    cohort = make_cohort(
        facilitators=[fran, gus], trainees=[trainee], first_day=date.today() - timedelta(weeks=5), start=time(0, 1)
    )
    with app.app_context():
        template = checklists.ensure_default()
        exam = oral_exam.open_exam(
            db.session.get(CohortSession, cohort.session_ids[5]), template.id, db.session.get(User, fran.id)
        )
        db.session.commit()
        exam_id, item_id = exam.id, oral_exam.items_of(exam)[0].id
        url = str(db.engine.url.render_as_string(hide_password=False))
    cell = f"/oral-exams/{exam_id}/trainees/{trainee.id}/items/{item_id}"
    rounds = 6
    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        browsers = {}
        for person in (fran, gus):
            browser = Browser(base)
            token = browser.form_token("/login")
            status, _, _ = browser.post(
                "/login", {"csrf_token": token, "email": person.email, "password": person.password}
            )
            assert status == 303
            browsers[person.name] = (browser, browser.form_token(f"/oral-exams/{exam_id}"))
        outcomes = []
        version, value = 0, "not_observed"
        for n in range(rounds):
            # Both saw the cell at `version`; each asks for a different mark.
            wanted = {"Fran Grid": "met", "Gus Grid": "not_yet"}
            start = threading.Barrier(2)
            answers: dict[str, tuple[int, str]] = {}

            def press(name, browser_token, wanted=wanted, start=start, answers=answers, version=version):
                browser, token = browser_token
                start.wait()
                status, _, body = browser.request(
                    "POST",
                    cell,
                    {"csrf_token": token, "mark": f"{wanted[name]}:{version}"},
                    headers={"HX-Request": "true", "HX-Current-URL": base + f"/oral-exams/{exam_id}"},
                )
                answers[name] = (status, body)

            threads = [threading.Thread(target=press, args=item) for item in browsers.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            statuses = sorted(status for status, _ in answers.values())
            assert statuses == [200, 409], (n, statuses)
            winner = next(name for name, (status, _) in answers.items() if status == 200)
            loser_body = next(body for status, body in answers.values() if status == 409)
            # The refused person sees the winner's mark and name, not their own.
            assert oral_exam.LABELS[wanted[winner]] in loser_body and winner in loser_body
            assert "Someone else changed this" in loser_body
            version, value = version + 1, wanted[winner]
            outcomes.append(winner)
    with app.app_context():
        mark = db.session.execute(db.select(OralExamMark)).scalar_one()
        assert (mark.version, mark.value) == (rounds, value)
        assert db.session.get(User, mark.changed_by_id).display_name == outcomes[-1]
