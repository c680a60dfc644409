"""The one input policy: what a single-line text, a multi-line text, a link, a date, a month
or a record id may be. No Flask here; `portal.forms.PortalForm` applies it to every field of
every form, so a control character, an out-of-range date or a `javascript:` link is refused
the same way everywhere, with the message next to the field.

Why each rule:
- Control characters (NUL, ESC, CR/LF in a one-line field, ...) are invisible, break mail
  headers and calendar files, and PostgreSQL refuses NUL outright.
- Bidirectional override and isolate characters make a name or a link read differently from
  what it is (the "Trojan Source" trick), so nobody needs them in a form.
- Links are only http(s), without spaces or controls: no `javascript:` or `data:` links, and
  nothing that could split a calendar line.
- Dates stay within 2000-2100, so arithmetic around them (time zones, six weeks ahead) never
  overflows and a typo like year 0202 is caught.
- Ids fit the database's 32-bit integer columns; anything larger names no record.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite stores more, but no id of ours gets there

# U+202A-U+202E embeddings/overrides, U+2066-U+2069 isolates, U+200E/F marks are harmless and
# allowed (names in right-to-left scripts need them), U+2028/2029 are line breaks in disguise.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029\x85")
_MULTILINE_ALLOWED = frozenset("\n\r\t")

CONTROL_MESSAGE = "Remove the invisible control characters (such as line breaks or tabs) from this field."
MULTILINE_CONTROL_MESSAGE = "Remove the invisible control characters from this text."
BIDI_MESSAGE = "Remove the hidden text-direction characters from this field."
LINK_MESSAGE = "Enter a full web address starting with https:// (no spaces)."
DATE_MESSAGE = f"Enter a date between {MIN_YEAR} and {MAX_YEAR}."


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _LINE_SEPARATORS


def single_line_problem(value: str | None) -> str | None:
    """A sentence saying what is wrong with a one-line text, or None."""
    if not value:
        return None
    if any(ch in _BIDI_CONTROLS for ch in value):
        return BIDI_MESSAGE
    if any(_is_control(ch) for ch in value):
        return CONTROL_MESSAGE
    return None


def visible(value: str, keep: str = "\n") -> str:
    """The text with every control and text-direction character (but those in `keep`) shown
    as U+FFFD, for echoing refused input back to the person safely."""
    return "".join(
        "\ufffd" if ch not in keep and (ch in _BIDI_CONTROLS or _is_control(ch)) else ch for ch in value
    )


def multi_line_problem(value: str | None) -> str | None:
    """Multi-line text may hold new lines and tabs, and no other control character."""
    if not value:
        return None
    if any(ch in _BIDI_CONTROLS for ch in value):
        return BIDI_MESSAGE
    if any(_is_control(ch) and ch not in _MULTILINE_ALLOWED for ch in value):
        return MULTILINE_CONTROL_MESSAGE
    return None


def link_problem(value: str | None) -> str | None:
    """Only http(s) addresses with a host, no white space or control characters."""
    if not value:
        return None
    if single_line_problem(value) or any(ch.isspace() for ch in value):
        return LINK_MESSAGE
    try:
        parts = urlsplit(value)
    except ValueError:
        return LINK_MESSAGE
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return LINK_MESSAGE
    return None


def is_safe_link(value: str | None) -> bool:
    return bool(value) and link_problem(value) is None


def date_problem(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return DATE_MESSAGE
    return None


def parse_month(value: str | None) -> tuple[int, int] | None:
    """'2026-11' -> (2026, 11); None for anything else, or a year out of range."""
    if not value or len(value) != 7 or value[4] != "-":
        return None
    year, month = value[:4], value[5:]
    if not (year.isascii() and year.isdigit() and month.isascii() and month.isdigit()):
        return None
    y, m = int(year), int(month)
    if not (MIN_YEAR <= y <= MAX_YEAR and 1 <= m <= 12):
        return None
    return y, m


def record_id(value) -> int:
    """A record id from a form or query: a positive integer that fits the database. Raises
    ValueError otherwise (WTForms turns that into "not a valid choice")."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            raise ValueError("not an id")
        number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def optional_record_id(value) -> int | None:
    """record_id, or None for an empty or bad value (for 'pick one or leave empty' selects)."""
    if value in (None, "", "0", 0):
        return None
    try:
        return record_id(value)
    except ValueError:
        return None
