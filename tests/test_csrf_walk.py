"""Every POST route of app.url_map refuses a request without a valid CSRF token of its own
session, changes nothing, and keeps the person signed in; the stale-token recovery page
("Send again") is offered only to requests from this site's own pages, and never for admin
actions.

How routes, principals and bodies are found: the forms of every page are discovered as in
test_fuzz_forms (each page rendered for signed-out, trainee, facilitator and admin; the first
principal shown a form is the one who sends it, so signed-out forms are sent signed out,
own-account forms by a trainee, cohort management by the cohort's facilitator, admin forms by
an admin). The body is the form's own values, with plausible values in empty fields and the
few values a valid request needs (VALID); a control request with a valid token proves that the
body is accepted. A POST route that no page offers a form for fails the walk.

For each POST route, in a fresh world, the same client sends the body
  * without any token, and
  * with a valid token of another signed-in client's session (header X-CSRFToken),
each with no Origin/Referer, with an Origin or a Referer of this site (http://localhost), and
with a foreign Origin or Referer (https://evil.example). Every one must answer 400, leave every
table as it was (user_sessions.last_seen_at aside) and keep the person's session: the same
cookie session, and /account still answers 200.
"""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer

from portal.extensions import limiter
from tests.conftest import AuthActions
from tests.test_fuzz_forms import baseline, discover_forms, enrich, page_urls, parse_forms, table_snapshot

SITE = "http://localhost"
EVIL = "https://evil.example"
ORIGINS = {
    "no Origin/Referer": {},
    "Origin of this site": {"Origin": SITE},
    "Referer of this site": {"Referer": f"{SITE}/dashboard"},
    "foreign Origin": {"Origin": EVIL},
    "foreign Referer": {"Referer": f"{EVIL}/page"},
}
SAME_SITE = {"Origin of this site", "Referer of this site"}
SECRETS = {"password", "new_password", "current_password", "confirm"}
NEW_PASSWORD = "seven green kites over the harbour"


def valid_values(world, endpoint: str) -> dict:
    """What a valid request of each route needs beyond the form's own values."""
    trainee = world.people["trainee_in"]
    return {
        "auth.login": {"email": trainee.email, "password": trainee.password},
        "auth.forgot_password": {"email": trainee.email},
        "auth.reset_password": {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "auth.accept_invitation": {"display_name": "New Person", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "account.profile": {"display_name": "Changed Name", "pronouns": "", "phone": "", "organisation": ""},
        "account.password": {"current_password": trainee.password, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "admin.change_roles": {"roles": ["trainee", "supervisor"]},
        "admin.invite": {"email": "new.invitee@example.org", "display_name": "New Invitee", "roles": ["trainee"]},
        "cohorts.create": {"name": "A new cohort"},
        "cohorts.settings": {"name": "Renamed cohort"},
        "cohorts.edit_session": {"start_time": "19:30", "confirm": "yes"},
        "cohorts.roster_invite": {"people": "new.trainee@example.org"},
        "cohorts.withdraw": {"reason": "Moved away"},
        "cohorts.set_supervisor": {"supervisor_id": str(world.people["supervisor_out"].id), "email": "", "name": ""},
        "cohorts.swap": _swap(world),
        # --- attendance
        "attendance.mark": {"status": "present"},
        "attendance.checkin_window": {"action": "open"},
        "attendance.checkin": {"code": world.checkin_code(world.live_session_id)} if endpoint == "attendance.checkin" else {},
        "attendance.decide_makeup": {"decision": "accept"},
        "attendance.feedback_form": {"usefulness": "4"},
        "exams.bank_import": {"kind": "gift", "source": "::Walked::Which? {=yes ~no}", "week": "1", "competency": "1", "action": "save"},  # exams
        # assessment: a trainee of another cohort who has not passed may sit a re-examination
        "assessment.add_reexaminee": {"email": world.people["trainee_out"].email},
    }.get(endpoint, {})


def _swap(world) -> dict:
    """Two people of different pairs of the world's cohort."""
    from portal.cohorts import dyads

    with world.app.app_context():
        pairs = [[m.user_id for m in d.current_members] for d in dyads.active_dyads(world.cohort.id)]
    pairs = [p for p in pairs if len(p) > 1] or pairs
    return {"first": str(pairs[0][0]), "second": str(pairs[1][0])} if len(pairs) > 1 else {}


def fresh_world(app, make_user, make_cohort):
    """A world of its own for one route (the control request changes it)."""
    from tests.conftest import World, empty_tables

    empty_tables(app)
    fresh = getattr(World, "fresh", None)
    world = fresh(app) if fresh else World(app, make_user, make_cohort)
    return enrich(world, app, make_user)


def signed_in_client(app, world, principal):
    client = app.test_client()
    if principal != "anonymous":
        AuthActions(client, app).login_as(world.people[principal])
    return client


def session_user(client):
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def csrf_tokens_in(app, html: str) -> list[str]:
    """Every string in the page that is a valid CSRF token (of any session)."""
    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    found = []
    for candidate in set(re.findall(r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{20,}", html)):
        try:
            serializer.loads(candidate)
        except BadData:
            continue
        found.append(candidate)
    return found


def form_for(app, world, template, principal):
    """The form of `template` (endpoint and field names) as rendered in this world."""
    client = signed_in_client(app, world, principal)
    pages = [url for rule, url in page_urls(app, world) if rule.endpoint == template.page_endpoint]
    for url in pages:
        response = client.get(url)
        for form in parse_forms(response.get_data(as_text=True)):
            form.fields.pop("csrf_token", None)
            if (
                form.method == "POST"
                and urlsplit(form.action).path
                and re.fullmatch(template.rule_regex, urlsplit(form.action).path)
                and sorted(form.fields) == sorted(template.fields)
            ):
                form.action = urlsplit(form.action).path
                return form
    return None


def _rule_regex(rule) -> str:
    return re.sub(r"<[^>]+>", r"[^/]+", re.escape(rule.rule).replace(r"\<", "<").replace(r"\>", ">"))


def test_every_post_route_refuses_missing_and_foreign_tokens(app, world, make_user, make_cohort):
    started = time.monotonic()
    templates = {}
    enrich(world, app, make_user)
    for form in discover_forms(app, world):
        if form.method == "POST":
            form.page_endpoint = _page_endpoint(app, form.page)
            form.rule_regex = _rule_regex(form.rule)
            templates.setdefault(form.endpoint, form)
    problems: dict[str, dict[str, list[str]]] = {}  # kind of problem -> request -> cases

    def problem(kind, text):
        # "POST /url as who, token case, origin case[: detail]" grouped by request
        head, _, case = text.partition(", ")
        problems.setdefault(kind, {}).setdefault(head, []).append(case)

    post_rules = sorted((r for r in app.url_map.iter_rules() if "POST" in (r.methods or ())), key=lambda r: r.endpoint)
    requests = 0
    for rule in post_rules:
        template = templates.get(rule.endpoint)
        if template is None:
            problem("no page offers a form for this POST route (not walked)", f"{rule.endpoint} {rule.rule}")
            continue
        world = fresh_world(app, make_user, make_cohort)
        with app.app_context():
            limiter.reset()
        principal = template.principal
        form = form_for(app, world, template, principal)
        if form is None:
            problem("form not found in a fresh world", f"{rule.endpoint} on {template.page}")
            continue
        body = {**baseline(form), **valid_values(world, rule.endpoint)}
        url = form.action
        client = signed_in_client(app, world, principal)
        client.csrf_token()  # the client's own session has a token, as after viewing any page
        other_principal = "admin" if principal != "admin" else "trainee_in"
        other = signed_in_client(app, world, other_principal)
        other_token = other.csrf_token()
        session_before = session_user(client)
        for token_case, token_headers in (
            ("no token", {}),
            (f"{other_principal}'s token", {"X-CSRFToken": other_token}),
        ):
            for origin_case, origin_headers in ORIGINS.items():
                where = f"POST {url} as {principal}, {token_case}, {origin_case}"
                before = table_snapshot(app)
                requests += 1
                response = client.post(url, data=body, headers={**token_headers, **origin_headers}, csrf=False)
                after = table_snapshot(app)
                html = response.get_data(as_text=True)
                if response.status_code != 400:
                    problem("status is not 400", f"{where} -> {response.status_code}")
                changed = sorted(name for name in before if before[name] != after[name])
                if changed:
                    problem("the database changed", f"{where} -> changed {', '.join(changed)}")
                if principal != "anonymous":
                    if session_user(client) != session_before:
                        problem("the session was replaced", where)
                    still = client.get("/account")
                    if still.status_code != 200:
                        problem("signed out after the refused POST", f"{where} -> GET /account {still.status_code}")
                check_recovery_page(app, client, where, url, body, html, origin_case, problem)
        # Control: the same body with a valid token of the client's own session is accepted.
        before = table_snapshot(app)
        requests += 1
        control = client.post(url, data=body, headers={"Origin": SITE})
        if control.status_code >= 400:
            problem(
                "control: the valid body with a valid token was not accepted (test data to fix)",
                f"POST {url} as {principal} -> {control.status_code}",
            )
        elif before == table_snapshot(app):
            problem("note (not a failure): the valid request changed nothing either", f"POST {url} as {principal}")
    elapsed = time.monotonic() - started
    failures = {k: v for k, v in problems.items() if not k.startswith("note")}
    text = "\n".join(
        f"{kind} ({sum(map(len, by_request.values()))} requests):\n"
        + "\n".join(f"  {head}: " + "; ".join(c for c in cases if c) for head, cases in by_request.items())
        for kind, by_request in problems.items()
    )
    print(f"CSRF walk: {len(post_rules)} POST routes, {requests} requests, {elapsed:.1f}s\n{text}")
    assert not failures, text


def check_recovery_page(app, client, where, url, body, html, origin_case, problem):
    """Same-site, non-admin: the "Send again" page with the typed fields (no secrets) and a fresh
    token of this session. Otherwise: a plain 400, no form, no token; admin actions never get
    a resend form."""
    admin_action = url.startswith("/admin/")
    forms = parse_forms(html)
    # The resend form is in the page's main content (the layout's Sign out form posts to /logout too).
    main = re.search(r"<main\b.*?</main>", html, flags=re.S)
    resend = [
        f for f in parse_forms(main.group(0) if main else html) if f.method == "POST" and urlsplit(f.action).path == url
    ]
    tokens = csrf_tokens_in(app, html)
    for secret in SECRETS:
        value = body.get(secret)
        if value and value in html:
            problem("a password is echoed in the page", f"{where}: {secret}")
    if origin_case in SAME_SITE and not admin_action:
        if not resend or "Send again" not in html:
            problem("same-site stale form: no 'Send again' form", where)
            return
        form = resend[0]
        token = form.fields.get("csrf_token")
        if token is None or token.value not in csrf_tokens_in(app, html):
            problem("same-site stale form: the resend form has no valid fresh token", where)
        elif token.value not in _valid_for(app, client):
            problem("same-site stale form: the fresh token is not of this session", where)
        for name, value in body.items():
            if name in SECRETS:
                continue
            values = value if isinstance(value, list) else [value]
            sent = form.fields.get(name)
            kept = [] if sent is None else [sent.value, *sent.values, *sent.options]
            for v in values:
                if v not in kept and unescape(v) not in kept:
                    problem("same-site stale form: a typed field is not kept", f"{where}: {name}={v[:40]!r}")
        return
    if admin_action and origin_case in SAME_SITE:
        if resend or "Send again" in html:
            problem("admin action offered a one-click resend form (same site)", where)
        return
    if resend or "Send again" in html:
        problem("resend form offered to a request not from this site", where)
    elif forms:
        problem(
            "plain 400 has a form (e.g. the navigation's Sign out form)",
            f"{where}: form(s) posting to {sorted({f.action for f in forms})}",
        )
    if tokens:
        problem("plain 400 carries a valid CSRF token (e.g. hx-headers of the layout)", where)


def _valid_for(app, client) -> _TokenSet:
    """The tokens valid for this client's session (a token is a signature of its raw token)."""
    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
    return _TokenSet(app, raw)


class _TokenSet:
    def __init__(self, app, raw):
        self.serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        self.raw = raw

    def __contains__(self, token):
        try:
            return self.raw is not None and self.serializer.loads(token) == self.raw
        except BadData:
            return False


def _page_endpoint(app, page_url: str) -> str:
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(page_url).path, method="GET")
    except HTTPException:
        return ""
    return endpoint
