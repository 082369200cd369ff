"""Tables sent as files: .xlsx written by openpyxl's write-only mode into a temporary file
(constant memory, then sent), .csv streamed in UTF-8 with a BOM (Excel in China opens it in
the right encoding). A cell keeps its type — a time a local date and time, a number a number —
and a text never runs as a formula (CSV/Excel formula injection)."""
from __future__ import annotations

import csv
import datetime
import decimal
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, current_app, request, send_file, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .services.local_time import TIMEZONE

FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The cookie a download answer sets, which app/static/gridgov/export.js waits for.
DOWNLOAD_COOKIE = "gridgov_download"
_TOKEN = re.compile(r"[A-Za-z0-9]{1,32}")
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\[\]\x00-\x1f]')
CSV_ROWS_PER_CHUNK = 500
DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
XLSX_MAX_TEXT = 32767


class Percent(float):
    """A share (0.25) shown as a percentage: 25.0% in a spreadsheet's cell and in CSV."""


@dataclass
class Table:
    """What a file holds: its name (``title``, the sheet's too, and ``ascii_name`` for clients
    that cannot read a UTF-8 file name), the header row, and the rows of values (read once:
    None, str, int, float, Decimal, Percent, date or datetime)."""

    title: str
    ascii_name: str
    headers: Sequence[str]
    rows: Iterable[Sequence]


def local(moment: datetime.datetime) -> datetime.datetime:
    """A stored time as the lists show it: in Asia/Shanghai, without a zone (spreadsheets have none)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


def is_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


# --- .xlsx ---------------------------------------------------------------------------------

def _xlsx_row(sheet, values) -> list:
    row = []
    for value in values:
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_TEXT]
            if is_formula(text):  # a typed text cell shown as typed, never a formula
                cell = WriteOnlyCell(sheet, text)
                cell.data_type = "s"
                cell.quotePrefix = True
                row.append(cell)
            else:
                row.append(text)
        elif isinstance(value, datetime.datetime):
            cell = WriteOnlyCell(sheet, local(value))
            cell.number_format = DATE_TIME_FORMAT
            row.append(cell)
        elif isinstance(value, datetime.date):
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = DATE_FORMAT
            row.append(cell)
        elif isinstance(value, Percent):
            cell = WriteOnlyCell(sheet, float(value))
            cell.number_format = "0.0%"
            row.append(cell)
        else:
            row.append(value)
    return row


def write_xlsx(table: Table, out) -> None:
    """The table as an .xlsx workbook of one sheet into the binary file ``out``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_NOT_IN_NAMES.sub("_", table.title)[:31] or "Sheet1")
    bold = Font(bold=True)
    header = []
    for text in table.headers:
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", str(text)))
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in table.rows:
        sheet.append(_xlsx_row(sheet, values))
    workbook.save(out)


# --- .csv ----------------------------------------------------------------------------------

def csv_text(value) -> str:
    """A value as a CSV cell: times as the lists print them, a text that Excel would run as a
    formula behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if is_formula(value) else value
    if isinstance(value, datetime.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Percent):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def csv_chunks(table: Table):
    """The table as UTF-8 CSV with a BOM, in pieces of ``CSV_ROWS_PER_CHUNK`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([str(text) for text in table.headers])
    waiting = 0
    for values in table.rows:
        writer.writerow([csv_text(value) for value in values])
        waiting += 1
        if waiting == CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            waiting = 0
    yield buffer.getvalue().encode("utf-8")


# --- the answer ------------------------------------------------------------------------------

def file_name(title: str, extension: str) -> str:
    """``事件_2026-12-03.xlsx``: the title and today's local date."""
    today = datetime.datetime.now(TIMEZONE).date().isoformat()
    return f"{_NOT_IN_NAMES.sub('_', title).strip() or 'export'}_{today}.{extension}"


def content_disposition(title: str, ascii_name: str, extension: str) -> str:
    """An attachment named in UTF-8 (RFC 5987 ``filename*``) with an ASCII name for old clients."""
    fallback = file_name(re.sub(r"[^A-Za-z0-9_-]", "", ascii_name) or "export", extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name(title, extension), safe='')}"


def _mark_started(response: Response) -> Response:
    """The cookie the page's export button waits for to stop showing that the file is being made."""
    token = request.args.get("download", "")
    if _TOKEN.fullmatch(token):
        response.set_cookie(DOWNLOAD_COOKIE, token, max_age=120, path="/", samesite="Lax", httponly=False,
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    response.headers["Cache-Control"] = "no-store"
    return response


def send(table: Table, extension: str) -> Response:
    """The answer carrying ``table`` as a file: .xlsx made whole in a temporary file first (a
    workbook is a zip), .csv streamed as its rows are read."""
    if extension == "xlsx":
        out = tempfile.TemporaryFile(suffix=".xlsx")  # gone when the answer closes it
        try:
            write_xlsx(table, out)
            out.seek(0)
        except BaseException:
            out.close()
            raise
        response = send_file(out, mimetype=XLSX_TYPE, as_attachment=True, download_name="export.xlsx",
                             etag=False, conditional=False)
    elif extension == "csv":
        response = Response(stream_with_context(csv_chunks(table)), content_type="text/csv; charset=utf-8")
    else:
        raise ValueError(extension)
    response.headers["Content-Disposition"] = content_disposition(table.title, table.ascii_name, extension)
    return _mark_started(response)
