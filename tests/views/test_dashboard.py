"""The dashboard over HTTP, per role: who sees it, over which area, and the drill-down's 404s."""
from __future__ import annotations

import json
import re

import pytest

from .helpers import JINSHAN, XIANGJIANG, grid_id

DATA_RE = re.compile(r'<script type="application/json" id="dashboard-data">(.*?)</script>', re.S)


def chart_data(html: str) -> dict:
    return json.loads(DATA_RE.search(html).group(1))


@pytest.mark.parametrize("username", ["leader", "dispatcher", "admin"])
def test_the_district_dashboard(login, session, username):
    page = login(username).get("/dashboard/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "数据大屏" in html and "淇滨区" in html
    data = chart_data(html)
    assert [a["name"] for a in data["areas"]] == ["九州路街道", "金山街道"]
    assert data["areas"][0]["completion"] == 37.5 and data["areas"][0]["url"] == f"/dashboard/{grid_id(session, '410611001')}"
    assert sum(data["received"]) == 12 and len(data["months"]) == 12
    assert "金山街道防汛三级响应" in html  # the active response
    assert "vendor/echarts/echarts.common.min.js" in html and "gridgov/dashboard.js" in html


def test_drill_down_from_the_district_to_a_community(login, session):
    leader = login("leader")
    street = leader.get(f"/dashboard/{grid_id(session, '410611001')}").get_data(as_text=True)
    assert 'class="breadcrumb"' in street and "九州路街道" in street
    community = f"/dashboard/{grid_id(session, XIANGJIANG)}"
    assert community in street  # the street's ranking links its communities
    html = leader.get(community).get_data(as_text=True)
    assert sum(chart_data(html)["received"]) == 5  # 湘江社区's five incidents
    assert f'href="/dashboard/{grid_id(session, "410611001")}"' in html  # back up the trail


def test_the_street_officer_sees_his_street_and_nothing_beside_it(login, session):
    street = login("street")
    html = street.get("/dashboard/").get_data(as_text=True)
    assert "九州路街道" in html and sum(chart_data(html)["received"]) == 8
    assert street.get(f"/dashboard/{grid_id(session, XIANGJIANG)}").status_code == 200
    for outside in (JINSHAN, "410611002", "410611"):  # another street's community, another street, the district
        assert street.get(f"/dashboard/{grid_id(session, outside)}").status_code == 404
    for garbage in ("abc", "0", "-5", "99999999", "1%00", "%E4%B8%AD"):
        assert street.get(f"/dashboard/{garbage}").status_code == 404


@pytest.mark.parametrize("username", ["secretary", "worker", "volunteer", "department"])
def test_other_roles_are_refused(login, session, username):
    user = login(username)
    assert user.get("/dashboard/").status_code == 403
    assert user.get(f"/dashboard/{grid_id(session, XIANGJIANG)}").status_code == 403
    assert "/dashboard/" not in user.get("/").get_data(as_text=True)  # no menu entry


def test_anonymous_is_sent_to_the_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_menu_entry_and_english(login):
    leader = login("leader", lang="en")
    html = leader.get("/dashboard/").get_data(as_text=True)
    assert 'href="/dashboard/"' in html
    assert "Received and resolved, last 12 months" in html and "Sub-areas ranked" in html
    assert chart_data(html)["labels"]["resolved"] == "Resolved"
    zh = login("leader").get("/dashboard/").get_data(as_text=True)
    assert chart_data(zh)["labels"]["resolved"] == "已办结"
