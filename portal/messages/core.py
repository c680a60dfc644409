"""Direct messages, without Flask requests: threads between two or a few members, the same
Markdown and sanitizer as board posts, blocks (the blocked person is not told: what they send
simply never reaches the person who blocked them) and reports to the admins, who read a
message only once it is reported, with its thread around it. Callers commit."""

from __future__ import annotations

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
    if any(blocked(author.id, p) for p in people):
        raise MessageError("You have blocked this person. Unblock them first to write to them.")
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
        if user_id == author.id or blocked(user_id, author.id):
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


def inbox(user: User) -> list:
    """The person's conversations, latest first, with whether something new waits."""
    hidden = blocked_by(user.id)
    newest = db.select(db.func.max(DirectMessage.id)).where(DirectMessage.conversation_id == Conversation.id)
    if hidden:
        newest = newest.where(DirectMessage.author_id.not_in(hidden))
    newest = newest.scalar_subquery()
    # A conversation a blocked person started after the block never shows; the others are
    # ordered by the newest message this person can see (a blocked person's messages do not
    # bring a conversation to the top).
    started_by_blocked = (
        db.select(Block.id)
        .where(
            Block.blocker_id == user.id,
            Block.blocked_id == Conversation.created_by_id,
            Block.created_at <= Conversation.created_at,
        )
        .exists()
    )
    rows = db.session.execute(
        db.select(Conversation, ConversationMember.last_read_id, newest.label("newest"))
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == user.id, ~started_by_blocked)
        .order_by(newest.desc().nulls_last(), Conversation.id.desc())
        .limit(100)
    ).all()
    return [(c, (newest or 0) > last_read) for c, last_read, newest in rows]


def names(conversation_id: int, viewer_id: int) -> list[str]:
    return list(
        db.session.execute(
            db.select(User.display_name)
            .join(ConversationMember, ConversationMember.user_id == User.id)
            .where(ConversationMember.conversation_id == conversation_id, User.id != viewer_id)
            .order_by(User.display_name)
        ).scalars()
    )


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
    exists = db.session.execute(
        db.select(MessageReport.id).where(
            MessageReport.message_id == message.id, MessageReport.reporter_id == reporter.id
        )
    ).first()
    if exists is not None:
        return False
    db.session.add(MessageReport(message_id=message.id, reporter_id=reporter.id, reason=reason))
    return True


def reported() -> list:
    """Each reported message with its reports and the messages around it in its thread."""
    reports = list(db.session.execute(db.select(MessageReport).order_by(MessageReport.id.desc()).limit(100)).scalars())
    by_message: dict[int, list[MessageReport]] = {}
    for r in reports:
        by_message.setdefault(r.message_id, []).append(r)
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


def authors(messages: list[DirectMessage]) -> dict[int, str]:
    ids = {m.author_id for m in messages}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(User.id, User.display_name).where(User.id.in_(ids))).all())
