"""Phones first: static files under versioned URLs with a year's cache, compressed answers,
lists whose cells carry their column's label (stacked cards on a phone), and each role's menu
with only the entries that give it something."""
from __future__ import annotations

import gzip
import hashlib
import os
import re

import pytest

STATIC_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
YEAR = "max-age=31536000"


def static_urls(html: str) -> list[str]:
    return STATIC_RE.findall(html)


def file_of(app, url: str) -> str:
    """The file on disk that a static URL names."""
    if url.startswith("/static/appbuilder/"):
        folder, rest = app.blueprints["appbuilder"].static_folder, url[len("/static/appbuilder/"):]
    else:
        folder, rest = app.static_folder, url[len("/static/"):]
    if rest.startswith("v/"):
        rest = rest.split("/", 2)[2]
    return os.path.join(folder, rest)


def test_every_stylesheet_and_script_of_a_page_has_its_content_hash_in_the_url(login, app):
    html = login("worker").get("/incidentmodelview/list/").get_data(as_text=True)
    urls = static_urls(html)
    assert any(u.endswith("/css/bootstrap.min.css") for u in urls) and any(u.endswith("/gridgov/gridgov.css") for u in urls)
    preloaded = re.findall(r'<link rel="preload" href="([^"]+)"', html)
    for url in urls:
        match = re.fullmatch(r"/static/(?:appbuilder/)?v/([0-9a-f]{12})/.+", url)
        assert match, url
        if url in preloaded:
            continue
        with open(file_of(app, url), "rb") as fh:
            assert match.group(1) == hashlib.sha256(fh.read()).hexdigest()[:12], url
    # the icon font is preloaded at the URL its stylesheet names (../webfonts/ under the sheet's hash)
    solid = next(u for u in urls if u.endswith("/css/fontawesome/solid.min.css"))
    assert preloaded == [solid.replace("css/fontawesome/solid.min.css", "css/webfonts/fa-solid-900.woff2")]


def test_a_versioned_file_is_kept_a_year_and_is_the_same_for_everyone(login, app, client):
    browser = login("worker")
    urls = static_urls(browser.get("/").get_data(as_text=True))
    assert len(urls) >= 10
    for url in urls:
        for answer in (browser.get(url), client.get(url)):  # signed in or not: the same file
            assert answer.status_code == 200, url
            cache = answer.headers["Cache-Control"]
            assert "public" in cache and YEAR in cache and "immutable" in cache, (url, cache)
            assert "Cookie" not in answer.headers.get("Vary", ""), url
            assert "Set-Cookie" not in answer.headers, url
            with open(file_of(app, url), "rb") as fh:
                assert answer.data == fh.read(), url


def test_a_font_a_versioned_stylesheet_names_is_kept_a_year_too(login):
    browser = login("worker")
    css = next(u for u in static_urls(browser.get("/").get_data(as_text=True)) if u.endswith("/solid.min.css"))
    font = css.replace("css/fontawesome/solid.min.css", "css/webfonts/fa-solid-900.woff2")  # its ../webfonts/
    answer = browser.get(font)
    assert answer.status_code == 200 and YEAR in answer.headers["Cache-Control"]


def test_the_plain_url_still_answers_and_is_asked_again(client):
    answer = client.get("/static/gridgov/gridgov.css")
    assert answer.status_code == 200 and YEAR not in answer.headers.get("Cache-Control", "")
    assert client.get("/static/v/0123456789ab/gridgov/no-such.css").status_code == 404
    assert client.get("/static/appbuilder/v/0123456789ab/../../config.py").status_code == 404


def test_text_files_are_gzipped_for_a_client_that_accepts_it(login, app):
    browser = login("worker")
    urls = static_urls(browser.get("/").get_data(as_text=True))
    for url in ("/static/appbuilder/css/bootstrap.min.css", "/static/gridgov/gridgov.css",
                "/static/appbuilder/js/jquery-latest.js"):
        _gzipped_or_not(browser, app, url, next(u for u in urls if u.endswith(url.split("/", 3)[-1])))


def _gzipped_or_not(browser, app, url, versioned):
    with open(file_of(app, versioned), "rb") as fh:
        content = fh.read()
    for path in (url, versioned):
        packed = browser.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == content and len(packed.data) < len(content) / 2
        plain = browser.get(path, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers and plain.data == content


def test_pages_are_gzipped_but_never_kept(login):
    browser = login("worker")
    for url in ("/", "/incidentmodelview/list/", "/gridmodelview/list/"):
        answer = browser.get(url, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and answer.headers.get("Content-Encoding") == "gzip", url
        assert "<html" in gzip.decompress(answer.data).decode()
        cache = answer.headers.get("Cache-Control", "")
        assert "no-cache" in cache or "no-store" in cache, (url, cache)
        assert "public" not in cache and YEAR not in cache


@pytest.mark.parametrize("lang,labels", [("zh", ("标题", "状态", "处置时限", "超期")),
                                         ("en", ("Title", "Status", "Deadline", "Overdue"))])
def test_each_cell_of_a_list_carries_its_columns_label(login, lang, labels):
    """On a phone the rows become cards (gridgov.css) and each value shows its label from data-label."""
    html = login("worker", lang=lang).get("/incidentmodelview/list/").get_data(as_text=True)
    assert 'class="table table-bordered table-hover gridgov-list"' in html
    rows = re.findall(r"<tr>(.*?)</tr>", html[html.index("<tbody") if "<tbody" in html else 0:], re.S)
    rows = [row for row in rows if "data-label" in row]
    assert rows
    for row in rows:
        cells = re.findall(r'<td data-label="([^"]*)">', row)
        for label in labels:
            assert label in cells, (label, cells)


def test_every_list_of_the_app_has_labelled_cells(login):
    browser = login("secretary", lang="en")
    for url in ("/gridmodelview/list/", "/workermodelview/list/", "/volunteermodelview/list/",
                "/servicerecordmodelview/list/", "/rewarditemmodelview/list/", "/ledgerentrymodelview/list/"):
        html = browser.get(url).get_data(as_text=True)
        assert "gridgov-list" in html and 'data-label="' in html, url
        assert "<td>" not in html[html.index("gridgov-list"):html.index("</table>")].replace(
            '<td class="gridgov-row-', ""), url


def menu_entries(browser) -> set[str]:
    html = browser.get("/", follow_redirects=True).get_data(as_text=True)
    bar = html[html.index('<header class="top"'):html.index("</header>")]
    bar = bar[:bar.index("navbar-right")] if "navbar-right" in bar else bar
    return {href for href in re.findall(r'href="(/[^"#]*)"', bar) if href != "/"}


LISTS = {name: f"/{name}modelview/list/" for name in (
    "grid", "department", "worker", "volunteer", "servicerecord", "incident", "whistle", "emergencyresponse",
    "incidentcategory", "deadlinerule", "rewarditem", "redemption", "pointsaccount", "ledgerentry", "pointsrule",
    "workerpointsrule")}
TREE, REPORT, TASKS = "/gridmodelview/tree/", "/incidentmodelview/report", "/emergencyresponsemodelview/tasks/"
ME, REDEEM, HONOUR = "/points/me/", "/points/redeem/", "/points/honour/"
DECLARE, DASHBOARD = "/emergencyresponsemodelview/declare", "/dashboard/"
AUDIT = "/auditentrymodelview/list/"
DUE = "/residentmodelview/list/?_flt_0_next_visit_due=due"
RESIDENTS = {"/residentmodelview/list/", "/householdmodelview/list/", "/housemodelview/list/", "/visitmodelview/list/",
             DUE}  # 一户一档
WISHES, POST_WISH, MY_WISHES = "/microwishmodelview/list/", "/microwishmodelview/post", "/microwishmodelview/mine/"
TRAINING, UNDER_HOURS = "/trainingrecordmodelview/list/", "/trainingrecordmodelview/under/"
# 巡查日志: the grid worker patrols, who leads an area reads its patrols and who fell short
PATROL_LOG, PATROL, COMPLIANCE = "/patrolmodelview/list/", "/patrolmodelview/patrol/", "/patrolmodelview/compliance/"
LEADS_PATROLS = {PATROL_LOG, COMPLIANCE}
# 考核: who ranks an area (and reads its year), and the worker's own scores
RANKS, MY_ASSESSMENT = {"/assessment/", "/assessment/year/"}, "/assessment/mine/"
STAFF = {LISTS[n] for n in ("grid", "department", "worker", "volunteer", "servicerecord", "incident", "whistle",
                            "emergencyresponse", "rewarditem", "redemption", "pointsaccount", "ledgerentry",
                            "pointsrule", "workerpointsrule")} | {TREE, REPORT, HONOUR}
MENUS = {
    "dispatcher": STAFF | RESIDENTS | LEADS_PATROLS | {LISTS["incidentcategory"], LISTS["deadlinerule"], DECLARE,
                                                       DASHBOARD, AUDIT, "/patrolrulemodelview/list/", WISHES, TRAINING,
                                                       UNDER_HOURS} | RANKS,
    "street": STAFF | RESIDENTS | LEADS_PATROLS | RANKS | {TASKS, DASHBOARD, AUDIT, WISHES, TRAINING, UNDER_HOURS},
    "secretary": STAFF | RESIDENTS | LEADS_PATROLS | RANKS | {TASKS, AUDIT, WISHES, POST_WISH, TRAINING,
                                                              UNDER_HOURS},
    "worker": RESIDENTS | {LISTS["grid"], LISTS["worker"], LISTS["incident"], REPORT, TASKS, ME, REDEEM, HONOUR, PATROL,
                           PATROL_LOG, WISHES, POST_WISH, TRAINING, MY_ASSESSMENT},
    "department": {LISTS["department"], LISTS["incident"], LISTS["whistle"]} | RANKS,
    "volunteer": {LISTS["volunteer"], LISTS["servicerecord"], LISTS["incident"], REPORT, ME, REDEEM, HONOUR,
                  LISTS["pointsrule"], MY_WISHES},
    "leader": {LISTS[n] for n in ("grid", "department", "worker", "volunteer", "servicerecord", "incident", "whistle",
                                  "emergencyresponse")} | RESIDENTS | LEADS_PATROLS | RANKS | {
                                      TREE, HONOUR, DASHBOARD, WISHES, TRAINING, UNDER_HOURS},
}


@pytest.mark.parametrize("username", sorted(MENUS))
def test_each_role_sees_the_menu_entries_that_give_it_something(login, username):
    browser = login(username)
    entries = menu_entries(browser)
    assert entries == MENUS[username], (sorted(entries - MENUS[username]), sorted(MENUS[username] - entries))


def test_the_administrator_sees_everything_but_a_points_account_and_check_ins(login):
    entries = menu_entries(login("admin"))
    assert (set(LISTS.values()) | RESIDENTS | RANKS
            | {TREE, REPORT, HONOUR, "/users/list/", "/roles/list/", AUDIT, "/personaldataaccessmodelview/list/",
               "/attentiontagmodelview/list/", "/assessmentweightsmodelview/list/"}) <= entries
    assert not {ME, REDEEM, TASKS, PATROL, MY_ASSESSMENT} & entries  # no worker of its own: no patrol


def test_a_hidden_entry_leaves_its_page_reachable_where_a_workflow_needs_it(login, session):
    """The grid worker's menu has no Departments or Emergency responses, yet an incident's page
    and the check-in tasks still lead there; a department officer's has no Grids, yet reads its
    incidents' grid names."""
    worker = login("worker")
    assert worker.get(LISTS["department"]).status_code == 200
    assert worker.get(LISTS["emergencyresponse"]).status_code == 200


def test_the_menu_categories_are_the_apps(app):
    from app.security import MENU

    registered = {item.name: {child.name for child in item.childs} for item in app.appbuilder.menu.get_list()
                  if item.name in MENU}
    assert registered == {name: set(entries) for name, entries in MENU.items()}
