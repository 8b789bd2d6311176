"""Reading the CSV files people give the portal: encoding and delimiter
detected, every row numbered by its line, every problem named as
"line N, column NAME: what is wrong"; and making the cells of the CSV files it
gives out safe to open in a spreadsheet."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
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


# What Shift_JIS text read by mistake from EUC-JP bytes shows besides half-width kana:
# anything but ASCII and half-width katakana letters (ｦ-ﾟ).
_NOT_PLAIN_KANA = re.compile(r"[^\x00-\x7f\uff66-\uff9f]")


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, Shift_JIS/CP932 or EUC-JP.

    Japanese text in Shift_JIS nearly always holds bytes EUC-JP forbids, so bytes that
    read as both are EUC-JP — unless their Shift_JIS reading is nothing but half-width
    kana, which either could be: such a file is refused rather than guessed.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        line = data.count(b"\n", 0, utf8_error.start) + 1
    readings = {}
    for encoding in ("cp932", "euc_jp"):
        with contextlib.suppress(UnicodeDecodeError):
            readings[encoding] = data.decode(encoding)
    if len(readings) == 1:
        return next(iter(readings.values()))
    if not readings:
        message = _("the file is neither UTF-8, Shift_JIS (CP932) nor EUC-JP text")
    elif _NOT_PLAIN_KANA.search(readings["cp932"]):
        return readings["euc_jp"]
    else:
        message = _(
            "the file could be Shift_JIS or EUC-JP text and the portal cannot tell which: "
            "save it as UTF-8 (in Excel: CSV UTF-8) and upload it again"
        )
    raise ImportRefused([Problem(line, "-", message)])


def _reader(text: str, known: set[str]) -> Any:
    """A CSV reader of the text, its delimiter the one that best splits the header
    into known column names."""
    first_line = text.split("\n", 1)[0]
    delimiter = max(
        (",", "\t", ";"),
        key=lambda d: sum(c.strip().strip('"').lower() in known for c in first_line.split(d)),
    )
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _names(header: list[str] | None) -> list[str]:
    if header is None or not any(cell.strip() for cell in header):
        raise ImportRefused([Problem(1, "-", _("the file is empty: it needs a header line"))])
    return [cell.strip().lower() for cell in header]


def _cell_count_problem(line: int, expected: int, found: int) -> Problem:
    message = _("expected %(expected)d cells, found %(found)d") % {
        "expected": expected,
        "found": found,
    }
    return Problem(line, "-", message)


def _csv_problem(reader: Any, error: csv.Error) -> ImportRefused:
    return ImportRefused(
        [Problem(reader.line_num, "-", _("not readable as CSV: %(error)s") % {"error": error})]
    )


def header_names(text: str, known: Iterable[str]) -> list[str]:
    """The column names of the text's header line; empty when there is none."""
    reader = _reader(text, set(known))
    try:
        return [cell.strip().lower() for cell in next(reader, [])]
    except csv.Error:
        return []


@dataclass
class KeptColumns:
    content: bytes
    ignored: list[str]
    problems: list[Problem]


def columns_keep(text: str, known: Iterable[str]) -> KeptColumns:
    """The file as UTF-8 CSV holding only the known columns, and the names of the others.

    Lines stay where they were, so problems found later name the file's own lines. A
    row whose cells do not match the header cannot be told apart column by column: it
    is left out (an empty line in its place) and reported as a problem.

    Raises ImportRefused when the file is not readable as CSV at all, or has none of
    the columns.
    """
    columns = tuple(known)
    known = set(columns)
    reader = _reader(text, known)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        if header is None:
            return KeptColumns(b"", [], [])
        names = [cell.strip().lower() for cell in header]
        kept = [i for i, name in enumerate(names) if name in known]
        if not kept:
            message = _("none of the columns is one this import uses; they are %(columns)s")
            raise ImportRefused([Problem(1, "-", message % {"columns": ",".join(columns)})])
        ignored = [header[i].strip() for i, name in enumerate(names) if name not in known]
        writer.writerow([header[i] for i in kept])
        previous_end = reader.line_num
        for record in reader:
            line, previous_end, lines = (
                previous_end + 1,
                reader.line_num,
                reader.line_num - previous_end,
            )
            if not any(cell.strip() for cell in record):
                out.write("\n" * lines)
            elif len(record) != len(names):
                problems.append(_cell_count_problem(line, len(names), len(record)))
                out.write("\n" * lines)
            else:
                cells = [record[i] for i in kept]
                writer.writerow(cells)
                # A left-out cell may have held line breaks.
                out.write("\n" * (lines - 1 - sum(cell.count("\n") for cell in cells)))
    except csv.Error as error:
        raise _csv_problem(reader, error) from None
    return KeptColumns(out.getvalue().encode(), [name for name in ignored if name], problems)


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
    reader = _reader(text, known)
    rows, problems = [], []
    try:
        names = _names(next(reader, None))
        if wrong_header := header_problems(names, required, known):
            raise ImportRefused(wrong_header)
        previous_end = reader.line_num
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                problems.append(_cell_count_problem(line, len(names), len(record)))
                continue
            rows.append((line, dict(zip(names, record, strict=True))))
    except csv.Error as error:
        raise _csv_problem(reader, error) from None
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
