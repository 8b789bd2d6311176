"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts, with
the time it arrived and the session that carried it, counts sessions (EHLO/HELO), and
refuses the recipients it is told to, or cuts a session at a given message."""

from __future__ import annotations

import logging
import socket
import threading
import time
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
    def __init__(self, refuse: set[str]) -> None:
        self.messages: list[dict] = []
        self.sessions = 0
        self.refuse = refuse
        self.drop_at: int | None = None  # the message (counting from 1) whose session is cut
        self.received = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        with self.lock:
            self.received += 1
            if self.received == self.drop_at:
                server.transport.close()  # gone before the reply: not delivered
                return "421 4.3.0 Closing"
            self.messages.append(
                {
                    "message_id": message["Message-ID"],
                    "to": list(envelope.rcpt_tos),
                    "subject": message["Subject"],
                    "body": _text(message),
                    "at": time.monotonic(),
                    "session": session.peer,
                }
            )
        return "250 OK"


class SmtpSink:
    def __init__(self, *, refuse: set[str] | None = None) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per command
        self.sink = Sink(refuse or set())
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

    @property
    def sessions(self) -> int:
        """SMTP sessions opened (each says EHLO or HELO once)."""
        with self.sink.lock:
            return self.sink.sessions
