"""The programme team manages accounts: list, search, roles, deactivation, invitations."""

from __future__ import annotations

from portal.extensions import db
from portal.models import AuditEvent, Role, User
from tests.conftest import text_of


def test_list_and_search_people(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN], name="Ada Admin"))
    make_user("rosa@example.org", name="Rosa Parks", roles=[Role.TRAINEE])
    make_user("sam@example.org", name="Sam Supervisor", roles=[Role.SUPERVISOR])
    make_user("gone@example.org", name="Gone Person", status="deactivated")
    everyone = text_of(client.get("/admin/users"))
    assert "Rosa Parks" in everyone and "Sam Supervisor" in everyone and "4 people found" in everyone
    by_name = text_of(client.get("/admin/users?q=rosa"))
    assert "Rosa Parks" in by_name and "Sam Supervisor" not in by_name
    by_role = text_of(client.get("/admin/users?role=supervisor"))
    assert "Sam Supervisor" in by_role and "Rosa Parks" not in by_role
    by_status = text_of(client.get("/admin/users?status=deactivated"))
    assert "Gone Person" in by_status and "Rosa Parks" not in by_status
    wildcard = text_of(client.get("/admin/users?q=%25"))
    assert "No one matches" in wildcard


def test_search_as_you_type_returns_only_the_results(client, auth, make_user, hx):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    make_user(name="Rosa Parks")
    response = client.get("/admin/users?q=rosa", headers=hx)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="user_results"')
    assert "Rosa Parks" in body and "<html" not in body


def test_deactivation_ends_sessions_and_sign_in(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user(name="Pat")
    their_browser = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(their_browser, app).login_as(person)
    assert their_browser.get("/account").status_code == 200
    auth.login_as(admin)
    response = client.post(f"/admin/users/{person.id}/deactivate", data={"reason": "left the programme"})
    assert response.status_code == 303
    assert their_browser.get("/account").status_code == 302
    assert AuthActions(their_browser, app).login(person.email).status_code == 422
    assert "Deactivated" in text_of(client.get(f"/admin/users/{person.id}"))
    client.post(f"/admin/users/{person.id}/reactivate")
    assert AuthActions(their_browser, app).login(person.email).status_code == 303
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [e.action for e in events] == ["account.deactivated", "account.reactivated"]
        assert events[0].actor_id == admin.id and events[0].subject_id == person.id
        assert events[0].details == {"reason": "left the programme"}


def test_change_roles_is_audited(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user(roles=[Role.TRAINEE])
    auth.login_as(admin)
    response = client.post(f"/admin/users/{person.id}/roles", data={"roles": ["trainee", "facilitator"]})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, person.id).roles == {Role.TRAINEE, Role.FACILITATOR}
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "account.roles_changed")
        ).scalar_one()
        assert event.details == {"before": ["trainee"], "after": ["facilitator", "trainee"]}
        grants = db.session.execute(db.select(AuditEvent).where(AuditEvent.action.like("role.%"))).scalars().all()
        assert [(e.action, e.details, e.actor_id, e.subject_id) for e in grants] == [
            ("role.granted", {"role": "facilitator"}, admin.id, person.id)
        ]
    response = client.post(f"/admin/users/{person.id}/roles", data={"roles": ["facilitator"]})
    assert response.status_code == 303
    with app.app_context():
        removed = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "role.removed")
        ).scalar_one()
        assert removed.details == {"role": "trainee"} and removed.actor_id == admin.id


def test_the_last_admin_cannot_be_removed(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    auth.login_as(admin)
    response = client.post(f"/admin/users/{admin.id}/roles", data={"roles": ["trainee"]})
    assert response.status_code == 422
    assert "at least one active admin" in text_of(response)
    with app.app_context():
        assert db.session.get(User, admin.id).roles == {Role.ADMIN}
        assert db.session.execute(db.select(AuditEvent)).first() is None
    own = client.post(f"/admin/users/{admin.id}/deactivate", data={}, follow_redirects=True)
    assert "cannot deactivate your own account" in text_of(own)


def test_invite_validates_and_refuses_duplicates(app, client, auth, make_user, outbox):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    make_user("taken@example.org")
    bad = client.post("/admin/invitations/new", data={"email": "not-an-email", "roles": []})
    assert bad.status_code == 422
    page = text_of(bad)
    assert "Enter a valid email address" in page and "Choose at least one role" in page
    dup = client.post("/admin/invitations/new", data={"email": "Taken@example.org", "roles": ["trainee"]})
    assert dup.status_code == 422
    assert "already has an account" in text_of(dup)
    assert outbox == []
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == 2


def test_resend_invitation_replaces_the_old_link(app, client, auth, make_user, outbox):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    client.post("/admin/invitations/new", data={"email": "later@example.org", "roles": ["supervisor"]})
    with app.app_context():
        person_id = db.session.execute(db.select(User.id).where(User.email == "later@example.org")).scalar_one()
    assert "Invited" in text_of(client.get(f"/admin/users/{person_id}"))
    client.post(f"/admin/users/{person_id}/invitation")
    assert len(outbox) == 2
    import re

    first = re.search(r"http://localhost(/\S+)", outbox[0].get_content()).group(1)
    second = re.search(r"http://localhost(/\S+)", outbox[1].get_content()).group(1)
    assert client.get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_audit_log_page(client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN], name="Ada Admin")
    person = make_user()
    auth.login_as(admin)
    client.post(f"/admin/users/{person.id}/roles", data={"roles": ["supervisor"]})
    page = text_of(client.get("/admin/audit"))
    assert f"Ada Admin changed the roles of {person.name} from trainee to supervisor." in page


def test_people_list_query_count_does_not_grow(app, client, auth, make_user, queries):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    for _ in range(3):
        make_user()
    with queries() as few:
        assert client.get("/admin/users").status_code == 200
    for _ in range(30):
        make_user()
    with queries() as many:
        assert client.get("/admin/users").status_code == 200
    assert len(few) == len(many)
