"""iCalendar for sessions (the icalendar package): stable UIDs and SEQUENCE, so an event
moves in place in a person's calendar when a session is rescheduled."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from portal.inputs import is_safe_link
from portal.models import CohortSession, utcnow
from portal.web import external_url

PRODID = "-//Digital Peer Support Certification//Portal//EN"


def build(sessions: Iterable[CohortSession], name: str, domain: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    for session in sessions:
        cohort = session.cohort
        tz = ZoneInfo(cohort.time_zone)
        event = Event()
        event.add("uid", f"{session.uid}@{domain}")
        event.add("sequence", session.sequence)
        event.add("dtstamp", stamp)
        event.add("last-modified", session.updated_at)
        event.add("dtstart", session.starts_at.astimezone(tz))
        event.add("dtend", session.ends_at.astimezone(tz))
        event.add("summary", f"Week {session.week}: {session.title} ({cohort.name})")
        description = session.description
        # The event opens the session's live page (join button, check-in, handouts).
        live = external_url("attendance.live", session_id=session.id)
        if is_safe_link(session.join_url):  # never a line break into the file
            description = f"Join: {session.join_url}\n\n{description}"
            event.add("location", session.join_url)
        description = f"Live page (check-in, handouts): {live}\n{description}"
        event.add("url", live)
        event.add("description", description)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
