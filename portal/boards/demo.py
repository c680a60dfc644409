"""Demo boards for `flask seed-demo`: threads on Spring Cohort A's board and on the community
board (with its topics: tech help, resources, practice, jobs), a thread for trainee01's
practice pair, and one reported post in the queue."""

from __future__ import annotations

from portal.boards import posting
from portal.extensions import db
from portal.models import Board, BoardKind, Cohort, Dyad, DyadMember, User


def seed_demo(people: dict[str, User]) -> None:
    posting.ensure_boards()
    for person in people.values():
        posting.accept(person)
    who = lambda n: people[f"trainee{n:02d}@example.org"]  # noqa: E731
    fran, alex = people["facilitator1@example.org"], people["admin@example.org"]
    spring = db.session.execute(db.select(Cohort).where(Cohort.name == "Spring Cohort A")).scalar_one()
    board = posting.cohort_board(spring)
    week = posting.start_thread(board, fran, "Week 3: access and engagement", "What stood out for you this week?")
    posting.reply(week.post.thread, who(1), "The *equity checklist* made me rethink how I offer video calls.")
    posting.reply(week.post.thread, who(2), "Same here. Some people I support only have a prepaid phone.")
    tips = posting.start_thread(
        board, who(3), "Tips for texting with the people we support", "- keep it short\n- say when you will answer"
    )
    reported = posting.reply(tips.post.thread, who(4), "Honestly texting is pointless, just call them.")
    posting.report(reported.post, who(5), "Dismissive of others' experience")
    community = posting.community_board()
    welcome = posting.start_thread(community, alex, "Welcome to the community board", "Introduce yourself here.")
    welcome.post.thread.pinned = True
    posting.reply(welcome.post.thread, who(6), "Hi all, peer specialist from Lakeside. Glad to be here!")
    from portal.boards import topics

    filed = {name: topics.create(community, name, alex) for name in ("Tech help", "Resources", "Practice", "Jobs")}
    posting.start_thread(
        community,
        fran,
        "Resources: free or low-cost technology",
        "Share what has worked for you.",
        topic_id=filed["Resources"].id,
    )
    posting.start_thread(
        community, who(7), "My camera freezes on the Tuesday calls", "Any tips?", topic_id=filed["Tech help"].id
    )
    dyad = db.session.execute(
        db.select(Dyad)
        .join(DyadMember, DyadMember.dyad_id == Dyad.id)
        .where(DyadMember.user_id == who(1).id, DyadMember.left_at.is_(None), Dyad.dissolved_at.is_(None))
    ).scalar_one_or_none()
    if dyad is not None:
        pair_board = db.session.execute(
            db.select(Board).where(Board.kind == BoardKind.DYAD.value, Board.dyad_id == dyad.id)
        ).scalar_one()
        posting.start_thread(pair_board, who(1), "Our practice plan", "Shall we practise the role play on Thursday?")
