"""台账导入 in the service: every kind's new, unchanged and changed rows, each bad row with its line
and message, each refused file, the encodings, and all or nothing."""
from __future__ import annotations

import codecs
import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.models import Department, Grid, ServiceRecord, Volunteer, Worker
from app.services import imports
from app.services.errors import DomainError
from app.services.personal_data import resident_id_check_char
from app.services.scope import EVERYTHING, grid_scope
from app.services.spreadsheet_reader import BadFile, read_table

XIANGJIANG = "410611001001"  # 湘江社区: the secretary's community
JINSHAN = "410611002001"  # 金山社区: another street's
BLOCK = XIANGJIANG + "-01"
WORKER_HEADER = ["姓名", "手机号", "身份证号", "角色", "网格编码", "用工类型", "党员", "入职日期", "所属部门或单位"]


def resident_id(seventeen: str) -> str:
    return seventeen + resident_id_check_char(seventeen)


ID1, ID2, ID3 = resident_id("41061119900315234"), resident_id("41061119850721102"), resident_id("41061119781109561")


@pytest.fixture
def zh(app):
    with app.test_request_context(), force_locale("zh"):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context(), force_locale("en"):
        yield


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def worker_rows(*rows):
    return [WORKER_HEADER, *rows]


def worker(name="张丽", phone="13939201234", id_number=ID1, role="网格员", grid=BLOCK, employment="专职",
           party="是", start="2024-03-02", department=""):
    return [name, phone, id_number, role, grid, employment, party, start, department]


def secretary(session):
    return grid_scope(session, session.scalar(select(Grid.id).where(Grid.code == XIANGJIANG)))


def messages(preview) -> dict:
    return {row.line: "；".join(str(m) for m in row.messages) for row in preview.of(imports.BAD)}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def run(session, scope, kind, data, filename="x.xlsx"):
    first = imports.preview(session, scope, kind, data, filename)
    session.rollback()
    done = imports.apply(session, scope, kind, data, filename, first.digest)
    return first, done


# --- each kind: new, unchanged on re-import, changed ------------------------------------------------
def test_workers_new_then_unchanged_then_changed(session, zh):
    data = xlsx(worker_rows(worker(), worker("王强", "13939205678", ID2, party="否")))
    before = count(session, Worker)
    first, done = run(session, secretary(session), "workers", data)
    assert first.counts == {"new": 2, "changed": 0, "unchanged": 0, "bad": 0} and done.applied
    assert count(session, Worker) == before + 2
    stored = session.scalar(select(Worker).where(Worker.id_number == ID1))
    assert (stored.name, stored.phone, stored.role, stored.party_member, stored.start_date) == (
        "张丽", "13939201234", "grid_worker", True, datetime.date(2024, 3, 2))

    again = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 2, "bad": 0} and not again.can_apply
    session.rollback()

    changed = xlsx(worker_rows(worker(phone="13939209999", role="网格长"), worker("王强", "13939205678", ID2, party="否")))
    first, done = run(session, secretary(session), "workers", changed)
    assert first.counts["changed"] == 1 and first.counts["unchanged"] == 1
    row = first.of(imports.CHANGED)[0]
    assert row.line == 2
    shown = {str(label): (b, a) for _attr, _b, _a, label, b, a in row.changes}
    assert shown == {"手机号": ("139****1234", "139****9999"), "角色": ("网格员", "网格长")}  # PIPL: masked
    session.expire_all()
    stored = session.scalar(select(Worker).where(Worker.id_number == ID1))
    assert (stored.phone, stored.role) == ("13939209999", "grid_leader")
    assert count(session, Worker) == before + 2


def test_a_change_of_personal_data_is_shown_masked(session, zh):
    """PIPL: the preview's before → after of a phone, an ID number, an address or a mobile contact
    phone shows them masked, both sides."""
    scope = secretary(session)
    run(session, scope, "workers", xlsx(worker_rows(worker(id_number=""))))
    changed = imports.preview(session, scope, "workers", xlsx(worker_rows(worker(phone="13939201234", id_number=ID2))),
                              "x.xlsx")
    (row,) = changed.of(imports.CHANGED)
    shown = {str(label): (before, after) for _, _, _, label, before, after in row.changes}
    assert shown["身份证号"] == ("", ID2[:6] + "********" + ID2[-4:])
    for change in row.changes:
        assert ID2 not in change[4:]
    for attr, before, after in (("phone", "13939201234", "13911112222"), ("contact_phone", "13911112222", "0392-3312345"),
                                ("address", "淇滨区九州路12号3单元401", "淇滨区九州路12号3单元402")):
        masked = (imports._masked(attr, before), imports._masked(attr, after))
        assert before not in masked and (after not in masked or attr == "contact_phone"), (attr, masked)
    assert imports._masked("contact_phone", "0392-3312345") == "0392-3312345"  # an office's landline


def test_a_worker_without_id_number_is_matched_by_phone(session, zh):
    data = xlsx(worker_rows(worker(id_number=None)))
    run(session, secretary(session), "workers", data)
    with_id = xlsx(worker_rows(worker(id_number=ID3)))
    preview = imports.preview(session, secretary(session), "workers", with_id, "x.xlsx")
    assert preview.counts["changed"] == 1


def test_grids_new_with_parent_in_file_then_unchanged_then_changed(session, zh):
    header = ["网格编码", "名称", "层级", "网格类型", "上级网格编码", "户数", "人口"]
    data = xlsx([header,
                 [BLOCK + "-09", "滨河花园9号楼", "楼栋微网格", "综合网格", XIANGJIANG + "-09", 80, 240],
                 [XIANGJIANG + "-09", "滨河花园", "小区/街区网格", "", XIANGJIANG, 320, 960]])
    first, done = run(session, secretary(session), "grids", data)
    assert first.counts == {"new": 2, "changed": 0, "unchanged": 0, "bad": 0}, messages(first)
    assert done.applied
    child = session.scalar(select(Grid).where(Grid.code == BLOCK + "-09"))
    parent = session.scalar(select(Grid).where(Grid.code == XIANGJIANG + "-09"))
    assert child.parent_id == parent.id and str(child.path).startswith(str(parent.path) + ".")
    assert imports.preview(session, secretary(session), "grids", data, "x.xlsx").counts["unchanged"] == 2
    session.rollback()
    renamed = xlsx([header, [XIANGJIANG + "-09", "滨河花园小区", "小区/街区网格", "", XIANGJIANG, 330, 960]])
    first, done = run(session, secretary(session), "grids", renamed)
    assert [(str(c[3]), c[4], c[5]) for c in first.of(imports.CHANGED)[0].changes] == [
        ("名称", "滨河花园", "滨河花园小区"), ("户数", "320", "330")]
    session.expire_all()
    assert session.get(Grid, parent.id).name == "滨河花园小区"


def test_departments_with_communities(session, zh):
    header = ["名称", "类型", "联系人", "联系电话", "结对社区"]
    data = xlsx([header, ["淇滨区住房和城乡建设局", "职能部门", "王建国", "0392-3312345", f"{XIANGJIANG}、{JINSHAN}"]])
    first, done = run(session, EVERYTHING, "departments", data)
    assert first.counts["new"] == 1 and done.applied
    stored = session.scalar(select(Department).where(Department.name == "淇滨区住房和城乡建设局"))
    assert sorted(g.code for g in stored.communities) == [XIANGJIANG, JINSHAN]
    assert imports.preview(session, EVERYTHING, "departments", data).counts["unchanged"] == 1
    session.rollback()
    fewer = xlsx([header, ["淇滨区住房和城乡建设局", "职能部门", "王建国", "0392-3312345", XIANGJIANG]])
    first, done = run(session, EVERYTHING, "departments", fewer)
    assert [(c[4], c[5]) for c in first.of(imports.CHANGED)[0].changes] == [(f"{XIANGJIANG}、{JINSHAN}", XIANGJIANG)]
    session.expire_all()
    assert [g.code for g in session.get(Department, stored.id).communities] == [XIANGJIANG]


def test_volunteers_and_their_service_records(session, zh):
    volunteers = xlsx([["姓名", "手机号", "身份证号", "志愿者类型", "所属社区编码", "特长"],
                       ["李文华", "13803921234", ID2, "居民", XIANGJIANG, "理发"]])
    first, done = run(session, secretary(session), "volunteers", volunteers)
    assert first.counts["new"] == 1 and done.applied
    assert imports.preview(session, secretary(session), "volunteers", volunteers).counts["unchanged"] == 1
    session.rollback()
    moved = xlsx([["姓名", "手机号", "身份证号", "志愿者类型", "所属社区编码", "特长"],
                  ["李文华", "13803921234", ID2, "居民", XIANGJIANG, "理发、修家电"],
                  ["周敏", "13803925678", None, "居民", JINSHAN, ""]])
    preview = imports.preview(session, secretary(session), "volunteers", moved)
    assert [(str(c[3]), c[5]) for c in preview.of(imports.CHANGED)[0].changes] == [("特长", "理发、修家电")]
    assert "管辖" in messages(preview)[3]  # another street's community: outside her area
    session.rollback()
    header = ["志愿者身份证号", "志愿者手机号", "志愿者", "日期", "时长（小时）", "服务内容", "服务类型"]
    records = xlsx([header, [ID2, "", "李文华", datetime.date(2025, 5, 10), 2, "清理楼道", "清洁家园"],
                    ["", "13803921234", "李文华", "2025/5/11", "1.5", "陪老人聊天", ""]])
    first, done = run(session, secretary(session), "service_records", records)
    assert first.counts == {"new": 2, "changed": 0, "unchanged": 0, "bad": 0}, messages(first)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.id_number == ID2))
    stored = session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer.id)
                             .order_by(ServiceRecord.date)).all()
    assert [(r.date, r.hours, r.rule.name if r.rule else None) for r in stored] == [
        (datetime.date(2025, 5, 10), Decimal("2.0"), "清洁家园"), (datetime.date(2025, 5, 11), Decimal("1.5"), None)]
    from app.services.points import awarded_record_ids
    assert awarded_record_ids(session, [r.id for r in stored]) == set()  # they wait for the award
    assert imports.preview(session, secretary(session), "service_records", records).counts["unchanged"] == 2
    session.rollback()
    longer = xlsx([header, [ID2, "", "李文华", datetime.date(2025, 5, 10), 3, "清理楼道", "清洁家园"]])
    first, done = run(session, secretary(session), "service_records", longer)
    assert [(c[4], c[5]) for c in first.of(imports.CHANGED)[0].changes] == [("2", "3")]
    session.expire_all()
    assert session.get(ServiceRecord, stored[0].id).hours == 3


# --- bad rows ----------------------------------------------------------------------------------------
def test_bad_worker_rows_are_named_by_line(session, zh):
    data = xlsx(worker_rows(
        worker(phone="1393920123", id_number=None),                   # 2: bad phone
        worker("王强", "13939205678", ID2[:-1] + ("0" if ID2[-1] != "0" else "1")),  # 3: bad check digit
        worker("赵敏", "13939205679", ID3, grid="NOPE-1"),              # 4: unknown grid
        worker("钱进", "13939205680", None, grid=JINSHAN),              # 5: outside her area
        worker("孙悦", "13939205681", ID1),                             # 6: valid
        worker("周正", "13939205682", ID1),                             # 7: the same ID as line 6
        worker("吴刚", "13939205683", None, role="队长"),               # 8: no such role
        worker("郑和", "13939205684", None, start="明年"),              # 9: not a date
    ))
    preview = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    bad = messages(preview)
    assert sorted(bad) == [2, 3, 4, 5, 7, 8, 9], bad
    assert "11 位" in bad[2] and "身份证" in bad[3] and "NOPE-1" in bad[4]
    assert "管辖" in bad[5] and "第 6 行" in bad[7] and "角色" in bad[8] and "日期" in bad[9]
    assert preview.counts["new"] == 1 and not preview.can_apply
    before = count(session, Worker)
    session.rollback()
    assert not imports.apply(session, secretary(session), "workers", data, "x.xlsx", preview.digest).applied
    assert count(session, Worker) == before


def test_bad_rows_in_english(session, en):
    data = xlsx([["Name", "Mobile phone", "Grid code", "Start date"], ["Zhang Li", "123", BLOCK, "2024-03-01"]])
    preview = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    assert "11 digits" in messages(preview)[2]


def test_a_grid_outside_her_area_reads_as_an_unknown_code(session, zh):
    """No existence leak: a grid code of another street's grid and a code no grid has get the same
    message, as a worker's grid and as a new grid's parent."""
    scope, unknown = secretary(session), "410611999999"
    rows = worker_rows(worker(grid=JINSHAN), worker(name="王强", phone="13939205678", id_number=ID2, grid=unknown))
    found = messages(imports.preview(session, scope, "workers", xlsx(rows), "x.xlsx"))
    assert found[2].replace(JINSHAN, "X") == found[3].replace(unknown, "X") and "管辖范围内没有" in found[2], found
    grids = xlsx([["网格编码", "名称", "层级", "上级网格编码"], [BLOCK + "-07", "7号楼", "楼栋微网格", JINSHAN],
                  [BLOCK + "-06", "6号楼", "楼栋微网格", unknown]])
    found = messages(imports.preview(session, scope, "grids", grids, "x.xlsx"))
    assert found[2].replace(JINSHAN, "X") == found[3].replace(unknown, "X"), found


def test_grid_level_order_and_unknown_parent(session, zh):
    header = ["网格编码", "名称", "层级", "上级网格编码"]
    data = xlsx([header, ["T-1", "错层", "社区/村", BLOCK], ["T-2", "无上级", "小区/街区网格", "NOPE"],
                 ["T-3", "楼", "楼栋微网格", "T-4"], ["T-4", "楼下", "楼栋微网格", XIANGJIANG]])
    bad = messages(imports.preview(session, secretary(session), "grids", data))
    assert "上级网格" in bad[2] and "NOPE" in bad[3] and "上级网格" in bad[4] and 5 not in bad


def test_a_service_record_of_an_unknown_volunteer_is_bad(session, zh):
    data = xlsx([["志愿者手机号", "日期", "时长（小时）", "服务内容"], ["13800000000", "2025-05-10", 2, "清理楼道"],
                 ["", "2025-05-10", 2, "清理楼道"]])
    bad = messages(imports.preview(session, secretary(session), "service_records", data))
    assert "志愿者" in bad[2] and "志愿者" in bad[3]


# --- bad files -----------------------------------------------------------------------------------------
def refusal(session, data, filename="x.xlsx", kind="workers") -> str:
    with pytest.raises(BadFile) as info:
        imports.preview(session, secretary(session), kind, data, filename)
    return str(info.value)


def test_refused_files(session, zh):
    from .import_files import BAD_FILES

    before = count(session, Worker)
    for name, (data, filename, words) in BAD_FILES().items():
        message = refusal(session, data, filename)
        assert all(word in message for word in words), (name, message)
    assert count(session, Worker) == before


def test_a_declared_dimension_is_not_trusted(session, zh):
    """A sheet declaring A1:XFD1048576 over rows 999 apart is read at once (openpyxl would pad every
    row, the gaps too, to 16,384 columns); a stale dimension loses neither rows nor columns."""
    import time  # noqa: PLC0415

    from .import_files import declared

    rows = [WORKER_HEADER]
    for number in range(60):
        rows += [[None]] * 998 + [worker(name=f"测试{number}", phone=f"139392{number:05d}", id_number="")]
    data = declared(xlsx(rows), "A1:XFD1048576")
    started = time.monotonic()
    assert len(read_table(data, "x.xlsx").rows) == 60
    # a guard against the two-minute hang, not a speed figure (a loaded machine takes ~1 s)
    assert time.monotonic() - started < 15
    preview = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    assert preview.counts["new"] == 60, messages(preview)
    assert max(row.line for row in preview.rows) == 1 + 59 * 999 + 999

    five = worker_rows(*(worker(name=f"人{n}", phone=f"1393920000{n}", id_number="") for n in range(5)))
    preview = imports.preview(session, secretary(session), "workers", declared(xlsx(five), "A1:H2"), "x.xlsx")
    assert preview.counts["new"] == 5, messages(preview)
    # the ninth column (所属部门或单位) beyond a declared A1:H2 is read
    preview = imports.preview(session, secretary(session), "workers",
                              declared(xlsx(worker_rows(worker(department="无此单位"))), "A1:H2"), "x.xlsx")
    assert "无此单位" in messages(preview)[2]


def test_rows_after_a_long_run_of_empty_rows_are_read(session, zh):
    rows = worker_rows(worker()) + [[None]] * 1500 + [worker(name="王强", phone="13939205678", id_number=ID2)]
    for data, filename in ((xlsx(rows), "x.xlsx"), (csv_bytes([r if r != [None] else [] for r in rows]), "x.csv")):
        preview = imports.preview(session, secretary(session), "workers", data, filename)
        assert preview.counts["new"] == 2, (filename, messages(preview))


def test_decimals_are_rounded_as_the_column_stores_them(session, zh):
    """Half away from zero, to the Numeric column's scale, as PostgreSQL rounds: a re-import is unchanged."""
    columns = {column.name: column for kind in ("service_records", "grids") for column in imports.KINDS[kind].columns}
    assert imports.parse_cell(columns["hours"], "10.25") == Decimal("10.3")
    assert imports.parse_cell(columns["hours"], 10.35) == Decimal("10.4")
    assert imports.parse_cell(columns["area_km2"], "0.12345") == Decimal("0.123")
    assert imports.parse_cell(columns["area_km2"], "0.0125") == Decimal("0.013")
    scope = secretary(session)
    data = xlsx([["网格编码", "名称", "层级", "上级网格编码", "面积（平方公里）"],
                 [BLOCK + "-08", "8号楼", "楼栋微网格", BLOCK, "0.12345"]])
    first, done = run(session, scope, "grids", data)
    assert done.applied, messages(first)
    again = imports.preview(session, scope, "grids", data, "x.xlsx")
    assert again.counts["unchanged"] == 1, (messages(again), [r.changes for r in again.rows])


def test_a_csv_exports_formula_guard_is_dropped(session, zh):
    from app.services.spreadsheet_reader import read_table as read  # noqa: PLC0415

    table = read(csv_bytes([["姓名", "备注"], ["'=1+1", "'it's"], ["'+86", "'-"], ["'@a", "''="]]), "x.csv")
    assert [values for _, values in table.rows] == [["=1+1", "'it's"], ["+86", "-"], ["@a", "''="]]


def test_missing_headers_are_named(session, zh):
    message = refusal(session, xlsx([["姓名", "备注"], ["张丽", "x"]]))
    assert "手机号" in message and "网格编码" in message and "入职日期" in message


def test_encodings_of_csv(session, zh):
    rows = worker_rows(worker())
    for data in (csv_bytes(rows, "gbk"), codecs.BOM_UTF8 + csv_bytes(rows), csv_bytes(rows, "utf-8"),
                 csv_bytes(rows, "gb18030")):
        preview = imports.preview(session, secretary(session), "workers", data, "x.csv")
        assert preview.counts["new"] == 1, messages(preview)


# --- all or nothing ------------------------------------------------------------------------------------
def test_a_row_refused_by_the_database_writes_nothing(session, zh, monkeypatch):
    data = xlsx(worker_rows(worker(), worker("王强", "13939205678", ID2)))
    preview = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    session.rollback()
    before = count(session, Worker)
    original = imports.people_service.check_worker

    def lenient(session_, scope, item):  # the second row passes the checks, the database refuses it
        original(session_, scope, item)
        if item.name == "王强":
            item.phone = "12345"

    monkeypatch.setattr(imports.people_service, "check_worker", lenient)
    with pytest.raises(DomainError):
        imports.apply(session, secretary(session), "workers", data, "x.xlsx", preview.digest)
    assert count(session, Worker) == before


def test_a_preview_that_changed_meanwhile_writes_nothing(session, zh):
    data = xlsx(worker_rows(worker()))
    preview = imports.preview(session, secretary(session), "workers", data, "x.xlsx")
    session.rollback()
    run(session, secretary(session), "workers", xlsx(worker_rows(worker(phone="13939200000"))))
    again = imports.apply(session, secretary(session), "workers", data, "x.xlsx", preview.digest)
    assert not again.applied and again.counts["changed"] == 1
    session.expire_all()
    assert session.scalar(select(Worker.phone).where(Worker.id_number == ID1)) == "13939200000"


def test_templates_read_back_as_their_example(session, zh):
    for kind in imports.KINDS:
        data = imports.template(kind)
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        assert workbook.sheetnames[1] == "填写说明"
        assert any("匹配" in str(cell.value) for row in workbook["填写说明"].iter_rows() for cell in row), kind

    # uploaded untouched, the example row is refused as the example, in every kind
    for kind in imports.KINDS:
        preview = imports.preview(session, EVERYTHING, kind, imports.template(kind), "x.xlsx")
        assert preview.counts["bad"] == 1 and "第 2 行是模板的示例" in messages(preview)[2], (kind, messages(preview))
    with force_locale("en"):
        english = imports.template("workers")
    assert "模板的示例" in messages(imports.preview(session, EVERYTHING, "workers", english, "x.xlsx"))[2]  # en labels too
    # changed into real data, it is read as any row
    workbook = openpyxl.load_workbook(io.BytesIO(imports.template("workers")))
    workbook.worksheets[0]["A2"] = "李四"
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = imports.preview(session, secretary(session), "workers", buffer.getvalue(), "x.xlsx")
    assert preview.counts["new"] == 1, messages(preview)
