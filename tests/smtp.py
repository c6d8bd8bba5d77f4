"""A real SMTP server for tests: aiosmtpd on a free port, keeping every message it is given.

Used by the follow-by-email tests and by the browser test of the same flow; the site's mail goes to it over
SMTP through Django's own backend, so what is checked is what a mail client would receive.
"""

import email
import socket
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address):
        return [message for rcpts, message in self.messages if address in rcpts]

    def clear(self):
        self.messages.clear()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def running_sink(settings, site_url):
    """Start a server, point the site's mail and links at it and at `site_url`; returns (sink, controller).
    The caller stops the controller."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()  # returns once the server answers
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    settings.SITE_URL = site_url
    return sink, controller


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message):
    return message.get_body(preferencelist=("html",)).get_content()
