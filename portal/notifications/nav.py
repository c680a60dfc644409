"""The navigation's unread count and new-message indicator (computed only when the layout
asks, once per page)."""

from __future__ import annotations

from flask import g
from flask_login import current_user


def counts() -> dict:
    if "_notify_counts" not in g:
        from portal.authz import can
        from portal.notifications import core

        result = {"unread": 0, "connect": False, "messages": 0}
        if getattr(current_user, "is_authenticated", False):
            from portal.messages import core as messages

            result["unread"] = core.unread_count(current_user)
            result["connect"] = can(current_user, "use_messages")
            if result["connect"]:  # conversations with something unseen: one query
                result["messages"] = messages.unread_conversations(current_user.id)
        g._notify_counts = result
    return g._notify_counts
