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
from typing import BinaryIO, NamedTuple

MAX_LINE = 8192  # longer lines are not log lines of interest: skipped, counted

# What a login was.
LOGIN = "login"  # a successful password login
PLAINTEXT_REFUSED = "plaintext-refused"  # a password login refused because it had no TLS
AUTH_FAILED = "auth-failed"  # wrong password or unknown user


class LoginEvent(NamedTuple):
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
    connection: tuple[str, str] | None = None  # Postfix's (host, process id)


# A Postfix login read in a block (LogReader(blocks=True)) whose connection's TLS line, if
# any, is in an earlier block: its tls_version until `postfix_resolve` says.
PENDING = "pending"


def postfix_resolve(event: LoginEvent, tls: dict[tuple[str, str], str]) -> LoginEvent:
    """A PENDING event with its TLS from the connections open before its block."""
    version = tls.get(event.connection)  # type: ignore[arg-type]
    return event._replace(
        tls=version is not None or (event.outcome == LOGIN and event.service == "smtps"),
        tls_version=version,
    )


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
# The common case in one match: rsyslog's traditional format ("Nov 30 10:42:01" or
# "Nov  3 10:42:01"), a host or not, "tag[pid]: msg". Other envelopes take the general way.
FAST_RFC3164 = re.compile(
    r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?:([^\s:\[]+) )?([^\s:\[]+)(?:\[(\d+)\])?: (.*)",
    re.S,
)
# Postfix smtpd's three lines of every connection, envelope included, in one match (a host
# and rsyslog's usual timestamp): its start or end, its TLS line, a login. Other lines take
# the general way, which reads these the same.
POSTFIX_LINE = re.compile(
    r"([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) ([^\s:\[]+) ([^\s:\[]*/smtpd)\[(\d+)\]: "
    r"(?:(?:dis)?connect from |(?:\w+ )?TLS connection established from \S+: (\S+) with cipher"
    r"|([0-9A-Za-z]+): client=[^\[]*\[([^\]]+)\](?::\d+)?, sasl_method=[^,]+, "
    r"sasl_username=([^,]{1,320})$)"
)
# "host tag[pid]: msg" or "tag[pid]: msg" or "tag: msg" after the timestamp.
TAGGED = re.compile(
    r"(?:(?P<host>[^\s:\[]+) )?(?P<tag>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)"
)

DOVECOT_TAG = re.compile(r"(?:dovecot: )?(?P<proto>imap|pop3)-login: (?:Info: )?(?P<msg>.*)")
DOVECOT_USER = re.compile(r"user=<(?P<user>[^>]{0,320})>")
DOVECOT_FIELD = re.compile(r"\b(?P<key>rip|lip|lport|session|method)=<?(?P<value>[^,>\s]*)>?")
# A Login line in Dovecot's default login_log_format_elements or the README's richer one
# (lport and %k added), read in one match; any other layout takes the general way
# (DOVECOT_FIELD), which gives the same event for these.
DOVECOT_LOGIN = re.compile(
    r"Login: user=<(?P<user>[^>,]{0,320})>, method=[^,>\s]*, rip=(?P<rip>[^,>\s]+), "
    r"lip=(?P<lip>[^,>\s]*), (?:lport=(?P<lport>\d{1,6}), )?mpid=\d+, "
    r"(?:(?P<tls>TLS)(?:, (?P<version>TLSv1(?:\.[0-3])?|SSLv3) with cipher [^,]*)?, |secured, )?"
    r"session=<(?P<session>[^,>\s]*)>"
)
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


READ_BLOCK = 1 << 20  # bytes read from a file at a time
TOO_LONG = "\x00" * (MAX_LINE + 1)  # stands for a line longer than a block could hold


def bounded_lines(stream: BinaryIO, block: int = READ_BLOCK) -> Iterator[str]:
    """The lines of a binary stream, decoded (UTF-8, undecodable bytes replaced), read a
    block at a time: memory stays bounded whatever the file holds. A line that does not
    end within MAX_LINE bytes of a block's end yields TOO_LONG (the reader counts it) and
    the rest of it is discarded."""
    tail = b""
    dropping = False  # inside an over-long line whose start was yielded
    while data := stream.read(block):
        end = data.rfind(b"\n")
        if end < 0:  # no line ends in this block
            tail += data
            if len(tail) > MAX_LINE:
                if not dropping:
                    yield TOO_LONG
                tail, dropping = b"", True
            continue
        lines = (tail + data[:end]).decode("utf-8", errors="replace").split("\n")
        tail = data[end + 1 :]
        if dropping:
            del lines[0]  # the end of the over-long line
            dropping = False
        yield from lines
        if len(tail) > MAX_LINE:
            yield TOO_LONG
            tail, dropping = b"", True
    if tail and not dropping:
        yield tail.decode("utf-8", errors="replace")


def _plausible(at: datetime, now: datetime, keep: timedelta) -> bool:
    return now - keep <= at <= now + timedelta(days=1)


# Why a timestamp gives no time (the reader's counts).
GARBAGE = "garbage"
BAD_TIME = "bad-time"


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

    With `blocks`, each part of a log can be read by a reader of its own (in another
    process): a Postfix login whose connection began in an earlier part comes PENDING, and
    `block_end` says how the part leaves the connections it touched; the caller, going
    through the parts in order, completes the logins with `postfix_resolve`.

    Speed: a busy log repeats each second's timestamp many times, so a traditional
    timestamp is parsed and judged once (`_stamps`); the usual envelope is one match.
    """

    def __init__(
        self,
        *,
        tz: tzinfo,
        now: datetime,
        keep: timedelta = timedelta(days=90),
        postfix_tls: dict[tuple[str, str], str] | None = None,
        blocks: bool = False,
    ):
        self.tz, self.now, self.keep = tz, now, keep
        self.counts: Counter[str] = Counter()
        # "Nov 30 10:42:01" → its time, or why it has none (GARBAGE, BAD_TIME).
        self._stamps: dict[str, datetime | str] = {}
        self._days: dict[str, datetime | None] = {}  # "Nov 30" → its midnight
        self._earliest = (now - keep).astimezone(tz)
        self._latest = (now + timedelta(days=1)).astimezone(tz)
        self._services: dict[str, str | None] = {}  # Postfix's tag → its service, or None
        # Postfix connections whose TLS line was read and whose login may come in a later
        # batch: pass the same dict to the reader of the source's next batch.
        self._postfix_tls: dict[tuple[str, str], str] = {} if postfix_tls is None else postfix_tls
        # Reading blocks of a log in parallel (`block_end`): Postfix connections whose TLS
        # state this block has set or ended; a login on any other one is PENDING.
        self._blocks = blocks
        self._touched: set[tuple[str, str]] = set()

    def read(self, lines: Iterable[str | bytes]) -> Iterator[LoginEvent]:
        """The events of `lines`, in order. `counts` is up to date whenever an event is
        yielded and when the lines run out. (One loop with everything at hand: this runs
        once per log line.)"""
        counts = self.counts
        stamps = self._stamps
        services = self._services
        fast = FAST_RFC3164.match
        postfix_line = POSTFIX_LINE.match
        dovecot, postfix = self._dovecot, self._postfix
        read = skipped = 0
        for line in lines:
            read += 1
            if line.__class__ is bytes:
                line = line.decode("utf-8", errors="replace")  # type: ignore[union-attr]
            if len(line) > MAX_LINE:
                counts["too-long"] += 1
                continue
            line = line.rstrip("\r\n")  # type: ignore[union-attr]
            if "\x00" in line:
                counts[GARBAGE] += 1
                continue
            if m := postfix_line(line):
                stamp, host, tag, pid, version, queue, remote, user = m.groups()
                at = stamps.get(stamp) or self._stamp(stamp)
                if at.__class__ is str:  # GARBAGE or BAD_TIME
                    counts[at] += 1  # type: ignore[index]
                    continue
                if queue is None:  # a connection's start, end or TLS line
                    self._postfix_connection((host, pid), version)
                    skipped += 1
                    continue
                event = self._postfix_login(
                    at, host, services.get(tag) or self._service(tag), pid, queue, remote, user
                )
                counts[LOGIN] += 1
                counts["lines"] += read
                counts["skipped"] += skipped
                read = skipped = 0
                yield event
                continue
            if m := fast(line):
                stamp, host, tag, pid, msg = m.groups()
                at = stamps.get(stamp) or self._stamp(stamp)
                if at.__class__ is str:  # GARBAGE or BAD_TIME
                    counts[at] += 1  # type: ignore[index]
                    continue
                host = host or ""
            else:
                envelope = self._envelope(line)
                if envelope is None:
                    counts[GARBAGE] += 1
                    continue
                at, host, tag, pid, msg = (
                    envelope.at, envelope.host, envelope.tag, envelope.pid, envelope.msg
                )  # fmt: skip
                if not _plausible(at, self.now, self.keep):
                    counts[BAD_TIME] += 1
                    continue
            if tag[-6:] == "-login" or tag == "dovecot":
                event = dovecot(at, host, tag, msg)
            elif pid and tag[-6:] == "/smtpd":
                event = postfix(at, host, services.get(tag) or self._service(tag), pid, msg)
            else:
                event = None
            if event is None:
                skipped += 1
                continue
            counts[event.outcome] += 1
            counts["lines"] += read
            counts["skipped"] += skipped
            read = skipped = 0
            yield event
        counts["lines"] += read
        counts["skipped"] += skipped

    def read_line(self, line: str | bytes) -> LoginEvent | None:
        return next(self.read((line,)), None)

    def block_end(self) -> dict[tuple[str, str], str | None]:
        """How this block leaves the Postfix connections it touched (TLS version, or None
        for none or ended); the reader is then ready for another block."""
        ends = {key: self._postfix_tls.get(key) for key in self._touched}
        self._touched.clear()
        self._postfix_tls.clear()
        return ends

    # Envelopes

    def _stamp(self, stamp: str) -> datetime | str:
        """A traditional timestamp's time, or why it has none; remembered. Each day's
        midnight is worked out once: the time of day is added to it."""
        day = self._days.get(stamp[:6])
        if day is None:
            day = self._days[stamp[:6]] = self._traditional_time(
                stamp[:3], stamp[4:6].strip(), "00:00:00"
            )
        try:
            hour, minute, second = int(stamp[7:9]), int(stamp[10:12]), int(stamp[13:15])
        except ValueError:
            hour = 99
        if day is None or hour > 23 or minute > 59 or second > 59:  # as datetime() refuses
            result: datetime | str = GARBAGE
        else:
            at = day + timedelta(hours=hour, minutes=minute, seconds=second)
            # Compared in the logs' zone (same tzinfo: no conversion per line).
            result = at if self._earliest <= at <= self._latest else BAD_TIME
        if len(self._stamps) > 100_000:
            self._stamps.clear()
        self._stamps[stamp] = result
        return result

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
            at = self._traditional_time(m["mon"], m["day"], m["time"])
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

    def _dovecot(self, at: datetime, host: str, tag: str, msg: str) -> LoginEvent | None:
        if tag[-6:] == "-login":
            proto = tag[:-6]
            if msg.startswith("Info: "):
                msg = msg[6:]
        elif m := DOVECOT_TAG.match(msg):
            proto, msg = m["proto"], m["msg"]
        else:
            return None
        if proto != "imap" and proto != "pop3":
            return None
        if msg.startswith("Login: "):
            if m := DOVECOT_LOGIN.fullmatch(msg):
                user, rip, lip, lport, tls, version, session = m.groups()
                return LoginEvent(
                    at,
                    LOGIN,
                    proto,
                    user,
                    rip,
                    lip or None,
                    int(lport) if lport else None,
                    tls is not None,
                    version,
                    f"dovecot:{host}:{session or f'{host}/{at.isoformat()}/{rip}'}",
                )
            outcome = LOGIN
        elif "Plaintext authentication disabled" in msg or "disallowed plaintext auth" in msg:
            outcome = PLAINTEXT_REFUSED
        elif AUTH_FAILED_TEXT.search(msg):
            outcome = AUTH_FAILED
        else:
            return None
        fields = dict(DOVECOT_FIELD.findall(msg))
        rip = fields.get("rip")
        if rip is None:
            return None
        user = DOVECOT_USER.search(msg)
        # %c: ", TLS," (implicit or after STARTTLS), ", secured," (trusted network) or nothing.
        tls = ", TLS," in msg or ", TLS:" in msg or msg.endswith(", TLS")
        version = TLS_VERSION.search(msg, msg.find(", TLS")) if tls else None
        lport = fields.get("lport")
        session = fields.get("session") or f"{host}/{at.isoformat()}/{rip}"
        return LoginEvent(
            at,
            outcome,
            proto,
            user["user"] if user else "",
            rip,
            fields.get("lip") or None,
            int(lport) if lport and lport.isdigit() and len(lport) < 7 else None,
            tls,
            version["version"] if version else None,
            f"dovecot:{host}:{session}",
        )

    # Postfix

    def _service(self, tag: str) -> str:
        """Postfix's service from its syslog tag ("postfix/submission/smtpd"), remembered."""
        parts = tag.split("/")
        service = self._services[tag] = parts[-2] if len(parts) >= 3 else "smtpd"
        return service

    def _postfix(
        self, at: datetime, host: str, service: str, pid: str, msg: str
    ) -> LoginEvent | None:
        if msg.startswith(("connect from ", "disconnect from ")):
            self._postfix_connection((host, pid), None)
            return None
        if "TLS connection established from " in msg and (m := POSTFIX_TLS.search(msg)):
            self._postfix_connection((host, pid), m["version"])
            return None
        if "sasl_username=" in msg and (m := POSTFIX_SASL.match(msg)):
            return self._postfix_login(at, host, service, pid, m["queue"], m["remote"], m["user"])
        if "authentication failed" in msg and (m := POSTFIX_SASL_FAILED.match(msg)):
            key = (host, pid)
            pending = self._blocks and key not in self._touched
            return LoginEvent(
                at,
                AUTH_FAILED,
                "smtp",
                (m["user"] or "").strip(),
                m["remote"],
                None,
                POSTFIX_SERVICE_PORTS.get(service),
                key in self._postfix_tls,
                PENDING if pending else self._postfix_tls.get(key),
                f"postfix:{host}:{pid}:{at.isoformat()}:failed",
                service,
                key,
            )
        return None

    def _postfix_connection(self, key: tuple[str, str], version: str | None) -> None:
        """A connection of a Postfix process starts or ends (None), or its TLS line says
        the version."""
        if version is None:
            self._postfix_tls.pop(key, None)
        else:
            self._postfix_tls[key] = version
            if len(self._postfix_tls) > 100_000:  # connections whose end we never saw
                self._postfix_tls.clear()
        if self._blocks:
            self._touched.add(key)

    def _postfix_login(
        self, at: datetime, host: str, service: str, pid: str, queue: str, remote: str, user: str
    ) -> LoginEvent:
        key = (host, pid)
        if self._blocks and key not in self._touched:
            version: str | None = PENDING
        else:
            version = self._postfix_tls.get(key)
        return LoginEvent(
            at,
            LOGIN,
            "smtp",
            user.strip(),
            remote,
            None,
            POSTFIX_SERVICE_PORTS.get(service),
            version is not None or service == "smtps",
            version,
            f"postfix:{host}:{pid}:{queue}",
            service,
            key,
        )
