"""Calendar feeds and single-session downloads, parsed back with the icalendar package."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from portal.models import Role
from tests.conftest import text_of


def _feed_path(client) -> str:
    page = client.get("/calendar").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/calendar/[^"]+\.ics)"', page)
    assert match, page
    return match.group(1)


def _events(body: bytes):
    calendar = Calendar.from_ical(body)
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart")), calendar


def test_private_feed_lists_a_persons_sessions_and_updates_in_place(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    trainee = make_user()
    cohort = make_cohort(facilitators=[fran], trainees=[trainee], first_day=date(2026, 10, 15))
    make_cohort(facilitators=[fran], name="Not mine")  # the trainee is not in it
    auth.login_as(trainee)
    assert "Create my calendar address" in text_of(client.get("/calendar"))
    client.post("/calendar/link")
    path = _feed_path(client)
    anonymous = app.test_client()
    feed = anonymous.get(path)  # no sign-in: calendar apps fetch it by its secret address
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events, calendar = _events(feed.data)
    assert len(events) == 6
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    first = events[0]
    assert str(first["SUMMARY"]) == "Week 1: Discovering Digital Peer Support (Test Cohort)"
    assert first.decoded("dtstart") == datetime(2026, 10, 15, 18, 0, tzinfo=ZoneInfo("America/New_York"))
    assert first["DTSTART"].params["TZID"] == "America/New_York"
    # The event opens the session's live page (issue 9); the meeting room is its location.
    assert str(first["URL"]).endswith(f"/sessions/{cohort.session_ids[0]}/live")
    assert str(first["LOCATION"]) == "https://video.example.org/room"
    assert f"/sessions/{cohort.session_ids[0]}/live" in str(first["DESCRIPTION"])
    assert int(first["SEQUENCE"]) == 0
    week4 = events[3]
    assert week4.decoded("dtstart").utcoffset().total_seconds() == -5 * 3600  # EST after 1 Nov
    uid = str(events[1]["UID"])

    # The facilitator moves week 2: same UID, higher SEQUENCE, new time.
    auth.login_as(fran)
    client.post(  # a date in the past asks first (issue 8): confirmed
        f"/sessions/{cohort.session_ids[1]}/edit", data={"day": "2026-10-23", "start_time": "17:00", "confirm": "yes"}
    )
    events, _ = _events(anonymous.get(path).data)
    moved = next(e for e in events if str(e["UID"]) == uid)
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("dtstart") == datetime(2026, 10, 23, 17, 0, tzinfo=ZoneInfo("America/New_York"))

    # The facilitator's own feed has both cohorts.
    client.post("/calendar/link")
    events, _ = _events(anonymous.get(_feed_path(client)).data)
    assert len(events) == 12


def test_regenerating_the_address_retires_the_old_one(app, client, auth, make_user):
    auth.login_as(make_user())
    client.post("/calendar/link")
    old = _feed_path(client)
    response = client.post("/calendar/link", follow_redirects=True)
    assert "The old one no longer works" in text_of(response)
    new = _feed_path(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_single_session_download(app, client, auth, make_user, make_cohort):
    trainee = make_user()
    cohort = make_cohort(trainees=[trainee], facilitators=[make_user(roles=[Role.FACILITATOR])])
    auth.login_as(trainee)
    response = client.get(f"/sessions/{cohort.session_ids[2]}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="week-3.ics"'
    events, _ = _events(response.data)
    assert len(events) == 1 and str(events[0]["SUMMARY"]).startswith("Week 3:")
    assert str(events[0]["URL"]).endswith(f"/sessions/{cohort.session_ids[2]}/live")


def test_calendar_page_and_feed_queries_do_not_grow_with_cohorts(app, client, auth, make_user, make_cohort, queries):
    fran = make_user(roles=[Role.FACILITATOR])
    make_cohort(facilitators=[fran], name="First")
    auth.login_as(fran)
    client.post("/calendar/link")
    path = _feed_path(client)
    with queries() as few:
        assert client.get("/calendar").status_code == 200
        assert client.get(path).status_code == 200
    for n in range(4):
        make_cohort(facilitators=[fran, make_user(roles=[Role.FACILITATOR])], name=f"More {n}")
    with queries() as many:
        page = client.get("/calendar")
        feed = client.get(path)
    assert len(many) == len(few)
    assert "More 3, week 6" in text_of(page) and len(_events(feed.data)[0]) == 5 * 6
