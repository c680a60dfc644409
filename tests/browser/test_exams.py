"""A trainee takes the written test in a real browser: answers save as they are chosen, a
reload keeps them, an answer chosen while offline is kept and saved when the connection
returns, and submitting shows the result. Axe on the test pages."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Attempt, AttemptItem, Role
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD
from tests.exam_helpers import make_bank, open_offering


def saved_answers(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(AttemptItem.id)).where(AttemptItem.chosen.is_not(None)))


def test_trainee_takes_the_test_offline_for_one_answer(page, app, make_user, make_cohort):
    trainee = make_user("taker@example.org", roles=[Role.TRAINEE], name="Tess Taker")
    cohort = make_cohort(trainees=[trainee])
    make_bank(app)
    open_offering(app, cohort.id)
    sign_in(page, trainee.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/**")
    page.goto("/exams")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Start attempt 1").click()
    page.wait_for_url("**/exams/attempts/*")
    assert axe_violations(page) == []

    questions = page.locator("fieldset.question")
    assert questions.count() == 40
    for n in range(3):
        questions.nth(n).locator("input[type=radio]").nth(1).check()
        page.locator(f'[data-saved-for="{questions.nth(n).get_attribute("data-item")}"]').filter(
            has_text="Saved at"
        ).wait_for()
    assert page.locator("[data-answered]").inner_text() == "3"
    assert saved_answers(app) == 3

    page.reload()
    questions = page.locator("fieldset.question")
    assert all(questions.nth(n).locator("input[type=radio]").nth(1).is_checked() for n in range(3))

    # Offline for one answer: the page says so and keeps the choice; back online, it is saved.
    page.context.set_offline(True)
    questions.nth(3).locator("input[type=radio]").nth(2).check()
    page.locator("#connection").filter(has_text="You are offline").wait_for()
    assert questions.nth(3).locator("input[type=radio]").nth(2).is_checked()
    assert saved_answers(app) == 3
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.locator(f'[data-saved-for="{questions.nth(3).get_attribute("data-item")}"]').filter(
        has_text="Saved at"
    ).wait_for()
    assert saved_answers(app) == 4

    page.get_by_role("button", name="Save and review before submitting").click()
    page.wait_for_url("**/summary#summary-message")
    assert "Saved at" in page.locator("#summary-message").inner_text()
    assert "Not answered (36)" in page.content()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Submit your answers").click()
    page.get_by_role("heading", name="Your result").wait_for()
    assert "of 40" in page.locator(".result").inner_text()
    assert axe_violations(page) == []
    with app.app_context():
        assert db.session.execute(db.select(Attempt.status)).scalar_one() == "submitted"
    assert page.console.problems == [] or all(
        "Failed to fetch" in p or "ERR_INTERNET" in p for p in page.console.problems
    )
