"""Mail goes out over SMTP when MAIL_SERVER is set (a real SMTP server on this machine)."""

from __future__ import annotations

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from portal.models import Role
from tests.conftest import AuthActions, make_test_app
from tests.server import free_port


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def test_an_invitation_is_sent_over_smtp(app, make_user):
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_app = make_test_app(
            app.config["SQLALCHEMY_DATABASE_URI"],
            MAIL_BACKEND=None,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=port,
            MAIL_USE_TLS=False,
        )
        admin = make_user(roles=[Role.ADMIN])
        client = smtp_app.test_client()
        AuthActions(client, smtp_app).login_as(admin)
        response = client.post(
            "/admin/invitations/new", data={"email": "smtp.person@example.org", "roles": ["trainee"]}
        )
        assert response.status_code == 303
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "smtp.person@example.org"
    assert message["Subject"] == "You are invited to the Digital Peer Support Certification"
    assert "/invitation/" in message.get_payload()
