"""The grid map over HTTP, per role: the JSON in the user's scope and language, 404 outside it,
nothing for a volunteer; the map on a grid's page and the report form; the tile server setting."""
from __future__ import annotations

import contextlib

import pytest

from .helpers import JINSHAN, XIANGJIANG, grid_id
from .test_headers import assert_secured


@contextlib.contextmanager
def tiles(app, template, attribution="© 内网地图"):
    saved = app.config["GRIDGOV_MAP_TILES"], app.config["GRIDGOV_MAP_ATTRIBUTION"]
    app.config["GRIDGOV_MAP_TILES"], app.config["GRIDGOV_MAP_ATTRIBUTION"] = template, attribution
    try:
        yield
    finally:
        app.config["GRIDGOV_MAP_TILES"], app.config["GRIDGOV_MAP_ATTRIBUTION"] = saved


def test_dispatcher_reads_the_district_in_english_and_chinese(login, session):
    for lang, level, status in (("en", "Street / town", "Closed"), (None, "街道/乡镇", "已办结")):
        browser = login("dispatcher", lang=lang)
        response = browser.get("/map/grid/")
        assert response.status_code == 200 and response.is_json
        data = response.get_json()
        assert data["grid"]["properties"]["code"] == "410611"
        children = data["children"]["features"]
        assert [f["properties"]["level_label"] for f in children] == [level, level]
        assert all(f["geometry"]["type"] == "Polygon" for f in children)
        pins = data["pins"]["features"]
        assert len(pins) == 12 and any(p["properties"]["status_label"] == status for p in pins)
        assert pins[0]["properties"]["url"] == f"/incidentmodelview/show/{pins[0]['id']}"
        assert_secured(response, "/map/grid/")


@pytest.mark.parametrize("user", ["secretary", "worker", "street", "department"])
def test_another_community_is_out_of_reach(login, session, user):
    browser = login(user)
    jinshan = grid_id(session, JINSHAN)
    for url in (f"/map/grid/{jinshan}", f"/map/outline/{jinshan}", "/map/grid/nonsense", "/map/grid/99999999"):
        response = browser.get(url)
        assert response.status_code == 404, url
        assert response.is_json and response.get_json()["message"], url


def test_secretary_reads_her_community(login, session):
    browser = login("secretary")
    community = grid_id(session, XIANGJIANG)
    data = browser.get(f"/map/grid/{community}").get_json()
    assert {f["properties"]["code"] for f in data["children"]["features"]} == {XIANGJIANG + "-01", XIANGJIANG + "-02"}
    assert browser.get("/map/grid/").get_json()["grid"]["properties"]["code"] == XIANGJIANG
    outline = browser.get(f"/map/outline/{community}").get_json()
    assert outline["geometry"]["type"] == "Polygon"


def test_volunteer_gets_nothing(login, session):
    browser = login("volunteer")
    community = grid_id(session, XIANGJIANG)  # the volunteer's own community
    for url in ("/map/grid/", f"/map/grid/{community}", f"/map/outline/{community}"):
        response = browser.get(url)
        assert response.status_code in (401, 403), url
        assert "features" not in response.get_data(as_text=True)


def test_anonymous_gets_nothing(client, session):
    response = client.get("/map/grid/")
    assert response.status_code in (401, 403) and "features" not in response.get_data(as_text=True)


def test_grid_page_draws_the_map(login, session):
    browser = login("secretary")
    community = grid_id(session, XIANGJIANG)
    html = browser.get(f"/gridmodelview/show/{community}").get_data(as_text=True)
    assert "data-grid-map" in html and f'data-grid="{community}"' in html
    assert 'data-drill="/gridmodelview/show/{id}"' in html or 'data-drill="/gridmodelview/show/%7Bid%7D"' in html
    assert "vendor/leaflet/leaflet.js" in html and "gridgov/map.js" in html and 'data-tiles=""' in html
    assert "受理数" in html and "办结率" in html


def test_report_form_shows_the_location_map(login, session):
    for user, outline in (("worker", True), ("volunteer", False)):
        html = login(user).get("/incidentmodelview/report").get_data(as_text=True)
        assert "data-report-location" in html and "vendor/leaflet/leaflet.js" in html, user
        assert ('data-outline="/map/outline/' in html) is outline, user


def test_tile_server_setting_draws_tiles_and_opens_the_policy_to_its_host(app, login, session):
    browser = login("secretary")
    community = grid_id(session, XIANGJIANG)
    url = f"/gridmodelview/show/{community}"
    before = browser.get(url)
    assert "tiles.intranet" not in before.headers["Content-Security-Policy"]
    with tiles(app, "http://{s}.tiles.intranet:8080/{z}/{x}/{y}.png"):
        response = browser.get(url)
        html = response.get_data(as_text=True)
        assert 'data-tiles="http://{s}.tiles.intranet:8080/{z}/{x}/{y}.png"' in html and "© 内网地图" in html
        policy = assert_secured(response, url)
        assert "img-src 'self' data: blob: http://*.tiles.intranet:8080;" in policy
        # the report form's map draws them too
        report = browser.get("/incidentmodelview/report")
        assert "tiles.intranet" in report.get_data(as_text=True)
        assert "http://*.tiles.intranet:8080" in report.headers["Content-Security-Policy"]
    with tiles(app, "/tiles/{z}/{x}/{y}.png"):  # on the app's own host: nothing to add
        assert "img-src 'self' data: blob:;" in browser.get(url).headers["Content-Security-Policy"]
    with tiles(app, "http://evil.example; script-src *"):  # not a host: ignored
        policy = browser.get(url).headers["Content-Security-Policy"]
        assert "evil" not in policy and "script-src *" not in policy
