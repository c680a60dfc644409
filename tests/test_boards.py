"""Boards: the sanitizer against known XSS payloads in the rendered page, who sees what (by URL
and in every list), hidden posts, withdrawal, deactivation and suspension on the next request,
crisis phrases, rate limits, links from new accounts, the new-reply poll, query counts."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Board,
    BoardSuspension,
    Notification,
    OutboxMail,
    Post,
    PostReport,
    Thread,
    User,
    utcnow,
)
from tests.factories import AuthActions, text_of
from tests.world import World


def client_as(app, world, principal):
    client = app.test_client()
    AuthActions(client, app).login_as(world.people[principal])
    return client


# --- the sanitizer, through the page ----------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<ScRiPt src=//evil.example/x.js></ScRiPt>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;vascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "![img](https://evil.example/track.png)",
    '![x](x" onerror="alert(1))',
    "![x](javascript:alert(1))",
    "<svg onload=alert(1)><circle r=1></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)//",
    '"><script>alert(1)</script>',
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    '<button hx-get="/logout" hx-trigger="load">x</button>',
    '<div hx-post="/boards/settings" hx-trigger="load" data-hx-get="/admin">x</div>',
    '<a href="/x" hx-get="/admin/users" hx-target="body">x</a>',
    '[x](/logout "title" hx-post="/logout")',
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<base href=//evil.example/>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<style>*{display:none}</style>",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[a](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "`<script>` is code, and so is ```<img onerror=alert(1)>```",
]

# What the rendered post may hold: these tags, these attributes, links only to these schemes.
ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "sub",
    "sup",
    "div",
}
ALLOWED_ATTRS = {"href", "title", "rel", "start", "class", "hx-disable"}


def markup_problems(fragment: str) -> list[str]:
    """Every tag, attribute and link of the rendered fragment that is not allowed (escaped text
    like `&lt;script&gt;` is text, not markup, and is fine)."""
    from html.parser import HTMLParser
    from urllib.parse import urlsplit

    problems = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in ALLOWED_TAGS:
                problems.append(f"tag <{tag}>")
            for name, value in attrs:
                if name not in ALLOWED_ATTRS:
                    problems.append(f"attribute {name}")
                if name == "href":
                    scheme = urlsplit((value or "").strip()).scheme.lower()
                    if scheme not in {"", "http", "https", "mailto"}:
                        problems.append(f"link {value}")

    Parser(convert_charrefs=True).feed(fragment)
    return problems


def _post_html(html: str, post_id: int) -> str:
    start = html.index(f'id="post-{post_id}"')
    content = html.index('class="user-content"', start)
    return html[content : html.index("</div>", content)]


def test_no_xss_payload_survives_in_the_thread_page(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    thread = f"/threads/{world.thread_id}"
    for payload in XSS:
        with app.app_context():
            post = Post(
                thread_id=world.thread_id,
                board_id=world.board_in,
                author_id=world.people["dual_role"].id,
                body=payload,
                body_html=str(__import__("portal.markup", fromlist=["x"]).render_markdown(payload)),
            )
            db.session.add(post)
            db.session.commit()
            post_id = post.id
        html = client.get(f"{thread}?after={post_id - 1}").get_data(as_text=True)
        rendered = _post_html(html, post_id)
        assert not markup_problems("<div " + rendered + "</div>"), f"{payload!r} rendered as {rendered!r}"
    # the post's container tells htmx to ignore whatever is inside
    assert 'class="user-content" hx-disable' in html


def test_posting_through_the_form_renders_through_the_sanitizer(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    body = '**bold** <script>alert(1)</script> [ok](https://example.org) <b onclick="x()">b</b>'
    response = client.post(f"/threads/{world.thread_id}/reply", data={"body": body})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'rel="noopener noreferrer nofollow"' in html or "nofollow" in html
    with app.app_context():
        post_id = db.session.execute(db.select(db.func.max(Post.id))).scalar_one()
    assert not markup_problems("<div " + _post_html(html, post_id) + "</div>")


# --- who sees what --------------------------------------------------------------------------


def test_a_trainee_never_sees_another_cohorts_board_thread_post_or_dyad_thread(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    for url in (
        f"/boards/{world.board_out}",
        f"/boards/{world.board_out}/new",
        f"/threads/{world.other_thread_id}",
        f"/threads/{world.other_thread_id}/new-replies?seen=0",
        f"/threads/{world.other_dyad_thread_id}",
        f"/posts/{world.other_post_id}/edit",
    ):
        assert client.get(url).status_code == 404, url
    for url in (f"/posts/{world.other_post_id}/report", f"/threads/{world.other_thread_id}/reply"):
        assert client.post(url, data={"reason": "spam", "body": "hi"}).status_code == 404, url
    for url in ("/boards", f"/boards/{world.board_in}", f"/threads/{world.thread_id}", f"/boards/{world.community}"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text_of(response)
        for secret in ("Cohort Out", "Out pair", "Pair words", "Our own words"):
            assert secret not in page, f"{secret} on {url}"
    # Their own pair's board: yes; another pair of their own cohort: no.
    assert client.get(f"/threads/{world.dyad_thread_id}").status_code == 200
    other = client_as(app, world, "dual_role")
    assert other.get(f"/threads/{world.dyad_thread_id}").status_code == 404
    assert "Our practice" not in text_of(other.get("/boards"))
    # The cohort's facilitators read the pair's thread; the other cohort's do not; admins do not.
    assert client_as(app, world, "facilitator_in").get(f"/threads/{world.dyad_thread_id}").status_code == 200
    assert client_as(app, world, "facilitator_out").get(f"/threads/{world.dyad_thread_id}").status_code == 404
    assert client_as(app, world, "admin").get(f"/threads/{world.dyad_thread_id}").status_code == 404


def test_waitlisted_withdrawn_and_supervisors_see_no_cohort_board(app):
    world = World.fresh(app)
    for principal in ("trainee_waitlisted", "trainee_withdrawn", "supervisor_in"):
        client = client_as(app, world, principal)
        assert client.get(f"/boards/{world.board_in}").status_code in (403, 404), principal
        assert client.get(f"/threads/{world.thread_id}").status_code == 404, principal
        assert "Week one thoughts" not in client.get("/boards").get_data(as_text=True)


def test_hidden_posts_vanish_for_everyone_but_moderators_and_the_author(app):
    world = World.fresh(app)
    facilitator = client_as(app, world, "facilitator_in")
    response = facilitator.post(f"/posts/{world.peer_post_id}/hide", data={"reason": "Not kind to others"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Post, world.peer_post_id).hidden_at is not None
        assert (
            db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "board.post_hidden"))
            .scalar_one()
            .subject_id
            == world.peer_post_id
        )
        assert (
            db.session.execute(
                db.select(PostReport.resolved_at).where(PostReport.post_id == world.peer_post_id)
            ).scalar_one()
            is not None
        )
    url = f"/threads/{world.thread_id}"
    assert "Hello back." not in text_of(client_as(app, world, "trainee_in").get(url))
    assert "Hello back." not in text_of(client_as(app, world, "dual_role").get(url))
    assert "Hello back." in text_of(facilitator.get(url))
    assert "Hello back." in text_of(client_as(app, world, "admin").get(url))
    author = app.test_client()
    AuthActions(author, app).login_as(world.peers_in[0])
    page = text_of(author.get(url))
    assert "Hello back." in page and "Hidden by a moderator" in page and "Not kind to others" in page
    # the new-reply poll does not count it either
    assert client_as(app, world, "trainee_in").get(f"{url}/new-replies?seen={world.post_id}").status_code == 204


def test_withdrawal_deactivation_and_suspension_take_effect_on_the_next_request(app):
    from portal import people as accounts
    from portal.cohorts import roster
    from portal.models import Enrollment

    world = World.fresh(app)
    url = f"/threads/{world.thread_id}"
    trainee, dual = client_as(app, world, "trainee_in"), client_as(app, world, "dual_role")
    peer = app.test_client()
    AuthActions(peer, app).login_as(world.peers_in[1])
    for client in (trainee, dual, peer):
        assert client.get(url).status_code == 200
    with app.app_context():
        admin = db.session.get(User, world.people["admin"].id)
        enrollment = db.session.execute(
            db.select(Enrollment).where(
                Enrollment.cohort_id == world.cohort.id, Enrollment.user_id == world.people["trainee_in"].id
            )
        ).scalar_one()
        roster.withdraw(enrollment, "Left", admin)
        accounts.deactivate(db.session.get(User, world.people["dual_role"].id), admin, "left")
        db.session.commit()
    assert trainee.get(url).status_code == 404
    assert trainee.get(f"/threads/{world.dyad_thread_id}").status_code == 404  # the pair's thread too
    assert "Week one thoughts" not in trainee.get("/boards").get_data(as_text=True)
    assert dual.get(url).status_code in (302, 303, 401)
    # suspension, through the moderator's form
    facilitator = client_as(app, world, "facilitator_in")
    response = facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.peers_in[1].id), "days": "7", "reason": "Cooling off"},
    )
    assert response.status_code == 303
    # Told, with the date, rather than finding the thread and board gone; nothing gets posted.
    paused = peer.get(url)
    assert paused.status_code == 403 and "You are taking a break from this board" in text_of(paused)
    assert "paused your access to this board until" in text_of(paused)
    assert peer.get(f"/boards/{world.board_in}").status_code == 403
    assert peer.post(f"{url}/reply", data={"body": "still here?"}).status_code == 403
    with app.app_context():
        assert not db.session.execute(db.select(Post.id).where(Post.body == "still here?")).first()
    assert "Week one thoughts" not in peer.get("/boards").get_data(as_text=True)
    assert peer.get(f"/boards/{world.community}").status_code == 200  # only that board
    with app.app_context():
        mine = db.select(BoardSuspension).where(BoardSuspension.reason == "Cooling off")
        assert db.session.execute(mine).scalar_one().user_id == world.peers_in[1].id
        assert db.session.execute(db.select(AuditEvent.id).where(AuditEvent.action == "board.user_suspended")).first()
    # Suspending them again says they are kept off already (and until when); a short reason is
    # answered with what the reason needs.
    again = facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.peers_in[1].id), "days": "7", "reason": "Again"},
    )
    assert "is already kept off" in text_of(facilitator.get(again.headers["Location"].split("#")[0]))
    short = facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.peers_in[0].id), "days": "7", "reason": "no"},
    )
    assert "Give a reason of 3 to 300 characters." in text_of(facilitator.get(short.headers["Location"].split("#")[0]))
    with app.app_context():
        made = db.select(BoardSuspension).where(BoardSuspension.user_id.in_([p.id for p in world.peers_in]))
        assert len(db.session.execute(made).scalars().all()) == 1


def test_a_facilitator_cannot_suspend_someone_of_another_cohort(app):
    world = World.fresh(app)
    facilitator = client_as(app, world, "facilitator_in")
    facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.people["trainee_out"].id), "days": "7", "reason": "Nope"},
    )
    with app.app_context():
        theirs = db.select(BoardSuspension.id).where(BoardSuspension.user_id == world.people["trainee_out"].id)
        assert db.session.execute(theirs).first() is None


def test_a_moderator_sees_who_is_kept_off_and_lets_them_back_early(app):
    world = World.fresh(app)
    peer = app.test_client()
    AuthActions(peer, app).login_as(world.peers_in[1])
    facilitator = client_as(app, world, "facilitator_in")
    facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.peers_in[1].id), "days": "7", "reason": "Cooling off"},
    )
    assert peer.get(f"/boards/{world.board_in}").status_code == 403
    page = facilitator.get(f"/boards/{world.board_in}")
    listed = text_of(page)
    assert "Kept off this board (2)" in listed  # the world's own suspension and this one
    assert "Peer In 2 until" in listed and "Reason: Cooling off · by Facilitator In" in listed
    with app.app_context():
        row = db.session.execute(
            db.select(BoardSuspension).where(BoardSuspension.user_id == world.peers_in[1].id)
        ).scalar_one()
    lift_url = f"/boards/suspensions/{row.id}/lift"
    assert f'action="{lift_url}"' in page.get_data(as_text=True)
    # Those who only read the board see no such list, and cannot lift a suspension.
    trainee = client_as(app, world, "trainee_in")
    assert "Kept off this board" not in text_of(trainee.get(f"/boards/{world.board_in}"))
    assert trainee.post(lift_url).status_code == 403
    lifted = facilitator.post(lift_url)
    assert lifted.status_code == 303 and lifted.headers["Location"].endswith("#suspend-message")
    after = text_of(facilitator.get(lifted.headers["Location"].split("#")[0]))
    assert "Peer In 2 can read and post on" in after and "Kept off this board (1)" in after
    # They are back, and told so: the notification opens the board.
    assert peer.get(f"/boards/{world.board_in}").status_code == 200
    with app.app_context():
        assert db.session.get(BoardSuspension, row.id).lifted_at is not None
        note = db.session.execute(
            db.select(Notification).where(Notification.user_id == world.peers_in[1].id, Notification.kind == "moderation")
        ).scalar_one()
        assert "has ended" in note.summary
        assert db.session.execute(
            db.select(AuditEvent.id).where(AuditEvent.action == "board.suspension_lifted")
        ).first()
    opened = peer.post(f"/notifications/{note.id}/open")
    assert opened.headers["Location"].endswith(f"/boards/{world.board_in}")
    # A second click (or a second moderator) changes nothing and tells no one twice.
    again = facilitator.post(lift_url)
    assert "had already ended" in text_of(facilitator.get(again.headers["Location"].split("#")[0]))
    with app.app_context():
        told = db.select(Notification.id).where(Notification.user_id == world.peers_in[1].id)
        assert len(db.session.execute(told).all()) == 1
    # Another cohort's facilitator finds no such suspension.
    assert client_as(app, world, "facilitator_out").post(lift_url).status_code == 404


# --- writing ----------------------------------------------------------------------------------


def test_crisis_phrase_flags_the_post_mails_moderators_and_shows_resources(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    response = client.post(f"/threads/{world.thread_id}/reply", data={"body": "Some days I want to DIE, honestly."})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "988" in text_of(page) and "You are not alone" in text_of(page)
    with app.app_context():
        post = db.session.execute(db.select(Post).order_by(Post.id.desc()).limit(1)).scalar_one()
        assert post.crisis_flagged_at is not None and not post.pending and post.hidden_at is None
        mailed = set(db.session.execute(db.select(OutboxMail.to_address)).scalars())
        assert mailed == {world.people["facilitator_in"].email, world.people["co_facilitator"].email}
        body = db.session.execute(db.select(OutboxMail.body)).scalars().first()
        assert "want to" not in body.lower(), "the mail never carries the post's words"
    # the post is there for the others, and in the facilitator's queue
    assert "want to DIE" in text_of(client_as(app, world, "dual_role").get(f"/threads/{world.thread_id}"))
    assert "Crisis phrase" in text_of(client_as(app, world, "facilitator_in").get("/boards/moderation"))
    # through htmx: the resources in the reply section at once
    hx = {"HX-Request": "true"}
    fragment = client.post(
        f"/threads/{world.thread_id}/reply", data={"body": "thinking about suicide", "seen": "0"}, headers=hx
    )
    assert fragment.status_code == 200 and "988" in fragment.get_data(as_text=True)


def test_a_new_accounts_post_with_a_link_waits_for_approval(app):
    world = World.fresh(app)
    client = client_as(app, world, "dual_role")
    client.post(f"/threads/{world.thread_id}/reply", data={"body": "See https://example.org/deal"})
    url = f"/threads/{world.thread_id}"
    assert "example.org/deal" in text_of(client.get(url))  # the author sees it, marked waiting
    assert "Waiting for a moderator" in text_of(client.get(url))
    assert "example.org/deal" not in text_of(client_as(app, world, "trainee_in").get(url))
    with app.app_context():
        post_id = db.session.execute(db.select(Post.id).where(Post.pending.is_(True))).scalar_one()
    facilitator = client_as(app, world, "facilitator_in")
    queue = facilitator.get("/boards/moderation")
    assert "Waiting for approval" in text_of(queue)
    # Nothing to dismiss on it (no report, no crisis flag): only Approve is offered.
    item = re.search(rf'<li id="queue-{post_id}">.*?</li>', queue.get_data(as_text=True), re.S).group(0)
    assert ">Approve</button>" in item and ">Dismiss</button>" not in item
    facilitator.post(f"/posts/{post_id}/moderate", data={"action": "approve"})
    assert "example.org/deal" in text_of(client_as(app, world, "trainee_in").get(url))


def test_rate_limit_keeps_the_text_and_says_why(app):
    from portal.boards.posting import RATE_LIMIT

    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    with app.app_context():  # trainee_in's posts in the world count too
        already = db.session.execute(
            db.select(db.func.count(Post.id)).where(Post.author_id == world.people["trainee_in"].id)
        ).scalar_one()
    for n in range(RATE_LIMIT - already):
        assert client.post(f"/threads/{world.thread_id}/reply", data={"body": f"reply {n}"}).status_code == 303
    refused = client.post(f"/threads/{world.thread_id}/reply", data={"body": "one more thing"})
    assert refused.status_code == 422
    assert "Please wait a few minutes" in text_of(refused) and "one more thing" in refused.get_data(as_text=True)


def test_locked_threads_take_no_replies_and_pinned_come_first(app):
    world = World.fresh(app)
    facilitator = client_as(app, world, "facilitator_in")
    facilitator.post(f"/threads/{world.thread_id}/moderate", data={"action": "lock"})
    trainee = client_as(app, world, "trainee_in")
    assert trainee.post(f"/threads/{world.thread_id}/reply", data={"body": "hi"}).status_code == 403
    assert "locked" in text_of(trainee.get(f"/threads/{world.thread_id}"))
    # a second thread is more recent, but the pinned one comes first
    trainee.post(f"/boards/{world.board_in}/new", data={"title": "Newer thread", "body": "new"})
    page = text_of(trainee.get(f"/boards/{world.board_in}"))
    assert page.index("Newer thread") < page.index("Week one thoughts")
    facilitator.post(f"/threads/{world.thread_id}/moderate", data={"action": "pin"})
    page = text_of(trainee.get(f"/boards/{world.board_in}"))
    assert page.index("Week one thoughts") < page.index("Newer thread")


def test_edit_keeps_history_for_moderators_and_remove_leaves_a_note(app):
    world = World.fresh(app)
    trainee = client_as(app, world, "trainee_in")
    assert trainee.post(f"/posts/{world.post_id}/edit", data={"body": "Hello, edited."}).status_code == 303
    url = f"/threads/{world.thread_id}"
    assert "edited" in text_of(trainee.get(url)) and "Hello, edited." in text_of(trainee.get(url))
    assert "Earlier versions" not in text_of(trainee.get(url))
    assert "Earlier versions (1)" in text_of(client_as(app, world, "facilitator_in").get(url))
    assert (
        client_as(app, world, "dual_role").post(f"/posts/{world.post_id}/edit", data={"body": "x"}).status_code == 403
    )
    trainee.post(f"/posts/{world.post_id}/remove")
    page = text_of(client_as(app, world, "dual_role").get(url))
    assert "Removed by the author." in page and "Hello, edited." not in page


def test_first_post_needs_the_guidelines_accepted(app, make_user, make_cohort):
    trainee = make_user()
    make_cohort(trainees=[trainee, make_user()])
    client = app.test_client()
    AuthActions(client, app).login_as(trainee)
    with app.app_context():
        board_id = db.session.execute(db.select(Board.id).where(Board.kind == "cohort")).scalar_one()
    response = client.get(f"/boards/{board_id}/new")
    assert response.status_code == 303 and "/boards/guidelines" in response.headers["Location"]
    refused = client.post(f"/boards/guidelines?next=/boards/{board_id}/new", data={})
    assert refused.status_code == 422 and "Tick the box" in text_of(refused)
    accepted = client.post(f"/boards/guidelines?next=/boards/{board_id}/new", data={"accept": "y"})
    assert accepted.headers["Location"].endswith(f"/boards/{board_id}/new")
    assert client.get(f"/boards/{board_id}/new").status_code == 200


def test_new_reply_poll_answers_204_until_someone_else_posts(app):
    world = World.fresh(app)
    reader, writer = client_as(app, world, "dual_role"), client_as(app, world, "trainee_in")
    poll = f"/threads/{world.thread_id}/new-replies?seen={world.peer_post_id}"
    assert reader.get(poll).status_code == 204
    writer.post(f"/threads/{world.thread_id}/reply", data={"body": "Anyone here?"})
    response = reader.get(poll)
    assert response.status_code == 200 and "1 new reply" in text_of(response)
    assert writer.get(poll).status_code == 204  # one's own post is not news


def test_keyset_pagination_of_posts_and_threads(app):
    world = World.fresh(app)
    with app.app_context():
        thread = db.session.get(Thread, world.thread_id)
        for n in range(45):
            db.session.add(
                Post(
                    thread_id=thread.id,
                    board_id=thread.board_id,
                    author_id=world.people["trainee_in"].id,
                    body=f"number {n}",
                    body_html=f"<p>number {n}</p>",
                )
            )
        for n in range(25):
            db.session.add(
                Thread(
                    board_id=world.board_in,
                    title=f"Topic {n:02d}",
                    author_id=world.people["dual_role"].id,
                    last_post_id=10_000 + n,
                )
            )
        db.session.commit()
    client = client_as(app, world, "trainee_in")
    first = client.get(f"/threads/{world.thread_id}")
    assert "Load more posts" in text_of(first) and "number 17" in text_of(first) and "number 18" not in text_of(first)
    more = re.search(r'href="(/threads/\d+\?after=\d+)"', first.get_data(as_text=True).split("more-posts")[1]).group(1)
    second = client.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert "number 18" in text_of(second) and "number 17" not in text_of(second)
    board_page = client.get(f"/boards/{world.board_in}")
    assert "Topic 24" in text_of(board_page) and "Load more threads" in text_of(board_page)
    link = re.search(r'href="(/boards/\d+\?before=\d+)"', board_page.get_data(as_text=True)).group(1)
    rest = text_of(client.get(link))
    assert "Week one thoughts" in rest and "Topic 24" not in rest


def _fill(app, world, posts: int, threads: int) -> None:
    now = utcnow()
    with app.app_context():
        author = world.people["dual_role"].id
        db.session.execute(
            Post.__table__.insert(),
            [
                {
                    "thread_id": world.thread_id,
                    "board_id": world.board_in,
                    "author_id": author,
                    "body": f"p{n}",
                    "body_html": f"<p>p{n}</p>",
                    "created_at": now,
                    "pending": False,
                }
                for n in range(posts)
            ],
        )
        db.session.execute(
            Thread.__table__.insert(),
            [
                {
                    "board_id": world.board_in,
                    "title": f"T{n}",
                    "author_id": author,
                    "created_at": now,
                    "last_post_id": 10_000 + n,
                    "last_post_at": now,
                    "reply_count": 0,
                    "pinned": False,
                }
                for n in range(threads)
            ],
        )
        db.session.commit()


def test_query_counts_stay_the_same(app, queries):
    counts = []
    for posts, threads in ((5, 3), (400, 80)):
        world = World.fresh(app)
        _fill(app, world, posts, threads)
        client = client_as(app, world, "trainee_in")
        row = []
        for url in (
            f"/boards/{world.board_in}",
            f"/threads/{world.thread_id}",
            f"/threads/{world.thread_id}/new-replies?seen=0",
        ):
            with queries() as statements:
                assert client.get(url).status_code == 200, url
            row.append(len(statements))
        counts.append(row)
        from tests.factories import empty_tables

        empty_tables(app)
    assert counts[0] == counts[1], counts


# --- a hidden opening post hides its thread; reply counts are what everyone sees ---------------


def _thread_row(html: str, thread_id: int) -> str:
    start = html.index(f'id="thread-{thread_id}"')
    return html[start : html.index("</li>", start)]


def test_a_hidden_opening_post_hides_its_thread_title_from_the_list_and_by_url(app):
    world = World.fresh(app)
    facilitator = client_as(app, world, "facilitator_in")
    board, thread = f"/boards/{world.board_in}", f"/threads/{world.thread_id}"
    assert facilitator.post(f"/posts/{world.post_id}/hide", data={"reason": "Personal details"}).status_code == 303
    for principal in ("dual_role",):
        reader = client_as(app, world, principal)
        assert "Week one thoughts" not in text_of(reader.get(board)), principal
        assert reader.get(thread).status_code == 404, principal
        assert reader.get(f"{thread}/new-replies?seen=0").status_code == 404
        assert reader.post(f"/posts/{world.peer_post_id}/report", data={"reason": "spam"}).status_code == 404
    peer = app.test_client()  # a replier who did not start the thread loses it too
    AuthActions(peer, app).login_as(world.peers_in[0])
    assert "Week one thoughts" not in text_of(peer.get(board))
    # its author and the moderators still see it, marked
    for client in (client_as(app, world, "trainee_in"), facilitator, client_as(app, world, "admin")):
        assert "Hidden from the board" in _thread_row(client.get(board).get_data(as_text=True), world.thread_id)
        assert client.get(thread).status_code == 200
    # shown again: back for everyone
    facilitator.post(f"/posts/{world.post_id}/moderate", data={"action": "unhide"})
    assert "Week one thoughts" in text_of(client_as(app, world, "dual_role").get(board))


def test_a_waiting_opening_post_hides_its_thread_until_approved(app):
    world = World.fresh(app)
    newcomer = client_as(app, world, "dual_role")
    newcomer.post(f"/boards/{world.board_in}/new", data={"title": "Great deal here", "body": "https://spam.example"})
    board = f"/boards/{world.board_in}"
    assert "Great deal here" in text_of(newcomer.get(board))
    assert "Great deal here" not in text_of(client_as(app, world, "trainee_in").get(board))
    with app.app_context():
        post_id = db.session.execute(db.select(Post.id).where(Post.pending.is_(True))).scalar_one()
    client_as(app, world, "facilitator_in").post(f"/posts/{post_id}/moderate", data={"action": "approve"})
    assert "Great deal here" in text_of(client_as(app, world, "trainee_in").get(board))


def test_reply_counts_leave_out_hidden_and_waiting_replies(app):
    world = World.fresh(app)
    board = f"/boards/{world.board_in}"

    def count_seen_by(principal):
        html = client_as(app, world, principal).get(board).get_data(as_text=True)
        return re.search(r"(\d+) repl", _thread_row(html, world.thread_id)).group(1)

    assert count_seen_by("dual_role") == "1"  # Peer In 1's reply
    facilitator = client_as(app, world, "facilitator_in")
    facilitator.post(f"/posts/{world.peer_post_id}/hide", data={"reason": "Not kind"})
    assert count_seen_by("dual_role") == "0"
    assert count_seen_by("facilitator_in") == "0"  # the count is what everyone sees
    client_as(app, world, "dual_role").post(f"/threads/{world.thread_id}/reply", data={"body": "see www.spam.example"})
    assert count_seen_by("trainee_in") == "0"  # waiting for approval: not counted
    client_as(app, world, "trainee_in").post(f"/threads/{world.thread_id}/reply", data={"body": "plain words"})
    assert count_seen_by("trainee_in") == "1"
    facilitator.post(f"/posts/{world.peer_post_id}/moderate", data={"action": "unhide"})
    assert count_seen_by("trainee_in") == "2"
    with app.app_context():
        waiting = db.session.execute(db.select(Post.id).where(Post.pending.is_(True))).scalar_one()
    facilitator.post(f"/posts/{waiting}/moderate", data={"action": "approve"})
    assert count_seen_by("trainee_in") == "3"


# --- a reply sent twice (double click, retry after the connection dropped) is one post ---------


def _key_of(html: str) -> str:
    return re.search(r'<input id="key" name="key" type="hidden" value="([^"]+)"', html).group(1)


def test_a_reply_sent_twice_with_its_form_key_makes_one_post(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    url = f"/threads/{world.thread_id}"
    key = _key_of(client.get(url).get_data(as_text=True))
    assert len(key) >= 16

    def posts():
        with app.app_context():
            return db.session.execute(
                db.select(db.func.count(Post.id)).where(Post.body == "Sent on a shaky train")
            ).scalar_one()

    data = {"body": "Sent on a shaky train", "seen": str(world.peer_post_id), "key": key}
    first = client.post(f"{url}/reply", data=data)
    assert first.status_code == 303 and posts() == 1
    again = client.post(f"{url}/reply", data=data)  # the connection dropped, the form retried
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert posts() == 1
    hx = client.post(f"{url}/reply", data=data, headers={"HX-Request": "true"})  # and through htmx
    assert hx.status_code == 200 and posts() == 1
    # an old key under a changed text (a restored draft edited): a new post, not a lost one
    client.post(f"{url}/reply", data={**data, "body": "Sent on a shaky train, and more"})
    with app.app_context():
        assert (
            db.session.execute(
                db.select(Post.client_key).where(Post.body == "Sent on a shaky train, and more")
            ).scalar_one()
            is None
        )
    # the fresh form after a reply carries a new key: the next reply is a new post
    new_key = _key_of(hx.get_data(as_text=True))
    assert new_key != key
    client.post(f"{url}/reply", data={**data, "key": new_key})
    assert posts() == 2
    # a form without a key still posts (every time)
    client.post(f"{url}/reply", data={"body": "Sent on a shaky train", "seen": "0"})
    assert posts() == 3
    # another person's key is theirs: the same key from someone else makes their own post
    other = client_as(app, world, "dual_role")
    other.post(f"{url}/reply", data={**data, "key": key})
    assert posts() == 4


def test_a_new_thread_sent_twice_is_one_thread(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    new = f"/boards/{world.board_in}/new"
    key = _key_of(client.get(new).get_data(as_text=True))
    data = {"title": "Only once", "body": "Hello", "key": key}
    first, again = client.post(new, data=data), client.post(new, data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        count = db.session.execute(db.select(db.func.count(Thread.id)).where(Thread.title == "Only once"))
        assert count.scalar_one() == 1


def test_a_bad_form_key_is_refused_next_to_nothing_saved(app):
    world = World.fresh(app)
    client = client_as(app, world, "trainee_in")
    response = client.post(f"/threads/{world.thread_id}/reply", data={"body": "x", "key": "<script>"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.execute(db.select(Post.id).where(Post.body == "x")).first() is None


# --- topic categories of the community board ------------------------------------------------------


def test_admins_create_rename_and_retire_topics_and_threads_are_filed_and_filtered(app):
    from portal.models import BoardTopic

    world = World.fresh(app)
    admin = client_as(app, world, "admin")
    topics_url = f"/boards/{world.community}/topics"
    assert admin.get(topics_url).status_code == 200
    assert "Tech help" in text_of(admin.get(topics_url))  # the world's topic
    for name in ("Resources", "Jobs"):
        assert admin.post(topics_url, data={"name": name}).status_code == 303
    refused = admin.post(topics_url, data={"name": "  tech   HELP "})
    assert refused.status_code == 422 and "already a topic" in text_of(refused)
    assert admin.post(topics_url, data={"name": ""}).status_code == 422
    with app.app_context():
        ids = dict(db.session.execute(db.select(BoardTopic.name, BoardTopic.id)).all())
        assert set(ids) == {"Tech help", "Resources", "Jobs"}
    tech, jobs = ids["Tech help"], ids["Jobs"]
    # a trainee files a new thread under a topic; the board filters by topic
    trainee = client_as(app, world, "trainee_in")
    new = f"/boards/{world.community}/new"
    form = trainee.get(f"{new}?topic={tech}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{tech}">Tech help</option>|<option value="{tech}" selected>', form)
    assert (
        trainee.post(new, data={"title": "Zoom keeps freezing", "body": "Any tips?", "topic_id": str(tech)}).status_code
        == 303
    )
    trainee.post(new, data={"title": "Hiring peers in Ohio", "body": "Openings.", "topic_id": str(jobs)})
    everything = text_of(trainee.get(f"/boards/{world.community}"))
    assert "Zoom keeps freezing" in everything and "Hiring peers in Ohio" in everything and "Welcome" in everything
    only_tech = text_of(trainee.get(f"/boards/{world.community}?topic={tech}"))
    assert "Zoom keeps freezing" in only_tech and "Hiring peers in Ohio" not in only_tech and "Welcome" not in only_tech
    # rename: the threads follow
    assert admin.post(f"/boards/topics/{tech}/rename", data={"name": "Tech and tools"}).status_code == 303
    assert "Tech and tools" in text_of(trainee.get(f"/threads/{_thread_id('Zoom keeps freezing', app)}"))
    admin.post(f"/boards/topics/{tech}/rename", data={"name": "Jobs"})
    assert "already a topic" in text_of(admin.get(topics_url))
    # retire: no new threads under it, its threads keep it and can still be listed
    assert admin.post(f"/boards/topics/{jobs}/state", data={"action": "retire"}).status_code == 303
    assert f'value="{jobs}"' not in trainee.get(new).get_data(as_text=True)
    refused = trainee.post(new, data={"title": "Late job", "body": "x", "topic_id": str(jobs)})
    assert refused.status_code == 422 and _thread_id("Late job", app) is None
    assert "Hiring peers in Ohio" in text_of(trainee.get(f"/boards/{world.community}?topic={jobs}"))
    admin.post(f"/boards/topics/{jobs}/state", data={"action": "restore"})
    assert f'value="{jobs}"' in trainee.get(new).get_data(as_text=True)
    with app.app_context():
        actions = set(
            db.session.execute(db.select(AuditEvent.action).where(AuditEvent.action.like("board.topic%"))).scalars()
        )
    assert actions == {"board.topic_created", "board.topic_renamed", "board.topic_retired", "board.topic_restored"}


def _thread_id(title: str, app) -> int | None:
    with app.app_context():
        return db.session.execute(db.select(Thread.id).where(Thread.title == title)).scalar_one_or_none()


def test_topics_are_the_community_boards_and_only_admins_manage_them(app):
    from portal.boards import topics
    from portal.models import BoardTopic

    world = World.fresh(app)
    admin = client_as(app, world, "admin")
    assert admin.get(f"/boards/{world.board_in}/topics").status_code == 403  # not on a cohort board
    for principal in ("trainee_in", "facilitator_in"):
        client = client_as(app, world, principal)
        assert client.get(f"/boards/{world.community}/topics").status_code == 403, principal
        assert client.post(f"/boards/{world.community}/topics", data={"name": "Mine"}).status_code == 403
    with app.app_context():
        assert db.session.execute(db.select(BoardTopic.id)).scalar_one() == world.boards_topic_id
        community = db.session.get(Board, world.community)
        admin_user = db.session.get(User, world.people["admin"].id)
        topic = topics.create(community, "Resources", admin_user)
        with __import__("pytest").raises(__import__("portal.boards.posting", fromlist=["x"]).BoardError):
            topics.create(db.session.get(Board, world.board_in), "Resources", admin_user)
        db.session.commit()
        topic_id = topic.id
    # a topic of the community board is no topic of a cohort board
    trainee = client_as(app, world, "trainee_in")
    assert trainee.get(f"/boards/{world.board_in}?topic={topic_id}").status_code == 404
    refused = trainee.post(
        f"/boards/{world.board_in}/new", data={"title": "Sneaky", "body": "x", "topic_id": str(topic_id)}
    )
    assert refused.status_code == 422 and _thread_id("Sneaky", app) is None
    assert trainee.post(f"/boards/topics/{topic_id}/rename", data={"name": "Mine"}).status_code == 403
    assert (
        client_as(app, world, "supervisor_in")
        .post(f"/boards/topics/{topic_id}/state", data={"action": "retire"})
        .status_code
        == 404
    )


def test_moderators_file_a_thread_under_a_topic_and_a_moved_thread_leaves_it(app):
    from portal.boards import topics
    from portal.models import BoardTopic

    world = World.fresh(app)
    with app.app_context():
        topic = topics.create(
            db.session.get(Board, world.community), "Practice", db.session.get(User, world.people["admin"].id)
        )
        db.session.commit()
        topic_id = topic.id
    admin = client_as(app, world, "admin")
    url = f"/threads/{world.community_thread_id}"
    assert "File under" in text_of(admin.get(url))
    assert admin.post(f"{url}/topic", data={"topic_id": str(topic_id)}).status_code == 303
    assert "Welcome" in text_of(admin.get(f"/boards/{world.community}?topic={topic_id}"))
    # a trainee does not moderate the community board
    assert client_as(app, world, "trainee_in").post(f"{url}/topic", data={"topic_id": "0"}).status_code == 403
    # moved to a cohort board, the thread leaves the community board's topic
    admin.post(f"{url}/move", data={"board_id": str(world.board_in)})
    with app.app_context():
        thread = db.session.get(Thread, world.community_thread_id)
        assert thread.board_id == world.board_in and thread.topic_id is None
        assert db.session.get(BoardTopic, topic_id).retired_at is None


# --- a board of 100 000 posts: the same statements as a board of 10 ---------------------------------


def test_statement_counts_do_not_grow_with_the_posts_of_a_board(app, queries):
    """The generator of benchmarks/ fills Cohort In's board: 10 posts, then 100 000 on PostgreSQL
    (5 000 on SQLite, where this only checks the shape of the queries). The thread list (all
    topics and one), the long thread's first and a deep page, and the idle poll each run as many
    SQL statements as with 10 posts."""
    from benchmarks.board_data import generate
    from tests.factories import empty_tables

    with app.app_context():
        large = 100_000 if db.engine.dialect.name == "postgresql" else 5_000
    counts = {}
    for posts in (10, large):
        world = World.fresh(app)
        with app.app_context():
            authors = [world.people["trainee_in"].id, world.people["dual_role"].id, world.peers_in[0].id]
            made = generate(world.board_in, authors, posts=posts, threads=max(3, posts // 50))
            total = db.session.execute(
                db.select(db.func.count(Post.id)).where(Post.board_id == world.board_in)
            ).scalar_one()
            assert total >= posts
            last = db.session.execute(
                db.select(Thread.last_post_id).where(Thread.id == made.long_thread_id)
            ).scalar_one()
            deep = (
                db.session.execute(
                    db.select(Post.id)
                    .where(Post.thread_id == made.long_thread_id)
                    .order_by(Post.id.desc())
                    .offset(25)
                    .limit(1)
                ).scalar_one_or_none()
                or 0
            )
        client = client_as(app, world, "trainee_in")
        row = []
        for url in (
            f"/boards/{world.board_in}",
            f"/boards/{world.board_in}?before={last}",
            f"/threads/{made.long_thread_id}",
            f"/threads/{made.long_thread_id}?after={deep}",
            f"/threads/{made.long_thread_id}/new-replies?seen={last}",
            f"/threads/{made.long_thread_id}/new-replies?seen=0",
        ):
            with queries() as statements:
                assert client.get(url).status_code in (200, 204), url
            row.append(len(statements))
        counts[posts] = row
        empty_tables(app)
    assert counts[10] == counts[large], counts


def test_the_idle_poll_with_its_ticket_reads_two_statements_and_never_opens_a_door(app, queries):
    world = World.fresh(app)
    reader = client_as(app, world, "dual_role")
    html = reader.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    poll = re.search(r'hx-get="(/threads/\d+/new-replies\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "t=" in poll
    with queries() as statements:
        assert reader.get(poll).status_code == 204
    assert len(statements) <= 2, [str(s)[:80] for s in statements]  # the session, the thread's version
    # the ticket is this person's, for this thread: anyone else, or another thread, gets the full check
    ticket = poll.split("t=")[1]
    outsider = client_as(app, world, "trainee_out")
    assert outsider.get(poll).status_code == 404
    other = f"/threads/{world.other_thread_id}/new-replies?seen=999999&t={ticket}"
    assert reader.get(other).status_code == 404
    forged = poll.replace(ticket, ticket[:-4] + ("0000" if not ticket.endswith("0000") else "1111"))
    with queries() as statements:
        assert reader.get(forged).status_code == 204
    assert len(statements) > 2  # a forged ticket: the full check
    # suspended: nothing new still says nothing; something new goes through the full check
    facilitator = client_as(app, world, "facilitator_in")
    facilitator.post(
        f"/boards/{world.board_in}/suspend",
        data={"user_id": str(world.people["dual_role"].id), "days": "7", "reason": "Pause"},
    )
    assert reader.get(poll).status_code == 204
    client_as(app, world, "trainee_in").post(f"/threads/{world.thread_id}/reply", data={"body": "News"})
    assert reader.get(poll).status_code == 403  # told they are kept off the board, and nothing of the news
    # a deactivated account: refused at once
    from portal import people as accounts

    writer = client_as(app, world, "trainee_in")
    html = writer.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    own = re.search(r'hx-get="(/threads/\d+/new-replies\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert writer.get(own).status_code == 204
    with app.app_context():
        admin = db.session.get(User, world.people["admin"].id)
        accounts.deactivate(db.session.get(User, world.people["trainee_in"].id), admin, "left")
        db.session.commit()
    assert writer.get(own).status_code in (302, 303, 401)


def test_an_old_poll_ticket_is_not_taken(app):
    from portal.boards import pages

    world = World.fresh(app)
    with app.test_request_context():
        user_id = world.people["dual_role"].id
        fresh = pages.poll_ticket(user_id, world.thread_id)
        assert pages.ticket_ok(fresh, user_id, world.thread_id)
        assert not pages.ticket_ok(fresh, world.people["trainee_in"].id, world.thread_id)
        assert not pages.ticket_ok(fresh, user_id, world.other_thread_id)
        issued = int(fresh.split(".")[0]) - pages.TICKET_SECONDS - 5
        old = f"{issued}.{pages._ticket_mac(user_id, world.thread_id, issued)}"
        assert not pages.ticket_ok(old, user_id, world.thread_id)
        for bad in (None, "", "x.y", "123", "99999999999999.abc"):
            assert not pages.ticket_ok(bad, user_id, world.thread_id)


def test_a_move_never_widens_who_reads_a_thread_nor_leaves_a_writer_out(app):
    """A cohort's thread stays on its board (another cohort never reads it); a community
    thread moves to a cohort's board only when everyone who wrote in it reads that board, and
    its starter is told where it went."""
    from portal.models import Notification

    world = World.fresh(app)
    admin = client_as(app, world, "admin")
    assert "Move to" not in text_of(admin.get(f"/threads/{world.thread_id}"))  # nowhere to go
    refused = admin.post(f"/threads/{world.thread_id}/move", data={"board_id": str(world.board_out)})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.get(Thread, world.thread_id).board_id == world.board_in
    assert client_as(app, world, "trainee_out").get(f"/threads/{world.thread_id}").status_code == 404
    # Peer Out 1 writes in the community thread: it can no longer go to Cohort In's board.
    peer_out = app.test_client()
    AuthActions(peer_out, app).login_as(world.peers_out[0])
    assert peer_out.post(f"/threads/{world.community_thread_id}/reply",
                         data={"body": "Hello from Cohort Out.", "seen": "0"}).status_code == 303
    admin.post(f"/threads/{world.community_thread_id}/move", data={"board_id": str(world.board_in)})
    with app.app_context():
        assert db.session.get(Thread, world.community_thread_id).board_id == world.community
    assert peer_out.get(f"/threads/{world.community_thread_id}").status_code == 200
    # A thread only Cohort In's people wrote in moves, and its starter is told.
    trainee_in = client_as(app, world, "trainee_in")
    assert trainee_in.post(f"/boards/{world.community}/new",
                           data={"title": "Just us in", "body": "For our cohort."}).status_code == 303
    with app.app_context():
        moving = db.session.execute(db.select(Thread.id).where(Thread.title == "Just us in")).scalar_one()
    assert admin.post(f"/threads/{moving}/move", data={"board_id": str(world.board_in)}).status_code == 303
    with app.app_context():
        assert db.session.get(Thread, moving).board_id == world.board_in
        told = db.session.execute(
            db.select(Notification.summary).where(Notification.user_id == world.people["trainee_in"].id,
                                                  Notification.kind == "moderation")
        ).scalars().all()
    assert any("was moved to" in t for t in told)
