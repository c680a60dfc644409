"""Direct messages, without Flask requests: threads between two or a few members, the same
Markdown and sanitizer as board posts, blocks (the blocked person is not told: what they send
simply never reaches the person who blocked them) and reports to the admins, who read a
message only once it is reported, with its thread around it. Callers commit."""

from __future__ import annotations

import functools

from sqlalchemy import Integer, bindparam
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.markup import render_markdown
from portal.models import (
    Block,
    Conversation,
    ConversationMember,
    DirectMessage,
    MessageReport,
    User,
    utcnow,
)

MAX_MEMBERS = 5
MAX_OTHERS = MAX_MEMBERS - 1  # the people one picks besides oneself
PAGE_SIZE = 50
CONTEXT = 3  # messages either side of a reported one


class MessageError(Exception):
    """A refusal the person can act on (shown next to the control)."""


def blocked(blocker_id: int, author_id: int) -> bool:
    return (
        db.session.execute(
            db.select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == author_id)
        ).first()
        is not None
    )


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def blocked_by(user_id: int) -> set[int]:
    return set(db.session.execute(db.select(Block.blocked_id).where(Block.blocker_id == user_id)).scalars())


def member_ids(conversation_id: int) -> list[int]:
    return list(
        db.session.execute(
            db.select(ConversationMember.user_id)
            .where(ConversationMember.conversation_id == conversation_id)
            .order_by(ConversationMember.user_id)
        ).scalars()
    )


def start(author: User, recipients: list[User], subject: str, body: str) -> Conversation:
    people = {p.id: p for p in recipients if p.id != author.id}
    if not people:
        raise MessageError("Choose someone to write to.")
    if len(people) + 1 > MAX_MEMBERS:
        raise MessageError(f"A conversation has at most {MAX_MEMBERS} people.")
    mine = blocked_by(author.id)
    refused = [p.display_name for p in people.values() if p.id in mine]
    if refused:
        raise MessageError(
            f"You have blocked {_and(refused)}. Unblock them first (from a conversation with them) to write to them."
        )
    # Someone who blocked the author is put in all the same (the author is not told), but the
    # conversation never reaches them: see hidden_from.
    now = utcnow()
    conversation = Conversation(subject=subject, created_by_id=author.id, created_at=now, last_message_at=now)
    db.session.add(conversation)
    db.session.flush()
    for user_id in [author.id, *people]:
        db.session.add(ConversationMember(conversation_id=conversation.id, user_id=user_id))
    db.session.flush()
    send(conversation, author, body)
    return conversation


def send(conversation: Conversation, author: User, body: str) -> DirectMessage:
    """A message; every other member is told, unless they blocked the author (not said)."""
    from portal.notifications import core as notifications

    now = utcnow()
    message = DirectMessage(
        conversation_id=conversation.id,
        author_id=author.id,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
    )
    db.session.add(message)
    conversation.last_message_at = now
    db.session.flush()
    mark_read(conversation, author.id, message.id)
    for user_id in member_ids(conversation.id):
        if user_id == author.id or blocked(user_id, author.id) or hidden_from(conversation, user_id):
            continue
        person = db.session.get(User, user_id)
        if person.deactivated_at is None:
            notifications.notify(
                person,
                "message",
                f"{author.display_name} sent you a message: “{conversation.subject}”",
                actor=author,
                conversation=conversation,
                message=message,
            )
    return message


def mark_read(conversation: Conversation, user_id: int, message_id: int) -> None:
    db.session.execute(
        db.update(ConversationMember)
        .where(
            ConversationMember.conversation_id == conversation.id,
            ConversationMember.user_id == user_id,
            ConversationMember.last_read_id < message_id,
        )
        .values(last_read_id=message_id)
        .execution_options(synchronize_session=False)
    )


def messages_for(conversation: Conversation, viewer_id: int) -> list[DirectMessage]:
    """The thread as the viewer sees it: nothing from people they blocked."""
    hidden = blocked_by(viewer_id)
    query = db.select(DirectMessage).where(DirectMessage.conversation_id == conversation.id)
    if hidden:
        query = query.where(DirectMessage.author_id.not_in(hidden))
    rows = list(db.session.execute(query.order_by(DirectMessage.id.desc()).limit(PAGE_SIZE)).scalars())
    return rows[::-1]


def _seen_by(user_id: int):
    """The messages this person is shown as messages (and so can be "new" to them): not by
    someone they blocked, not removed by an admin."""
    blocked_ids = db.select(Block.blocked_id).where(Block.blocker_id == user_id)
    return db.and_(DirectMessage.author_id.not_in(blocked_ids), DirectMessage.hidden_at.is_(None))


def _started_by_blocked(user_id: int):
    """A conversation started by someone this person had blocked: it never reaches them (not
    in their list, not counted, nobody in it notifies them), as if they had not been asked."""
    return (
        db.select(Block.id)
        .where(
            Block.blocker_id == user_id,
            Block.blocked_id == Conversation.created_by_id,
            Block.created_at <= Conversation.created_at,
        )
        .exists()
    )


def new_since(conversation_id: int, user_id: int, seen: int) -> int:
    """Messages after `seen` in this conversation that this person is shown as new: by someone
    else, not by someone they blocked, not removed (an open conversation's poll)."""
    return db.session.execute(
        db.select(db.func.count(DirectMessage.id)).where(
            DirectMessage.conversation_id == conversation_id,
            DirectMessage.id > seen,
            DirectMessage.author_id != user_id,
            _seen_by(user_id),
        )
    ).scalar_one()


def hidden_from(conversation: Conversation, user_id: int) -> bool:
    return (
        db.session.execute(
            db.select(Conversation.id).where(Conversation.id == conversation.id, _started_by_blocked(user_id))
        ).first()
        is not None
    )


def inbox(user: User) -> list:
    """The person's conversations, latest first, with whether something new waits. Ordered by
    the newest message this person can see (a blocked person's messages do not bring a
    conversation to the top)."""
    newest = (
        db.select(db.func.max(DirectMessage.id))
        .where(DirectMessage.conversation_id == Conversation.id, _seen_by(user.id))
        .scalar_subquery()
    )
    rows = db.session.execute(
        db.select(Conversation, ConversationMember.last_read_id, newest.label("newest"))
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == user.id, ~_started_by_blocked(user.id))
        .order_by(newest.desc().nulls_last(), Conversation.id.desc())
        .limit(100)
    ).all()
    return [(c, (newest or 0) > last_read) for c, last_read, newest in rows]


def unread_conversations(user_id: int) -> int:
    """How many of the person's conversations hold a message they have not seen: one query
    (the navigation's "new message" indicator), by the same rules as inbox."""
    return db.session.execute(unread_conversations_statement(), {"uid": user_id}).scalar_one()


@functools.cache
def unread_conversations_statement():
    """unread_conversations as a statement with the person's id as parameter `uid`, built once
    (the navigation runs it, inside its one statement, on every page)."""
    uid = bindparam("uid", type_=Integer)
    unseen = (
        db.select(DirectMessage.id)
        .where(
            DirectMessage.conversation_id == ConversationMember.conversation_id,
            DirectMessage.id > ConversationMember.last_read_id,
            DirectMessage.author_id != uid,
            _seen_by(uid),
        )
        .exists()
    )
    return (
        db.select(db.func.count(ConversationMember.id))
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        .where(ConversationMember.user_id == uid, ~_started_by_blocked(uid), unseen)
    )


def names_of(conversation_ids: list[int], viewer_id: int) -> dict[int, list[str]]:
    """The other members' names of each conversation, in one query."""
    result: dict[int, list[str]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return result
    rows = db.session.execute(
        db.select(ConversationMember.conversation_id, User.display_name)
        .join(User, User.id == ConversationMember.user_id)
        .where(ConversationMember.conversation_id.in_(conversation_ids), User.id != viewer_id)
        .order_by(User.display_name, User.id)
    ).all()
    for conversation_id, name in rows:
        result[conversation_id].append(name)
    return result


def allowed(scope, ids: list[int]) -> list[User]:
    """Those of `ids` that `scope` (portal.authz.message_candidates) lets one write to."""
    return list(db.session.execute(scope.where(User.id.in_(ids)).order_by(User.id)).scalars())


def pickable(scope, user: User, name: str = "", chosen: list[int] = (), limit: int = 200) -> list[User]:
    """The people offered for a new conversation: `scope` (portal.authz.message_candidates)
    without those this person blocked, whose name contains `name`; the ones already chosen
    first (kept whatever the filter), then by name, at most `limit`."""
    query = scope.where(User.id.not_in(db.select(Block.blocked_id).where(Block.blocker_id == user.id)))
    picked = []
    if chosen:
        picked = list(db.session.execute(query.where(User.id.in_(chosen)).order_by(User.display_name)).scalars())
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.display_name.ilike(f"%{escaped}%", escape="\\"))
    if chosen:
        query = query.where(User.id.not_in(chosen))
    rest = list(db.session.execute(query.order_by(User.display_name, User.id).limit(limit)).scalars())
    return picked + rest


def others(conversation_id: int, viewer_id: int) -> list[User]:
    return list(
        db.session.execute(
            db.select(User)
            .join(ConversationMember, ConversationMember.user_id == User.id)
            .where(ConversationMember.conversation_id == conversation_id, User.id != viewer_id)
            .order_by(User.display_name)
        ).scalars()
    )


def block(blocker: User, person_id: int) -> bool:
    if person_id == blocker.id or blocked(blocker.id, person_id):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Block(blocker_id=blocker.id, blocked_id=person_id))
    except IntegrityError:
        return False
    return True


def unblock(blocker: User, person_id: int) -> bool:
    row = db.session.execute(
        db.select(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == person_id)
    ).scalar_one_or_none()
    if row is None:
        return False
    db.session.delete(row)
    return True


def report(message: DirectMessage, reporter: User, reason: str) -> bool:
    """False when this person had already reported it (or an admin already removed it)."""
    if message.hidden_at is not None:
        return False
    exists = db.session.execute(
        db.select(MessageReport.id).where(
            MessageReport.message_id == message.id, MessageReport.reporter_id == reporter.id
        )
    ).first()
    if exists is not None:
        return False
    db.session.add(MessageReport(message_id=message.id, reporter_id=reporter.id, reason=reason))
    return True


def open_report_count() -> int:
    """Reported messages still waiting for an admin (the admin dashboard's figure)."""
    return db.session.execute(
        db.select(db.func.count(db.distinct(MessageReport.message_id))).where(MessageReport.resolved_at.is_(None))
    ).scalar_one()


def reported_by(user_id: int, message_ids: list[int]) -> set[int]:
    """Those of `message_ids` this person has reported (one query)."""
    if not message_ids:
        return set()
    return set(
        db.session.execute(
            db.select(MessageReport.message_id).where(
                MessageReport.reporter_id == user_id, MessageReport.message_id.in_(message_ids)
            )
        ).scalars()
    )


def reported(limit: int = 50) -> list:
    """Each message with open reports, oldest report first, with its reports and the messages
    around it in its thread (the only messages an admin reads)."""
    waiting = list(
        db.session.execute(
            db.select(MessageReport.message_id)
            .where(MessageReport.resolved_at.is_(None))
            .group_by(MessageReport.message_id)
            .order_by(db.func.min(MessageReport.id))
            .limit(limit)
        ).scalars()
    )
    if not waiting:
        return []
    reports = db.session.execute(
        db.select(MessageReport)
        .where(MessageReport.message_id.in_(waiting), MessageReport.resolved_at.is_(None))
        .order_by(MessageReport.id)
    ).scalars()
    by_message: dict[int, list[MessageReport]] = {message_id: [] for message_id in waiting}
    for r in reports:
        by_message[r.message_id].append(r)
    result = []
    for message_id, rows in by_message.items():
        message = db.session.get(DirectMessage, message_id)
        in_thread = db.select(DirectMessage).where(DirectMessage.conversation_id == message.conversation_id)
        before = db.session.execute(
            in_thread.where(DirectMessage.id <= message.id).order_by(DirectMessage.id.desc()).limit(CONTEXT + 1)
        ).scalars()
        after = db.session.execute(
            in_thread.where(DirectMessage.id > message.id).order_by(DirectMessage.id).limit(CONTEXT)
        ).scalars()
        result.append((message, rows, [*reversed(list(before)), *after]))
    return result


def handled(limit: int = 20) -> list:
    """Reports handled lately: (message id, subject, outcome, by whom, when), no message text."""
    handler = db.aliased(User)
    return db.session.execute(
        db.select(
            MessageReport.message_id,
            Conversation.subject,
            MessageReport.outcome,
            handler.display_name,
            db.func.max(MessageReport.resolved_at).label("at"),
        )
        .join(DirectMessage, DirectMessage.id == MessageReport.message_id)
        .join(Conversation, Conversation.id == DirectMessage.conversation_id)
        .join(handler, handler.id == MessageReport.resolved_by_id)
        .where(MessageReport.resolved_at.is_not(None))
        .group_by(MessageReport.message_id, Conversation.subject, MessageReport.outcome, handler.display_name)
        .order_by(db.desc("at"))
        .limit(limit)
    ).all()


OUTCOMES = {
    "dismiss": "dismissed",  # looked at, left as it is
    "remove": "removed",  # the message hidden from everyone in the conversation
}


def handle(message: DirectMessage, by: User, action: str) -> int:
    """An admin's decision on a reported message; closes its open reports (the number closed,
    0 when someone had already handled them). Audited."""
    from portal import audit

    outcome = OUTCOMES[action]
    closed = db.session.execute(
        db.update(MessageReport)
        .where(MessageReport.message_id == message.id, MessageReport.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=by.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        return 0
    if outcome == "removed" and message.hidden_at is None:
        message.hidden_at, message.hidden_by_id = utcnow(), by.id
    audit.record(
        by,
        f"messages.report_{outcome}",
        message,
        conversation_id=message.conversation_id,
        author_id=message.author_id,
        reports=closed,
    )
    return closed


def authors(messages: list[DirectMessage]) -> dict[int, str]:
    ids = {m.author_id for m in messages}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(User.id, User.display_name).where(User.id.in_(ids))).all())
