"""Staying connected (issue 13): follows, notifications and mail preferences; the search
index of board posts; the member directory; direct messages with blocks and reports.

Nothing here is read without the visibility rules of portal.authz: a notification, a search
hit or a digest line is shown only while its reader may still read the board and the post.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class Follow(db.Model):
    """A person follows a thread (or a whole board): they are told of new posts there."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "thread_id"),
        UniqueConstraint("user_id", "board_id"),
        CheckConstraint("(thread_id IS NULL) <> (board_id IS NULL)", name="one_target"),
        Index("ix_follows_thread", "thread_id"),
        Index("ix_follows_board", "board_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("board_threads.id"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """Something for one person: a reply in a followed thread, a mention, a moderation notice,
    a direct message. `mailed_at`: included in a mail (immediate or digest) or not to be mailed."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("kind IN ('reply', 'mention', 'moderation', 'message')", name="kind_known"),
        Index("ix_notifications_user", "user_id", "id"),
        Index("ix_notifications_unread", "user_id", "read_at"),
        Index("ix_notifications_unmailed", "mailed_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("board_threads.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("board_posts.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("dm_conversations.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("dm_messages.id"))
    summary: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailChoice(db.Model):
    """A person's choice of mail for notifications: off, immediate or a daily digest. No row:
    the daily digest."""

    __tablename__ = "notification_mail_choices"
    __table_args__ = (CheckConstraint("mode IN ('off', 'immediate', 'digest')", name="mode_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    mode: Mapped[str] = mapped_column(String(10), default="digest")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchDoc(db.Model):
    """One shown board post as the search reads it (kept in step by portal.search.index):
    its thread's title and its text. On PostgreSQL `document` is the weighted tsvector (a GIN
    index); on SQLite an FTS5 table beside this one is kept in step by triggers."""

    __tablename__ = "search_docs"
    __table_args__ = (
        Index("ix_search_docs_document", "document", postgresql_using="gin"),
        Index("ix_search_docs_board", "board_id", "id"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("board_posts.id"), primary_key=True, autoincrement=False)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("board_threads.id"))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    document: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


class DirectoryEntry(db.Model):
    """A person's entry in the member directory; shown only while `listed` (off by default).
    Name and pronouns come from their account; email and phone never show."""

    __tablename__ = "directory_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    listed: Mapped[bool] = mapped_column(default=False)
    region: Mapped[str] = mapped_column(String(80), default="")
    interests: Mapped[str] = mapped_column(String(300), default="")
    open_to_networking: Mapped[bool] = mapped_column(default=False)
    intro: Mapped[str] = mapped_column(String(600), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(db.Model):
    __tablename__ = "dm_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(160))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationMember(db.Model):
    __tablename__ = "dm_members"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"), Index("ix_dm_members_user", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("dm_conversations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    last_read_id: Mapped[int] = mapped_column(default=0)  # the latest message id they have seen


class DirectMessage(db.Model):
    __tablename__ = "dm_messages"
    __table_args__ = (Index("ix_dm_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("dm_conversations.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # portal.markup.render_markdown(body)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Removed by an admin after a report: its members see that a message was removed, not its text.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    conversation: Mapped[Conversation] = relationship()


class Block(db.Model):
    """`blocker` no longer receives anything from `blocked` (who is not told)."""

    __tablename__ = "dm_blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageReport(db.Model):
    """A direct message reported to the admins: the only way an admin reads a message."""

    __tablename__ = "dm_reports"
    __table_args__ = (UniqueConstraint("message_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("dm_messages.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Handled by an admin: "dismissed" (left as it is) or "removed" (the message hidden).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
