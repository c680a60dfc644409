"""The audit log as people read it (issue 8): sentences with names, filters that work without
JavaScript (who, what kind, cohort, dates), paging that keeps them, a CSV export of what they
select (safe to open in a spreadsheet), and the demo seed's entries attributed to "demo data"."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from types import SimpleNamespace

from portal.admin import audit_log
from portal.extensions import db
from portal.models import AuditEvent, Role, User
from tests.conftest import text_of


def _entries(response) -> list[str]:
    """The sentences of the log page, in order."""
    import re
    from html import unescape

    return [
        unescape(re.sub(r"\s+", " ", s)).strip()
        for s in re.findall(r'<p class="audit-sentence">(.*?)</p>', response.get_data(as_text=True), re.S)
    ]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _clear_log(app):
    """The factories' own events (making a cohort records some) out of the way."""
    with app.app_context():
        db.session.execute(db.delete(AuditEvent))
        db.session.commit()


def _event(app, at, action="account.reactivated", actor=None, subject_id=None, cohort_id=None, origin=None, **details):
    with app.app_context():
        db.session.add(
            AuditEvent(
                at=at,
                actor_id=actor.id if actor else None,
                action=action,
                subject_type="users",
                subject_id=subject_id,
                details=details,
                cohort_id=cohort_id,
                origin=origin,
            )
        )
        db.session.commit()


def test_cohort_changes_read_as_sentences_with_names(app, client, auth, make_user, make_cohort):
    fatima = make_user(roles=[Role.FACILITATOR], name="Fatima Khan", time_zone="America/New_York")
    ana, ben, cy, dee = (make_user(name=n) for n in ("Ana One", "Ben Two", "Cy Three", "Dee Four"))
    cohort = make_cohort(
        facilitators=[fatima], trainees=[ana, ben, cy, dee], name="Spring Cohort A", zone="America/New_York"
    )
    auth.login_as(fatima)
    moved = client.post(f"/sessions/{cohort.session_ids[2]}/edit", data={"day": "2027-03-16", "start_time": "18:00"})
    assert moved.status_code == 303
    assert client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"}).status_code == 303
    assert client.post(f"/cohorts/{cohort.id}/dyads/lock", data={"locked": "yes"}).status_code == 303
    admin = make_user(roles=[Role.ADMIN], name="Alex Admin", time_zone="America/New_York")
    auth.login_as(admin)
    response = client.get("/admin/audit")
    entries = _entries(response)
    assert entries[:3] == [
        "Fatima Khan locked the practice pairs of Spring Cohort A.",
        "Fatima Khan paired 4 people into 2 pairs in Spring Cohort A (random).",
        "Fatima Khan moved week 3 of Spring Cohort A to Tue 16 Mar 2027, 18:00 EDT.",
    ]
    assert "dyads.paired" not in text_of(response) and "cohort_sessions" not in text_of(response)
    # The reader's own zone: the same move for an admin in Paris.
    with app.app_context():
        db.session.get(User, admin.id).time_zone = "Europe/Paris"
        db.session.commit()
    assert "Fatima Khan moved week 3 of Spring Cohort A to Tue 16 Mar 2027, 23:00 CET." in _entries(
        client.get("/admin/audit")
    )


def test_an_unknown_action_still_reads_sensibly(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN], name="Alex Admin")
    _event(app, datetime(2026, 1, 5, 12, tzinfo=UTC), action="widget.polished", actor=admin, subject_id=7)
    _event(app, datetime(2026, 1, 5, 13, tzinfo=UTC), action="roster.enrolled", actor=admin, user_id="not an id")
    auth.login_as(admin)
    entries = _entries(client.get("/admin/audit"))
    assert "Alex Admin: widget: polished (user #7)." in entries
    assert _entries(client.get("/admin/audit?kind=other")) == ["Alex Admin: widget: polished (user #7)."]
    assert any(e.startswith("Alex Admin added someone") or e.startswith("Alex Admin added person") for e in entries)


def test_filters_work_without_javascript_and_paging_keeps_them(app, client, auth, make_user, make_cohort):
    admin = make_user(roles=[Role.ADMIN], name="Alex Admin", time_zone="America/New_York")
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    a = make_cohort(facilitators=[fran], name="Cohort Alpha")
    b = make_cohort(facilitators=[fran], name="Cohort Beta")
    _clear_log(app)
    # 9 March 2026, 23:30 in New York is 10 March 03:30 UTC: it belongs to the 9th for this reader.
    _event(app, datetime(2026, 3, 10, 3, 30, tzinfo=UTC), "dyads.locked", fran, cohort_id=a.id)
    _event(app, datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "dyads.unlocked", fran, cohort_id=b.id)
    _event(app, datetime(2026, 3, 12, 15, 0, tzinfo=UTC), "account.reactivated", admin, subject_id=fran.id)
    _event(app, datetime(2026, 3, 13, 15, 0, tzinfo=UTC), "cohort.created", None, cohort_id=a.id, origin="demo")
    _event(app, datetime(2026, 3, 14, 15, 0, tzinfo=UTC), "board.crisis_flagged", None)
    auth.login_as(admin)

    def shown(**args):
        response = client.get("/admin/audit", query_string=args)
        assert response.status_code == 200, text_of(response)
        return _entries(response)

    assert shown(who=str(fran.id)) == [
        "Fran Facilitator unlocked the practice pairs of Cohort Beta.",
        "Fran Facilitator locked the practice pairs of Cohort Alpha.",
    ]
    assert shown(who="demo") == ["Demo data created Cohort Alpha."]
    assert shown(who="system") == ["The portal flagged a board post that may need a crisis response."]
    assert shown(kind="accounts") == ["Alex Admin reactivated the account of Fran Facilitator."]
    assert shown(kind="pairs", cohort=str(a.id)) == ["Fran Facilitator locked the practice pairs of Cohort Alpha."]
    assert shown(cohort=str(a.id)) == [
        "Demo data created Cohort Alpha.",
        "Fran Facilitator locked the practice pairs of Cohort Alpha.",
    ]
    assert shown(date_from="2026-03-10", date_to="2026-03-12") == [
        "Alex Admin reactivated the account of Fran Facilitator.",
        "Fran Facilitator unlocked the practice pairs of Cohort Beta.",
    ]
    assert shown(date_to="2026-03-09") == ["Fran Facilitator locked the practice pairs of Cohort Alpha."]
    # The filter form is a plain GET form that carries them all.
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'method="get"' in page and all(
        f'name="{n}"' in page for n in ("who", "kind", "cohort", "date_from", "date_to")
    )
    # A wrong range: said next to the field, and not applied.
    response = client.get("/admin/audit", query_string={"date_from": "2026-03-12", "date_to": "2026-03-10"})
    assert response.status_code == 422
    assert 'id="date_to-error"' in response.get_data(
        as_text=True
    ) and "The last day is before the first day." in text_of(response)
    assert _entries(response) == [
        "The portal flagged a board post that may need a crisis response.",
        "Demo data created Cohort Alpha.",
        "Alex Admin reactivated the account of Fran Facilitator.",
    ], "the first day still applies"
    assert client.get("/admin/audit", query_string={"who": "999999"}).status_code == 422
    # Paging: 60 more of one kind; page 2 keeps the filter.
    for n in range(60):
        _event(app, datetime(2026, 4, 1, 12, n % 60, tzinfo=UTC), "account.reactivated", admin, subject_id=fran.id)
    response = client.get("/admin/audit", query_string={"kind": "accounts"})
    assert "61 entries match the filters" in text_of(response)
    assert "/admin/audit?page=2&amp;kind=accounts" in response.get_data(as_text=True)
    second = _entries(client.get("/admin/audit?page=2&kind=accounts"))
    assert len(second) == 11 and all("reactivated" in e for e in second)


def test_the_csv_export_has_the_filtered_entries_and_defuses_formulas(app, client, auth, make_user, make_cohort):
    admin = make_user(roles=[Role.ADMIN], name="Alex Admin")
    evil = make_user(roles=[Role.FACILITATOR], name='=HYPERLINK("http://x.example","click")')
    plus = make_user(name="+1 Trainee")
    at_sign = make_user(name="@SUM(A1)")
    dash = make_user(name="-2+3")
    cohort = make_cohort(facilitators=[evil], name="=1+1 Cohort")
    _clear_log(app)
    _event(app, datetime(2026, 5, 1, 12, tzinfo=UTC), "dyads.locked", evil, cohort_id=cohort.id)
    _event(app, datetime(2026, 5, 2, 12, tzinfo=UTC), "roster.enrolled", evil, cohort_id=cohort.id, user_id=plus.id)
    _event(app, datetime(2026, 5, 3, 12, tzinfo=UTC), "account.reactivated", at_sign, subject_id=dash.id)
    _event(app, datetime(2026, 5, 4, 12, tzinfo=UTC), "account.reactivated", admin, subject_id=dash.id)
    auth.login_as(admin)
    page = client.get("/admin/audit", query_string={"cohort": str(cohort.id)}).get_data(as_text=True)
    assert f'href="/admin/audit.csv?cohort={cohort.id}"' in page, "the CSV link carries the filters"
    rows = _csv(client.get("/admin/audit.csv", query_string={"cohort": str(cohort.id)}))
    header, body = rows[0], rows[1:]
    assert header == ["When (UTC)", "When (UTC)", "Who", "Kind", "Cohort", "What happened", "Action"]
    assert [r[0] for r in body] == ["2026-05-02 12:00:00", "2026-05-01 12:00:00"], "only the cohort's, newest first"
    enrolled = body[0]
    assert enrolled[2] == '\'=HYPERLINK("http://x.example","click")'
    assert enrolled[4] == "'=1+1 Cohort"
    assert enrolled[5] == '\'=HYPERLINK("http://x.example","click") added +1 Trainee to =1+1 Cohort.'
    assert enrolled[6] == "roster.enrolled"
    everyone = _csv(client.get("/admin/audit.csv"))
    cells = [c for r in everyone for c in r]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'@SUM(A1)" in cells and "'@SUM(A1) reactivated the account of -2+3." in cells
    # An invalid filter does not download everything: the page says what is wrong.
    response = client.get("/admin/audit.csv", query_string={"date_from": "2026-05-03", "date_to": "2026-05-01"})
    assert response.status_code == 422 and response.mimetype == "text/html"


def test_csv_cells_are_defused():
    assert audit_log.csv_cell("=1+1") == "'=1+1"
    assert audit_log.csv_cell("+1") == "'+1"
    assert audit_log.csv_cell("-1") == "'-1"
    assert audit_log.csv_cell("@x") == "'@x"
    assert audit_log.csv_cell("\t=x") == "'\t=x"
    assert audit_log.csv_cell("Ana = Ben") == "Ana = Ben"
    assert audit_log.csv_cell(None) == ""


def test_only_admins_read_or_export_the_log(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.FACILITATOR]))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_events_know_their_cohort(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    kim = make_user(name="Kim")
    cohort = make_cohort(facilitators=[fran])
    _clear_log(app)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [kim.id]})
    client.post(f"/sessions/{cohort.session_ids[0]}/edit", data={"day": "2027-03-02", "start_time": "18:00"})
    with app.app_context():
        rows = db.session.execute(db.select(AuditEvent.action, AuditEvent.cohort_id)).all()
    assert {a: c for a, c in rows} == {"roster.enrolled": cohort.id, "session.rescheduled": cohort.id}


def test_the_demo_seed_is_attributed_to_demo_data(app, runner, client, auth, make_user):
    assert runner.invoke(args=["seed-demo", "--password", "a calm river at dusk"]).exit_code == 0
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent)).scalars().all()
        admin = db.session.execute(db.select(User).where(User.email == "admin@example.org")).scalar_one()
        admin_id = admin.id
    assert events and all(e.origin == "demo" and e.actor_id is None for e in events)
    auth.login_as(SimpleNamespace(id=admin_id))
    entries = _entries(client.get("/admin/audit", query_string={"kind": "cohorts"}))
    assert "Demo data created Spring Cohort A." in entries
    assert not any("Alex Admin" in e for e in _entries(client.get("/admin/audit")))
    assert "Demo data" in text_of(client.get("/admin/audit", query_string={"who": "demo"}))
    # What a person does afterwards is theirs again.
    assert client.post("/calendar/link").status_code == 303  # the first address
    assert client.post("/calendar/link").status_code == 303  # a new one: recorded
    with app.app_context():
        last = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    assert last.origin is None and last.actor_id is not None


def test_the_log_page_query_count_does_not_grow(app, client, auth, make_user, make_cohort, queries):
    admin = make_user(roles=[Role.ADMIN])
    people = [make_user() for _ in range(8)]
    cohort = make_cohort(name="Cohort Alpha")
    _clear_log(app)
    auth.login_as(admin)
    for p in people[:2]:
        _event(app, datetime(2026, 1, 1, tzinfo=UTC), "roster.enrolled", p, cohort_id=cohort.id, user_id=p.id)
    with queries() as few:
        assert client.get("/admin/audit").status_code == 200
    for p in people:
        _event(app, datetime(2026, 1, 2, tzinfo=UTC), "roster.enrolled", p, cohort_id=cohort.id, user_id=p.id)
        _event(app, datetime(2026, 1, 2, tzinfo=UTC), "account.reactivated", admin, subject_id=p.id)
    with queries() as many:
        assert client.get("/admin/audit").status_code == 200
    assert len(few) == len(many)
