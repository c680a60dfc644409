"""Cohorts as people use them (issue 8): answers where people act, their own time zone from
the first day, warnings before harm, and word when something changes (read back from the
outbox and the dashboard)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta

from portal.cohorts import roster
from portal.extensions import db
from portal.models import Dyad, Enrollment, Notice, OutboxMail, Role, User
from tests.conftest import text_of


def _status(app, cohort_id, user_id):
    with app.app_context():
        return db.session.execute(
            db.select(Enrollment.status).where(Enrollment.cohort_id == cohort_id, Enrollment.user_id == user_id)
        ).scalar()


# --- answers where people act -------------------------------------------------------------


def test_swap_refusal_is_shown_in_the_pairs_section_of_the_fragment(client, auth, make_user, make_cohort, hx):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=f"P{n}") for n in range(4)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"}, follow_redirects=True)
    response = client.post(
        f"/cohorts/{cohort.id}/dyads/swap", data={"first": people[0].id, "second": people[0].id}, headers=hx
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="dyads"')
    assert re.search(
        r'id="dyads-message"[^>]*>\s*<p class="flash flash-error" role="alert">Choose two different people to swap\.',
        html,
    )


def test_the_swap_form_starts_on_two_people_of_different_pairs_and_names_partners(
    app, client, auth, make_user, make_cohort
):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=n) for n in ("Ana", "Ben", "Cal", "Dee")]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    selected = re.findall(r'<option value="(\d+)" selected>([^<]+)</option>', html)
    assert len(selected) == 2
    (first, first_label), (second, second_label) = selected
    assert first != second and "(with " in first_label
    partner = first_label.split("(with ")[1].rstrip(")")
    assert not second_label.startswith(partner), "the second starts in another pair"


def test_after_a_swap_the_pairs_keep_their_places(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=f"P{n}") for n in range(6)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})

    def pairs():
        html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
        block = html.split('<ol class="dyads">')[1].split("</ol>")[0]
        return [
            set(re.sub(r"<[^>]+>", "", li).split("—")[0].strip().split(" &amp; ")) for li in block.split("<li>")[1:]
        ]

    before = pairs()
    first_name = sorted(before[0])[0]
    last_name = sorted(before[2])[0]
    with app.app_context():
        by_name = dict(db.session.execute(db.select(User.display_name, User.id)).all())
    client.post(f"/cohorts/{cohort.id}/dyads/swap", data={"first": by_name[first_name], "second": by_name[last_name]})
    after = pairs()
    assert after[1] == before[1], "the untouched pair stays in the middle"
    assert last_name in after[0] and first_name in after[2], "the new pairs take the old places"


def test_pairing_again_asks_first_and_says_how_many_pairs_change(app, client, auth, make_user, make_cohort, hx):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], trainees=[make_user() for _ in range(6)])
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    with app.app_context():
        before = set(db.session.execute(db.select(Dyad.id).where(Dyad.dissolved_at.is_(None))).scalars())
    page = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})  # no JavaScript
    assert page.status_code == 200
    assert "This replaces the 3 current pairs" in text_of(page)
    fragment = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"}, headers=hx)
    assert "This replaces the 3 current pairs" in text_of(fragment)
    assert 'name="confirm" value="yes"' in fragment.get_data(as_text=True)
    with app.app_context():
        assert set(db.session.execute(db.select(Dyad.id).where(Dyad.dissolved_at.is_(None))).scalars()) == before
    done = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        assert not set(db.session.execute(db.select(Dyad.id).where(Dyad.dissolved_at.is_(None))).scalars()) & before


def test_a_handout_is_added_on_its_own_page_and_shows_under_its_week(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    week3 = cohort.session_ids[2]
    auth.login_as(fran)
    # The cohort page links to the form (from the jump links and from each week) but does
    # not carry it.
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' not in page
    assert f'href="/cohorts/{cohort.id}/handouts/new?week=3"' in page
    assert f'href="/cohorts/{cohort.id}/handouts/new"' in page
    form = client.get(f"/cohorts/{cohort.id}/handouts/new?week=3")
    assert form.status_code == 200
    assert re.search(r'<option selected value="3">|<option value="3" selected>', form.get_data(as_text=True))
    # A week that does not exist is not chosen (the form starts on week 1).
    assert 'value="9" selected' not in client.get(f"/cohorts/{cohort.id}/handouts/new?week=9").get_data(as_text=True)
    response = client.post(
        f"/cohorts/{cohort.id}/handouts", data={"week": "3", "title": "Reading", "link_url": "https://example.org/r"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}#session-{week3}-message")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    row = html[html.index(f'<li id="session-{week3}"') :]
    row = row[: row.index("</li>\n")]
    assert re.search(
        rf'id="session-{week3}-message"[^>]*data-fresh="1">\s*<p class="flash flash-success" role="status">“Reading” added',
        html,
    )
    assert ">Reading</a>" in row
    # An error comes back on the form with focus on the summary (autofocus: no JavaScript needed).
    bad = client.post(f"/cohorts/{cohort.id}/handouts", data={"week": "3", "title": "", "link_url": ""})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert f'action="/cohorts/{cohort.id}/handouts"' in body
    assert 'class="error-summary" role="alert" tabindex="-1" autofocus' in body
    assert "<h1>Add a handout</h1>" in body


# --- time zones -------------------------------------------------------------------------------


def test_the_invitation_form_asks_for_the_time_zone_from_the_cohort_and_saves_it(
    app, client, auth, make_user, make_cohort, outbox
):
    from urllib.parse import urlsplit

    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    cohort = make_cohort(facilitators=[fran], zone="America/New_York", name="Spring Cohort A")
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": "Nia New, nia@example.org"})
    (message,) = outbox
    body = message.get_content()
    assert "Fran Facilitator has invited you" in body and "Spring Cohort A" in body
    assert "The first session is Mon 1 Mar 2027, 18:00 EST." in body, "in the invitee's zone (the cohort's)"
    link = re.search(r"http://localhost(/\S+)", body).group(1)
    client.post("/logout")
    form = client.get(urlsplit(link).path)
    html = form.get_data(as_text=True)
    assert re.search(r'<option selected value="America/New_York">|<option value="America/New_York" selected', html)
    assert "data-browser-zone" in html
    assert "Show my email and phone to my practice partner and my supervisor" in html
    done = client.post(
        urlsplit(link).path,
        data={
            "display_name": "Nia New",
            "password": "a lantern by the quiet harbour",
            "confirm": "a lantern by the quiet harbour",
            "time_zone": "America/Chicago",
        },
    )
    assert done.status_code == 303
    with app.app_context():
        nia = db.session.execute(db.select(User).where(User.email == "nia@example.org")).scalar_one()
        assert nia.time_zone == "America/Chicago" and nia.shares_contact is False
    dashboard = text_of(client.get("/dashboard/trainee"))
    assert "Times are shown in America/Chicago time." in dashboard and "Change your time zone" in dashboard


# --- warnings before harm -------------------------------------------------------------------------


def test_adding_someone_from_another_cohort_warns_about_overlapping_sessions(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    ted = make_user(name="Ted Trainee")
    make_cohort(trainees=[ted], name="Spring Cohort B", first_day=date(2027, 3, 1), start=time(18, 0))
    cohort = make_cohort(facilitators=[fran], name="Spring Cohort A", first_day=date(2027, 3, 1), start=time(18, 0))
    auth.login_as(fran)
    listing = text_of(client.get(f"/cohorts/{cohort.id}/roster/add"))
    assert "is taking part in Spring Cohort B; sessions overlap" in listing
    asked = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [ted.id]})
    assert asked.status_code == 200
    text = text_of(asked)
    assert "Before you add them" in text and "week 1 here with week 1 there" in text
    assert _status(app, cohort.id, ted.id) is None, "nothing added before the answer"
    done = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [ted.id], "confirm": "yes"})
    assert done.status_code == 303 and _status(app, cohort.id, ted.id) == "enrolled"
    # Both cohorts are on his dashboard and in his calendar.
    auth.login_as(ted)
    dashboard = text_of(client.get("/dashboard/trainee"))
    assert "Spring Cohort A" in dashboard and "Spring Cohort B" in dashboard
    calendar = client.get("/calendar")
    assert calendar.status_code == 200


def test_no_warning_without_another_cohort(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    ann = make_user()
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    assert client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [ann.id]}).status_code == 303


def test_a_cohort_starting_in_the_past_warns_before_saving(app, client, auth, make_user):
    from portal.models import Cohort

    admin = make_user(roles=[Role.ADMIN])
    fran = make_user(roles=[Role.FACILITATOR])
    auth.login_as(admin)
    data = {
        "name": "Late Cohort",
        "facilitators": [fran.id],
        "first_day": "2026-01-05",
        "start_time": "18:00",
        "time_zone": "Europe/Paris",
        "meeting_url": "",
        "capacity": "10",
        "notes": "",
        "status": "draft",
    }
    asked = client.post("/cohorts/new", data=data)
    assert asked.status_code == 200 and "All six sessions would be in the past" in text_of(asked)
    with app.app_context():
        assert db.session.execute(db.select(Cohort)).first() is None
    assert client.post("/cohorts/new", data={**data, "confirm": "yes"}).status_code == 303


def test_moving_a_session_into_the_past_warns(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    response = client.post(f"/sessions/{cohort.session_ids[0]}/edit", data={"day": "2021-03-01", "start_time": "18:00"})
    assert response.status_code == 200 and "That time is in the past" in text_of(response)


def test_a_csv_separated_by_semicolons_is_read_as_such():
    result = roster.parse_people_list("name;email\nAna López;ana@example.org\nBen;ben@example.org\n", set())
    assert not result.errors
    assert [(r.name, r.email) for r in result.rows] == [("Ana López", "ana@example.org"), ("Ben", "ben@example.org")]
    # Commas still work, and a name with a comma inside quotes stays whole.
    result = roster.parse_people_list('"Lopez, Ana",ana@example.org\n', set())
    assert [(r.name, r.email) for r in result.rows] == [("Lopez, Ana", "ana@example.org")]


def test_a_semicolon_csv_file_is_read_over_http(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    csv_file = (io.BytesIO("Name;Email\r\nZoe Zed;zoe@example.org\r\n".encode("utf-8-sig")), "people.csv")
    response = client.post(
        f"/cohorts/{cohort.id}/roster/invite", data={"csv_file": csv_file}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    with app.app_context():
        assert (
            db.session.execute(db.select(User.display_name).where(User.email == "zoe@example.org")).scalar()
            == "Zoe Zed"
        )


# --- word when something changes ---------------------------------------------------------------


def test_moving_a_session_tells_everyone_in_their_own_zone(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    paris = make_user("paris@example.org", name="Pia", time_zone="Europe/Paris")
    york = make_user("york@example.org", name="Yan", time_zone="America/New_York")
    gone = make_user("gone@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[paris, york, gone], zone="America/New_York")
    with app.app_context():
        enrollment = db.session.execute(db.select(Enrollment).where(Enrollment.user_id == gone.id)).scalar_one()
        roster.withdraw(enrollment, "left", db.session.get(User, fran.id))
        db.session.commit()
    auth.login_as(fran)
    session_id = cohort.session_ids[3]
    response = client.post(f"/sessions/{session_id}/edit", data={"day": "2027-03-23", "start_time": "19:00"})
    assert response.status_code == 303
    with app.app_context():
        rows = {m.to_address: m for m in db.session.execute(db.select(OutboxMail)).scalars()}
        notices = {n.user_id: n.text for n in db.session.execute(db.select(Notice)).scalars()}
    assert set(rows) == {"paris@example.org", "york@example.org"}, (
        "the people taking part; not the mover, not the withdrawn"
    )
    assert "Tue 23 Mar 2027, 19:00 EDT" in rows["york@example.org"].body
    assert "Wed 24 Mar 2027, 00:00 CET" in rows["paris@example.org"].body
    assert f"http://localhost/sessions/{session_id}/calendar.ics" in rows["paris@example.org"].body
    assert notices[paris.id] == "Week 4 moved to Wed 24 Mar 2027, 00:00 CET."
    page = client.get(response.headers["Location"])
    assert "2 people were told by mail and on their dashboard" in text_of(page)
    auth.login_as(paris)
    assert "Week 4 moved to Wed 24 Mar 2027, 00:00 CET." in text_of(client.get("/dashboard/trainee"))


def test_adding_an_existing_account_tells_the_person(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    kim = make_user("kim@example.org", name="Kim", time_zone="Europe/Paris")
    cohort = make_cohort(facilitators=[fran], name="Spring Cohort A")
    auth.login_as(fran)
    assert client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [kim.id]}).status_code == 303
    (mail,) = outbox
    assert mail["To"] == "kim@example.org" and mail["Subject"] == "You are in Spring Cohort A"
    assert "Fran Facilitator added you to Spring Cohort A." in mail.get_content()
    assert "The first session is Tue 2 Mar 2027, 00:00 CET." in mail.get_content()
    auth.login_as(kim)
    assert "Fran Facilitator added you to Spring Cohort A" in text_of(client.get("/dashboard/trainee"))


def test_a_facilitator_sends_an_invitation_again(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    ivy = make_user("ivy@example.org", status="invited", name="Ivy")
    cohort = make_cohort(facilitators=[fran], trainees=[ivy], name="Spring Cohort A")
    auth.login_as(fran)
    page = client.get(f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}")
    assert "Send the invitation again" in text_of(page)
    response = client.post(f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/invite-again")
    assert response.status_code == 303 and response.headers["Location"].endswith("#invitation-message")
    (mail,) = outbox
    assert mail["To"] == "ivy@example.org" and "Spring Cohort A" in mail.get_content()
    assert "A new invitation is on its way to ivy@example.org" in text_of(client.get(response.headers["Location"]))


# --- small things -----------------------------------------------------------------------------


def test_the_help_line_fits_the_readers_role(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.FACILITATOR]))
    page = text_of(client.get("/dashboard/facilitator"))
    assert "Need help? Ask the programme team." in page and "Ask your facilitator" not in page
    missing = text_of(client.get("/cohorts/999999"))
    assert "Ask your facilitator" not in missing and "programme team" in missing
    auth.login_as(make_user())
    assert "Ask your facilitator or the programme team." in text_of(client.get("/dashboard/trainee"))


def test_facilitators_are_not_offered_the_facilitator_filter(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.FACILITATOR]))
    assert 'name="facilitator"' not in client.get("/cohorts").get_data(as_text=True)
    auth.login_as(make_user(roles=[Role.ADMIN]))
    assert 'name="facilitator"' in client.get("/cohorts").get_data(as_text=True)


def test_the_calendar_page_offers_copy_and_a_one_tap_subscription(client, auth, make_user):
    auth.login_as(make_user())
    assert client.post("/calendar/link").status_code == 303
    html = client.get("/calendar").get_data(as_text=True)
    assert 'href="webcal://localhost/calendar/' in html
    assert 'data-copy="#feed-url"' in html and "On a phone" in html


def test_facilitators_see_the_meeting_link_and_the_current_week_stands_out(client, auth, make_user, make_cohort):
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("America/New_York"))
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], first_day=(now - timedelta(days=15)).date())
    auth.login_as(fran)
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert 'Meeting room: <a href="https://video.example.org/room"' in html
    assert html.count('class="session past"') == 2 or html.count('class="session past"') == 3
    assert html.count('class="session current"') == 1 and "This week" in html


def test_shared_contact_details_reach_partner_and_supervisor_only_when_chosen(
    app, client, auth, make_user, make_cohort
):
    sup = make_user(roles=[Role.SUPERVISOR], name="Sue", phone="+1 555 0101", email="sue@example.org")
    ana = make_user(name="Ana", email="ana@example.org", phone="+1 555 0102")
    ben = make_user(name="Ben", email="ben@example.org")
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben], supervisor=sup)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    auth.login_as(ben)
    page = text_of(client.get("/dashboard/trainee"))
    assert "ana@example.org" not in page and "sue@example.org" not in page, "nothing shared without a choice"
    for person in (ana, sup):
        auth.login_as(person)
        data = {"time_zone": "UTC", "shares_contact": "y"}
        with app.app_context():
            data["display_name"] = db.session.get(User, person.id).display_name
            data["phone"] = db.session.get(User, person.id).phone or ""
        assert client.post("/account", data=data).status_code == 303
    auth.login_as(ben)
    page = text_of(client.get("/dashboard/trainee"))
    assert "ana@example.org" in page and "+1 555 0102" in page and "sue@example.org" in page


def test_the_supervisor_dashboard_links_each_trainee_to_their_progress(client, auth, make_user, make_cohort):
    sup = make_user(roles=[Role.SUPERVISOR])
    ana = make_user(name="Ana Trainee")
    cohort = make_cohort(trainees=[ana], supervisor=sup, name="Spring Cohort A")
    auth.login_as(sup)
    html = client.get("/dashboard/supervisor").get_data(as_text=True)
    assert html.count(">People you supervise<") == 1, "no repeated heading"
    assert f'href="/dashboard/trainees/{ana.id}"' in html
    page = client.get(f"/dashboard/trainees/{ana.id}")
    assert page.status_code == 200 and "Spring Cohort A" in text_of(page)
    # ... and onwards to where the supervisor answers for the competencies.
    assert f'href="/supervision/{ana.id}"' in page.get_data(as_text=True)
    assert "will appear here" not in text_of(page)
    # A facilitator of the cohort reaches its assessment page from the same progress page.
    fran = make_user(roles=[Role.FACILITATOR])
    ben = make_user(name="Ben Trainee")
    other = make_cohort(trainees=[ben], facilitators=[fran], name="Summer Cohort B")
    auth.login_as(fran)
    html = client.get(f"/dashboard/trainees/{ben.id}").get_data(as_text=True)
    assert f'href="/cohorts/{other.id}/assessment"' in html and f"/cohorts/{cohort.id}/assessment" not in html
