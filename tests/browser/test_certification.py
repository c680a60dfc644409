"""Certification in a real browser: a trainee with every requirement met sees "certified",
opens the certificate, follows its verification link, and the verification page says valid.
Axe on "what's left", the certificate and the verification pages."""

from __future__ import annotations

from portal.certification import certificates
from portal.extensions import db
from tests.browser.conftest import axe_violations, sign_in
from tests.test_certification import Programme


def test_a_certified_trainee_opens_and_verifies_their_certificate(app, live_server, page, make_user, make_cohort):
    programme = Programme(app, make_user, make_cohort, n=2, key="browser")
    done, waiting = programme.trainees
    programme.complete(done)
    programme.complete(waiting, skip=("oral_exam",))
    with app.app_context():
        certificates.issue_due()
        db.session.commit()
    base = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = live_server  # links in the certificate point at this server
    try:
        # Someone still on their way: what's left, with its links.
        sign_in(page, waiting.email, waiting.password)
        page.wait_for_url("**/dashboard/**")
        page.goto("/certification")
        assert "Group oral exam not taken yet" in page.inner_text("main")
        assert axe_violations(page) == []
        page.context.clear_cookies()

        sign_in(page, done.email, done.password)
        page.wait_for_url("**/dashboard/**")
        whats_left = page.locator("#whats-left")
        assert "Certified" in whats_left.inner_text()
        assert axe_violations(page) == []
        whats_left.get_by_role("link", name="Open the certificate").click()
        page.wait_for_url("**/certificates/*")
        assert page.get_by_role("heading", name="Certificate", exact=True).is_visible()
        assert "Trainee 0" in page.inner_text("main")
        assert axe_violations(page) == []
        page.locator("#certificate a[href*='/verify/']").click()
        page.wait_for_url("**/verify/*")
        assert page.get_by_role("heading", name="Valid certificate").is_visible()
        assert "Trainee 0" in page.inner_text("main")
        assert axe_violations(page) == []
        # The form, as a stranger would type the code: lower case, with spaces.
        page.context.clear_cookies()
        page.goto("/verify")
        cert = programme.certificate_of(done)
        page.get_by_label("Certificate code").fill(" ".join(cert.code[i:i + 5] for i in range(0, 20, 5)).lower())
        page.get_by_role("button", name="Verify").click()
        page.get_by_role("heading", name="Valid certificate").wait_for()
        assert axe_violations(page) == []
    finally:
        app.config["PUBLIC_BASE_URL"] = base
