"""The authorization matrix: every route in app.url_map, for every principal, has an
expected outcome here. A route added without its row makes test_every_route_has_a_row fail.

Outcomes: "ok" (served: 2xx, 3xx, or a validation answer 400/410/422), "login" (sent to
sign in), "deny" (403). Objects in URLs belong to the world built by the `world` fixture:
"_in" principals are related to them (their cohort, their supervisee), "_out" are not.
"""

from __future__ import annotations

import pytest

PRINCIPALS = (
    "anonymous",
    "trainee_in",
    "trainee_out",
    "facilitator_in",
    "facilitator_out",
    "supervisor_in",
    "supervisor_out",
    "admin",
)


def everyone(outcome="ok"):
    return dict.fromkeys(PRINCIPALS, outcome)


def signed_in():
    return {**everyone("ok"), "anonymous": "login"}


def only(*allowed):
    table = {p: "deny" for p in PRINCIPALS}
    table["anonymous"] = "login"
    for p in allowed:
        table[p] = "ok"
    return table


TRAINEES = ("trainee_in", "trainee_out")
FACILITATORS = ("facilitator_in", "facilitator_out")
SUPERVISORS = ("supervisor_in", "supervisor_out")

# (endpoint, method) -> {principal: outcome}
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("static", "GET"): everyone(),
    ("main.index", "GET"): everyone(),
    ("main.healthz", "GET"): everyone(),
    ("auth.login", "GET"): everyone(),
    ("auth.login", "POST"): everyone(),
    ("auth.logout", "POST"): everyone(),
    ("auth.forgot_password", "GET"): everyone(),
    ("auth.forgot_password", "POST"): everyone(),
    ("auth.reset_password", "GET"): everyone(),
    ("auth.reset_password", "POST"): everyone(),
    ("auth.accept_invitation", "GET"): everyone(),
    ("auth.accept_invitation", "POST"): everyone(),
    ("account.profile", "GET"): signed_in(),
    ("account.profile", "POST"): signed_in(),
    ("account.password", "GET"): signed_in(),
    ("account.password", "POST"): signed_in(),
    ("dashboards.home", "GET"): signed_in(),
    ("dashboards.admin", "GET"): only("admin"),
    ("dashboards.facilitator", "GET"): only(*FACILITATORS),
    ("dashboards.supervisor", "GET"): only(*SUPERVISORS),
    ("dashboards.trainee", "GET"): only(*TRAINEES),
    ("admin.users", "GET"): only("admin"),
    ("admin.user", "GET"): only("admin"),
    ("admin.change_roles", "POST"): only("admin"),
    ("admin.deactivate", "POST"): only("admin"),
    ("admin.reactivate", "POST"): only("admin"),
    ("admin.resend_invitation", "POST"): only("admin"),
    ("admin.invite", "GET"): only("admin"),
    ("admin.invite", "POST"): only("admin"),
    ("admin.audit_log", "GET"): only("admin"),
    # Cohorts: "_in" trainees are enrolled in the cohort of the URL, "_in" facilitators run it.
    ("cohorts.index", "GET"): only(*FACILITATORS, "admin"),
    ("cohorts.create", "GET"): only("admin"),
    ("cohorts.create", "POST"): only("admin"),
    ("cohorts.show", "GET"): only("trainee_in", "facilitator_in", "admin"),
    ("cohorts.settings", "GET"): only("admin"),
    ("cohorts.settings", "POST"): only("admin"),
    ("cohorts.session", "GET"): only("trainee_in", "facilitator_in", "admin"),
    ("cohorts.session_ics", "GET"): only("trainee_in", "facilitator_in", "admin"),
    ("cohorts.edit_session", "GET"): only("facilitator_in", "admin"),
    ("cohorts.edit_session", "POST"): only("facilitator_in", "admin"),
    ("cohorts.roster_add", "GET"): only("facilitator_in", "admin"),
    ("cohorts.roster_add", "POST"): only("facilitator_in", "admin"),
    ("cohorts.roster_invite", "POST"): only("facilitator_in", "admin"),
    ("cohorts.enrollment", "GET"): only("facilitator_in", "admin"),
    ("cohorts.withdraw", "POST"): only("facilitator_in", "admin"),
    ("cohorts.set_supervisor", "POST"): only("facilitator_in", "admin"),
    ("cohorts.pair", "POST"): only("facilitator_in", "admin"),
    ("cohorts.swap", "POST"): only("facilitator_in", "admin"),
    ("cohorts.lock_dyads", "POST"): only("facilitator_in", "admin"),
    ("cohorts.repair_dyads", "POST"): only("facilitator_in", "admin"),
    ("cohorts.add_handout", "POST"): only("facilitator_in", "admin"),
    ("cohorts.handout", "GET"): only("trainee_in", "facilitator_in", "admin"),
    ("cohorts.remove_handout", "POST"): only("facilitator_in", "admin"),
    ("calendar.page", "GET"): signed_in(),
    ("calendar.new_link", "POST"): signed_in(),
    # A calendar feed is reached by its secret address alone; a wrong one is not found.
    ("calendar.feed", "GET"): everyone("missing"),
}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_row(app):
    missing = [
        f"{rule.endpoint} {method} {rule.rule}" for rule, method in _rules(app) if (rule.endpoint, method) not in MATRIX
    ]
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(missing)
    stale = [key for key in MATRIX if key not in {(r.endpoint, m) for r, m in _rules(app)}]
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_row_names_every_principal():
    for key, row in MATRIX.items():
        assert set(row) == set(PRINCIPALS), key


def classify(response) -> str:
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login?next="):
        return "login"
    if response.status_code == 401:
        return "login"
    if response.status_code == 403:
        return "deny"
    if response.status_code == 404:
        return "missing"
    if response.status_code in (200, 204, 301, 302, 303, 400, 410, 422):
        return "ok"
    return f"status {response.status_code}"


ROWS = sorted(MATRIX)


@pytest.mark.parametrize(("endpoint", "method"), ROWS, ids=[f"{e}-{m}" for e, m in ROWS])
def test_route_outcome(app, make_user, make_cohort, endpoint, method):
    """Every principal against one route. A GET changes nothing, so one world serves all
    eight; a state-changing request gets a fresh world for each principal."""
    from tests.conftest import AuthActions, World, empty_tables

    rule = next(r for r, m in _rules(app) if r.endpoint == endpoint and m == method)
    world = World(app, make_user, make_cohort)
    wrong = []
    for n, principal in enumerate(PRINCIPALS):
        if method != "GET" and n:
            empty_tables(app)
            world = World(app, make_user, make_cohort)
        client = app.test_client()
        if principal != "anonymous":
            AuthActions(client, app).login_as(world.people[principal])
        url = world.url_for(rule)
        response = client.open(url, method=method, data={})
        expected = MATRIX[(endpoint, method)][principal]
        if classify(response) != expected:
            wrong.append(
                f"{principal}: expected {expected}, got {response.status_code} {response.headers.get('Location', '')}"
            )
    assert not wrong, f"{method} {rule.rule}:\n" + "\n".join(wrong)
