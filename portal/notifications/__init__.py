"""Notifications (issue 13): following threads and boards, replies, @mentions with
suggestions, moderation notices, the unread count in the navigation, mail choices (off,
immediate, daily digest) and the signed one-click unsubscribe.

Rules in plain modules: core (who is told, digests, tokens) and hooks (the one door from the
boards' write path, also keeping portal.search in step)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _navigation():
    from flask_login import current_user

    from portal.notifications import core
    from portal.notifications.nav import counts

    def notify_follows(thread_id=None, board_id=None) -> bool:
        return core.follows(current_user.id, thread_id=thread_id, board_id=board_id)

    return {"notify_counts": counts, "notify_follows": notify_follows}


from portal.notifications import routes, tasks  # noqa: E402, F401
