"""Browser tests: the portal served by a real HTTP server thread, driven by Playwright in
Debian's Chromium. They skip (with the reason) where Chromium is missing, except in CI or
with REQUIRE_BROWSER=1, where a missing browser fails the run."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _required() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true"} or os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    problem = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        problem = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "the playwright package is not installed"
    if problem:
        if _required():
            pytest.fail(f"browser tests are required here but cannot run: {problem}")
        pytest.skip(problem)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class Console:
    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(str(e)))


@pytest.fixture
def page(browser, live_server):
    # Reduced motion: Pico's transitions end at once, so axe never measures a colour mid-fade.
    context = browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 800}, reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = Console(page)
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_violations(page, serious_only=True) -> list[dict]:
    """Run axe-core (from npm) on the page; CDP evaluation is not subject to the page's CSP."""
    if not AXE.exists():
        pytest.fail(f"axe-core missing at {AXE}: run `make setup` (npm ci)")
    # Let htmx finish: during a request the submit button is dimmed on purpose (opacity 0.7),
    # which axe would rightly measure as low contrast.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values:
              ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    if serious_only:
        result = [v for v in result if v["impact"] in ("serious", "critical")]
    return result


def sign_in(page, email, password):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
