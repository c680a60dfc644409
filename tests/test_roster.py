"""The roster: adding people, capacity and the waitlist, withdrawals, bulk invitations,
supervisors."""

from __future__ import annotations

import io
import re

from portal.cohorts.roster import parse_people_list
from portal.extensions import db
from portal.models import AuditEvent, Enrollment, Role, Supervision, User
from tests.conftest import text_of


def _statuses(app, cohort_id):
    with app.app_context():
        rows = db.session.execute(
            db.select(User.email, Enrollment.status)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.cohort_id == cohort_id)
            .order_by(Enrollment.id)
        ).all()
        return {email: status for email, status in rows}


def test_capacity_is_enforced_and_extra_trainees_wait_in_order(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], capacity=2)
    people = [make_user(f"t{n}@example.org", name=f"T{n}") for n in range(4)]
    auth.login_as(fran)
    for person in people:  # one at a time, so the waitlist order is the order of adding
        assert client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [person.id]}).status_code == 303
    assert _statuses(app, cohort.id) == {
        "t0@example.org": "enrolled",
        "t1@example.org": "enrolled",
        "t2@example.org": "waitlisted",
        "t3@example.org": "waitlisted",
    }
    page = text_of(client.get(f"/cohorts/{cohort.id}"))
    assert "Roster: 2 of 2 places taken" in page and "Waitlist (2)" in page
    assert page.index("T2") < page.index("T3")


def test_withdrawal_keeps_history_and_moves_the_waitlist_up(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    a, b, c = (make_user(f"{x}@example.org", name=x.upper()) for x in "abc")
    cohort = make_cohort(facilitators=[fran], trainees=[a, b, c], capacity=2)
    assert _statuses(app, cohort.id)["c@example.org"] == "waitlisted"
    auth.login_as(fran)
    missing = client.post(f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw", data={"reason": ""})
    assert missing.status_code == 422 and "Say why, for the record" in text_of(missing)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw",
        data={"reason": "moved away"},
        follow_redirects=True,
    )
    assert "C moved up from the waitlist" in text_of(response)
    assert _statuses(app, cohort.id) == {
        "a@example.org": "withdrawn",
        "b@example.org": "enrolled",
        "c@example.org": "enrolled",
    }
    with app.app_context():
        row = db.session.get(Enrollment, cohort.enrollment_ids[0])
        assert row.withdrawn_reason == "moved away" and row.withdrawn_at is not None and row.withdrawn_by_id == fran.id
        actions = db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
        assert actions[-2:] == ["roster.withdrawn", "roster.promoted"]
    assert "moved away" in text_of(client.get(f"/cohorts/{cohort.id}"))
    # The waitlist promised to tell C: a mail through the outbox and a note on C's dashboard.
    [told] = [m for m in outbox if m["To"] == "c@example.org"]
    assert told["Subject"] == f"You are in {cohort.name}" and "moved up from the waitlist" in told.get_content()
    assert not [m for m in outbox if m["To"] == "b@example.org"]  # B's place did not change
    auth.login_as(c)
    assert f"A place opened in {cohort.name}: you are in." in text_of(client.get("/dashboard", follow_redirects=True))


def test_raising_capacity_moves_the_waitlist_up(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    trainees = [make_user(f"{x}@example.org") for x in "abcd"]
    cohort = make_cohort(facilitators=[fran], trainees=trainees, capacity=3)
    assert _statuses(app, cohort.id)["d@example.org"] == "waitlisted"
    auth.login_as(make_user(roles=[Role.ADMIN]))
    settings = {"name": "X", "facilitators": [fran.id], "status": "enrolling"}
    lower = client.post(f"/cohorts/{cohort.id}/settings", data={**settings, "capacity": "2"})
    assert lower.status_code == 422 and "3 trainees are enrolled already" in text_of(lower)
    assert client.post(f"/cohorts/{cohort.id}/settings", data={**settings, "capacity": "4"}).status_code == 303
    assert _statuses(app, cohort.id)["d@example.org"] == "enrolled"
    assert [m["To"] for m in outbox if m["Subject"].startswith("You are in")] == ["d@example.org"]


def test_adding_someone_twice_is_refused(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    a = make_user()
    cohort = make_cohort(facilitators=[fran], trainees=[a])
    auth.login_as(fran)
    response = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [a.id]}, follow_redirects=True)
    assert "already on this roster" in text_of(response)
    assert len(_statuses(app, cohort.id)) == 1


def test_pasted_emails_invite_new_people_and_add_existing_ones(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    existing = make_user("known@example.org", roles=[Role.TRAINEE])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/invite",
        data={"people": "Ana Lopez, ana@example.org\nKNOWN@example.org\n  \nben@example.org"},
    )
    assert response.status_code == 303
    assert _statuses(app, cohort.id) == {
        "ana@example.org": "enrolled",
        "known@example.org": "enrolled",
        "ben@example.org": "enrolled",
    }
    # New people get an invitation naming the cohort; the existing account is told it was added.
    mails = {m["To"]: m for m in outbox}
    assert sorted(mails) == ["ana@example.org", "ben@example.org", "known@example.org"]
    assert mails["known@example.org"]["Subject"] == f"You are in {cohort.name}"
    assert f"You have a place in {cohort.name}." in mails["ana@example.org"].get_content()
    with app.app_context():
        ana = db.session.execute(db.select(User).where(User.email == "ana@example.org")).scalar_one()
        assert ana.display_name == "Ana Lopez" and ana.roles == {Role.TRAINEE} and ana.status == "invited"
        assert db.session.get(User, existing.id).roles == {Role.TRAINEE}


def test_csv_with_bad_rows_adds_nothing_until_all_valid_or_chosen(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    on_roster = make_user("already@example.org")
    cohort = make_cohort(facilitators=[fran], trainees=[on_roster])
    auth.login_as(fran)
    csv_text = (
        "name,email\n"
        "Ana Lopez,ana@example.org\n"
        "No Email Here,\n"
        "Bad Address,bad@@example\n"
        "Ana Again,ana@example.org\n"
        "Already There,already@example.org\n"
        '"Lee, Sam",sam@example.org\n'
    )
    data = {"csv_file": (io.BytesIO(csv_text.encode()), "people.csv")}
    response = client.post(f"/cohorts/{cohort.id}/roster/invite", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    text = text_of(response)
    assert "4 lines cannot be added" in text and "Nothing was added yet" in text
    assert "Line 3 (“No Email Here,”): no email address" in text
    assert "Line 4 (“Bad Address,bad@@example”): not a valid email address" in text
    assert "Line 5 (“Ana Again,ana@example.org”): the same email as line 2" in text
    assert "Line 6 (“Already There,already@example.org”): already on this roster" in text
    assert "Add only the 2 valid people" in text
    assert _statuses(app, cohort.id) == {"already@example.org": "enrolled"}
    assert outbox == []
    # The person chooses to add only the valid rows: the form sent back the same list.
    html = response.get_data(as_text=True)
    assert "sam@example.org" in html  # the list is kept in the textarea
    chosen = client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": csv_text, "add_valid_only": "yes"})
    assert chosen.status_code == 303
    assert set(_statuses(app, cohort.id)) == {"already@example.org", "ana@example.org", "sam@example.org"}
    with app.app_context():
        sam = db.session.execute(db.select(User).where(User.email == "sam@example.org")).scalar_one()
        assert sam.display_name == "Lee, Sam"


def test_parse_people_list_reports_each_bad_line():
    result = parse_people_list("a@example.org; b@example.org, not-an-email", set())
    assert [r.email for r in result.rows] == ["a@example.org", "b@example.org"]
    assert result.errors == [(3, "not-an-email", "no email address")]
    header_only = parse_people_list("email\nx@example.org\n", set())
    assert [r.email for r in header_only.rows] == ["x@example.org"] and not header_only.errors


def test_empty_invite_list_is_explained(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    response = client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": "  "})
    assert response.status_code == 422
    assert "Paste some email addresses or choose a CSV file" in text_of(response)


def test_link_a_supervisor_by_picking_or_by_invitation(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user("sam@example.org", roles=[Role.SUPERVISOR], name="Sam")
    trainee = make_user(name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[trainee])
    url = f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/supervisor"
    auth.login_as(fran)

    def roster_supervisor():
        """The Supervisor cell of Tia's row on the cohort page (the page shows one row for her)."""
        html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
        cells = re.findall(r'<td data-label="Supervisor">(.*?)</td>', html)
        assert len(cells) == 1
        return re.sub(r"<[^>]+>", "", cells[0])

    assert roster_supervisor() == "Add a supervisor for Tia"
    nothing = client.post(url, data={"supervisor_id": "0"})
    assert nothing.status_code == 422 and "Choose a supervisor or enter an email" in text_of(nothing)
    assert client.post(url, data={"supervisor_id": str(sam.id)}).status_code == 303
    assert roster_supervisor() == "Sam"
    # The supervisor sees the trainee and their cohort.
    auth.login_as(sam)
    dashboard = text_of(client.get("/dashboard/supervisor"))
    assert "Tia" in dashboard and "Test Cohort" in dashboard
    # Changing to a new supervisor by email invites them and keeps the old link as history.
    auth.login_as(fran)
    assert (
        client.post(url, data={"supervisor_id": "0", "email": "new.sup@example.org", "name": "Nia"}).status_code == 303
    )
    assert [m["To"] for m in outbox] == ["new.sup@example.org"]
    assert roster_supervisor() == "Nia"  # the ended link is history, not a second row
    with app.app_context():
        links = db.session.execute(db.select(Supervision).order_by(Supervision.id)).scalars().all()
        assert [link.ended_at is not None for link in links] == [True, False]
        assert links[1].supervisor.email == "new.sup@example.org"
        assert links[1].supervisor.roles == {Role.SUPERVISOR}
    auth.login_as(sam)
    assert "Tia" not in text_of(client.get("/dashboard/supervisor"))


def test_a_trainee_of_another_cohort_cannot_see_this_one(client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    mine, other = make_user(name="Mine"), make_user(name="Other")
    cohort = make_cohort(facilitators=[fran], trainees=[mine], name="Mine's cohort")
    make_cohort(facilitators=[fran], trainees=[other], name="Other cohort")
    auth.login_as(other)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 403
    auth.login_as(mine)
    page = text_of(client.get(f"/cohorts/{cohort.id}"))
    assert "Mine's cohort" in page and "Roster" not in page  # trainees do not see the roster


def test_cohort_page_and_roster_queries_do_not_grow_with_the_roster(app, client, auth, make_user, make_cohort, queries):
    fran = make_user(roles=[Role.FACILITATOR])
    sup = make_user(roles=[Role.SUPERVISOR])
    small = make_cohort(facilitators=[fran], trainees=[make_user() for _ in range(5)], capacity=200, supervisor=sup)
    large = make_cohort(
        facilitators=[fran],
        trainees=[make_user(organisation=f"Org {n % 7}") for n in range(200)],
        capacity=200,
        supervisor=sup,
    )
    auth.login_as(fran)
    for cohort in (small, large):
        assert client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "workplaces"}).status_code == 303
    counts = {}
    for label, cohort in (("small", small), ("large", large)):
        with queries() as page:
            assert client.get(f"/cohorts/{cohort.id}").status_code == 200
        with queries() as roster_part:
            assert client.get(f"/cohorts/{cohort.id}?part=roster", headers={"HX-Request": "true"}).status_code == 200
        counts[label] = (len(page), len(roster_part))
    assert counts["small"] == counts["large"], counts


def test_only_trainee_accounts_can_be_picked(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    other_facilitator = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    # The form never offers a facilitator; a hand-made request naming one is refused.
    assert f"({other_facilitator.email})" not in text_of(client.get(f"/cohorts/{cohort.id}/roster/add"))
    response = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [other_facilitator.id]})
    assert response.status_code == 400
    assert _statuses(app, cohort.id) == {}
    with app.app_context():
        assert db.session.get(User, other_facilitator.id).roles == {Role.FACILITATOR}


def test_searching_trainees_to_add_takes_wildcards_literally(client, auth, make_user, make_cohort, hx):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    make_user("ana@example.org", name="Ana Lopez")
    make_user("ben@example.org", name="Ben Okafor")
    auth.login_as(fran)
    found = text_of(client.get(f"/cohorts/{cohort.id}/roster/add?q=lop", headers=hx))
    assert "Ana Lopez" in found and "Ben Okafor" not in found
    assert "Ana Lopez" not in text_of(client.get(f"/cohorts/{cohort.id}/roster/add?q=%25", headers=hx))
