"""Reading the audit log: its filters, its entries as plain sentences with people's and
cohorts' names, and its CSV export. No Flask here: the route passes the filters and the
reader's time zone.

Events are written by portal.audit.record; an action this module has no sentence for still
reads sensibly ("Alex Admin: exam item changed (exam item 4)")."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_

from portal.audit import ORIGINS
from portal.extensions import db
from portal.models import AuditEvent, Cohort, Handout, User

# What kind of change an action is: its key (in the filter's URL), label and action prefixes.
KINDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("accounts", "Accounts and roles", ("account.", "role.", "password.", "calendar.")),
    ("cohorts", "Cohorts and sessions", ("cohort.", "session.")),
    ("roster", "Roster and supervisors", ("roster.", "supervision.")),
    ("pairs", "Practice pairs", ("dyads.",)),
    ("handouts", "Handouts", ("handout.",)),
    ("attendance", "Attendance and make-ups", ("attendance.", "checkin.", "makeup.")),
    ("assessment", "Oral exam and competencies", ("oral_exam.", "checklist.", "competenc")),
    ("exams", "Written test", ("exam.", "exam_item.", "exam_items.")),
    ("boards", "Boards", ("board.",)),
    ("messages", "Reported direct messages", ("messages.",)),
    ("certification", "Certification", ("certificate.", "certification.")),
]
OTHER_KIND = ("other", "Anything else")
KIND_LABELS = dict([(key, label) for key, label, _ in KINDS] + [OTHER_KIND])

# The "who" filter: a person's id, or one of these.
SYSTEM = "system"  # the portal itself (a periodic task, an automatic flag)


def kind_of(action: str) -> str:
    for key, _, prefixes in KINDS:
        if action.startswith(prefixes):
            return key
    return OTHER_KIND[0]


@dataclass
class Filters:
    who: str = ""  # "", a user id, "demo", "system"
    kind: str = ""
    cohort_id: int | None = None
    date_from: date | None = None  # in the reader's zone, both days included
    date_to: date | None = None
    zone: str = "UTC"


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone))


def query(filters: Filters):
    """The events the filters select, newest first."""
    q = db.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.who in ORIGINS:
        q = q.where(AuditEvent.origin == filters.who)
    elif filters.who == SYSTEM:
        q = q.where(AuditEvent.actor_id.is_(None), AuditEvent.origin.is_(None))
    elif filters.who.isdigit():
        q = q.where(AuditEvent.actor_id == int(filters.who))
    if filters.kind:
        every = [p for _, _, prefixes in KINDS for p in prefixes]
        if filters.kind == OTHER_KIND[0]:
            q = q.where(*[~AuditEvent.action.startswith(p, autoescape=True) for p in every])
        else:
            prefixes = next((p for key, _, p in KINDS if key == filters.kind), ())
            q = q.where(or_(*[AuditEvent.action.startswith(p, autoescape=True) for p in prefixes]))
    if filters.cohort_id is not None:
        q = q.where(AuditEvent.cohort_id == filters.cohort_id)
    if filters.date_from is not None:
        q = q.where(AuditEvent.at >= _day_start(filters.date_from, filters.zone))
    if filters.date_to is not None:
        q = q.where(AuditEvent.at < _day_start(filters.date_to + timedelta(days=1), filters.zone))
    return q


def actor_choices() -> list[tuple[str, str]]:
    """Everyone who appears as the author of an event, by name."""
    rows = db.session.execute(
        db.select(User.id, User.display_name)
        .where(User.id.in_(db.select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None))))
        .order_by(User.display_name, User.id)
    ).all()
    return [(str(r.id), r.display_name) for r in rows]


# --- sentences ----------------------------------------------------------------------------


@dataclass
class Entry:
    """One event as the log shows it."""

    id: int
    at: datetime
    who: str
    kind: str
    cohort: str
    sentence: str
    action: str


class _Names:
    """The names an list of events mentions, fetched in one query per kind of thing."""

    def __init__(self, events: list[AuditEvent]):
        user_ids: set[int] = set()
        cohort_ids: set[int] = set()
        handout_ids: set[int] = set()
        for e in events:
            if e.actor_id:
                user_ids.add(e.actor_id)
            if e.cohort_id:
                cohort_ids.add(e.cohort_id)
            if e.subject_type == "users" and e.subject_id:
                user_ids.add(e.subject_id)
            if e.subject_type == "handouts" and e.subject_id:
                handout_ids.add(e.subject_id)
            details = e.details or {}
            for key in ("user_id", "trainee_id", "supervisor_id", "first", "second", "author_id"):
                if isinstance(details.get(key), int):
                    user_ids.add(details[key])
            if e.action == "cohort.facilitators_changed":
                user_ids.update(i for i in (details.get("after") or []) if isinstance(i, int))
        self.users = self._load(User.id, User.display_name, user_ids)
        self.cohorts = self._load(Cohort.id, Cohort.name, cohort_ids)
        self.handouts = self._load(Handout.id, Handout.title, handout_ids)

    @staticmethod
    def _load(id_column, name_column, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        return dict(db.session.execute(db.select(id_column, name_column).where(id_column.in_(ids))).all())

    def user(self, user_id: Any) -> str:
        return self.users.get(user_id) or ("someone" if user_id is None else f"person #{user_id}")

    def cohort(self, cohort_id: Any) -> str:
        return self.cohorts.get(cohort_id) or (f"cohort #{cohort_id}" if cohort_id else "")


def who_of(event: AuditEvent, names: _Names) -> str:
    if event.origin:
        return ORIGINS.get(event.origin, event.origin)
    if event.actor_id is None:
        return "The portal"
    return names.user(event.actor_id)


def _when(value: str | None, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return "a new time"
    local = moment.astimezone(zone)
    return f"{local:%a %-d %b %Y, %H:%M} {local.tzname()}"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _roles(values: Iterable[str]) -> str:
    names = [str(v) for v in values]
    return ", ".join(names) if names else "no role"


Sentence = Callable[[AuditEvent, dict, str, _Names, ZoneInfo], str]


def _subject_user(e: AuditEvent, names: _Names) -> str:
    return names.user(e.subject_id)


def _in(e: AuditEvent, names: _Names, word: str = "in") -> str:
    return f" {word} {names.cohort(e.cohort_id)}" if e.cohort_id else ""


def _rescheduled(e, d, who, names, zone):
    before, after = d.get("before") or {}, d.get("after") or {}
    week = f"week {d.get('week')} of {names.cohort(e.cohort_id)}"
    if before.get("starts_at") != after.get("starts_at"):
        text = f"{who} moved {week} to {_when(after.get('starts_at'), zone)}"
        if before.get("meeting_url") != after.get("meeting_url"):
            text += " and changed its meeting link"
        return text
    return f"{who} changed the meeting link of {week}"


def _paired(e, d, who, names, _zone):
    groups = d.get("groups") or []
    people = sum(len(g) for g in groups if isinstance(g, list))
    return (
        f"{who} paired {_plural(people, 'person', 'people')} into {_plural(len(groups), 'pair')}"
        f"{_in(e, names)} ({d.get('mode', 'random')})"
    )


SENTENCES: dict[str, Sentence] = {
    "account.invited": lambda e, d, who, n, z: (
        f"{who} invited {_subject_user(e, n)} ({d.get('email', '')}) as {_roles(d.get('roles') or [])}"
    ),
    "account.invitation_resent": lambda e, d, who, n, z: f"{who} sent {_subject_user(e, n)} a new invitation",
    "account.activated": lambda e, d, who, n, z: f"{who} accepted their invitation and chose a password",
    "account.deactivated": lambda e, d, who, n, z: (
        f"{who} deactivated the account of {_subject_user(e, n)}"
        + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "account.reactivated": lambda e, d, who, n, z: f"{who} reactivated the account of {_subject_user(e, n)}",
    "account.roles_changed": lambda e, d, who, n, z: (
        f"{who} changed the roles of {_subject_user(e, n)} from "
        f"{_roles(d.get('before') or [])} to {_roles(d.get('after') or [])}"
    ),
    "role.granted": lambda e, d, who, n, z: f"{who} gave {_subject_user(e, n)} the {d.get('role')} role",
    "role.removed": lambda e, d, who, n, z: f"{who} took the {d.get('role')} role from {_subject_user(e, n)}",
    "password.changed": lambda e, d, who, n, z: f"{who} changed their password",
    "password.reset": lambda e, d, who, n, z: f"{who} chose a new password through a reset link",
    "calendar.regenerated": lambda e, d, who, n, z: f"{who} made a new private calendar address",
    "cohort.created": lambda e, d, who, n, z: f"{who} created {n.cohort(e.cohort_id)}",
    "cohort.updated": lambda e, d, who, n, z: f"{who} changed the settings of {n.cohort(e.cohort_id)}",
    "cohort.facilitators_changed": lambda e, d, who, n, z: (
        f"{who} made "
        + (" and ".join(n.user(i) for i in d.get("after") or []) or "nobody")
        + f" the facilitators of {n.cohort(e.cohort_id)}"
    ),
    "session.rescheduled": _rescheduled,
    "roster.enrolled": lambda e, d, who, n, z: f"{who} added {n.user(d.get('user_id'))} to {n.cohort(e.cohort_id)}",
    "roster.waitlisted": lambda e, d, who, n, z: (
        f"{who} put {n.user(d.get('user_id'))} on the waitlist of {n.cohort(e.cohort_id)}"
    ),
    "roster.promoted": lambda e, d, who, n, z: (
        f"{n.user(d.get('user_id'))} moved up from the waitlist into {n.cohort(e.cohort_id)} (after a change by {who})"
    ),
    "roster.withdrawn": lambda e, d, who, n, z: (
        f"{who} withdrew {n.user(d.get('user_id'))} from "
        f"{n.cohort(e.cohort_id)}" + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "supervision.set": lambda e, d, who, n, z: (
        f"{who} made {n.user(d.get('supervisor_id'))} the supervisor of {n.user(d.get('trainee_id'))}"
    ),
    "dyads.paired": _paired,
    "dyads.swapped": lambda e, d, who, n, z: (
        f"{who} swapped {n.user(d.get('first'))} and {n.user(d.get('second'))} between their pairs{_in(e, n)}"
    ),
    "dyads.locked": lambda e, d, who, n, z: f"{who} locked the practice pairs{_in(e, n, 'of')}",
    "dyads.unlocked": lambda e, d, who, n, z: f"{who} unlocked the practice pairs{_in(e, n, 'of')}",
    "dyads.repaired": lambda e, d, who, n, z: f"{who} found partners for the people without one{_in(e, n)}",
    "handout.added": lambda e, d, who, n, z: (
        f"{who} added the handout “{n.handouts.get(e.subject_id, 'a handout')}” "
        f"to week {d.get('week')}" + (f" of {n.cohort(e.cohort_id)}" if e.cohort_id else " of every cohort")
    ),
    "handout.removed": lambda e, d, who, n, z: (
        f"{who} removed the handout “{n.handouts.get(e.subject_id, 'a handout')}”"
        + (f" from {n.cohort(e.cohort_id)}" if e.cohort_id else " from every cohort")
    ),
    "checkin.opened": lambda e, d, who, n, z: f"{who} opened the check-in of a session{_in(e, n, 'of')}",
    "checkin.closed": lambda e, d, who, n, z: f"{who} closed the check-in of a session{_in(e, n, 'of')}",
    "attendance.corrected": lambda e, d, who, n, z: (
        f"{who} corrected the attendance of {n.user(d.get('user_id'))}{_in(e, n)}"
    ),
    "makeup.requested": lambda e, d, who, n, z: f"{who} asked to make up a session in another cohort",
    "makeup.accepted": lambda e, d, who, n, z: f"{who} accepted the make-up request of {n.user(d.get('user_id'))}",
    "makeup.declined": lambda e, d, who, n, z: f"{who} declined the make-up request of {n.user(d.get('user_id'))}",
    "oral_exam.opened": lambda e, d, who, n, z: f"{who} opened an oral exam{_in(e, n)}",
    "oral_exam.trainee_added": lambda e, d, who, n, z: f"{who} added {n.user(d.get('trainee_id'))} to an oral exam",
    "oral_exam.finalised": lambda e, d, who, n, z: (
        f"{who} finalised the oral exam result of "
        f"{n.user(d.get('trainee_id'))} ({str(d.get('outcome', '')).replace('_', ' ')})"
    ),
    "oral_exam.unlocked": lambda e, d, who, n, z: (
        f"{who} unlocked the oral exam result of "
        f"{n.user(d.get('trainee_id'))}" + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "exam.opened": lambda e, d, who, n, z: f"{who} opened the written test{_in(e, n, 'for')}",
    "exam.extra_attempt": lambda e, d, who, n, z: (
        f"{who} gave {n.user(d.get('trainee_id'))} another attempt at the written test"
    ),
    "exam.extra_time": lambda e, d, who, n, z: (
        f"{who} gave {n.user(d.get('trainee_id'))} {d.get('minutes')} extra minutes for the written test"
    ),
    "exam_items.imported": lambda e, d, who, n, z: (
        f"{who} imported {_plural(int(d.get('saved') or 0), 'test question')}"
    ),
    "board.flags_dismissed": lambda e, d, who, n, z: f"{who} dismissed the reports on a board post",
    "messages.report_dismissed": lambda e, d, who, n, z: (
        f"{who} dismissed the reports on a direct message by {n.user(d.get('author_id'))}"
    ),
    "messages.report_removed": lambda e, d, who, n, z: (
        f"{who} removed a reported direct message by {n.user(d.get('author_id'))}"
    ),
    "board.post_approved": lambda e, d, who, n, z: f"{who} approved a board post",
    "board.post_unhidden": lambda e, d, who, n, z: f"{who} showed a hidden board post again",
    "board.text_changed": lambda e, d, who, n, z: (
        f"{who} changed the boards' {str(d.get('key', 'text')).replace('_', ' ')}"
    ),
    "board.thread_locked": lambda e, d, who, n, z: f"{who} locked a board thread",
    "board.thread_unlocked": lambda e, d, who, n, z: f"{who} unlocked a board thread",
    "board.thread_pinned": lambda e, d, who, n, z: f"{who} pinned a board thread",
    "board.thread_unpinned": lambda e, d, who, n, z: f"{who} unpinned a board thread",
    "board.thread_moved": lambda e, d, who, n, z: f"{who} moved a board thread to another board",
    "checklist.created": lambda e, d, who, n, z: f"{who} created the oral exam checklist “{d.get('name', '')}”",
    "checklist.item_added": lambda e, d, who, n, z: f"{who} added an item to an oral exam checklist",
    "checklist.item_edited": lambda e, d, who, n, z: f"{who} edited an item of an oral exam checklist",
    "checklist.item_moved": lambda e, d, who, n, z: f"{who} moved an item of an oral exam checklist",
    "checklist.retired": lambda e, d, who, n, z: f"{who} retired an oral exam checklist",
    "exam_item.created": lambda e, d, who, n, z: f"{who} wrote the test question “{d.get('title', '')}”",
    "exam_item.changed": lambda e, d, who, n, z: f"{who} changed the test question “{d.get('title', '')}”",
    "attendance.settings": lambda e, d, who, n, z: f"{who} changed what counts as attending{_in(e, n, 'for')}",
    "board.crisis_flagged": lambda e, d, who, n, z: f"{who} flagged a board post that may need a crisis response",
    "board.post_hidden": lambda e, d, who, n, z: (
        f"{who} hid a board post" + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "certificate.issued": lambda e, d, who, n, z: (
        f"{who} issued the certificate of {n.user(d.get('user_id'))}{_in(e, n, 'in')}"
    ),
    "certificate.approved": lambda e, d, who, n, z: (
        f"{who} approved and issued the certificate of {n.user(d.get('user_id'))}{_in(e, n, 'in')}"
    ),
    "certificate.revoked": lambda e, d, who, n, z: (
        f"{who} revoked the certificate of {n.user(d.get('user_id'))}{_in(e, n, 'in')}"
        + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "certificate.reissued": lambda e, d, who, n, z: (
        f"{who} reissued the certificate of {n.user(d.get('user_id'))}{_in(e, n, 'in')}"
        + (f" (reason: {d['reason']})" if d.get("reason") else "")
    ),
    "certification.settings_changed": lambda e, d, who, n, z: (
        f"{who} changed the certification rule{_in(e, n, 'of')}"
    ),
    "board.user_suspended": lambda e, d, who, n, z: (
        f"{who} suspended {n.user(d.get('user_id'))} from a board for {_plural(int(d.get('days') or 0), 'day')}"
    ),
}


def sentence(event: AuditEvent, names: _Names, zone: ZoneInfo) -> str:
    who = who_of(event, names)
    details = event.details or {}
    write = SENTENCES.get(event.action)
    if write is not None:
        try:
            text = write(event, details, who, names, zone)
        except (TypeError, ValueError, AttributeError):  # details of an unexpected shape
            text = None
        if text:
            return text[0].upper() + text[1:] + "."
    what = event.action.replace("_", " ").replace(".", ": ", 1)
    item = event.subject_type.replace("_", " ").rstrip("s")
    return f"{who}: {what} ({item}{' #' + str(event.subject_id) if event.subject_id else ''}){_in(event, names)}."


def describe(events: list[AuditEvent], zone_name: str) -> list[Entry]:
    zone = ZoneInfo(zone_name)
    names = _Names(events)
    return [
        Entry(
            id=e.id,
            at=e.at,
            who=who_of(e, names),
            kind=KIND_LABELS[kind_of(e.action)],
            cohort=names.cohort(e.cohort_id),
            sentence=sentence(e, names, zone),
            action=e.action,
        )
        for e in events
    ]


# --- CSV ----------------------------------------------------------------------------------

# A cell a spreadsheet would read as a formula (or a command) gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_LIMIT = 100_000


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(filters: Filters, limit: int = CSV_LIMIT) -> str:
    """Every event the filters select (newest first, at most `limit`), one per row."""
    zone = ZoneInfo(filters.zone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["When (UTC)", f"When ({filters.zone})", "Who", "Kind", "Cohort", "What happened", "Action"])
    result = db.session.execute(query(filters).limit(limit).execution_options(yield_per=1000)).scalars()
    for batch in result.partitions():
        for entry in describe(list(batch), filters.zone):
            local = entry.at.astimezone(zone)
            writer.writerow(
                [
                    csv_cell(c)
                    for c in (
                        entry.at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S"),
                        local.strftime("%Y-%m-%d %H:%M:%S"),
                        entry.who,
                        entry.kind,
                        entry.cohort,
                        entry.sentence,
                        entry.action,
                    )
                ]
            )
    return out.getvalue()
