"""Sessions end on logout, on a password change and on a deactivation, in every session of the
user and every process (ab_user.session_version, migration 0019); changing one's own password
asks for the current one."""
from __future__ import annotations

from sqlalchemy import text

from tests.conftest import DEMO_PASSWORD, Browser

PAGE = "/workermodelview/list/"
NEW_PASSWORD = "New@Pass2026x"


def signed_out(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def copy_of(app, browser):
    """Another client holding the browser's session cookie, as a cookie jar saved aside would."""
    copy = app.test_client()
    copy.set_cookie("session", browser.client.get_cookie("session").value)
    return copy


def password_hash(session, username="secretary"):
    return session.scalar(text("SELECT password FROM ab_user WHERE username = :u"), {"u": username})


def test_a_cookie_saved_before_logout_opens_nothing_after_it(login, app):
    browser = login("secretary")
    saved = copy_of(app, browser)
    assert saved.get(PAGE).status_code == 200
    assert browser.get("/logout/").status_code == 302
    assert signed_out(saved.get(PAGE))
    assert signed_out(browser.get(PAGE))
    # signing in again starts a session that works
    assert login("secretary").get(PAGE).status_code == 200


def test_a_password_change_ends_the_users_other_sessions(login, app, session):
    changing, other = login("secretary"), login("secretary")
    elsewhere = login("secretary2")
    assert other.get(PAGE).status_code == 200
    response = changing.post("/resetmypassword/form", {
        "current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_out(other.get(PAGE))
    # who changed it stays signed in; another user's session is untouched
    assert changing.get(PAGE).status_code == 200
    assert elsewhere.get(PAGE).status_code == 200
    assert signed_out(Browser(app.test_client()).login("secretary", DEMO_PASSWORD))
    assert login("secretary", NEW_PASSWORD).get(PAGE).status_code == 200


def test_an_administrators_reset_ends_the_users_sessions(login, session):
    user, admin = login("secretary"), login("admin")
    pk = session.scalar(text("SELECT id FROM ab_user WHERE username = 'secretary'"))
    response = admin.post(f"/resetpassword/form?pk={pk}", {"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_out(user.get(PAGE))
    assert admin.get("/users/list/").status_code == 200
    assert login("secretary", NEW_PASSWORD).get(PAGE).status_code == 200


def test_a_deactivated_users_sessions_stay_ended_when_reactivated(login, session):
    """The trigger ends the sessions whoever deactivates the account (here a plain connection,
    as psql or another process would)."""
    browser = login("worker")
    before = session.scalar(text("SELECT session_version FROM ab_user WHERE username = 'worker'"))
    session.execute(text("UPDATE ab_user SET active = false WHERE username = 'worker'"))
    session.commit()
    assert signed_out(browser.get(PAGE))
    session.execute(text("UPDATE ab_user SET active = true WHERE username = 'worker'"))
    session.commit()
    assert signed_out(browser.get(PAGE))
    assert session.scalar(text("SELECT session_version FROM ab_user WHERE username = 'worker'")) == before + 1
    # an edit that neither deactivates nor changes the password keeps the sessions
    fresh = login("worker")
    session.execute(text("UPDATE ab_user SET last_name = last_name || '新' WHERE username = 'worker'"))
    session.commit()
    assert fresh.get(PAGE).status_code == 200


def test_changing_ones_password_needs_the_current_one(login, app, session):
    browser = login("secretary")
    stored, stored2 = password_hash(session), password_hash(session, "secretary2")
    missing = browser.post("/resetmypassword/form", {"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    wrong = browser.post("/resetmypassword/form", {
        "current_password": "Wrong@Pass2026", "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert missing.status_code == 200 and wrong.status_code == 200  # the form again, nothing changed
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    english = login("secretary2", lang="en").post("/resetmypassword/form", {
        "current_password": "Wrong@Pass2026", "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert "The current password is wrong." in english.get_data(as_text=True)
    session.expire_all()
    assert password_hash(session) == stored and password_hash(session, "secretary2") == stored2
    assert browser.get(PAGE).status_code == 200
    assert login("secretary", DEMO_PASSWORD).get(PAGE).status_code == 200

    right = browser.post("/resetmypassword/form", {
        "current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert right.status_code == 302
    session.expire_all()
    assert password_hash(session) != stored
    assert login("secretary", NEW_PASSWORD).get(PAGE).status_code == 200


def test_the_change_password_form_is_behind_the_login_limit(login, session):
    """Found by the attack on the fixes: eight wrong current passwords locked nothing, so an open
    session could guess its user's password without limit."""
    browser = login("secretary")
    stored = password_hash(session)
    for _ in range(5):
        browser.post("/resetmypassword/form", {
            "current_password": "Wrong@Pass2026", "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    html = browser.post("/resetmypassword/form", {
        "current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}).get_data(as_text=True)
    assert "登录失败次数过多" in html  # even the right one, while the account is locked
    fresh = Browser(browser.client.application.test_client())
    fresh.login("secretary", DEMO_PASSWORD)
    assert fresh.get(PAGE).status_code != 200  # the login form refuses it too, for now
    session.expire_all()
    assert password_hash(session) == stored
