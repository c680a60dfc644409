"""Handout files: the type is checked by content (puremagic, and the parts inside Office
files), not only by name; files live outside static/ and are served by an authorised route."""

from __future__ import annotations

import functools
import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import puremagic

MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    extension: str
    content_type: str
    label: str


KINDS = {
    ".pdf": Kind(".pdf", "application/pdf", "PDF"),
    ".docx": Kind(".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    ".pptx": Kind(".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint"),
    ".png": Kind(".png", "image/png", "PNG image"),
    ".jpg": Kind(".jpg", "image/jpeg", "JPEG image"),
}
_ALIASES = {".jpeg": ".jpg", ".jpe": ".jpg", ".jfif": ".jpg"}
# The part that makes a zip a Word or PowerPoint file.
_OFFICE_PART = {".docx": "word/document.xml", ".pptx": "ppt/presentation.xml"}


class HandoutError(ValueError):
    pass


def _sniffed(data: bytes) -> set[str]:
    try:
        matches = puremagic.magic_string(data[:65536] if len(data) > 65536 else data)
    except puremagic.PureError:
        return set()
    return {_ALIASES.get(m.extension.lower(), m.extension.lower()) for m in matches}


def check_file(filename: str, data: bytes) -> Kind:
    """The kind of an uploaded handout, or HandoutError saying why it is refused."""
    if not data:
        raise HandoutError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise HandoutError("The file is larger than 20 MB.")
    suffix = _ALIASES.get(Path(filename).suffix.lower(), Path(filename).suffix.lower())
    if suffix not in KINDS:
        raise HandoutError("Upload a PDF, Word (.docx), PowerPoint (.pptx), PNG or JPG file.")
    found = _sniffed(data)
    if suffix in _OFFICE_PART:
        ok = bool(found & {".docx", ".pptx", ".xlsx", ".zip"}) and _has_part(data, _OFFICE_PART[suffix])
    else:
        ok = suffix in found
    if not ok:
        raise HandoutError(
            f"This file is not really a {KINDS[suffix].label} file (its content does not match its name)."
        )
    return KINDS[suffix]


def _has_part(data: bytes, part: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return part in names and not any(n.lower().endswith("vbaproject.bin") for n in names)


def add(
    *,
    cohort_id: int | None,
    week: int,
    title: str,
    upload: tuple[str, bytes] | None,
    link_url: str | None,
    folder: str,
    by,
):
    """A new handout from an uploaded file (name, bytes) or a link, recorded in the audit
    log. Raises HandoutError; the caller commits."""
    from portal import audit
    from portal.extensions import db
    from portal.models import Handout

    if bool(upload) == bool(link_url):
        raise HandoutError("Choose a file or enter a link (one of the two).")
    handout = Handout(cohort_id=cohort_id, week=week, title=title, uploaded_by_id=by.id, link_url=link_url)
    if upload:
        filename, data = upload
        kind = check_file(filename, data)
        handout.stored_name = store(folder, kind, data)
        handout.filename = safe_download_name(title, kind.extension)
        handout.content_type, handout.size_bytes = kind.content_type, len(data)
    db.session.add(handout)
    db.session.flush()
    audit.record(by, "handout.added", handout, cohort_id=cohort_id, week=week)
    return handout


def by_week(cohort_id: int) -> dict:
    """{week: [handouts]} of a cohort, its own and the programme's, in one query."""
    from portal.cohorts.curriculum import WEEKS
    from portal.extensions import db

    rows = db.session.execute(_by_week_statement(), {"cohort_id": cohort_id}).scalars()
    weeks: dict[int, list] = {w.number: [] for w in WEEKS}
    for handout in rows:
        weeks[handout.week].append(handout)
    return weeks


@functools.cache
def _by_week_statement():
    """Built once (the cohort page and every trainee's dashboard list the handouts)."""
    from sqlalchemy import Integer, bindparam

    from portal.extensions import db
    from portal.models import Handout

    cohort_id = bindparam("cohort_id", type_=Integer)
    return (
        db.select(Handout)
        .where((Handout.cohort_id == cohort_id) | Handout.cohort_id.is_(None), Handout.removed_at.is_(None))
        .order_by(Handout.week, Handout.cohort_id.is_(None).desc(), Handout.created_at)
    )


def store(folder: str, kind: Kind, data: bytes) -> str:
    """Write the bytes under a random name; returns that name."""
    directory = Path(folder) / "handouts"
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + kind.extension
    (directory / name).write_bytes(data)
    return name


def path_of(folder: str, stored_name: str) -> Path:
    return Path(folder) / "handouts" / stored_name


def safe_download_name(title: str, extension: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_()" else "_" for c in title).strip() or "handout"
    return cleaned[:80] + extension
