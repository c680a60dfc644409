"""Outgoing mail: written to the log in development, sent over SMTP when MAIL_SERVER is set.

Tests read `outbox` (MAIL_BACKEND='memory'); nothing else in the portal sends mail directly.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app, render_template


def outbox() -> list[EmailMessage]:
    return current_app.extensions.setdefault("mail_outbox", [])


def send(to: str, subject: str, template: str, **context) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(render_template(template, **context))
    backend = config.get("MAIL_BACKEND") or ("smtp" if config.get("MAIL_SERVER") else "log")
    if backend == "memory":
        outbox().append(message)
    elif backend == "smtp":
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    else:
        current_app.logger.warning("MAIL (not sent, MAIL_SERVER unset)\n%s", message.as_string())
    return message
