"""A journey's screenshot is for people to look at: one that cannot be taken is a warning, and
the journey goes on."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import ScreenshotWarning


def test_a_screenshot_that_cannot_be_taken_warns_and_the_journey_goes_on(journey):
    user = journey.user()
    page = user.page
    page.goto("/login/")
    held = []
    page.route("**/held-font.woff2", lambda route: held.append(route))  # never answered: the page's fonts never finish loading
    page.evaluate("""() => { const style = document.createElement('style');
        style.textContent = "@font-face { font-family: Held; src: url(/held-font.woff2); } body { font-family: Held; }";
        document.head.append(style); }""")
    page.wait_for_function("document.fonts.status === 'loading'")
    with pytest.warns(ScreenshotWarning, match="not taken"):
        assert user.screenshot("held-fonts", timeout=2_000) is None
    page.fill("input[name=username]", "secretary")  # the page is still there to go on with
    expect(page.locator("input[name=username]")).to_have_value("secretary")
