"""Real-browser journeys: Debian's Chromium driven by Playwright against the app served on a free
local port (the test database on the embedded PostgreSQL). Every request the browser makes is
recorded and must go to the app; any JavaScript error in a page fails the journey; each journey
saves a screenshot of its key screen to tests/e2e/screenshots/ (git-ignored).

A journey waits for what it checks (Playwright's auto-waiting actions, ``expect`` and
``wait_for_url``), never for a fixed time; the timeouts below only bound those waits, generously,
for a busy machine."""
from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server

from ..conftest import ADMIN_PASSWORD, DEMO_PASSWORD

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# how long an action, a navigation or an expectation may wait for the app (milliseconds)
WAIT = 60_000
# a screenshot waits for the page's fonts; one not taken in time is left out, not a failure
SCREENSHOT_WAIT = 30_000
expect.set_options(timeout=WAIT)


class ScreenshotWarning(UserWarning):
    """A journey's screenshot could not be taken (it is for people to look at: the journey goes on)."""


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


class User:
    """One person's browser (its own cookies), on a desktop or a phone, in Chinese or English."""

    def __init__(self, journey: "Journey", viewport: dict, phone: bool):
        self.journey = journey
        self.context = journey.browser.new_context(
            base_url=journey.base, viewport=viewport, is_mobile=phone, has_touch=phone,
            device_scale_factor=2 if phone else 1, locale="zh-CN")
        self.context.set_default_timeout(WAIT)
        self.context.route("**/*", journey.route)
        self.page = self.context.new_page()
        self.page.on("console", journey.console)
        self.page.on("pageerror", lambda error: journey.errors.append(f"page error: {error}"))
        self.page.on("response", journey.response)

    def login(self, username: str, password: str | None = None, lang: str | None = None) -> "User":
        page = self.page
        if lang:
            page.goto(f"/lang/{lang}")
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password or (ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD))
        with page.expect_navigation():
            page.locator("input[type=submit], button[type=submit]").first.click()
        assert "/login" not in page.url, f"login of {username} refused"
        return self

    def screenshot(self, name: str, timeout: float = SCREENSHOT_WAIT) -> Path | None:
        """Save the page to tests/e2e/screenshots/<name>.png; warn and go on when it cannot be."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        path.unlink(missing_ok=True)  # not an earlier run's in its place
        try:
            self.page.screenshot(path=str(path), full_page=True, timeout=timeout)
        except PlaywrightError as error:
            warnings.warn(f"screenshot {name} not taken: {error.message.splitlines()[0]}", ScreenshotWarning,
                          stacklevel=2)
            return None
        return path

    def assert_labelled(self) -> None:
        """Every field a person fills in has a label (or an aria-label) naming it."""
        unnamed = self.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => !['hidden', 'submit', 'button'].includes(e.type) && e.getClientRects().length)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.getAttribute('aria-labelledby') && !e.closest('label'))
            .map(e => e.outerHTML.slice(0, 120))""")
        assert unnamed == [], f"{self.page.url}: fields without a label: {unnamed}"

    def assert_fits(self) -> None:
        """Nothing wider than the viewport: the page does not scroll sideways."""
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{self.page.url} is {overflow}px wider than the screen"


class Journey:
    def __init__(self, browser, base: str):
        self.browser = browser
        self.base = base
        self.host = urlsplit(base).netloc
        self.requests: list[str] = []
        self.elsewhere: list[str] = []
        self.errors: list[str] = []
        self.users: list[User] = []

    def route(self, route, request) -> None:
        self.requests.append(request.url)
        if urlsplit(request.url).netloc != self.host and not request.url.startswith(("data:", "blob:")):
            self.elsewhere.append(request.url)
            route.abort()
        else:
            route.continue_()

    def console(self, message) -> None:
        # a page the journey opens on purpose may answer 403/404 (Chromium logs that as an
        # error); a script, style, font or image that fails is caught by ``response`` instead
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def user(self, viewport: dict | None = None, phone: bool = False) -> User:
        user = User(self, viewport or (PHONE if phone else DESKTOP), phone)
        self.users.append(user)
        return user

    def close(self) -> None:
        for user in self.users:
            user.context.close()


@pytest.fixture
def journey(chromium, live_server):
    """A journey's browsers; when it ends, no request left the app and no page logged an error."""
    journey = Journey(chromium, live_server)
    yield journey
    journey.close()
    assert journey.requests, "the browser made no request"
    assert journey.elsewhere == [], f"requests to other hosts: {journey.elsewhere}"
    assert journey.errors == [], f"JavaScript errors: {journey.errors}"
