"""Fuzzing every form of the portal: no input may cause a server error (5xx).

How the forms are found: every GET route of app.url_map whose arguments the `world` can fill
is rendered for each kind of principal (signed out, trainee, facilitator, admin), and the
`<form>`s of each page are parsed (inputs, selects, textareas, their default values and
options). Each form's action is matched against app.url_map to name its route; the principal
who was shown the form is the one who sends it. So a new form, or a new field, is fuzzed as
soon as a page shows it, and test_every_post_route_has_a_form fails for a POST route that no
page offers.

Then, for each form, each field in turn gets each bad value of BAD_VALUES while the other
fields keep a plausible value; URL ids beyond the integer range and NUL bytes go into every
URL argument; bad query parameters go to every page; and Hypothesis sends random text in every
field at once (a fixed seed: the same requests every run).

Every 5xx (or exception) is collected with the request that caused it and reported together.
Requests that were accepted (2xx/3xx) with obviously bad data are recorded, not asserted:
they are printed (run with -s, or -rP) and written as JSON to $FUZZ_REPORT when it is set.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import quote, urlencode, urlsplit

import pytest

from portal.extensions import db, limiter
from tests.conftest import DEFAULT_PASSWORD, AuthActions

SIGNED_IN = ("trainee_in", "facilitator_in", "supervisor_in", "admin")  # supervisor_in: the assessment forms
PRINCIPALS = ("anonymous", *SIGNED_IN)

# Routes that serve files or feeds, not pages with forms (still fuzzed through their URLs).
NOT_PAGES = {"static", "cohorts.handout", "cohorts.session_ics", "calendar.feed", "main.healthz"}

HUGE = "x" * 100_000
BIG_INTS = (str(2**31), str(2**63), "99999999999999999999")


@dataclass(frozen=True)
class Bad:
    label: str
    value: str
    kinds: frozenset = frozenset()  # field kinds for which this value is obviously bad


ANY = frozenset({"line", "text", "number", "date", "time", "choice", "email", "url", "password", "hidden", "month"})
LINE = ANY - {"text"}  # everything but a multi-line textarea

BAD_VALUES = (
    Bad("empty", ""),
    Bad("huge (100 000 chars)", HUGE, ANY),
    Bad("NUL byte", "a\x00b", ANY),
    Bad("only NUL", "\x00", ANY),
    Bad("CR/LF", "first\r\nsecond", LINE),
    Bad("RTL override", "abc\u202edef", ANY),
    Bad("emoji", "🙂🏳️‍🌈👩🏽‍💻", frozenset({"number", "date", "time", "choice", "email", "month"})),
    Bad("SQL", "'; DROP TABLE users; --", frozenset({"number", "date", "time", "choice", "email", "url", "month"})),
    Bad("template {{7*7}}", "{{7*7}}", frozenset({"number", "date", "time", "choice", "email", "url", "month"})),
    Bad("template {% raw %}", "{% raw %}", frozenset({"number", "date", "time", "choice", "email", "url", "month"})),
    Bad("-1", "-1", frozenset({"number", "choice", "date", "time", "month"})),
    Bad("0", "0", frozenset({"date", "time", "month"})),
    Bad("2**31", BIG_INTS[0], frozenset({"number", "choice", "date", "time", "month"})),
    Bad("2**63", BIG_INTS[1], frozenset({"number", "choice", "date", "time", "month"})),
    Bad("10**20", BIG_INTS[2], frozenset({"number", "choice", "date", "time", "month"})),
    Bad("date 0001-01-01", "0001-01-01", frozenset({"date", "number", "time", "choice", "month"})),
    Bad("date 9999-12-31", "9999-12-31", frozenset({"date", "number", "time", "choice", "month"})),
    Bad("date 0000-01-01", "0000-01-01", frozenset({"date", "number", "time", "choice", "month"})),
    Bad("month 9999-12", "9999-12", frozenset({"month", "date", "number", "time", "choice"})),
    Bad("month 0000-01", "0000-01", frozenset({"month", "date", "number", "time", "choice"})),
)

# Out-of-range ids for <int:...> URL arguments, and NUL bytes for the others.
BAD_INT_ARGS = ("2147483648", "9223372036854775808", "99999999999999999999", "0")
BAD_STRING_ARGS = ("%00", "a%00b", "x" * 5000)
# Extra query parameters for every page (paginate reads page/per_page; next; part).
BAD_QUERY = {
    "next": ("\x00", "/\x00", HUGE),
    "page": ("\x00", "-1", "0", BIG_INTS[1], BIG_INTS[2]),
    "per_page": ("-1", BIG_INTS[1], BIG_INTS[2]),
    "part": ("\x00", "{{7*7}}"),
}

# A plausible value for an empty field, by kind, so that the other fields pass validation and
# the bad value reaches as deep as it can.
PLAUSIBLE = {
    "line": "Fuzz value",
    "text": "Fuzz text",
    "email": "fuzz.person@example.org",
    "url": "https://video.example.org/fuzz",
    "number": "12",
    "date": "2027-05-03",
    "time": "18:00",
    "password": DEFAULT_PASSWORD,
    "month": "2027-03",
}


# --- parsing the forms of a page ---------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # line, text, email, url, number, date, time, password, hidden, choice, file, month
    tag: str
    type: str
    value: str = ""
    options: list = field(default_factory=list)
    checked: list = field(default_factory=list)
    multiple: bool = False
    values: list = field(default_factory=list)  # every value of inputs sharing this name


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: dict = field(default_factory=dict)  # name -> Field
    page: str = ""
    principal: str = ""
    endpoint: str = ""
    rule: object = None

    @property
    def key(self):
        return (self.endpoint, self.method, tuple(sorted(self.fields)))

    def describe(self) -> str:
        return f"{self.method} {self.action} ({self.endpoint}, form on {self.page} as {self.principal})"


def _kind(tag: str, type_: str, name: str) -> str:
    if tag == "textarea":
        return "text"
    if tag == "select":
        return "choice"
    type_ = (type_ or "text").lower()
    if type_ in {"checkbox", "radio"}:
        return "choice"
    if name == "month" or type_ == "month":
        return "month"
    return {
        "email": "email",
        "url": "url",
        "number": "number",
        "date": "date",
        "time": "time",
        "password": "password",
        "hidden": "hidden",
        "file": "file",
        "tel": "line",
        "search": "line",
        "text": "line",
    }.get(type_, "line")


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: dict | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=a.get("action", ""), method=(a.get("method") or "get").upper(), enctype=a.get("enctype", "")
            )
            self.forms.append(self._form)
            return
        if self._form is None or (tag in {"input", "select", "textarea"} and not a.get("name")):
            if tag == "option" and self._select is not None:
                self._option = a
            return
        name = a.get("name")
        if tag == "input":
            type_ = (a.get("type") or "text").lower()
            if type_ in {"submit", "button", "reset", "image"}:
                return
            f = self._form.fields.get(name)
            if f is None:
                f = self._form.fields[name] = Field(name, _kind("input", type_, name), "input", type_)
            if type_ in {"checkbox", "radio"}:
                f.options.append(a.get("value", "on"))
                f.multiple = type_ == "checkbox"
                if "checked" in a:
                    f.checked.append(a.get("value", "on"))
            else:
                f.value = a.get("value", "")
                f.values.append(f.value)
        elif tag == "select":
            self._select = self._form.fields[name] = Field(name, "choice", "select", "select", multiple="multiple" in a)
        elif tag == "option" and self._select is not None:
            self._option = a
            value = a.get("value")
            if value is not None:
                self._select.options.append(value)
                if "selected" in a:
                    self._select.checked.append(value)
        elif tag == "textarea":
            self._textarea = self._form.fields[name] = Field(name, "text", "textarea", "textarea")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None and self._option.get("value") is None and self._select is not None:
            self._select.options.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


# --- the world: the conftest world plus what makes every form appear ---------------------------


def enrich(world, app, make_user):
    """Make sure every form has a page that shows it: at least two pairs in the world's cohort
    and someone alone (swap, lock and repair forms), a deactivated account (reactivate form),
    and live invitation and password-reset links (their forms). The matrix's world may already
    have them; what it lacks is added here."""
    from portal.auth import tokens
    from portal.cohorts import dyads, roster
    from portal.models import Role, User

    extra = SimpleNamespace(gone=world.people.get("deactivated"))
    with app.app_context():
        admin = db.session.get(User, world.people["admin"].id)
        if len(dyads.active_dyads(world.cohort.id)) < 2:
            roster.lock_cohort(world.cohort.id).capacity = 50
            for n in range(4):
                person = make_user(f"pair{n}@example.org", roles=[Role.TRAINEE], organisation=f"Workplace {n % 2}")
                roster.add_trainee(world.cohort.id, db.session.get(User, person.id), admin)
            db.session.flush()
            dyads.pair_cohort(world.cohort.id, True, admin)
            late = make_user("late@example.org", roles=[Role.TRAINEE])
            roster.add_trainee(world.cohort.id, db.session.get(User, late.id), admin)
            db.session.commit()
        if extra.gone is None:
            extra.gone = make_user("gone@example.org", roles=[Role.TRAINEE], status="deactivated")
        extra.invite = getattr(world, "invite_token", None) or tokens.issue(
            "invite", db.session.get(User, world.target.id), app.config["INVITATION_MAX_AGE"]
        )
        extra.reset = getattr(world, "reset_token", None) or tokens.issue(
            "reset", db.session.get(User, world.people["trainee_out"].id), app.config["PASSWORD_RESET_MAX_AGE"]
        )
        db.session.commit()
    world.extra = extra
    return world


def page_urls(app, world) -> list[tuple[object, str]]:
    """Every GET page the world can fill, plus the pages that only exist for extra objects."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint == "auth.accept_invitation":
            urls.append((rule, f"/invitation/{world.extra.invite}"))
        elif rule.endpoint == "auth.reset_password":
            urls.append((rule, f"/reset-password/{world.extra.reset}"))
        elif rule.endpoint == "assessment.unsubscribe":
            urls.append((rule, world.url_for(rule, token=world.unsubscribe_token)))
        else:
            urls.append((rule, world.url_for(rule)))
        if rule.endpoint == "admin.user":
            urls.append((rule, rule.rule.replace("<int:user_id>", str(world.extra.gone.id))))
        # --- attendance: the live session (check-in, make-up answers) and the ended one (feedback)
        if rule.endpoint in ("attendance.live", "attendance.roll_page", "attendance.feedback_form"):
            for session_id in (world.live_session_id, world.ended_session_id):
                urls.append((rule, world.url_for(rule, session_id=session_id)))
        if rule.endpoint == "cohorts.enrollment" and getattr(world, "invitee_in", None) is not None:
            # cohorts ux: the page of a trainee who has not signed up (its "invite again" form).
            urls.append((rule, world.url_for(rule, enrollment_id=world.enrollments[world.invitee_in.id])))
        # --- boards: topics live on the community board: its topics page and a thread of it
        # (the moderators' "File under" form)
        if rule.endpoint == "boards.topics_page":
            urls.append((rule, world.url_for(rule, board_id=world.community)))
        if rule.endpoint == "boards.thread":
            urls.append((rule, world.url_for(rule, thread_id=world.community_thread_id)))
    return urls


def client_for(app, world, principal):
    client = app.test_client()
    if principal != "anonymous":
        AuthActions(client, app).login_as(world.people[principal])
    return client


def match(app, url: str, method: str):
    """(endpoint, rule) that serves `method url`, or (None, None)."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method=method)
    except HTTPException:
        return None, None
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in (r.methods or ()))
    return endpoint, rule


def discover_forms(app, world, principals=PRINCIPALS) -> list[Form]:
    """The forms of every page, once per (route, method, field names), with the first
    principal (in `principals` order) who was shown it."""
    found: dict = {}
    for principal in principals:
        client = client_for(app, world, principal)
        for _rule, url in page_urls(app, world):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            if "<html" in html:  # a whole page (not a fragment): a plain-text title, what the
                # tab, the history and screen readers say
                title = re.search(r"<title>(.*?)</title>", html, re.S)
                assert title and title.group(1).strip() and "<" not in title.group(1), (url, title and title[1])
            for form in parse_forms(html):
                action = form.action or url
                form.action = urlsplit(action).path
                form.page, form.principal = url, principal
                form.endpoint, form.rule = match(app, form.action, form.method)
                form.fields.pop("csrf_token", None)
                if form.endpoint is None or form.endpoint in NOT_PAGES:
                    continue
                found.setdefault(form.key, form)
    return list(found.values())


def baseline(form: Form) -> dict:
    """A plausible body for the form: its own defaults, empty fields filled by kind."""
    body = {}
    used: dict = {}  # two selects with the same options (swap this / with that) get different ones
    for name, f in form.fields.items():
        if f.kind == "file":
            continue
        if f.kind == "choice":
            options = [o for o in f.options if o != ""]
            taken = used.setdefault(tuple(f.options), set())
            options = [o for o in options if o not in taken] or options
            if options and not f.multiple:
                taken.add(options[0])
            if f.checked:
                body[name] = list(f.checked) if f.multiple else f.checked[0]
            elif options:
                body[name] = [options[0]] if f.multiple else options[0]
            else:
                body[name] = ""
        elif f.value.strip():
            body[name] = f.value.lstrip("\r\n")
        elif f.kind == "hidden":
            body[name] = ""
        else:
            body[name] = PLAUSIBLE.get(f.kind, "Fuzz value")
    if "confirm" in form.fields and form.fields["confirm"].kind == "password":
        body["confirm"] = body.get("password", "")
    return body


# --- sending and recording ---------------------------------------------------------------------


def _short(value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, tuple | io.BytesIO):
        return "<file>"
    text = str(value)
    if len(text) > 60:
        text = f"{text[:20]}…({len(text)} chars)"
    return repr(text)


class Recorder:
    def __init__(self, app):
        self.app = app
        self.failures: list[str] = []
        self.accepted: list[str] = []  # 2xx/3xx with obviously bad data, and the database changed
        self.ignored: list[str] = []  # 2xx/3xx with obviously bad data, nothing changed, no error shown
        self.refused_200: list[str] = []  # the page shows the field's error, but with status 200
        self.count = 0

    def send(self, client, method, url, *, what, data=None, query=None, bad=None, files=None, headers=None):
        """Send one request; record a 5xx or an exception, and an acceptance of obviously bad data."""
        full = url
        if query is not None:
            full += "?" + urlencode(query, doseq=True, quote_via=quote)
        kwargs = {"method": method, "headers": headers or {}}
        if data is not None:
            payload = dict(data)
            if files:
                payload.update(files)
                kwargs["content_type"] = "multipart/form-data"
            kwargs["data"] = payload
        self.count += 1
        with self.app.app_context():
            limiter.reset()  # failed sign-ins count: keep every request reaching the route
        before = table_snapshot(self.app) if bad is not None else None
        try:
            response = client.open(full, **kwargs)
        except Exception as error:  # noqa: BLE001 - every crash is a finding
            self.failures.append(f"{method} {_cut(full)} [{what}] -> exception {type(error).__name__}: {error}"[:500])
            with self.app.app_context():
                db.session.rollback()
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method} {_cut(full)} [{what}] -> {response.status_code}{_logged(self.app)}")
        elif bad is not None and response.status_code < 400:
            changed = [name for name, rows in table_snapshot(self.app).items() if rows != before[name]]
            line = f"{method} {_cut(full)} [{what}] -> {response.status_code}"
            if changed:
                self.accepted.append(f"{line}, changed {', '.join(changed)}")
            elif 'aria-invalid="true"' in response.get_data(as_text=True):
                self.refused_200.append(f"{line}, field marked invalid in the page")
            else:
                self.ignored.append(f"{line}, nothing changed")
        return response

    def report(self, title: str) -> str:
        lines = [f"{title}: {self.count} requests, {len(self.failures)} server errors"]
        lines += [f"  5xx: {f}" for f in self.failures]
        for label, items in (
            ("accepted with obviously bad data (2xx/3xx, the database changed)", self.accepted),
            ("answered 2xx/3xx to obviously bad data, changed nothing, showed no error", self.ignored),
            ("showed the field's error but answered 200, not 422", self.refused_200),
        ):
            lines.append(f"{label}: {len(items)}")
            lines += [f"  {a}" for a in items]
        text = "\n".join(lines)
        print(text)
        path = os.environ.get("FUZZ_REPORT")
        if path:
            existing = {}
            if os.path.exists(path):
                with open(path) as fh:
                    existing = json.load(fh)
            existing[title] = {
                "requests": self.count,
                "failures": self.failures,
                "accepted": self.accepted,
                "ignored": self.ignored,
                "refused_200": self.refused_200,
            }
            with open(path, "w") as fh:
                json.dump(existing, fh, indent=1, ensure_ascii=False)
        return text


def table_snapshot(app) -> dict[str, set]:
    """Every row of every table (user_sessions.last_seen_at left out: any request moves it)."""
    result = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            cols = [c for c in table.columns if not (table.name == "user_sessions" and c.name == "last_seen_at")]
            result[table.name] = {tuple(map(_hashable, row)) for row in conn.execute(db.select(*cols))}
    return result


def _hashable(value):
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _cut(url: str) -> str:
    return url if len(url) <= 160 else f"{url[:120]}…({len(url)} chars)"


_LAST_ERROR: list[str] = []


def _logged(app) -> str:
    """The last logged unhandled error, to say what went wrong behind a 500."""
    if _LAST_ERROR:
        message = _LAST_ERROR.pop()
        _LAST_ERROR.clear()
        return f" ({message})"
    return ""


@pytest.fixture
def recorder(app):
    import logging

    class Grab(logging.Handler):
        def emit(self, record):
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                _LAST_ERROR.append(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")

    handler = Grab(level=logging.ERROR)
    app.logger.addHandler(handler)
    _LAST_ERROR.clear()
    yield Recorder(app)
    app.logger.removeHandler(handler)


@pytest.fixture
def fuzz_world(app, world, make_user):
    return enrich(world, app, make_user)


def send_form(recorder, client, form: Form, body: dict, what: str, bad: Bad | None = None, files=None):
    if form.method == "GET":
        return recorder.send(client, "GET", form.action, what=what, query=body, bad=bad)
    return recorder.send(client, form.method, form.action, what=what, data=body, bad=bad, files=files)


def _refresh(app, world, form: Form, client):
    """Sign in again when the form is one that signs out (or the session was ended)."""
    if form.principal != "anonymous" and form.endpoint in {"auth.logout", "account.password"}:
        AuthActions(client, app).login_as(world.people[form.principal])


# --- the tests ---------------------------------------------------------------------------------


def test_every_post_route_has_a_form(app, fuzz_world):
    """The crawl must find a form for every POST route, or the fuzz misses it."""
    forms = discover_forms(app, fuzz_world)
    covered = {f.endpoint for f in forms if f.method == "POST"}
    missing = sorted(
        f"{r.endpoint} {r.rule}"
        for r in app.url_map.iter_rules()
        if "POST" in (r.methods or ()) and r.endpoint not in covered
    )
    assert not missing, "POST routes that no page offers a form for (the fuzz misses them):\n" + "\n".join(missing)
    assert {f.endpoint for f in forms if f.method == "GET"} >= {"cohorts.index", "admin.users", "cohorts.roster_add"}


def test_every_field_of_every_form_survives_bad_values(app, fuzz_world, recorder):
    started = time.monotonic()
    forms = discover_forms(app, fuzz_world)
    clients = {p: client_for(app, fuzz_world, p) for p in PRINCIPALS}
    for form in forms:
        client = clients[form.principal]
        base = baseline(form)
        recorder.send(
            client,
            form.method,
            form.action,
            what=f"{form.endpoint}: plausible values",
            data=base if form.method != "GET" else None,
            query=base if form.method == "GET" else None,
        )
        _refresh(app, fuzz_world, form, client)
        for name, f in form.fields.items():
            for bad in BAD_VALUES:
                if f.kind == "file":
                    files = {name: (io.BytesIO(bad.value.encode("utf-8", "surrogatepass")), bad.value[:300] or "x.csv")}
                    send_form(
                        recorder,
                        client,
                        form,
                        base,
                        f"{form.endpoint}: file {name} named {bad.label}",
                        bad=bad if f.kind in bad.kinds else None,
                        files=files,
                    )
                    continue
                body = dict(base)
                body[name] = [bad.value] if f.multiple else bad.value
                flagged = bad if _obviously_bad(f, bad) else None
                send_form(recorder, client, form, body, f"{form.endpoint}: {name}={bad.label}", bad=flagged)
                _refresh(app, fuzz_world, form, client)
        # a field sent twice, and unknown fields, must not crash either
        body = {k: [v, v] if not isinstance(v, list) else v * 2 for k, v in base.items()}
        send_form(recorder, client, form, body, f"{form.endpoint}: every field twice")
        _refresh(app, fuzz_world, form, client)
    report = recorder.report(f"fields of {len(forms)} forms ({time.monotonic() - started:.1f}s)")
    assert not recorder.failures, report


def _obviously_bad(f: Field, bad: Bad) -> bool:
    if f.kind == "choice":
        return bad.value != "" and bad.value not in f.options
    if f.kind == "hidden":
        return bad.kinds is ANY  # NUL, huge, RTL: never a value a page sends
    return f.kind in bad.kinds


def test_out_of_range_ids_and_nul_bytes_in_urls(app, fuzz_world, recorder):
    """Every URL argument of every route with ids beyond any integer column and with NUL
    bytes, by every method, as an admin (who reaches every object) and signed out."""
    admin = client_for(app, fuzz_world, "admin")
    anonymous = client_for(app, fuzz_world, "anonymous")
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for argument in sorted(rule.arguments):
                converter = type(rule._converters[argument]).__name__
                values = BAD_INT_ARGS if converter == "IntegerConverter" else BAD_STRING_ARGS
                for value in values:
                    url = world_url(fuzz_world, rule, {argument: value})
                    for who, client in (("admin", admin), ("anonymous", anonymous)):
                        recorder.send(
                            client,
                            method,
                            url,
                            what=f"{rule.endpoint} {argument}={_short(value)} as {who}",
                            data={} if method != "GET" else None,
                        )
    # The examples named in the brief, as they are typed into a browser.
    for url in (
        "/cohorts/99999999999999999999",
        "/cohorts/2147483648",
        "/sessions/2147483648/edit",
        "/handouts/99999999999999999999",
        "/cohorts/%00",
        "/login?next=%00",
        "/login?next=/%00",
        "/invitation/%00",
        "/reset-password/%00",
        "/calendar/%00.ics",
        "/calendar/aaaaaaaaaaaaaaaaaaaaaaaaa%00.ics",
        "/static/%00",
        "/%00",
    ):
        for who, client in (("admin", admin), ("anonymous", anonymous)):
            recorder.send(client, "GET", url, what=f"typed URL as {who}")
    recorder.send(
        anonymous,
        "POST",
        "/login?next=%00",
        what="sign-in with next=NUL",
        data={"email": "nobody@example.org", "password": "x"},
    )
    report = recorder.report("URL arguments")
    assert not recorder.failures, report


def world_url(world, rule, override: dict) -> str:
    values = {**world.values, **override}
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>", str(values[name]), url)
    return url


def test_bad_query_parameters_on_every_page(app, fuzz_world, recorder):
    """next, page, per_page and part with NUL bytes and huge numbers on every page, for the
    first principal to whom the page answers 200."""
    clients = {p: client_for(app, fuzz_world, p) for p in PRINCIPALS}
    for rule, url in page_urls(app, fuzz_world):
        principal = next((p for p in PRINCIPALS if clients[p].get(url).status_code == 200), "admin")
        for name, values in BAD_QUERY.items():
            for value in values:
                recorder.send(
                    clients[principal],
                    "GET",
                    url,
                    query={name: value},
                    what=f"{rule.endpoint} ?{name}={_short(value)} as {principal}",
                )
    report = recorder.report("query parameters")
    assert not recorder.failures, report


def test_signed_out_sign_in_with_nul_bytes(app, fuzz_world, recorder):
    client = app.test_client()
    trainee = fuzz_world.people["trainee_in"]
    for email, password in (
        ("a\x00b@example.org", "pass\x00word"),
        ("\x00", "\x00"),
        (trainee.email + "\x00", DEFAULT_PASSWORD),
        (trainee.email, DEFAULT_PASSWORD + "\x00"),
        ("a\x00b@example.org", DEFAULT_PASSWORD),
    ):
        recorder.send(
            client,
            "POST",
            "/login",
            data={"email": email, "password": password},
            what=f"sign-in email={_short(email)} password={_short(password)}",
            bad=Bad("NUL", "\x00", ANY),
        )
    for email in ("a\x00b@example.org", "\x00", trainee.email + "\x00"):
        recorder.send(
            client,
            "POST",
            "/forgot-password",
            data={"email": email},
            what=f"forgot email={_short(email)}",
            bad=Bad("NUL", "\x00", ANY),
        )
    report = recorder.report("signed-out NUL bytes")
    assert not recorder.failures, report


def test_random_text_in_every_field(app, fuzz_world, recorder):
    """Property: whatever text is in whatever fields, the answer is never a 5xx. Hypothesis
    with a fixed seed and a bounded number of examples per form."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    forms = discover_forms(app, fuzz_world)
    clients = {p: client_for(app, fuzz_world, p) for p in PRINCIPALS}
    text = st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
        st.sampled_from([b.value for b in BAD_VALUES if len(b.value) < 100]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(str),
    )

    def property_for(form, client, base):
        names = sorted(n for n, f in form.fields.items() if f.kind != "file")

        @settings(
            max_examples=12,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.fixed_dictionaries({}, optional=dict.fromkeys(names, text)))
        def never_a_server_error(values):
            send_form(recorder, client, form, {**base, **values}, f"{form.endpoint}: random {_short(values)}")
            _refresh(app, fuzz_world, form, client)

        return never_a_server_error

    for form in forms:
        if form.fields:
            property_for(form, clients[form.principal], baseline(form))()
    report = recorder.report("random text (hypothesis)")
    assert not recorder.failures, report
