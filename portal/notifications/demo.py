"""Demo data for notify (issue 13): a mention on Spring Cohort A's board, a few directory
entries, a direct message conversation, one with three people and a reported message there
(for the admins' reports page)."""

from __future__ import annotations

from portal.boards import posting
from portal.directory import core as directory
from portal.extensions import db
from portal.messages import core as messages
from portal.models import Thread, User


def seed_demo(people: dict[str, User]) -> None:
    who = lambda n: people[f"trainee{n:02d}@example.org"]  # noqa: E731
    thread = db.session.execute(db.select(Thread).where(Thread.title.like("Week 3:%"))).scalars().first()
    if thread is not None:
        posting.reply(thread, who(3), f"@{who(1).display_name} could you share that equity checklist?")
    for n, region, interests, intro in (
        (1, "Ohio", "youth, digital access", "Peer specialist working with young adults."),
        (2, "Ohio", "recovery, rural outreach", "I run a recovery group in a small town."),
        (7, "Oregon", "veterans, housing", "Veteran and peer supporter, happy to connect."),
    ):
        directory.save(who(n).id, listed=True, region=region, interests=interests, open_to_networking=True, intro=intro)
    db.session.flush()
    messages.start(who(2), [who(1)], "Co-facilitating a group?", "Would you like to run a practice group with me?")
    group = messages.start(
        who(7), [who(1), who(2)], "Peer supporters, Ohio and Oregon", "Shall we swap notes on outreach once a month?"
    )
    messages.send(group, who(2), "Yes please. First Monday of the month works for me.")
    pushy = messages.send(group, who(7), "Just answer me already, you always take ages.")
    messages.report(pushy, who(1), "Rude to the others in the group")
