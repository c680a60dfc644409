"""The demo programme that `flask seed-demo` creates, so a newcomer can click around at once."""

from __future__ import annotations

from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import Role, User, utcnow

ORGANISATIONS = ["Riverside Recovery Centre", "Northfield Peer Network", "Lakeside Community Health"]
PRONOUNS = ["she/her", "he/him", "they/them", None]


def demo_people() -> list[tuple[str, str, set[Role]]]:
    people = [
        ("admin@example.org", "Alex Admin", {Role.ADMIN}),
        ("facilitator1@example.org", "Fran Facilitator", {Role.FACILITATOR}),
        ("facilitator2@example.org", "Farid Facilitator", {Role.FACILITATOR}),
        ("supervisor1@example.org", "Sam Supervisor", {Role.SUPERVISOR}),
        ("supervisor2@example.org", "Sasha Supervisor", {Role.SUPERVISOR}),
    ]
    first_names = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lena"]
    for n, name in enumerate(first_names, start=1):
        people.append((f"trainee{n:02d}@example.org", f"{name} Trainee", {Role.TRAINEE}))
    return people


def seed(password: str) -> dict[str, User]:
    """Create the demo people (and, from the cohorts issue on, their programme). Commits.
    What it records in the audit log is attributed to "demo data", not to the demo admin."""
    from portal import audit

    with audit.written_by("demo"):
        return _seed(password)


def _seed(password: str) -> dict[str, User]:
    hashed = hash_password(password)
    now = utcnow()
    created: dict[str, User] = {}
    for index, (email, name, roles) in enumerate(demo_people()):
        user = User(
            email=email,
            display_name=name,
            password_hash=hashed,
            activated_at=now,
            time_zone="America/New_York",
            pronouns=PRONOUNS[index % len(PRONOUNS)],
            organisation=ORGANISATIONS[index % len(ORGANISATIONS)] if Role.TRAINEE in roles else None,
        )
        user.set_roles(roles)
        db.session.add(user)
        created[email] = user
    db.session.flush()
    _seed_cohorts(created)
    __import__("portal.attendance.demo").attendance.demo.seed_demo(created)  # --- attendance ---
    __import__("portal.exams.demo", fromlist=["seed_demo"]).seed_demo(created)  # exams: bank and a test window
    __import__("portal.assessment.demo", fromlist=["seed_demo"]).seed_demo(created)  # assessment area
    __import__("portal.boards.demo", fromlist=["seed_demo"]).seed_demo(created)  # boards
    __import__("portal.certification.demo", fromlist=["seed_demo"]).seed_demo(created)  # certification
    __import__("portal.notifications.demo", fromlist=["seed_demo"]).seed_demo(created)  # notify
    db.session.commit()
    return created


def _seed_cohorts(people: dict[str, User]) -> None:
    """facilitator1 runs a cohort in its week 3 now (trainee01-06, supervisor1);
    facilitator2's cohort starts in two weeks and is enrolling (trainee07-12, supervisor2)."""
    import random
    from datetime import time, timedelta
    from zoneinfo import ZoneInfo

    from portal.cohorts import dyads, roster
    from portal.cohorts.manage import create_cohort
    from portal.models import CohortStatus

    admin = people["admin@example.org"]
    zone = "America/New_York"
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    plans = [
        (
            "Spring Cohort A",
            "facilitator1@example.org",
            today - timedelta(weeks=2),
            CohortStatus.ENROLLING,
            range(1, 7),
            "supervisor1@example.org",
        ),
        (
            "Summer Cohort B",
            "facilitator2@example.org",
            today + timedelta(weeks=2),
            CohortStatus.ENROLLING,
            range(7, 13),
            "supervisor2@example.org",
        ),
    ]
    for name, facilitator, first_day, status, trainees, supervisor in plans:
        cohort = create_cohort(
            name=name,
            facilitators=[people[facilitator]],
            first_day=first_day,
            start=time(18, 0),
            time_zone=zone,
            meeting_url=f"https://video.example.org/{name.lower().replace(' ', '-')}",
            capacity=12,
            notes=None,
            status=status,
            by=admin,
        )
        for n in trainees:
            trainee = people[f"trainee{n:02d}@example.org"]
            roster.add_trainee(cohort.id, trainee, admin)
            roster.set_supervisor(trainee, people[supervisor], admin)
        dyads.pair_cohort(cohort.id, keep_workplaces_apart=True, by=admin, rng=random.Random(7))
    _add_demo_handout(admin)


def _add_demo_handout(admin: User) -> None:
    """A programme handout for week 2: a one-page PDF of the ten competencies, written here."""
    from flask import current_app

    from portal.cohorts import handouts
    from portal.cohorts.curriculum import COMPETENCIES

    lines = ["Digital Peer Support Competencies", ""] + [
        f"{n}. {title}{' (emerging)' if emerging else ''}" for n, title, emerging in COMPETENCIES
    ]
    handouts.add(
        cohort_id=None,
        week=2,
        title="Digital Peer Support Competencies (summary)",
        upload=("competencies.pdf", minimal_pdf(lines)),
        link_url=None,
        folder=current_app.config["UPLOAD_FOLDER"],
        by=admin,
    )


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF with the given lines of text (Helvetica, 12 pt)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 72 760 Td 16 TL " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text.encode("latin-1") + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
