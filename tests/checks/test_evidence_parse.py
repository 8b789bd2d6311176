"""Login lines of Dovecot and Postfix, in every envelope they come in, read into events."""

import io
import re
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.evidence import parse
from checks.evidence.parse import (
    AUTH_FAILED,
    LOGIN,
    MAX_LINE,
    PLAINTEXT_REFUSED,
    LogReader,
    bounded_lines,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO)


def read(*lines: str):
    reader = LogReader(tz=TOKYO, now=NOW)
    return list(reader.read(lines)), reader.counts


DEFAULT_FORMAT = (
    "Nov 30 10:42:01 mail dovecot: pop3-login: Login: user=<test01>, method=PLAIN, "
    "rip=203.0.113.9, lip=192.0.2.10, mpid=4242, session=<AbCdEf>"
)
RICH_FORMAT = (
    "Nov 30 10:42:01 mail dovecot: imap-login: Login: user=<test01@aaabb.co.jp>, method=PLAIN, "
    "rip=203.0.113.9, lip=192.0.2.10, lport=993, mpid=4242, TLS, "
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits), session=<XyZ>"
)


def test_a_default_format_dovecot_login_without_tls():
    (event,), counts = read(DEFAULT_FORMAT)
    assert (event.outcome, event.protocol, event.user) == (LOGIN, "pop3", "test01")
    assert (event.remote, event.local, event.local_port) == ("203.0.113.9", "192.0.2.10", None)
    assert (event.tls, event.tls_version) == (False, None)
    assert event.at == datetime(2026, 11, 30, 10, 42, 1, tzinfo=TOKYO)
    assert counts[LOGIN] == 1


def test_the_recommended_format_gives_the_port_and_the_tls_version():
    (event,), _ = read(RICH_FORMAT)
    assert (event.protocol, event.local_port, event.tls, event.tls_version) == (
        "imap",
        993,
        True,
        "TLSv1.2",
    )


def test_dovecots_own_log_file_and_the_2_3_19_wording():
    (event,), _ = read(
        "Nov 30 10:42:01 pop3-login: Info: Login: user=<u>, method=PLAIN, rip=127.0.0.1, "
        "lip=127.0.0.2, lport=42595, mpid=7, TLS, TLSv1 with cipher ECDHE-RSA-AES256-SHA "
        "(256/256 bits), session=<s1>"
    )
    assert (event.tls, event.tls_version, event.local_port) == (True, "TLSv1", 42595)


@pytest.mark.parametrize(
    "line",
    [
        "Nov 30 10:42:01 imap-login: Info: Login failed: Plaintext authentication disabled: "
        "user=<>, rip=203.0.113.9, lip=192.0.2.10, session=<p1>",
        "Nov 30 10:42:01 mail dovecot: imap-login: Disconnected (tried to use disallowed "
        "plaintext auth): user=<>, rip=203.0.113.9, lip=192.0.2.10, session=<p2>",
    ],
)
def test_a_refused_plaintext_login_in_old_and_new_wording(line):
    (event,), _ = read(line)
    assert (event.outcome, event.tls, event.remote) == (PLAINTEXT_REFUSED, False, "203.0.113.9")


def test_an_authentication_failure_is_an_event_of_its_own():
    (event,), _ = read(
        "Nov 30 10:42:01 pop3-login: Info: Disconnected: Connection closed (auth failed, "
        "1 attempts in 2 secs): user=<nobody>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.10, "
        "TLS, session=<f1>"
    )
    assert (event.outcome, event.user, event.tls) == (AUTH_FAILED, "nobody", True)


def test_a_connection_without_a_login_is_skipped():
    events, counts = read(
        "Nov 30 15:17:07 pop3-login: Info: Disconnected: Connection closed (no auth attempts "
        "in 0 secs): user=<>, rip=127.0.0.1, lip=127.0.0.2, session=<CTv+W3hheIt/AAAB>"
    )
    assert events == [] and counts["skipped"] == 1


POSTFIX = [
    "Nov 30 10:42:01 mail postfix/submission/smtpd[1137]: connect from client.example[203.0.113.9]",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[1137]: Anonymous TLS connection established "
    "from client.example[203.0.113.9]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
    "Nov 30 10:42:02 mail postfix/submission/smtpd[1137]: 4FzQ2x1abcz9sWN: "
    "client=client.example[203.0.113.9], sasl_method=PLAIN, sasl_username=test01@aaabb.co.jp",
    "Nov 30 10:42:02 mail postfix/submission/smtpd[1137]: disconnect from client.example[203.0.113.9]",
    "Nov 30 10:43:00 mail postfix/smtpd[2001]: connect from other.example[198.51.100.7]",
    "Nov 30 10:43:01 mail postfix/smtpd[2001]: 4FzQ2x1xyz: client=other.example[198.51.100.7], "
    "sasl_method=LOGIN, sasl_username=shop",
]


def test_postfix_joins_the_tls_line_to_the_login_of_the_same_process():
    (tls_login, plain_login), _ = read(*POSTFIX)
    assert (tls_login.protocol, tls_login.user, tls_login.service) == (
        "smtp",
        "test01@aaabb.co.jp",
        "submission",
    )
    assert (tls_login.local_port, tls_login.tls, tls_login.tls_version) == (587, True, "TLSv1.3")
    assert (plain_login.local_port, plain_login.tls, plain_login.user) == (25, False, "shop")


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1"])
def test_old_tls_as_dovecot_and_postfix_write_it(version):
    """Lines the test servers (tests/checks/mailservers.py, legacy_tls) wrote: TLS 1.0
    and 1.1 lines end at the cipher's bits, without key-exchange details."""
    tls = f"{version} with cipher ECDHE-ECDSA-AES256-SHA (256/256 bits)"
    pop3, smtps = read(
        "Nov 30 09:04:12 pop3-login: Info: Login: user=<info@alpha.example>, method=PLAIN, "
        f"rip=127.0.0.1, lip=127.0.0.2, lport=38743, mpid=13398, TLS, {tls}, "
        "session=<4s+CsXphSMl/AAAB>",
        "Nov 30 09:04:12 mail postfix-good/smtps/smtpd[13375]: Anonymous TLS connection "
        f"established from unknown[127.0.0.1]: {tls}",
        "Nov 30 09:04:12 mail postfix-good/smtps/smtpd[13375]: 66B7220CBAB: "
        "client=unknown[127.0.0.1], sasl_method=PLAIN, sasl_username=info@alpha.example",
    )[0]
    assert (pop3.protocol, pop3.tls, pop3.tls_version) == ("pop3", True, version)
    assert (smtps.protocol, smtps.local_port, smtps.tls_version) == ("smtp", 465, version)


def test_a_postfix_tls_line_does_not_leak_into_the_next_connection_of_that_process():
    lines = [
        *POSTFIX[:2],
        POSTFIX[3],
        "Nov 30 10:44:00 mail postfix/submission/smtpd[1137]: connect from x[203.0.113.1]",
        "Nov 30 10:44:01 mail postfix/submission/smtpd[1137]: 4Fz: client=x[203.0.113.1], "
        "sasl_method=PLAIN, sasl_username=u",
    ]
    (event,), _ = read(*lines)
    assert event.tls is False


@pytest.mark.parametrize(
    "line",
    [
        # RFC 5424
        "<22>1 2026-11-30T10:42:01.123+09:00 mail dovecot 4242 - - pop3-login: Login: "
        "user=<test01>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.10, session=<a>",
        '<22>1 2026-11-30T01:42:01Z mail dovecot 4242 - [meta x="1"] pop3-login: Login: '
        "user=<test01>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.10, session=<a>",
        # journald short-iso
        "2026-11-30T10:42:01+0900 mail dovecot[4242]: pop3-login: Login: user=<test01>, "
        "method=PLAIN, rip=203.0.113.9, lip=192.0.2.10, session=<a>",
        # RFC 3164 with a priority
        "<22>Nov 30 10:42:01 mail dovecot[4242]: pop3-login: Login: user=<test01>, "
        "method=PLAIN, rip=203.0.113.9, lip=192.0.2.10, session=<a>",
    ],
)
def test_every_envelope_gives_the_same_event(line):
    (event,), _ = read(line)
    assert event.at.replace(microsecond=0) == datetime(2026, 11, 30, 10, 42, 1, tzinfo=TOKYO)
    assert (event.user, event.remote, event.protocol) == ("test01", "203.0.113.9", "pop3")


def test_december_lines_read_in_january_belong_to_last_year():
    reader = LogReader(tz=TOKYO, now=datetime(2027, 1, 2, tzinfo=TOKYO))
    (event,) = reader.read([DEFAULT_FORMAT.replace("Nov 30", "Dec 31")])
    assert event.at.year == 2026


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Nov 30 10:42:01 mail sshd[1]: Accepted password for root", "skipped"),
        ("\x00\x01\x02garbage", "garbage"),
        ("Nov 30 10:42", "garbage"),
        ("x" * 20_000, "too-long"),
        (DEFAULT_FORMAT.replace("Nov 30", "Feb 30"), "garbage"),
        (
            "2099-01-01T00:00:00+0900 mail dovecot[1]: pop3-login: Login: user=<u>, rip=1.2.3.4, "
            "session=<a>",
            "bad-time",
        ),
        (
            "1970-01-01T00:00:00+0000 mail dovecot[1]: pop3-login: Login: user=<u>, "
            "rip=1.2.3.4, session=<a>",
            "bad-time",
        ),
        ("", "garbage"),
    ],
)
def test_lines_that_are_not_logins_are_skipped_and_counted(line, reason):
    events, counts = read(line)
    assert events == [] and counts[reason] == 1 and counts["lines"] == 1


def test_non_utf8_bytes_are_read_not_fatal():
    reader = LogReader(tz=TOKYO, now=NOW)
    events = list(reader.read([DEFAULT_FORMAT.encode() + b"\xff\xfe", b"\xff" * 50]))
    assert len(events) == 1 and reader.counts["garbage"] == 1


def test_the_same_line_twice_gives_the_same_session_key():
    (a, b), _ = read(DEFAULT_FORMAT, DEFAULT_FORMAT)
    assert a.session == b.session


def test_timestamps_are_compared_in_utc_too():
    (event,), _ = read(RICH_FORMAT)
    assert event.at.astimezone(UTC) == datetime(2026, 11, 30, 1, 42, 1, tzinfo=UTC)
    assert NOW - event.at < timedelta(hours=2)


def test_a_postfix_smtps_login_is_over_tls_even_without_its_tls_line():
    (event,), _ = read(
        "Nov 30 10:42:01 mail postfix/smtps/smtpd[5]: 4A1: client=c[203.0.113.9], "
        "sasl_method=PLAIN, sasl_username=u"
    )
    assert (event.local_port, event.tls, event.tls_version) == (465, True, None)


# The quick ways (one match for rsyslog's usual envelope, one for Dovecot's two usual login
# formats) give what the general way gives.

NEVER = re.compile(r"(?!)")
login_names = st.text(
    alphabet=string.ascii_letters + string.digits + ".@-_+", min_size=1, max_size=30
)
addresses = st.sampled_from(["203.0.113.9", "192.0.2.10", "2001:db8::20", "::1", ""])


@st.composite
def dovecot_lines(draw):
    day = draw(st.sampled_from(["Nov 30", "Nov  3", "Dec  1", "Feb 29", "Nov 31"]))
    clock = draw(st.sampled_from(["10:42:01", "00:00:00", "23:59:59", "24:00:00", "10:61:00"]))
    host = draw(st.sampled_from(["mail dovecot: ", "mail1 ", "", "mail dovecot[12]: "]))
    proto = draw(st.sampled_from(["pop3", "imap", "submission"]))
    fields = [f"user=<{draw(login_names)}>", f"method={draw(st.sampled_from(['PLAIN', 'LOGIN']))}"]
    fields.append(f"rip={draw(addresses)}")
    fields.append(f"lip={draw(addresses)}")
    if draw(st.booleans()):
        fields.append(f"lport={draw(st.integers(0, 9_999_999))}")
    fields.append(f"mpid={draw(st.integers(1, 99999))}")
    tls = draw(st.sampled_from(["", "TLS", "secured", "TLS: Disconnected"]))
    if tls:
        fields.append(tls)
    if tls == "TLS" and draw(st.booleans()):
        version = draw(st.sampled_from(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3"]))
        fields.append(f"{version} with cipher ECDHE-RSA-AES256-SHA (256/256 bits)")
    fields.append(f"session=<{draw(st.sampled_from(['', 'AbC', 'x/y+z']))}>")
    if draw(st.booleans()):
        draw(st.randoms()).shuffle(fields)
    return f"{day} {clock} {host}{proto}-login: Login: {', '.join(fields)}"


@st.composite
def postfix_lines(draw):
    day = draw(st.sampled_from(["Nov 30", "Nov  3", "Feb 30"]))
    clock = draw(st.sampled_from(["10:42:01", "09:00:00", "10:61:00"]))
    # Few hosts, services and processes: lines of one connection follow each other often.
    host = draw(st.sampled_from(["mail ", "mail ", ""]))
    tag = draw(st.sampled_from(["postfix/submission/smtpd", "postfix/submission/smtpd",
                                "postfix-good/smtps/smtpd", "smtpd", "postfix/smtp"]))  # fmt: skip
    pid = draw(st.sampled_from(["[1]", "[1]", ""]))
    client = draw(st.sampled_from(["c.example[203.0.113.9]", "unknown[2001:db8::1]:4711"]))
    user = draw(st.sampled_from(["info", "info@alpha.example", " x ", "a" * 330]))
    message = draw(
        st.sampled_from(
            [
                f"connect from {client}",
                f"disconnect from {client} ehlo=1 quit=1 commands=2",
                f"Anonymous TLS connection established from {client}: TLSv1.3 with cipher X",
                f"Trusted TLS connection established from {client}: TLSv1 with cipher Y (1/1)",
                f"TLS connection established from {client}: TLSv1.2 with cipher Z",
                f"4A1B: client={client}, sasl_method=PLAIN, sasl_username={user}",
                f"4A1C: client={client}, sasl_method=LOGIN, sasl_username={user}, extra=1",
                f"warning: {client}: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                "lost connection after AUTH from unknown[203.0.113.9]",
            ]
        )
    )
    return f"{day} {clock} {host}{tag}{pid}: {message}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(dovecot_lines(), postfix_lines()), min_size=1, max_size=8))
def test_the_quick_reading_gives_what_the_general_one_gives(lines):
    quick = read(*lines)
    with pytest.MonkeyPatch.context() as patch:
        for quick_way in ("FAST_RFC3164", "DOVECOT_LOGIN", "POSTFIX_LINE"):
            patch.setattr(parse, quick_way, NEVER)
        general = read(*lines)
    assert quick == general


def test_long_lines_are_cut_off_across_blocks_and_the_rest_is_read():
    text = b"first\n" + b"x" * (MAX_LINE * 3) + b"\nthird \xff\nlast"
    for block in (7, 100, MAX_LINE, 1 << 20):
        lines = list(bounded_lines(io.BytesIO(text), block))
        assert len(lines) == 4 and lines[0] == "first" and lines[3] == "last"
        assert len(lines[1]) > MAX_LINE and lines[2] == "third \ufffd"
