"""Security basics: CSRF, password complexity, cookies, no internet-loading pages, no default admin
password, and the administrator's user screens with scopes (the login limit: test_login_limit.py;
sessions: test_sessions.py)."""
from __future__ import annotations

import re

import pytest

from sqlalchemy import select, text

from app.models import Worker
from app.models.users import GridgovUser

from .helpers import JINSHAN, XIANGJIANG, grid_id, record_count, search_fields_html, statements_of, worker_in


def test_get_never_deletes_and_post_needs_the_token(login, session):
    worker = worker_in(session, XIANGJIANG)
    browser = login("secretary")
    browser.get(f"/workermodelview/delete/{worker.id}")
    session.expire_all()
    assert session.get(Worker, worker.id) is not None
    response = browser.client.post(f"/workermodelview/delete/{worker.id}", data={})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Worker, worker.id) is not None
    browser.post(f"/workermodelview/delete/{worker.id}", {}, token_from="/workermodelview/list/")
    session.expunge_all()
    assert session.get(Worker, worker.id) is None


def test_session_cookie_flags(app):
    from tests.conftest import Browser, DEMO_PASSWORD

    browser = Browser(app.test_client())
    response = browser.login("secretary", DEMO_PASSWORD)
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in cookies and "SameSite=Lax" in cookies


def test_internet_loading_pages_are_gone(login, app):
    browser = login("admin")
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert not any("chart" in rule.lower() for rule in rules)
    assert not any(rule.startswith("/swagger") for rule in rules)
    for url in ("/", "/gridmodelview/list/", "/workermodelview/add", "/users/list/", "/gridmodelview/tree/"):
        html = browser.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url


def test_weak_passwords_are_refused(login, session):
    browser = login("admin")
    response = browser.post("/users/add", {
        "first_name": "测", "last_name": "试", "username": "weak", "email": "weak@x.cn", "active": "y",
        "roles": session.scalar(text("SELECT id FROM ab_role WHERE name = 'Leader'")),
        "grid": grid_id(session, XIANGJIANG), "password": "password1", "conf_password": "password1",
    })
    assert response.status_code == 200
    assert session.scalar(select(GridgovUser).where(GridgovUser.username == "weak")) is None


def role_id(session, name):
    return session.scalar(text("SELECT id FROM ab_role WHERE name = :n"), {"n": name})


def test_admin_creates_a_scoped_secretary(login, session, app):
    browser = login("admin")
    form = {
        "last_name": "黄", "first_name": "书记", "username": "huang", "email": "huang@x.cn", "active": "y",
        "roles": role_id(session, "Community secretary"), "password": "Strong@Pass12", "conf_password": "Strong@Pass12",
    }
    # a secretary scoped to a street is refused
    response = browser.post("/users/add", {**form, "grid": grid_id(session, "410611002")})
    assert session.scalar(select(GridgovUser).where(GridgovUser.username == "huang")) is None
    follow = browser.get(response.headers.get("Location", "/users/list/")).get_data(as_text=True)
    assert "社区书记的管辖范围须为社区/村级网格" in follow or "社区书记的管辖范围须为社区/村级网格" in response.get_data(as_text=True)

    response = browser.post("/users/add", {**form, "grid": grid_id(session, JINSHAN)})
    assert response.status_code == 302
    user = session.scalar(select(GridgovUser).where(GridgovUser.username == "huang"))
    assert user is not None and user.grid_id == grid_id(session, JINSHAN)

    from tests.conftest import Browser

    huang = Browser(app.test_client())
    assert huang.login("huang", "Strong@Pass12").status_code == 302
    html = huang.get("/workermodelview/list/").get_data(as_text=True)
    assert record_count(html) == 17 and "湘江社区" not in html
    assert huang.get("/users/list/").status_code == 403


def test_first_admin_password_is_generated_once(app, session):
    from app.cli import prepare_database

    session.execute(text("DELETE FROM ab_user_role WHERE user_id = (SELECT id FROM ab_user WHERE username = 'admin')"))
    session.execute(text("DELETE FROM ab_user WHERE username = 'admin'"))
    session.commit()
    printed = []
    saved = app.config["GRIDGOV_ADMIN_PASSWORD"]
    app.config["GRIDGOV_ADMIN_PASSWORD"] = None
    try:
        prepare_database(app, load_demo=False, echo=printed.append)
        prepare_database(app, load_demo=False, echo=printed.append)
    finally:
        app.config["GRIDGOV_ADMIN_PASSWORD"] = saved
    lines = [line for line in printed if "password" in line]
    assert len(lines) == 1
    password = lines[0].rsplit(" ", 1)[-1]
    assert password != saved and len(password) >= 12

    from tests.conftest import Browser

    response = Browser(app.test_client()).login("admin", password)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]


def test_permissions_read_by_name_are_fabs_permissions(app):
    """The one-query permission set a request checks equals FAB's own, for every demo role."""
    from app.extensions import db

    with app.app_context():
        sm = app.appbuilder.sm
        users = db.session.scalars(select(GridgovUser)).all()
        assert {role.name for user in users for role in user.roles} >= {"Admin", "Community secretary", "Volunteer"}
        for user in users:
            pairs = sm._permission_pairs(user)
            assert pairs and pairs == sm.get_user_permissions(user), user.username
        db.session.remove()


def navbar(browser) -> str:
    html = browser.get("/").get_data(as_text=True)
    return html[html.index('<header class="top"'):html.index("</header>")]


def test_the_menu_bar_follows_permissions_name_and_language(login, app):
    """The menu bar is made once and reused, but a changed permission, name or language shows
    on the very next page."""
    from app.extensions import db

    browser = login("secretary")
    assert "积分银行" in navbar(browser) and "湘江书记" in navbar(browser)
    sm = app.appbuilder.sm

    def change(revoke: bool, last_name: str):
        with app.app_context():
            role, pvm = sm.find_role("Community secretary"), sm.find_permission_view_menu("menu_access", "Points bank")
            (sm.del_permission_role if revoke else sm.add_permission_role)(role, pvm)
            sm.find_user("secretary").last_name = last_name
            db.session.commit()
            db.session.remove()

    try:
        change(revoke=True, last_name="湘江")
        bar = navbar(browser)
        assert "积分银行" not in bar and "湘江书记" in bar
        change(revoke=False, last_name="湘江新")
        bar = navbar(browser)
        assert "积分银行" in bar and "湘江新书记" in bar
    finally:
        change(revoke=False, last_name="湘江")
    assert "Points bank" in navbar(login("secretary", lang="en"))


def test_the_signed_in_user_is_kept_until_anything_about_it_changes(login, app, session):
    """Account, permissions and scope are read on the first page, then only a version number is
    asked for; a change written by anyone else (here a plain connection, as another process
    or psql would) is seen on the very next page: another grid, a moved grid, a locked account."""
    browser = login("worker")
    url = "/gridmodelview/list/"
    browser.get(url)
    response, seen = statements_of(app, browser, url)
    assert response.status_code == 200 and record_count(response.get_data(as_text=True)) > 0
    assert [s for s in seen if "auth_version" in s] != []
    assert [s for s in seen if "FROM ab_user" in s or "ab_permission" in s or "SELECT grids.path" in s] == []

    def codes():
        html = browser.get(url).get_data(as_text=True)
        return set(re.findall(r"\b41061100\d{4}-\d{2}(?:-\d{2})?\b", html))

    block = XIANGJIANG + "-01"
    mine = codes()
    assert mine and all(code.startswith(block) for code in mine)
    home_community = session.scalar(text("SELECT parent_id FROM grids WHERE code = :c"), {"c": block})
    try:
        # another grid for the account: the next page shows that grid's subtree
        session.execute(text("UPDATE ab_user SET grid_id = :g WHERE username = 'worker'"),
                        {"g": grid_id(session, JINSHAN + "-01")})
        session.commit()
        assert codes() and all(code.startswith(JINSHAN + "-01") for code in codes())
        session.execute(text("UPDATE ab_user SET grid_id = :g WHERE username = 'worker'"), {"g": grid_id(session, block)})
        session.commit()
        assert codes() == mine
        # the block moves to another community: its path changes, the worker still sees it
        session.execute(text("UPDATE grids SET parent_id = :p WHERE code = :c"), {"p": grid_id(session, JINSHAN), "c": block})
        session.commit()
        assert codes() == mine
        # a locked account is signed out at once
        session.execute(text("UPDATE ab_user SET active = false WHERE username = 'worker'"))
        session.commit()
        response = browser.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    finally:
        session.rollback()
        session.execute(text("UPDATE grids SET parent_id = :p WHERE code = :c"), {"p": home_community, "c": block})
        session.execute(text("UPDATE ab_user SET active = true, grid_id = :g WHERE username = 'worker'"),
                        {"g": grid_id(session, block)})
        session.commit()


def test_every_change_to_accounts_permissions_or_grid_paths_moves_the_version(session):
    def version():
        return session.scalar(text("SELECT version FROM auth_version"))

    tables = ("ab_user", "ab_role", "ab_user_role", "ab_group", "ab_user_group", "ab_group_role",
              "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role")
    for table in tables:
        before = version()
        session.execute(text(f"UPDATE {table} SET id = id WHERE id < 0"))
        assert version() == before + 1, table
    before = version()
    session.execute(text("UPDATE grids SET name = name WHERE id < 0"))  # not the path: no change
    assert version() == before
    session.execute(text("UPDATE grids SET path = path WHERE id < 0"))
    assert version() == before + 1
    session.rollback()
    with pytest.raises(Exception, match="auth_version_one_row|auth_version_pkey"):
        session.execute(text("INSERT INTO auth_version (id, version) VALUES (false, 1)"))
    session.rollback()


def test_search_drop_downs_are_kept_until_their_rows_change(login, app, session):
    """The categories and departments a list's search form offers are drawn once per scope and
    kept: a steady page reads no category or department row; a change written by a plain
    connection shows on the very next page."""
    browser = login("street")
    incidents, whistles = "/incidentmodelview/list/", "/whistlemodelview/list/"

    def options(url):
        return set(re.findall(r"<option[^>]*>([^<]*)</option>", search_fields_html(browser.get(url).get_data(as_text=True))))

    assert "安全隐患" in options(incidents)
    department = session.scalar(text("SELECT name FROM departments ORDER BY id LIMIT 1"))
    assert department in options(whistles)
    for url in (incidents, whistles):
        response, seen = statements_of(app, browser, url)
        assert response.status_code == 200
        assert [s for s in seen if re.search(r"FROM (incident_categories|departments)\b", s)] == [], url
    session.execute(text("INSERT INTO incident_categories (name, active) VALUES ('井盖缺失', true)"))
    session.execute(text("UPDATE departments SET name = '区城管执法局（新）' WHERE name = :n"), {"n": department})
    session.commit()
    assert "井盖缺失" in options(incidents)
    assert "区城管执法局（新）" in options(whistles) and department not in options(whistles)


def test_every_change_to_categories_departments_or_rules_moves_the_reference_version(session):
    def version():
        return session.scalar(text("SELECT version FROM reference_version"))

    from app.fab.widgets import KEPT_CHOICES

    # every model whose drop-downs are kept, and the pairing a department's visibility reads
    followed = [(model.__table__.name, "id") for model in KEPT_CHOICES] + [("department_communities", "department_id")]
    assert {"incident_categories", "departments", "points_rules"} <= {table for table, _ in followed}
    for table, key in followed:
        before = version()
        session.execute(text(f"UPDATE {table} SET {key} = {key} WHERE {key} < 0"))
        assert version() == before + 1, table
    before = version()
    session.execute(text("UPDATE reward_items SET stock = stock WHERE id < 0"))  # not followed
    assert version() == before
    session.rollback()
    with pytest.raises(Exception, match="reference_version_one_row|reference_version_pkey"):
        session.execute(text("INSERT INTO reference_version (id, version) VALUES (false, 1)"))
    session.rollback()
