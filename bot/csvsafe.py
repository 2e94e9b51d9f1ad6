"""CSV a spreadsheet cannot turn into a formula: every export writes through here.

OWASP's CSV-injection guidance (owasp.org/www-community/attacks/CSV_Injection): a cell that
starts with `=`, `+`, `-`, `@`, tab or carriage return can be run as a formula by Excel,
LibreOffice or Google Sheets when the CoE opens an export; prefixing it with `'` makes it
text. The maintained `defusedcsv` writer does this for `= + - @ | %` (escaping `|` inside such
a cell, and leaving plain numbers such as `-12` alone); this module adds the starts it
leaves: tab, carriage return and NUL. Numbers (int, float) are never touched, so typed
numeric columns stay numbers; JSON exports are never defused (they stay exact).

PostgreSQL writes the responses CSV itself (`COPY … TO STDOUT`): `defuse_sql` is the same
rule as one SQL expression, tested to give byte-identical output to `writer` on the same
rows. Both write `\\n` line ends and an empty cell for an empty string or NULL, as COPY does.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

from defusedcsv import csv as defused

LINE_END = "\n"
_EXTRA_STARTS = ("\t", "\r", "\0")  # OWASP's, which defusedcsv 3 leaves as they are


def _extra(cell: Any) -> Any:
    if isinstance(cell, str):
        if not cell:
            return None  # as COPY writes an empty string in a NULL-able column: empty
        if cell.startswith(_EXTRA_STARTS):
            return "'" + cell
    return cell


class Writer:
    """`csv.writer` with every string cell defused; rows are sequences of cells."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._line = io.StringIO()
        # "\r\n" makes the csv module quote any cell holding \r or \n (it quotes only the
        # characters of its line terminator); each line then ends in "\n", as COPY's do.
        self._writer = defused.writer(self._line, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._writer.writerow([_extra(cell) for cell in row])
        self._out.write(self._line.getvalue()[:-2] + LINE_END)


class DictWriter:
    """`csv.DictWriter` with every string cell defused; missing keys are empty cells."""

    def __init__(self, out: IO[str], fieldnames: Sequence[str]) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = Writer(out)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: dict[str, Any]) -> None:
        self._writer.writerow(row.get(name) for name in self.fieldnames)


def writer(out: IO[str]) -> Writer:
    return Writer(out)


def defuse_sql(expression: str) -> str:
    """The same rule as `Writer` for one PostgreSQL `text` expression (used inside COPY).

    Python's `re.match("^-?[0-9,\\.]+$")` in defusedcsv lets a final newline pass (`$`
    matches before it), hence `\\n?$` here. PostgreSQL text cannot hold NUL, so that start
    never arises on this side.
    """
    v = f"({expression})"
    return (
        f"CASE WHEN {v} IS NULL OR {v} = '' THEN NULL"
        f" WHEN left({v}, 1) IN (E'\\t', E'\\r') THEN '''' || {v}"
        f" WHEN left({v}, 1) IN ('=', '+', '-', '@', '|', '%')"
        f" AND {v} !~ '^-?[0-9,.]+\\n?$' THEN '''' || replace({v}, '|', '\\|')"
        f" ELSE {v} END"
    )
