"""No CSV cell can start a formula in a spreadsheet (OWASP's rule: a leading quote)."""

from __future__ import annotations

import csv
import io

import pytest
from schoolgate_kit.csvsafe import csv_text, safe_cell


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "=", "'x"]
)
def test_a_cell_that_could_start_a_formula_is_text(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    if text[:1] in "=+-@\t\r":
        assert cell == "'" + text
    else:
        assert cell == text


def test_ordinary_text_and_numbers_are_left_as_they_are() -> None:
    assert safe_cell("Kindness") == "Kindness"
    assert safe_cell("Zoë O'Neil") == "Zoë O'Neil"
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5
    assert safe_cell(True) == "True"


def test_every_cell_of_every_row_is_kept_from_formulas_headers_too() -> None:
    text = csv_text([["Pupil", "=1+1", "Total"], ["@ada", 3, -1]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["Pupil", "'=1+1", "Total"], ["'@ada", "3", "-1"]]
