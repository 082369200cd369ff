"""台账导入 over HTTP, per role: the button, the template, the preview naming bad rows, the
confirmation, the kept file bound to its user, refused files and who may not import."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from app.models import Worker

from ..services.import_files import BAD_FILES
from ..services.test_imports import BLOCK, ID2, ID3, JINSHAN, csv_bytes, worker, worker_rows, xlsx

PAGE = "/workermodelview/import/"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def upload(browser, data: bytes, filename="workers.xlsx", page=PAGE):
    return browser.post(page, {"step": "upload", "file": (io.BytesIO(data), filename)},
                        content_type="multipart/form-data")


def token_of(response) -> str | None:
    match = TOKEN_RE.search(response.get_data(as_text=True))
    return match.group(1) if match else None


def workers(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Worker))


def test_the_secretary_previews_corrects_and_imports(login, session):
    secretary = login("secretary")
    listing = secretary.get("/workermodelview/list/").get_data(as_text=True)
    assert PAGE in listing and "从 Excel 导入" in listing
    template = secretary.get("/workermodelview/import/template")
    assert template.status_code == 200 and template.data.startswith(b"PK")
    assert openpyxl.load_workbook(io.BytesIO(template.data)).sheetnames[1] == "填写说明"

    before = workers(session)
    rows = [worker(), worker("王强", "1393920567", ID2), worker("赵敏", "13939205679", ID3)]  # line 3: a bad phone
    response = upload(secretary, xlsx(worker_rows(*rows)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "第 3 行" in html and "11 位" in html
    assert token_of(response) is None and 'id="import-confirm"' not in html
    assert workers(session) == before

    rows[1] = worker("王强", "13939205678", ID2)
    response = upload(secretary, xlsx(worker_rows(*rows)))
    token = token_of(response)
    assert token and "新增 3" in response.get_data(as_text=True)
    done = secretary.post(PAGE, {"step": "confirm", "token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/workermodelview/list/")
    assert workers(session) == before + 3
    again = secretary.post(PAGE, {"step": "confirm", "token": token})  # the kept file is gone
    assert again.status_code == 404 and workers(session) == before + 3
    listing = secretary.get("/workermodelview/list/?_flt_0_name=王强").get_data(as_text=True)
    assert "王强" in listing


def test_reimport_changes_nothing_and_a_change_shows_before_and_after(login, session):
    secretary = login("secretary")
    data = xlsx(worker_rows(worker()))
    secretary.post(PAGE, {"step": "confirm", "token": token_of(upload(secretary, data))})
    html = upload(secretary, data).get_data(as_text=True)
    assert "未变 1" in html and 'id="import-confirm"' not in html
    changed = upload(secretary, xlsx(worker_rows(worker(phone="13939209999"))))
    html = changed.get_data(as_text=True)
    assert "修改 1" in html and "139****1234" in html and "139****9999" in html  # PIPL: masked both sides
    assert "13939201234" not in html and "13939209999" not in html


def test_a_row_outside_her_area_is_bad(login, session):
    secretary = login("secretary")
    before = workers(session)
    html = upload(secretary, xlsx(worker_rows(worker(grid=JINSHAN)))).get_data(as_text=True)
    assert "第 2 行" in html and "管辖" in html
    assert workers(session) == before


def test_english_messages(login):
    secretary = login("secretary", lang="en")
    html = upload(secretary, xlsx([["Name", "Mobile phone", "Grid code", "Start date"],
                                   ["Zhang Li", "123", BLOCK, "2024-03-01"]])).get_data(as_text=True)
    assert "Line 2" in html and "11 digits" in html


def test_another_users_token_is_refused(login, session):
    secretary = login("secretary")
    token = token_of(upload(secretary, xlsx(worker_rows(worker()))))
    assert token
    before = workers(session)
    other = login("street")  # may import workers too, but not this file
    response = other.post(PAGE, {"step": "confirm", "token": token})
    assert response.status_code == 404 and workers(session) == before
    forged = secretary.post(PAGE, {"step": "confirm", "token": "x" * 32})
    assert forged.status_code == 404 and workers(session) == before


@pytest.mark.parametrize("username", ["worker", "volunteer", "leader", "department"])
def test_who_may_not_import(login, session, username):
    browser = login(username)
    assert browser.get(PAGE).status_code == 403
    assert browser.get("/workermodelview/import/template").status_code == 403
    before = workers(session)
    assert upload(browser, xlsx(worker_rows(worker()))).status_code == 403
    assert workers(session) == before
    if username == "worker":
        assert PAGE not in browser.get("/workermodelview/list/").get_data(as_text=True)


def test_the_secretary_may_not_import_departments(login):
    secretary = login("secretary")
    assert secretary.get("/departmentmodelview/import/").status_code == 403
    assert "/departmentmodelview/import/" not in secretary.get("/departmentmodelview/list/").get_data(as_text=True)
    assert login("dispatcher").get("/departmentmodelview/import/").status_code == 200


def test_bad_files_are_refused_with_their_message(login, session):
    secretary = login("secretary")
    before = workers(session)
    for name, (data, filename, words) in BAD_FILES().items():
        response = upload(secretary, data, filename)
        if name == "too large":  # over the app's MAX_CONTENT_LENGTH: the error page says so
            assert response.status_code == 413, name
            assert "超过 4 MB" in response.get_data(as_text=True)
            continue
        html = response.get_data(as_text=True)
        assert response.status_code == 400, name
        assert all(word in html for word in words), (name, words)
    assert upload(secretary, b"x" * (50 * 1024 * 1024), "big.xlsx").status_code == 413
    assert workers(session) == before


def test_the_secretary_imports_grids_under_her_community(login, session):
    secretary = login("secretary")
    data = xlsx([["网格编码", "名称", "层级", "上级网格编码"], [BLOCK + "-09", "9号楼", "楼栋微网格", BLOCK],
                 ["410611002001-09", "金山9号楼", "小区/街区网格", JINSHAN]])
    html = upload(secretary, data, page="/gridmodelview/import/").get_data(as_text=True)
    assert 'data-line="3"' in html and 'data-line="2"' not in html and "管辖" in html


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("view, noun", [("workermodelview", "workers"), ("volunteermodelview", "volunteers")])
def test_an_exported_list_imports_back_unchanged(login, session, view, noun, fmt):
    """台账 round trip: the secretary exports her list, imports the file as it is, and nothing
    changes — every row is matched and none is new, changed or bad."""
    secretary = login("secretary")
    exported = secretary.get(f"/{view}/export/{fmt}")
    assert exported.status_code == 200
    lines = len(openpyxl.load_workbook(io.BytesIO(exported.data)).worksheets[0]["A"]) - 1 if fmt == "xlsx" \
        else len(exported.data.decode("utf-8-sig").strip().splitlines()) - 1
    assert lines > 0
    response = upload(secretary, exported.data, f"{noun}.{fmt}", page=f"/{view}/import/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"未变 {lines}" in html, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))[:3000]
    assert "新增 0" in html and "修改 0" in html and "有错 0" in html


def test_simultaneous_confirmations_apply_the_file_once(app, login, session, monkeypatch):
    """Six confirmations of one token at once (the same browser's cookie): every one finds the kept
    file before any goes on, and exactly one writes the rows; the others get 404."""
    import threading  # noqa: PLC0415

    from app import pending_imports  # noqa: PLC0415

    secretary = login("secretary")
    token = token_of(upload(secretary, xlsx(worker_rows(worker(name="竞态", phone="13939209999", id_number=ID3)))))
    assert token
    csrf = secretary.token(PAGE)
    cookie = secretary.client.get_cookie("session")
    before = workers(session)
    count = 6
    all_found = threading.Barrier(count, timeout=10)
    real_find = pending_imports.find

    def find(*args, **kwargs):
        found = real_find(*args, **kwargs)
        try:
            all_found.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(pending_imports, "find", find)
    statuses = []

    def confirm():
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        statuses.append(client.post(PAGE, data={"step": "confirm", "token": token, "csrf_token": csrf}).status_code)

    threads = [threading.Thread(target=confirm) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [404] * (count - 1)
    assert workers(session) == before + 1


def test_a_confirmation_refused_as_stale_gives_the_file_back(login, session):
    """The records changed after the preview: the confirmation writes nothing, shows the new
    preview, and the same token confirms it (the claimed file was given back)."""
    secretary, meanwhile = login("secretary"), login("secretary")
    first, second = worker(name="先到", phone="13939201111", id_number=""), worker(name="后到", phone="13939202222",
                                                                                 id_number="")
    before = workers(session)
    token = token_of(upload(secretary, xlsx(worker_rows(first, second))))
    meanwhile.post(PAGE, {"step": "confirm", "token": token_of(upload(meanwhile, xlsx(worker_rows(first))))})
    assert workers(session) == before + 1
    stale = secretary.post(PAGE, {"step": "confirm", "token": token})
    assert stale.status_code == 409 and token_of(stale) == token and workers(session) == before + 1
    done = secretary.post(PAGE, {"step": "confirm", "token": token})
    assert done.status_code == 302 and workers(session) == before + 2


def test_a_guarded_formula_imports_back_unchanged(login, session):
    """A worker named =1+1 (the CSV export writes '=1+1): the same file, and the exported CSV (with
    this year's training hours, which the import leaves aside), import back unchanged."""
    secretary = login("secretary")
    data = csv_bytes(worker_rows(worker(name="=1+1", phone="13939207777", id_number="")))
    assert secretary.post(PAGE, {"step": "confirm", "token": token_of(upload(secretary, data, "w.csv"))}).status_code \
        == 302
    assert "未变 1" in upload(secretary, data, "w.csv").get_data(as_text=True)
    exported = secretary.get("/workermodelview/export/csv")
    assert "'=1+1" in exported.data.decode("utf-8-sig")
    html = upload(secretary, exported.data, "workers.csv").get_data(as_text=True)
    assert "新增 0" in html and "修改 0" in html and "有错 0" in html, re.sub(r"<[^>]+>", " ", html)[:3000]


def test_opening_the_import_page_removes_expired_files(app, login):
    import os  # noqa: PLC0415
    import time  # noqa: PLC0415

    from app import pending_imports  # noqa: PLC0415

    secretary = login("secretary")
    token = token_of(upload(secretary, xlsx(worker_rows(worker(name="过期", phone="13939203333", id_number="")))))
    folder = os.path.join(app.config["INSTANCE_DIR"], "imports")
    kept = [os.path.join(folder, name) for name in os.listdir(folder) if name.startswith(token)]
    assert len(kept) == 2
    old = time.time() - pending_imports.PENDING_SECONDS - 60
    for path in kept:
        os.utime(path, (old, old))
    assert secretary.get(PAGE).status_code == 200
    assert not any(os.path.exists(path) for path in kept)
