"""What each role sees first."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from portal.models import Role, utcnow
from tests.conftest import text_of


def _starting_in(minutes: int, zone="America/New_York"):
    local = (utcnow() + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))
    return {"first_day": local.date(), "start": local.time().replace(second=0, microsecond=0), "zone": zone}


def test_trainee_sees_the_join_link_from_fifteen_minutes_before(client, auth, make_user, make_cohort, hx):
    trainee = make_user()
    make_cohort(trainees=[trainee], facilitators=[make_user(roles=[Role.FACILITATOR])], **_starting_in(10))
    auth.login_as(trainee)
    page = client.get("/dashboard/trainee")
    text = text_of(page)
    assert "Week 1: Discovering Digital Peer Support" in text
    assert "in 9 minutes" in text or "in 10 minutes" in text
    assert 'href="https://video.example.org/room"' in page.get_data(as_text=True)
    # The countdown refreshes itself (htmx polling) as a fragment of its own; the join button
    # (which may hold focus) comes along only when it appears or goes.
    fragment = client.get("/dashboard/trainee?part=countdown&join=1", headers=hx).get_data(as_text=True)
    assert fragment.lstrip().startswith('<p id="countdown"') and 'hx-trigger="every 60s"' in fragment
    assert "Join the session" not in fragment
    appeared = client.get("/dashboard/trainee?part=countdown&join=0", headers=hx).get_data(as_text=True)
    assert '<div id="join-area" hx-swap-oob="true">' in appeared and "Join the session" in appeared


def test_the_refreshing_countdown_names_the_session_the_page_does(app, client, auth, make_user, make_cohort, hx):
    """The minute's refresh reads the next session with a narrower query than the page: both
    agree, across two cohorts at once (the sooner session wins, even in the cohort added first),
    an archived cohort (never) and a withdrawn place (never)."""
    import re

    from portal.extensions import db
    from portal.models import Cohort, Enrollment

    trainee = make_user()
    fran = make_user(roles=[Role.FACILITATOR])

    def countdown_times():
        page = client.get("/dashboard/trainee").get_data(as_text=True)
        fragment = client.get("/dashboard/trainee?part=countdown&join=0", headers=hx).get_data(as_text=True)
        found = [re.search(r'<p id="countdown".*?<time datetime="([^"]+)"', html, re.S) for html in (page, fragment)]
        return [m.group(1) if m else None for m in found]

    later = make_cohort(trainees=[trainee], facilitators=[fran], name="Later", **_starting_in(60 * 24 * 3))
    sooner = make_cohort(trainees=[trainee], facilitators=[fran], name="Sooner", **_starting_in(60 * 5))
    archived = make_cohort(trainees=[trainee], facilitators=[fran], name="Old", **_starting_in(30))
    withdrawn = make_cohort(trainees=[trainee], facilitators=[fran], name="Left", **_starting_in(40))
    with app.app_context():
        db.session.get(Cohort, archived.id).status = "archived"
        place = db.session.execute(
            db.select(Enrollment).where(Enrollment.cohort_id == withdrawn.id, Enrollment.user_id == trainee.id)
        ).scalar_one()
        place.status = "withdrawn"
        db.session.commit()
        sooner_start = db.session.get(Cohort, sooner.id).starts_at
    auth.login_as(trainee)
    page_time, fragment_time = countdown_times()
    assert page_time == fragment_time == sooner_start.isoformat()
    with app.app_context():  # the sooner cohort archived: the later one's first session is next
        db.session.get(Cohort, sooner.id).status = "archived"
        db.session.commit()
        later_start = db.session.get(Cohort, later.id).starts_at
    page_time, fragment_time = countdown_times()
    assert page_time == fragment_time == later_start.isoformat()


def test_the_countdown_stops_refreshing_when_no_session_is_left(client, auth, make_user, hx):
    """The minute's refresh after the last session (or a withdrawal) says so and stops (htmx's
    286), instead of an error in the card."""
    auth.login_as(make_user())
    response = client.get("/dashboard/trainee?part=countdown&join=1", headers=hx)
    assert response.status_code == 286
    html = response.get_data(as_text=True)
    assert 'id="countdown"' in html and "hx-trigger" not in html and "That session has ended" in html
    assert '<div id="join-area" hx-swap-oob="true"></div>' in html


def test_trainee_waits_for_the_join_link(client, auth, make_user, make_cohort):
    trainee = make_user()
    make_cohort(trainees=[trainee], facilitators=[make_user(roles=[Role.FACILITATOR])], **_starting_in(60 * 26))
    auth.login_as(trainee)
    page = client.get("/dashboard/trainee")
    text = text_of(page)
    assert "in 1 day 2 hours" in text or "in 1 day 1 hour" in text
    assert "The join button appears here 15 minutes before the session" in text
    assert "video.example.org" not in page.get_data(as_text=True)


def test_trainee_dashboard_shows_weeks_partner_and_supervisor(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user(roles=[Role.SUPERVISOR], name="Sam Super")
    ana, ben = make_user(name="Ana"), make_user(name="Ben")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben], supervisor=sam)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    auth.login_as(ana)
    text = text_of(client.get("/dashboard/trainee"))
    for n in range(1, 7):
        assert f"Week {n}:" in text
    assert "Your practice partner Ben" in text and "Your supervisor Sam Super" in text


def test_waitlisted_trainee_is_told(client, auth, make_user, make_cohort):
    first, second = make_user(), make_user()
    make_cohort(
        trainees=[first, second], capacity=1, facilitators=[make_user(roles=[Role.FACILITATOR])], name="Full one"
    )
    auth.login_as(second)
    assert "You are on the waitlist for Full one" in text_of(client.get("/dashboard/trainee"))


def test_facilitator_dashboard_counts_and_this_weeks_sessions(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    trainees = [make_user() for _ in range(3)]
    make_cohort(facilitators=[fran], trainees=trainees, capacity=2, name="Soon", **_starting_in(60 * 48))
    make_cohort(facilitators=[make_user(roles=[Role.FACILITATOR])], name="Not hers")
    auth.login_as(fran)
    text = text_of(client.get("/dashboard/facilitator"))
    assert "Soon" in text and "2 of 2 places taken · 1 waiting" in text
    assert "Soon, week 1" in text
    assert "Not hers" not in text


def test_admin_dashboard_shows_cohorts_by_status_and_upcoming_sessions(client, auth, make_user, make_cohort):
    make_cohort(facilitators=[make_user(roles=[Role.FACILITATOR])], name="Next week", **_starting_in(60 * 24 * 3))
    make_cohort(facilitators=[make_user(roles=[Role.FACILITATOR])], name="Draft one", status="draft")
    auth.login_as(make_user(roles=[Role.ADMIN]))
    text = text_of(client.get("/dashboard/admin"))
    assert "Enrolling: 1" in text and "Draft: 1" in text and "Running: 0" in text
    assert "Next week, week 1" in text


def test_dashboard_queries_do_not_grow_with_the_programme(client, auth, make_user, make_cohort, queries):
    admin = make_user(roles=[Role.ADMIN])
    fran = make_user(roles=[Role.FACILITATOR])
    make_cohort(facilitators=[fran], trainees=[make_user() for _ in range(2)], **_starting_in(60 * 4))
    auth.login_as(admin)
    with queries() as few:
        assert client.get("/dashboard/admin").status_code == 200
    for n in range(6):
        make_cohort(
            facilitators=[fran], trainees=[make_user() for _ in range(3)], name=f"C{n}", **_starting_in(60 * (n + 5))
        )
    with queries() as many:
        assert client.get("/dashboard/admin").status_code == 200
    assert len(few) == len(many)


def test_a_supervisor_sees_a_finished_cohort_as_completed_and_staff_are_not_told_about_partners(
    client, auth, make_user, make_cohort
):
    from datetime import date

    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user(roles=[Role.SUPERVISOR], name="Sam Super")
    gina = make_user(name="Gina Graduate")
    make_cohort(facilitators=[fran], trainees=[gina], supervisor=sam, name="Old Cohort",
                first_day=date.today() - timedelta(weeks=10))
    auth.login_as(sam)
    text = text_of(client.get("/dashboard/supervisor"))
    assert "Old Cohort: Completed" in text and "Old Cohort: Enrolled" not in text
    assert "not shared with your partner" not in text
    auth.login_as(gina)
    assert "not shared with your partner or supervisor" in text_of(client.get("/dashboard/trainee"))


def test_a_trainees_progress_page_queries_do_not_grow_with_their_cohorts(client, auth, make_user, make_cohort, queries):
    """A facilitator looking at a trainee in several cohorts (a retake, a make-up): whether they
    run each cohort's assessment is read for all the cohorts at once."""
    fran = make_user(roles=[Role.FACILITATOR])
    trainee = make_user()
    make_cohort(facilitators=[fran], trainees=[trainee], name="First")
    auth.login_as(fran)
    with queries() as few:
        assert client.get(f"/dashboard/trainees/{trainee.id}").status_code == 200
    for n in range(4):
        make_cohort(facilitators=[fran, make_user(roles=[Role.FACILITATOR])], trainees=[trainee], name=f"Retake {n}")
    with queries() as many:
        assert client.get(f"/dashboard/trainees/{trainee.id}").status_code == 200
    assert len(few) == len(many)


def test_a_facilitator_check_forgets_its_answer_when_the_facilitators_change(app, make_user, make_cohort):
    """Within one request or app context (a command, a job), a change committed is seen by the
    next check: authz's per-request answers are forgotten on commit."""
    from portal.authz import can
    from portal.extensions import db
    from portal.models import Cohort, CohortFacilitator, User

    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    with app.test_request_context():
        person = db.session.get(User, fran.id)
        person.use_role_names("facilitator")
        row = db.session.get(Cohort, cohort.id)
        assert can(person, "manage_cohort", row)
        db.session.execute(db.delete(CohortFacilitator).where(CohortFacilitator.cohort_id == cohort.id))
        db.session.commit()
        assert not can(person, "manage_cohort", db.session.get(Cohort, cohort.id))
