"""Reading the CSV files people give the portal: encoding and delimiter
detected, every row numbered by its line, every problem named as
"line N, column NAME: what is wrong"; and making the cells of the CSV files it
gives out safe to open in a spreadsheet."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from accounts.sheets import SheetValueError, printable

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a
    leading apostrophe (OWASP "CSV injection"), whoever typed the value."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)d, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class ImportRefused(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, or Shift_JIS/CP932."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            line = data.count(b"\n", 0, utf8_error.start) + 1
            raise ImportRefused(
                [Problem(line, "-", _("the file is neither UTF-8 nor Shift_JIS (CP932) text"))]
            ) from None


def read_table(
    data: bytes, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[Problem]]:
    """The header's column names, the well-formed non-empty rows with their line
    numbers, and a problem for each row with the wrong number of cells.

    Raises ImportRefused when the file cannot be read at all or its header is wrong.
    """
    text = decode(data)
    required, optional = tuple(required), tuple(optional)
    known = set(required) | set(optional)
    first_line = text.split("\n", 1)[0]
    delimiter = max(
        (",", "\t", ";"),
        key=lambda d: sum(c.strip().strip('"').lower() in known for c in first_line.split(d)),
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, problems = [], []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportRefused([Problem(1, "-", _("the file is empty: it needs a header line"))])
        names = [cell.strip().lower() for cell in header]
        if wrong_header := header_problems(names, required, known):
            raise ImportRefused(wrong_header)
        previous_end = reader.line_num
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                message = _("expected %(expected)d cells, found %(found)d") % {
                    "expected": len(names),
                    "found": len(record),
                }
                problems.append(Problem(line, "-", message))
                continue
            rows.append((line, dict(zip(names, record, strict=True))))
    except csv.Error as error:
        raise ImportRefused(
            [Problem(reader.line_num, "-", _("not readable as CSV: %(error)s") % {"error": error})]
        ) from None
    return names, rows, problems


def header_problems(names: list[str], required: tuple[str, ...], known: set[str]) -> list[Problem]:
    problems = [
        Problem(1, name, _("this column is missing from the header"))
        for name in required
        if name not in names
    ]
    seen: set[str] = set()
    for name in names:
        if name not in known:
            problems.append(
                Problem(
                    1,
                    printable(name[:60]) or "-",
                    _("unknown column; the columns are %(columns)s")
                    % {"columns": ",".join(required)},
                )
            )
        elif name in seen:
            problems.append(Problem(1, name, _("this column appears twice")))
        seen.add(name)
    return problems


class RowReader:
    """Parses the cells of one row, collecting a Problem for each bad cell."""

    def __init__(self, line: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.line, self.cells, self.problems = line, cells, problems

    def get(self, column: str, parser: Callable[[str], Any]) -> Any:
        try:
            return parser(self.cells[column])
        except SheetValueError as error:
            self.problems.append(Problem(self.line, column, error.message))
            return None

    def fail(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.line, column, message))
