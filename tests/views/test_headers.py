"""Security headers on every answer: no page in a frame, no sniffing, no referrer to other
sites, and a Content-Security-Policy whose scripts are the app's files and this request's nonce."""
from __future__ import annotations

import re

from .helpers import XIANGJIANG, worker_in

NONCE_RE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'")


def assert_secured(response, url):
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    policy = headers.get("Content-Security-Policy", "")
    for part in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'",
                 "form-action 'self'", "img-src 'self' data: blob:"):
        assert part in policy, (url, part)
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src, url
    return policy


def test_every_kind_of_answer_carries_the_headers(login, session, client):
    browser = login("secretary")
    worker = worker_in(session, XIANGJIANG)
    for url, status in (("/workermodelview/list/", 200), (f"/workermodelview/show/{worker.id}", 200),
                        ("/workermodelview/add", 200), ("/incidentmodelview/report", 200),
                        ("/static/gridgov/gridgov.css", 200), ("/static/appbuilder/js/ab.js", 200),
                        ("/api/v1/grids/", 200), ("/no/such/page", 404), ("/workermodelview/show/999999", 404)):
        response = browser.get(url)
        assert response.status_code == status, url
        assert_secured(response, url)
    login_page = client.get("/login/")
    assert_secured(login_page, "/login/")


def test_inline_scripts_carry_this_requests_nonce(login, session):
    browser = login("secretary")
    nonces = []
    for _ in range(2):
        response = browser.get("/workermodelview/list/")
        html = response.get_data(as_text=True)
        nonce = NONCE_RE.search(response.headers["Content-Security-Policy"]).group(1)
        scripts = re.findall(r"<script\b[^>]*>", html)
        inline = [tag for tag in scripts if "src=" not in tag]
        assert inline, "the list page has inline scripts"
        assert all(f'nonce="{nonce}"' in tag for tag in inline), [t for t in inline if nonce not in t]
        assert "gridgov-csp-nonce" not in html
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_pages_have_no_inline_event_handlers_or_javascript_urls(login, session):
    browser = login("secretary")
    worker = worker_in(session, XIANGJIANG)
    for url in ("/", "/workermodelview/list/", f"/workermodelview/show/{worker.id}", "/workermodelview/add",
                "/incidentmodelview/report", "/incidentmodelview/list/", "/gridmodelview/tree/"):
        html = browser.get(url).get_data(as_text=True)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
        assert "javascript:" not in html, url


def test_the_page_frame_is_kept_once_per_language_whatever_the_nonce(login):
    from app.fab.templating import _PAGE_FRAME

    browser = login("secretary")
    browser.get("/workermodelview/list/")
    kept = len(_PAGE_FRAME)
    for _ in range(3):
        browser.get("/workermodelview/list/")
    assert len(_PAGE_FRAME) == kept
