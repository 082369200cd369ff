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


def rewritten(data: bytes, change) -> bytes:
    """An .xlsx with its first sheet's XML passed through ``change`` (str -> str), as a hand-made
    or hostile file would be."""
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            archive.writestr(member.filename, content)
    return buffer.getvalue()


def declared(data: bytes, ref: str) -> bytes:
    """The workbook with its sheet's <dimension> declaring ``ref``, whatever the cells are."""
    import re  # noqa: PLC0415

    return rewritten(data, lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml))


def _single_quoted_merge() -> bytes:
    return rewritten(_xlsx(_merged), lambda xml: xml.replace('<mergeCell ref="A1:B1"/>', "<mergeCell ref='A1:B1'/>"))


def _comment() -> bytes:
    """12 MB of XML comment in the sheet (expat reads it in quadratic time), under the unzipped cap."""
    return rewritten(_xlsx(lambda sheet: (sheet.append(HEADER), sheet.append(ROW))),
                     lambda xml: xml.replace("<sheetData>", "<!--" + "a" * (12 * 1024 * 1024) + "--><sheetData>", 1))


def _doctype() -> bytes:
    return rewritten(_xlsx(lambda sheet: (sheet.append(HEADER), sheet.append(ROW))),
                     lambda xml: xml.replace("<worksheet", '<!DOCTYPE worksheet [<!ENTITY a "aaaa">]><worksheet', 1))


def _beyond_excels_last_row() -> bytes:
    """A data row numbered 20,000,000: Excel has 1,048,576 rows (the gap would be read row by row)."""
    import re  # noqa: PLC0415

    return rewritten(_xlsx(lambda sheet: (sheet.append(HEADER), sheet.append(ROW))),
                     lambda xml: re.sub(r'r="([A-Z]*)2"', r'r="\g<1>20000000"', xml))


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
        "merged, single quotes": (_single_quoted_merge(), "workers.xlsx", ["A1:B1", "合并"]),
        "xml comment": (_comment(), "workers.xlsx", ["注释", "DOCTYPE"]),
        "doctype": (_doctype(), "workers.xlsx", ["注释", "DOCTYPE"]),
        "a row beyond Excel's last": (_beyond_excels_last_row(), "workers.xlsx", ["不是 Excel"]),
        "100,000 empty rows": (_xlsx(_empty_rows), "workers.xlsx", ["数据行"]),
        "zip bomb": (_zip_bomb(), "workers.xlsx", ["拒绝"]),
        "too many rows": (_many_rows(), "workers.csv", ["20,000"]),
        "too large": (b"a" * (5 * 1024 * 1024), "workers.csv", ["4 MB"]),
    }
