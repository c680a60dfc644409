"""Background jobs: the mail outbox loses nothing and sends nothing twice; periodic tasks run
once per tick; `flask jobs status`. Real databases, a real SMTP server, real consumer processes."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select, update

from portal import jobs, mail
from portal.extensions import db
from portal.models import OutboxMail, PeriodicRun, utcnow
from tests.conftest import make_test_app
from tests.server import free_port

ROOT = Path(__file__).resolve().parent.parent
LINK = "https://portal.example.org/a/very/long/path?token=" + "x" * 90  # longer than a mail line


class Sink(Message):
    """A real SMTP server's handler: keeps every message it accepts."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.delay = delay
        self.messages = []
        self.lock = threading.Lock()

    def handle_message(self, message):
        time.sleep(self.delay)  # a slow server widens any window two consumers could race in
        with self.lock:
            self.messages.append(message)


def rows(app) -> list[OutboxMail]:
    with app.app_context():
        found = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        db.session.expunge_all()
        return found


def queue(app, to="ada@example.org", n=1):
    """Mail written the way the portal writes it: mail.send() and the caller's commit."""
    with app.app_context():
        for i in range(n):
            mail.send(to if n == 1 else f"person{i:03d}@example.org", "Hello", "mail/password_reset.txt",
                      user=SimpleNamespace(display_name="Ada"), minutes=60, link=LINK)
            db.session.commit()


@pytest.fixture
def smtp_app(app):
    """The test database, mail over SMTP to a port where (for now) nothing listens."""
    port = free_port()
    smtp_app = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_BACKEND=None,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_MAX_ATTEMPTS=4,
    )
    yield smtp_app
    with smtp_app.app_context():
        db.engine.dispose()


def test_mail_is_written_in_the_callers_transaction(app, outbox):
    with app.app_context():
        mail.send("gone@example.org", "Never", "mail/password_reset.txt", user=SimpleNamespace(display_name="A"),
                  minutes=60, link=LINK)
        db.session.rollback()
    assert rows(app) == [] and outbox == []

    queue(app, "kept@example.org")
    # Committed, then delivered at once (immediate mode) by the task the commit enqueued.
    assert [m["To"] for m in outbox] == ["kept@example.org"]
    [row] = rows(app)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert "token=" + "x" * 90 in outbox[0].get_content()


def test_a_request_delivers_its_mail_and_marks_it_sent(app, client, make_user, outbox):
    person = make_user()
    response = client.post("/forgot-password", data={"email": person.email})
    assert response.status_code == 200
    assert [m["To"] for m in outbox] == [person.email]
    [row] = rows(app)
    assert row.status == "sent" and row.template == "mail/password_reset.txt"


def test_smtp_down_for_a_while_loses_nothing_and_sends_once(smtp_app):
    queue(smtp_app, "patient@example.org")  # the nudge after the commit finds no server
    [row] = rows(smtp_app)
    assert row.status == "pending" and row.attempts == 1 and row.sent_at is None
    assert "ConnectionRefusedError" in row.last_error
    first_wait = row.next_attempt_at - row.last_attempt_at
    assert first_wait == timedelta(seconds=30)

    with smtp_app.app_context():
        assert not mail.deliver_due()  # not due yet: nothing tried
        assert rows(smtp_app)[0].attempts == 1
        mail.deliver_due(now=utcnow() + timedelta(minutes=1))  # the next tick, still down
    row = rows(smtp_app)[0]
    assert row.attempts == 2 and row.status == "pending"
    assert row.next_attempt_at - row.last_attempt_at == 2 * first_wait  # exponential backoff

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_app.config["MAIL_PORT"])
    controller.start()
    try:
        with smtp_app.app_context():
            later = utcnow() + timedelta(hours=1)
            assert mail.deliver_due(now=later).sent == 1
            assert not mail.deliver_due(now=later + timedelta(hours=1))  # sent rows are never taken again
    finally:
        controller.stop()
    assert [m["To"] for m in sink.messages] == ["patient@example.org"]
    assert "token=" + "x" * 90 in sink.messages[0].get_payload(decode=True).decode()
    row = rows(smtp_app)[0]
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None


def test_after_the_last_attempt_the_mail_is_failed_until_retried(smtp_app, runner):
    queue(smtp_app, "unlucky@example.org")
    with smtp_app.app_context():
        for hour in range(1, 6):
            mail.deliver_due(now=utcnow() + timedelta(hours=hour))
    [row] = rows(smtp_app)
    assert row.status == "failed" and row.attempts == 4  # MAIL_MAX_ATTEMPTS
    assert "ConnectionRefusedError" in row.last_error

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_app.config["MAIL_PORT"])
    controller.start()
    try:
        with smtp_app.app_context():
            assert not mail.deliver_due(now=utcnow() + timedelta(days=1))  # failed is final ...
        result = smtp_app.test_cli_runner().invoke(args=["jobs", "retry-failed"])  # ... until retried
        assert result.exit_code == 0 and "1 failed mail" in result.output, result.output
    finally:
        controller.stop()
    assert [m["To"] for m in sink.messages] == ["unlucky@example.org"]
    assert rows(smtp_app)[0].status == "sent"


def test_development_logs_the_decoded_mail_with_whole_links(app, caplog):
    log_app = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_BACKEND="log")
    with caplog.at_level(logging.WARNING):
        queue(log_app, "dev@example.org")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "MAIL (not sent" in logged and "To: dev@example.org" in logged
    assert LINK in logged
    assert "=\n" not in logged  # no quoted-printable soft line breaks
    assert rows(app)[0].status == "sent"
    with log_app.app_context():
        db.engine.dispose()


def test_a_periodic_task_runs_its_work_once_per_tick_whoever_asks(app):
    """Two consumers (two threads with their own connections) run the same tick at once."""
    done = []
    start = threading.Barrier(2)
    tick = datetime(2030, 5, 1, 12, 0, 20, tzinfo=UTC)

    def consumer(moment):
        with app.app_context():
            start.wait()
            jobs.once_per_tick("tally", timedelta(minutes=1), lambda: done.append(moment), now=moment)

    threads = [threading.Thread(target=consumer, args=(tick + timedelta(seconds=s),)) for s in (0, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1
    with app.app_context():
        # The next minute is a new tick.
        assert jobs.once_per_tick("tally", timedelta(minutes=1), lambda: done.append("next"), now=tick + timedelta(minutes=1))
        assert not jobs.once_per_tick("tally", timedelta(minutes=1), lambda: done.append("again"), now=tick + timedelta(seconds=95))
        runs = db.session.scalars(select(PeriodicRun).where(PeriodicRun.task == "tally")).all()
        assert [r.tick for r in runs] == [datetime(2030, 5, 1, 12, 0, tzinfo=UTC), datetime(2030, 5, 1, 12, 1, tzinfo=UTC)]
        assert all(r.finished_at is not None and r.error is None for r in runs)
    assert done[1:] == ["next"]


def test_the_purge_keeps_failed_mail_and_recent_sent_mail(app):
    queue(app, "recent@example.org")
    queue(app, "old@example.org")
    with app.app_context():
        old = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == "old@example.org"))
        old.sent_at = utcnow() - timedelta(days=31)
        db.session.add(OutboxMail(to_address="stuck@example.org", subject="s", body="b", template="t", status="failed"))
        db.session.commit()
        jobs.purge_old_records.call_local()
        jobs.purge_old_records.call_local()  # the same day's tick: skipped, and harmless anyway
        assert db.session.scalar(select(db.func.count()).select_from(PeriodicRun)) == 1
    assert sorted(r.to_address for r in rows(app)) == ["recent@example.org", "stuck@example.org"]


def test_jobs_status_shows_the_queue_and_the_outbox(app, runner, smtp_app):
    queue(app, "fine@example.org")  # sent
    queue(smtp_app, "waiting@example.org")  # SMTP down: pending, retrying
    with app.app_context():
        db.session.add(
            OutboxMail(to_address="lost@example.org", subject="Gone", body="b", template="mail/x.txt",
                       status="failed", attempts=12, last_error="SMTPRecipientsRefused: 550 no such user")
        )
        db.session.commit()
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    out = re.sub(r"\s+", " ", result.output)
    assert "Queue:" in out and "0 pending, 0 scheduled" in out
    assert "Mail: 1 pending (0 due now" in out
    assert "1 failed, 1 sent in the last 24 h" in out
    assert "lost@example.org" in out and "550 no such user" in out
    assert "waiting@example.org" in out and "ConnectionRefusedError" in out


# --- real consumer processes -------------------------------------------------------------------


def _env(app, instance: Path, smtp_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "MAIL_BACKEND"}}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PORTAL_INSTANCE_PATH=str(instance),  # the huey queue: instance/jobs.sqlite3, shared
        PORTAL_ENV="development",
        SECRET_KEY=app.config["SECRET_KEY"],
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_USE_TLS="false",
        MAIL_BATCH="3",  # small batches: many claims, many chances to race
        PUBLIC_BASE_URL="http://localhost",
    )
    return env


PRODUCER = """
from types import SimpleNamespace
from portal import create_app, mail
from portal.extensions import db
app = create_app()
with app.app_context():
    for i in range({n}):
        mail.send(f"person{{i:03d}}@example.org", "Hello", "mail/password_reset.txt",
                  user=SimpleNamespace(display_name="A"), minutes=60, link="https://x.example/")
        db.session.commit()   # each commit enqueues a delivery nudge into the shared queue
"""


def test_two_consumer_processes_send_each_mail_exactly_once(app, tmp_path):
    # Both consumers enqueue the every-minute task when they start: keep them in one minute.
    while datetime.now(UTC).second > 40:
        time.sleep(1)
    sink = Sink(delay=0.1)  # slow enough that one consumer cannot take every batch alone
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = _env(app, tmp_path, port)
    consumer_bin = str(Path(sys.executable).parent / "huey_consumer")
    logs = [tmp_path / f"consumer{n}.log" for n in (1, 2)]
    processes = []
    n = 40
    try:
        for path in logs:
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own consumer
                    [consumer_bin, "portal.jobs.huey", "-k", "thread", "-w", "4", "-d", "0.05", "-m", "0.3"],
                    cwd=ROOT, env=env, stdout=path.open("w"), stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 30
        while not all("consumer started" in p.read_text() for p in logs):
            assert time.monotonic() < deadline, "consumers did not start:\n" + "\n".join(p.read_text() for p in logs)
            assert all(proc.poll() is None for proc in processes), "\n".join(p.read_text() for p in logs)
            time.sleep(0.1)
        subprocess.run(  # noqa: S603 - the web side: writes mail, nudges the consumers
            [sys.executable, "-c", PRODUCER.format(n=n)], cwd=ROOT, env=env, check=True, timeout=60
        )
        deadline = time.monotonic() + 60
        while len(sink.messages) < n and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # time for any duplicate to arrive
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        controller.stop()
    output = "\n".join(p.read_text() for p in logs)
    received = sorted(m["To"] for m in sink.messages)
    assert received == [f"person{i:03d}@example.org" for i in range(n)], output[-3000:]
    sent = rows(app)
    assert all(r.status == "sent" and r.attempts == 1 for r in sent)
    # Both processes really delivered (otherwise this test would prove nothing).
    assert len({r.claimed_by.split(":")[1] for r in sent}) == 2

    # Each consumer's scheduler enqueued the every-minute task at start-up, so it ran twice
    # (on whichever consumers took it from the shared queue) ...
    assert output.count("Executing portal.jobs.deliver_mail_every_minute") == 2, output[-3000:]
    # ... but its work ran once for the tick: the first run took the tick, the second stepped aside.
    with app.app_context():
        runs = db.session.scalars(select(PeriodicRun).where(PeriodicRun.task == "deliver_mail_every_minute")).all()
    assert len(runs) == 1 and runs[0].finished_at is not None
    assert output.count("already taken: skipped") == 1, output[-3000:]


class Refuse(Sink):
    """A real SMTP server that refuses some recipients: for good (550) or for now (451)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_is_retried(smtp_app):
    sink = Refuse()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_app.config["MAIL_PORT"])
    controller.start()
    try:
        for to in ("nobody@example.org", "busy@example.org", "fine@example.org"):
            queue(smtp_app, to)  # each delivered at once by the commit's nudge
    finally:
        controller.stop()
    by_address = {row.to_address: row for row in rows(smtp_app)}
    assert by_address["nobody@example.org"].status == "failed"  # no retry can change a 550
    assert by_address["nobody@example.org"].attempts == 1 and "550" in by_address["nobody@example.org"].last_error
    assert by_address["busy@example.org"].status == "pending"  # a 451 is tried again later
    assert by_address["busy@example.org"].next_attempt_at > by_address["busy@example.org"].last_attempt_at
    assert by_address["fine@example.org"].status == "sent"
    assert [m["To"] for m in sink.messages] == ["fine@example.org"]


def test_a_consumer_renews_its_lease_per_mail_and_skips_rows_it_no_longer_holds(app, outbox):
    """A batch that took longer than the lease: a row another consumer has since claimed is not
    sent by the first one too; the rows it still holds are sent (their lease renewed first)."""
    jobs.huey.immediate = False  # written, not delivered yet (the nudge only enqueues)
    try:
        queue(app, n=3)
    finally:
        jobs.huey.immediate = True
    assert outbox == []
    from sqlalchemy.orm import Session

    with app.app_context(), Session(db.engine) as session:
        ids = mail.claim(session, "slow-consumer", utcnow(), 10)
        assert len(ids) == 3
        # ... and its batch took longer than the lease (MAIL_CLAIM_SECONDS): the lease ran out.
        session.execute(update(OutboxMail).values(claimed_until=utcnow() - timedelta(seconds=1)))
        session.commit()
        assert mail.claim(session, "other-consumer", utcnow(), 1) == ids[:1]  # someone took one
        report = mail.DeliveryReport()
        mail._deliver_batch(session, "slow-consumer", ids, report)
    assert report.sent == 2
    assert sorted(m["To"] for m in outbox) == ["person001@example.org", "person002@example.org"]
    [taken] = [row for row in rows(app) if row.id == ids[0]]
    assert taken.status == "pending" and taken.claimed_by == "other-consumer"
