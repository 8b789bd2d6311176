"""What the probe says to each kind of mail server, and how it reads the answers.

Greeting, capabilities, the STARTTLS command and a polite goodbye for POP3
(RFC 1939, 2449, 2595), IMAP (RFC 9051) and SMTP (RFC 5321, 3207). Never a
login. Every read has a timeout and counts against the connection's byte cap.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

QUIT_TIMEOUT = 2.0


class ProbeFailure(Exception):
    """A probe outcome other than success: `code` is the stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.seen: Any = None
        self.trusted: bool | None = None  # when it failed after a TLS handshake


class Dialog(ABC):
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, options: Any
    ) -> None:
        self.reader, self.writer, self.options = reader, writer, options
        self.bytes_read = 0

    async def read_line(self, timeout: float | None = None) -> str:
        try:
            async with asyncio.timeout(timeout or self.options.read_timeout):
                raw = await self.reader.readuntil(b"\n")
        except TimeoutError:
            raise ProbeFailure("timeout", "the server stopped answering") from None
        except asyncio.IncompleteReadError:
            raise ProbeFailure("protocol-error", "the server closed the connection") from None
        except asyncio.LimitOverrunError:
            raise ProbeFailure("protocol-error", "the server sent an over-long line") from None
        except (ConnectionError, OSError) as error:
            raise ProbeFailure("protocol-error", f"connection lost: {error!r}") from None
        self.bytes_read += len(raw)
        if self.bytes_read > self.options.max_bytes:
            raise ProbeFailure("protocol-error", "the server sent more than the probe reads")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def send(self, line: str) -> None:
        try:
            self.writer.write(line.encode("ascii") + b"\r\n")
            await self.writer.drain()
        except (ConnectionError, OSError) as error:
            raise ProbeFailure("protocol-error", f"connection lost: {error!r}") from None

    async def quit(self) -> None:
        """Say goodbye; a server that hangs up first or stays silent is fine."""
        try:
            await self.send(self.QUIT)
            await self.read_line(timeout=QUIT_TIMEOUT)
        except ProbeFailure:
            pass

    # Each protocol says how.
    QUIT = ""

    @abstractmethod
    async def greet(self) -> str: ...

    @abstractmethod
    async def capabilities(self) -> set[str]: ...

    @abstractmethod
    def offers_starttls(self, capabilities: set[str]) -> bool: ...

    @abstractmethod
    def offers_plaintext_auth(self, capabilities: set[str]) -> bool: ...

    @abstractmethod
    async def starttls(self) -> None: ...

    async def after_tls(self) -> None:
        return None


class Pop3Dialog(Dialog):
    QUIT = "QUIT"

    async def greet(self) -> str:
        line = await self.read_line()
        if not line.startswith("+OK"):
            raise ProbeFailure("protocol-error", f"not a POP3 greeting: {line[:80]!r}")
        return line

    async def capabilities(self) -> set[str]:
        await self.send("CAPA")
        if not (await self.read_line()).startswith("+OK"):
            return set()  # a server without CAPA (RFC 1939 only) offers nothing we can see
        capabilities = set()
        while (line := await self.read_line()) != ".":
            capabilities.add(line.strip().upper())
        return capabilities

    def offers_starttls(self, capabilities: set[str]) -> bool:
        return "STLS" in capabilities

    def offers_plaintext_auth(self, capabilities: set[str]) -> bool:
        return any(c == "USER" or (c.startswith("SASL ") and len(c) > 5) for c in capabilities)

    async def starttls(self) -> None:
        await self.send("STLS")
        line = await self.read_line()
        if not line.startswith("+OK"):
            raise ProbeFailure("starttls-refused", f"STLS answered {line[:80]!r}")


class ImapDialog(Dialog):
    QUIT = "a3 LOGOUT"

    async def greet(self) -> str:
        line = await self.read_line()
        if not line.startswith(("* OK", "* PREAUTH")):
            raise ProbeFailure("protocol-error", f"not an IMAP greeting: {line[:80]!r}")
        return line

    async def tagged(self, tag: str, command: str) -> tuple[str, list[str]]:
        await self.send(f"{tag} {command}")
        untagged = []
        while not (line := await self.read_line()).startswith(f"{tag} "):
            untagged.append(line)
        return line[len(tag) + 1 :], untagged

    async def capabilities(self) -> set[str]:
        status, untagged = await self.tagged("a1", "CAPABILITY")
        if not status.upper().startswith("OK"):
            return set()
        capabilities = set()
        for line in untagged:
            if line.upper().startswith("* CAPABILITY "):
                capabilities.update(line.upper().split()[2:])
        return capabilities

    def offers_starttls(self, capabilities: set[str]) -> bool:
        return "STARTTLS" in capabilities

    def offers_plaintext_auth(self, capabilities: set[str]) -> bool:
        return "LOGINDISABLED" not in capabilities

    async def starttls(self) -> None:
        status, _untagged = await self.tagged("a2", "STARTTLS")
        if not status.upper().startswith("OK"):
            raise ProbeFailure("starttls-refused", f"STARTTLS answered {status[:80]!r}")


class SmtpDialog(Dialog):
    QUIT = "QUIT"

    async def reply(self) -> tuple[int, list[str]]:
        """A whole (possibly multi-line) reply: its code and its lines' texts."""
        lines = []
        while True:
            line = await self.read_line()
            if len(line) < 3 or not line[:3].isdigit():
                raise ProbeFailure("protocol-error", f"not an SMTP reply: {line[:80]!r}")
            lines.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), lines

    async def greet(self) -> str:
        code, lines = await self.reply()
        if code != 220:
            raise ProbeFailure("protocol-error", f"the server refused the session: {code}")
        return f"220 {lines[0]}"

    async def capabilities(self) -> set[str]:
        await self.send(f"EHLO {self.options.client_name}")
        code, lines = await self.reply()
        if code != 250:
            return set()
        return {line.strip().upper() for line in lines[1:]}

    def offers_starttls(self, capabilities: set[str]) -> bool:
        return "STARTTLS" in capabilities

    def offers_plaintext_auth(self, capabilities: set[str]) -> bool:
        return any(c.startswith(("AUTH ", "AUTH=")) for c in capabilities)

    async def starttls(self) -> None:
        await self.send("STARTTLS")
        code, lines = await self.reply()
        if code != 220:
            raise ProbeFailure("starttls-refused", f"STARTTLS answered {code} {lines[0][:60]}")

    async def after_tls(self) -> None:
        await self.capabilities()  # RFC 3207: the session starts over after STARTTLS


DIALOGS: dict[str, type[Dialog]] = {"pop3": Pop3Dialog, "imap": ImapDialog, "smtp": SmtpDialog}
