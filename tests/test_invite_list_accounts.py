"""A pasted or uploaded invite list with addresses that already have accounts (issue 8): each
such line says so in the preview (added as they are, or refused when the account may not be
a trainee), someone taking part in another cohort is shown before anything is added (with
any overlapping sessions), and the people added are told (existing accounts by mail and
dashboard, accounts not signed up yet with a fresh invitation naming the cohort)."""

from __future__ import annotations

from datetime import date, time

from portal.extensions import db
from portal.models import Enrollment, Notice, Role, User
from tests.conftest import text_of


def _status(app, cohort_id, email):
    with app.app_context():
        return db.session.execute(
            db.select(Enrollment.status)
            .join(User, User.id == Enrollment.user_id)
            .where(Enrollment.cohort_id == cohort_id, User.email == email)
        ).scalar()


def test_each_line_with_an_account_says_so_in_the_preview(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    make_user("kim@example.org", name="Kim Existing")
    make_user("ivy@example.org", name="Ivy Invited", status="invited")
    make_user("sue@example.org", roles=[Role.SUPERVISOR], name="Sue")
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    listing = "Kim K, kim@example.org\nivy@example.org\nsue@example.org\nnew@example.org\nnot an address"
    response = client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": listing})
    assert response.status_code == 422
    text = text_of(response)
    assert "Line 1 (“kim@example.org”): already has an account (Kim Existing): added as they are" in text
    assert "the name on this line is not used" in text
    assert "Line 2 (“ivy@example.org”): already has an account (Ivy Invited) but has not signed up yet" in text
    assert "Line 3 (“sue@example.org”): already has an account that is not a trainee: ask an admin" in text
    assert "Line 5 (“not an address”): no email address" in text
    assert "new@example.org”)" not in text, "a new address needs no note"
    assert _status(app, cohort.id, "kim@example.org") is None, "nothing added yet"


def test_someone_in_another_cohort_is_shown_first(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    ted = make_user("ted@example.org", name="Ted Trainee")
    make_cohort(trainees=[ted], name="Spring Cohort B", first_day=date(2027, 3, 1), start=time(18, 0))
    cohort = make_cohort(facilitators=[fran], name="Spring Cohort A", first_day=date(2027, 3, 1), start=time(18, 0))
    auth.login_as(fran)
    url = f"/cohorts/{cohort.id}/roster/invite"
    asked = client.post(url, data={"people": "ted@example.org\nnew@example.org"})
    assert asked.status_code == 200
    text = text_of(asked)
    assert "Before you add them" in text
    assert "Ted Trainee is taking part in Spring Cohort B; sessions overlap: week 1 here with week 1 there" in text
    assert _status(app, cohort.id, "ted@example.org") is None and _status(app, cohort.id, "new@example.org") is None
    assert 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    done = client.post(url, data={"people": "ted@example.org\nnew@example.org", "confirm": "yes"})
    assert done.status_code == 303
    assert _status(app, cohort.id, "ted@example.org") == "enrolled"
    assert _status(app, cohort.id, "new@example.org") == "enrolled"
    page = text_of(client.get(done.headers["Location"].split("#")[0]))
    assert "2 added to the roster. 1 invitation sent. 1 already had an account: they were told by mail" in page
    assert sorted(m["To"] for m in outbox) == ["new@example.org", "ted@example.org"]
    with app.app_context():
        assert db.session.execute(db.select(Notice.text).where(Notice.user_id == ted.id)).scalars().all()


def test_no_stop_for_an_account_without_another_cohort(app, client, auth, make_user, make_cohort, outbox):
    fran = make_user(roles=[Role.FACILITATOR])
    make_user("kim@example.org", name="Kim")
    ivy = make_user("ivy@example.org", name="Ivy", status="invited")
    cohort = make_cohort(facilitators=[fran], name="Spring Cohort A")
    auth.login_as(fran)
    done = client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": "kim@example.org, ivy@example.org"})
    assert done.status_code == 303
    assert _status(app, cohort.id, "kim@example.org") == "enrolled"
    by_address = {m["To"]: m for m in outbox}
    assert set(by_address) == {"kim@example.org", "ivy@example.org"}
    assert "Spring Cohort A" in by_address["ivy@example.org"].get_content(), "a fresh invitation naming the cohort"
    with app.app_context():
        assert db.session.get(User, ivy.id).password_hash is None
