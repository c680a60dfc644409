"""The written test over HTTP and the database: draws, autosave, deadlines, submission,
scoring, review, the key never reaching the browser, attempts and waits, other people's
attempts, import/export round trips, query counts."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from portal.exams import attempts as service
from portal.exams.results import best_attempt
from portal.extensions import db
from portal.models import Attempt, AttemptItem, AuditEvent, Item, ItemVersion, Offering, Role, utcnow
from tests.exam_helpers import make_bank, open_offering, shown_items, start
from tests.factories import text_of


@pytest.fixture
def setup(app, make_user, make_cohort):
    facilitator = make_user("fac@example.org", roles=[Role.FACILITATOR])
    trainees = [make_user(f"t{i}@example.org") for i in range(3)]
    cohort = make_cohort(facilitators=[facilitator], trainees=trainees)
    make_bank(app)
    offering_id = open_offering(app, cohort.id)
    return facilitator, trainees, cohort, offering_id


def items_of(app, attempt_id):
    with app.app_context():
        return [
            (row.id, row.position, row.item_version_id, list(row.option_order), row.chosen)
            for row in db.session.execute(
                db.select(AttemptItem).where(AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)
            ).scalars()
        ]


def correct_shown(app, attempt_item_id):
    """The shown position of the right option (from the database, as a test may)."""
    with app.app_context():
        row = db.session.get(AttemptItem, attempt_item_id)
        version = db.session.get(ItemVersion, row.item_version_id)
        return row.option_order.index(version.correct_index)


def answer(client, attempt_id, item_id, shown, autosave=True):
    headers = {"X-Autosave": "1"} if autosave else {}
    return client.post(
        f"/exams/attempts/{attempt_id}/answers", data={"items": item_id, f"a-{item_id}": shown}, headers=headers
    )


def test_draw_follows_the_blueprint_and_is_stable_on_reload(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    rows = items_of(app, attempt_id)
    assert len(rows) == 40 and [r[1] for r in rows] == list(range(1, 41))
    with app.app_context():
        weeks = Counter(db.session.get(ItemVersion, r[2]).week for r in rows)
    assert [weeks[w] for w in range(1, 7)] == [7, 7, 7, 7, 6, 6]
    assert len({r[2] for r in rows}) == 40
    first = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    again = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    shown = lambda html: re.findall(r'name="items" value="\d+"|<label><input type="radio"[^>]*> [^<]*', html)  # noqa: E731
    assert len(shown(first)) == 40 * 5 and shown(first) == shown(again)
    assert shown_items(first) == [r[0] for r in rows]
    # Another trainee draws their own attempt.
    other = app.test_client()
    from tests.factories import AuthActions

    AuthActions(other, app).login_as(trainees[1])
    other_id = start(other, offering_id)
    assert other_id != attempt_id
    assert [r[2] for r in items_of(app, other_id)] != [r[2] for r in rows]


def test_required_competencies_are_covered(app, setup):
    with app.app_context():
        import random

        from portal.exams import draw

        pool = service.pool()
        for seed in range(20):
            chosen = draw.draw([7, 7, 7, 7, 6, 6], list(range(1, 11)), pool, random.Random(seed))
            assert {c.competency for c in chosen} >= set(range(1, 11))


def test_opening_says_what_the_bank_lacks(app, client, auth, make_user, make_cohort):
    facilitator = make_user("f2@example.org", roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[facilitator])
    make_bank(app, per_week=(9, 9, 4, 9, 8, 8))
    auth.login_as(facilitator)
    response = client.post(
        f"/cohorts/{cohort.id}/exam",
        data={
            "opens_at": "2027-04-05T18:00",
            "closes_at": "2027-04-06T18:00",
            "time_limit": 60,
            "attempts_allowed": 2,
            "wait_hours": 24,
            "week_1": 7,
            "week_2": 7,
            "week_3": 7,
            "week_4": 7,
            "week_5": 6,
            "week_6": 6,
        },
    )
    assert response.status_code == 422
    assert "Week 3 needs 7 active items and the bank has 4: add 3 more." in response.get_data(as_text=True)
    make_bank(app, per_week=(0, 0, 3, 0, 0, 0))
    response = client.post(
        f"/cohorts/{cohort.id}/exam",
        data={
            "opens_at": "2027-04-05T18:00",
            "closes_at": "2027-04-06T18:00",
            "time_limit": 0,
            "attempts_allowed": 2,
            "wait_hours": 24,
            "week_1": 7,
            "week_2": 7,
            "week_3": 7,
            "week_4": 7,
            "week_5": 6,
            "week_6": 6,
            "required": ["1", "8"],
        },
    )
    assert response.status_code == 303


def test_autosave_resume_in_a_new_session_and_submit_once(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    rows = items_of(app, attempt_id)
    for item_id, *_ in rows[:30]:
        response = answer(client, attempt_id, item_id, correct_shown(app, item_id))
        assert response.status_code == 200 and "Saved" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
    # Without JavaScript: the page's button saves what the page shows.
    plain = client.post(
        f"/exams/attempts/{attempt_id}/answers",
        data={"items": [rows[30][0], rows[31][0]], f"a-{rows[30][0]}": 0, f"f-{rows[31][0]}": "1", "go": "stay"},
    )
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#saved-message")
    # A new device: a new session finds the same attempt and every saved answer.
    fresh = app.test_client()
    from tests.factories import AuthActions

    AuthActions(fresh, app).login_as(trainees[0])
    assert start(fresh, offering_id) == attempt_id
    page = fresh.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    assert page.count("checked") == 32  # 31 answers and one flag
    summary = fresh.get(f"/exams/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "Not answered (9)" in summary and "Flagged for review (1)" in summary
    # Two tabs submit: graded once.
    first = client.post(f"/exams/attempts/{attempt_id}/submit")
    second = fresh.post(f"/exams/attempts/{attempt_id}/submit")
    assert first.status_code == second.status_code == 303
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        right = 30 + (correct_shown(app, rows[30][0]) == 0)
        assert attempt.status == "submitted" and attempt.correct == right and attempt.submitted_by == "trainee"
        assert attempt.passed is (right >= 32)
    result = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    assert f"{right} of 40" in result and "By week" in result and "By competency" in result
    # Answers after submission are refused.
    late = answer(client, attempt_id, rows[39][0], 0)
    assert late.status_code == 409


def test_deadline_on_the_server(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    rows = items_of(app, attempt_id)
    assert answer(client, attempt_id, rows[0][0], 1).status_code == 200
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.deadline - attempt.started_at == timedelta(minutes=60)
        attempt.deadline = utcnow() - timedelta(seconds=3)  # inside the grace
        db.session.commit()
    assert answer(client, attempt_id, rows[1][0], 1).status_code == 200
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
    refused = answer(client, attempt_id, rows[2][0], 1)
    assert refused.status_code == 409 and "Time is up" in refused.get_data(as_text=True)
    # The job runner submits it with what was saved.
    with app.app_context():
        assert service.close_due_attempts() == 1
        assert service.close_due_attempts() == 0
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "submitted" and attempt.submitted_by == "deadline"
        assert sum(1 for r in items_of(app, attempt_id) if r[4] is not None) == 2


def test_an_attempt_read_after_its_deadline_is_submitted(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.get(f"/exams/attempts/{attempt_id}")
    assert "not passed" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).submitted_by == "deadline"


def test_the_facilitator_sees_each_trainees_attempts_and_scores(app, client, auth, setup):
    facilitator, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    page = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    assert 'hx-history="false"' in page  # kept out of htmx's history cache (no answers left behind)
    client.post(f"/exams/attempts/{attempt_id}/submit")
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        correct, count = attempt.correct, attempt.item_count
    auth.login_as(facilitator)
    text = text_of(client.get(f"/exams/offerings/{offering_id}"))
    assert trainees[0].name in text and f"{correct}/{count}" in text.replace(" / ", "/").replace(" of ", "/")


def test_extra_time_for_a_named_trainee(app, client, auth, setup):
    facilitator, trainees, _, offering_id = setup
    auth.login_as(facilitator)
    page = client.get(f"/exams/offerings/{offering_id}")
    assert page.status_code == 200
    response = client.post(
        f"/exams/offerings/{offering_id}/extra-time", data={"time_person": trainees[1].id, "minutes": 30}
    )
    assert response.status_code == 303
    auth.login_as(trainees[1])
    attempt_id = start(client, offering_id)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.deadline - attempt.started_at == timedelta(minutes=90)


def test_the_key_never_reaches_the_browser_before_submission(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    bodies = [client.get("/exams").get_data(as_text=True)]
    response = client.post(f"/exams/offerings/{offering_id}/start")
    bodies.append(response.get_data(as_text=True))
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for view in ({}, {"view": "one", "q": 1}, {"view": "one", "q": 40}):
        page = client.get(f"/exams/attempts/{attempt_id}", query_string=view)
        assert page.headers["Cache-Control"] == "no-store"
        bodies.append(page.get_data(as_text=True))
    rows = items_of(app, attempt_id)
    for n, (item_id, *_rest) in enumerate(rows):
        bodies.append(answer(client, attempt_id, item_id, n % 4).get_data(as_text=True))
        bodies.append(
            client.get(f"/exams/attempts/{attempt_id}", query_string={"view": "one", "q": n + 1}).get_data(as_text=True)
        )
    bodies.append(
        client.post(
            f"/exams/attempts/{attempt_id}/answers",
            data={"items": rows[0][0], f"a-{rows[0][0]}": 1},
            headers={"HX-Request": "true"},
        ).get_data(as_text=True)
    )
    bodies.append(client.get(f"/exams/attempts/{attempt_id}/summary").get_data(as_text=True))
    bodies.append(client.get(f"/exams/attempts/{attempt_id}/review").get_data(as_text=True))
    everything = "\n".join(bodies)
    assert "kept-secret" not in everything  # no rationale, no feedback
    assert not re.search(r"correct|right answer|data-key|is-right", everything, re.I)
    with app.app_context():
        right_texts = {
            db.session.get(ItemVersion, r[2]).options[db.session.get(ItemVersion, r[2]).correct_index]["text"]
            for r in rows
        }
    # Every option text is shown, so the right ones are too, but never marked apart: the
    # markup around each option is the same whether it is right or wrong.
    for page in bodies:
        for label in re.findall(r"<label><input type=\"radio\"[^>]*> ([^<]*)</label>", page):
            assert label  # present
    assert right_texts  # sanity
    # After submission the review shows them (review at once is off: only after the window).
    client.post(f"/exams/attempts/{attempt_id}/submit")
    assert client.get(f"/exams/attempts/{attempt_id}/review").status_code == 403
    with app.app_context():
        db.session.get(Attempt, attempt_id).offering.review_at_once = True
        db.session.commit()
    review = client.get(f"/exams/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "RATIONALE-" in review
    # Review at once off again: once the test window has closed, the review opens.
    with app.app_context():
        offering = db.session.get(Attempt, attempt_id).offering
        offering.review_at_once = False
        db.session.commit()
    assert client.get(f"/exams/attempts/{attempt_id}/review").status_code == 403
    with app.app_context():
        db.session.get(Attempt, attempt_id).offering.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "RATIONALE-" in client.get(f"/exams/attempts/{attempt_id}/review").get_data(as_text=True)


def test_attempts_and_wait_are_enforced(app, client, auth, setup):
    facilitator, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    first = start(client, offering_id)
    client.post(f"/exams/attempts/{first}/submit")
    response = client.post(f"/exams/offerings/{offering_id}/start")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/exams#offering-{offering_id}-message")
    assert "You can start your next attempt from" in client.get("/exams").get_data(as_text=True)
    # The time is the trainee's own, with their zone named (not UTC).
    from zoneinfo import ZoneInfo

    from portal.models import User

    with app.app_context():
        db.session.get(User, trainees[0].id).time_zone = "Asia/Tokyo"
        attempt = db.session.get(Attempt, first)
        local = (attempt.submitted_at + timedelta(hours=attempt.offering.wait_hours)).astimezone(ZoneInfo("Asia/Tokyo"))
        db.session.commit()
    expected = f"You can start your next attempt from {local:%a} {local.day} {local:%b %Y, %H:%M} JST."
    assert expected in client.get("/exams").get_data(as_text=True)
    with app.app_context():
        attempt = db.session.get(Attempt, first)
        attempt.submitted_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    second = start(client, offering_id)
    client.post(f"/exams/attempts/{second}/submit")
    with app.app_context():
        db.session.get(Attempt, second).submitted_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    client.post(f"/exams/offerings/{offering_id}/start")
    assert "You have used your 2 attempts." in client.get("/exams").get_data(as_text=True)
    # One extra attempt, granted by the facilitator and audited.
    auth.login_as(facilitator)
    assert (
        client.post(f"/exams/offerings/{offering_id}/grant", data={"grant_person": trainees[0].id}).status_code == 303
    )
    with app.app_context():
        assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "exam.extra_attempt")).scalar_one()
    auth.login_as(trainees[0])
    third = start(client, offering_id)
    with app.app_context():
        assert db.session.get(Attempt, third).number == 3


def test_another_trainees_attempt_is_unreachable(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    mine = start(client, offering_id)
    my_items = items_of(app, mine)
    auth.login_as(trainees[1])
    theirs = start(client, offering_id)
    their_items = items_of(app, theirs)
    assert client.get(f"/exams/attempts/{mine}").status_code == 404
    assert answer(client, mine, my_items[0][0], 0).status_code == 404
    assert client.post(f"/exams/attempts/{mine}/submit").status_code == 404
    # Their own attempt's URL with my attempt's item in the body: refused, nothing saved.
    assert answer(client, theirs, my_items[0][0], 0).status_code == 404
    assert (
        client.post(
            f"/exams/attempts/{theirs}/answers",
            data={"items": [their_items[0][0], my_items[1][0]], f"a-{their_items[0][0]}": 0, f"a-{my_items[1][0]}": 0},
        ).status_code
        == 404
    )
    assert all(r[4] is None for r in items_of(app, mine)) and all(r[4] is None for r in items_of(app, theirs))


def test_one_open_attempt_per_person_is_a_database_rule(app, setup):
    _, trainees, _, offering_id = setup
    with app.app_context():
        db.session.add(Attempt(offering_id=offering_id, user_id=trainees[0].id, number=1, item_count=40))
        db.session.commit()
        db.session.add(Attempt(offering_id=offering_id, user_id=trainees[0].id, number=2, item_count=40))
        from sqlalchemy.exc import IntegrityError

        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_best_attempt_counts_toward_certification(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    for item_id, *_ in items_of(app, attempt_id)[:32]:
        answer(client, attempt_id, item_id, correct_shown(app, item_id))
    with app.app_context():
        assert best_attempt(trainees[0].id) is None
    client.post(f"/exams/attempts/{attempt_id}/submit")
    with app.app_context():
        best = best_attempt(trainees[0].id)
        assert best.id == attempt_id and best.correct == 32 and best.passed
        assert best_attempt(trainees[1].id) is None


def test_editing_an_active_item_makes_a_version_and_attempts_keep_theirs(app, client, auth, setup, make_user):
    _, trainees, _, offering_id = setup
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    version_id = items_of(app, attempt_id)[0][2]
    with app.app_context():
        version = db.session.get(ItemVersion, version_id)
        item_id, old_stem = version.item_id, version.stem
    auth.login_as(admin)
    response = client.post(
        f"/exams/bank/{item_id}",
        data={
            "title": "Edited",
            "stem": "A **new** question?",
            "option_1": "A",
            "option_2": "B",
            "correct": 2,
            "rationale": "",
            "week": version.week,
            "competency": version.competency,
            "status": "active",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        item = db.session.get(Item, item_id)
        assert item.current_version_id != version_id and item.current.stem == "A **new** question?"
        assert db.session.get(ItemVersion, version_id).stem == old_stem
    auth.login_as(trainees[0])
    assert old_stem in client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)


EVERY = (Path(__file__).parent / "data" / "every_construct.gift").read_text()


def test_gift_import_preview_save_export_reimport(app, client, auth, make_user):
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    broken = EVERY + "\n\n::broken::No right answer {~a ~b}\n"
    preview = client.post(
        "/exams/bank/import",
        data={
            "kind": "gift",
            "source": broken,
            "week": "2",
            "competency": "5",
            "status": "active",
            "action": "preview",
        },
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "Line 54: no correct answer" in html and "Line 39: short answer" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Item.id))) == 0
    refused = client.post(
        "/exams/bank/import",
        data={"kind": "gift", "source": broken, "week": "2", "competency": "5", "status": "active", "action": "save"},
    )
    assert refused.status_code == 422
    saved = client.post(
        "/exams/bank/import",
        data={
            "kind": "gift",
            "source": broken,
            "week": "2",
            "competency": "5",
            "status": "active",
            "action": "save_valid",
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        items = {i.title: i for i in db.session.execute(db.select(Item)).scalars()}
        assert len(items) == 9
        assert (items["Low data plans"].week, items["Low data plans"].competency) == (3, 4)
        assert (items["html one"].week, items["html one"].competency) == (5, 5)
        assert (items["TF true"].week, items["TF true"].competency) == (3, 4)
        assert items["Low data plans"].id_number == "w3-access-01"
    exported = client.get("/exams/bank/export.gift").get_data(as_text=True)
    # The export imports back to the same items, unchanged.
    again = client.post(
        "/exams/bank/import", data={"kind": "gift", "source": exported, "status": "active", "action": "preview"}
    )
    assert again.status_code == 200 and again.get_data(as_text=True).count(": unchanged") == 9
    client.post("/exams/bank/import", data={"kind": "gift", "source": exported, "status": "active", "action": "save"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Item.id))) == 9
        assert db.session.scalar(db.select(db.func.count(ItemVersion.id))) == 9
    # Re-import with a change updates (a new version of the active item), no duplicates.
    changed = exported.replace("Offer a phone dial-in number", "Offer a phone dial-in number or SMS")
    client.post("/exams/bank/import", data={"kind": "gift", "source": changed, "status": "active", "action": "save"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Item.id))) == 9
        item = db.session.execute(db.select(Item).where(Item.title == "Low data plans")).scalar_one()
        assert item.current.options[0]["text"] == "Offer a phone dial-in number or SMS" and item.current.number == 2
    csv_export = client.get("/exams/bank/export.csv").get_data(as_text=True)
    assert csv_export.startswith("id_number,title,week,competency,status,stem,option_1")
    # A filtered part of the bank: week 3 only, in both formats.
    import csv
    import io

    week3 = list(csv.DictReader(io.StringIO(
        client.get("/exams/bank/export.csv", query_string={"week": "3"}).get_data(as_text=True)
    )))
    with app.app_context():
        in_week3 = db.session.scalar(db.select(db.func.count(Item.id)).where(Item.week == 3))
    assert 0 < len(week3) == in_week3 < 9 and {row["week"] for row in week3} == {"3"}
    assert "html one" not in {row["title"] for row in week3}
    week3_gift = client.get("/exams/bank/export.gift", query_string={"week": "3"}).get_data(as_text=True)
    assert "Low data plans" in week3_gift and "html one" not in week3_gift
    csv_again = client.post("/exams/bank/import", data={"kind": "csv", "source": csv_export, "action": "preview"})
    assert csv_again.status_code == 200 and csv_again.get_data(as_text=True).count(": unchanged") == 9


def test_csv_import_problems_have_line_numbers(app, client, auth, make_user):
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    text = (
        "title,stem,option_1,option_2,correct,week,competency\n"
        "Fine,Is it fine?,Yes,No,1,1,1\n"
        "Bad,Which?,Yes,No,3,1,1\n"
        "Weekless,Which?,Yes,No,1,9,1\n"
    )
    response = client.post("/exams/bank/import", data={"kind": "csv", "source": text, "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3: correct names an option that is not there" in html and "Line 4: choose the week" in html


def test_query_counts_do_not_grow(app, client, auth, setup, queries):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    rows = items_of(app, attempt_id)

    def measure(choice):
        with queries() as page_q:
            assert client.get(f"/exams/attempts/{attempt_id}").status_code == 200
        with queries() as save_q:  # a changed answer each time
            assert answer(client, attempt_id, rows[0][0], choice).status_code == 200
        return len(page_q), len(save_q)

    small = measure(1)
    for item_id, *_ in rows[1:30]:
        answer(client, attempt_id, item_id, 0)
    make_bank(app, per_week=(20, 20, 20, 20, 20, 20))
    assert measure(2) == small


def test_demo_bank_is_loaded_by_seed_demo_and_draws_a_test(app, runner, client, auth):
    result = runner.invoke(args=["seed-demo", "--password", "demo password long"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from portal.models import User

        items = list(db.session.execute(db.select(Item)).scalars())
        assert len(items) >= 60 and all(i.status == "active" for i in items)
        assert {i.week for i in items} == set(range(1, 7)) and {i.competency for i in items} == set(range(1, 11))
        trainee = db.session.execute(db.select(User).where(User.email == "trainee01@example.org")).scalar_one()
        from types import SimpleNamespace

        person = SimpleNamespace(id=trainee.id)
    auth.login_as(person)
    page = client.get("/exams")
    assert "Start attempt 1" in page.get_data(as_text=True)
    offering_id = int(re.search(r"/exams/offerings/(\d+)/start", page.get_data(as_text=True)).group(1))
    attempt_id = start(client, offering_id)
    assert len(items_of(app, attempt_id)) == 40


def test_import_preview_sets_each_items_week_and_competency_without_javascript(app, client, auth, make_user):
    """The preview has a week and a competency select per item: an item without them can be
    placed there, a placed one moved; nothing is saved while one item still lacks them."""
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    text = (
        "$CATEGORY: $course$/Week 3/Competency 4\n\n"
        "::Placed::Which is placed? {=This one ~Not this}\n\n"
        "$CATEGORY: $course$/Misc\n\n"
        "::Loose one::Which is loose? {=This one ~Not this}\n\n"
        "::Loose two::Which is loose too? {=This one ~Not this}\n"
    )
    base = {"kind": "gift", "source": text, "status": "active"}
    first = client.post("/exams/bank/import", data={**base, "action": "preview"})
    html = first.get_data(as_text=True)
    assert first.status_code == 422 and "Items that need a week or competency" in html
    lines = {title: int(line) for title, line in re.findall(r"<h[34]>([^<]+?) <small>\(line (\d+)", html)}
    placed, one, two = lines["Placed"], lines["Loose one"], lines["Loose two"]
    assert f'name="place-{placed}-week-was" value="3"' in html
    choose = {
        f"place-{one}-week": "2", f"place-{one}-week-was": "", f"place-{one}-competency": "7",
        f"place-{one}-competency-was": "",
        f"place-{placed}-week": "6", f"place-{placed}-week-was": "3",  # moved by hand
        f"place-{placed}-competency": "4", f"place-{placed}-competency-was": "4",
    }
    # Loose two still has no week: saving is refused and nothing at all is saved.
    refused = client.post("/exams/bank/import", data={**base, **choose, "action": "save"})
    assert refused.status_code == 422 and "Choose the week of this item." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Item.id))) == 0
    choose.update({f"place-{two}-week": "1", f"place-{two}-week-was": "", f"place-{two}-competency": "10",
                   f"place-{two}-competency-was": "", f"place-{one}-week": "99"})  # a value that is no week
    again = client.post("/exams/bank/import", data={**base, **choose, "action": "preview"})
    assert again.status_code == 422  # Loose one lost its week to the bad value: still needs one
    choose[f"place-{one}-week"] = "2"
    ready = client.post("/exams/bank/import", data={**base, **choose, "action": "preview"})
    page = ready.get_data(as_text=True)
    assert ready.status_code == 200 and re.search(r"3 items ready,\s+0 problems", page)
    assert re.search(rf'name="place-{placed}-week">.*?<option value="6" selected>', page, re.S)
    saved = client.post("/exams/bank/import", data={**base, **choose, "action": "save"})
    assert saved.status_code == 303
    with app.app_context():
        got = {i.title: (i.week, i.competency) for i in db.session.execute(db.select(Item)).scalars()}
    assert got == {"Placed": (6, 4), "Loose one": (2, 7), "Loose two": (1, 10)}


def test_import_default_week_reaches_items_not_changed_by_hand(app, client, auth, make_user):
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    text = "::A::First? {=yes ~no}\n\n::B::Second? {=yes ~no}\n"
    base = {"kind": "gift", "source": text, "status": "draft", "competency": "1"}
    html = client.post("/exams/bank/import", data={**base, "week": "2", "action": "preview"}).get_data(as_text=True)
    lines = {t: int(n) for t, n in re.findall(r"<h[34]>([^<]+?) <small>\(line (\d+)", html)}
    # The admin changes the import's week to 5 and moves only B to week 4 by hand.
    form = {**base, "week": "5", "action": "save"}
    for line in lines.values():
        form.update({f"place-{line}-week": "2", f"place-{line}-week-was": "2",
                     f"place-{line}-competency": "1", f"place-{line}-competency-was": "1"})
    form[f"place-{lines['B']}-week"] = "4"
    assert client.post("/exams/bank/import", data=form).status_code == 303
    with app.app_context():
        got = {i.title: i.week for i in db.session.execute(db.select(Item)).scalars()}
    assert got == {"A": 5, "B": 4}


def test_item_analysis_query_count_does_not_grow_with_attempts_or_items(app, client, auth, make_user, make_cohort, queries):
    """The analysis page (admins: the whole bank; facilitators: their offering) and its CSV
    read a fixed number of queries, for 2 attempts of a 52-item bank or 10 of a 172-item one."""
    import random

    facilitator = make_user("fac@example.org", roles=[Role.FACILITATOR])
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    trainees = [make_user(f"t{i}@example.org") for i in range(10)]
    cohort = make_cohort(facilitators=[facilitator], trainees=trainees, capacity=10)
    make_bank(app)
    offering_id = open_offering(app, cohort.id, review_at_once=True)

    def take(people, seed):
        rng = random.Random(seed)
        with app.app_context():
            offering = db.session.get(Offering, offering_id)
            for person in people:
                attempt = service.start(person.id, offering, rng=rng)
                rows = db.session.execute(db.select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)).scalars()
                service.save_answers(attempt, {r.id: rng.randint(0, 3) for r in rows}, {})
                service.submit(attempt)

    def measure():
        counts = []
        for who, url in ((admin, "/exams/analysis"), (facilitator, f"/exams/offerings/{offering_id}/analysis"),
                         (admin, "/exams/analysis?format=csv")):
            auth.login_as(who)
            with queries() as q:
                assert client.get(url).status_code == 200
            counts.append(len(q))
        return counts

    take(trainees[:2], 1)
    small = measure()
    make_bank(app, per_week=(20, 20, 20, 20, 20, 20))
    take(trainees[2:], 2)
    with app.app_context():
        seen = db.session.scalar(db.select(db.func.count(db.distinct(AttemptItem.item_version_id))))
        assert seen > 52  # more distinct items than the first bank had
    assert measure() == small


def test_autosave_reply_is_small_and_counts_progress_from_the_save(app, client, auth, setup):
    _, trainees, _, offering_id = setup
    auth.login_as(trainees[0])
    attempt_id = start(client, offering_id)
    (a, *_), (b, *_) = items_of(app, attempt_id)[:2]

    def save(data):
        response = client.post(f"/exams/attempts/{attempt_id}/answers", data=data, headers={"X-Autosave": "1"})
        assert response.status_code == 200 and len(response.data) < 200
        html = response.get_data(as_text=True)
        return tuple(int(x) for x in re.search(r'data-answered="(\d+)" data-flagged="(\d+)"', html).groups())

    def stored():
        with app.app_context():
            rows = db.session.execute(db.select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)).scalars()
            rows = list(rows)
            return sum(r.chosen is not None for r in rows), sum(bool(r.flagged) for r in rows)

    assert save({"items": a, f"a-{a}": 1}) == (1, 0) == stored()
    assert save({"items": b, f"a-{b}": 0, f"f-{b}": "1"}) == (2, 1) == stored()
    assert save({"items": a, f"a-{a}": 2}) == (2, 1) == stored()  # a changed answer is not a new one
    assert save({"items": b, f"a-{b}": 0}) == (2, 0) == stored()  # the flag taken off
    assert save({"items": [a, b], f"a-{a}": 2, f"a-{b}": 0, f"f-{a}": "1", f"f-{b}": "1"}) == (2, 2) == stored()
def test_the_csv_export_never_hands_a_spreadsheet_a_formula_and_imports_back_unchanged(app, client, auth, make_user):
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    auth.login_as(admin)
    source = (
        "title,stem,option_1,option_2,correct,week,competency\n"
        '"=HYPERLINK(""http://evil.example"",""click"")",Which?,@SUM(A1),-1 is not it,2,1,1\n'
    )
    saved = client.post("/exams/bank/import", data={"kind": "csv", "source": source, "status": "active", "action": "save"})
    assert saved.status_code == 303
    exported = client.get("/exams/bank/export.csv").get_data(as_text=True)
    import csv as csv_module
    import io as io_module

    [header, row] = list(csv_module.reader(io_module.StringIO(exported)))
    cells = dict(zip(header, row, strict=False))
    assert cells["title"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"  # text to a spreadsheet
    assert cells["option_1"] == "'@SUM(A1)" and cells["option_2"] == "'-1 is not it"
    assert not [c for c in row if c[:1] in ("=", "+", "-", "@")]
    again = client.post("/exams/bank/import", data={"kind": "csv", "source": exported, "action": "preview"})
    assert again.status_code == 200 and again.get_data(as_text=True).count(": unchanged") == 1
    with app.app_context():
        item = db.session.execute(db.select(Item)).scalar_one()
        assert item.title.startswith("=HYPERLINK") and item.current.options[0]["text"] == "@SUM(A1)"
