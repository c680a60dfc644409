"""Topic categories of the community board (tech help, resources, practice, jobs): admins
create, rename, retire and restore them; a new thread may be filed under an open topic; the
board lists its threads by topic. A retired topic takes no new threads, and its threads keep
it. Callers commit; every change is in the audit log."""

from __future__ import annotations

from portal import audit
from portal.boards.posting import BoardError
from portal.extensions import db
from portal.models import Board, BoardKind, BoardTopic, Thread, User, utcnow

NAME_MAX = 60


def has_topics(board: Board) -> bool:
    """Topics are for the community board (cohort and pair boards are small enough)."""
    return board.kind == BoardKind.COMMUNITY


def topics_of(board: Board) -> list[BoardTopic]:
    """All the board's topics, open ones first, by name."""
    return list(
        db.session.execute(
            db.select(BoardTopic)
            .where(BoardTopic.board_id == board.id)
            .order_by(BoardTopic.retired_at.is_not(None), BoardTopic.name, BoardTopic.id)
        ).scalars()
    )


def open_topics(board: Board) -> list[BoardTopic]:
    return [t for t in topics_of(board) if t.retired_at is None]


def topic_of_board(board: Board, topic_id: int | None) -> BoardTopic | None:
    """The topic with this id if it belongs to this board (else None)."""
    if topic_id is None:
        return None
    topic = db.session.get(BoardTopic, topic_id)
    return topic if topic is not None and topic.board_id == board.id else None


def _clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise BoardError("Give the topic a name.")
    if len(name) > NAME_MAX:
        raise BoardError(f"At most {NAME_MAX} characters.")
    return name


def _taken(board_id: int, name: str, but: int | None = None) -> bool:
    query = db.select(BoardTopic.id).where(
        BoardTopic.board_id == board_id, db.func.lower(BoardTopic.name) == name.lower()
    )
    if but is not None:
        query = query.where(BoardTopic.id != but)
    return db.session.execute(query).first() is not None


def create(board: Board, name: str, by: User) -> BoardTopic:
    if not has_topics(board):
        raise BoardError("Topics are for the community board.")
    name = _clean(name)
    if _taken(board.id, name):
        raise BoardError(f"There is already a topic called “{name}”.")
    topic = BoardTopic(board_id=board.id, name=name)
    db.session.add(topic)
    db.session.flush()
    audit.record(by, "board.topic_created", topic, board_id=board.id, name=name)
    return topic


def rename(topic: BoardTopic, name: str, by: User) -> None:
    name = _clean(name)
    if name == topic.name:
        return
    if _taken(topic.board_id, name, but=topic.id):
        raise BoardError(f"There is already a topic called “{name}”.")
    was, topic.name = topic.name, name
    audit.record(by, "board.topic_renamed", topic, board_id=topic.board_id, was=was, name=name)


def retire(topic: BoardTopic, by: User) -> None:
    if topic.retired_at is None:
        topic.retired_at = utcnow()
        audit.record(by, "board.topic_retired", topic, board_id=topic.board_id)


def restore(topic: BoardTopic, by: User) -> None:
    if topic.retired_at is not None:
        topic.retired_at = None
        audit.record(by, "board.topic_restored", topic, board_id=topic.board_id)


def file_under(thread: Thread, topic: BoardTopic | None, by: User) -> None:
    """A moderator files a thread under another topic of its board (or none)."""
    if topic is not None and topic.board_id != thread.board_id:
        raise BoardError("Choose a topic of this board.")
    new_id = topic.id if topic is not None else None
    if thread.topic_id != new_id:
        was, thread.topic_id = thread.topic_id, new_id
        audit.record(by, "board.thread_filed", thread, board_id=thread.board_id, was=was, topic_id=new_id)


def counts(board: Board) -> dict[int, int]:
    """Threads per topic (for the admin's list: how much each topic holds)."""
    return dict(
        db.session.execute(
            db.select(Thread.topic_id, db.func.count(Thread.id))
            .where(Thread.board_id == board.id, Thread.topic_id.is_not(None))
            .group_by(Thread.topic_id)
        ).all()
    )


def topic_choices(board: Board, thread=None) -> list:
    """No topic, the open topics, and the thread's own topic even when retired."""
    choices = [(0, "No topic")]
    for t in topics_of(board):
        if t.retired_at is None or (thread is not None and thread.topic_id == t.id):
            choices.append((t.id, t.name + (" (retired)" if t.retired_at else "")))
    return choices
