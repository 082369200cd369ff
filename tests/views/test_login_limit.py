"""The login limit holds across processes and restarts (failed logins counted in PostgreSQL:
login_failures, migration 0019) and locks out an account, not an office: 5 failures of one name
lock it, failures from one address count against the address only loosely, and a successful
login counts nothing."""
from __future__ import annotations

import logging
import threading

from sqlalchemy import text

from tests.conftest import DEMO_PASSWORD, csrf_token

PAUSED_ZH = "登录失败次数过多"
PAUSED_EN = "Too many failed logins"


def form_of(client):
    return csrf_token(client.get("/login/").get_data(as_text=True))


def attempt(client, username, password, token=None):
    """A login (a refusal is flashed on the login page it redirects to)."""
    return client.post("/login/", data={"username": username, "password": password,
                                        "csrf_token": token or form_of(client)})


def signed_in(response) -> bool:
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def flashed(client) -> str:
    """The login page with the messages flashed since it was last shown."""
    return client.get("/login/").get_data(as_text=True)


def failures(session, kind, key) -> int:
    session.rollback()
    return session.scalar(text("SELECT failures FROM login_failures WHERE kind = :k AND key = :key"),
                          {"k": kind, "key": key}) or 0


def count_password_checks(monkeypatch) -> list:
    """Every password FAB's login compares (its ab_user.fail_login_count loses concurrent
    updates: it adds one in Python)."""
    import flask_appbuilder.security.manager as fab

    seen, compare = [], fab.check_password_hash

    def counted(*args, **kwargs):
        seen.append(1)
        return compare(*args, **kwargs)

    monkeypatch.setattr(fab, "check_password_hash", counted)
    return seen


def test_five_failures_lock_the_account_and_its_right_password(app, session, caplog, monkeypatch):
    checks = count_password_checks(monkeypatch)
    client = app.test_client()
    caplog.set_level(logging.INFO)
    for _ in range(5):
        assert not signed_in(attempt(client, "secretary", "Wrong@Pass2026"))
    refused = attempt(client, "secretary", DEMO_PASSWORD)
    assert not signed_in(refused)
    assert PAUSED_ZH in flashed(client)
    assert len(checks) == 5 and failures(session, "account", "secretary") == 6
    # the same name typed otherwise, or the account's e-mail, is the same account
    email = session.scalar(text("SELECT email FROM ab_user WHERE username = 'secretary'"))
    assert not signed_in(attempt(client, " SECRETARY", DEMO_PASSWORD))
    assert not signed_in(attempt(client, email, DEMO_PASSWORD))
    # the lockout is logged once, with the name and never the password
    lockouts = [r.getMessage() for r in caplog.records if "login locked" in r.getMessage()]
    assert len(lockouts) == 1 and "secretary" in lockouts[0]
    assert not any("Wrong@Pass2026" in r.getMessage() or DEMO_PASSWORD in r.getMessage() for r in caplog.records)
    # another account from the same address still signs in
    assert signed_in(attempt(app.test_client(), "secretary2", DEMO_PASSWORD))
    # when the lock has run out the right password works, and forgives the failures
    session.execute(text("UPDATE login_failures SET locked_until = now() - interval '1 second'"))
    session.commit()
    assert signed_in(attempt(client, "secretary", DEMO_PASSWORD))
    assert failures(session, "account", "secretary") == 0


def test_an_unknown_name_is_refused_in_the_same_words_and_in_the_users_language(app):
    known, unknown, english = app.test_client(), app.test_client(), app.test_client()
    english.get("/lang/en")
    for client, name in ((known, "secretary"), (unknown, "nobody-here"), (english, "worker")):
        for _ in range(6):
            attempt(client, name, "Wrong@Pass2026")

    def message(client, words):
        html = flashed(client)
        start = html.index(words)
        return html[start:html.index("<", start)]

    said = message(known, PAUSED_ZH)
    assert said == message(unknown, PAUSED_ZH) and "15 分钟" in said
    assert "15 minutes" in message(english, PAUSED_EN)


def test_concurrent_wrong_logins_are_each_counted_and_lock_at_the_limit_exactly(app, session, monkeypatch):
    checks = count_password_checks(monkeypatch)
    clients = [app.test_client() for _ in range(20)]
    tokens = [form_of(client) for client in clients]
    start = threading.Barrier(len(clients))
    answers = []

    def run(client, token):
        start.wait()
        answers.append(attempt(client, "secretary", "Wrong@Pass2026", token))

    threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 20 and not any(signed_in(answer) for answer in answers)
    assert failures(session, "account", "secretary") == 20
    assert len(checks) == 5  # five passwords compared, fifteen refused unread
    assert not signed_in(attempt(app.test_client(), "secretary", DEMO_PASSWORD))


def test_the_address_limit_counts_failures_only_and_holds_under_concurrency(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "GRIDGOV_LOGIN_ADDRESS_FAILURES", 5)
    checks = count_password_checks(monkeypatch)
    # successful logins from the address count nothing
    for _ in range(8):
        assert signed_in(attempt(app.test_client(), "volunteer", DEMO_PASSWORD))
    del checks[:]
    names = ["dispatcher", "street", "secretary", "secretary2", "worker", "department", "leader"]
    pairs = [(app.test_client(), name) for name in names * 2]
    tokens = [form_of(client) for client, _ in pairs]
    start = threading.Barrier(len(pairs))

    def run(client, name, token):
        start.wait()
        attempt(client, name, "Wrong@Pass2026", token)

    threads = [threading.Thread(target=run, args=(*pair, token)) for pair, token in zip(pairs, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures(session, "address", "127.0.0.1") == 14
    assert len(checks) == 5
    client = app.test_client()
    assert not signed_in(attempt(client, "volunteer", DEMO_PASSWORD))
    assert PAUSED_ZH in flashed(client)


def test_the_per_process_limiter_does_not_lock_out_an_office(app, monkeypatch):
    """Thirty failed logins from one address (an office behind one NAT): nobody else is refused."""
    for number in range(30):
        assert attempt(app.test_client(), f"typo{number}", "Wrong@Pass2026").status_code == 302
    assert signed_in(attempt(app.test_client(), "secretary", DEMO_PASSWORD))
    sm = app.appbuilder.sm
    with app.app_context():
        assert not sm.is_auth_limited
        monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", "redis://limits.intranet:6379")
        assert sm.is_auth_limited


def test_rows_past_their_window_are_pruned(app, session):
    session.execute(text("""INSERT INTO login_failures (kind, key, failures, window_start, stale_after)
                            VALUES ('account', 'old', 3, now() - interval '1 hour', now() - interval '45 minutes')"""))
    session.commit()
    attempt(app.test_client(), "secretary", DEMO_PASSWORD)
    assert session.scalar(text("SELECT count(*) FROM login_failures WHERE key = 'old'")) == 0
