"""What the outside security audit found, each as a rule that now holds (every test here failed
on the code the audit looked at)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    AuditEvent,
    CalendarFeed,
    Cohort,
    CohortSession,
    Enrollment,
    Handout,
    Role,
    Supervision,
    User,
    UserSession,
    utcnow,
)
from tests.conftest import text_of

# --- only an admin changes what someone may do ---------------------------------------------


def _roles(app, person) -> set[Role]:
    with app.app_context():
        return db.session.get(User, person.id).roles


def _supervisions(app) -> list[tuple[int, int, bool]]:
    with app.app_context():
        return [
            (s.trainee_id, s.supervisor_id, s.ended_at is None)
            for s in db.session.execute(db.select(Supervision).order_by(Supervision.id)).scalars()
        ]


@pytest.mark.parametrize("who", ["other_trainee", "admin", "themselves", "deactivated_supervisor", "facilitator"])
def test_a_facilitator_cannot_make_anyone_a_supervisor_by_email(app, client, auth, make_user, make_cohort, who):
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR])
    tia = make_user("tia@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    candidates = {
        "other_trainee": make_user("other.trainee@example.org"),
        "admin": make_user("boss@example.org", roles=[Role.ADMIN]),
        "themselves": fran,
        "deactivated_supervisor": make_user("gone@example.org", roles=[Role.SUPERVISOR], status="deactivated"),
        "facilitator": make_user("fred@example.org", roles=[Role.FACILITATOR]),
    }
    target = candidates[who]
    before = _roles(app, target)
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/supervisor",
        data={"supervisor_id": "0", "email": target.email.upper()},
    )
    assert response.status_code == 422
    assert "ask an admin" in text_of(response)
    assert _roles(app, target) == before
    assert _supervisions(app) == []


def test_supervisor_by_email_picks_an_active_supervisor_or_invites_a_new_one(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user("sam@example.org", roles=[Role.SUPERVISOR])
    tia = make_user("tia@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    url = f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/supervisor"
    auth.login_as(fran)
    assert client.post(url, data={"supervisor_id": "0", "email": "SAM@example.org"}).status_code == 303
    assert _supervisions(app) == [(tia.id, sam.id, True)]
    assert client.post(url, data={"supervisor_id": "0", "email": "new.sup@example.org"}).status_code == 303
    with app.app_context():
        new = db.session.execute(db.select(User).where(User.email == "new.sup@example.org")).scalar_one()
        assert new.roles == {Role.SUPERVISOR} and new.status == "invited"
        granted = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "role.granted", AuditEvent.subject_id == new.id)
        ).scalar_one()
        assert granted.details == {"role": "supervisor"} and granted.actor_id == fran.id
    assert [(t, open_) for t, _s, open_ in _supervisions(app)] == [(tia.id, False), (tia.id, True)]


def test_a_supervisor_picked_by_id_must_hold_the_role(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    tia = make_user()
    other = make_user("other@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/supervisor", data={"supervisor_id": str(other.id)}
    )
    assert response.status_code == 422
    assert _supervisions(app) == [] and _roles(app, other) == {Role.TRAINEE}


@pytest.mark.parametrize(
    ("roles", "status"),
    [([Role.ADMIN], "active"), ([Role.FACILITATOR], "active"), ([Role.SUPERVISOR], "active"), ([Role.TRAINEE], "deactivated")],
)
def test_roster_invites_never_turn_other_accounts_into_trainees(app, client, auth, make_user, make_cohort, roles, status):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    existing = make_user("existing@example.org", roles=roles, status=status)
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/invite", data={"people": "new.person@example.org\nexisting@example.org"}
    )
    assert response.status_code == 422
    assert "ask an admin" in text_of(response)
    assert "Line 2" in text_of(response) or "2" in text_of(response)
    with app.app_context():
        assert db.session.execute(db.select(Enrollment)).first() is None
    # Adding only the valid people leaves the refused account as it was.
    response = client.post(
        f"/cohorts/{cohort.id}/roster/invite",
        data={"people": "new.person@example.org\nexisting@example.org", "add_valid_only": "yes"},
    )
    assert response.status_code == 303
    assert _roles(app, existing) == set(roles)
    with app.app_context():
        emails = db.session.execute(
            db.select(User.email).join(Enrollment, Enrollment.user_id == User.id).where(Enrollment.cohort_id == cohort.id)
        ).scalars().all()
        assert emails == ["new.person@example.org"]


def test_picking_a_non_trainee_for_the_roster_changes_nothing(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    boss = make_user(roles=[Role.ADMIN])
    auth.login_as(fran)
    response = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [str(boss.id)]})
    assert response.status_code in (400, 422)
    assert _roles(app, boss) == {Role.ADMIN}
    with app.app_context():
        assert db.session.execute(db.select(Enrollment)).first() is None


def test_the_database_allows_one_open_supervision_per_trainee(app, make_user):
    tia, sam, sue = make_user(), make_user(roles=[Role.SUPERVISOR]), make_user(roles=[Role.SUPERVISOR])
    with app.app_context():
        db.session.add(Supervision(trainee_id=tia.id, supervisor_id=sam.id))
        db.session.commit()
        db.session.add(Supervision(trainee_id=tia.id, supervisor_id=sue.id))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Ended rows are history and do not count.
        row = db.session.execute(db.select(Supervision)).scalar_one()
        row.ended_at = utcnow()
        db.session.add(Supervision(trainee_id=tia.id, supervisor_id=sue.id))
        db.session.commit()


# --- places, waitlists and withdrawals -------------------------------------------------------


def _handout(app, cohort_id: int) -> int:
    with app.app_context():
        row = Handout(cohort_id=cohort_id, week=1, title="Link notes", link_url="https://example.org/notes")
        db.session.add(row)
        db.session.commit()
        return row.id


def _feed(app, client, person) -> str:
    client.post("/calendar/link")
    with app.app_context():
        token = db.session.execute(db.select(CalendarFeed.token).where(CalendarFeed.user_id == person.id)).scalar_one()
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_waitlisted_person_sees_their_place_and_dates_only(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    first, second, waiting = make_user(name="First"), make_user(name="Second"), make_user(name="Waiting")
    cohort = make_cohort(facilitators=[fran], trainees=[first, second, waiting], capacity=2)
    handout_id = _handout(app, cohort.id)
    with app.app_context():
        from portal.cohorts import dyads

        dyads.pair_cohort(cohort.id, False, db.session.get(User, fran.id))
        db.session.commit()
    auth.login_as(waiting)
    page = client.get(f"/cohorts/{cohort.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You are on the waitlist" in text_of(page)
    assert "Week 1" in text_of(page)  # the dates
    assert "video.example.org" not in html and "Link notes" not in html
    assert "First" not in text_of(page) and "Second" not in text_of(page)
    assert "calendar.ics" not in html
    for part in ("roster", "dyads", "schedule"):
        fragment = client.get(f"/cohorts/{cohort.id}?part={part}", headers={"HX-Request": "true"})
        assert "video.example.org" not in fragment.get_data(as_text=True)
        assert "First" not in text_of(fragment)
    assert client.get(f"/sessions/{cohort.session_ids[0]}").status_code == 403
    assert client.get(f"/sessions/{cohort.session_ids[0]}/calendar.ics").status_code == 403
    assert client.get(f"/handouts/{handout_id}").status_code == 403
    assert "BEGIN:VEVENT" not in _feed(app, client, waiting)
    dashboard = client.get("/dashboard/trainee").get_data(as_text=True)
    assert "video.example.org" not in dashboard and "Link notes" not in dashboard


def test_a_withdrawn_person_loses_the_cohort_at_once(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    tia = make_user(name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    handout_id = _handout(app, cohort.id)
    tia_client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(tia_client, app).login_as(tia)
    assert tia_client.get(f"/cohorts/{cohort.id}").status_code == 200
    assert "BEGIN:VEVENT" in _feed(app, tia_client, tia)
    auth.login_as(fran)
    withdrawn = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw", data={"reason": "moved away"}
    )
    assert withdrawn.status_code == 303
    assert tia_client.get(f"/cohorts/{cohort.id}").status_code == 403
    assert tia_client.get(f"/sessions/{cohort.session_ids[0]}").status_code == 403
    assert tia_client.get(f"/sessions/{cohort.session_ids[0]}/calendar.ics").status_code == 403
    assert tia_client.get(f"/handouts/{handout_id}").status_code == 403
    assert "BEGIN:VEVENT" not in _feed(app, tia_client, tia)
    assert "video.example.org" not in tia_client.get("/dashboard/trainee").get_data(as_text=True)


def test_one_free_place_moves_exactly_the_first_in_line(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=f"P{n}") for n in range(5)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=2)
    auth.login_as(fran)
    assert client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw", data={"reason": "left"}
    ).status_code == 303
    with app.app_context():
        statuses = dict(
            db.session.execute(
                db.select(Enrollment.user_id, Enrollment.status).where(Enrollment.cohort_id == cohort.id)
            ).all()
        )
    assert [statuses[p.id] for p in people] == ["withdrawn", "enrolled", "enrolled", "waitlisted", "waitlisted"]
    # Withdrawing the same place again (a double click) moves nobody else up.
    again = client.post(f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw", data={"reason": "left"})
    assert again.status_code == 422
    with app.app_context():
        enrolled = db.session.execute(
            db.select(Enrollment).where(Enrollment.cohort_id == cohort.id, Enrollment.status == "enrolled")
        ).scalars().all()
        assert len(enrolled) == 2


# --- sessions end when they should ----------------------------------------------------------


def test_deactivation_ends_sessions_for_good(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user()
    person_client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(person_client, app).login_as(person)
    assert person_client.get("/account").status_code == 200
    auth.login_as(admin)
    assert client.post(f"/admin/users/{person.id}/deactivate", data={"reason": "test"}).status_code == 303
    # No request from the person in between: reactivation must not bring the old cookie back.
    assert client.post(f"/admin/users/{person.id}/reactivate").status_code == 303
    assert person_client.get("/account").status_code == 302
    with app.app_context():
        rows = db.session.execute(db.select(UserSession).where(UserSession.user_id == person.id)).scalars().all()
        assert rows and all(r.ended_reason == "deactivated" for r in rows)
    # The reactivated person signs in again.
    again = app.test_client()
    assert AuthActions(again, app).login(person.email).status_code == 303
    assert again.get("/account").status_code == 200


def test_new_passwords_need_zxcvbn_score_three(app, client, auth, make_user):
    person = make_user()
    auth.login_as(person)
    response = client.post(
        "/account/password",
        data={"current_password": person.password, "password": "123456789012", "confirm": "123456789012"},
    )
    assert response.status_code == 422
    assert "too easy to guess" in text_of(response)


# --- bad input gets a clear answer, never a 500 ---------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/cohorts/99999999999999999999",
        "/cohorts/2147483648",
        "/sessions/2147483648",
        "/handouts/99999999999999999999",
        "/cohorts/1/roster/2147483648",
    ],
)
def test_ids_beyond_the_database_are_not_found(client, auth, make_user, url):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", "2026-13", "２０２６-01"])
def test_month_filter_out_of_range(client, auth, make_user, month):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    response = client.get(f"/cohorts?month={month}")
    assert response.status_code == 422  # the list, unfiltered, with the message next to the filter
    assert "Use the form 2026-11" in text_of(response)


@pytest.mark.parametrize("page", ["9223372036854775808", "99999999999999999999", "-1", "x"])
def test_paged_lists_take_any_page_number(client, auth, make_user, page):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    assert client.get(f"/admin/users?page={page}").status_code == 200
    assert client.get(f"/admin/audit?page={page}").status_code == 200


def test_a_huge_search_is_refused_not_run(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    response = client.get("/admin/users?q=" + "a" * 100_000)
    assert response.status_code == 422


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_dates_out_of_range_are_refused(app, client, auth, make_user, make_cohort, day):
    fran = make_user(roles=[Role.FACILITATOR])
    admin = make_user(roles=[Role.ADMIN])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    response = client.post(f"/sessions/{cohort.session_ids[0]}/edit", data={"day": day, "start_time": "18:00"})
    assert response.status_code == 422 and "Enter a date between 2000 and 2100" in text_of(response)
    auth.login_as(admin)
    response = client.post(
        "/cohorts/new",
        data={"name": "Far", "facilitators": [str(fran.id)], "first_day": day, "start_time": "18:00",
              "time_zone": "UTC", "capacity": "10", "status": "draft"},
    )
    assert response.status_code == 422 and "Enter a date between 2000 and 2100" in text_of(response)
    with app.app_context():
        assert db.session.execute(db.select(Cohort).where(Cohort.name == "Far")).first() is None


def test_nul_bytes_anywhere_are_refused_plainly(app, client, auth, make_user):
    assert client.post("/login", data={"email": "a\x00@example.org", "password": "x\x00y"}).status_code == 422
    assert client.get("/login?next=/%00").status_code in (200, 400)
    person = make_user(name="Kept")
    auth.login_as(person)
    response = client.post("/account", data={"display_name": "Bad\x00Name", "time_zone": "UTC"})
    assert response.status_code == 422
    assert "control characters" in text_of(response)
    assert client.get("/cohorts/1%00").status_code in (400, 404)
    assert client.get("/calendar/abc%00def.ics").status_code in (400, 404)
    with app.app_context():
        assert db.session.get(User, person.id).display_name == "Kept"


@pytest.mark.parametrize(
    "link",
    [
        "https://video.example.org/room\r\nX-INJECTED:1",
        "https://video.example.org/ro om",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://video.example.org/\u202eroom",
    ],
)
def test_meeting_and_handout_links_are_http_only_and_single_line(app, client, auth, make_user, make_cohort, link):
    fran = make_user(roles=[Role.FACILITATOR])
    tia = make_user()
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    auth.login_as(fran)
    moved = client.post(
        f"/sessions/{cohort.session_ids[0]}/edit", data={"day": "2027-03-01", "start_time": "18:00", "meeting_url": link}
    )
    assert moved.status_code == 422 and "starting with https://" in text_of(moved)
    added = client.post(f"/cohorts/{cohort.id}/handouts", data={"week": "1", "title": "Notes", "link_url": link})
    assert added.status_code == 422
    with app.app_context():
        assert db.session.execute(db.select(Handout)).first() is None
        assert db.session.get(CohortSession, cohort.session_ids[0]).meeting_url is None


def test_a_calendar_feed_survives_a_bad_link_already_stored(app, client, auth, make_user, make_cohort):
    tia = make_user()
    cohort = make_cohort(trainees=[tia])
    with app.app_context():  # as stored before the input policy existed
        db.session.get(CohortSession, cohort.session_ids[0]).meeting_url = "https://x.example/\r\nEVIL:1"
        db.session.commit()
    auth.login_as(tia)
    body = _feed(app, client, tia)
    assert "EVIL:1" not in body.replace("\r\n ", "")
    assert body.count("BEGIN:VEVENT") == 6


@pytest.mark.parametrize("text", ["Name\u202eevil", "Line\nbreak", "Tab\there", "Bell\x07"])
def test_single_line_text_refuses_controls_and_direction_overrides(app, client, auth, make_user, text):
    person = make_user(name="Kept")
    auth.login_as(person)
    response = client.post("/account", data={"display_name": text, "time_zone": "UTC"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, person.id).display_name == "Kept"


def test_multi_line_text_keeps_new_lines_and_tabs(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    fran = make_user(roles=[Role.FACILITATOR])
    auth.login_as(admin)
    response = client.post(
        "/cohorts/new",
        data={"name": "Notes cohort", "facilitators": [str(fran.id)], "first_day": "2027-05-03",
              "start_time": "18:00", "time_zone": "UTC", "capacity": "10", "status": "draft",
              "notes": "Line one\n\tindented"},
    )
    assert response.status_code == 303
    bad = client.post(
        "/cohorts/new",
        data={"name": "Bad notes", "facilitators": [str(fran.id)], "first_day": "2027-05-03",
              "start_time": "18:00", "time_zone": "UTC", "capacity": "10", "status": "draft",
              "notes": "hidden \u202e text"},
    )
    assert bad.status_code == 422


# --- a fragment shows exactly what its page would -------------------------------------------


@pytest.mark.parametrize("part", ["roster", "dyads", "schedule"])
def test_a_fragment_never_shows_a_trainee_the_managers_controls(app, client, auth, make_user, make_cohort, part):
    fran = make_user(roles=[Role.FACILITATOR])
    tia, tom = make_user(name="Tia"), make_user(name="Tom")
    cohort = make_cohort(facilitators=[fran], trainees=[tia, tom])
    auth.login_as(tia)
    response = client.get(f"/cohorts/{cohort.id}?part={part}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for control in ("/dyads/pair", "/dyads/swap", "/roster/add", "/dyads/lock", "Change date, time or link"):
        assert control not in html
    full = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    for control in ("/dyads/pair", "/dyads/swap", "/roster/add"):
        assert control not in full
    # The facilitator gets the controls in the same fragment.
    auth.login_as(fran)
    managed = client.get(f"/cohorts/{cohort.id}?part=dyads", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "/dyads/pair" in managed


def test_the_roster_service_never_grants_roles(app, make_user, make_cohort):
    """Whatever a route lets through, the roster rules themselves refuse to make someone a
    supervisor or a trainee."""
    from portal.cohorts import roster

    tia, other, boss = make_user(), make_user(), make_user(roles=[Role.ADMIN])
    cohort = make_cohort(trainees=[tia])
    with app.app_context():
        by = db.session.get(User, boss.id)
        with pytest.raises(roster.RosterError):
            roster.set_supervisor(db.session.get(User, tia.id), db.session.get(User, other.id), by)
        with pytest.raises(roster.RosterError):
            roster.add_trainee(cohort.id, by, by)
        db.session.rollback()
    assert _roles(app, other) == {Role.TRAINEE} and _roles(app, boss) == {Role.ADMIN}


def test_an_uploaded_csv_goes_through_the_input_policy(app, client, auth, make_user, make_cohort):
    import io

    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    csv_bytes = (
        "name,email\n\u202eEvil Name\u202c,rtl@example.org\nNul\x00Name,nul@example.org\n"
        "Ann Lee\tann@example.org\n"
    ).encode()
    response = client.post(
        f"/cohorts/{cohort.id}/roster/invite",
        data={"csv_file": (io.BytesIO(csv_bytes), "people.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "\x00" not in html and "\u202e" not in html
    assert text_of(response).count("contains invisible control characters") == 2
    # The list comes back in the text box, one person a line, to send again.
    assert "Ann Lee" in html and "rtl@example.org" in html and html.count("@example.org") >= 3
    with app.app_context():
        assert db.session.execute(db.select(User).where(User.email.like("%@example.org"), User.id > fran.id)).all() == []
    added = client.post(
        f"/cohorts/{cohort.id}/roster/invite",
        data={"csv_file": (io.BytesIO(csv_bytes), "people.csv"), "add_valid_only": "yes"},
        content_type="multipart/form-data",
    )
    assert added.status_code == 303
    with app.app_context():
        names = db.session.execute(db.select(User.display_name).where(User.id > fran.id)).scalars().all()
    assert names == ["Ann Lee"]
