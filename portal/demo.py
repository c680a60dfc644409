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
    """Create the demo people (and, from the cohorts issue on, their programme). Commits."""
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
    db.session.commit()
    return created
