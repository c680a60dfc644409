"""CSV files people open in a spreadsheet: text that a spreadsheet would run as a formula.

A cell that begins with = + - @ (or a tab or carriage return before one) is a formula to Excel,
LibreOffice and Google Sheets: "=HYPERLINK(...)" typed into a post or an item becomes a live link
or a command in the admin's spreadsheet. Exports write such text with a leading apostrophe
(shown as text, the apostrophe hidden); our own imports take that apostrophe off again, so an
export imports back unchanged.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def row(values) -> list:
    return [cell(v) for v in values]


def read_cell(value):
    """The text a `cell()` was written from (an apostrophe before a formula start removed)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
