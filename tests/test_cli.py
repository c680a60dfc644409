"""The command-line tasks that other tools rely on."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Role, User


def test_seed_demo_fills_an_empty_database_once(app, runner):
    result = runner.invoke(args=["seed-demo", "--password", "demo password long"])
    assert result.exit_code == 0, result.output
    assert "trainee12@example.org" in result.output and "demo password long" in result.output
    with app.app_context():
        emails = set(db.session.execute(db.select(User.email)).scalars())
        assert {
            "admin@example.org",
            "facilitator1@example.org",
            "facilitator2@example.org",
            "supervisor1@example.org",
            "supervisor2@example.org",
        } <= emails
        assert {f"trainee{n:02d}@example.org" for n in range(1, 13)} <= emails
        admin = db.session.execute(db.select(User).where(User.email == "admin@example.org")).scalar_one()
        assert admin.roles == {Role.ADMIN}
    again = runner.invoke(args=["seed-demo", "--password", "demo password long"])
    assert again.exit_code != 0
    assert "already holds" in again.output


def test_seed_demo_prints_a_random_password_when_none_given(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    password = result.output.strip().splitlines()[-1].split(": ", 1)[1]
    response = client.post("/login", data={"email": "admin@example.org", "password": password})
    assert response.status_code == 303


def test_create_admin_prompts_for_a_password(app, runner, client):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.org"], input="a strong admin phrase\na strong admin phrase\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "boss@example.org")).scalar_one()
        assert user.roles == {Role.ADMIN}
    assert (
        client.post("/login", data={"email": "boss@example.org", "password": "a strong admin phrase"}).status_code
        == 303
    )


def test_create_admin_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-admin", "boss@example.org"], input="password\npassword\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.execute(db.select(User)).first() is None


def test_routes_command_lists_routes(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'routes.db'}", "PORTAL_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "flask", "--app", "app", "routes"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "auth.login" in result.stdout and "/healthz" in result.stdout


def test_seed_demo_builds_the_two_demo_cohorts(app, runner):
    from datetime import timedelta

    from portal.models import Cohort, CohortStatus, Dyad, Enrollment, Supervision, utcnow

    assert runner.invoke(args=["seed-demo", "--password", "demo password long"]).exit_code == 0
    with app.app_context():
        cohorts = db.session.execute(db.select(Cohort).order_by(Cohort.id)).scalars().all()
        # certification: a third, completed cohort of graduates (tests/test_certification.py checks it)
        assert [c.name for c in cohorts][2:] == ["Autumn Cohort 2026"]
        cohorts = cohorts[:2]
        first, second = cohorts
        now = utcnow()
        assert [f.email for f in first.facilitators] == ["facilitator1@example.org"]
        assert first.current_status(now) == CohortStatus.RUNNING
        week3 = first.sessions[2]
        assert abs(week3.starts_at - now) < timedelta(days=7)  # week 3 is this week
        assert [f.email for f in second.facilitators] == ["facilitator2@example.org"]
        assert second.current_status(now) == CohortStatus.ENROLLING
        assert timedelta(days=7) < second.starts_at - now <= timedelta(days=15)

        def roster(cohort):
            return sorted(
                e.user.email
                for e in db.session.execute(db.select(Enrollment).where(Enrollment.cohort_id == cohort.id)).scalars()
            )

        assert roster(first) == [f"trainee{n:02d}@example.org" for n in range(1, 7)]
        assert roster(second) == [f"trainee{n:02d}@example.org" for n in range(7, 13)]
        supervisors = {
            s.trainee.email: s.supervisor.email for s in db.session.execute(db.select(Supervision)).scalars()
        }
        assert {supervisors[f"trainee{n:02d}@example.org"] for n in range(1, 7)} == {"supervisor1@example.org"}
        assert {supervisors[f"trainee{n:02d}@example.org"] for n in range(7, 13)} == {"supervisor2@example.org"}
        for cohort in cohorts:
            dyads = db.session.execute(db.select(Dyad).where(Dyad.cohort_id == cohort.id)).scalars().all()
            assert sorted(len(d.members) for d in dyads) == [2, 2, 2]
