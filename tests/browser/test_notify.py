"""notify (issue 13) in a real browser: a mention raises the count and opens the post, search
finds it, the directory and a direct message (the Messages link counts it), a conversation
with a few people started from the Messages page; axe on each page."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Board, BoardKind, Role, User
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD


def _second_page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_mention_count_search_directory_and_a_message(page, browser, live_server, app, make_user, make_cohort):
    from portal.boards import posting

    ann = make_user("ann@example.org", roles=[Role.TRAINEE], name="Ann Archer")
    bea = make_user("bea@example.org", roles=[Role.TRAINEE], name="Bea Brown")
    fran = make_user("fran@example.org", roles=[Role.FACILITATOR], name="Fran Facilitator")
    cohort = make_cohort(facilitators=[fran], trainees=[ann, bea], name="Browser Cohort")
    with app.app_context():
        for person in (ann, bea):
            posting.accept(db.session.get(User, person.id))
        board = db.session.execute(
            db.select(Board).where(Board.kind == BoardKind.COHORT.value, Board.cohort_id == cohort.id)
        ).scalar_one_or_none() or posting.cohort_board(db.session.get(__import__("portal.models").models.Cohort, cohort.id))
        started = posting.start_thread(board, db.session.get(User, bea.id), "Listening skills", "What helps you listen?")
        db.session.commit()
        thread_id = started.post.thread_id

    context, bea_page = _second_page(browser, live_server)
    try:
        sign_in(bea_page, bea.email, DEFAULT_PASSWORD)
        bea_page.wait_for_url("**/dashboard/**")
        assert bea_page.locator("#unread-count").count() == 0

        # Ann mentions Bea, picking the name from the suggestions.
        sign_in(page, ann.email, DEFAULT_PASSWORD)
        page.wait_for_url("**/dashboard/**")
        page.goto(f"/threads/{thread_id}")
        body = page.locator("#body")
        body.click()
        body.press_sequentially("Silence and curiosity, @Be")
        page.get_by_role("button", name="@Bea Brown").click()
        assert body.input_value() == "Silence and curiosity, @Bea Brown "
        page.get_by_role("button", name="Send the reply").click()
        page.get_by_text("Your post is on the board.").wait_for()
        assert page.locator("strong", has_text="@Bea Brown").count() >= 1

        # Bea's count rises; she opens the notification and lands on the post.
        bea_page.reload()
        assert " ".join(bea_page.locator("#unread-count").text_content().split()) == "(1 unread)"
        bea_page.locator("#nav-notifications").click()
        bea_page.wait_for_url("**/notifications")
        assert axe_violations(bea_page) == []
        bea_page.get_by_role("button", name="New: Ann Archer mentioned you in “Listening skills”").click()
        bea_page.wait_for_url(f"**/threads/{thread_id}**")
        bea_page.get_by_role("heading", name="Listening skills").wait_for()
        assert bea_page.locator("#unread-count").count() == 0

        # Search finds the post, the word highlighted.
        bea_page.goto("/search")
        bea_page.get_by_label("Search the boards").fill("curiosity")
        bea_page.get_by_role("button", name="Search").click()
        bea_page.locator("mark", has_text="curiosity").first.wait_for()
        assert axe_violations(bea_page) == []

        # Bea opts into the directory; Ann finds her there and writes to her.
        bea_page.goto("/directory/me")
        bea_page.get_by_label("List me in the member directory").check()
        bea_page.get_by_label("Region").fill("Ohio")
        bea_page.get_by_label("Interests").fill("youth, listening")
        bea_page.get_by_role("button", name="Save").click()
        bea_page.get_by_text("Saved: you are listed in the directory.").wait_for()
        assert axe_violations(bea_page) == []

        page.goto("/directory")
        assert page.get_by_text("Bea Brown", exact=True).is_visible()
        assert "bea@example.org" not in page.content()
        assert axe_violations(page) == []
        page.get_by_role("link", name="Send Bea Brown a message").click()
        page.get_by_label("Subject").fill("Practice together?")
        page.get_by_label("Your message").fill("Shall we practise **listening** on Friday?")
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**/messages/*")
        assert axe_violations(page) == []

        bea_page.goto("/messages")
        assert axe_violations(bea_page) == []
        assert bea_page.get_by_role("link", name="Messages, 1 unread").is_visible()
        bea_page.get_by_role("link", name="New: Practice together?").click()
        bea_page.locator("strong", has_text="listening").wait_for()
        assert axe_violations(bea_page) == []
        assert bea_page.get_by_role("link", name="Messages", exact=True).is_visible()  # read: no count

        # A conversation with a few people, from the Messages page: first without choosing
        # anyone (the message sits next to the list), then with Bea and Fran.
        with app.app_context():
            from portal.directory import core as directory

            directory.save(fran.id, listed=True, region="", interests="", open_to_networking=False, intro="")
            db.session.commit()
        page.goto("/messages")
        page.get_by_label("Subject").fill("Friday practice")
        page.get_by_label("Your message").fill("Shall we **all three** meet?")
        page.get_by_role("button", name="Start the conversation").click()
        page.locator("#to-error", has_text="Choose at least one person.").wait_for()
        assert page.get_by_label("Subject").input_value() == "Friday practice"
        assert axe_violations(page) == []
        page.get_by_label("Bea Brown").check()
        page.get_by_label("Fran Facilitator").check()
        page.get_by_role("button", name="Start the conversation").click()
        page.get_by_text("With Bea Brown and Fran Facilitator.").wait_for()
        page.locator("strong", has_text="all three").wait_for()
        assert axe_violations(page) == []

        bea_page.reload()
        bea_page.get_by_role("link", name="Messages, 1 unread").click()
        bea_page.wait_for_url("**/messages")
        assert "with Ann Archer, Fran Facilitator" in " ".join(bea_page.locator("#conversations").inner_text().split())
        bea_page.get_by_role("link", name="New: Friday practice").click()
        bea_page.get_by_text("With Ann Archer and Fran Facilitator.").wait_for()
        # The refused form (nobody chosen) answers 422 by design; anything else is a problem.
        assert [p for p in page.console.problems if "422" not in p] == []
    finally:
        context.close()
