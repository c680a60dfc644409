"""The written test under load, against a real gunicorn server: 100 trainees answer their 40
items at the same time; every answer is stored, none twice, no server error."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter

from itsdangerous import URLSafeTimedSerializer

from portal.exams import attempts as service
from portal.extensions import db
from portal.models import AttemptItem, Offering, UserSession
from tests.exam_helpers import make_bank, open_offering
from tests.server import Browser, gunicorn

TRAINEES = 100


def signed_in(app, base: str, user_id: int) -> tuple[Browser, str]:
    """A browser holding a real server-side session and its CSRF token (no password hashing)."""
    token = secrets.token_urlsafe(32)
    raw = secrets.token_hex(20)
    with app.app_context():
        db.session.add(UserSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id))
        db.session.commit()
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": token, "_fresh": True, "_permanent": True, "csrf_token": raw}
    )
    browser = Browser(base)
    browser.cookie = f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}"
    csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return browser, csrf


def test_a_hundred_trainees_answer_forty_items_at_once(app, make_user, make_cohort):
    trainees = [make_user(f"load{n:03d}@example.org") for n in range(TRAINEES)]
    cohort = make_cohort(trainees=trainees, capacity=TRAINEES)
    make_bank(app)
    offering_id = open_offering(app, cohort.id, time_limit_minutes=None)
    plan: dict[int, list[tuple[int, int]]] = {}
    with app.app_context():
        offering = db.session.get(Offering, offering_id)
        for t in trainees:
            attempt = service.start(t.id, offering)
            rows = db.session.execute(
                db.select(AttemptItem.id, AttemptItem.option_order).where(AttemptItem.attempt_id == attempt.id)
            ).all()
            plan[attempt.id] = [(row.id, (row.id * 7) % len(row.option_order)) for row in rows]
        url = str(db.engine.url.render_as_string(hide_password=False))
    owners = dict(zip(plan, trainees, strict=True))
    statuses: Counter = Counter()
    lock = threading.Lock()
    with gunicorn(url, app.config["SECRET_KEY"]) as base:
        clients = {a: signed_in(app, base, owners[a].id) for a in plan}
        barrier = threading.Barrier(len(plan))

        def take(attempt_id):
            browser, csrf = clients[attempt_id]
            headers = {"X-CSRFToken": csrf, "X-Autosave": "1", "Cookie": browser.cookie,
                       "Content-Type": "application/x-www-form-urlencoded"}
            barrier.wait()
            for item_id, shown in plan[attempt_id]:
                status, _, _ = browser.request(
                    "POST", f"/exams/attempts/{attempt_id}/answers", {"items": item_id, f"a-{item_id}": shown}, headers
                )
                with lock:
                    statuses[status] += 1

        threads = [threading.Thread(target=take, args=(a,)) for a in plan]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    assert statuses == Counter({200: TRAINEES * 40}), statuses
    with app.app_context():
        stored = db.session.execute(
            db.select(AttemptItem.id, AttemptItem.attempt_id, AttemptItem.option_order, AttemptItem.chosen)
        ).all()
    assert len(stored) == TRAINEES * 40  # one row per attempt item: an answer cannot be stored twice
    expected = {item_id: shown for items in plan.values() for item_id, shown in items}
    for row in stored:
        assert row.chosen == row.option_order[expected[row.id]], row
