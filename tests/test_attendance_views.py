"""Attendance where people look: hours on the trainee dashboard and on the facilitator's roster
(one query set for the whole roster), the feedback prompt on the dashboard, the live page
from calendar events."""

from __future__ import annotations

from datetime import timedelta

from portal.attendance import roll
from portal.extensions import db
from portal.models import CohortSession, Role, User, utcnow
from tests.factories import text_of
from tests.test_attendance import move


def _mark(app, sid, user_id, status, minutes, by):
    with app.app_context():
        roll.mark(db.session.get(CohortSession, sid), user_id, status, minutes, None, db.session.get(User, by.id))
        db.session.commit()


def _cohort_with_two_weeks_done(app, make_user, make_cohort):
    """Weeks 1 and 2 ended (yesterday and an hour ago): ana present at both, ben late at
    week 1 (100 minutes) and absent at week 2."""
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    ana, ben = make_user("ana@example.org", name="Ana Attends"), make_user("ben@example.org", name="Ben Busy")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    w1, w2 = cohort.session_ids[:2]
    now = utcnow()
    move(app, w2, now - timedelta(hours=3))  # ended an hour ago
    move(app, w1, now - timedelta(days=1, hours=3))
    _mark(app, w1, ana.id, "present", 120, fran)
    _mark(app, w2, ana.id, "present", 120, fran)
    _mark(app, w1, ben.id, "late", 100, fran)
    _mark(app, w2, ben.id, "absent", 0, fran)
    return fran, ana, ben, cohort


def test_trainee_dashboard_shows_hours_toward_the_twelve(app, client, auth, make_user, make_cohort):
    fran, ana, ben, cohort = _cohort_with_two_weeks_done(app, make_user, make_cohort)
    auth.login_as(ana)
    page = text_of(client.get("/dashboard/trainee"))
    assert "Live hours: 4 of 12" in page and "2 of 6 weeks covered (weeks 1, 2)" in page
    auth.login_as(ben)
    page = text_of(client.get("/dashboard/trainee"))
    assert "Live hours: 1.67 of 12" in page and "1 of 6 weeks covered (week 1)" in page


def test_roster_shows_each_trainees_hours(app, client, auth, make_user, make_cohort):
    fran, ana, ben, cohort = _cohort_with_two_weeks_done(app, make_user, make_cohort)
    auth.login_as(fran)
    page = text_of(client.get(f"/cohorts/{cohort.id}"))
    assert "Live hours" in page
    assert "Ana Attends" in page and "4 of 12 (2/6 weeks)" in page
    assert "1.67 of 12 (1/6 weeks)" in page


def test_roster_hours_take_one_set_of_queries_whatever_the_roster_size(app, client, auth, make_user, make_cohort, queries):
    counts = []
    for n in (3, 60):
        fran = make_user(f"fran{n}@example.org", roles=[Role.FACILITATOR])
        people = [make_user(f"r{n}-{i}@example.org") for i in range(n)]
        cohort = make_cohort(facilitators=[fran], trainees=people, capacity=n, name=f"Roster {n}")
        sid = cohort.session_ids[0]
        move(app, sid, utcnow() - timedelta(hours=3))
        with app.app_context():
            s = db.session.get(CohortSession, sid)
            for p in people:
                roll.mark(s, p.id, "present", 120, None, db.session.get(User, fran.id))
            db.session.commit()
        auth.login_as(fran)
        with queries() as q:
            response = client.get(f"/cohorts/{cohort.id}")
        assert response.status_code == 200 and text_of(response).count("2 of 12 (1/6 weeks)") == n
        counts.append(len(q))
    assert counts[0] == counts[1], counts


def test_feedback_prompt_on_the_dashboard_when_due(app, client, auth, make_user, make_cohort):
    fran, ana, ben, cohort = _cohort_with_two_weeks_done(app, make_user, make_cohort)
    w1, w2 = cohort.session_ids[:2]
    auth.login_as(ana)
    page = client.get("/dashboard/trainee").get_data(as_text=True)
    assert f"/sessions/{w1}/feedback" in page and f"/sessions/{w2}/feedback" in page
    assert client.post(f"/sessions/{w2}/feedback", data={"usefulness": "4"}).status_code == 303
    page = client.get("/dashboard/trainee").get_data(as_text=True)
    assert f"/sessions/{w2}/feedback" not in page and f"/sessions/{w1}/feedback" in page  # asked once
    # The live page asks too, once, for the session it is about.
    live_w1 = client.get(f"/sessions/{w1}/live").get_data(as_text=True)
    assert f"/sessions/{w1}/feedback" in live_w1 and "Tell us how useful this session was" in live_w1
    assert "Tell us how useful this session was" not in client.get(f"/sessions/{w2}/live").get_data(as_text=True)
    auth.login_as(ben)  # absent at week 2: not asked about it; late at week 1: asked
    page = client.get("/dashboard/trainee").get_data(as_text=True)
    assert f"/sessions/{w2}/feedback" not in page and f"/sessions/{w1}/feedback" in page
    assert "Tell us how useful this session was" not in client.get(f"/sessions/{w2}/live").get_data(as_text=True)
    # Not before the session has ended, nor more than a week after.
    move(app, w1, utcnow() - timedelta(days=9))
    move(app, w2, utcnow() - timedelta(minutes=30))
    _mark(app, w2, ben.id, "present", 120, fran)
    page = client.get("/dashboard/trainee").get_data(as_text=True)
    assert "How was your session?" not in page


def test_dashboard_next_session_card_and_calendar_lead_to_the_live_page(app, client, auth, make_user, make_cohort):
    fran, ana, ben, cohort = _cohort_with_two_weeks_done(app, make_user, make_cohort)
    w3 = cohort.session_ids[2]
    auth.login_as(ana)
    assert f"/sessions/{w3}/live" in client.get("/dashboard/trainee").get_data(as_text=True)
    ics = client.get(f"/sessions/{w3}/calendar.ics").get_data(as_text=True).replace("\r\n ", "")
    assert f"URL:http://localhost/sessions/{w3}/live" in ics or f"/sessions/{w3}/live" in ics


def test_the_idle_poll_asks_who_polls_and_costs_two_queries(app, client, auth, make_user, make_cohort, queries):
    """The roll's poll (?v=) answers 204 from one query after the sign-in's own: only to the
    cohort's facilitators and admins; others get 403 whatever version they guess."""
    from tests.test_attendance import open_window

    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    other_fac = make_user("olga@example.org", roles=[Role.FACILITATOR])
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    ana = make_user("ana@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[ana])
    make_cohort(facilitators=[other_fac], name="Olga's")
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(minutes=5))
    open_window(app, sid, fran)
    with app.app_context():
        v = roll.version(sid)
    hx = {"HX-Request": "true"}
    for who in (fran, admin):
        auth.login_as(who)
        client.get("/dashboard")  # the session's once-a-minute touch happens here, not below
        with queries() as q:
            assert client.get(f"/sessions/{sid}/roll?v={v}", headers=hx).status_code == 204
        assert len(q) == 2, q
    for who in (other_fac, ana):
        auth.login_as(who)
        assert client.get(f"/sessions/{sid}/roll?v={v}", headers=hx).status_code == 403
        assert client.get(f"/sessions/{sid}/roll?v=nonsense", headers=hx).status_code == 403
    auth.login_as(fran)
    assert client.get(f"/sessions/{sid + 1000}/roll?v={v}", headers=hx).status_code == 404
    _mark(app, sid, ana.id, "present", 120, fran)
    changed = client.get(f"/sessions/{sid}/roll?v={v}", headers=hx)
    assert changed.status_code == 200 and "Present, 120 min" in text_of(changed)


def test_htmx_checkin_answers_with_the_checkin_box_only(app, client, auth, make_user, make_cohort):
    from tests.test_attendance import code_of, open_window

    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    ana = make_user("ana@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[ana])
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(minutes=5))
    open_window(app, sid, fran)
    auth.login_as(ana)
    hx = {"HX-Request": "true"}
    wrong = client.post(f"/sessions/{sid}/checkin", data={"code": "000000" if code_of(app, sid) != "000000" else "111111"},
                        headers=hx)
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert '<section id="checkin"' in body and "<html" not in body and "That code is not right" in body
    assert 'name="code"' in body  # the form again, to try once more
    ok = client.post(f"/sessions/{sid}/checkin", data={"code": code_of(app, sid)}, headers=hx)
    body = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "<html" not in body and len(body) < 1000
    assert "You are checked in: present." in body and "You are marked <strong>present</strong> (120 minutes)" in body
    again = client.post(f"/sessions/{sid}/checkin", data={"code": code_of(app, sid)}, headers=hx)
    assert "You are already checked in (present)" in again.get_data(as_text=True)
