"""台账导入 of 一户一档 over HTTP, per role: who may import houses, households and residents, the
exported residents list imported back unchanged, and the sensitive tags a grid worker may neither
set nor see in a preview nor in a template."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from app.models import Resident

from ..services.test_imports import xlsx
from ..services.test_resident_imports import RESIDENT_HEADER, sensitive_resident
from .test_imports import token_of, upload

LISTS = ("housemodelview", "householdmodelview", "residentmodelview")


def residents(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Resident))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("username", ["secretary", "worker"])
def test_the_secretary_and_the_grid_worker_may_import(login, username):
    browser = login(username)
    for view in LISTS:
        assert browser.get(f"/{view}/import/").status_code == 200, view
        assert f"/{view}/import/" in browser.get(f"/{view}/list/").get_data(as_text=True), view
        template = browser.get(f"/{view}/import/template")
        assert template.status_code == 200 and template.data.startswith(b"PK"), view


@pytest.mark.parametrize("username", ["street", "leader", "dispatcher", "department", "volunteer"])
def test_who_may_not_import(login, session, username):
    browser = login(username)
    before = residents(session)
    for view in LISTS:
        assert browser.get(f"/{view}/import/").status_code == 403, view
        assert browser.get(f"/{view}/import/template").status_code == 403, view
    response = upload(browser, xlsx([RESIDENT_HEADER]), page="/residentmodelview/import/")
    assert response.status_code == 403 and residents(session) == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("username", ["secretary", "worker"])
@pytest.mark.parametrize("view", LISTS)
def test_an_exported_list_imports_back_unchanged(login, session, view, username, fmt):
    """台账 round trip: the exported list (the residents' columns are the view's export columns, the
    sensitive tags masked for the grid worker; a household's house as the list prints it) is
    matched row by row and changes nothing."""
    browser = login(username)
    exported = browser.get(f"/{view}/export/{fmt}")
    assert exported.status_code == 200
    lines = len(openpyxl.load_workbook(io.BytesIO(exported.data)).worksheets[0]["A"]) - 1 if fmt == "xlsx" \
        else len(exported.data.decode("utf-8-sig").strip().splitlines()) - 1
    assert lines > 0
    response = upload(browser, exported.data, f"{view}.{fmt}", page=f"/{view}/import/")
    html = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"未变 {lines}" in html and "新增 0" in html and "修改 0" in html and "有错 0" in html, html[:3000]


def test_a_grid_worker_neither_sets_nor_sees_the_sensitive_tags(login, session):
    hidden = sensitive_resident(session)
    worker = login("worker")
    page = "/residentmodelview/import/"
    row = [hidden.name, hidden.id_number, None, None, None, None, None, None, None, None, None]
    html = upload(worker, xlsx([RESIDENT_HEADER, [*row, "残疾人、社区矫正对象"]]), page=page).get_data(as_text=True)
    # refused as an unknown tag: the message lists the tags the worker may set, no hidden one
    assert "第 2 行" in html and "独居老人" in html and "敏感" not in html
    response = upload(worker, xlsx([RESIDENT_HEADER, [*row, "残疾人"]]), page=page)
    html = response.get_data(as_text=True)
    assert "修改 1" in html and "残疾人" in html and "社区矫正对象" not in html
    assert worker.post(page, {"step": "confirm", "token": token_of(response)}).status_code == 302
    session.expire_all()
    assert session.get(Resident, hidden.id).tags == ["disabled", "community_correction"]  # kept, unseen

    def help_text(browser):
        data = browser.get("/residentmodelview/import/template").data
        return " ".join(str(cell.value) for sheet in openpyxl.load_workbook(io.BytesIO(data)).worksheets
                        for row in sheet.iter_rows() for cell in row)

    assert "社区矫正对象" not in help_text(worker) and "残疾人" in help_text(worker)
    assert "社区矫正对象" in help_text(login("secretary"))
