"""Reading an uploaded table (.xlsx or .csv) safely: the file's kind is found from its bytes, not
its name; a workbook's zip is measured before openpyxl opens it; formulas and merged cells are
refused; a sheet's declared dimension is not trusted (a row is read only as wide as the header);
a workbook XML part holding a comment or a DOCTYPE is refused before any parser sees it; reading
stops past a bound on the rows. Every refusal is a
``BadFile`` with a message in the user's language; nothing here knows what the rows mean."""
from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import zipfile
import xml.etree.ElementTree as ElementTree  # only its ParseError: openpyxl raises it
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .errors import ValidationError

# An upload is at most the app's MAX_CONTENT_LENGTH (config.py); the reader holds the same bound.
MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 20_000  # data rows of one file
EXCEL_ROWS = 1_048_576  # the rows of an Excel sheet: a row numbered beyond it is refused
# A workbook's zip: what an honest .xlsx of MAX_ROWS rows stays far below. The widest kind's row
# (workers: 17 columns, every cell at its longest, inline strings) is about 1.4 KB of sheet XML,
# so MAX_ROWS of them take about 28 MB: 40 MB leaves a margin for styles and shared strings.
MAX_ZIP_MEMBERS = 200
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_COLUMNS = 60

XLSX = "xlsx"
CSV = "csv"


class BadFile(ValidationError):
    """The file as a whole is refused: nothing of it is read further."""


@dataclass
class Table:
    """The header row and the data rows, each with its line number as Excel shows it."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list]] = field(default_factory=list)
    kind: str = XLSX


def cell_name(row: int, column: int) -> str:
    """'C5' for row 5, column 3."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def read_table(data: bytes, filename: str = "") -> Table:
    """The table in an uploaded file, or ``BadFile``."""
    if not data:
        raise BadFile(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise BadFile(_l("The file is larger than %(size)s MB: split it into smaller files.",
                         size=MAX_BYTES // (1024 * 1024)))
    name = (filename or "").lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadFile(_l("This is an old Excel 97–2003 (.xls) file or a workbook with a password: open it in "
                         "Excel and save it as an .xlsx workbook without a password."))
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data)
    elif name.endswith((".xlsx", ".xlsm")):
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV file."))
    else:
        table = _read_csv(data)
    if not table.rows:
        raise BadFile(_l("The file has no data rows under its header row."))
    return table


# --- .xlsx ---------------------------------------------------------------------------------------
def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV file.")) \
            from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV file."))
    # the sizes the zip declares bound what zipfile will inflate (it stops there and checks the CRC)
    if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES \
            or any(member.flag_bits & 0x1 for member in members):
        raise BadFile(_l("This workbook unpacks to far more than a table of %(rows)s rows: it is refused.",
                         rows=f"{MAX_ROWS:,}"))
    for member in members:
        if member.filename.lower().endswith(_XML_PARTS) and _has_markup_excel_never_writes(archive, member):
            raise BadFile(_l("This workbook holds XML that Excel never writes (a comment or a DOCTYPE): open it "
                             "in Excel and save it again as an .xlsx workbook."))


# Excel writes no XML comment and no DOCTYPE; expat reads a long comment in quadratic time, and a
# DOCTYPE declares entities. A NUL byte means UTF-16 XML, in which neither would be seen as bytes.
_XML_PARTS = (".xml", ".rels")  # what openpyxl parses (read-only, it skips drawings and comments)
_NEVER_WRITTEN = re.compile(rb"<!--|<!doctype|\x00", re.IGNORECASE)


def _has_markup_excel_never_writes(archive, member) -> bool:
    """The member's bytes searched a chunk at a time (a chunk's tail is kept, so a match
    across two chunks is found)."""
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                window = tail + chunk
                if _NEVER_WRITTEN.search(window):
                    return True
                tail = window[-16:]
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV "
                         "file.")) from None
    return False


_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([A-Za-z0-9:$]+)[\"']")
_CHUNK = 1024 * 1024


def _merged_ranges(archive, sheet_path: str) -> list[str]:
    """The merged ranges of a sheet (read-only openpyxl does not give them): the sheet's XML
    searched as bytes, a chunk at a time, not parsed a second time."""
    tail = b""
    with archive.open(sheet_path) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            found = _MERGE_CELL.search(window)
            if found:
                return [found.group(1).decode("ascii")]
            tail = window[-200:]
    return []


def _read_xlsx(data: bytes) -> Table:
    _check_zip(data)
    import openpyxl  # noqa: PLC0415  (only an .xlsx upload needs it)
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile,
            ElementTree.ParseError):
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV file.")) \
            from None
    try:
        if not workbook.worksheets:
            raise BadFile(_l("The file is empty."))
        sheet = workbook.worksheets[0]
        try:
            merged = _merged_ranges(workbook._archive, sheet._worksheet_path)
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile):
            raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV "
                             "file.")) from None
        if merged:
            raise BadFile(_l("Cells %(cells)s are merged: unmerge them and give every row and column its own cell.",
                             cells=merged[0]))
        sheet.reset_dimensions()  # the declared <dimension> may be stale, or A1:XFD1048576
        columns = _Columns()
        return _rows_of(_xlsx_cells(sheet, columns), XLSX, columns)
    except (ElementTree.ParseError, zipfile.BadZipFile, KeyError, ValueError):
        raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV file.")) \
            from None
    finally:
        workbook.close()


class _Columns:
    """How many columns of a row are read: MAX_COLUMNS until the header is found, then its width."""

    limit = MAX_COLUMNS


def _xlsx_cells(sheet, columns: _Columns):
    """Each row as (line, values), a row of no cells skipped; a formula refused with its cell's
    name. With no dimension, openpyxl yields a missing row as () and pads a row only up to its
    last cell; the row is cut to the columns read before any cell of it is looked at."""
    for row in sheet.iter_rows():
        if not row:
            continue
        if row[-1].row > EXCEL_ROWS:  # a row Excel cannot have: the gaps before it would be read for nothing
            raise BadFile(_l("This file is not an Excel workbook (.xlsx). Upload the template filled in, or a CSV "
                             "file."))
        line = None
        values = []
        for cell in row[:columns.limit]:
            if getattr(cell, "row", None) is None:  # an EmptyCell filling a gap
                values.append(None)
                continue
            line = cell.row
            if cell.data_type == "f":
                raise BadFile(_l("Cell %(cell)s holds a formula: copy the sheet and paste it as values only.",
                                 cell=cell_name(cell.row, cell.column)))
            values.append(cell.value)
        yield line, values


# --- .csv ----------------------------------------------------------------------------------------
def _decoded(data: bytes) -> str:
    """UTF-8 with or without its BOM, UTF-16 with its BOM (Excel's "Unicode text"), else GB18030
    (GBK's superset: Excel in China saves CSV so)."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise BadFile(_l("This file is neither an Excel workbook (.xlsx) nor a CSV text file."))


# gridgov's CSV export (app/downloads.py, csv_text) writes a text that a spreadsheet would run as a
# formula behind an apostrophe: read back, the apostrophe is the export's guard, not the text's.
_GUARDED = ("=", "+", "-", "@", "\t", "\r")


def _unguarded(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in _GUARDED and value[1:2] else value


def _read_csv(data: bytes) -> Table:
    text = _decoded(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _rows_of(((number, [_unguarded(value) for value in row]) for number, row in enumerate(reader, start=1)),
                        CSV)
    except csv.Error:
        raise BadFile(_l("This file is neither an Excel workbook (.xlsx) nor a CSV text file.")) from None


# --- both ----------------------------------------------------------------------------------------
def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows_of(lines, kind: str, columns: _Columns | None = None) -> Table:
    """The header and data rows. Empty rows are skipped wherever they are (none ends the table:
    a row after a long gap is still read); MAX_ROWS and the file's size bound the work."""
    header = None
    table = None
    for line, values in lines:
        if header is not None:
            values = values[:len(header)]
        if all(_blank(value) for value in values):
            continue
        if header is None:
            if len(values) > MAX_COLUMNS:
                values = values[:MAX_COLUMNS]
            header = ["" if _blank(v) else re.sub(r"\s+", " ", str(v)).strip() for v in values]
            while header and not header[-1]:
                header.pop()
            table = Table(header=header, header_line=line, kind=kind)
            if columns is not None:
                columns.limit = max(len(header), 1)
            continue
        if len(table.rows) >= MAX_ROWS:
            raise BadFile(_l("The file has more than %(rows)s data rows: split it into smaller files.",
                             rows=f"{MAX_ROWS:,}"))
        table.rows.append((line, [_plain(v) for v in values[:len(header)]]))
    if table is None:
        raise BadFile(_l("The file is empty."))
    return table


def _plain(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date()
    return value
