"""The answer appears where the person acted (issue 8), for attendance, the written test,
assessment, boards and "Your details": after the action the redirect lands on
#<place>-message, an anchor that exists on the landing page, and the message sits inside the
section of the control that was used (not in the message area at the top of the page).
One or more representative forms of each area; the checks are those of test_place_messages."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.extensions import db
from portal.models import CohortSession, Item, Role, User, utcnow
from tests.exam_helpers import make_bank, open_offering, shown_items
from tests.exam_helpers import start as start_attempt
from tests.factories import AuthActions, text_of
from tests.test_attendance import code_of, move
from tests.test_place_messages import assert_answered_in, element
from tests.world import World

# --- attendance -------------------------------------------------------------------------------------


def _live(app, make_user, make_cohort):
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR], name="Fran")
    ana, ben = make_user("ana@example.org", name="Ana"), make_user("ben@example.org", name="Ben")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    sid = cohort.session_ids[0]
    move(app, sid, utcnow() - timedelta(minutes=5))
    return fran, ana, ben, cohort, sid


def test_check_in_window_and_check_in_answer_in_their_sections(app, client, auth, make_user, make_cohort):
    fran, ana, _, _, sid = _live(app, make_user, make_cohort)
    auth.login_as(fran)
    opened = client.post(f"/sessions/{sid}/checkin/window", data={"action": "open"})
    assert_answered_in(client, opened, "checkin-control", "checkin-control", "Check-in is open")
    auth.login_as(ana)
    checked = client.post(f"/sessions/{sid}/checkin", data={"code": code_of(app, sid)})
    assert_answered_in(client, checked, "checkin", "checkin", "You are checked in")


def test_the_roll_answers_next_to_the_person_marked_and_at_the_roll(app, client, auth, make_user, make_cohort):
    fran, ana, ben, _, sid = _live(app, make_user, make_cohort)
    auth.login_as(fran)
    marked = client.post(f"/sessions/{sid}/roll", data={"user_id": str(ana.id), "status": "late", "minutes": "100"})
    assert_answered_in(client, marked, f"roll-{ana.id}", f"roll-{ana.id}", "Ana: late.")
    everyone = client.post(f"/sessions/{sid}/roll/everyone-present")
    assert_answered_in(client, everyone, "roll", "roll", "1 person marked present.")
    with app.app_context():
        from portal.attendance import roll

        assert roll.mark_of(sid, ben.id).status == "present"


def test_htmx_roll_mark_carries_its_message_in_the_fragment(app, client, auth, make_user, make_cohort, hx):
    fran, ana, _, _, sid = _live(app, make_user, make_cohort)
    auth.login_as(fran)
    response = client.post(f"/sessions/{sid}/roll", data={"user_id": str(ana.id), "status": "present"}, headers=hx)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text, ancestors = element(body, f"roll-{ana.id}-message")
    assert text == "Ana: present." and f"roll-{ana.id}" in ancestors
    assert 'data-fresh="1"' in body


def test_feedback_lands_on_its_message_after_the_link_is_gone(app, client, auth, make_user, make_cohort):
    """Before: the redirect went to #feedback, which the live page no longer has once answered."""
    fran, ana, _, _, sid = _live(app, make_user, make_cohort)
    move(app, sid, utcnow() - timedelta(hours=3))
    with app.app_context():
        from portal.attendance import roll

        roll.mark(db.session.get(CohortSession, sid), ana.id, "present", 120, None, db.session.get(User, fran.id))
        db.session.commit()
    auth.login_as(ana)
    answered = client.post(f"/sessions/{sid}/feedback", data={"usefulness": "4", "helped": "the role play"})
    assert_answered_in(client, answered, "feedback", "checkin", "Thank you: your feedback is saved")


def test_make_ups_answer_on_the_progress_page_and_on_the_host_roll(app, client, auth, make_user, make_cohort):
    _, ana, _, _, _ = _live(app, make_user, make_cohort)
    farid = make_user("farid@example.org", roles=[Role.FACILITATOR])
    host = make_cohort(facilitators=[farid], trainees=[make_user("host.member@example.org")], name="Host Cohort")
    host_week1 = host.session_ids[0]
    move(app, host_week1, utcnow() + timedelta(days=1))
    auth.login_as(ana)
    asked = client.post(f"/sessions/{host_week1}/makeup", data={})
    assert_answered_in(client, asked, "makeups", "makeups", "Host Cohort")
    with app.app_context():
        from portal.models import MakeupRequest

        request_id = db.session.execute(db.select(MakeupRequest.id)).scalar_one()
    auth.login_as(farid)
    decided = client.post(f"/makeups/{request_id}/decide", data={"decision": "accept"})
    assert_answered_in(client, decided, "makeups", "makeups", "Ana")


def test_the_attendance_setting_answers_next_to_its_form(app, client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    saved = client.post("/attendance/settings", data={"min_minutes": "90", "counted": ["present", "late"]})
    assert_answered_in(client, saved, "settings", "settings", "Saved: what counts as a covered week.")


# --- the written test ----------------------------------------------------------------------------


def test_the_item_bank_answers_next_to_the_item_form(app, client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    body = {"title": "Listening", "stem": "Which?", "option_1": "A", "option_2": "B", "correct": "1",
            "week": "2", "competency": "3", "status": "draft"}
    created = client.post("/exams/bank/new", data=body)
    assert_answered_in(client, created, "item-form", "item-form", "Item “Listening” saved.")
    with app.app_context():
        item_id = db.session.execute(db.select(Item.id).where(Item.title == "Listening")).scalar_one()
    changed = client.post(f"/exams/bank/{item_id}", data={**body, "stem": "Which now?"})
    assert_answered_in(client, changed, "item-form", "item-form", "Item saved.")


def test_offering_forms_answer_in_their_sections(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    tia = make_user(name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    offering_id = open_offering(app, cohort.id)
    auth.login_as(fran)
    granted = client.post(f"/exams/offerings/{offering_id}/grant", data={"grant_person": str(tia.id)})
    assert_answered_in(client, granted, "people", "people", "One extra attempt granted.")
    timed = client.post(f"/exams/offerings/{offering_id}/extra-time", data={"time_person": str(tia.id), "minutes": "15"})
    assert_answered_in(client, timed, "accommodations", "accommodations", "15 extra minutes set")


def test_taking_the_test_answers_next_to_the_buttons(app, client, auth, make_user, make_cohort):
    make_bank(app)
    tia = make_user(name="Tia")
    cohort = make_cohort(facilitators=[make_user(roles=[Role.FACILITATOR])], trainees=[tia])
    offering_id = open_offering(app, cohort.id, attempts_allowed=1)
    auth.login_as(tia)
    attempt_id = start_attempt(client, offering_id)
    items = shown_items(client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True))
    saved = client.post(
        f"/exams/attempts/{attempt_id}/answers", data={"items": items[:2], f"a-{items[0]}": "1", "go": "stay"}
    )
    assert_answered_in(client, saved, "saved", "answers", "Saved at")
    one = client.post(
        f"/exams/attempts/{attempt_id}/answers",
        data={"items": [items[0]], f"a-{items[0]}": "2", "view": "one", "q": "1", "go": "next"},
    )
    assert one.headers["Location"].split("#")[0].endswith("view=one&q=2")
    assert_answered_in(client, one, "question", "answers", "Saved at")
    client.post(f"/exams/attempts/{attempt_id}/submit")
    late = client.post(f"/exams/attempts/{attempt_id}/answers", data={"items": [items[0]], f"a-{items[0]}": "0"})
    assert_answered_in(client, late, "result", "result", "This attempt has been submitted")
    refused = client.post(f"/exams/offerings/{offering_id}/start")
    assert_answered_in(client, refused, f"offering-{offering_id}", "tests", "You have used your 1 attempt.")


# --- assessment ----------------------------------------------------------------------------------


def _exam(app, make_user, make_cohort):
    from tests.test_assessment import Exam

    return Exam(app, make_user, make_cohort, n=2)


def test_oral_exam_forms_answer_where_the_facilitator_acted(app, client, auth, make_user, make_cohort):
    exam = _exam(app, make_user, make_cohort)
    exam_id = exam.open()
    trainee = exam.trainees[0]
    item_id, _ = exam.items(exam_id)[0]
    auth.login_as(exam.fran)
    cell = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/items/{item_id}", data={"mark": "met:0"})
    assert_answered_in(client, cell, f"trainee-{trainee.id}", f"trainee-{trainee.id}", ": met. Saved.")
    marks = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}", data={"note": "Calm and clear.",
                                                                              "note_version": "0"})
    assert_answered_in(client, marks, "marks", "marks", "Saved.")
    final = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/finalise")
    assert_answered_in(client, final, "result", "result", "Finalised: not passed yet.")
    unlocked = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/unlock", data={"reason": "Marked too fast"})
    assert_answered_in(client, unlocked, "result", "result", "Unlocked: the marks can change again.")
    # The grid's own unlock form answers in the trainee's row of the grid.
    client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/finalise")
    from_grid = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/unlock",
                            data={"reason": "From the grid", "from": "grid"})
    assert from_grid.headers["Location"].startswith(f"/oral-exams/{exam_id}#")
    assert_answered_in(client, from_grid, f"trainee-{trainee.id}", f"trainee-{trainee.id}",
                       "Unlocked: the marks can change again.")
    client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/finalise")
    no_reason = client.post(f"/oral-exams/{exam_id}/trainees/{trainee.id}/unlock", data={"reason": "", "from": "grid"})
    assert_answered_in(client, no_reason, f"trainee-{trainee.id}", f"trainee-{trainee.id}",
                       "Say why the result is unlocked.")


def test_checklists_answer_next_to_the_item_and_the_add_form(app, client, auth, make_user):
    auth.login_as(make_user(roles=[Role.ADMIN]))
    created = client.post("/checklists", data={"name": "Practice round"})
    text = assert_answered_in(client, created, "add", "add", "Created Practice round: add its items.")
    assert text == "Created Practice round: add its items."
    template_id = int(re.search(r"/checklists/(\d+)", created.headers["Location"]).group(1))
    item = {"new-competency": "1", "new-title": "Opens the talk", "new-met_looks_like": "Says who they are",
            "new-required": "yes"}
    added = client.post(f"/checklists/{template_id}/items", data=item)
    assert_answered_in(client, added, "add", "add", "Saved.")
    client.post(f"/checklists/{template_id}/items", data={**item, "new-title": "Closes the talk"})
    with app.app_context():
        from portal.assessment import checklists

        first = checklists.current_version(template_id).items[0]
        first_id, first_position = first.id, first.position
    moved = client.post(f"/checklists/{template_id}/items/{first_id}/move", data={"direction": "down"})
    assert_answered_in(client, moved, f"item-{first_position + 1}", f"item-{first_position + 1}", "Saved.")
    page = client.get(f"/checklists/{template_id}").get_data(as_text=True)
    entry, _ = element(page, f"item-{first_position + 1}")
    assert "Opens the talk" in entry, "the answer was next to the item that moved"


def test_supervisor_forms_answer_next_to_their_buttons(app, client, auth, make_user, make_cohort):
    exam = _exam(app, make_user, make_cohort)
    trainee = exam.trainees[0]
    auth.login_as(exam.sue)
    confirmed = client.post(f"/supervision/{trainee.id}/confirm", data={"competencies": ["1", "2"], "evidence": ""})
    assert_answered_in(client, confirmed, "confirm", "competencies", "Confirmed: 1, 2.")
    declined = client.post(f"/supervision/{trainee.id}/decline", data={"competency": "3", "reason": "Not yet seen"})
    assert_answered_in(client, declined, "decline", "competencies", "Declined: 3.")
    stopped = client.post("/supervision/reminders", data={"reminders": "off"})
    assert_answered_in(client, stopped, "reminders", "reminders", "Weekly reminders stopped.")
    auth.login_as(exam.fran)
    resent = client.post(f"/cohorts/{exam.cohort.id}/assessment/{trainee.id}/remind")
    assert_answered_in(client, resent, f"remind-{trainee.id}", "competencies", "The request was sent again to Sue")


# --- boards ----------------------------------------------------------------------------------------------


def _as(app, world, principal):
    client = app.test_client()
    AuthActions(client, app).login_as(world.people[principal])
    return client


def test_board_forms_answer_next_to_the_post_and_the_moderation_controls(app):
    world = World.fresh(app)
    trainee = _as(app, world, "trainee_in")
    replied = trainee.post(f"/threads/{world.thread_id}/reply", data={"body": "Thanks, that helps."})
    with app.app_context():
        from portal.models import Post

        new_id = db.session.execute(db.select(db.func.max(Post.id))).scalar_one()
    assert_answered_in(trainee, replied, f"post-{new_id}", f"post-{new_id}", "Your post is on the board.")
    reported = trainee.post(f"/posts/{world.peer_post_id}/report", data={"reason": "Off topic"})
    assert_answered_in(
        trainee, reported, f"post-{world.peer_post_id}", f"post-{world.peer_post_id}", "You have already reported"
    )
    facilitator = _as(app, world, "facilitator_in")
    locked = facilitator.post(f"/threads/{world.thread_id}/moderate", data={"action": "lock"})
    assert_answered_in(facilitator, locked, "moderate", "moderate", "The thread is locked.")
    hidden = facilitator.post(f"/posts/{new_id}/hide", data={"reason": "Shared a phone number"})
    assert_answered_in(facilitator, hidden, f"post-{new_id}", f"post-{new_id}", "The post is hidden.")
    queue = facilitator.post(f"/posts/{world.peer_post_id}/moderate", data={"action": "dismiss", "from": "queue"})
    assert_answered_in(facilitator, queue, "queue", "queue", "The reports and flags on this post are dismissed.")
    next_url = f"/threads/{world.thread_id}#post-{world.peer_post_id}-message"
    suspended = facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.peers_in[1].id), "days": "1", "reason": "Cooling off", "next": next_url,
              "post_id": str(world.peer_post_id)},
    )
    assert_answered_in(
        facilitator, suspended, f"post-{world.peer_post_id}", f"post-{world.peer_post_id}", "is kept off"
    )
    admin = _as(app, world, "admin")
    texts = admin.post(
        "/boards/settings",
        data={"guidelines": "Be kind.", "consent": "Who reads.", "crisis_resources": "Call 988.",
              "crisis_phrases": "want to die"},
    )
    assert_answered_in(admin, texts, "texts", "texts", "The texts are saved.")


def test_a_post_past_the_first_page_is_answered_on_the_page_that_shows_it(app):
    """The anchor exists: a post after the first 20 of its thread is on the page starting with it."""
    from portal.boards import posting
    from portal.models import Post, Thread

    world = World.fresh(app)
    with app.app_context():
        thread = db.session.get(Thread, world.thread_id)
        authors = [db.session.get(User, p.id) for p in (world.people["facilitator_in"], world.people["co_facilitator"],
                                                        *world.peers_in)]
        for n in range(posting.PAGE_SIZE + 3):  # round the authors: each stays under the posting rate
            posting.reply(thread, authors[n % len(authors)], f"Reply number {n}.", None)
        db.session.commit()
        last = db.session.execute(db.select(db.func.max(Post.id))).scalar_one()
    trainee = _as(app, world, "trainee_in")
    reported = trainee.post(f"/posts/{last}/report", data={"reason": "Too long"})
    assert "after=" in reported.headers["Location"]
    assert_answered_in(trainee, reported, f"post-{last}", f"post-{last}", "Thank you. The moderators will look")


def test_a_crisis_phrase_lands_on_the_resources(app):
    world = World.fresh(app)
    trainee = _as(app, world, "trainee_in")
    response = trainee.post(f"/threads/{world.thread_id}/reply", data={"body": "Some days I want to die."})
    assert response.headers["Location"].endswith("#crisis")
    html = trainee.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'id="crisis"' in html and "Your post is on the board." in html
    # The page of the thread that shows the reply, with what came before it (a short thread: the
    # first page), not the reply alone (a walkthrough saw only the reply, with seen= given).
    assert "after=" not in response.headers["Location"]
    seen = trainee.post(f"/threads/{world.thread_id}/reply", data={"body": "I still want to die.",
                                                                   "seen": str(world.peer_post_id)})
    assert "after=" not in seen.headers["Location"]
    again = trainee.get(seen.headers["Location"].split("#")[0])
    assert "Hello" in text_of(again) and "I still want to die." in text_of(again)


# --- "Your details" ------------------------------------------------------------------------------------------


def test_your_details_and_password_answer_in_their_sections(app, client, auth, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    person = make_user()
    auth.login_as(person)
    saved = client.post("/account", data={"display_name": "Jo March", "time_zone": "UTC"})
    assert_answered_in(client, saved, "profile", "profile", "Your details are saved.")
    changed = client.post(
        "/account/password",
        data={"current_password": DEFAULT_PASSWORD, "password": "a new long passphrase 42",
              "confirm": "a new long passphrase 42"},
    )
    assert_answered_in(client, changed, "password", "password", "Your password is changed.")
