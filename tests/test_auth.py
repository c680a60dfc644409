"""Signing in and out, sessions, rate limits, password resets and invitations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Invitation, PasswordReset, Role, User, UserSession, utcnow
from tests.conftest import DEFAULT_PASSWORD, text_of


@pytest.mark.parametrize(
    ("role", "dashboard"),
    [
        (Role.ADMIN, "/dashboard/admin"),
        (Role.FACILITATOR, "/dashboard/facilitator"),
        (Role.SUPERVISOR, "/dashboard/supervisor"),
        (Role.TRAINEE, "/dashboard/trainee"),
    ],
)
def test_each_role_lands_on_its_dashboard(client, auth, make_user, role, dashboard):
    person = make_user(roles=[role])
    response = auth.login(person.email, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == dashboard


def test_email_is_matched_without_regard_to_case(client, auth, make_user):
    make_user("Mixed.Case@example.org")
    response = auth.login("  MIXED.case@EXAMPLE.org ")
    assert response.status_code == 303


def test_wrong_password_and_unknown_email_get_the_same_answer(client, auth, make_user):
    person = make_user()
    wrong = auth.login(person.email, "not the right password")
    unknown = auth.login("nobody@example.org", "not the right password")
    assert wrong.status_code == unknown.status_code == 422
    assert "do not match an active account" in text_of(wrong)
    assert text_of(wrong).replace(person.email, "X") == text_of(unknown).replace("nobody@example.org", "X")


def test_deactivated_and_invited_accounts_cannot_sign_in(client, auth, make_user):
    gone = make_user(status="deactivated")
    invited = make_user(status="invited")
    assert auth.login(gone.email).status_code == 422
    assert auth.login(invited.email).status_code == 422
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account", "/account"),
        ("/admin/users?q=a", "/admin/users?q=a"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/path", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("http:/evil.example", "/dashboard"),
    ],
)
def test_next_only_leads_within_the_site(client, make_user, next_url, expected):
    person = make_user(roles=[Role.ADMIN])
    response = client.post(
        "/login", query_string={"next": next_url}, data={"email": person.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_signing_in_renews_the_session(client, auth, make_user):
    person = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["csrf_token"] = "fixed-token"
    auth.login(person.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != "fixed-token"
        assert sess.permanent


def test_sign_out_ends_the_session_on_the_server(app, client, auth, make_user):
    person = make_user()
    auth.login(person.email)
    cookie = client.get_cookie("portal_session").value
    assert client.get("/account").status_code == 200
    response = auth.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    # Replaying the old cookie no longer works.
    client.set_cookie("portal_session", cookie)
    replay = client.get("/account")
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/login")
    with app.app_context():
        row = db.session.execute(db.select(UserSession)).scalar_one()
        assert row.ended_reason == "signed out"


def test_sign_out_needs_a_post(client, auth, make_user):
    auth.login(make_user().email)
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("field", "age", "reason"),
    [("last_seen_at", timedelta(hours=4), "idle"), ("created_at", timedelta(hours=25), "absolute lifetime")],
)
def test_idle_and_absolute_lifetimes_end_a_session(app, client, auth, make_user, field, age, reason):
    person = make_user()
    auth.login_as(person)
    assert client.get("/account").status_code == 200
    with app.app_context():
        row = db.session.execute(db.select(UserSession)).scalar_one()
        setattr(row, field, utcnow() - age)
        db.session.commit()
    assert client.get("/account").status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(UserSession)).scalar_one().ended_reason == reason


def test_sign_in_failures_are_limited_per_account_and_address(client, make_user):
    person = make_user()
    here = {"REMOTE_ADDR": "10.0.0.7"}
    for n in range(5):
        response = client.post(
            "/login", data={"email": person.email, "password": f"wrong guess {n}"}, environ_base=here
        )
        assert response.status_code == 422
    blocked = client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD}, environ_base=here)
    assert blocked.status_code == 429
    assert "Too many attempts" in text_of(blocked)
    # Other accounts from the same address are not blocked by it.
    other = make_user()
    ok = client.post("/login", data={"email": other.email, "password": DEFAULT_PASSWORD}, environ_base=here)
    assert ok.status_code == 303


def test_strangers_failing_cannot_lock_a_person_out(app, make_user):
    """Failures from many addresses against one account never lock out its owner, who signs
    in from an address that has not failed."""
    person = make_user()
    stranger = app.test_client()
    for n in range(30):
        response = stranger.post(
            "/login",
            data={"email": person.email, "password": f"wrong guess {n}"},
            environ_base={"REMOTE_ADDR": f"10.0.{n // 5}.{n % 5 + 1}"},
        )
        assert response.status_code == 422
    owner = app.test_client()
    ok = owner.post(
        "/login", data={"email": person.email, "password": DEFAULT_PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert ok.status_code == 303


def test_sign_in_failures_are_limited_per_address(client, make_user):
    for n in range(20):
        response = client.post("/login", data={"email": f"guess{n}@example.org", "password": "whatever it is"})
        assert response.status_code == 422
    person = make_user()
    assert client.post("/login", data={"email": person.email, "password": DEFAULT_PASSWORD}).status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(client, auth, make_user):
    person = make_user()
    for _ in range(7):
        assert auth.login(person.email).status_code == 303
        auth.logout()


def _link(message) -> str:
    body = message.get_content()
    match = re.search(r"http://localhost(/\S+)", body)
    assert match, body
    return match.group(1)


def test_forgotten_password_by_emailed_single_use_link(app, client, auth, make_user, outbox):
    person = make_user()
    auth.login_as(person)  # an old session elsewhere
    other = app.test_client()
    response = other.post("/forgot-password", data={"email": person.email})
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert len(outbox) == 1 and outbox[0]["To"] == person.email
    link = _link(outbox[0])
    assert other.get(link).status_code == 200
    weak = other.post(link, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    assert "at least 12 characters" in text_of(weak)
    new = "a brand new long passphrase"
    done = other.post(link, data={"password": new, "confirm": new})
    assert done.status_code == 303
    # Used once: the link is dead now, and the old session elsewhere was ended.
    assert other.post(link, data={"password": new, "confirm": new}).status_code == 410
    assert client.get("/account").status_code == 302
    assert auth.login(person.email, new).status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(AuditEvent.action)).scalars().all() == ["password.reset"]


def test_forgot_password_says_the_same_for_unknown_emails(client, outbox):
    response = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert outbox == []


def test_password_reset_link_expires(app, client, make_user, outbox):
    person = make_user()
    client.post("/forgot-password", data={"email": person.email})
    link = _link(outbox[0])
    with app.app_context():
        row = db.session.execute(db.select(PasswordReset)).scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 410
    assert "no longer works" in text_of(response)


def test_a_newer_reset_link_replaces_the_older(client, make_user, outbox):
    person = make_user()
    client.post("/forgot-password", data={"email": person.email})
    client.post("/forgot-password", data={"email": person.email})
    first, second = _link(outbox[0]), _link(outbox[1])
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_a_tampered_link_is_refused(client, make_user, outbox):
    person = make_user()
    client.post("/forgot-password", data={"email": person.email})
    link = _link(outbox[0])
    assert client.get(link[:-3] + "xyz").status_code == 410


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "too common"),
        ("aaaaaaaaaaaaaaa", "too common"),
        ("invitee@example.org", "email address"),
    ],
)
def test_password_policy(app, client, make_user, outbox, password, message):
    admin = make_user(roles=[Role.ADMIN])
    from tests.conftest import AuthActions

    AuthActions(client, app).login_as(admin)
    client.post("/admin/invitations/new", data={"email": "invitee@example.org", "roles": ["trainee"]})
    link = _link(outbox[0])
    fresh = app.test_client()
    response = fresh.post(link, data={"display_name": "Ivy", "password": password, "confirm": password})
    assert response.status_code == 422
    assert message in text_of(response)
    with app.app_context():
        assert (
            db.session.execute(db.select(User).where(User.email == "invitee@example.org")).scalar_one().password_hash
            is None
        )


def test_invitation_sets_a_password_once(app, client, auth, make_user, outbox):
    admin = make_user(roles=[Role.ADMIN], name="Ada Admin")
    auth.login_as(admin)
    response = client.post(
        "/admin/invitations/new",
        data={"email": "New.Person@example.org", "display_name": "New Person", "roles": ["facilitator", "trainee"]},
    )
    assert response.status_code == 303
    assert len(outbox) == 1
    assert "Ada Admin has invited you" in outbox[0].get_content()
    link = _link(outbox[0])

    invitee = app.test_client()
    page = invitee.get(link)
    assert page.status_code == 200
    assert "new.person@example.org" in text_of(page)
    accepted = invitee.post(
        link, data={"display_name": "Nia Person", "password": "my own long phrase", "confirm": "my own long phrase"}
    )
    assert accepted.status_code == 303
    assert invitee.get("/dashboard").headers["Location"] == "/dashboard/facilitator"
    assert invitee.get(link).status_code == 410
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "new.person@example.org")).scalar_one()
        assert user.display_name == "Nia Person"
        assert user.roles == {Role.FACILITATOR, Role.TRAINEE}
        assert user.activated_at is not None
        assert db.session.execute(db.select(Invitation)).scalar_one().used_at is not None


def test_invitation_expires(app, client, auth, make_user, outbox):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    client.post("/admin/invitations/new", data={"email": "late@example.org", "roles": ["trainee"]})
    link = _link(outbox[0])
    with app.app_context():
        db.session.execute(db.select(Invitation)).scalar_one().expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert app.test_client().get(link).status_code == 410


def test_htmx_request_needing_sign_in_gets_hx_redirect(client):
    response = client.get(
        "/account", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/users?q=x"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/admin/users?q%3Dx"
    assert response.get_data() == b""


def test_login_form_is_a_fragment_for_htmx_and_varies(client, make_user):
    response = client.post(
        "/login", data={"email": "x@example.org", "password": "nope nope nope"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="login_form"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_forgot_password_sends_at_most_three_mails_an_hour(client, make_user, outbox):
    person = make_user()
    for _ in range(5):
        response = client.post("/forgot-password", data={"email": person.email})
        assert response.status_code == 200
    assert len(outbox) == 3


def test_forgot_password_only_queues_the_work(app, client, make_user):
    """The request does the same thing for a known and an unknown address: it enqueues a
    job. No lookup, token or mail happens in the request (no timing oracle)."""
    from portal.jobs import huey
    from portal.models import OutboxMail, PasswordReset

    person = make_user()
    huey.immediate = False
    try:
        huey.flush()
        known = client.post("/forgot-password", data={"email": person.email})
        unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert text_of(known).replace(person.email, "X") == text_of(unknown).replace("nobody@example.org", "X")
        with app.app_context():
            assert db.session.execute(db.select(PasswordReset)).first() is None
            assert db.session.execute(db.select(OutboxMail)).first() is None
        assert huey.pending_count() == 2
        # The consumer's work: one reset mail for the known address, none for the other.
        while (task := huey.dequeue()) is not None:
            with app.app_context():
                task.execute()
        with app.app_context():
            assert len(db.session.execute(db.select(PasswordReset)).all()) == 1
            assert [m.to_address for m in db.session.execute(db.select(OutboxMail)).scalars()] == [person.email]
    finally:
        huey.flush()
        huey.immediate = True
