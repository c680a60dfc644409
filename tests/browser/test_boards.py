"""The boards in real browsers: two trainees in two browser contexts (one posts, the other sees
"1 new reply", loads it and replies), a reply written while the connection is down is kept and
sent once when it is back, the crisis resources appear at once, a facilitator hides a post,
suspends its author and lets him back early; axe on the board, thread, moderation and topics
pages."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Board, Post, Role, User
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD


def _setup(app, make_user, make_cohort):
    from portal.boards import posting, topics

    fran = make_user("fran.boards@example.org", roles=[Role.FACILITATOR], name="Fran Boards")
    ana = make_user("ana.boards@example.org", name="Ana Boards")
    ben = make_user("ben.boards@example.org", name="Ben Boards")
    ada = make_user("ada.boards@example.org", roles=[Role.ADMIN], name="Ada Boards")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    with app.app_context():
        for person in (fran, ana, ben, ada):
            posting.accept(db.session.get(User, person.id))
        board = db.session.execute(
            db.select(Board).where(Board.cohort_id == cohort.id, Board.kind == "cohort")
        ).scalar_one()
        started = posting.start_thread(
            board, db.session.get(User, ana.id), "Week two questions", "How did the *listening* go?"
        )
        community = posting.community_board()
        topics.create(community, "Tech help", db.session.get(User, ada.id))
        db.session.commit()
        return fran, ana, ben, ada, board.id, started.post.thread_id, community.id


def _posts_with(app, body: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Post.id)).where(Post.body == body)).scalar_one()


def test_two_trainees_talk_the_reply_survives_a_dropped_connection_and_a_facilitator_hides_a_post(
    browser, live_server, page, app, make_user, make_cohort
):
    fran, ana, ben, ada, board_id, thread_id, community_id = _setup(app, make_user, make_cohort)

    # Ben reads the board and the thread
    sign_in(page, ben.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    page.goto(f"/boards/{board_id}")
    page.get_by_role("link", name="Week two questions").wait_for()
    assert axe_violations(page) == []
    page.goto(f"/threads/{thread_id}")
    assert axe_violations(page) == []
    page.evaluate("() => { window.__sameDocument = 'yes'; }")

    ana_context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    try:
        ana_page = ana_context.new_page()
        ana_page.set_default_timeout(10_000)
        sign_in(ana_page, ana.email, DEFAULT_PASSWORD)
        ana_page.wait_for_url("**/dashboard/trainee")
        ana_page.goto(f"/threads/{thread_id}")
        ana_page.get_by_label("Your reply").fill("It went better than I feared.")
        ana_page.get_by_role("button", name="Send the reply").click()
        ana_page.get_by_text("Your post is on the board.").wait_for()
        assert ana_page.get_by_label("Your reply").input_value() == ""

        # Ben's open thread says so within a poll (every 10 s); he loads it and replies
        page.get_by_role("link", name="1 new reply: show").wait_for(timeout=25_000)
        page.get_by_role("link", name="1 new reply: show").click()
        page.get_by_text("It went better than I feared.").wait_for()
        assert page.evaluate("() => window.__sameDocument") == "yes", "the thread reloaded"
        page.get_by_label("Your reply").fill("Glad to hear it, Ana.")
        page.get_by_role("button", name="Send the reply").click()
        page.get_by_text("Your post is on the board.").wait_for()
        assert axe_violations(page) == []

        # Ana's connection drops while she sends: the text stays, and it goes once she is back
        ana_page.reload()
        ana_context.set_offline(True)
        ana_page.get_by_label("Your reply").fill("Typed on the bus, sent when I could.")
        ana_page.get_by_role("button", name="Send the reply").click()
        ana_page.locator(".send-state").get_by_text("Your text is kept here").wait_for()
        assert ana_page.get_by_label("Your reply").input_value() == "Typed on the bus, sent when I could."
        assert _posts_with(app, "Typed on the bus, sent when I could.") == 0
        assert axe_violations(ana_page) == []
        ana_context.set_offline(False)
        ana_page.get_by_text("Your post is on the board.").wait_for(timeout=40_000)
        ana_page.locator("#posts").get_by_text("Typed on the bus, sent when I could.").wait_for()
        # however many times the form tried while offline, one post
        assert _posts_with(app, "Typed on the bus, sent when I could.") == 1

        # a crisis phrase: the resources at once, next to the reply box
        ana_page.get_by_label("Your reply").fill("Some nights I want to die.")
        ana_page.get_by_role("button", name="Send the reply").click()
        ana_page.get_by_role("heading", name="You are not alone").wait_for()
        assert "988" in ana_page.locator(".crisis-resources").inner_text()
        assert axe_violations(ana_page) == []
    finally:
        ana_context.close()

    # Fran hides Ben's reply; the moderation queue shows the crisis flag
    fran_context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800})
    try:
        fran_page = fran_context.new_page()
        fran_page.set_default_timeout(10_000)
        sign_in(fran_page, fran.email, DEFAULT_PASSWORD)
        fran_page.wait_for_url("**/dashboard/facilitator")
        fran_page.goto("/boards/moderation")
        fran_page.get_by_text("Crisis phrase").first.wait_for()
        assert axe_violations(fran_page) == []
        fran_page.goto(f"/threads/{thread_id}")
        with app.app_context():
            bens = db.session.execute(db.select(Post.id).where(Post.body == "Glad to hear it, Ana.")).scalar_one()
        post = fran_page.locator(f"#post-{bens}")
        post.locator("summary", has_text="Hide").click()
        post.get_by_label("Reason (the author sees it)").fill("Names someone outside the group")
        post.get_by_role("button", name="Hide the post").click()
        fran_page.locator(f"#post-{bens}").get_by_text("The post is hidden.").wait_for()
        assert axe_violations(fran_page) == []
        # She keeps Ben off the board for a day, then lets him back early from the board page.
        post = fran_page.locator(f"#post-{bens}")
        post.locator("summary", has_text="Suspend Ben Boards").click()
        post.get_by_label("For how long").select_option("1")
        post.get_by_label("Reason").last.fill("A day to cool off")
        post.get_by_role("button", name="Suspend").click()
        fran_page.locator(f"#post-{bens}").get_by_text("is kept off").wait_for()
        fran_page.goto(f"/boards/{board_id}")
        fran_page.locator("#kept-off summary").click()
        fran_page.get_by_text("Reason: A day to cool off").wait_for()
        assert axe_violations(fran_page) == []
        assert fran_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        fran_page.get_by_role("button", name="Let Ben Boards back now").click()
        fran_page.get_by_text("Ben Boards can read and post on").wait_for()
        assert fran_page.locator("#kept-off").count() == 0
    finally:
        fran_context.close()
    page.goto(f"/threads/{thread_id}")
    page.get_by_text("Hidden by a moderator").wait_for()  # Ben, its author, sees it marked

    # the admin's topics page and the community board filtered by topic
    page.context.clear_cookies()
    sign_in(page, ada.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/admin")
    page.goto(f"/boards/{community_id}/topics")
    page.get_by_label("Topic name").fill("Jobs")
    page.get_by_role("button", name="Add the topic").click()
    page.get_by_text("The topic “Jobs” is open for new threads.").wait_for()
    assert axe_violations(page) == []
    page.goto(f"/boards/{community_id}")
    page.get_by_role("navigation", name="Topics").get_by_role("link", name="Jobs").click()
    page.get_by_role("heading", name="Jobs").wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
