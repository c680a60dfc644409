"""The security baseline: CSRF, headers, cookies, error pages, configuration."""

from __future__ import annotations

import pytest

from portal import ConfigurationError
from portal.extensions import db
from portal.models import Role, User
from tests.conftest import make_test_app, text_of


def _name(app, person) -> str:
    with app.app_context():
        return db.session.get(User, person.id).display_name


@pytest.mark.parametrize("csrf", [False, "bad"])
def test_a_post_without_a_valid_token_is_refused_and_changes_nothing(app, client, auth, make_user, csrf):
    person = make_user(name="Original Name")
    auth.login_as(person)
    response = client.post("/account", data={"display_name": "Changed", "time_zone": "UTC"}, csrf=csrf)
    assert response.status_code == 400
    assert "This request was refused" in text_of(response)
    assert "Send again" not in text_of(response)
    assert _name(app, person) == "Original Name"


OURS = {"Origin": "http://localhost"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}, {"Origin": "null"}],
    ids=["no origin", "foreign origin", "foreign referer", "null origin"],
)
def test_a_forged_request_gets_no_one_click_resend(app, client, auth, make_user, headers):
    """A cross-site form posting to the portal must not become one click from success."""
    person = make_user(name="Original Name")
    auth.login_as(person)
    response = client.post(
        "/account", data={"display_name": "Forged", "time_zone": "UTC"}, headers=headers, csrf=False
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Send again" not in html and "Forged" not in html
    assert 'action="/account"' not in html  # no form re-posting the request
    assert _name(app, person) == "Original Name"
    assert client.get("/account").status_code == 200  # the person's session is untouched


def test_admin_actions_never_get_a_resend_even_from_our_pages(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user(roles=[Role.TRAINEE])
    auth.login_as(admin)
    response = client.post(
        f"/admin/users/{person.id}/roles", data={"roles": ["admin"]}, headers=OURS, csrf=False
    )
    assert response.status_code == 400
    assert "Send again" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, person.id).roles == {Role.TRAINEE}


def test_htmx_posts_need_the_token_too(app, client, auth, make_user, hx):
    person = make_user(name="Original Name")
    auth.login_as(person)
    refused = client.post(
        "/account", data={"display_name": "Changed", "time_zone": "UTC"}, headers={**hx, **OURS}, csrf=False
    )
    assert refused.status_code == 400
    assert refused.headers["HX-Retarget"] == "#messages"
    assert "portal:csrf" in refused.headers["HX-Trigger"]  # a fresh token for the page
    assert _name(app, person) == "Original Name"
    accepted = client.post("/account", data={"display_name": "Changed", "time_zone": "UTC"}, headers=hx)
    assert accepted.status_code == 200
    assert _name(app, person) == "Changed"


def test_a_stale_form_keeps_what_was_typed_but_never_the_password(client, auth, make_user):
    auth.login_as(make_user())
    response = client.post(
        "/account",
        data={"display_name": "Typed <b>carefully</b>", "time_zone": "Europe/Paris", "password": "secret words here"},
        headers={"Referer": "http://localhost/account"},
        csrf=False,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'name="display_name" value="Typed &lt;b&gt;carefully&lt;/b&gt;"' in html
    assert 'name="time_zone" value="Europe/Paris"' in html
    assert "secret words here" not in html
    assert 'name="csrf_token"' in html
    assert "Send again" in html


def test_the_token_does_not_expire_within_a_session(app):
    # A two-hour live session or a timed test must not lose its form to a timer.
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "http" not in csp  # no third-party origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script(client):
    html = client.get("/login").get_data(as_text=True)
    assert "//" not in "".join(part.split('"')[0] for part in html.split('src="')[1:])
    assert "<script>" not in html
    assert 'src="/static/vendor/htmx.min.js?v=' in html
    assert '"selfRequestsOnly": true' in html and '"allowEval": false' in html


def test_session_cookie_flags(client, auth, make_user):
    auth.login(make_user().email)
    cookie = client.get_cookie("portal_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_production_refuses_a_default_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        make_test_app(f"sqlite:///{tmp_path / 'x.db'}", SECRET_KEY="dev-only-not-secret", PORTAL_ENV="production")


def test_production_refuses_to_start_without_redis(tmp_path, monkeypatch):
    """Sign-in limits must be shared by every worker: no REDIS_URL, no production start."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.delenv("REDIS_URL", raising=False)
    from portal import create_app

    with pytest.raises(ConfigurationError, match="REDIS_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})


def test_production_cookie_is_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_not_found_page_in_the_portals_look(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in text_of(response)
    assert 'class="skip-link"' in response.get_data(as_text=True)


def test_errors_are_alerts_for_htmx(client, hx):
    response = client.get("/no/such/page", headers=hx)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'role="alert"' in body


def test_forbidden_page(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.TRAINEE]))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "You do not have access" in text_of(response)


def test_a_crash_shows_no_stack_trace(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'crash.db'}")

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body
    hx_response = app.test_client().get("/boom", headers={"HX-Request": "true"})
    assert hx_response.status_code == 500 and "<html" not in hx_response.get_data(as_text=True)


def test_user_text_is_escaped(app, client, auth, make_user):
    make_user(name="<script>alert(1)</script>")
    admin = make_user(roles=[Role.ADMIN])
    auth.login_as(admin)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_health_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_health_check_reports_a_dead_database(tmp_path):
    app = make_test_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


def test_static_files_are_versioned_and_cached_long(client):
    html = client.get("/login").get_data(as_text=True)
    import re

    match = re.search(r'src="(/static/js/portal\.js\?v=([0-9a-f]{12}))"', html)
    assert match, "portal.js is linked with a content version"
    response = client.get(match.group(1))
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_links_follow_the_path_the_portal_is_served_under(client):
    """The layout's links are built once per path prefix (portal.templating): a portal served
    under /peer (a proxy's SCRIPT_NAME) links under /peer, and the same process still links
    at the root for a request without the prefix."""
    import re

    def links(**environ):
        html = client.get("/login", environ_overrides=environ).get_data(as_text=True)
        return re.search(r'<a class="brand" href="([^"]+)"', html).group(1), re.search(
            r'href="([^"]+pico\.min\.css[^"]*)"', html).group(1)

    root = links()
    assert root[0] == "/" and root[1].startswith("/static/vendor/pico.min.css?v=")
    assert links(SCRIPT_NAME="/peer") == ("/peer/", "/peer" + root[1])
    assert links() == root


# Routes anyone may open (signed out too); every other route asks portal.authz.
PUBLIC = {
    "static",
    "main.index",
    "main.healthz",
    "auth.login",
    "auth.logout",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
    "calendar.feed",  # its secret address is the key
    "assessment.unsubscribe",  # the signed token in the mailed link is the key
    "assessment.unsubscribe_confirm",
    # --- certification: anyone verifies a certificate; the credentials' keys and revocations
    "certification.verify_form",
    "certification.verify",
    "certification.jwks",
    "certification.revocations",
    "notifications.unsubscribe",  # notify: the signed token in the mailed link is the key
    "notifications.unsubscribe_confirm",
}


def _asks_authz(function, depth=3) -> bool:
    """The function, or a helper of its own module it calls (a few levels down), calls
    portal.authz's require() or can()."""
    import inspect
    import re

    source = inspect.getsource(function)
    if re.search(r"\b(require|can)\(", source):
        return True
    if depth == 0:
        return False
    module = inspect.getmodule(function)
    for name in set(re.findall(r"\b(\w+)\(", source)):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper is not function and inspect.getmodule(helper) is not None:
            if inspect.getmodule(helper).__name__.startswith("portal.") and _asks_authz(helper, depth - 1):
                return True
    return False


def test_every_route_asks_the_one_authorisation_module(app):
    """One vocabulary: each non-public view calls require()/can() of portal.authz, itself or
    through a helper that finds the object and asks (cohort_for, session_of, ...)."""
    import inspect

    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in PUBLIC and endpoint != "static" and not _asks_authz(inspect.unwrap(view))
    ]
    assert not missing, f"views that never ask portal.authz: {missing}"


def test_create_admin_is_audited(app, runner, make_user):
    from portal.models import AuditEvent

    person = make_user("promote.me@example.org", roles=[Role.TRAINEE])
    result = runner.invoke(args=["create-admin", person.email, "--password", "a calm river at dusk"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "role.granted", AuditEvent.subject_id == person.id)
        ).scalar_one()
        assert event.details == {"role": "admin"} and event.actor_id is None


def test_pages_with_several_forms_repeat_no_id(app, client, auth, make_user, make_cohort):
    """Every form carries its CSRF token in a hidden input without an id: the cohort page holds
    a dozen forms, and no id on it (nor on the account page) appears twice."""
    import re
    from collections import Counter

    from portal.models import Role

    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], trainees=[make_user(), make_user(), make_user()])
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    for path in (f"/cohorts/{cohort.id}", "/account"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('name="csrf_token"') > 1, path
        repeated = [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if n > 1]
        assert repeated == [], (path, repeated)
