"""Background jobs: the huey instance, the Flask app its tasks run in, and the tasks of no area.

A consumer runs beside the web server (`make run` starts one):

    huey_consumer portal.jobs.huey -k thread -w 2

The queue is a SQLite file in the instance folder (`instance/jobs.sqlite3`, or under
PORTAL_INSTANCE_PATH), so development needs no server; with REDIS_URL set it is Redis, so several
machines can each run a consumer. The consumer builds the Flask app itself, once per process,
from the same environment as the web server, and every task runs inside its app context.

With several consumers each one's scheduler enqueues every periodic task, so each periodic
task must be safe to run twice at once: `periodic()` records each tick in `periodic_runs`, whose
unique constraint lets exactly one consumer do the work of that tick. Mail delivery is also safe
by itself: rows are claimed atomically (see `portal.mail.claim`).

In tests (TESTING, or JOBS_IMMEDIATE) huey runs in immediate mode: enqueuing a task runs it at
once, in the calling thread and app context.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from huey import RedisHuey, SqliteHuey, crontab
from huey.storage import MemoryStorage
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import mail
from portal.extensions import db
from portal.models import OutboxMail, PeriodicRun, utcnow

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

# Settings of this module (besides portal.mail.DEFAULTS), read from the environment in init_app.
DEFAULTS = {"MAIL_KEEP_DAYS": 30, "PERIODIC_RUNS_KEEP_DAYS": 30}


def make_huey(instance_path: str | os.PathLike | None = None, redis_url: str | None = None):
    """The queue: Redis when REDIS_URL is set, else a SQLite file in the instance folder.

    Built when this module is imported, before any Flask app exists (the consumer imports
    `portal.jobs.huey` first), so it reads the environment and .env itself, as create_app does.
    """
    load_dotenv(ROOT / ".env", override=False)
    redis_url = redis_url or os.environ.get("REDIS_URL")
    # No result store: nothing reads task results, and they would pile up in the queue.
    if redis_url:
        return RedisHuey("portal-jobs", url=redis_url, results=False)
    folder = Path(instance_path or os.environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")
    folder.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal-jobs", filename=str(folder / "jobs.sqlite3"), results=False)


huey = make_huey()


# --- the Flask app the tasks run in ----------------------------------------------------------

_app: Flask | None = None
_app_lock = threading.Lock()


def consumer_app() -> Flask:
    """The consumer's Flask app: created on first use, once per process (workers are threads)."""
    global _app
    with _app_lock:
        if _app is None:
            from portal import create_app

            _app = create_app()
    return _app


@huey.on_startup()
def _start_consumer_worker() -> None:
    """Each consumer worker, as it starts: build the app now (a broken configuration shows at
    once, not at the first task), and log the portal's messages (mail attempts, periodic runs,
    the development mail log) the way huey_consumer logs its own: its handler, its -v/-q level."""
    from flask.logging import default_handler

    consumer_app()
    huey_logger = logging.getLogger("huey")
    portal_logger = logging.getLogger("portal")  # the app's logger and every portal.* module's
    with _app_lock:
        portal_logger.removeHandler(default_handler)
        for handler in huey_logger.handlers:
            if handler not in portal_logger.handlers:
                portal_logger.addHandler(handler)
        portal_logger.setLevel(huey_logger.getEffectiveLevel())


def in_app_context(function):
    """Run a task inside an app context: the caller's one when there is one (immediate mode in
    tests, `flask jobs` commands), else the consumer's app."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return function(*args, **kwargs)
        with consumer_app().app_context():
            return function(*args, **kwargs)

    return wrapper


# --- periodic tasks: once per tick, however many consumers ------------------------------------

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def tick_of(moment: datetime, every: timedelta) -> datetime:
    """The start of the period `moment` falls in (minutes, days ... counted in UTC)."""
    return _EPOCH + ((moment - _EPOCH) // every) * every


def once_per_tick(task: str, every: timedelta, work, now: datetime | None = None) -> bool:
    """Do `work` unless another consumer already did it for this tick; True when we did.

    The claim is the INSERT of (task, tick): the unique constraint lets one consumer in and makes
    every other one fail (on PostgreSQL the second INSERT waits for the first to commit, then
    fails; on SQLite writes are serialised). The row stays as the record of the run.
    """
    tick = tick_of(now or utcnow(), every)
    # expire_on_commit=False: reading run.id must not open a read transaction that would still be
    # open (on SQLite: a stale snapshot that cannot write) when the run is marked finished.
    with Session(db.engine, expire_on_commit=False) as session:
        run = PeriodicRun(task=task, tick=tick, worker=mail.worker_name())
        session.add(run)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("periodic task %s: tick %s already taken: skipped", task, tick.isoformat())
            return False
        run_id = run.id
        error = None
        try:
            work()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            raise
        finally:
            session.execute(
                update(PeriodicRun).where(PeriodicRun.id == run_id).values(finished_at=utcnow(), error=error)
            )
            session.commit()
    return True


def periodic(every: timedelta, **cron):
    """A huey periodic task (crontab(**cron), in UTC) whose work runs once per `every`."""

    def decorate(function):
        @functools.wraps(function)
        def run():
            return once_per_tick(function.__name__, every, function)

        return huey.periodic_task(crontab(**cron))(in_app_context(run))

    return decorate


# --- the tasks --------------------------------------------------------------------------------


@huey.task()
@in_app_context
def deliver_mail() -> None:
    """Send the mail that is due now (enqueued after every commit that wrote mail)."""
    mail.deliver_due()


@periodic(timedelta(minutes=1), minute="*")
def deliver_mail_every_minute() -> None:
    """The safety net: retries, and mail whose nudge was lost (a crash, a queue outage)."""
    mail.deliver_due()


@periodic(timedelta(days=1), hour="3", minute="30")
def purge_old_records() -> None:
    """Sent mail after MAIL_KEEP_DAYS (its links expired long ago) and old periodic-run rows.
    Failed mail stays until someone looks at it (`flask jobs status`, `jobs retry-failed`)."""
    config = current_app.config
    now = utcnow()
    with Session(db.engine) as session:
        session.execute(
            delete(OutboxMail).where(
                OutboxMail.status == "sent", OutboxMail.sent_at < now - timedelta(days=config["MAIL_KEEP_DAYS"])
            )
        )
        session.execute(
            delete(PeriodicRun).where(PeriodicRun.tick < now - timedelta(days=config["PERIODIC_RUNS_KEEP_DAYS"]))
        )
        session.commit()


def nudge() -> None:
    """Deliver new mail within seconds rather than at the next minute. Never raises: the
    mail is safe in the outbox and the every-minute task will send it anyway."""
    try:
        deliver_mail()  # enqueues; in immediate mode runs right here
    except Exception:
        log.exception("could not start mail delivery; the every-minute task will send the mail")


# --- hooks: after a commit that wrote mail, nudge delivery -------------------------------------


@event.listens_for(db.session, "after_commit")
def _after_commit(session):
    if session.in_nested_transaction():
        # A savepoint was released (SQLAlchemy calls this hook for those too): the outer
        # transaction still holds its changes (and, on SQLite, the write lock a delivery in
        # this thread would wait for forever). The outer commit nudges.
        return
    if not session.info.pop("mail_written", False):
        return
    if has_request_context():
        # Not now: the request's session is still in use. _nudge_after_request runs once the
        # response is done (and, in tests, before the test client returns).
        g.portal_mail_committed = True
    else:
        nudge()


@event.listens_for(db.session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended (commit or rollback)
        session.info.pop("mail_written", None)


def _report_mail_left_uncommitted(response):
    """Mail belongs in the transaction of the change that caused it: a view that calls
    mail.send() and never commits loses the mail with its change. Nothing is committed here
    (that would also save whatever else the view left half done); tests fail loudly."""
    if db.session().info.get("mail_written"):
        message = f"mail.send() without a commit in {request.endpoint}: the mail is dropped with the transaction"
        if current_app.config.get("TESTING"):
            raise RuntimeError(message)
        current_app.logger.error(message)
    return response


def _nudge_after_request(error):
    if g.pop("portal_mail_committed", False):
        # End the request's session first: on SQLite an open transaction of a POST holds the
        # write lock the delivery (in immediate mode, in this same thread) needs.
        db.session.remove()
        nudge()


def init_app(app: Flask) -> None:
    for name, default in {**mail.DEFAULTS, **DEFAULTS}.items():
        app.config.setdefault(name, int(os.environ.get(name) or default))
    app.config.setdefault("JOBS_IMMEDIATE", bool(app.config.get("TESTING")))
    if app.config["JOBS_IMMEDIATE"]:
        # Tests never touch a real queue (the developer's instance/jobs.sqlite3, a shared Redis):
        # a test that turns immediate mode off to look at what was enqueued gets a queue in memory.
        huey.storage_class, huey.storage_kwargs = MemoryStorage, {}
        huey.immediate = True
    app.after_request(_report_mail_left_uncommitted)
    app.teardown_request(_nudge_after_request)


# --- what `flask jobs status` shows -------------------------------------------------------------


def status(now: datetime | None = None) -> dict:
    now = now or utcnow()
    day_ago = now - timedelta(hours=24)
    with Session(db.engine) as session:
        counts = dict(session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())
        due = session.scalar(
            select(func.count()).where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
        )
        oldest = session.scalar(select(func.min(OutboxMail.created_at)).where(OutboxMail.status == "pending"))
        sent_24h = session.scalar(
            select(func.count()).where(OutboxMail.status == "sent", OutboxMail.sent_at >= day_ago)
        )
        failed = session.execute(
            select(OutboxMail.id, OutboxMail.to_address, OutboxMail.subject, OutboxMail.attempts, OutboxMail.last_error)
            .where(OutboxMail.status == "failed")
            .order_by(OutboxMail.id.desc())
            .limit(20)
        ).all()
        retrying = session.execute(
            select(
                OutboxMail.id,
                OutboxMail.to_address,
                OutboxMail.attempts,
                OutboxMail.next_attempt_at,
                OutboxMail.last_error,
            )
            .where(OutboxMail.status == "pending", OutboxMail.attempts > 0)
            .order_by(OutboxMail.next_attempt_at)
            .limit(20)
        ).all()
        runs_failed = session.execute(
            select(PeriodicRun.task, PeriodicRun.tick, PeriodicRun.error)
            .where(PeriodicRun.error.is_not(None), PeriodicRun.tick >= day_ago)
            .order_by(PeriodicRun.tick.desc())
            .limit(20)
        ).all()
        last_runs = session.execute(
            select(PeriodicRun.task, func.max(PeriodicRun.tick)).group_by(PeriodicRun.task).order_by(PeriodicRun.task)
        ).all()
    storage = huey.storage
    where = getattr(storage, "filename", None) or ("Redis" if isinstance(huey, RedisHuey) else type(storage).__name__)
    return {
        "queue": where,
        "immediate": huey.immediate,
        "queue_pending": huey.pending_count(),
        "queue_scheduled": huey.scheduled_count(),
        "mail_pending": counts.get("pending", 0),
        "mail_due": due or 0,
        "mail_oldest_pending": oldest,
        "mail_failed": counts.get("failed", 0),
        "mail_sent_24h": sent_24h or 0,
        "failed": failed,
        "retrying": retrying,
        "runs_failed": runs_failed,
        "last_runs": last_runs,
    }
