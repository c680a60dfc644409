"""Moodle's GIFT question format: a parser that never raises, and a writer.

Read as Moodle 4.x reads it (question/format/gift/format.php and the "GIFT format" page of
Moodle's documentation):

* questions are separated by blank lines; lines starting with ``//`` are comments (a comment
  holding ``[id:...]`` gives the question's id number, ``[tag:...]`` its tags);
* ``$CATEGORY: path`` sets the category of the questions after it;
* ``::title::`` names a question; ``[html]``, ``[markdown]``, ``[plain]`` and ``[moodle]``
  before a text give its format;
* the answers sit in one ``{...}``: ``=right ~wrong``, ``#feedback`` after an answer and
  ``####general feedback`` at the end; answers in the middle of the sentence leave a blank
  (``_____``) in the stem, as Moodle does;
* ``\\~ \\= \\# \\{ \\} \\: \\\\`` are the characters themselves and ``\\n`` a new line.

Only single-answer multiple choice (and true/false, which becomes the two options True and
False) is an item of the certification's test. Every other kind of question (short answer,
numerical, matching, essay, description, multiple choice with partial credit) is listed in
``result.skipped`` as ``(line, kind)``. What is wrong with a question is listed in
``result.problems`` as ``(line, message)``; the question is then left out of ``result.items``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BLANK = "_____"
FORMATS = ("html", "markdown", "plain", "moodle")
MIN_OPTIONS, MAX_OPTIONS = 2, 6

# Each escape becomes a marker character (dropped) and a private-use character standing for
# the literal, so offsets in the masked text stay the offsets of the source text.
_MARK = "\x00"
_LITERALS = {
    ":": "\ue001",
    "#": "\ue002",
    "=": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    "~": "\ue006",
    "n": "\ue007",
    "\\": "\ue008",
}
_UNMASK = {v: ("\n" if k == "n" else k) for k, v in _LITERALS.items()}
_UNMASK[_MARK] = ""
_UNMASK_TABLE = str.maketrans(_UNMASK)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d*)?)%")
_ID = re.compile(r"\[id:([^\]]*)\]")
_TAG = re.compile(r"\[tag:([^\]]*)\]")
_TF = {"T": True, "TRUE": True, "F": False, "FALSE": False}


@dataclass
class Option:
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass
class Question:
    title: str
    stem: str
    options: list[Option]
    feedback: str = ""
    category: str | None = None
    line: int = 0
    format: str = "moodle"
    id_number: str | None = None
    tags: list[str] = field(default_factory=list)
    kind: str = "multiple choice"
    titled: bool = True  # False: the title was made from the stem, as Moodle does

    @property
    def correct_index(self) -> int:
        return next(i for i, o in enumerate(self.options) if o.correct)


@dataclass
class Result:
    items: list[Question] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Invalid(Exception):
    def __init__(self, offset: int, message: str):
        self.offset = offset
        self.message = message


def _unmask(text: str) -> str:
    return text.translate(_UNMASK_TABLE)


def _mask(text: str, report) -> str:
    """Escapes to markers; an unknown escape is reported (offset, text) and kept as written."""
    out = list(text)
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _LITERALS:
                out[i] = _MARK
                out[i + 1] = _LITERALS[nxt]
                i += 2
                continue
            report(i, f"unknown escape \\{nxt} (write \\\\ for a backslash)")
        i += 1
    return "".join(out)


def _with_format(masked: str, default: str) -> tuple[str, str]:
    """Split a leading [format] off a (masked) text, as Moodle's parse_text_with_format."""
    stripped = masked.strip()
    if stripped.startswith("["):
        end = stripped.find("]")
        name = stripped[1:end].lower() if end > 0 else ""
        if name in FORMATS:
            return stripped[end + 1 :], name
    return stripped, default


def _clean(masked: str) -> str:
    return _unmask(masked).strip()


def _default_title(stem: str) -> str:
    words = " ".join(stem.split())
    return words if len(words) <= 60 else words[:57].rstrip() + "..."


def parse(text) -> Result:
    """Parse GIFT text. Never raises: what cannot be read is reported in `problems`."""
    result = Result()
    try:
        _parse(text, result)
    except Exception as exc:  # pragma: no cover - a last guard; the parser is meant to be total
        result.problems.append((0, f"the file could not be read ({type(exc).__name__})"))
    return result


def _parse(text, result: Result) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        result.problems.append((0, "not a text file"))
        return
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace(_MARK, "")
    # The private-use characters that stand for escapes here are not text anyone writes.
    text = text.translate({ord(c): "\ufffd" for c in _UNMASK if c != _MARK})
    lines = text.split("\n")
    category: str | None = None
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines + [""], start=1):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            category = _block(block, category, result)
            block = []


def _block(block: list[tuple[int, str]], category: str | None, result: Result) -> str | None:
    """One blank-line separated block: comments, a category line and/or one question."""
    comments: list[str] = []
    body: list[tuple[int, str]] = []
    for number, line in block:
        if line.strip().startswith("//"):
            comments.append(line.strip()[2:])
            body.append((number, ""))  # keeps offsets on their lines
        else:
            body.append((number, line))
    # Leading empty (comment) lines are not part of the question.
    while body and not body[0][1].strip():
        body.pop(0)
    if not body:
        return category
    if body[0][1].strip().startswith("$CATEGORY:"):
        category = body[0][1].strip()[len("$CATEGORY:") :].strip()
        body.pop(0)
        while body and not body[0][1].strip():
            body.pop(0)
        if not body:
            return category
    first_line = body[0][0]
    source = "\n".join(line for _, line in body)

    def line_of(offset: int) -> int:
        return first_line + source.count("\n", 0, max(0, offset))

    problems: list[tuple[int, str]] = []
    masked = _mask(source, lambda offset, message: problems.append((line_of(offset), message)))
    try:
        question = _question(masked, line_of, first_line, category, result)
    except _Invalid as invalid:
        problems.append((line_of(invalid.offset), invalid.message))
        question = None
    if problems:
        result.problems.extend(sorted(set(problems)))
        return category
    if question is not None:
        joined = " ".join(comments)
        ids = _ID.findall(joined)
        question.id_number = ids[0].strip() if ids and ids[0].strip() else None
        question.tags = [t.strip() for t in _TAG.findall(joined) if t.strip()]
        result.items.append(question)
    return category


def _question(masked: str, line_of, first_line: int, category, result: Result) -> Question | None:
    lead = len(masked) - len(masked.lstrip())
    text = masked.strip()
    title = None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            raise _Invalid(lead, "the title is not closed with ::")
        title = _clean(text[2:end])
        lead += end + 2
        rest = text[end + 2 :]
        lead += len(rest) - len(rest.lstrip())
        text = rest.strip()
    start, finish = text.find("{"), text.find("}")
    if start == -1 and finish == -1:
        result.skipped.append((first_line, "description"))
        return None
    if finish == -1:
        raise _Invalid(lead + start, "unclosed brace: { has no closing }")
    if start == -1 or finish < start:
        raise _Invalid(lead + finish, "a closing brace } without an opening brace {")
    inner_open = text.find("{", start + 1)
    if inner_open != -1 and inner_open < finish:
        raise _Invalid(lead + start, "unclosed brace: a second { before the closing } (write \\{ for a brace)")
    after = text[finish + 1 :]
    if "{" in after or "}" in after:
        at = finish + 1 + min(i for i in (after.find("{"), after.find("}")) if i != -1)
        raise _Invalid(lead + at, "stray text: a second answer block (a question has one {...})")
    answers = text[start + 1 : finish]
    answers_at = lead + start + 1
    before = text[:start]
    stem_masked = before + after if not after.strip() else before + BLANK + after
    stem, fmt = _with_format(stem_masked, "moodle")
    stem = _clean(stem)
    general = ""
    gf = answers.rfind("####")
    if gf != -1:
        general = _clean(_with_format(answers[gf + 4 :], fmt)[0])
        answers = answers[:gf]
    body = answers.strip()
    body_at = answers_at + (len(answers) - len(answers.lstrip()))
    line = first_line
    if not title:
        titled = False
        title = _default_title(stem)
    else:
        titled = True

    def make(options):
        return Question(
            title=title,
            stem=stem,
            options=options,
            feedback=general,
            category=category,
            line=line,
            format=fmt,
            titled=titled,
        )

    if not body:
        result.skipped.append((line, "essay"))
        return None
    if body.startswith("#"):
        result.skipped.append((line, "numerical"))
        return None
    if "~" not in body:
        if "=" in body and "->" in body:
            result.skipped.append((line, "matching"))
            return None
        check = body.split("#", 1)[0].strip()
        if check.upper() in _TF:
            truth = _TF[check.upper()]
            bits = body.split("#", 2)
            wrong_fb = _clean(bits[1]) if len(bits) > 1 else ""
            right_fb = _clean(bits[2]) if len(bits) > 2 else ""
            options = [
                Option("True", truth, right_fb if truth else wrong_fb),
                Option("False", not truth, wrong_fb if truth else right_fb),
            ]
            question = make(options)
            question.kind = "true/false"
            return question
        result.skipped.append((line, "short answer"))
        return None
    # Multiple choice: split on ~ and = (each starts an answer).
    pieces: list[tuple[int, str, str]] = []  # (offset, sign, text)
    current_sign, current_start = None, 0
    for i, ch in enumerate(body):
        if ch in "~=":
            if current_sign is None:
                lead_text = body[:i]
                if lead_text.strip():
                    raise _Invalid(body_at, "stray text before the first answer (answers start with = or ~)")
            else:
                pieces.append((body_at + current_start, current_sign, body[current_start + 1 : i]))
            current_sign, current_start = ch, i
    pieces.append((body_at + current_start, current_sign, body[current_start + 1 :]))
    options: list[Option] = []
    weights: list[float] = []
    for offset, sign, raw in pieces:
        raw = raw.strip()
        weight = 100.0 if sign == "=" else 0.0
        match = _WEIGHT.match(raw)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:  # pragma: no cover - the pattern only lets numbers through
                weight = 0.0
            raw = raw[match.end() :]
        answer, _, fb = raw.partition("#")
        answer_text = _clean(_with_format(answer, fmt)[0])
        if not answer_text:
            raise _Invalid(offset, "an empty answer")
        options.append(Option(answer_text, weight >= 100.0, _clean(_with_format(fb, fmt)[0]) if fb else ""))
        weights.append(weight)
    if any(0 < w < 100 or w < 0 for w in weights):
        result.skipped.append((line, "multiple choice with partial credit"))
        return None
    if len(options) > MAX_OPTIONS:
        result.skipped.append((line, f"multiple choice with more than {MAX_OPTIONS} answers"))
        return None
    if len(options) < MIN_OPTIONS:
        raise _Invalid(answers_at, "fewer than two options")
    correct = sum(o.correct for o in options)
    if correct == 0:
        raise _Invalid(answers_at, "no correct answer (mark the right one with =)")
    if correct > 1:
        raise _Invalid(answers_at, "two correct answers (a test item has exactly one)")
    return make(options)


# ---------------------------------------------------------------------------------------------
# Writing

_CATEGORY_WEEK = re.compile(r"week\s*(\d+)", re.I)
_CATEGORY_COMPETENCY = re.compile(r"competency\s*(\d+)", re.I)


def week_and_competency(category: str | None) -> tuple[int | None, int | None]:
    """`$course$/Week 3/Competency 4` -> (3, 4); what a category does not name is None."""
    if not category:
        return None, None
    week = _CATEGORY_WEEK.search(category)
    competency = _CATEGORY_COMPETENCY.search(category)
    w = int(week.group(1)) if week else None
    c = int(competency.group(1)) if competency else None
    return (w if w and 1 <= w <= 6 else None), (c if c and 1 <= c <= 10 else None)


def escape(text: str) -> str:
    text = (text or "").replace("\\", "\\\\")
    for ch in "~=#{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def dump(items) -> str:
    """GIFT text for items: parsed questions or anything with .title, .stem, .options
    (.text, .correct, .feedback), .feedback and optionally .category, .id_number, .tags,
    .format. Parsing the result gives the same questions back."""
    out: list[str] = []
    category = None
    for item in items:
        item_category = getattr(item, "category", None)
        if item_category and item_category != category:
            out.append(f"$CATEGORY: {item_category}\n")
            category = item_category
        comment = []
        id_number = getattr(item, "id_number", None)
        if id_number:
            comment.append(f"[id:{id_number.replace(']', '')}]")
        for tag in getattr(item, "tags", None) or []:
            comment.append(f"[tag:{tag.replace(']', '')}]")
        lines = []
        if comment:
            lines.append("// " + " ".join(comment))
        fmt = getattr(item, "format", None) or "markdown"
        fmt = fmt if fmt in FORMATS else "markdown"
        lines.append(f"::{escape(item.title)}::[{fmt}]{escape(item.stem)} {{")
        for option in item.options:
            sign = "=" if option.correct else "~"
            fb = f"#{escape(option.feedback)}" if getattr(option, "feedback", "") else ""
            lines.append(f"\t{sign}{escape(option.text)}{fb}")
        if getattr(item, "feedback", ""):
            lines.append(f"\t####{escape(item.feedback)}")
        lines.append("}")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)
