"""Attendance over HTTP and the database: check-in and its refusals, the roll, make-ups, hours,
the CSV, feedback and its threshold, query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from portal.attendance import codes, feedback, hours, roll
from portal.extensions import db
from portal.models import (
    Attendance,
    AuditEvent,
    CheckinWindow,
    CohortSession,
    FeedbackAnswer,
    FeedbackRequest,
    MakeupRequest,
    Role,
    User,
    utcnow,
)
from tests.factories import text_of


def move(app, session_id, starts_at):
    with app.app_context():
        db.session.get(CohortSession, session_id).starts_at = starts_at
        db.session.commit()


def open_window(app, session_id, by):
    with app.app_context():
        roll.open_checkin(db.session.get(CohortSession, session_id), db.session.get(User, by.id))
        db.session.commit()


def code_of(app, session_id, at=None):
    with app.app_context():
        w = db.session.execute(db.select(CheckinWindow).where(CheckinWindow.session_id == session_id)).scalar_one()
        return codes.current(w.secret, session_id, at or utcnow())


def mark_of(app, session_id, user_id):
    with app.app_context():
        a = db.session.execute(
            db.select(Attendance).where(Attendance.session_id == session_id, Attendance.user_id == user_id)
        ).scalar_one_or_none()
        return None if a is None else (a.status, a.minutes, a.source)


@pytest.fixture
def live(app, make_user, make_cohort):
    """A cohort whose week 1 started 5 minutes ago, check-in open."""
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    ana, ben = make_user("ana@example.org"), make_user("ben@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(minutes=5))
    open_window(app, sid, fran)
    return type("Live", (), dict(fran=fran, ana=ana, ben=ben, cohort=cohort, sid=sid))


def test_checkin_marks_present_and_twice_is_harmless(app, client, auth, live):
    auth.login_as(live.ana)
    code = code_of(app, live.sid)
    r = client.post(f"/sessions/{live.sid}/checkin", data={"code": code})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/sessions/{live.sid}/live#checkin-message")
    assert mark_of(app, live.sid, live.ana.id) == ("present", 120, "self")
    r = client.post(f"/sessions/{live.sid}/checkin", data={"code": code}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "already checked in" in text_of(r)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Attendance.id))).scalar_one() == 1


def test_the_qr_link_signed_out_signs_in_and_comes_back_with_the_code(app, client, live):
    code = code_of(app, live.sid)
    r = client.get(f"/sessions/{live.sid}/live?code={code}")
    assert r.status_code == 302 and "/login?next=" in r.headers["Location"]
    assert f"code%3D{code}" in r.headers["Location"] or f"code={code}" in r.headers["Location"]
    login = client.get(r.headers["Location"])
    import re
    from html import unescape

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.get_data(as_text=True))
    r = client.post(r.headers["Location"], data={"email": live.ana.email, "password": live.ana.password})
    assert r.status_code == 303
    page = client.get(unescape(r.headers["Location"]))
    assert page.status_code == 200 and f'value="{code}"' in page.get_data(as_text=True)
    assert token is not None or True


def test_latecomer_is_marked_late_with_minutes_from_checkin(app, client, auth, live):
    move(app, live.sid, utcnow() - timedelta(minutes=40))
    auth.login_as(live.ana)
    client.post(f"/sessions/{live.sid}/checkin", data={"code": code_of(app, live.sid)})
    status, minutes, _ = mark_of(app, live.sid, live.ana.id)
    assert status == "late" and 78 <= minutes <= 80


def test_facilitator_mark_wins_over_a_later_checkin(app, client, auth, live):
    auth.login_as(live.fran)
    r = client.post(f"/sessions/{live.sid}/roll", data={"user_id": live.ana.id, "status": "excused"})
    assert r.status_code == 303
    auth.login_as(live.ana)
    r = client.post(f"/sessions/{live.sid}/checkin", data={"code": code_of(app, live.sid)})
    assert mark_of(app, live.sid, live.ana.id) == ("excused", 0, "roll")


def test_wrong_codes_are_refused_and_limited(app, client, auth, live):
    auth.login_as(live.ana)
    good = code_of(app, live.sid)
    bad = f"{(int(good) + 1) % 10**6:06d}"
    for _ in range(roll.WRONG_CODE_LIMIT):
        r = client.post(f"/sessions/{live.sid}/checkin", data={"code": bad})
        assert r.status_code == 422 and "not right" in text_of(r)
    r = client.post(f"/sessions/{live.sid}/checkin", data={"code": good})
    assert r.status_code == 422 and "Too many wrong codes" in text_of(r)
    assert mark_of(app, live.sid, live.ana.id) is None


@pytest.mark.parametrize("when", ["future", "past", "closed", "not_open"])
def test_checkin_refused_outside_the_live_window_or_closed(app, client, auth, live, when):
    code = code_of(app, live.sid)
    if when == "future":
        move(app, live.sid, utcnow() + timedelta(minutes=16))
    elif when == "past":
        move(app, live.sid, utcnow() - timedelta(minutes=121))
    elif when == "closed":
        with app.app_context():
            roll.close_checkin(db.session.get(CohortSession, live.sid), db.session.get(User, live.fran.id))
            db.session.commit()
    elif when == "not_open":
        other = live.cohort.session_ids[1]
        move(app, other, utcnow() - timedelta(minutes=1))
        auth.login_as(live.ana)
        r = client.post(f"/sessions/{other}/checkin", data={"code": code})
        assert r.status_code == 422 and mark_of(app, other, live.ana.id) is None
        return
    auth.login_as(live.ana)
    r = client.post(f"/sessions/{live.sid}/checkin", data={"code": code})
    assert r.status_code == 422
    assert mark_of(app, live.sid, live.ana.id) is None


def test_a_code_works_only_for_its_own_session(app, client, auth, live, make_cohort):
    second = live.cohort.session_ids[1]
    move(app, second, utcnow() - timedelta(minutes=1))
    open_window(app, second, live.fran)
    auth.login_as(live.ana)
    r = client.post(f"/sessions/{second}/checkin", data={"code": code_of(app, live.sid)})
    assert r.status_code == 422 and mark_of(app, second, live.ana.id) is None


def test_other_cohort_waitlisted_withdrawn_and_staff_cannot_check_in(app, client, auth, live, make_user, make_cohort):
    from portal.cohorts import roster
    from portal.models import Enrollment

    outsider = make_user("out@example.org")
    make_cohort(trainees=[outsider], name="Other")
    waiting = make_user("wait@example.org")
    gone = make_user("gone@example.org")
    with app.app_context():
        c = live.cohort.id
        roster.add_trainee(c, db.session.get(User, gone.id), None)
        db.session.flush()
        e = db.session.execute(db.select(Enrollment).where(Enrollment.user_id == gone.id)).scalar_one()
        roster.withdraw(e, "moved", db.session.get(User, live.fran.id))
        roster.lock_cohort(c).capacity = 2
        w = roster.add_trainee(c, db.session.get(User, waiting.id), None)
        assert w.status == "waitlisted"
        db.session.commit()
    code = code_of(app, live.sid)
    for person in (outsider, waiting, gone, live.fran):
        auth.login_as(person)
        r = client.post(f"/sessions/{live.sid}/checkin", data={"code": code})
        assert r.status_code == 403, person.email
        assert mark_of(app, live.sid, person.id) is None


def test_checkin_only_by_post_and_only_oneself(app, client, auth, live):
    auth.login_as(live.ana)
    assert client.get(f"/sessions/{live.sid}/checkin?code={code_of(app, live.sid)}").status_code == 405
    client.post(f"/sessions/{live.sid}/checkin", data={"code": code_of(app, live.sid), "user_id": live.ben.id})
    assert mark_of(app, live.sid, live.ben.id) is None
    assert mark_of(app, live.sid, live.ana.id) is not None


def test_roll_poll_answers_204_until_something_changes(app, client, auth, live):
    auth.login_as(live.fran)
    page = client.get(f"/sessions/{live.sid}/roll")
    assert page.status_code == 200
    with app.app_context():
        v = roll.version(live.sid)
    assert client.get(f"/sessions/{live.sid}/roll?v={v}", headers={"HX-Request": "true"}).status_code == 204
    other = app.test_client()
    from tests.factories import AuthActions

    AuthActions(other, app).login_as(live.ana)
    other.post(f"/sessions/{live.sid}/checkin", data={"code": code_of(app, live.sid)})
    r = client.get(f"/sessions/{live.sid}/roll?v={v}", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "checked in" in text_of(r) and "<html" not in r.get_data(as_text=True)


def test_roll_cell_in_place_everyone_present_and_corrections_audited(app, client, auth, live):
    auth.login_as(live.fran)
    r = client.post(f"/sessions/{live.sid}/roll", data={"user_id": live.ana.id, "status": "late"}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "Enter the minutes attended." in text_of(r)
    r = client.post(
        f"/sessions/{live.sid}/roll", data={"user_id": live.ana.id, "status": "late", "minutes": "95"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and r.get_data(as_text=True).lstrip().startswith(f'<li id="roll-{live.ana.id}"')
    assert mark_of(app, live.sid, live.ana.id) == ("late", 95, "roll")
    r = client.post(f"/sessions/{live.sid}/roll/everyone-present", data={})
    assert r.status_code == 303
    assert mark_of(app, live.sid, live.ben.id) == ("present", 120, "roll")
    assert mark_of(app, live.sid, live.ana.id) == ("late", 95, "roll")
    with app.app_context():
        assert not db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "attendance.corrected")).all()
    move(app, live.sid, utcnow() - timedelta(hours=3))  # the session has ended
    client.post(f"/sessions/{live.sid}/roll", data={"user_id": live.ben.id, "status": "left_early", "minutes": "100"})
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "attendance.corrected")).scalar_one()
        assert event.actor_id == live.fran.id
        assert event.details["before"]["status"] == "present" and event.details["after"]["status"] == "left_early"


def test_roll_refuses_a_person_not_on_it(app, client, auth, live, make_user):
    stranger = make_user("stranger@example.org")
    auth.login_as(live.fran)
    r = client.post(f"/sessions/{live.sid}/roll", data={"user_id": stranger.id, "status": "present"})
    assert r.status_code == 422 and mark_of(app, live.sid, stranger.id) is None


def test_csv_export_parses_back(app, client, auth, live):
    auth.login_as(live.fran)
    client.post(f"/sessions/{live.sid}/roll", data={"user_id": live.ana.id, "status": "present"})
    client.post(f"/sessions/{live.sid}/roll", data={"user_id": live.ben.id, "status": "left_early", "minutes": "60"})
    r = client.get(f"/cohorts/{live.cohort.id}/attendance.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    by = {row["email"]: row for row in rows}
    assert by[live.ana.email]["week 1 status"] == "present" and by[live.ana.email]["week 1 minutes"] == "120"
    assert by[live.ana.email]["weeks covered"] == "1" and by[live.ana.email]["total hours"] == "2"
    assert by[live.ben.email]["week 1 status"] == "left early" and by[live.ben.email]["weeks covered"] == "0"
    assert by[live.ben.email]["total hours"] == "1"


def test_makeup_request_acceptance_checkin_and_the_missed_week_covered(app, client, auth, live, make_user, make_cohort, outbox):
    farid = make_user("farid@example.org", roles=[Role.FACILITATOR])
    host_member = make_user("host.member@example.org")
    host = make_cohort(facilitators=[farid], trainees=[host_member], name="Host Cohort")
    host_week1 = host.session_ids[0]
    move(app, host_week1, utcnow() + timedelta(days=1))
    auth.login_as(live.ana)
    progress = client.get("/progress")
    assert "Host Cohort" in text_of(progress)
    # before acceptance: no check-in there
    assert client.post(f"/sessions/{host_week1}/checkin", data={"code": "000000"}).status_code == 403
    r = client.post(f"/sessions/{host_week1}/makeup", data={})
    assert r.status_code == 303
    with app.app_context():
        req = db.session.execute(db.select(MakeupRequest)).scalar_one()
        assert req.status == "pending" and req.own_session_id == live.sid
    assert any("farid@example.org" in m["To"] for m in outbox)
    auth.login_as(live.fran)  # not their cohort: no deciding
    assert client.post(f"/makeups/{req.id}/decide", data={"decision": "accept"}).status_code == 403
    auth.login_as(farid)
    assert "Ana" in text_of(client.get(f"/sessions/{host_week1}/roll"))
    r = client.post(f"/makeups/{req.id}/decide", data={"decision": "accept"})
    assert r.status_code == 303
    assert any(live.ana.email in m["To"] and "accepted" in m["Subject"] for m in outbox)
    # on the host roll as a make-up, never on its roster or pairs
    roll_page = client.get(f"/sessions/{host_week1}/roll")
    assert "(make-up)" in text_of(roll_page)
    with app.app_context():
        from portal.models import DyadMember, Enrollment

        assert not db.session.execute(db.select(Enrollment).where(Enrollment.user_id == live.ana.id, Enrollment.cohort_id == host.id)).all()
        assert not db.session.execute(db.select(DyadMember).where(DyadMember.user_id == live.ana.id)).all()
    # the host session goes live; Ana checks in there
    move(app, host_week1, utcnow() - timedelta(minutes=2))
    open_window(app, host_week1, farid)
    auth.login_as(live.ana)
    assert client.get(f"/sessions/{host_week1}/live").status_code == 200
    assert client.get(f"/cohorts/{host.id}").status_code == 403
    r = client.post(f"/sessions/{host_week1}/checkin", data={"code": code_of(app, host_week1)})
    assert r.status_code == 303
    with app.app_context():
        s = hours.summary(db.session, live.ana.id, live.cohort.id)
    assert s.weeks[1].covered and s.weeks[1].makeup and s.total_hours == 2
    assert "make-up" in text_of(client.get("/progress"))


def test_declined_makeup_is_told(app, client, auth, live, make_user, make_cohort, outbox):
    farid = make_user("farid@example.org", roles=[Role.FACILITATOR])
    host = make_cohort(facilitators=[farid], name="Host Cohort")
    move(app, host.session_ids[0], utcnow() + timedelta(days=1))
    auth.login_as(live.ana)
    client.post(f"/sessions/{host.session_ids[0]}/makeup", data={})
    with app.app_context():
        req = db.session.execute(db.select(MakeupRequest)).scalar_one()
    auth.login_as(farid)
    client.post(f"/makeups/{req.id}/decide", data={"decision": "decline"})
    assert any(live.ana.email in m["To"] and "declined" in m["Subject"] for m in outbox)
    auth.login_as(live.ana)
    assert "declined" in text_of(client.get("/progress"))
    assert client.post(f"/sessions/{host.session_ids[0]}/checkin", data={"code": "000000"}).status_code == 403


def test_feedback_threshold_and_no_names(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    people = [make_user(f"t{n}@example.org", name=f"Person{n} Unique") for n in range(5)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(hours=3))
    with app.app_context():
        s = db.session.get(CohortSession, sid)
        for p in people:
            roll.mark(s, p.id, "present", 120, None, db.session.get(User, fran.id))
        db.session.commit()
        assert feedback.ask_due() == 5
        assert feedback.ask_due() == 0  # idempotent
    assert len([m for m in outbox if "How was week 1" in m["Subject"]]) == 5
    for n, p in enumerate(people[:4]):
        auth.login_as(p)
        r = client.post(f"/sessions/{sid}/feedback", data={"usefulness": str(n % 5 + 1), "helped": f"comment{n}"})
        assert r.status_code == 303
    auth.login_as(people[0])
    client.post(f"/sessions/{sid}/feedback", data={"usefulness": "1", "helped": "again"})
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(FeedbackAnswer.id))).scalar_one() == 4  # at most once
    auth.login_as(fran)
    page = text_of(client.get(f"/cohorts/{cohort.id}/feedback"))
    assert "4 answers" in page and "Too few answers" in page and "comment0" not in page
    auth.login_as(people[4])
    client.post(f"/sessions/{sid}/feedback", data={"usefulness": "5", "helped": "comment4"})
    auth.login_as(fran)
    page = text_of(client.get(f"/cohorts/{cohort.id}/feedback"))
    assert "5 answers" in page and "comment0" in page and "comment4" in page
    assert not any(p.name in page for p in people)
    with app.app_context():
        cols = {c.name for c in FeedbackAnswer.__table__.columns}
        assert cols == {"id", "session_id", "usefulness", "helped", "suggestion"}
        assert db.session.execute(db.select(db.func.count(FeedbackRequest.id)).where(FeedbackRequest.answered)).scalar_one() == 5


def _big_cohort(app, make_user, make_cohort, n, tag):
    fran = make_user(f"fran{tag}@example.org", roles=[Role.FACILITATOR])
    people = [make_user(f"p{tag}-{i}@example.org") for i in range(n)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=max(n, 1), name=f"C{tag}")
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(minutes=5))
    open_window(app, sid, fran)
    with app.app_context():
        s = db.session.get(CohortSession, sid)
        for p in people[: n // 2]:
            roll.mark(s, p.id, "present", 120, None, db.session.get(User, fran.id))
        from portal.cohorts import dyads

        dyads.pair_cohort(cohort.id, True, db.session.get(User, fran.id))
        db.session.commit()
    return fran, people, sid


def test_roll_and_live_page_query_counts_do_not_grow(app, client, auth, make_user, make_cohort, queries):
    counts = {}
    for n in (5, 200):
        fran, people, sid = _big_cohort(app, make_user, make_cohort, n, str(n))
        for who, url in ((fran, f"/sessions/{sid}/roll"), (fran, f"/sessions/{sid}/live"), (people[-1], f"/sessions/{sid}/live")):
            auth.login_as(who)
            with queries() as q:
                r = client.get(url)
            assert r.status_code == 200
            counts.setdefault((url.rsplit("/", 1)[1], who is fran), []).append(len(q))
    for key, (small, large) in counts.items():
        assert small == large, (key, small, large)


def test_a_withdrawal_ends_make_ups_pending_and_accepted(app, client, auth, live, make_user, make_cohort, outbox):
    """Withdrawn from her cohort, Ana's pending make-up request is closed (the host cannot
    accept it any more) and an accepted one no longer puts her on the other session's roll or
    live page (a walkthrough found both still open)."""
    from portal.cohorts import roster
    from portal.models import Enrollment, User

    farid = make_user("farid@example.org", roles=[Role.FACILITATOR])
    host = make_cohort(facilitators=[farid], name="Host Cohort")
    first, second = host.session_ids[0], host.session_ids[1]
    move(app, first, utcnow() + timedelta(days=1))
    auth.login_as(live.ana)
    assert client.post(f"/sessions/{first}/makeup", data={}).status_code == 303
    with app.app_context():
        accepted = db.session.execute(db.select(MakeupRequest)).scalar_one()
    auth.login_as(farid)
    assert client.post(f"/makeups/{accepted.id}/decide", data={"decision": "accept"}).status_code == 303
    with app.app_context():  # and a second request, still pending (another week of hers)
        db.session.add(MakeupRequest(user_id=live.ana.id, own_session_id=live.cohort.session_ids[1],
                                     host_session_id=second))
        db.session.commit()
        pending = db.session.execute(
            db.select(MakeupRequest).where(MakeupRequest.status == "pending")
        ).scalar_one()
    assert "Ana" in text_of(client.get(f"/sessions/{first}/roll"))
    with app.app_context():
        enrollment = db.session.execute(
            db.select(Enrollment).where(Enrollment.user_id == live.ana.id, Enrollment.cohort_id == live.cohort.id)
        ).scalar_one()
        roster.withdraw(enrollment, "Moved away", db.session.get(User, live.fran.id))
        db.session.commit()
        assert db.session.get(MakeupRequest, pending.id).status == "declined"
    assert "Ana" not in text_of(client.get(f"/sessions/{first}/roll"))
    answer = client.post(f"/makeups/{pending.id}/decide", data={"decision": "accept"})
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.get(MakeupRequest, pending.id).status == "declined"
    auth.login_as(live.ana)
    assert client.get(f"/sessions/{first}/live").status_code in (403, 404)


def test_minutes_the_roll_refuses_are_answered_next_to_the_person(app, client, auth, live):
    """Without JavaScript, minutes that are not a number or below zero come back with the
    message in that person's row (a walkthrough saw the roll again with no message)."""
    auth.login_as(live.fran)
    for minutes in ("-5", "abc"):
        answer = client.post(f"/sessions/{live.sid}/roll",
                             data={"user_id": str(live.ana.id), "status": "late", "minutes": minutes})
        assert answer.status_code == 422
        html = answer.get_data(as_text=True)
        row = html[html.index(f'id="roll-{live.ana.id}"'):]
        row = row[: row.index("</tr>") if "</tr>" in row else 3000]
        assert "Enter the minutes attended." in row or "Not a valid integer value." in row, minutes
