"""The navigation's unread count and new-message indicator (computed only when the layout
asks, once per page)."""

from __future__ import annotations

from flask import g
from flask_login import current_user


def counts() -> dict:
    if "_notify_counts" not in g:
        from portal.authz import can
        from portal.notifications import core

        result = {"unread": 0, "connect": False}
        if getattr(current_user, "is_authenticated", False):
            result["unread"] = core.unread_count(current_user)
            result["connect"] = can(current_user, "use_messages")
        g._notify_counts = result
    return g._notify_counts
