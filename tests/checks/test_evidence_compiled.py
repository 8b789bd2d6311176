"""The compiled quick way through a part of a log file (checks/evidence/_fastread.pyx)
gives exactly what the Python reader gives for the same bytes: the same logins (session
keys, times, TLS), counts, Postfix connections left open and logins left to complete."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.evidence import reading
from checks.evidence.parse import MAX_LINE, PENDING, LogReader, bounded_lines
from tests.checks.test_evidence_parse import dovecot_lines, postfix_lines
from tests.checks.test_evidence_recording import postfix_traffic

compiled_only = pytest.mark.skipif(
    reading.read_block is None, reason="the compiled reader is not built"
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def reader() -> LogReader:
    return LogReader(tz=ZoneInfo("Asia/Tokyo"), now=NOW, blocks=True)


def compiled(data: bytes, into: LogReader) -> tuple:
    logins: list = []
    pending: list = []
    into.counts.clear()
    reading.read_block(into, data, reading._login, logins, pending)
    return logins, dict(into.counts), into.block_end(), pending


def python(data: bytes, into: LogReader) -> tuple:
    into.counts.clear()
    events = list(into.read(bounded_lines(io.BytesIO(data))))
    pending = [
        (index, event.connection, event.service)
        for index, event in enumerate(events)
        if event.tls_version == PENDING
    ]
    return reading._logins(events), dict(into.counts), into.block_end(), pending


def same(*blocks: bytes) -> None:
    """Each block read by a reader of each kind in turn (their caches and what the blocks
    leave carried over): the same results."""
    quick, slow = reader(), reader()
    for data in blocks:
        assert compiled(data, quick) == python(data, slow)


# Lines the quick way must give up on (and hand to the Python reader), or read exactly.
NEAR_MISSES = [
    "Nov 30 10:42:01 mail postfix/submission/smtpd[77]: connect from c[203.0.113.9]",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[77]: disconnect from c[203.0.113.9]",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[77]: connect from c[203.0.113.9]\r",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[77]: connect\x00 from c",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[77]:connect from c",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[7a]: connect from c",
    "Nov 30 10:42:01 mail postfix/submission/smtpd[]: connect from c",
    "Nov 30 10:42:01  postfix/submission/smtpd[77]: connect from c",
    "Nov 30 10:42:01 ma:il postfix/submission/smtpd[77]: connect from c",
    "Nov 30 10:42:01 mail post fix/smtpd[77]: connect from c",
    "Nov 30 10:42:01 mail /smtpd[77]: connect from c",
    "Nov 30 10:42:01 mail smtpd[77]: connect from c",
    "Nov 30 10:42:01 mäil postfix/smtpd[77]: connect from c",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: Anonymous TLS connection established from c[1.2.3.4]: TLSv1.2 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from c[1.2.3.4]: TLSv1 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS TLS connection established from c: TLSv1 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: Anon-ymous TLS connection established from c: TLSv1 with cipher",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from c[1.2.3.4] TLSv1 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from :: TLSv1 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from : TLSv1 with cipher X",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from c: TLSv1 with ciphers",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: TLS connection established from c:  TLSv1 with cipher",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4]:587, sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4]:x, sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4]:, sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[], sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c, sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username= Info ",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=a,b",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: A_B: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=info",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username="
    + "a" * 320,
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username="
    + "a" * 321,
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=info\x1c",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: AB1: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=ユーザー",
    "Nov 30 10:42:01 mail postfix/smtpd[77]: connect from " + "c" * MAX_LINE,
    *(
        ("Nov 30 10:42:01 mail postfix/smtpd[77]: connect from c" + "c" * MAX_LINE)[:n]
        for n in (MAX_LINE, MAX_LINE + 1)
    ),
    "Nov 30 10:42:01 mail\x1f postfix/smtpd[77]: connect from c",
    "Nov 30 10:42:01 mail\t postfix/smtpd[77]: connect from c",
    "Nov 30 10:42:60 mail postfix/smtpd[77]: connect from c",
    "Nov 30 24:00:00 mail postfix/smtpd[77]: connect from c",
    "Feb 30 10:42:01 mail postfix/smtpd[77]: connect from c",
    "Nov  3 10:42:01 mail postfix/smtpd[77]: connect from c",
    "Nov 3 10:42:01 mail postfix/smtpd[77]: connect from c",
    "nov 30 10:42:01 mail postfix/smtpd[77]: connect from c",
    "Jan  1 00:00:00 mail postfix/smtpd[77]: connect from c",
    "Dec 24 23:59:59 mail postfix/smtpd[077]: AB2: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=info",
    "Nov 29 23:59:59 mail postfix/smtps/smtpd[78]: AB3: client=c[1.2.3.4], sasl_method=PLAIN, sasl_username=info",
    "2026-11-30T10:42:01+09:00 mail postfix/smtpd[77]: connect from c[203.0.113.9]",
    "",
    "\xff\xfe garbage",
]


@compiled_only
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(dovecot_lines(), postfix_lines(), st.sampled_from(NEAR_MISSES)),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_any_mix_of_lines_reads_the_same(lines, final_newline):
    data = "\n".join(lines).encode("utf-8", "surrogateescape") + (b"\n" if final_newline else b"")
    same(data)


def traffic(seed: int) -> list[bytes]:
    """Busy Postfix traffic in rsyslog's format (tests.checks.test_evidence_recording),
    cut into parts anywhere after a line's end, as file_blocks cuts a file."""
    lines = postfix_traffic(seed, 300, rsyslog_from=datetime(2026, 11, 30, 8, 0))
    data = "".join(f"{line}\n" for line in lines).encode()
    cuts = sorted(random.Random(seed).sample(range(1, len(data)), 6))
    ends = sorted({data.index(b"\n", cut) + 1 for cut in cuts if b"\n" in data[cut:]})
    return [data[a:b] for a, b in zip([0, *ends], [*ends, len(data)], strict=True) if a < b]


@compiled_only
@pytest.mark.parametrize("seed", range(6))
def test_busy_postfix_traffic_cut_into_parts_reads_the_same(seed):
    parts = traffic(seed)
    assert len(parts) > 3
    same(*parts)
    quick = reader()
    logins = [login for part in parts for login in compiled(part, quick)[0]]
    assert len(logins) > 100 and any(login[9] for login in logins)


def test_the_compiled_reader_is_built_where_the_tests_run():
    """The install (`pip install -e .`, run by `make`) builds it where a C compiler is;
    CI has one: a broken build would otherwise only show as slower ingests."""
    assert reading.read_block is not None


@compiled_only
def test_without_the_compiled_reader_manage_py_check_says_so(monkeypatch):
    from checks.apps import compiled_reader_check

    assert compiled_reader_check() == []
    monkeypatch.setattr(reading, "read_block", None)
    (warning,) = compiled_reader_check()
    assert warning.id == "evidence.W001" and "build-essential" in warning.hint
