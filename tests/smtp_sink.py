"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


def _text(message: Message) -> str:
    """The message's text/plain part, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


class Sink:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(
                {
                    "message_id": message["Message-ID"],
                    "to": list(envelope.rcpt_tos),
                    "subject": message["Subject"],
                    "body": _text(message),
                }
            )
        return "250 OK"


class SmtpSink:
    def __init__(self) -> None:
        self.sink = Sink()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[dict]:
        with self.sink.lock:
            return list(self.sink.messages)
