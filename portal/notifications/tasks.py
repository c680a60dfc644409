"""The notifications' background work: the daily digest."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic
from portal.notifications import core


@periodic(timedelta(days=1), hour="7", minute="0")
def send_notification_digests() -> None:
    """Daily at 07:00 UTC: each person on the digest gets one mail with what they have not
    read yet and may still see now (once per tick across consumers)."""
    core.send_digests()
