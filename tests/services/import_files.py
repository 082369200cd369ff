"""Files an import must refuse (the service and the HTTP tests use them): each with the name it is
uploaded as and words its zh refusal says."""
from __future__ import annotations

import io
import zipfile

import openpyxl

from ..views.helpers import PNG

HEADER = ["姓名", "手机号", "网格编码", "入职日期"]
ROW = ["张丽", "13939201234", "410611001001-01", "2024-03-01"]


def _xlsx(build) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _formula(sheet):
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet["C2"] = "=A1&B1"


def _merged(sheet):
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet.merge_cells("A1:B1")


def _empty_rows(sheet):
    sheet.append(HEADER)
    for row in range(2, 100_002):  # formatted but empty, as a sheet filled down by mistake
        sheet.cell(row=row, column=1).number_format = "@"


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (120 * 1024 * 1024))
    return buffer.getvalue()


def _many_rows() -> bytes:
    lines = [",".join(HEADER)] + [",".join(ROW)] * 20_001
    return "\n".join(lines).encode("utf-8")


def BAD_FILES() -> dict:
    """name -> (bytes, filename, words of the zh refusal)."""
    return {
        "png as xlsx": (PNG, "workers.xlsx", ["不是 Excel"]),
        "text as xlsx": (b"just some text\n", "workers.xlsx", ["不是 Excel"]),
        "png as csv": (PNG, "workers.csv", ["CSV"]),
        "xls or encrypted": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "workers.xls", [".xls", "密码"]),
        "empty": (b"", "workers.xlsx", ["空"]),
        "header only": (_xlsx(lambda sheet: sheet.append(HEADER)), "workers.xlsx", ["数据行"]),
        "formula": (_xlsx(_formula), "workers.xlsx", ["C2", "公式"]),
        "merged header": (_xlsx(_merged), "workers.xlsx", ["A1:B1", "合并"]),
        "100,000 empty rows": (_xlsx(_empty_rows), "workers.xlsx", ["数据行"]),
        "zip bomb": (_zip_bomb(), "workers.xlsx", ["拒绝"]),
        "too many rows": (_many_rows(), "workers.csv", ["20,000"]),
        "too large": (b"a" * (5 * 1024 * 1024), "workers.csv", ["4 MB"]),
    }
