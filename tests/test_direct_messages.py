"""Direct messages with a few people (issue 13): starting one from the Messages page, the
rules of whom one may write to, blocking inside a group, the navigation's "new message"
indicator, and admins handling reported messages. Through HTTP, checking the database."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Block,
    Conversation,
    ConversationMember,
    DirectMessage,
    MessageReport,
)
from tests.factories import text_of
from tests.test_notify import client_as, list_me, notes
from tests.world import World


@pytest.fixture
def w(app):
    return World.fresh(app)


def start(client, people, subject="Planning", body="Hello, everyone.", **extra):
    return client.post(
        "/messages/new",
        data={"to": [str(p.id) for p in people], "subject": subject, "body": body, "step": "start", **extra},
    )


def conversation_of(app, subject):
    with app.app_context():
        return db.session.execute(db.select(Conversation.id).where(Conversation.subject == subject)).scalar_one_or_none()


def members(app, conversation_id):
    with app.app_context():
        return set(
            db.session.execute(
                db.select(ConversationMember.user_id).where(ConversationMember.conversation_id == conversation_id)
            ).scalars()
        )


def unread_messages(response) -> int:
    """The Messages link's count (0 when it shows none)."""
    html = response.get_data(as_text=True)
    link = re.search(r'<a [^>]*id="nav-messages"[^>]*>(.*?)</a>', html, re.S)
    assert link, "no Messages link"
    found = re.search(r'id="unread-messages">.*?(\d+)', link.group(1), re.S)
    return int(found.group(1)) if found else 0


def said(response) -> str:
    """The page's text, without the space text_of leaves before punctuation after a tag."""
    return re.sub(r"\s+([:,.])", r"\1", text_of(response))


def error_next_to(response, field_id) -> str:
    found = re.search(rf'<small id="{field_id}-error" class="error-text">(.*?)</small>', response.get_data(as_text=True), re.S)
    return found.group(1).strip() if found else ""


# --- starting a conversation with a few people ---------------------------------------------------


def test_start_a_conversation_with_a_few_people(app, w):
    a, b = w.peers_in  # a (Peer In 1) is listed by the world; b lists themself
    list_me(app, w, b)
    list_me(app, w, "trainee_out")
    writer = client_as(app, w, "trainee_in")
    page = writer.get("/messages")
    html = page.get_data(as_text=True)
    # The people offered: those listed in the directory, not oneself, not the unlisted.
    assert 'name="to"' in html and "Peer In 1" in html and "Peer In 2" in html and "Trainee Out" in text_of(page)
    assert f'value="{w.people["dual_role"].id}"' not in html  # not listed
    assert f'value="{w.people["trainee_in"].id}"' not in html  # oneself

    response = start(writer, [a, b, w.people["trainee_out"]], subject="Study group")
    assert response.status_code == 303
    conversation_id = conversation_of(app, "Study group")
    assert response.location.endswith(f"/messages/{conversation_id}")
    assert members(app, conversation_id) == {w.people["trainee_in"].id, a.id, b.id, w.people["trainee_out"].id}
    for person in (a, b, w.people["trainee_out"]):
        assert any("Study group" in n.summary for n in notes(app, person, "message"))
    assert not any("Study group" in n.summary for n in notes(app, w.people["trainee_in"], "message"))

    # Every member reads it, with the others' names in the header and the list.
    page = client_as(app, w, b).get(f"/messages/{conversation_id}")
    assert page.status_code == 200
    assert "With Peer In 1, Trainee In and Trainee Out." in text_of(page)
    assert "Hello, everyone." in text_of(page)
    inbox = text_of(client_as(app, w, b).get("/messages"))
    assert "Study group" in inbox and "with Peer In 1, Trainee In, Trainee Out" in inbox

    # Someone else's reply reaches everyone else.
    assert client_as(app, w, a).post(f"/messages/{conversation_id}/send", data={"body": "Count me in."}).status_code == 303
    assert "Count me in." in text_of(client_as(app, w, "trainee_out").get(f"/messages/{conversation_id}"))

    # Not a member: the conversation does not exist for them, nor can they write into it.
    for outsider in ("dual_role", "admin", "facilitator_in"):
        client = client_as(app, w, outsider)
        assert client.get(f"/messages/{conversation_id}").status_code == 404
        assert client.post(f"/messages/{conversation_id}/send", data={"body": "Let me in"}).status_code == 404
    with app.app_context():
        assert not db.session.execute(db.select(DirectMessage.id).where(DirectMessage.body == "Let me in")).first()


def test_choosing_people_is_checked_with_the_message_next_to_the_list(app, w):
    listed = [w.peers_in[0], w.peers_out[0]]
    for who in (w.peers_in[1], "trainee_out", "facilitator_in", "admin"):
        list_me(app, w, who)
    writer = client_as(app, w, "trainee_in")
    with app.app_context():
        before = db.session.execute(db.select(db.func.count(Conversation.id))).scalar_one()

    nobody = start(writer, [], subject="Nobody")
    assert nobody.status_code == 422
    assert error_next_to(nobody, "to") == "Choose at least one person."
    assert 'href="#to"' in nobody.get_data(as_text=True)  # the summary links to the list
    assert 'value="Nobody"' in nobody.get_data(as_text=True)  # what was written stays

    five = [*listed, w.peers_in[1], *(w.people[k] for k in ("trainee_out", "facilitator_in"))]
    too_many = start(writer, five, subject="Crowd")
    assert too_many.status_code == 422
    assert "at most 4 people" in error_next_to(too_many, "to")
    # Those chosen stay checked.
    assert all(re.search(rf'value="{p.id}"[^>]*checked|checked[^>]*value="{p.id}"', too_many.get_data(as_text=True))
               for p in five)

    unlisted = start(writer, [listed[0], w.people["dual_role"]], subject="Sneaky")
    assert unlisted.status_code == 422
    assert "listed in the member directory" in error_next_to(unlisted, "to")

    not_a_number = writer.post("/messages/new", data={"to": ["x"], "subject": "Odd", "body": "Hi", "step": "start"})
    assert not_a_number.status_code == 422 and error_next_to(not_a_number, "to")

    no_subject = start(writer, listed, subject="")
    assert no_subject.status_code == 422 and error_next_to(no_subject, "subject") == "Give it a subject."

    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Conversation.id))).scalar_one() == before

    # Supervisors have no messages at all.
    assert start(client_as(app, w, "supervisor_in"), listed).status_code == 403


def test_find_narrows_the_list_and_keeps_what_was_chosen_and_written(app, w):
    list_me(app, w, "trainee_out")
    writer = client_as(app, w, "trainee_in")
    chosen = w.peers_out[0]
    response = writer.post("/messages/new", data={
        "to": [str(chosen.id)], "find": "trainee", "subject": "Kept", "body": "Kept body", "step": "find",
    })
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(rf'value="{chosen.id}"[^>]*checked|checked[^>]*value="{chosen.id}"', html)  # kept
    offered = re.search(r'<fieldset id="to".*?</fieldset>', html, re.S).group(0)
    assert "Trainee Out" in offered and "Peer In 1" not in offered  # narrowed by name
    assert 'value="Kept"' in html and "Kept body" in html
    assert conversation_of(app, "Kept") is None  # nothing sent


# --- blocking in a group ------------------------------------------------------------------------


def test_blocking_inside_a_group(app, w):
    a = w.peers_in[0]  # will block trainee_out
    for who in (w.peers_in[1], "trainee_out", "trainee_in"):
        list_me(app, w, who)
    blocker = client_as(app, w, a)
    blocked_person = w.people["trainee_out"]
    with app.app_context():
        db.session.add(Block(blocker_id=a.id, blocked_id=blocked_person.id))
        db.session.commit()

    # The blocker never finds the person they blocked among those to write to, and a crafted
    # request is refused with the reason next to the list.
    assert f'value="{blocked_person.id}"' not in blocker.get("/messages").get_data(as_text=True)
    refused = start(blocker, [w.peers_in[1], blocked_person], subject="With a blocked one")
    assert refused.status_code == 422
    assert "You have blocked Trainee Out" in error_next_to(refused, "to")
    assert conversation_of(app, "With a blocked one") is None

    # Someone else puts both in one conversation: the blocker is in it, sees the others, never
    # the blocked person's messages, and is neither told of them nor shown them as new.
    third = client_as(app, w, "trainee_in")
    assert start(third, [a, blocked_person], subject="Mixed", body="Hello both").status_code == 303
    mixed = conversation_of(app, "Mixed")
    blocker.get(f"/messages/{mixed}")  # read so far
    told = len(notes(app, a, "message"))
    writer = client_as(app, w, blocked_person)
    assert writer.post(f"/messages/{mixed}/send", data={"body": "From the blocked one"}).status_code == 303
    assert len(notes(app, a, "message")) == told
    assert unread_messages(blocker.get("/notifications")) == 0
    page = text_of(blocker.get(f"/messages/{mixed}"))
    assert "From the blocked one" not in page and "Hello both" in page
    assert "Trainee Out (blocked)" in page
    assert "From the blocked one" in text_of(third.get(f"/messages/{mixed}"))  # the others see it
    # The third person's message does reach the blocker.
    assert third.post(f"/messages/{mixed}/send", data={"body": "Still there?"}).status_code == 303
    assert len(notes(app, a, "message")) == told + 1
    assert unread_messages(blocker.get("/notifications")) == 1

    # A conversation the blocked person starts with the blocker and others never reaches the
    # blocker: not listed, not counted, and nobody in it notifies them; the others are not told.
    assert start(writer, [a, w.people["trainee_in"]], subject="From them", body="Hi all").status_code == 303
    theirs = conversation_of(app, "From them")
    assert a.id in members(app, theirs)  # the starter is not told about the block
    assert "With Peer In 1 and Trainee In." in text_of(writer.get(f"/messages/{theirs}"))
    told = len(notes(app, a, "message"))
    assert third.post(f"/messages/{theirs}/send", data={"body": "Answering"}).status_code == 303
    assert len(notes(app, a, "message")) == told
    assert "From them" not in text_of(blocker.get("/messages"))
    assert blocker.get(f"/messages/{theirs}").status_code == 404
    blocker.get(f"/messages/{mixed}")
    assert unread_messages(blocker.get("/notifications")) == 0


# --- the "new message" indicator ------------------------------------------------------------------


def test_the_messages_link_counts_conversations_with_unread_messages(app, w):
    reader = client_as(app, w, "trainee_in")  # the world's conversation with Peer In 1 is read
    assert unread_messages(reader.get("/notifications")) == 0
    peer = client_as(app, w, w.peers_in[0])
    conversation_id = w.notify_conversation_id
    peer.post(f"/messages/{conversation_id}/send", data={"body": "One"})
    peer.post(f"/messages/{conversation_id}/send", data={"body": "Two"})  # still one conversation
    list_me(app, w, "trainee_in")
    assert start(client_as(app, w, "trainee_out"), [w.people["trainee_in"]], subject="Another").status_code == 303
    page = reader.get("/notifications")
    assert unread_messages(page) == 2
    assert 'aria-label="Messages, 2 unread"' in page.get_data(as_text=True)  # what a screen reader says
    assert "New: Hello pair" in text_of(reader.get("/messages"))
    # Reading a conversation clears it (on that very page already).
    assert unread_messages(reader.get(f"/messages/{conversation_id}")) == 1
    with app.app_context():
        last_read = db.session.execute(
            db.select(ConversationMember.last_read_id).where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == w.people["trainee_in"].id,
            )
        ).scalar_one()
        newest = db.session.execute(
            db.select(db.func.max(DirectMessage.id)).where(DirectMessage.conversation_id == conversation_id)
        ).scalar_one()
    assert last_read == newest
    reader.get(f"/messages/{conversation_of(app, 'Another')}")
    assert unread_messages(reader.get("/notifications")) == 0
    # One's own messages are never new to oneself.
    reader.post(f"/messages/{conversation_id}/send", data={"body": "Mine"})
    assert unread_messages(reader.get("/notifications")) == 0


def test_the_indicator_and_the_messages_page_cost_the_same_whatever_the_number_of_conversations(app, w, queries):
    others = [w.peers_in[1], w.peers_out[1], *(w.people[k] for k in ("trainee_out", "facilitator_in", "admin"))]
    for who in others:
        list_me(app, w, who)
    reader = client_as(app, w, "trainee_in")

    def count(url):
        reader.get(url)
        with queries() as statements:
            assert reader.get(url).status_code == 200
        return len(statements)

    def write(n):
        for i, person in enumerate(others[:n]):
            start(client_as(app, w, person), [w.people["trainee_in"]], subject=f"Note {n}-{i}")

    list_me(app, w, "trainee_in")
    write(1)
    few = count("/notifications"), count("/messages")
    write(5)
    assert unread_messages(reader.get("/notifications")) == 6
    assert (count("/notifications"), count("/messages")) == few


# --- admins and reported messages -----------------------------------------------------------------


def test_admins_see_the_open_reports_on_their_dashboard_and_handle_them(app, w):
    admin = client_as(app, w, "admin")
    dashboard = admin.get("/dashboard/admin")
    assert 'href="/messages/reports"' in dashboard.get_data(as_text=True)
    assert "Reported direct messages: 1 waiting" in said(dashboard)  # the world's report

    # A second report on another message.
    writer = client_as(app, w, "trainee_in")
    conversation_id = w.notify_conversation_id
    writer.post(f"/messages/{conversation_id}/send", data={"body": "Something rude"})
    with app.app_context():
        rude = db.session.execute(db.select(DirectMessage.id).where(DirectMessage.body == "Something rude")).scalar_one()
    peer = client_as(app, w, w.peers_in[0])
    assert peer.post(f"/messages/message/{rude}/report", data={"reason": "Rude to me"}).status_code == 303
    assert "Reported direct messages: 2 waiting" in said(admin.get("/dashboard/admin"))

    page = text_of(admin.get("/messages/reports"))
    assert "Something rude" in page and "Rude to me" in page and "Hi from me." in page  # with its context
    assert "Conversation between Peer In 1, Trainee In" in page

    # Remove the rude message: reports closed, message hidden, audited; the members see that
    # a message was removed, not its text; it cannot be reported again.
    response = admin.post(f"/messages/message/{rude}/handle", data={"action": "remove"})
    assert response.status_code == 303 and response.location.endswith("/messages/reports#reports")
    with app.app_context():
        report = db.session.execute(db.select(MessageReport).where(MessageReport.message_id == rude)).scalar_one()
        assert report.outcome == "removed" and report.resolved_at and report.resolved_by_id == w.people["admin"].id
        assert db.session.get(DirectMessage, rude).hidden_at is not None
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "messages.report_removed")
        ).scalar_one()
        assert event.actor_id == w.people["admin"].id and event.subject_id == rude
    response = admin.get("/messages/reports")
    page = text_of(response)
    assert "The message is removed" in page and f'id="report-{rude}"' not in response.get_data(as_text=True)
    assert "“Hello pair”: message removed by Ada Admin" in page
    seen = text_of(peer.get(f"/messages/{conversation_id}"))
    assert "Something rude" not in seen and "This message was removed by the programme team." in seen
    assert peer.post(f"/messages/message/{rude}/report", data={"reason": "Again"}).status_code == 303
    with app.app_context():
        assert db.session.execute(
            db.select(db.func.count(MessageReport.id)).where(MessageReport.message_id == rude)
        ).scalar_one() == 1

    # Dismiss the other: closed, the message stays.
    reported = w.notify_reported_message_id
    assert admin.post(f"/messages/message/{reported}/handle", data={"action": "dismiss"}).status_code == 303
    with app.app_context():
        assert db.session.execute(
            db.select(MessageReport.outcome).where(MessageReport.message_id == reported)
        ).scalar_one() == "dismissed"
        assert db.session.get(DirectMessage, reported).hidden_at is None
        assert db.session.execute(
            db.select(AuditEvent.id).where(AuditEvent.action == "messages.report_dismissed")
        ).first()
    assert "Hi from me." in text_of(peer.get(f"/messages/{conversation_id}"))
    assert "none waiting" in said(admin.get("/dashboard/admin"))
    assert "No reported messages waiting." in text_of(admin.get("/messages/reports"))
    # Handling it twice says so and changes nothing.
    again = admin.post(f"/messages/message/{reported}/handle", data={"action": "remove"}, follow_redirects=True)
    assert "already handled" in text_of(again)
    with app.app_context():
        assert db.session.get(DirectMessage, reported).hidden_at is None
    # The audit log reads it as a sentence.
    assert "dismissed the reports on a direct message by Trainee In" in text_of(admin.get("/admin/audit"))

    # Only admins, and only reported messages; a bad action is refused.
    assert client_as(app, w, "facilitator_in").post(
        f"/messages/message/{rude}/handle", data={"action": "dismiss"}).status_code == 403
    assert peer.post(f"/messages/message/{rude}/handle", data={"action": "dismiss"}).status_code == 403
    assert admin.post(f"/messages/message/{w.notify_message_id}/handle", data={"action": "remove"}).status_code == 404
    with app.app_context():
        assert db.session.get(DirectMessage, w.notify_message_id).hidden_at is None
    writer.post(f"/messages/{conversation_id}/send", data={"body": "Another one"})
    with app.app_context():
        another = db.session.execute(db.select(DirectMessage.id).where(DirectMessage.body == "Another one")).scalar_one()
    peer.post(f"/messages/message/{another}/report", data={"reason": "Spam"})
    assert admin.post(f"/messages/message/{another}/handle", data={"action": "delete"}).status_code == 400


def test_the_name_filter_refuses_control_characters_next_to_the_field(app, client, auth, make_user):
    """A NUL in the name filter (PostgreSQL refuses it in a LIKE pattern) is answered next to
    the field; the list shows everyone, nothing breaks (found by the fuzz crawl on PostgreSQL)."""
    from portal.models import Role

    auth.login_as(make_user(roles=[Role.TRAINEE]))
    answer = client.post("/messages/new", data={"step": "find", "find": "An\x00a"})
    assert answer.status_code == 200
    assert "control character" in answer.get_data(as_text=True).lower()
