"""Spreadsheets in and out: the one place that writes the XLSX and CSV files the app produces,
and reads the ones users upload.

Every written cell whose text a spreadsheet program could run as a formula (it starts with
``= + - @``, a tab or a carriage return: OWASP "CSV injection") is written as text: in XLSX a
string cell with Excel's quote prefix, in CSV the text behind a single quote. Numbers, dates and
plain text are written as they are.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

import openpyxl
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNPACKED_LIMIT_FACTOR = 20  # an uploaded workbook may unpack to this many times the size limit
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")
_BOLD = Font(bold=True)

# ------------------------------------------------------------------------------------- writing


def is_formula_like(value: object) -> bool:
    """Text that a spreadsheet program could take for a formula (a plain number cannot)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value)


def _plain(value: Any) -> Any:
    """A value as a spreadsheet cell holds it: numbers, dates and booleans as they are
    (aware times in the local zone), everything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return str(value)


def csv_cell(value: Any) -> Any:
    """One CSV cell: formula-like text behind a single quote, so that it is read as text."""
    value = _plain(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return f"'{value}" if is_formula_like(value) else value


def csv_write(rows: Iterable[Sequence[Any]], out: BinaryIO, *, bom: bool = True) -> None:
    """A CSV file of `rows` (the first is usually the header) into `out`, row by row, UTF-8
    with a byte-order mark so that Excel opens Chinese text correctly."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    if bom:
        text.write("\ufeff")
    writer = csv.writer(text)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    text.flush()
    text.detach()  # `out` stays open, the caller's


def csv_bytes(rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """`csv_write` into memory, for a short file."""
    buffer = io.BytesIO()
    csv_write(rows, buffer, bom=bom)
    return buffer.getvalue()


@dataclass
class Sheet:
    """One worksheet to write: a title, a header row, data rows and a little layout."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]] = ()
    widths: Sequence[int | float] = ()  # column widths in characters, from the first column
    text_columns: Collection[int] = field(default_factory=tuple)  # 0-based, formatted as text
    freeze_header: bool = False
    bold_header: bool = True


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_TITLE_FORBIDDEN.sub(" ", str(title)).strip()[:31] or "Sheet"
    candidate, number = base, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> Any:
    value = _plain(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not bold and not is_formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if is_formula_like(value):
        cell.data_type = "s"  # openpyxl would write text starting with "=" as a formula
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    if bold:
        cell.font = _BOLD
    return cell


def xlsx_write(sheets: Sequence[Sheet], out: BinaryIO) -> None:
    """An Excel workbook with one worksheet per `Sheet` into `out`, streamed row by row
    (openpyxl's write-only mode keeps the rows in a temporary file, not in memory)."""
    workbook = openpyxl.Workbook(write_only=True)
    used: set[str] = set()
    for spec in sheets:
        sheet = workbook.create_sheet(_sheet_title(spec.title, used))
        for index, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        for index in spec.text_columns:
            # Typed as text, an 18-digit ID number keeps its last digits (Excel keeps only 15).
            sheet.column_dimensions[get_column_letter(index + 1)].number_format = "@"
        if spec.freeze_header:
            sheet.freeze_panes = "A2"
        sheet.append([_xlsx_cell(sheet, v, bold=spec.bold_header) for v in spec.header])
        for row in spec.rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    workbook.save(out)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """`xlsx_write` into memory, for a short file."""
    buffer = io.BytesIO()
    xlsx_write(sheets, buffer)
    return buffer.getvalue()


def _download_headers(response: HttpResponseBase, filename: str) -> None:
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=filename) or ""
    )
    response["X-Content-Type-Options"] = "nosniff"


def _content_type(filename: str) -> str:
    return CSV_CONTENT_TYPE if filename.lower().endswith(".csv") else XLSX_CONTENT_TYPE


def spreadsheet_response(content: bytes, *, filename: str) -> HttpResponse:
    """A download of a written file; its type follows the file name's extension."""
    response = HttpResponse(content, content_type=_content_type(filename))
    _download_headers(response, filename)
    return response


def spreadsheet_stream(pieces: Iterable[bytes], *, filename: str, size: int) -> HttpResponseBase:
    """A download of a kept file sent piece by piece as they are read (`size` bytes)."""
    response = StreamingHttpResponse(pieces, content_type=_content_type(filename))
    response["Content-Length"] = str(size)
    _download_headers(response, filename)
    return response


# ------------------------------------------------------------------------------------- reading


class UnreadableFile(ValueError):
    """The upload is not a spreadsheet that can be read; the message says why."""


@dataclass(frozen=True)
class Table:
    """A spreadsheet's header row and its non-empty data rows, with their row numbers."""

    headers: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]


def cell_value(value: Any) -> Any:
    """A read cell as text, except dates, which stay dates; numbers lose a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise UnreadableFile(
            _("The file could not be read as an Excel workbook (.xlsx).")
        ) from None
    if unpacked > UNPACKED_LIMIT_FACTOR * settings.IMPORT_MAX_BYTES:
        raise UnreadableFile(
            _("The workbook is too large when unpacked: split it into smaller files.")
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a damaged workbook
        raise UnreadableFile(
            _("The file could not be read as an Excel workbook (.xlsx).")
        ) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write wrong dimensions; read every row
        for row in sheet.iter_rows(values_only=True):
            # Numeric cells are kept as numbers here so that a mangled ID number can be told.
            yield [
                v if isinstance(v, int | float) and not isinstance(v, bool) else cell_value(v)
                for v in row
            ]
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Iterator[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # what Excel in China saves as "CSV"
        except UnicodeDecodeError:
            raise UnreadableFile(
                _("The file could not be read as text: save it as CSV UTF-8.")
            ) from None
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            yield [value.strip() for value in row]
    except csv.Error:
        raise UnreadableFile(_("The file could not be read as CSV.")) from None


def read_table(*, content: bytes, filename: str) -> Table:
    """Read an XLSX or CSV file; raises UnreadableFile. Row 1 is the header, data starts at 2."""
    reader = _xlsx_rows if filename.lower().endswith(".xlsx") else _csv_rows
    raw = enumerate(reader(content), start=1)
    try:
        _number, first = next(raw)
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    headers = [str(cell_value(value)) for value in first]
    while headers and not headers[-1]:
        headers.pop()

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, values in raw:
            if not any(v not in ("", None) for v in values):
                continue  # blank lines (often formatted but empty rows at the end)
            yield number, {h: values[i] if i < len(values) else "" for i, h in enumerate(headers)}

    return Table(headers=headers, rows=rows())
