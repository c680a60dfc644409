"""Outgoing mail, through an outbox table.

`send()` only renders the mail and adds an `OutboxMail` row to the current database session:
the caller's commit writes it together with the change that caused it (an invitation and its
mail exist both or neither). `deliver_due()` -- run by the huey tasks in `portal.jobs`, right
after such a commit and every minute -- claims due rows, hands them to the backend and records
the outcome:

- "memory" (tests): appended to `current_app.extensions["mail_outbox"]`;
- "smtp" when MAIL_SERVER is set;
- "log" otherwise (development): the decoded text, links whole, in the server log.

Delivery never uses the caller's session: it has its own, and commits after every step, so an
SMTP outage or a crash leaves each row either sent or still pending (with its attempts,
`last_error` and `next_attempt_at`), never lost.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app, render_template
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import OutboxMail, utcnow

log = logging.getLogger(__name__)

# Settings with their defaults; `portal.jobs.init_app` reads each from the environment.
DEFAULTS = {
    "MAIL_MAX_ATTEMPTS": 12,  # then the mail is "failed" (about 5 hours of retries)
    "MAIL_RETRY_SECONDS": 30,  # first retry after this long, doubling each time ...
    "MAIL_RETRY_MAX_SECONDS": 3600,  # ... up to this long between attempts
    "MAIL_CLAIM_SECONDS": 600,  # a consumer's lease on the rows it is delivering
    "MAIL_BATCH": 50,  # rows claimed at a time
}


def setting(name: str) -> int:
    return int(current_app.config.get(name) or DEFAULTS[name])


def outbox() -> list[EmailMessage]:
    """Mail delivered by the "memory" backend (the tests read it)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def send(to: str, subject: str, template: str, *, headers: dict[str, str] | None = None, **context) -> OutboxMail:
    """Queue a mail in the current transaction; it goes out once the caller commits.
    `headers`: optional extra headers (e.g. List-Unsubscribe), kept with the row."""
    row = OutboxMail(
        to_address=to,
        subject=subject,
        body=render_template(template, **context),
        template=template,
        headers=dict(headers) if headers else None,
    )
    db.session.add(row)
    # Tells portal.jobs that this transaction carries mail: after its commit, nudge delivery.
    db.session.info["mail_written"] = True
    return row


def backend() -> str:
    config = current_app.config
    return config.get("MAIL_BACKEND") or ("smtp" if config.get("MAIL_SERVER") else "log")


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: after the n-th failed attempt wait RETRY * 2**(n-1), capped."""
    seconds = setting("MAIL_RETRY_SECONDS") * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, setting("MAIL_RETRY_MAX_SECONDS")))


def worker_name() -> str:
    """Unique per delivery run: host, process, thread and a random part (two runs in one
    thread, one after the other, must not mistake each other's claims for their own)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime):
    return and_(
        OutboxMail.status == "pending",
        OutboxMail.next_attempt_at <= now,
        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
    )


def claim(session: Session, worker: str, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows for `worker`, atomically, and commit the claim.

    One UPDATE whose WHERE only matches unclaimed (or expired) rows. Two consumers can never
    both take a row: on PostgreSQL a second UPDATE waits for the first one's row lock and then
    re-checks the WHERE against the new row (claimed_until is now in the future, so it no longer
    matches), and SKIP LOCKED in the subquery lets it pass over rows being claimed instead of
    waiting; on SQLite writes are serialised, so the WHERE is evaluated one writer at a time.
    RETURNING tells each consumer exactly which rows it got.
    """
    due = (
        select(OutboxMail.id)
        .where(_claimable(now))
        .order_by(OutboxMail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it
        # Chosen once: as a plain subquery PostgreSQL may run it again for each row it updates,
        # and with SKIP LOCKED each run finds other rows, so more than `limit` were taken.
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    lease = now + timedelta(seconds=setting("MAIL_CLAIM_SECONDS"))
    statement = (
        update(OutboxMail)
        .where(OutboxMail.id.in_(select(due.c.id)), _claimable(now))
        .values(claimed_by=worker, claimed_until=lease)
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(session.execute(statement).scalars())
    session.commit()
    return ids


class Transport:
    """One connection for a whole batch. When the server cannot be reached, every remaining
    mail of the batch fails with that error at once rather than waiting for a timeout each."""

    def __init__(self, config, kind: str):
        self.config = config
        self.kind = kind
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()

    def send(self, message: EmailMessage) -> None:
        if self.kind == "memory":
            outbox().append(message)
        elif self.kind == "smtp":
            self._smtp().send_message(message)
        else:
            # Development: the decoded text, so links are whole (message.as_string() would show
            # quoted-printable fragments of them).
            current_app.logger.warning(
                "MAIL (not sent, MAIL_SERVER unset)\nTo: %s\nSubject: %s\n\n%s",
                message["To"],
                message["Subject"],
                message.get_content(),
            )

    def _smtp(self) -> smtplib.SMTP:
        if self.unreachable is not None:
            raise self.unreachable
        if self.smtp is None:
            config = self.config
            try:
                smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20)
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = error
                raise
            self.smtp = smtp
        return self.smtp

    def reset(self) -> None:
        """After an error mid-conversation, start the next mail on a fresh connection."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None


def build_message(row: OutboxMail, config) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = formatdate(row.created_at.timestamp(), localtime=False)
    # Stable per row: should a crash ever make us send a row again, mail programs can tell.
    domain = urlsplit(config["PUBLIC_BASE_URL"]).hostname or "portal.invalid"
    message["Message-ID"] = f"<outbox.{row.id}.{int(row.created_at.timestamp())}@{domain}>"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.body)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retrying or self.failed)


def deliver_due(*, limit: int | None = None, now: datetime | None = None) -> DeliveryReport:
    """Deliver every mail that is due, batch by batch, in a session of its own."""
    report = DeliveryReport()
    batch = setting("MAIL_BATCH")
    with Session(db.engine) as session:
        while True:
            worker = worker_name()
            ids = claim(session, worker, now or utcnow(), batch if limit is None else min(batch, limit))
            if not ids:
                return report
            _deliver_batch(session, worker, ids, report)
            if limit is not None:
                limit -= len(ids)
                if limit <= 0:
                    return report


def _deliver_batch(session: Session, worker: str, ids: list[int], report: DeliveryReport) -> None:
    config = current_app.config
    rows = session.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)).all()
    messages = [(row.id, row.attempts, build_message(row, config)) for row in rows]
    session.commit()  # hold no transaction (on SQLite: no lock) while talking to the SMTP server
    with Transport(config, backend()) as transport:
        for row_id, attempts, message in messages:
            if not _renew_claim(session, worker, row_id):
                continue  # the lease ran out while earlier mail was slow: another consumer has it
            try:
                transport.send(message)
            except Exception as error:  # any failure is recorded and retried later ...
                transport.reset()
                final = permanent(error)  # ... unless the server refused it for good
                if _record_failure(session, worker, row_id, attempts + 1, error, final=final):
                    report.failed += 1
                else:
                    report.retrying += 1
            else:
                _record_sent(session, worker, row_id)
                report.sent += 1


def _mine(worker: str, row_id: int):
    return and_(OutboxMail.id == row_id, OutboxMail.claimed_by == worker, OutboxMail.status == "pending")


def _record_sent(session: Session, worker: str, row_id: int) -> None:
    now = utcnow()
    result = session.execute(
        update(OutboxMail)
        .where(_mine(worker, row_id))
        .values(
            status="sent",
            sent_at=now,
            last_attempt_at=now,
            attempts=OutboxMail.attempts + 1,
            last_error=None,
            claimed_until=None,  # claimed_by stays: which consumer sent it
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()  # one row at a time: a crash later in the batch cannot undo this
    if result.rowcount != 1:
        # Only possible if sending took longer than the whole lease (MAIL_CLAIM_SECONDS).
        log.error("outbox mail %s was sent but its claim had expired; it may be sent again", row_id)


def permanent(error: Exception) -> bool:
    """A refusal no retry can change: the server answered 5xx to this message's recipient (no
    such mailbox) or to its content. Connection trouble, 4xx answers and refusals that concern
    every mail alike (sign-in, sender address: a setting to fix, then retry) are retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(500 <= code < 600 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def _renew_claim(session: Session, worker: str, row_id: int) -> bool:
    """Extend this consumer's lease on one row just before sending it, so a slow batch never
    lets another consumer take (and send again) a row still waiting its turn here. False when
    the row is no longer ours (the lease had run out and someone else claimed it, or it is sent)."""
    lease = utcnow() + timedelta(seconds=setting("MAIL_CLAIM_SECONDS"))
    result = session.execute(
        update(OutboxMail)
        .where(_mine(worker, row_id))
        .values(claimed_until=lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def _record_failure(
    session: Session, worker: str, row_id: int, attempts: int, error: Exception, *, final: bool = False
) -> bool:
    """Count the attempt and schedule the next one; True when this was the last attempt (the
    last one allowed, or `final`: a permanent refusal)."""
    now = utcnow()
    final = final or attempts >= setting("MAIL_MAX_ATTEMPTS")
    session.execute(
        update(OutboxMail)
        .where(_mine(worker, row_id))
        .values(
            status="failed" if final else "pending",
            attempts=attempts,
            last_attempt_at=now,
            next_attempt_at=now + retry_delay(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    log.warning("outbox mail %s: attempt %s failed (%s)%s", row_id, attempts, error, "; giving up" if final else "")
    return final
