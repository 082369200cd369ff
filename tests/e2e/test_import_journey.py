"""台账导入 in a real browser: the secretary, on her phone, downloads the workers template, fills three
rows (one with a bad phone), sees the preview name the bad row, corrects it, imports, and finds the
three workers in her list."""
from __future__ import annotations

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import Worker

from .test_journeys import submit

BLOCK = "410611001001-01"  # a block of her community
ROWS = [  # name, phone, ID number (check digit right)
    ("导入测试甲", "13939201234", "410611199003152341"),
    ("导入测试乙", "1393920567", "410611198507211021"),  # one digit short
    ("导入测试丙", "13939205679", "410611197811095614"),
]


def filled(template_path, rows, path):
    """The downloaded template with its example row replaced by ``rows``."""
    workbook = openpyxl.load_workbook(template_path)
    sheet = workbook.worksheets[0]
    header = [str(cell.value).rstrip("*") for cell in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for row, (name, phone, id_number) in enumerate(rows, start=2):
        values = {"姓名": name, "手机号": phone, "身份证号": id_number, "角色": "网格员", "网格编码": BLOCK,
                  "用工类型": "兼职", "党员": "否", "入职日期": "2025-09-01", "本年度培训学时": 12}
        for column, title in enumerate(header, start=1):
            sheet.cell(row=row, column=column, value=values.get(title))
    workbook.save(path)
    return path


def imported(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Worker).where(Worker.name.like("导入测试%")))


def test_the_secretary_imports_workers_from_the_template_on_her_phone(journey, session, tmp_path):
    secretary = journey.user(phone=True).login("secretary")
    page = secretary.page
    page.goto("/workermodelview/list/")
    with page.expect_navigation():
        page.locator(".gridgov-import-button a").click()
    secretary.assert_labelled()
    secretary.assert_fits()
    with page.expect_download() as download:
        page.locator("#import-template").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    page.set_input_files("#import-file", str(filled(template, ROWS, tmp_path / "workers.xlsx")))
    submit(page, page.locator("#import-upload button[type=submit]"))
    bad = page.locator("#import-bad-rows li")
    expect(bad).to_have_count(1)
    expect(bad.first).to_contain_text("第 3 行")
    expect(bad.first).to_contain_text("手机号")
    expect(page.locator("#import-confirm")).to_have_count(0)
    secretary.assert_fits()
    secretary.screenshot("7-import-bad-row-phone")
    assert imported(session) == 0

    fixed = [ROWS[0], (ROWS[1][0], "13939205678", ROWS[1][2]), ROWS[2]]
    page.set_input_files("#import-file", str(filled(template, fixed, tmp_path / "workers-fixed.xlsx")))
    submit(page, page.locator("#import-upload button[type=submit]"))
    expect(page.locator("#import-counts")).to_contain_text("新增 3")
    secretary.assert_fits()
    submit(page, page.locator("#import-confirm"))
    expect(page.locator(".alert-success")).to_contain_text("新增 3 条")
    assert imported(session) == 3

    page.goto("/workermodelview/list/?_flt_0_name=导入测试")
    for name, _phone, _id in ROWS:
        expect(page.locator("table.gridgov-list")).to_contain_text(name)
    secretary.assert_fits()
    secretary.screenshot("7-imported-workers-phone")

    # …and in the audit trail: three new workers, recorded as hers
    page.goto("/auditentrymodelview/list/?_flt_0_table_name=workers")
    rows = page.locator("table.gridgov-list tbody tr")
    expect(rows.first).to_be_visible()
    shown = page.locator("table.gridgov-list").inner_text()
    assert shown.count("新增") >= 3 and "湘江书记" in shown
    secretary.assert_fits()
    secretary.screenshot("7-imported-workers-audit-phone")
