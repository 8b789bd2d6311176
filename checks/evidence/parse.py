"""Login lines of Dovecot 2.3 and Postfix 3.x, inside syslog (RFC 3164 and 5424), journald's
`short-iso` export, or Dovecot's own log file: pure functions, no Django.

`LogReader` takes lines one at a time (a file, a rotated archive, a shipper's batch) and
yields `LoginEvent`s; it counts what it skipped and why. Postfix writes the TLS line and the
SASL login of one connection as separate lines of the same process: the reader joins them
by (host, process id), so a batch must keep a server's lines in order (files and shippers
do).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import BinaryIO

MAX_LINE = 8192  # longer lines are not log lines of interest: skipped, counted

# What a login was.
LOGIN = "login"  # a successful password login
PLAINTEXT_REFUSED = "plaintext-refused"  # a password login refused because it had no TLS
AUTH_FAILED = "auth-failed"  # wrong password or unknown user


@dataclass(frozen=True, slots=True)
class LoginEvent:
    at: datetime
    outcome: str  # LOGIN, PLAINTEXT_REFUSED or AUTH_FAILED
    protocol: str  # "pop3", "imap" or "smtp"
    user: str  # the login name as the server logged it ("" when it did not)
    remote: str  # the client's address
    local: str | None  # the server address the client connected to (Dovecot only)
    local_port: int | None  # from Dovecot's lport, or Postfix's service
    tls: bool  # the login was made over TLS (implicit or after STARTTLS)
    tls_version: str | None  # e.g. "TLSv1.2", when logged
    session: str  # unique per connection: deduplicates a line read twice
    service: str | None = None  # Postfix's syslog service: "smtpd", "submission", "smtps"


# Postfix's service (from `-o syslog_name=…/<service>`) says the port.
POSTFIX_SERVICE_PORTS = {"smtpd": 25, "smtp": 25, "submission": 587, "smtps": 465}

MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}

# RFC 3164 (and rsyslog's traditional file format), with or without a host:
# "Nov 30 10:42:01 mail dovecot[123]: msg", "Nov 30 10:42:01 imap-login: Info: msg".
RFC3164 = re.compile(
    r"(?:<\d{1,3}>)?(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d)"
    r"(?:\.\d+)? (?P<rest>.*)"
)
# RFC 3339 timestamps: journald short-iso, rsyslog's high-precision format.
ISO = re.compile(
    r"(?:<\d{1,3}>)?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<rest>.*)"
)
# RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG".
RFC5424 = re.compile(
    r"<\d{1,3}>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) \S+ "
    r"(?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>.*)"
)
# "host tag[pid]: msg" or "tag[pid]: msg" or "tag: msg" after the timestamp.
TAGGED = re.compile(
    r"(?:(?P<host>[^\s:\[]+) )?(?P<tag>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)"
)

DOVECOT_TAG = re.compile(r"(?:dovecot: )?(?P<proto>imap|pop3)-login: (?:Info: )?(?P<msg>.*)")
DOVECOT_USER = re.compile(r"user=<(?P<user>[^>]{0,320})>")
DOVECOT_FIELD = re.compile(r"\b(?P<key>rip|lip|lport|session|method)=<?(?P<value>[^,>\s]*)>?")
TLS_VERSION = re.compile(r"\b(?P<version>TLSv1(?:\.[0-3])?|SSLv3)\b")
AUTH_FAILED_TEXT = re.compile(r"\(auth failed, \d+ attempts?")

POSTFIX_TLS = re.compile(r"TLS connection established from \S+: (?P<version>\S+) with cipher")
POSTFIX_SASL = re.compile(
    r"(?P<queue>[0-9A-Za-z]+): client=[^\[]*\[(?P<remote>[^\]]+)\](?::\d+)?, "
    r"sasl_method=(?P<method>[^,]+), sasl_username=(?P<user>[^,]{1,320})"
)
POSTFIX_SASL_FAILED = re.compile(
    r"warning: [^\[]*\[(?P<remote>[^\]]+)\](?::\d+)?: SASL \S+ authentication failed"
    r"(?:: .*?)?(?:, sasl_username=(?P<user>[^,]{1,320}))?$"
)


def bounded_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a binary stream, each read at most MAX_LINE + 1 bytes at a time: a
    longer line yields its start (which the reader counts as too long), the rest is
    discarded, so memory stays bounded whatever the file holds."""
    while line := stream.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE + 1)) and not rest.endswith(b"\n"):
                pass
        yield line


def _plausible(at: datetime, now: datetime, keep: timedelta) -> bool:
    return now - keep <= at <= now + timedelta(days=1)


@dataclass
class _Envelope:
    at: datetime
    host: str
    tag: str
    pid: str
    msg: str


class LogReader:
    """Reads log lines into login events and counts the rest.

    `tz` is the zone of timestamps that carry none (RFC 3164); their year is the one
    that puts them closest before `now`. A Postfix login on `smtps` is over TLS whether or
    not its TLS line was read (the service has no plain phase). Timestamps older than `keep` or more than a
    day ahead are absurd: skipped and counted.
    """

    def __init__(
        self,
        *,
        tz: tzinfo,
        now: datetime,
        keep: timedelta = timedelta(days=90),
        postfix_tls: dict[tuple[str, str], str] | None = None,
    ):
        self.tz, self.now, self.keep = tz, now, keep
        self.counts: Counter[str] = Counter()
        self._times: dict[tuple[str, str, str], datetime | None] = {}
        # Postfix connections whose TLS line was read and whose login may come in a later
        # batch: pass the same dict to the reader of the source's next batch.
        self._postfix_tls: dict[tuple[str, str], str] = {} if postfix_tls is None else postfix_tls

    def read(self, lines: Iterable[str | bytes]) -> Iterator[LoginEvent]:
        for line in lines:
            event = self.read_line(line)
            if event is not None:
                yield event

    def read_line(self, line: str | bytes) -> LoginEvent | None:
        self.counts["lines"] += 1
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        if len(line) > MAX_LINE:
            self.counts["too-long"] += 1
            return None
        line = line.rstrip("\r\n")
        if "\x00" in line:
            self.counts["garbage"] += 1
            return None
        envelope = self._envelope(line)
        if envelope is None:
            self.counts["garbage"] += 1
            return None
        if not _plausible(envelope.at, self.now, self.keep):
            self.counts["bad-time"] += 1
            return None
        event = self._dovecot(envelope) or self._postfix(envelope)
        if event is None:
            self.counts["skipped"] += 1
        else:
            self.counts[event.outcome] += 1
        return event

    # Envelopes

    def _envelope(self, line: str) -> _Envelope | None:
        if line.startswith("<") and (m := RFC5424.match(line)):
            at = self._iso(m["ts"])
            if at is None:
                return None
            pid = "" if m["pid"] == "-" else m["pid"]
            return _Envelope(at, m["host"], m["app"], pid, m["msg"])
        if m := ISO.match(line):
            at = self._iso(m["ts"])
        elif m := RFC3164.match(line):
            at = self._traditional(m["mon"], m["day"], m["time"])
        else:
            return None
        if at is None:
            return None
        tagged = TAGGED.match(m["rest"])
        if tagged is None:
            return None
        return _Envelope(
            at, tagged["host"] or "", tagged["tag"], tagged["pid"] or "", tagged["msg"]
        )

    def _iso(self, text: str) -> datetime | None:
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return at if at.tzinfo else at.replace(tzinfo=self.tz)

    def _traditional(self, mon: str, day: str, time: str) -> datetime | None:
        key = (mon, day, time)
        if key not in self._times:  # a busy log repeats each second many times
            if len(self._times) > 10_000:
                self._times.clear()
            self._times[key] = self._traditional_time(mon, day, time)
        return self._times[key]

    def _traditional_time(self, mon: str, day: str, time: str) -> datetime | None:
        month = MONTHS.get(mon)
        if month is None:
            return None
        try:
            hour, minute, second = (int(x) for x in time.split(":"))
            local_now = self.now.astimezone(self.tz)
            at = datetime(local_now.year, month, int(day), hour, minute, second, tzinfo=self.tz)
        except ValueError:
            return None
        if at > self.now + timedelta(days=1):  # December's lines read in January
            at = at.replace(year=at.year - 1)
        return at

    # Dovecot

    def _dovecot(self, env: _Envelope) -> LoginEvent | None:
        if env.tag.endswith("-login"):
            proto = env.tag.removesuffix("-login")
            msg = env.msg.removeprefix("Info: ")
        elif env.tag == "dovecot" and (m := DOVECOT_TAG.match(env.msg)):
            proto, msg = m["proto"], m["msg"]
        else:
            return None
        if proto not in ("imap", "pop3"):
            return None
        if msg.startswith("Login: "):
            outcome = LOGIN
        elif "Plaintext authentication disabled" in msg or "disallowed plaintext auth" in msg:
            outcome = PLAINTEXT_REFUSED
        elif AUTH_FAILED_TEXT.search(msg):
            outcome = AUTH_FAILED
        else:
            return None
        user = DOVECOT_USER.search(msg)
        fields = {m["key"]: m["value"] for m in DOVECOT_FIELD.finditer(msg)}
        if "rip" not in fields:
            return None
        # %c: ", TLS," (implicit or after STARTTLS), ", secured," (trusted network) or nothing.
        tls = ", TLS," in msg or ", TLS:" in msg or msg.endswith(", TLS")
        version = TLS_VERSION.search(msg) if tls else None
        try:
            lport = int(fields["lport"]) if fields.get("lport") else None
        except ValueError:
            lport = None
        session = fields.get("session") or f"{env.host}/{env.at.isoformat()}/{fields['rip']}"
        return LoginEvent(
            at=env.at,
            outcome=outcome,
            protocol=proto,
            user=user["user"] if user else "",
            remote=fields["rip"],
            local=fields.get("lip") or None,
            local_port=lport,
            tls=tls,
            tls_version=version["version"] if version else None,
            session=f"dovecot:{env.host}:{session}",
        )

    # Postfix

    def _postfix(self, env: _Envelope) -> LoginEvent | None:
        parts = env.tag.split("/")
        if len(parts) < 2 or parts[-1] != "smtpd" or not env.pid:
            return None
        service = parts[-2] if len(parts) >= 3 else "smtpd"
        key = (env.host, env.pid)
        msg = env.msg
        if msg.startswith(("connect from ", "disconnect from ")):
            self._postfix_tls.pop(key, None)
            return None
        if m := POSTFIX_TLS.search(msg):
            self._postfix_tls[key] = m["version"]
            if len(self._postfix_tls) > 100_000:  # connections whose end we never saw
                self._postfix_tls.clear()
            return None
        if m := POSTFIX_SASL.match(msg):
            version = self._postfix_tls.get(key)
            return LoginEvent(
                at=env.at,
                outcome=LOGIN,
                protocol="smtp",
                user=m["user"].strip(),
                remote=m["remote"],
                local=None,
                local_port=POSTFIX_SERVICE_PORTS.get(service),
                tls=version is not None or service == "smtps",
                tls_version=version,
                session=f"postfix:{env.host}:{env.pid}:{m['queue']}",
                service=service,
            )
        if m := POSTFIX_SASL_FAILED.match(msg):
            return LoginEvent(
                at=env.at,
                outcome=AUTH_FAILED,
                protocol="smtp",
                user=(m["user"] or "").strip(),
                remote=m["remote"],
                local=None,
                local_port=POSTFIX_SERVICE_PORTS.get(service),
                tls=key in self._postfix_tls,
                tls_version=self._postfix_tls.get(key),
                session=f"postfix:{env.host}:{env.pid}:{env.at.isoformat()}:failed",
                service=service,
            )
        return None
