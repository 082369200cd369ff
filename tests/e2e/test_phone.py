"""Phones first, in a real browser: a list's rows are cards that fit the screen (no table to
scroll sideways inside), the incident page shows what the user can do before its fields, and the
English points ledger shows its Balance column whole."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

# What scrolls sideways inside the page (a table in .table-responsive) without widening it.
INNER_OVERFLOW = """() => [...document.querySelectorAll('.table-responsive')]
    .filter(e => e.scrollWidth - e.clientWidth > 1).map(e => e.scrollWidth - e.clientWidth)"""


def test_lists_are_cards_on_a_phone_and_tables_on_a_desk(journey, lang="en"):
    """In English, whose labels are the longest (Chinese labels: tests/views/test_phone.py)."""
    worker = journey.user(phone=True).login("worker", lang=lang)
    page = worker.page
    for url in ("/incidentmodelview/list/", "/gridmodelview/list/", "/workermodelview/list/"):
        page.goto(url)
        expect(page.locator(".gridgov-list thead")).to_be_hidden()
        card = page.locator(".gridgov-list tbody tr").first
        assert card.evaluate("e => getComputedStyle(e).display") == "block", url
        assert page.evaluate(INNER_OVERFLOW) == [], url
        worker.assert_fits()
    page.goto("/incidentmodelview/list/")
    label = "Deadline"
    deadline = page.locator(f'.gridgov-list td[data-label="{label}"]').first
    expect(deadline).to_be_visible()
    assert deadline.evaluate("e => getComputedStyle(e, '::before').content") == f'"{label}"'
    worker.screenshot(f"6-worker-incidents-cards-phone-{lang}")

    desk = journey.user().login("worker", lang=lang)
    desk.page.goto("/incidentmodelview/list/")
    expect(desk.page.locator(".gridgov-list thead")).to_be_visible()
    assert desk.page.locator(".gridgov-list tbody tr").first.evaluate("e => getComputedStyle(e).display") == "table-row"


def test_the_incident_page_shows_its_actions_first_on_a_phone(journey):
    secretary = journey.user(phone=True).login("secretary")
    page = secretary.page
    page.goto("/incidentmodelview/list/")
    links = page.locator(".gridgov-list a[href*='/incidentmodelview/show/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        page.goto(href)
        if page.locator(".gridgov-actions").count():
            break
    else:
        pytest.fail("no incident of the secretary's offers an action")
    actions = page.locator(".gridgov-incident-actions").bounding_box()
    fields = page.locator(".gridgov-incident .table-responsive").first.bounding_box()
    assert actions["y"] < fields["y"]
    secretary.assert_fits()
    secretary.screenshot("6-incident-actions-first-phone")

    desk = journey.user().login("secretary")
    desk.page.goto(page.url.replace(journey.base, ""))
    actions = desk.page.locator(".gridgov-incident-actions").bounding_box()
    fields = desk.page.locator(".gridgov-incident .table-responsive").first.bounding_box()
    assert actions["y"] > fields["y"]  # on a desk the fields come first, as before


def test_the_english_ledger_shows_its_balance_on_a_phone(journey):
    volunteer = journey.user(phone=True).login("volunteer", lang="en")
    page = volunteer.page
    page.goto("/points/me/")
    balance = page.locator(".gridgov-ledger th", has_text="Balance")
    expect(balance).to_be_visible()
    box, screen = balance.bounding_box(), page.viewport_size
    assert box["x"] + box["width"] <= screen["width"]
    assert page.evaluate(INNER_OVERFLOW) == []
