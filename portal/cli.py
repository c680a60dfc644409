"""Command-line tasks: `flask --app app seed-demo`, `flask --app app create-admin EMAIL`."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from sqlalchemy import func

from portal.auth.passwords import hash_password, password_problem
from portal.extensions import db
from portal.models import Role, User, utcnow


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
        user.password_hash = hash_password(password)
        user.activated_at = user.activated_at or utcnow()
        user.deactivated_at = None
        user.set_roles(user.roles | {Role.ADMIN})
        db.session.commit()
        click.echo(f"{email} is an admin.")
