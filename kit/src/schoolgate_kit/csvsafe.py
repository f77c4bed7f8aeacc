"""CSV that a spreadsheet opens as data: no cell can start a formula.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` sends whoever clicks
it anywhere). Following OWASP's rule, such a cell gets a leading single quote, which the
spreadsheet shows as text. Every cell goes through it, headers too: a school names its own
values, and those names are column headers. Numbers pass as numbers: they carry no formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@\t\r")


def safe_cell(value: object) -> str | int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    return f"'{text}" if text[:1] in FORMULA_STARTS else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
