"""The points report's CSV: a school's own value names are its header row, and a value named
as a formula reaches a spreadsheet as text."""

from __future__ import annotations

import csv
import io

from schoolgate_points.handlers import report_csv

FORMULA = '=HYPERLINK("http://x","y")'


def test_a_school_value_named_as_a_formula_is_text_in_the_header_row() -> None:
    report = {
        "school_ways": {"way-1": FORMULA, "way-2": "Kindness"},
        "pupils": [
            {
                "name": "@Ada",
                "by_way": {"way-1": 2, "way-2": 1},
                "needs_work": 1,
                "total": 2,
            }
        ],
        "by_way": {"way-1": 2, "way-2": 1},
        "needs_work": 1,
        "total": 2,
    }
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0] == ["Pupil", "'" + FORMULA, "Kindness", "Needs work", "Total"]
    assert rows[1] == ["'@Ada", "2", "1", "1", "2"]
    for row in rows:
        for cell in row:
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, row
