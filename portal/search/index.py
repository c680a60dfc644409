"""Search across the board posts a person may read: one small interface, two engines.

    index_post(post)         keep one post's entry in step (written, edited, hidden, shown,
                             removed, approved): shown posts are in the index, others are not
    move_thread(thread)      a moved thread's entries follow it to its new board
    search(user, q, page, sort) -> Results

PostgreSQL: `search_docs.document` holds a weighted tsvector (title A, text B) behind a GIN
index; `websearch_to_tsquery` reads what people type; `ts_headline` marks the matches.
SQLite: an FTS5 table `search_fts` (rowid = post id) kept in step with `search_docs` by
triggers; it is a derived index, so it is made (and filled) here on first use rather than by a
migration; `highlight`/`snippet` mark the matches.

Whatever the engine, the visibility rules are applied in the same query, from the source
tables: only boards in authz.visible_boards(user) (never another cohort's board, a pair's
board not theirs, a board they are suspended from), and only posts neither hidden, waiting for
approval nor removed. Matches are marked with \\x02 ... \\x03 by the engines and turned into
<mark> only after the text has been escaped (`marked`). A page is one query whatever the
number of posts.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import column, literal_column, select, table, text

from portal.extensions import db
from portal.models import Board, Post, SearchDoc, Thread, User

PAGE_SIZE = 20
MAX_TERMS = 12
START, STOP = "\x02", "\x03"

_FTS = table("search_fts", column("rowid"))
_fts_ready: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "DELETE FROM search_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "DELETE FROM search_fts WHERE rowid = old.id; "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def ensure_fts() -> None:
    """SQLite: the FTS5 table and its triggers exist (made and filled from search_docs once)."""
    engine = db.session.get_bind()
    if engine.dialect.name != "sqlite" or _fts_ready.get(engine):
        return
    exists = db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'")).first()
    for statement in _FTS_DDL:
        db.session.execute(text(statement))
    if exists is None:
        db.session.execute(text("INSERT INTO search_fts(rowid, title, body) SELECT id, title, body FROM search_docs"))
    _fts_ready[engine] = True


def _shown(post: Post) -> bool:
    return post.hidden_at is None and not post.pending and post.removed_at is None


def index_post(post: Post) -> None:
    """The post's entry as it is now (callers commit)."""
    ensure_fts()
    db.session.flush()
    doc = db.session.get(SearchDoc, post.id)
    if not _shown(post):
        if doc is not None:
            db.session.delete(doc)
            db.session.flush()
        return
    # The thread's title is searched once, with its first post (not with every reply).
    first = db.session.execute(select(db.func.min(Post.id)).where(Post.thread_id == post.thread_id)).scalar_one()
    title = ""
    if first == post.id:
        title = db.session.execute(select(Thread.title).where(Thread.id == post.thread_id)).scalar_one()
    if doc is None:
        doc = SearchDoc(id=post.id, created_at=post.created_at)
        db.session.add(doc)
    doc.board_id, doc.thread_id, doc.title, doc.body = post.board_id, post.thread_id, title, post.body
    db.session.flush()
    if _dialect() == "postgresql":
        db.session.execute(
            text(
                "UPDATE search_docs SET document = setweight(to_tsvector('english', title), 'A') "
                "|| setweight(to_tsvector('english', body), 'B') WHERE id = :id"
            ),
            {"id": post.id},
        )


def reindex_all() -> int:
    """Every shown post again, in bulk (after a restore, or to repair the index). Callers commit."""
    ensure_fts()
    db.session.execute(db.delete(SearchDoc))
    db.session.execute(
        text(
            "INSERT INTO search_docs (id, board_id, thread_id, title, body, created_at) "
            "SELECT p.id, p.board_id, p.thread_id, "
            "CASE WHEN p.id = (SELECT min(f.id) FROM board_posts f WHERE f.thread_id = p.thread_id) "
            "THEN t.title ELSE '' END, p.body, p.created_at "
            "FROM board_posts p JOIN board_threads t ON t.id = p.thread_id "
            "WHERE p.hidden_at IS NULL AND p.removed_at IS NULL AND p.pending = false"
        )
    )
    if _dialect() == "postgresql":
        db.session.execute(
            text(
                "UPDATE search_docs SET document = setweight(to_tsvector('english', title), 'A') "
                "|| setweight(to_tsvector('english', body), 'B')"
            )
        )
    return db.session.execute(select(db.func.count()).select_from(SearchDoc)).scalar_one()


def move_thread(thread: Thread) -> None:
    db.session.execute(
        db.update(SearchDoc)
        .where(SearchDoc.thread_id == thread.id)
        .values(board_id=thread.board_id)
        .execution_options(synchronize_session=False)
    )


# --- searching --------------------------------------------------------------------------------


@dataclass
class Hit:
    post_id: int
    thread_id: int
    board_title: str
    author_name: str
    created_at: object
    title: Markup
    snippet: Markup


@dataclass
class Results:
    query: str
    hits: list[Hit]
    page: int
    more: bool


def terms(query: str) -> list[str]:
    return re.findall(r"\w+", query or "")[:MAX_TERMS]


def marked(value: str | None) -> Markup:
    """Escape everything, then turn the engine's markers into <mark>."""
    escaped = str(escape((value or "").replace("<mark>", "")))
    return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704 - escaped above


def _visible_board_ids(user):
    from portal.authz import visible_boards

    return visible_boards(user).with_only_columns(Board.id).order_by(None)


def _shown_clause():
    return (Post.hidden_at.is_(None)) & (Post.pending.is_(False)) & (Post.removed_at.is_(None))


def search(user, query: str, page: int = 1, sort: str = "best") -> Results:
    words = terms(query)
    if not words:
        return Results(query, [], page, False)
    offset = (page - 1) * PAGE_SIZE
    if _dialect() == "postgresql":
        rows = _search_postgresql(user, " ".join(words), sort, offset)
    else:
        rows = _search_sqlite(user, words, sort, offset)
    hits = [
        Hit(
            r.id,
            r.thread_id,
            r.board_title,
            r.author_name,
            r.created_at,
            marked(r.title_hl) if r.title_hl else marked(r.thread_title),
            marked(r.body_hl),
        )
        for r in rows[:PAGE_SIZE]
    ]
    return Results(query, hits, page, len(rows) > PAGE_SIZE)


def _search_sqlite(user, words: list[str], sort: str, offset: int):
    ensure_fts()
    match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    fts = literal_column("search_fts")
    score = db.func.bm25(fts, 5.0, 1.0)
    query = (
        select(
            SearchDoc.id,
            SearchDoc.thread_id,
            SearchDoc.created_at,
            db.func.highlight(fts, 0, START, STOP).label("title_hl"),
            db.func.snippet(fts, 1, START, STOP, "…", 24).label("body_hl"),
            Board.title.label("board_title"),
            User.display_name.label("author_name"),
            Thread.title.label("thread_title"),
        )
        .select_from(_FTS)
        .join(SearchDoc, SearchDoc.id == _FTS.c.rowid)
        .join(Post, Post.id == SearchDoc.id)
        .join(Board, Board.id == SearchDoc.board_id)
        .join(Thread, Thread.id == SearchDoc.thread_id)
        .join(User, User.id == Post.author_id)
        .where(fts.op("MATCH")(match), SearchDoc.board_id.in_(_visible_board_ids(user)), _shown_clause())
        .order_by(*((SearchDoc.id.desc(),) if sort == "new" else (score, SearchDoc.id.desc())))
        .limit(PAGE_SIZE + 1)
        .offset(offset)
    )
    return db.session.execute(query).all()


def _search_postgresql(user, words: str, sort: str, offset: int):
    config = literal_column("'english'::regconfig")
    tsquery = db.func.websearch_to_tsquery(config, words)
    score = db.func.ts_rank(SearchDoc.document, tsquery)
    found = (
        select(SearchDoc.id, score.label("score"))
        .join(Post, Post.id == SearchDoc.id)
        .where(
            SearchDoc.document.op("@@")(tsquery),
            SearchDoc.board_id.in_(_visible_board_ids(user)),
            _shown_clause(),
        )
        .order_by(*((SearchDoc.id.desc(),) if sort == "new" else (score.desc(), SearchDoc.id.desc())))
        .limit(PAGE_SIZE + 1)
        .offset(offset)
        .subquery()
    )
    options = f"StartSel={START}, StopSel={STOP}"
    query = (
        select(
            SearchDoc.id,
            SearchDoc.thread_id,
            SearchDoc.created_at,
            db.func.ts_headline(config, SearchDoc.title, tsquery, options + ", HighlightAll=true").label("title_hl"),
            db.func.ts_headline(config, SearchDoc.body, tsquery, options + ", MaxWords=35, MinWords=12").label(
                "body_hl"
            ),
            Board.title.label("board_title"),
            User.display_name.label("author_name"),
            Thread.title.label("thread_title"),
        )
        .join(found, found.c.id == SearchDoc.id)
        .join(Post, Post.id == SearchDoc.id)
        .join(Board, Board.id == SearchDoc.board_id)
        .join(Thread, Thread.id == SearchDoc.thread_id)
        .join(User, User.id == Post.author_id)
        .order_by(*((SearchDoc.id.desc(),) if sort == "new" else (found.c.score.desc(), SearchDoc.id.desc())))
    )
    return db.session.execute(query).all()
