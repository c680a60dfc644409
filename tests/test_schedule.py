"""Schedule generation across daylight-saving changes, rescheduling and its warnings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from portal.cohorts.schedule import countdown, join_is_open, local_to_utc, weekly_sessions
from portal.extensions import db
from portal.models import AuditEvent, Cohort, CohortSession, CohortStatus, Role
from tests.conftest import text_of


@pytest.mark.parametrize(
    ("zone", "first_day", "utc_hours"),
    [
        # New York leaves daylight time on 1 Nov 2026: 18:00 local is 22:00 UTC, then 23:00 UTC.
        ("America/New_York", date(2026, 10, 15), [22, 22, 22, 23, 23, 23]),
        # London leaves summer time on 25 Oct 2026: 18:00 local is 17:00 UTC, then 18:00 UTC.
        ("Europe/London", date(2026, 10, 8), [17, 17, 17, 18, 18, 18]),
        # Spring forward: New York on 8 Mar 2026 (23:00 UTC, then 22:00 UTC).
        ("America/New_York", date(2026, 2, 23), [23, 23, 22, 22, 22, 22]),
    ],
)
def test_six_weekly_sessions_keep_their_local_time_across_dst(zone, first_day, utc_hours):
    sessions = weekly_sessions(first_day, time(18, 0), zone)
    assert [s.week for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert [s.starts_at.hour for s in sessions] == utc_hours
    local = [s.starts_at.astimezone(ZoneInfo(zone)) for s in sessions]
    assert {(t.hour, t.minute) for t in local} == {(18, 0)}
    assert [t.date() for t in local] == [date.fromordinal(first_day.toordinal() + 7 * k) for k in range(6)]
    assert sessions[0].title == "Discovering Digital Peer Support"
    assert all(s.duration_minutes == 120 for s in sessions)


def test_a_local_time_skipped_by_spring_forward_is_read_after_the_jump():
    # 02:30 does not exist in New York on 8 March 2026: it is read as 03:30 EDT.
    moment = local_to_utc(date(2026, 3, 8), time(2, 30), "America/New_York")
    assert moment == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_countdown_and_join_window():
    start = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    end = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    assert countdown(start, datetime(2026, 4, 29, 15, 0, tzinfo=UTC)) == "in 2 days 3 hours"
    assert countdown(start, datetime(2026, 5, 1, 17, 20, tzinfo=UTC)) == "in 40 minutes"
    assert not join_is_open(start, end, datetime(2026, 5, 1, 17, 44, tzinfo=UTC))
    assert join_is_open(start, end, datetime(2026, 5, 1, 17, 45, tzinfo=UTC))
    assert join_is_open(start, end, datetime(2026, 5, 1, 19, 59, tzinfo=UTC))
    assert not join_is_open(start, end, end)


def test_admin_creates_a_cohort_with_six_sessions(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    fran = make_user(roles=[Role.FACILITATOR], name="Fran")
    auth.login_as(admin)
    response = client.post(
        "/cohorts/new",
        data={
            "name": "Autumn Cohort",
            "facilitators": [fran.id],
            "first_day": "2027-10-21",
            "start_time": "18:00",
            "time_zone": "America/New_York",
            "meeting_url": "https://video.example.org/autumn",
            "capacity": "10",
            "notes": "",
            "status": "enrolling",
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "Autumn Cohort" in text and "Facilitated by Fran" in text
    for n in range(1, 7):
        assert f"Week {n}:" in text
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        assert [s.starts_at.hour for s in cohort.sessions] == [22, 22, 22, 23, 23, 23]
        assert cohort.capacity == 10 and cohort.status == "enrolling"


def test_creating_a_cohort_validates_everything_and_saves_nothing(app, client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    response = client.post(
        "/cohorts/new",
        data={
            "name": "",
            "first_day": "not a date",
            "start_time": "",
            "time_zone": "Nowhere/City",
            "meeting_url": "video.example.org",
            "capacity": "0",
            "status": "enrolling",
        },
    )
    assert response.status_code == 422
    text = text_of(response)
    for message in (
        "Give the cohort a name",
        "Choose at least one facilitator",
        "Enter the date of the first session",
        "Not a valid choice",
        "starting with https://",
        "Between 2 and 200 places",
    ):
        assert message in text, message
    with app.app_context():
        assert db.session.execute(db.select(Cohort)).first() is None


def test_times_are_shown_in_each_viewers_own_zone(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR], time_zone="Europe/London")
    trainee = make_user(roles=[Role.TRAINEE], time_zone="America/Los_Angeles")
    cohort = make_cohort(facilitators=[fran], trainees=[trainee], first_day=date(2027, 3, 1))
    auth.login_as(fran)
    assert "Mon 1 Mar 2027, 23:00 GMT" in text_of(client.get(f"/cohorts/{cohort.id}"))
    auth.login_as(trainee)
    assert "Mon 1 Mar 2027, 15:00 PST" in text_of(client.get(f"/cohorts/{cohort.id}"))


def _session(app, session_id):
    with app.app_context():
        s = db.session.get(CohortSession, session_id)
        return s.starts_at, s.sequence, s.meeting_url


def test_facilitator_reschedules_a_session_in_place(app, client, auth, make_user, make_cohort, hx):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], first_day=date(2027, 3, 1))
    week2 = cohort.session_ids[1]
    auth.login_as(fran)
    client.post(
        f"/cohorts/{cohort.id}/handouts",
        data={"week": "2", "title": "Competency card", "link_url": "https://example.org/c"},
    )
    form = client.get(f"/sessions/{week2}/edit", headers=hx)
    assert form.status_code == 200
    body = form.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li id="session-{week2}"') and 'value="2027-03-08"' in body
    response = client.post(
        f"/sessions/{week2}/edit",
        data={"day": "2027-03-09", "start_time": "19:30", "meeting_url": "https://video.example.org/other"},
        headers=hx,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li id="session-{week2}"')
    assert "Competency card" in html  # the row comes back with its handouts
    assert "Week 2 moved to Tue 9 Mar 2027, 19:30" in html  # flash swapped out of band
    starts_at, sequence, url = _session(app, week2)
    assert starts_at == datetime(2027, 3, 10, 0, 30, tzinfo=UTC)  # 19:30 EST
    assert sequence == 1 and url == "https://video.example.org/other"
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "session.rescheduled")).scalar_one()
        assert event.actor_id == fran.id and event.details["week"] == 2


def test_rescheduling_works_as_a_plain_form(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], first_day=date(2027, 3, 1))
    auth.login_as(fran)
    page = client.get(f"/sessions/{cohort.session_ids[0]}/edit")
    assert "<html" in page.get_data(as_text=True)
    response = client.post(f"/sessions/{cohort.session_ids[0]}/edit", data={"day": "2027-03-02", "start_time": "18:00"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}#session-{cohort.session_ids[0]}-message")


def test_warns_before_putting_weeks_out_of_order(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], first_day=date(2027, 3, 1))
    week3 = cohort.session_ids[2]
    auth.login_as(fran)
    data = {"day": "2027-03-23", "start_time": "18:00"}  # after week 4 on 22 March
    warned = client.post(f"/sessions/{week3}/edit", data=data)
    assert warned.status_code == 200
    text = text_of(warned)
    assert "Week 3 would come after week 4" in text and "Save anyway" in text
    before, sequence, _ = _session(app, week3)
    assert sequence == 0  # nothing saved yet
    saved = client.post(f"/sessions/{week3}/edit", data={**data, "confirm": "yes"})
    assert saved.status_code == 303
    assert _session(app, week3)[0] != before


def test_warns_before_double_booking_a_facilitator(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran")
    first = make_cohort(facilitators=[fran], first_day=date(2027, 3, 1), name="First")
    make_cohort(facilitators=[fran], first_day=date(2027, 3, 3), start=time(19, 0), name="Second")
    auth.login_as(fran)
    # Move week 1 of First onto Second's week 1 (3 March, 19:00-21:00).
    warned = client.post(f"/sessions/{first.session_ids[0]}/edit", data={"day": "2027-03-03", "start_time": "18:30"})
    assert "Fran is already facilitating Second, week 1, at that time." in text_of(warned)
    assert _session(app, first.session_ids[0])[1] == 0
    clear = client.post(f"/sessions/{first.session_ids[0]}/edit", data={"day": "2027-03-03", "start_time": "10:00"})
    assert clear.status_code == 303


def test_cohort_status_follows_the_calendar(app, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], first_day=date(2027, 3, 1))
    with app.app_context():
        row = db.session.get(Cohort, cohort.id)
        assert row.current_status(datetime(2027, 2, 1, tzinfo=UTC)) == CohortStatus.ENROLLING
        assert row.current_status(datetime(2027, 3, 2, tzinfo=UTC)) == CohortStatus.RUNNING
        assert row.current_status(datetime(2027, 4, 6, tzinfo=UTC)) == CohortStatus.COMPLETED
        row.status = "archived"
        assert row.current_status(datetime(2027, 3, 2, tzinfo=UTC)) == CohortStatus.ARCHIVED
        # The same rule in SQL, for filtering.
        expr = Cohort.status_expression(datetime(2027, 3, 2, tzinfo=UTC))
        row.status = "enrolling"
        db.session.commit()
        assert db.session.execute(db.select(expr).where(Cohort.id == cohort.id)).scalar_one() == "running"


def test_admin_lists_cohorts_with_filters(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran")
    sam = make_user(roles=[Role.FACILITATOR], name="Sam")
    make_cohort(facilitators=[fran], first_day=date(2027, 3, 1), name="March Group")
    make_cohort(facilitators=[sam], first_day=date(2027, 5, 3), name="May Group", status="draft")
    auth.login_as(make_user(roles=[Role.ADMIN]))
    everything = text_of(client.get("/cohorts"))
    assert "March Group" in everything and "May Group" in everything
    drafts = text_of(client.get("/cohorts?status=draft"))
    assert "May Group" in drafts and "March Group" not in drafts
    by_facilitator = text_of(client.get(f"/cohorts?facilitator={fran.id}"))
    assert "March Group" in by_facilitator and "May Group" not in by_facilitator
    by_month = text_of(client.get("/cohorts?month=2027-05"))
    assert "May Group" in by_month and "March Group" not in by_month
    assert "Use the form 2026-11" in text_of(client.get("/cohorts?month=May"))


def test_facilitators_see_only_their_cohorts_in_the_list(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user(roles=[Role.FACILITATOR])
    make_cohort(facilitators=[fran], name="Fran's group")
    make_cohort(facilitators=[sam], name="Sam's group")
    auth.login_as(fran)
    text = text_of(client.get("/cohorts"))
    assert "Fran's group" in text and "Sam's group" not in text


def test_admin_changes_settings_and_status(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], name="Old name")
    auth.login_as(make_user(roles=[Role.ADMIN]))
    response = client.post(
        f"/cohorts/{cohort.id}/settings",
        data={
            "name": "New name",
            "facilitators": [fran.id],
            "capacity": "8",
            "status": "archived",
            "meeting_url": "",
            "notes": "",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(Cohort, cohort.id)
        assert (row.name, row.capacity, row.status) == ("New name", 8, "archived")
