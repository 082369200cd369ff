"""The grid map in a real browser: drawn from the app alone (no tile, no request elsewhere),
coloured by a chosen figure, drilled into; the report form's pin placed from the phone's location
and moved by hand."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Grid

from ..views.helpers import XIANGJIANG


def test_secretary_drills_into_her_community_on_a_phone(journey, session):
    community = session.scalar(select(Grid.id).where(Grid.code == XIANGJIANG))
    secretary = journey.user(phone=True).login("secretary")
    page = secretary.page
    page.goto(f"/gridmodelview/show/{community}")
    title = page.locator("[data-map-title]")
    expect(title).to_contain_text("湘江社区")
    # two blocks and the community's five located incidents (pins, clustered or not)
    expect(page.locator(".gridgov-map-canvas .leaflet-overlay-pane path.leaflet-interactive")).to_have_count(7)
    expect(page.locator(".gridgov-map-legend .gridgov-map-key")).to_have_count(5)
    page.select_option("[data-map-figure]", "completion_rate")
    expect(page.locator(".gridgov-map-legend")).to_contain_text("80%+")
    secretary.assert_fits()
    secretary.assert_labelled()
    secretary.screenshot("9-secretary-grid-map-phone")
    # a block: its two buildings drawn, one level up leads back
    page.locator(".gridgov-map-canvas .leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    expect(title).to_have_text(re.compile("华夏南区|湘江花园"))
    expect(page.locator("[data-map-up]")).to_be_visible()
    expect(page.locator("[data-map-open]")).to_be_visible()
    page.locator("[data-map-up]").click()
    expect(title).to_contain_text("湘江社区")
    expect(page.locator("[data-map-up]")).to_be_hidden()  # her street is not hers to see


def test_worker_moves_the_reported_location(journey, session):
    worker = journey.user(phone=True)
    worker.context.grant_permissions(["geolocation"])
    worker.context.set_geolocation({"latitude": 35.8052, "longitude": 114.2321, "accuracy": 15})
    worker.login("worker")
    page = worker.page
    page.goto("/incidentmodelview/report")
    expect(page.locator("#latitude")).to_have_value("35.805200")
    expect(page.locator("[data-location-status]")).to_contain_text("15")
    pin = page.locator(".gridgov-report-map .leaflet-marker-icon")
    expect(pin).to_be_visible()
    expect(page.locator(".gridgov-report-map .leaflet-overlay-pane path")).to_have_count(1)  # the grid's outline
    pin.scroll_into_view_if_needed()
    box = pin.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 4)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 50, box["y"] + box["height"] + 30, steps=6)
    page.mouse.up()
    expect(page.locator("#latitude")).not_to_have_value("35.805200")
    assert float(page.input_value("#longitude")) > 114.2321
    page.locator("[data-location-clear]").click()
    expect(page.locator("#latitude")).to_have_value("")
    worker.assert_fits()
    worker.screenshot("9-worker-report-location-phone")
