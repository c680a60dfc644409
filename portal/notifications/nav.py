"""The navigation's unread count and new-message indicator (computed only when the layout
asks, once per page)."""

from __future__ import annotations

from flask import g
from flask_login import current_user


def counts() -> dict:
    if "_notify_counts" not in g:
        from portal.authz import can, navigation_counts
        from portal.extensions import db
        from portal.models import read_rows

        result = {"unread": 0, "connect": False, "messages": 0}
        if getattr(current_user, "is_authenticated", False):
            # Both numbers in one statement (they are what unread_count and
            # messages.unread_conversations count).
            result["connect"] = can(current_user, "use_messages")
            statement, parameters = navigation_counts(current_user)
            row = read_rows(db.session, statement, parameters).one()
            result["unread"] = row.unread if current_user.deactivated_at is None else 0
            result["messages"] = row.messages if result["connect"] else 0
        g._notify_counts = result
    return g._notify_counts
