"""Column helpers shared by every area's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on both databases.

    PostgreSQL keeps `timestamptz`; SQLite keeps text without an offset, so values read
    back from it are marked as UTC here. Naive datetimes are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def read_rows(session, statement, parameters=None):
    """The result of a SELECT of columns (never whole objects), run on `session`'s
    connection, in its transaction, after its pending changes are flushed as Session.execute
    would. It skips the ORM's result machinery, which rows of columns do not need: per
    statement it costs half of what Session.execute does (measured: 33 µs against 67 µs on
    SQLite), and the pages that only read run ten to twenty of them."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)
