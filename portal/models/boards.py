"""Peer networking boards: a board per cohort, one community board, a board per dyad;
threads, posts (Markdown source and its sanitised HTML), their edit history, reports,
suspensions, consent to the guidelines, and the admin-set texts.

Nothing is deleted: a post removed by its author, hidden by a moderator or waiting for
approval is a state; earlier versions of an edited post are kept as revisions.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.people import User


class BoardKind(enum.StrEnum):
    COMMUNITY = "community"
    COHORT = "cohort"
    DYAD = "dyad"


class Board(db.Model):
    __tablename__ = "boards"
    __table_args__ = (
        CheckConstraint("kind IN ('community', 'cohort', 'dyad')", name="kind_known"),
        # One cohort board per cohort (a cohort also has one board per pair).
        Index(
            "uq_boards_cohort_board",
            "cohort_id",
            unique=True,
            sqlite_where=text("kind = 'cohort'"),
            postgresql_where=text("kind = 'cohort'"),
        ),
        UniqueConstraint("dyad_id"),  # one board per dyad
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(String(500), default="")
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))  # cohort and dyad boards
    dyad_id: Mapped[int | None] = mapped_column(ForeignKey("dyads.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BoardTopic(db.Model):
    """A topic category of the community board (tech help, resources, practice, jobs), set by
    admins. A retired topic takes no new threads; its threads keep it and can still be listed."""

    __tablename__ = "board_topics"
    __table_args__ = (UniqueConstraint("board_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Thread(db.Model):
    __tablename__ = "board_threads"
    __table_args__ = (
        # The thread list: pinned first, then latest activity (the id of the latest post).
        Index("ix_board_threads_listing", "board_id", "pinned", "last_post_id"),
        # The same, within one topic.
        Index("ix_board_threads_topic_listing", "topic_id", "pinned", "last_post_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    title: Mapped[str] = mapped_column(String(160))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Latest activity: ids grow with time, so the latest post's id orders threads by activity
    # and is the version the new-reply poll compares.
    last_post_id: Mapped[int] = mapped_column(default=0)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Replies everyone sees (not hidden, not waiting for approval).
    reply_count: Mapped[int] = mapped_column(default=0)
    # False while the opening post is hidden or waits for approval: then the thread (its title
    # too) is for its author and the board's moderators only.
    opening_shown: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("board_topics.id"))
    pinned: Mapped[bool] = mapped_column(default=False)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    board: Mapped[Board] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined")


class Post(db.Model):
    __tablename__ = "board_posts"
    __table_args__ = (
        Index("ix_board_posts_thread", "thread_id", "id"),
        Index("ix_board_posts_author", "author_id", "created_at"),
        # A form sent twice (a double click, a retry after the connection dropped) carries the
        # same key: one post.
        UniqueConstraint("author_id", "client_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("board_threads.id"))
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    body_html: Mapped[str] = mapped_column(Text)  # portal.markup.render_markdown(body)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by its author
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    # A new account's post with a link waits for a moderator (approved_at set then).
    pending: Mapped[bool] = mapped_column(default=False)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    crisis_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    crisis_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_key: Mapped[str | None] = mapped_column(String(40))  # the form's idempotency key

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    thread: Mapped[Thread] = relationship()


class PostRevision(db.Model):
    """An earlier version of an edited post, for moderators."""

    __tablename__ = "board_post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_posts.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostReport(db.Model):
    __tablename__ = "board_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_posts.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    post: Mapped[Post] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class BoardSuspension(db.Model):
    """Someone kept off one board until a time (lifted early: lifted_at)."""

    __tablename__ = "board_suspensions"
    __table_args__ = (Index("ix_board_suspensions_who", "board_id", "user_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BoardConsent(db.Model):
    """A person accepted the guidelines and the consent notice (in the version they read)."""

    __tablename__ = "board_consents"
    __table_args__ = (UniqueConstraint("user_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int]
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BoardText(db.Model):
    """Admin-set texts: guidelines, consent, crisis_resources, crisis_phrases. Editing the
    guidelines or the consent notice raises the version (everyone accepts again)."""

    __tablename__ = "board_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    value: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
