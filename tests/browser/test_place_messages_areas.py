"""The answer next to the control, in a real browser (issue 8), for forms far down their page:
the roll (attendance), reporting a post deep in a thread (boards) and saving the last item of
a checklist (assessment). With and without JavaScript, the message is inside the viewport
after the action; with JavaScript it also has focus."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.extensions import db
from portal.models import Board, CohortSession, Role, User, utcnow
from tests.browser.conftest import axe_violations, sign_in
from tests.browser.test_cohortsux import in_view
from tests.browser.test_place_messages import _focused
from tests.conftest import DEFAULT_PASSWORD


def _roll(app, make_user, make_cohort):
    fran = make_user("fran.place@example.org", roles=[Role.FACILITATOR], name="Fran Facilitator")
    people = [make_user(f"t{n:02d}.place@example.org", name=f"Trainee {n:02d}") for n in range(18)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=20)
    sid = cohort.session_ids[0]
    with app.app_context():
        db.session.get(CohortSession, sid).starts_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
    return fran, people, sid


def _thread(app, make_user, make_cohort):
    """A cohort board thread with 15 posts; Ana reads it and may report the last one."""
    from portal.boards import posting

    fran = make_user("fran.thread@example.org", roles=[Role.FACILITATOR], name="Fran Thread")
    people = [make_user(f"p{n}.thread@example.org", name=f"Person {n}") for n in range(4)]
    ana = make_user("ana.thread@example.org", name="Ana Reader")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, *people])
    with app.app_context():
        for person in (fran, ana, *people):
            posting.accept(db.session.get(User, person.id))
        board = db.session.execute(
            db.select(Board).where(Board.cohort_id == cohort.id, Board.kind == "cohort")
        ).scalar_one()
        started = posting.start_thread(board, db.session.get(User, fran.id), "Week three", "How did it go?")
        authors = [db.session.get(User, p.id) for p in people]
        last = None
        for n in range(14):
            last = posting.reply(
                started.post.thread, authors[n % len(authors)], f"Reply {n}: " + "a longer answer. " * 12, None
            )
        db.session.commit()
        return ana, started.post.thread_id, last.post.id


def _walk(page, app, make_user, make_cohort, with_js: bool):
    page.set_default_timeout(10000)
    page.set_viewport_size({"width": 390, "height": 700})

    # Attendance: mark the last person on a long roll.
    fran, people, sid = _roll(app, make_user, make_cohort)
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/sessions/{sid}/roll")
    last = people[-1]
    if with_js:  # once htmx has processed the entry (a person never acts within those milliseconds)
        page.wait_for_function(f"() => !!document.querySelector('#roll-{last.id} form')['htmx-internal-data']")
    page.locator(f"#roll-{last.id}").get_by_role("button", name="Present").click()
    if not with_js:
        page.wait_for_url(re.compile(rf".*#roll-{last.id}-message$"))
    page.locator(f"#roll-{last.id}-message").get_by_text("Trainee 17: present.").wait_for()
    assert in_view(page, f"#roll-{last.id}-message")
    if with_js:
        assert _focused(page, f"roll-{last.id}-message")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    # Boards: report the last post of a long thread.
    ana, thread_id, post_id = _thread(app, make_user, make_cohort)
    sign_in(page, ana.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    page.goto(f"/threads/{thread_id}")
    post = page.locator(f"#post-{post_id}")
    post.get_by_text("Report", exact=True).click()
    post.get_by_label("Why are you reporting this post?").fill("Shares a phone number")
    post.get_by_role("button", name="Send the report").click()
    if not with_js:
        page.wait_for_url(re.compile(rf".*#post-{post_id}-message$"))
    page.locator(f"#post-{post_id}-message").get_by_text("Thank you. The moderators will look").wait_for()
    assert in_view(page, f"#post-{post_id}-message")
    if with_js:
        assert _focused(page, f"post-{post_id}-message")
        assert axe_violations(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    # Assessment: save the last item of the default checklist.
    from portal.assessment import checklists

    with app.app_context():
        template = checklists.ensure_default()
        db.session.commit()
        template_id, position = template.id, checklists.current_version(template.id).items[-1].position
    admin = make_user("ada.place@example.org", roles=[Role.ADMIN], name="Ada Admin")
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/**")
    page.goto(f"/checklists/{template_id}")
    entry = page.locator(f"#item-{position}")
    entry.get_by_text(f"Edit item {position}").click()
    entry.get_by_role("button", name=f"Save item {position}").click()
    if not with_js:
        page.wait_for_url(re.compile(rf".*#item-{position}-message$"))
    page.locator(f"#item-{position}-message").get_by_text("Saved.").wait_for()
    assert in_view(page, f"#item-{position}-message")
    if with_js:
        assert _focused(page, f"item-{position}-message")


def test_answers_in_view_with_javascript(app, page, make_user, make_cohort):
    _walk(page, app, make_user, make_cohort, with_js=True)


def test_answers_in_view_without_javascript(app, no_js_page, make_user, make_cohort):
    _walk(no_js_page, app, make_user, make_cohort, with_js=False)
