"""Command-line tasks: `flask --app app seed-demo`, `flask --app app create-admin EMAIL`,
`flask --app app jobs status|deliver|retry-failed`."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, update

from portal import people
from portal.auth.passwords import hash_password, password_problem
from portal.extensions import db
from portal.models import OutboxMail, Role, User, utcnow


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--password", "password", default=None, help="Password for every demo account.")
    def seed_demo(password: str | None) -> None:
        """Fill an empty database with the demo programme and print the sign-ins."""
        from portal.demo import demo_people, seed

        count = db.session.execute(db.select(func.count(User.id))).scalar_one()
        if count:
            click.echo(
                f"seed-demo refused: the database already holds {count} people. "
                "It only fills an empty database (delete instance/portal.sqlite3 to start over).",
                err=True,
            )
            sys.exit(1)
        if password is None:
            password = secrets.token_urlsafe(12)
        elif problem := password_problem(password):
            click.echo(f"seed-demo refused: {problem}", err=True)
            sys.exit(2)
        seed(password)
        click.echo("Demo programme created. Sign in at /login with any of these (password below):")
        for email, _name, roles in demo_people():
            click.echo(f"  {email:<28} {', '.join(sorted(r.value for r in roles))}")
        click.echo(f"Password for all of them: {password}")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default=None, help="Display name (defaults to the part before @).")
    @click.password_option("--password", prompt="Password for the new admin")
    def create_admin(email: str, name: str | None, password: str) -> None:
        """Create an admin account (or give an existing account the admin role)."""
        email = email.strip().lower()
        if "@" not in email:
            raise click.BadParameter("that is not an email address", param_hint="EMAIL")
        if problem := password_problem(password, email=email):
            raise click.BadParameter(problem, param_hint="--password")
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            user = User(email=email, display_name=name or email.split("@")[0])
            db.session.add(user)
            db.session.flush()
        user.password_hash = hash_password(password)
        user.activated_at = user.activated_at or utcnow()
        user.deactivated_at = None
        people.set_roles(user, user.roles | {Role.ADMIN}, None)  # audited: role.granted
        db.session.commit()
        click.echo(f"{email} is an admin.")

    register_jobs(app)


def register_jobs(app: Flask) -> None:
    """`flask jobs ...`: look at and nudge the background work (the consumer itself runs as
    `huey_consumer portal.jobs.huey`, see portal/jobs.py)."""
    from portal import jobs, mail

    group = AppGroup("jobs", help="Background jobs: the huey queue and the mail outbox.")
    app.cli.add_command(group)

    def when(moment) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"

    @group.command("status")
    def status() -> None:
        """Pending and failed jobs, and the mail outbox."""
        s = jobs.status()
        mode = " (immediate mode: tasks run where they are enqueued)" if s["immediate"] else ""
        click.echo(f"Queue: {s['queue']}{mode}: {s['queue_pending']} pending, {s['queue_scheduled']} scheduled")
        click.echo(
            f"Mail: {s['mail_pending']} pending ({s['mail_due']} due now, oldest written "
            f"{when(s['mail_oldest_pending'])}), {s['mail_failed']} failed, "
            f"{s['mail_sent_24h']} sent in the last 24 h"
        )
        if s["retrying"]:
            click.echo("Retrying:")
            for row in s["retrying"]:
                click.echo(
                    f"  #{row.id} {row.to_address}: {row.attempts} attempt(s), next {when(row.next_attempt_at)}; "
                    f"{row.last_error}"
                )
        if s["failed"]:
            click.echo("Failed (flask jobs retry-failed sends them again):")
            for row in s["failed"]:
                click.echo(
                    f"  #{row.id} {row.to_address} \"{row.subject}\" after {row.attempts} attempts: {row.last_error}"
                )
        if s["last_runs"]:
            click.echo("Periodic tasks, last run:")
            for task, tick in s["last_runs"]:
                click.echo(f"  {task}: {when(tick)}")
        if s["runs_failed"]:
            click.echo("Periodic runs that failed in the last 24 h:")
            for run in s["runs_failed"]:
                click.echo(f"  {run.task} at {when(run.tick)}: {run.error}")

    @group.command("deliver")
    def deliver() -> None:
        """Deliver the mail that is due now, in this process."""
        report = mail.deliver_due()
        click.echo(f"{report.sent} sent, {report.retrying} to retry later, {report.failed} failed for good.")

    @group.command("retry-failed")
    def retry_failed() -> None:
        """Give failed mail a fresh set of attempts, starting now."""
        result = db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=None, claimed_until=None)
        )
        count = result.rowcount
        db.session.commit()
        click.echo(f"{count} failed mail{'s' if count != 1 else ''} will be sent again.")
        jobs.nudge()
