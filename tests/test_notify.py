"""Notifications, mentions, mail choices, digests and unsubscribe; search; the member
directory; direct messages (issue 13). Through HTTP where a person would act, with the
plain modules for the timed work (the digest)."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import (
    Board,
    BoardKind,
    DirectMessage,
    Enrollment,
    Follow,
    MailChoice,
    Notification,
    Post,
    SearchDoc,
    Thread,
    User,
)
from tests.factories import AuthActions, text_of
from tests.world import World


@pytest.fixture
def w(app):
    return World.fresh(app)


def client_as(app, w, who):
    client = app.test_client()
    AuthActions(client, app).login_as(w.people[who] if isinstance(who, str) else who)
    return client


def notes(app, person, kind=None):
    with app.app_context():
        query = db.select(Notification).where(Notification.user_id == person.id)
        if kind:
            query = query.where(Notification.kind == kind)
        rows = list(db.session.execute(query.order_by(Notification.id)).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


def reply(client, thread_id, body):
    response = client.post(f"/threads/{thread_id}/reply", data={"body": body, "seen": "0"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


def new_thread(client, board_id, title, body):
    response = client.post(f"/boards/{board_id}/new", data={"title": title, "body": body})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with client.application.app_context():
        return db.session.execute(db.select(Thread.id).where(Thread.title == title)).scalar_one()


def set_mode(app, person, mode):
    from portal.notifications import core

    with app.app_context():
        core.set_mail_mode(person.id, mode)
        db.session.commit()


# --- following and replies --------------------------------------------------------------------


def test_starting_and_replying_follow_the_thread_and_followers_are_told(app, w):
    peer = w.peers_in[1]
    reply(client_as(app, w, peer), w.thread_id, "I agree with this.")
    with app.app_context():
        assert db.session.execute(
            db.select(Follow.id).where(Follow.user_id == peer.id, Follow.thread_id == w.thread_id)
        ).first()
    # trainee_in started the thread, peer_in1 replied before: both told; the writer is not.
    assert [n.kind for n in notes(app, w.people["trainee_in"]) if "replied" in n.summary][-1] == "reply"
    assert any("Peer In 2 replied" in n.summary for n in notes(app, w.peers_in[0]))
    assert not any("Peer In 2 replied" in n.summary for n in notes(app, peer))


def test_unfollow_and_follow_a_board(app, w):
    trainee = client_as(app, w, "trainee_in")
    assert trainee.post(f"/threads/{w.thread_id}/follow", data={"action": "unfollow"}).status_code == 303
    before = len(notes(app, w.people["trainee_in"]))
    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "Another reply.")
    assert len(notes(app, w.people["trainee_in"])) == before  # no longer follows
    # Following the board: told of a new thread there.
    assert trainee.post(f"/boards/{w.board_in}/follow", data={"action": "follow"}).status_code == 303
    new_thread(client_as(app, w, w.peers_in[1]), w.board_in, "Fresh topic", "Something new.")
    assert any("started “Fresh topic”" in n.summary for n in notes(app, w.people["trainee_in"]))
    # Another cohort's board cannot be followed (it does not exist for this person).
    assert trainee.post(f"/boards/{w.board_out}/follow", data={"action": "follow"}).status_code == 404


def test_following_answers_on_the_page_the_person_was_on(app, w):
    """From a later page of a thread (?after=), the answer comes back to that page, at the
    follow form's message; a board's follow answers at its own."""
    trainee = client_as(app, w, "trainee_in")
    later = f"/threads/{w.thread_id}?after={w.post_id}"
    form_html = trainee.get(later).get_data(as_text=True)
    assert f'name="next" value="{later}"' in form_html.replace("&amp;", "&")
    answer = trainee.post(f"/threads/{w.thread_id}/follow", data={"action": "unfollow", "next": later})
    assert answer.headers["Location"] == f"{later}#follow-message"
    landed = trainee.get(later)
    assert 'id="follow-message"' in landed.get_data(as_text=True)
    assert "You no longer follow this thread." in text_of(landed)
    # a next that leaves the site is ignored
    away = trainee.post(f"/threads/{w.thread_id}/follow", data={"action": "follow", "next": "//evil.example/x"})
    assert away.headers["Location"] == f"/threads/{w.thread_id}#follow-message"
    board = trainee.post(f"/boards/{w.board_in}/follow", data={"action": "follow"})
    assert board.headers["Location"] == f"/boards/{w.board_in}#follow-message"


def test_the_unread_count_rises_the_page_lists_and_mark_all_read_clears(app, w):
    trainee = client_as(app, w, "trainee_in")
    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "Count me.")
    page = trainee.get("/notifications")
    count = int(re.search(r'id="unread-count">.*?(\d+)', page.get_data(as_text=True), re.S).group(1))
    assert count >= 1
    assert "Peer In 2 replied in “Week one thoughts”" in text_of(page)
    newest = notes(app, w.people["trainee_in"])[-1]
    opened = trainee.post(f"/notifications/{newest.id}/open")
    assert opened.status_code == 303 and f"/threads/{w.thread_id}#post-" in opened.location
    assert notes(app, w.people["trainee_in"])[-1].read_at is not None
    # Someone else's notification does not exist for this person.
    assert client_as(app, w, "trainee_out").post(f"/notifications/{newest.id}/open").status_code == 404
    assert trainee.post("/notifications/read").status_code == 303
    assert all(n.read_at for n in notes(app, w.people["trainee_in"]))
    assert 'id="unread-count"' not in trainee.get("/notifications").get_data(as_text=True)


# --- mentions ---------------------------------------------------------------------------------


def test_mentions_notify_only_people_who_can_see_the_board(app, w):
    body = "Thanks @Peer In 2 and @Trainee Out and @Trainee Withdrawn and @Supervisor In!"
    reply(client_as(app, w, "trainee_in"), w.thread_id, body)
    assert [n.kind for n in notes(app, w.peers_in[1], "mention")] == ["mention"]
    for outsider in ("trainee_out", "trainee_withdrawn", "supervisor_in"):
        assert notes(app, w.people[outsider], "mention") == [], outsider
    with app.app_context():
        html = db.session.execute(db.select(Post.body_html).where(Post.body == body)).scalar_one()
    assert "<strong>@Peer In 2</strong>" in html
    assert "@Trainee Out" in html and "<strong>@Trainee Out" not in html  # plain text


def test_a_mention_in_a_pair_board_reaches_only_the_pair(app, w):
    client = client_as(app, w, "trainee_in")
    reply(client, w.dyad_thread_id, "@Peer In 1 and @Dual Role, see this")
    assert notes(app, w.peers_in[0], "mention")
    assert not notes(app, w.people["dual_role"], "mention")  # in the cohort, not in this pair


def test_mention_suggestions_only_offer_people_who_can_see_the_board(app, w):
    client = client_as(app, w, "trainee_in")
    page = client.get(f"/boards/{w.board_in}/mentions", query_string={"body": "hello @Pe"}, headers={"HX-Request": "true"})
    names = re.findall(r'data-name="([^"]+)"', page.get_data(as_text=True))
    assert "Peer In 1" in names and "Peer In 2" in names and not any("Out" in n for n in names)
    trainees = client.get(f"/boards/{w.board_in}/mentions", query_string={"body": "@Trainee"})
    names = re.findall(r'data-name="([^"]+)"', trainees.get_data(as_text=True))
    assert "Trainee Out" not in names and "Trainee Withdrawn" not in names
    assert client.get(f"/boards/{w.board_out}/mentions", query_string={"body": "@P"}).status_code == 404


def test_a_withdrawn_trainee_gets_nothing_more_from_the_old_cohort_board(app, w):
    from portal.cohorts import roster

    peer = w.peers_in[1]
    reply(client_as(app, w, peer), w.thread_id, "Before I leave.")  # peer follows the thread now
    reply(client_as(app, w, "trainee_in"), w.thread_id, "A reply peer is told of.")
    told_before = notes(app, peer)
    assert told_before
    with app.app_context():
        enrollment = db.session.execute(
            db.select(Enrollment).where(Enrollment.cohort_id == w.cohort.id, Enrollment.user_id == peer.id)
        ).scalar_one()
        roster.withdraw(enrollment, "Moved away", db.session.get(User, w.people["admin"].id))
        db.session.commit()
    reply(client_as(app, w, "trainee_in"), w.thread_id, "After you left, @Peer In 2.")
    assert len(notes(app, peer)) == len(told_before)  # no reply, no mention
    page = client_as(app, w, peer).get("/notifications")
    assert "Before I leave" not in text_of(page) and "replied in “Week one thoughts”" not in text_of(page)
    assert 'id="unread-count"' not in page.get_data(as_text=True)
    # "Mark all read" counts what the person saw as new, not what they may no longer see.
    reader = client_as(app, w, peer)
    marked = reader.post("/notifications/read")
    assert marked.headers["Location"].endswith("#notifications-message")
    answer = reader.get(marked.headers["Location"].split("#")[0])
    assert "Nothing was unread." in text_of(answer) and 'id="notifications-message"' in answer.get_data(as_text=True)


def test_a_moderator_hiding_a_post_tells_its_author(app, w):
    facilitator = client_as(app, w, "facilitator_in")
    assert facilitator.post(f"/posts/{w.peer_post_id}/hide", data={"reason": "Off topic"}).status_code == 303
    [notice] = notes(app, w.peers_in[0], "moderation")
    assert "Off topic" in notice.summary


# --- mail: immediate, digest, unsubscribe ----------------------------------------------------------


def test_immediate_mail_has_one_click_unsubscribe_headers(app, w, outbox):
    set_mode(app, w.people["trainee_in"], "immediate")
    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "Mail me now.")
    [message] = [m for m in outbox if m["To"] == w.people["trainee_in"].email]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert link in message.get_content() and "Mail me now" not in message.get_content()


def test_the_digest_checks_visibility_when_it_is_sent(app, w, outbox):
    from portal.cohorts import roster
    from portal.notifications import core

    peer, trainee = w.peers_in[1], w.people["trainee_in"]
    reply(client_as(app, w, peer), w.thread_id, "First from peer.")  # trainee_in told (digest)
    reply(client_as(app, w, "trainee_in"), w.thread_id, "Now peer is told too.")  # peer told
    assert not outbox  # digest is the default: nothing mailed yet
    with app.app_context():
        enrollment = db.session.execute(
            db.select(Enrollment).where(Enrollment.cohort_id == w.cohort.id, Enrollment.user_id == peer.id)
        ).scalar_one()
        roster.withdraw(enrollment, "Left", db.session.get(User, w.people["admin"].id))
        db.session.commit()
    with app.app_context():
        core.send_digests()
    recipients = [m["To"] for m in outbox]
    assert trainee.email in recipients
    assert peer.email not in recipients  # withdrawn before the digest went: nothing they may not see
    digest = next(m for m in outbox if m["To"] == trainee.email)
    assert "Peer In 2 replied in “Week one thoughts”" in digest.get_content()
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Sent once: the next run has nothing new.
    with app.app_context():
        assert core.send_digests() == 0


def test_a_post_hidden_before_the_digest_is_left_out(app, w, outbox):
    from portal.notifications import core

    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "This will be hidden.")
    with app.app_context():
        post_id = db.session.execute(db.select(Post.id).where(Post.body == "This will be hidden.")).scalar_one()
    client_as(app, w, "facilitator_in").post(f"/posts/{post_id}/hide", data={"reason": "Private details"})
    with app.app_context():
        core.send_digests()
    for message in outbox:
        if message["To"] == w.people["trainee_in"].email:
            assert "Peer In 2 replied" not in message.get_content()


def test_unsubscribe_works_signed_out_through_the_page_and_the_header(app, w, outbox):
    from portal.notifications import core

    trainee = w.people["trainee_in"]
    token = core.unsubscribe_token(app.secret_key, trainee.id)
    anonymous = app.test_client()
    page = anonymous.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200 and "Stop these mails" in text_of(page)
    assert anonymous.post(f"/notifications/unsubscribe/{token}", csrf=False).status_code == 400  # the page's form needs its token
    assert anonymous.post(f"/notifications/unsubscribe/{token}").status_code == 303
    with app.app_context():
        assert core.mail_mode(trainee.id) == "off"
    # The mail program's one-click POST (RFC 8058): no session, no CSRF token.
    set_mode(app, trainee, "immediate")
    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "Header test.")
    link = re.fullmatch(r"<(.+)>", outbox[-1]["List-Unsubscribe"]).group(1).replace("http://localhost", "")
    response = app.test_client().post(link, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    with app.app_context():
        assert core.mail_mode(trainee.id) == "off"
    # A forged or altered token names no one.
    assert anonymous.get(f"/notifications/unsubscribe/{token}x").status_code == 404
    assert app.test_client().post(f"/notifications/unsubscribe/{token}x", data={"List-Unsubscribe": "One-Click"},
                                  csrf=False).status_code == 404


def test_choosing_mail_off_and_back(app, w):
    client = client_as(app, w, "trainee_in")
    assert client.post("/notifications/mail", data={"mode": "off"}).status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(MailChoice.mode).where(MailChoice.user_id == w.people["trainee_in"].id)).scalar_one() == "off"
    bad = client.post("/notifications/mail", data={"mode": "hourly"})
    assert bad.status_code == 422 and "Not a valid choice" in text_of(bad)


# --- search -----------------------------------------------------------------------------------


def search(client, q, **args):
    response = client.get("/search", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_search_never_leaks_other_cohorts_pairs_or_hidden_posts(app, w):
    from portal.boards import posting

    with app.app_context():
        user = lambda key: db.session.get(User, w.people[key].id)  # noqa: E731
        board = lambda i: db.session.get(Board, i)  # noqa: E731
        posting.start_thread(board(w.board_in), user("trainee_in"), "Zebra crossing in", "zebra mine")
        posting.start_thread(board(w.board_out), user("trainee_out"), "Zebra crossing out", "zebra theirs")
        out_pair = db.session.execute(
            db.select(Board).join(Thread, Thread.board_id == Board.id).where(Thread.id == w.other_dyad_thread_id)
        ).scalar_one()
        posting.reply(db.session.get(Thread, w.other_dyad_thread_id), user("trainee_out"), "zebra pair secret")
        hidden = posting.reply(db.session.get(Thread, w.thread_id), db.session.get(User, w.peers_in[0].id),
                               "zebra hidden words").post
        posting.hide(hidden, user("facilitator_in"), "Not kind")
        mine = posting.reply(db.session.get(Thread, w.dyad_thread_id), user("trainee_in"), "zebra our pair").post
        assert out_pair.kind == BoardKind.DYAD
        db.session.commit()
        mine_id = mine.id
    html = search(client_as(app, w, "trainee_in"), "zebra")
    assert "Zebra crossing in" in text_of_html(html) and "zebra our pair" not in html  # snippet marks words
    assert f"post-{mine_id}" in html
    for leak in ("crossing out", "theirs", "pair secret", "hidden words"):
        assert leak not in html, leak
    # Dual role reads Cohort In's board but not trainee_in's pair; the withdrawn trainee nothing.
    dual = search(client_as(app, w, "dual_role"), "zebra")
    assert f"post-{mine_id}" not in dual and "crossing out" not in dual
    assert "Nothing found" in search(client_as(app, w, "trainee_withdrawn"), "zebra")
    # The moderator who hid it does not find the hidden post either.
    assert "Nothing found" in search(client_as(app, w, "facilitator_in"), "zebra hidden")


def text_of_html(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_search_highlights_escaped_and_follows_edits_and_removal(app, w):
    client = client_as(app, w, "trainee_in")
    reply(client, w.thread_id, "A <b>bold</b> <script>alert(1)</script> marmalade idea")
    html = search(client, "marmalade")
    assert "<mark>marmalade</mark>" in html
    # Never raw HTML (SQLite shows the tags escaped; PostgreSQL's ts_headline leaves tags out).
    assert "<script>alert(1)" not in html and "<b>bold" not in html
    with app.app_context():
        post_id = db.session.execute(db.select(Post.id).where(Post.body.like("%marmalade%"))).scalar_one()
    assert client.post(f"/posts/{post_id}/edit", data={"body": "Now about apricots"}).status_code == 303
    assert "Nothing found" in search(client, "marmalade")
    assert "<mark>apricots</mark>" in search(client, "apricots")
    assert client.post(f"/posts/{post_id}/remove").status_code == 303
    assert "Nothing found" in search(client, "apricots")
    with app.app_context():
        assert db.session.get(SearchDoc, post_id) is None


def test_search_pages_and_orders(app, w):
    from portal.boards import posting
    from portal.search import index

    with app.app_context():
        author = db.session.get(User, w.people["trainee_in"].id)
        board = db.session.get(Board, w.board_in)
        for n in range(index.PAGE_SIZE + 3):
            posting.start_thread(board, author, f"Kiwi number {n}", "kiwi fruit") if n % 8 == 0 else None
        thread = db.session.execute(db.select(Thread).where(Thread.title == "Kiwi number 0")).scalar_one()
        for n in range(index.PAGE_SIZE + 3):
            db.session.add(Post(thread_id=thread.id, board_id=board.id, author_id=author.id, body=f"kiwi {n}",
                                body_html=f"<p>kiwi {n}</p>"))
        db.session.flush()
        for post in db.session.execute(db.select(Post).where(Post.body.like("kiwi %"))).scalars():
            index.index_post(post)
        db.session.commit()
    client = client_as(app, w, "trainee_in")
    first = search(client, "kiwi", sort="new")
    assert "Next page" in first and first.count('class="snippet"') == index.PAGE_SIZE
    second = search(client, "kiwi", sort="new", page="2")
    assert "Previous page" in second and 0 < second.count('class="snippet"') <= index.PAGE_SIZE


def test_search_query_count_does_not_grow_with_posts(app, w, queries):
    from portal.boards import posting

    client = client_as(app, w, "trainee_in")

    def count():
        search(client, "plum")
        with queries() as statements:
            search(client, "plum")
        return len(statements)

    with app.app_context():
        posting.start_thread(db.session.get(Board, w.board_in), db.session.get(User, w.people["trainee_in"].id),
                             "Plum", "plum one")
        db.session.commit()
    small = count()
    with app.app_context():
        thread = db.session.execute(db.select(Thread).where(Thread.title == "Plum")).scalar_one()
        for n in range(40):
            posting.reply(thread, db.session.get(User, w.peers_in[n % 2].id), f"plum {n}") if False else None
            post = Post(thread_id=thread.id, board_id=thread.board_id, author_id=w.peers_in[n % 2].id, body=f"plum {n}",
                        body_html="<p>plum</p>")
            db.session.add(post)
            db.session.flush()
            from portal.search import index

            index.index_post(post)
        db.session.commit()
    assert count() == small


# --- directory ---------------------------------------------------------------------------------


def test_the_directory_shows_only_people_who_opted_in_and_never_an_email(app, w):
    # The world lists Peer In 1 and Peer Out 1; Peer In 2 has not opted in (off by default).
    with app.app_context():
        db.session.get(User, w.peers_in[1].id).phone = "+1 555 0199"
        db.session.commit()
    other = client_as(app, w, "trainee_out")
    assert "Peer In 2" not in text_of(other.get("/directory"))
    peer = client_as(app, w, w.peers_in[1])
    response = peer.post("/directory/me", data={
        "listed": "y", "region": "Oregon", "interests": "veterans, recovery", "open_to_networking": "y",
        "intro": "Hello, I work with veterans.",
    })
    assert response.status_code == 303
    page = other.get("/directory").get_data(as_text=True)
    assert "Peer In 2" in page and "Open to networking" in page and "Oregon" in page
    assert "Dual Role" not in page and "Trainee In" not in page  # not opted in
    for secret in (w.peers_in[1].email, w.peers_in[0].email, "example.org", "+1 555"):
        assert secret not in page
    # Filters.
    assert "Peer In 2" in other.get("/directory", query_string={"region": "Oregon"}).get_data(as_text=True)
    assert "Peer In 1" not in other.get("/directory", query_string={"region": "Oregon"}).get_data(as_text=True)
    assert "Peer In 2" not in other.get("/directory", query_string={"interest": "youth"}).get_data(as_text=True)
    assert "Peer In 2" in other.get("/directory", query_string={"interest": "VETERANS"}).get_data(as_text=True)
    # Opting out removes the entry.
    peer.post("/directory/me", data={"region": "Oregon", "interests": "", "intro": ""})
    assert "Peer In 2" not in other.get("/directory").get_data(as_text=True)
    # Supervisors have no directory.
    assert client_as(app, w, "supervisor_in").get("/directory").status_code == 403


# --- direct messages ----------------------------------------------------------------------------


def list_me(app, w, who):
    client = client_as(app, w, who)
    assert client.post("/directory/me", data={"listed": "y", "region": "", "interests": "", "intro": ""}).status_code == 303
    return client


def test_messaging_blocking_and_reporting(app, w):
    peer = w.peers_in[1]
    list_me(app, w, peer)
    writer = client_as(app, w, "trainee_out")
    sent = writer.post(f"/messages/new/{peer.id}", data={"subject": "Hello", "body": "Nice to *meet* you"})
    assert sent.status_code == 303
    conversation_url = sent.location
    peer_client = client_as(app, w, peer)
    page = peer_client.get(conversation_url)
    assert "<em>meet</em>" in page.get_data(as_text=True)
    assert notes(app, peer, "message")
    # Someone not listed cannot be written to; nor can a stranger read the conversation.
    assert writer.post(f"/messages/new/{w.people['dual_role'].id}", data={"subject": "x", "body": "y"}).status_code == 404
    assert client_as(app, w, "admin").get(conversation_url).status_code == 404
    # Report to the admins: they see the message with its context, and only then.
    with app.app_context():
        message_id = db.session.execute(
            db.select(DirectMessage.id).where(DirectMessage.body == "Nice to *meet* you")
        ).scalar_one()
    assert f'action="/messages/message/{message_id}/report"' in page.get_data(as_text=True)
    assert peer_client.post(f"/messages/message/{message_id}/report", data={"reason": "Pushy"}).status_code == 303
    # Reported once: the message says so instead of offering the report again.
    again = peer_client.get(conversation_url).get_data(as_text=True)
    assert f'action="/messages/message/{message_id}/report"' not in again
    assert "You reported this message to the programme team." in again
    reports = client_as(app, w, "admin").get("/messages/reports")
    assert "Nice to" in text_of(reports) and "Pushy" in text_of(reports)
    assert client_as(app, w, "trainee_in").get("/messages/reports").status_code == 403
    # Blocking: what they send afterwards never reaches the person (who is not told).
    conversation_id = int(conversation_url.rstrip("/").rsplit("/", 1)[1])
    assert peer_client.post(f"/messages/{conversation_id}/block",
                            data={"user_id": str(w.people["trainee_out"].id), "action": "block"}).status_code == 303
    before = len(notes(app, peer))
    assert writer.post(f"/messages/{conversation_id}/send", data={"body": "Are you there?"}).status_code == 303
    assert "Are you there?" in text_of(writer.get(conversation_url))  # the sender is not told
    assert len(notes(app, peer)) == before
    assert "Are you there?" not in text_of(peer_client.get(conversation_url))
    # ... nor does a new conversation they start: not in the inbox, and the old one stays where it was.
    writer.post(f"/messages/new/{peer.id}", data={"subject": "Again", "body": "Please answer"})
    inbox = text_of(peer_client.get("/messages"))
    assert "Again" not in inbox and "Hello" in inbox
    # Blocking someone outside the conversation is refused.
    assert peer_client.post(f"/messages/{conversation_id}/block",
                            data={"user_id": str(w.people["admin"].id), "action": "block"}).status_code == 400


def test_notification_page_and_count_cost_the_same_whatever_their_number(app, w, queries):
    from portal.boards import posting

    client = client_as(app, w, "trainee_in")

    def add(n):
        with app.app_context():
            thread = db.session.get(Thread, w.thread_id)
            for i in range(n):
                author = db.session.get(User, w.peers_in[i % 2].id)
                post = Post(thread_id=thread.id, board_id=thread.board_id, author_id=author.id, body=f"r{i}",
                            body_html="<p>r</p>")
                db.session.add(post)
                db.session.flush()
                posting._notify(post, "written")
            db.session.commit()

    def count():
        client.get("/notifications")
        with queries() as statements:
            assert client.get("/notifications").status_code == 200
        return len(statements)

    add(25)  # a full page of replies (the world's message notification is older)
    few = count()
    add(60)  # and many more than the unread count checks
    assert count() == few


def test_a_thread_title_matches_once_not_with_every_reply(app, w):
    client = client_as(app, w, "trainee_in")
    thread_id = new_thread(client, w.board_in, "Quokka habits", "First words.")
    for n in range(3):
        reply(client_as(app, w, w.peers_in[n % 2]), thread_id, f"Reply number {n}.")
    html = search(client, "quokka")
    assert html.count('class="snippet"') == 1 and "<mark>Quokka</mark> habits" in html
    assert "Quokka habits" in search(client, "reply number")  # replies show their thread's title


def test_mentions_are_marked_in_text_only_never_inside_links_or_code():
    from types import SimpleNamespace

    from portal.notifications.core import mark_mentions

    ann = SimpleNamespace(display_name="Ann <Lee>")
    html = '<p>Hi @Ann &lt;Lee&gt; see <a href="https://x.example/@Ann">@Ann &lt;Lee&gt;</a> <code>@Ann &lt;Lee&gt;</code></p>'
    marked = mark_mentions(html, [ann])
    assert marked.count("<strong>") == 1
    assert marked.startswith("<p>Hi <strong>@Ann &lt;Lee&gt;</strong> see <a href=")


def test_the_unread_count_in_sql_agrees_with_the_rule_for_everyone(app, w):
    """The navigation's count (one statement, authz.shown_notifications_clause) and the rule
    the notifications page applies (core.still_visible) agree for every person, with a
    notification about every post (a reply and a moderation notice), every board and every
    message, before and after posts are hidden, removed and held for approval, a person is
    suspended, withdrawn and blocks someone, and a message is removed after a report."""
    from portal.boards import posting
    from portal.cohorts import roster
    from portal.models import Block, Conversation, utcnow
    from portal.notifications import core

    people = [*w.people.values(), *w.peers_in, *w.peers_out]
    with app.app_context():
        posts = list(db.session.execute(db.select(Post.id, Post.thread_id, Post.board_id)).all())
        boards = list(db.session.execute(db.select(Board.id)).scalars())
        messages = list(db.session.execute(db.select(DirectMessage.id, DirectMessage.conversation_id)).all())
        assert posts and boards and messages
        for person in people:
            for post_id, thread_id, board_id in posts:
                for kind in ("reply", "moderation"):
                    db.session.add(Notification(user_id=person.id, kind=kind, board_id=board_id, thread_id=thread_id,
                                                post_id=post_id, summary="about a post"))
            for board_id in boards:
                db.session.add(Notification(user_id=person.id, kind="reply", board_id=board_id, summary="a board"))
            for message_id, conversation_id in messages:
                db.session.add(Notification(user_id=person.id, kind="message", conversation_id=conversation_id,
                                            message_id=message_id, summary="a message"))
            db.session.add(Notification(user_id=person.id, kind="moderation", summary="about nothing"))
        db.session.commit()

    def check():
        seen = set()
        for person in people:
            with app.test_request_context("/"):
                user = db.session.get(User, person.id)
                rows = list(db.session.execute(
                    db.select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                ).scalars())
                by_rule = len(core._visible(user, rows))
                assert core.unread_count(user) == by_rule, person.email
                seen.add(by_rule)
        return seen

    assert len(check()) > 3  # people see different things
    with app.app_context():
        admin = db.session.get(User, w.people["admin"].id)
        posting.hide(db.session.get(Post, w.peer_post_id), admin, "Off topic")
        posting.remove(db.session.get(Post, w.other_post_id))
        db.session.get(Post, w.dyad_post_id).pending = True
        db.session.get(Thread, w.dyad_thread_id).opening_shown = False
        posting.suspend(db.session.get(Board, w.community), db.session.get(User, w.peers_in[1].id), 7, "Cooling off",
                        admin)
        enrollment = db.session.execute(
            db.select(Enrollment).where(Enrollment.cohort_id == w.cohort.id, Enrollment.user_id == w.peers_in[1].id)
        ).scalar_one()
        roster.withdraw(enrollment, "Moved away", admin)
        conversation = db.session.get(Conversation, w.notify_conversation_id)
        assert conversation is not None
        db.session.add(Block(blocker_id=w.people["trainee_in"].id, blocked_id=w.peers_in[0].id))
        other_message = db.session.execute(
            db.select(DirectMessage).where(DirectMessage.conversation_id != w.notify_conversation_id)
        ).scalars().first()
        other_message.hidden_at = utcnow()  # removed by the programme team after a report
        db.session.commit()
    check()


def test_a_notification_about_a_post_past_the_first_page_opens_the_page_that_shows_it(app, w, outbox):
    """The thread shows 20 posts a page: a reply notified after 30 others opens (and is mailed
    as) the page that starts with it, where its anchor is."""
    from portal.boards.posting import PAGE_SIZE

    set_mode(app, w.people["trainee_in"], "immediate")
    with app.app_context():  # earlier replies, written straight in (past the rate limit)
        thread = db.session.get(Thread, w.thread_id)
        for i in range(PAGE_SIZE + 10):
            db.session.add(Post(thread_id=thread.id, board_id=thread.board_id, author_id=w.peers_in[0].id,
                                body=f"Filler {i}", body_html=f"<p>Filler {i}</p>"))
        db.session.commit()
    reply(client_as(app, w, w.peers_in[1]), w.thread_id, "Reply number thirty-one.")
    with app.app_context():
        last = db.session.execute(
            db.select(Notification).where(Notification.user_id == w.people["trainee_in"].id)
            .order_by(Notification.id.desc())
        ).scalars().first()
        post_id = last.post_id
        assert post_id and last.read_at is None
    trainee = client_as(app, w, "trainee_in")
    opened = trainee.post(f"/notifications/{last.id}/open")
    assert opened.status_code == 303
    location = opened.headers["Location"]
    assert "after=" in location and location.endswith(f"#post-{post_id}-message")
    page = trainee.get(location.split("#")[0])
    assert f'id="post-{post_id}-message"' in page.get_data(as_text=True)
    [mailed] = [m for m in outbox if m["To"] == w.people["trainee_in"].email]
    body = mailed.get_body(("plain",)).get_content()
    assert f"#post-{post_id}-message" in body and "after=" in body


def test_the_directory_says_who_is_certified_and_pages_through_everyone(app, w, make_user):
    """Peer In 1 holds the world's certificate: the directory says so, for no one else; with
    more people listed than a page holds, every one of them is on exactly one page."""
    from portal.directory.core import PAGE_SIZE
    from portal.models import DirectoryEntry

    reader = client_as(app, w, "trainee_out")
    html = reader.get("/directory").get_data(as_text=True)
    entries = {m.group(1): m.group(2) for m in re.finditer(r'id="member-(\d+)">(.*?)</li>', html, re.S)}
    assert "Certified" in entries[str(w.peers_in[0].id)]
    assert "Certified" not in entries[str(w.peers_out[0].id)] and html.count("Certified") == 1
    names = [f"Listed Person {n:02d}" for n in range(PAGE_SIZE + 5)]
    with app.app_context():
        for name in names:
            person = make_user(name=name)
            db.session.add(DirectoryEntry(user_id=person.id, listed=True, region="Ohio", interests="peer work"))
        db.session.commit()
    seen, number = [], 1
    while True:
        html = reader.get("/directory", query_string={"region": "Ohio", "page": number}).get_data(as_text=True)
        seen += [n for n in names if n in html]
        if "Next page" not in html:
            break
        number += 1
    assert number >= 2 and sorted(seen) == names  # each once, none lost between pages


def test_an_open_conversation_says_when_new_messages_come(app, w):
    """The conversation page polls for messages after the last it shows: nothing new is a 204;
    a message from the other person is "1 new message"; one's own, or one from someone one
    blocked, is not new; someone outside the conversation gets a 404."""
    from portal.models import Block

    peer = w.peers_in[1]
    list_me(app, w, peer)
    writer = client_as(app, w, "trainee_out")
    sent = writer.post(f"/messages/new/{peer.id}", data={"subject": "Poll me", "body": "First words."})
    url = sent.location.split("#")[0]
    conversation_id = int(url.rstrip("/").rsplit("/", 1)[-1])
    reader = client_as(app, w, peer)
    html = reader.get(url).get_data(as_text=True)
    seen = int(re.search(rf"/messages/{conversation_id}/new\?seen=(\d+)", html).group(1))
    poll = f"/messages/{conversation_id}/new?seen={seen}"
    assert reader.get(poll).status_code == 204
    writer.post(f"/messages/{conversation_id}/send", data={"body": "Second words."})
    answer = reader.get(poll)
    assert answer.status_code == 200 and "1 new message" in text_of(answer)
    assert writer.get(f"/messages/{conversation_id}/new?seen={seen}").status_code == 204  # their own
    with app.app_context():
        db.session.add(Block(blocker_id=peer.id, blocked_id=w.people["trainee_out"].id))
        db.session.commit()
    assert reader.get(poll).status_code == 204  # from someone blocked: not shown, not new
    assert client_as(app, w, "trainee_in").get(poll).status_code == 404
