"""Login lines become evidence per mailbox and endpoint, each session counted once."""

from __future__ import annotations

import gzip
import hashlib
import random
import sys
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import MailDomain, ServerName
from accounts.server_imports import servers_import
from checks.evidence.models import LoginEvidence, LogSource, SeenSessions
from checks.evidence.parse import LogReader
from checks.evidence.reading import file_blocks
from checks.evidence.recording import evidence_ingest, evidence_prune, sessions_counted
from tests.conftest import make_mailbox


def stamp(minutes_ago: int = 5) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")


def dovecot(user: str, *, proto="pop3", lip="192.0.2.10", lport=995, tls=True, version="TLSv1.3",
            session="s1", rip="203.0.113.9", minutes_ago=5) -> str:  # fmt: skip
    secure = f"TLS, {version} with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), " if tls else ""
    return (
        f"{stamp(minutes_ago)} mail dovecot[99]: {proto}-login: Login: user=<{user}>, "
        f"method=PLAIN, rip={rip}, lip={lip}, lport={lport}, mpid=4242, {secure}"
        f"session=<{session}>"
    )


@pytest.fixture
def registry(db):
    current = ServerName.objects.create(
        hostname="mail.hosting.example", status="current", addresses="192.0.2.10"
    )
    ServerName.objects.create(
        hostname="pop.hosting.example",
        status="legacy",
        replaced_by=current,
        addresses="192.0.2.20 2001:db8::20",
    )
    return current


@pytest.fixture
def source(db):
    return LogSource.objects.create(name="mail1")


def ingest(source, *lines):
    return evidence_ingest(list(lines), source=source)


def test_a_tls_login_becomes_evidence_of_its_mailbox_on_the_named_server(
    registry, source, alpha_mailbox
):
    counts, touched = ingest(source, dovecot("info"))
    row = LoginEvidence.objects.get()
    assert touched == {alpha_mailbox.pk}
    assert (row.mailbox, row.protocol, row.address, row.port) == (
        alpha_mailbox, "pop3", "192.0.2.10", 995
    )  # fmt: skip
    assert (row.server, row.legacy_address, row.tls, row.tls_version) == (
        registry, False, True, "TLSv1.3"
    )  # fmt: skip
    assert (row.count, row.last_remote) == (1, "203.0.113.9")
    assert counts["recorded"] == 1


def test_the_same_lines_read_twice_count_once(registry, source, alpha_mailbox):
    lines = [dovecot("info", session="a"), dovecot("info", session="b", rip="198.51.100.7")]
    ingest(source, *lines)
    counts, _ = ingest(source, *lines)
    assert LoginEvidence.objects.get().count == 2
    assert (counts["duplicate"], counts["recorded"]) == (2, 0)


def test_first_and_last_seen_and_the_latest_client_address(registry, source, alpha_mailbox):
    ingest(source, dovecot("info", session="new", rip="198.51.100.7", minutes_ago=1))
    ingest(source, dovecot("info", session="old", rip="203.0.113.9", minutes_ago=60))
    row = LoginEvidence.objects.get()
    assert row.last_remote == "198.51.100.7"
    assert row.last_seen - row.first_seen > timedelta(minutes=58)
    assert row.count == 2


def test_an_address_only_legacy_names_have_counts_as_legacy(registry, source, alpha_mailbox):
    ingest(source, dovecot("info", lip="2001:db8::20", lport=110, tls=False))
    row = LoginEvidence.objects.get()
    assert (row.legacy_address, row.server.hostname, row.tls) == (
        True, "pop.hosting.example", False
    )  # fmt: skip


def test_an_address_two_names_share_names_no_server(registry, source, alpha_mailbox):
    ServerName.objects.create(hostname="pop2.hosting.example", status="current",
                              addresses="192.0.2.20")  # fmt: skip
    ingest(source, dovecot("info", lip="192.0.2.20"))
    row = LoginEvidence.objects.get()
    assert (row.server, row.legacy_address) == (None, False)


def test_login_names_are_found_by_address_user_name_and_domain_pattern(
    registry, source, alpha, alpha_mailbox
):
    MailDomain.objects.create(customer=alpha, domain="alpha.example", server=registry,
                              login="fixed", login_format="{local}+{domain}")  # fmt: skip
    ingest(
        source,
        dovecot("info@alpha.example", session="1"),
        dovecot("INFO", session="2"),
        dovecot("info+alpha.example", session="3"),
    )
    assert LoginEvidence.objects.get(mailbox=alpha_mailbox).count == 3


def test_unknown_and_ambiguous_names_are_counted_per_source_and_not_stored(
    registry, source, alpha, beta
):
    make_mailbox(alpha, "info@alpha.example")
    make_mailbox(beta, "info@beta.example")
    ingest(source, dovecot("nobody", session="1"), dovecot("info", session="2"))
    assert not LoginEvidence.objects.exists()
    source.refresh_from_db()
    assert (source.counts["unknown-user"], source.counts["ambiguous-user"]) == (1, 1)
    assert "nobody" not in str(source.counts)


def test_postfix_submission_joins_its_tls_line_and_the_service_gives_the_port(
    registry, source, alpha_mailbox
):
    ingest(
        source,
        f"{stamp()} mail postfix/submission/smtpd[777]: connect from c[203.0.113.9]",
        f"{stamp()} mail postfix/submission/smtpd[777]: Anonymous TLS connection established"
        " from c[203.0.113.9]: TLSv1.1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",
        f"{stamp()} mail postfix/submission/smtpd[777]: 4ABC123: client=c[203.0.113.9],"
        " sasl_method=PLAIN, sasl_username=info@alpha.example",
    )
    row = LoginEvidence.objects.get()
    assert (row.protocol, row.address, row.port, row.tls, row.tls_version) == (
        "smtp", "", 587, True, "TLSv1.1"
    )  # fmt: skip


@pytest.mark.parametrize(
    "junk",
    [
        b"\x00\x01\x02\xff binary junk",
        b"Nov 30 10:4",
        b"1999-01-01T00:00:00+09:00 mail dovecot: pop3-login: Login: user=<info>, rip=1.2.3.4",
        b"x" * 1_000_000,
        b"\xff\xfe not utf-8 \x80\x81",
    ],
)
def test_bad_lines_are_skipped_and_counted_and_the_good_ones_kept(
    registry, source, alpha_mailbox, junk
):
    counts, _ = ingest(source, junk, dovecot("info").encode())
    assert LoginEvidence.objects.get().count == 1
    assert counts["lines"] == 2
    assert counts["garbage"] + counts["bad-time"] + counts["too-long"] + counts["skipped"] == 1


def test_a_failing_batch_writes_nothing(registry, source, alpha_mailbox, monkeypatch):
    from checks.evidence import recording

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(recording, "_merge", broken)
    with pytest.raises(RuntimeError):
        ingest(source, dovecot("info"))
    assert not SeenSessions.objects.exists()
    monkeypatch.undo()
    ingest(source, dovecot("info"))
    assert LoginEvidence.objects.get().count == 1


def test_old_sessions_and_evidence_are_pruned(registry, source, alpha_mailbox, settings):
    ingest(source, dovecot("info"))
    evidence_prune(now=timezone.now() + timedelta(days=settings.LOG_EVIDENCE_KEEP_DAYS + 1))
    assert not SeenSessions.objects.exists() and not LoginEvidence.objects.exists()


def test_the_command_reads_plain_and_gzipped_files_and_prints_counts(
    registry, alpha_mailbox, tmp_path
):
    plain = tmp_path / "mail.log"
    plain.write_text(dovecot("info", session="p") + "\nnot a log line\n")
    archived = tmp_path / "mail.log.1.gz"
    archived.write_bytes(gzip.compress((dovecot("info", session="g") + "\n").encode()))
    out = StringIO()
    call_command("ingest_maillog", str(plain), str(archived), "--source", "mail1", stdout=out)
    call_command(
        "ingest_maillog", str(plain), str(archived), "--source", "mail1", stdout=StringIO()
    )
    assert LoginEvidence.objects.get().count == 2
    assert "3 lines: 2 logins recorded for 1 mailboxes" in out.getvalue()
    assert LogSource.objects.get(name="mail1").counts["lines"] == 6


def test_import_servers_takes_an_optional_addresses_column(db):
    servers_import(
        b"hostname,status,replaced_by,addresses\n"
        b"mail.hosting.example,current,,192.0.2.10 2001:DB8::10\n"
    )
    assert ServerName.objects.get().addresses == "192.0.2.10 2001:db8::10"


def test_a_name_two_mailboxes_share_is_told_apart_by_the_server_the_login_reached(
    registry, source, alpha, beta
):
    from accounts.sheets import SheetValues

    on_old = SheetValues("pop.hosting.example", 110, "none", "pop.hosting.example", 25, "none",
                         "smtp-auth")  # fmt: skip
    mine = make_mailbox(alpha, "info@alpha.example", on_old)
    make_mailbox(beta, "info@beta.example")  # on mail.hosting.example
    ingest(source, dovecot("info", lip="192.0.2.20", lport=110, tls=False, session="1"))
    ingest(source, dovecot("info", lip="198.51.100.1", session="2"))  # an address of no name
    assert LoginEvidence.objects.get().mailbox == mine
    source.refresh_from_db()
    assert source.counts["ambiguous-user"] == 1


def postfix_traffic(
    seed: int, connections: int = 60, *, rsyslog_from: datetime | None = None
) -> list[str]:
    """Postfix connections of several smtpd processes on two hosts, interleaved as a busy
    server logs them: with and without TLS (smtps without its TLS line too, as with
    smtpd_tls_loglevel 0), on 25/587/465, a login or a failed one or none, other programs'
    lines between; process ids come back for later connections. Timestamps are ISO, a
    second a line from 30 minutes ago, or rsyslog's from `rsyslog_from` on (several lines
    in one second)."""
    rng = random.Random(seed)
    now = timezone.now() - timedelta(minutes=30)
    at = rsyslog_from
    open_ones: dict[int, list[str]] = {}
    lines: list[str] = []
    started = 0

    def stamp() -> str:
        nonlocal at
        if at is None:
            return (now + timedelta(seconds=len(lines))).isoformat(timespec="seconds")
        at += timedelta(seconds=rng.choice([0, 0, 1, 7]))
        return f"{at:%b %e %H:%M:%S}"

    while started < connections or open_ones:
        if started < connections and (not open_ones or rng.random() < 0.4):
            pid = rng.choice([p for p in range(100, 112) if p not in open_ones] or [0])
            if pid:
                service = rng.choice(["smtpd", "submission/smtpd", "smtps/smtpd"])
                tag = f"mail{rng.choice(['', '2'])} postfix/{service}[{pid}]:"
                client = f"c{started}.example[198.51.100.{started % 250}]"
                steps = [f"{tag} connect from {client}"]
                if rng.random() < (0.8 if service == "smtps/smtpd" else 0.6):
                    version = rng.choice(["TLSv1.3", "TLSv1.2", "TLSv1"])
                    steps.append(f"{tag} Anonymous TLS connection established from {client}: "
                                 f"{version} with cipher X (256/256 bits)")  # fmt: skip
                for n in range(rng.choice([0, 1, 1, 2])):
                    steps.append(f"{tag} {started:05X}{n}: client={client}, sasl_method=PLAIN, "
                                 f"sasl_username={rng.choice(['info', 'sales', 'Sales '])}")  # fmt: skip
                if rng.random() < 0.2:
                    steps.append(f"{tag} warning: {client}: SASL PLAIN authentication failed: x")
                steps.append(f"{tag} disconnect from {client}")
                open_ones[pid] = steps
                started += 1
        if rng.random() < 0.1:
            lines.append(f"{stamp()} mail systemd[1]: Started session {started}.")
        if open_ones:
            pid = rng.choice(list(open_ones))
            lines.append(f"{stamp()} {open_ones[pid].pop(0)}")
            if not open_ones[pid]:
                del open_ones[pid]
    return lines


def evidence_rows() -> list[tuple]:
    return sorted(
        LoginEvidence.objects.values_list(
            "mailbox_id", "protocol", "port", "tls", "tls_version", "count", "first_seen",
            "last_seen", "last_remote",
        )
    )  # fmt: skip


def counted_in_one_go_then_forgotten(lines: list[str], source, tmp_path):
    """The lines counted in one go (what any other way must give), then everything
    counted forgotten and the lines written to a file; returns the counts, the evidence
    rows and the file."""
    one_go, _ = evidence_ingest(lines, source=source)
    expected = evidence_rows()
    LoginEvidence.objects.all().delete()
    SeenSessions.objects.all().delete()
    path = tmp_path / "mail.log"
    path.write_text("\n".join(lines) + "\n")
    return one_go, expected, path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reading_in_parallel_blocks_gives_what_reading_in_one_go_gives(
    registry, source, alpha_mailbox, beta_mailbox, monkeypatch, seed
):
    """Blocks cut Postfix connections anywhere (between a TLS line and its login, or a
    login and its process's next connection): put back together, nothing differs."""
    from checks.evidence import reading

    lines = postfix_traffic(seed)
    one_go, _ = evidence_ingest(lines, source=source)
    expected = evidence_rows()
    assert one_go["recorded"] > 10 and any(row[3] for row in expected)
    assert any(not row[3] for row in expected)
    for block_lines in (1, 3, 7, 50):
        LoginEvidence.objects.all().delete()
        SeenSessions.objects.all().delete()
        monkeypatch.setattr(reading, "BLOCK_LINES", block_lines)
        parallel, _ = evidence_ingest(lines, source=source, processes=2, batch_size=5)
        assert evidence_rows() == expected, f"blocks of {block_lines} lines"
        assert {k: parallel[k] for k in one_go} == dict(one_go)


@pytest.mark.django_db(transaction=True)
def test_sessions_counted_before_the_upgrade_still_count_once(alpha_mailbox, registry):
    """Migration 0008 moves each counted session's key into its minute's row: a line
    counted by the version before it is not counted again."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    line = dovecot("info", session="before-upgrade")
    (event,) = LogReader(tz=timezone.get_current_timezone(), now=timezone.now()).read([line])
    digest = hashlib.blake2b(f"{event.outcome}|{event.session}".encode(), digest_size=16)
    executor = MigrationExecutor(connection)
    executor.migrate([("checks", "0007_login_evidence")])
    old = executor.loader.project_state([("checks", "0007_login_evidence")]).apps
    old.get_model("checks", "SeenLogin").objects.create(key=digest.hexdigest(), at=event.at)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    source = LogSource.objects.create(name="after")
    counts, _ = evidence_ingest([line, dovecot("info", session="after-upgrade")], source=source)
    assert (counts["duplicate"], counts["recorded"]) == (1, 1)
    assert sessions_counted() == 2


def test_a_file_read_in_parts_by_the_reading_processes_gives_the_same(
    registry, source, alpha_mailbox, beta_mailbox, tmp_path
):
    """ingest_maillog's way with a plain file: the reading processes read parts of it
    (cut after a line's end, however long the line) themselves."""
    lines = postfix_traffic(4)
    lines.insert(len(lines) // 2, "x" * 100_000)  # one over-long line, skipped
    path = tmp_path / "mail.log"
    path.write_text("\n".join(lines) + "\n")
    one_go, _ = evidence_ingest(lines, source=source)
    expected = evidence_rows()
    for size in (1, 300, 5000, 1 << 20):
        LoginEvidence.objects.all().delete()
        SeenSessions.objects.all().delete()
        parts, _ = evidence_ingest(
            blocks=file_blocks(path, size), source=source, processes=2, batch_size=5
        )
        assert evidence_rows() == expected, f"parts of {size} bytes"
        assert {k: parts[k] for k in one_go} == dict(one_go)
    assert one_go["too-long"] == 1


@pytest.mark.django_db(transaction=True)
def test_batches_written_at_once_by_two_connections_count_each_session_once(
    registry, source, alpha_mailbox, beta_mailbox, tmp_path
):
    """Outside a transaction (as ingest_maillog runs) two batches are written at once on
    two connections: the result is what one batch after the other gives, and reading
    the file again counts nothing."""
    lines = postfix_traffic(5, connections=200) + [
        dovecot("info", session=f"d{n}", minutes_ago=n % 50) for n in range(300)
    ]
    lines += lines[:100]  # some lines twice in the same file
    one_go, expected, path = counted_in_one_go_then_forgotten(lines, source, tmp_path)

    at_once, _ = evidence_ingest(
        blocks=file_blocks(path, 2000), source=source, processes=2, batch_size=20
    )
    again, _ = evidence_ingest(
        blocks=file_blocks(path, 2000), source=source, processes=2, batch_size=20
    )

    assert evidence_rows() == expected
    assert at_once["recorded"] == one_go["recorded"] > 300
    assert at_once["duplicate"] == one_go["duplicate"] > 0
    events = one_go["login"] + one_go["auth-failed"] + one_go["plaintext-refused"]
    assert (again["recorded"], again["duplicate"]) == (0, events)


def _dies_on_the_eighth_part(block, into):
    """A reading process's work that SIGKILLs its process on the eighth part of 4000
    bytes (handed to the process by name: see the test below)."""
    import os
    import signal

    if 7 * 4000 <= block[1] < 8 * 4000:
        os.kill(os.getpid(), signal.SIGKILL)
    return _RECORD(block, into)


_RECORD = None  # the real one, while the test runs


@pytest.mark.django_db(transaction=True)
def test_a_reading_process_killed_mid_file_stops_the_command_and_a_rerun_counts_the_rest_once(
    registry, source, alpha_mailbox, beta_mailbox, tmp_path, monkeypatch
):
    """ingest_maillog's reading processes, one of them SIGKILLed while it works on a
    part of the file: the command stops with an error that says what to do (instead of
    waiting for it forever), the groups written before stay counted (groups of 5
    sessions here), and running it again counts the rest, nothing twice."""
    from django.core.management.base import CommandError

    from checks.evidence import reading, recording
    from checks.management.commands import ingest_maillog

    lines = postfix_traffic(6, connections=300) + [
        dovecot("info", session=f"d{n}", minutes_ago=n % 50) for n in range(300)
    ]
    one_go, expected, path = counted_in_one_go_then_forgotten(lines, source, tmp_path)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 4000)
    monkeypatch.setattr(ingest_maillog, "reading_processes", lambda: 2)
    monkeypatch.setattr(recording, "FILE_BATCH_SIZE", 5)
    record = recording._block_tally
    monkeypatch.setattr(sys.modules[__name__], "_RECORD", record)
    monkeypatch.setattr(recording, "_block_tally", _dies_on_the_eighth_part)
    out = StringIO()
    with pytest.raises(CommandError, match="reading process stopped"):
        call_command("ingest_maillog", str(path), source=source.name, stdout=out)
    counted_before = LoginEvidence.objects.count()
    assert 0 < sum(LoginEvidence.objects.values_list("count", flat=True)) < one_go["recorded"]

    monkeypatch.setattr(recording, "_block_tally", record)
    call_command("ingest_maillog", str(path), source=source.name, stdout=out)
    assert evidence_rows() == expected
    assert LoginEvidence.objects.count() >= counted_before


def test_the_command_leaves_the_garbage_collector_as_it_found_it(
    registry, source, alpha_mailbox, tmp_path
):
    """ingest_maillog keeps the cyclic collector away from the logins while it reads
    (bench/README.md), and gives it back as it was: a longer process that runs the
    command (a test, a shell) goes on collecting as before."""
    import gc

    path = tmp_path / "mail.log"
    path.write_text(dovecot("info", session="gc") + "\n")
    before = gc.get_threshold(), gc.get_freeze_count()
    call_command("ingest_maillog", str(path), source=source.name, stdout=StringIO())
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
    assert LoginEvidence.objects.get().count == 1


@pytest.mark.django_db(transaction=True)
def test_writers_at_once_on_the_same_rows_lose_no_count_and_never_deadlock(registry, source, alpha):
    """Two writers, each on its own connection, many batches at once on the same few
    mailboxes and endpoints: rows there already, and rows one of them adds while the
    other looks. Every login is counted exactly once in the end, and neither waits for
    the other in a circle (PostgreSQL would stop one with a deadlock error)."""
    import threading

    from django.db import connection

    from checks.evidence.reading import _login
    from checks.evidence.recording import directory_load, evidence_record

    for n in range(60):
        make_mailbox(alpha, f"m{n}@alpha.example")
    directory = directory_load()
    sent: list[int] = []
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        rng = random.Random(number)
        reader = LogReader(tz=timezone.get_current_timezone(), now=timezone.now())
        try:
            for batch in range(100):
                lines = [
                    dovecot(
                        f"m{rng.randrange(60)}",
                        lport=rng.choice([110, 995, 143, 993]),
                        tls=rng.random() < 0.5,
                        version=rng.choice(["TLSv1.3", "TLSv1.2", "TLSv1"]),
                        session=f"w{number}b{batch}n{n}",
                        minutes_ago=rng.randrange(1, 60),
                    )
                    for n in range(rng.randrange(1, 15))
                ]
                logins = [_login(event, {}) for event in reader.read(lines)]
                evidence_record(logins, source=source, directory=directory)
                sent.append(len(logins))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(LoginEvidence.objects.values_list("count", flat=True)) == sum(sent) > 500


def _written_by(log):
    """tally_write as it is, noting which process wrote how many evidence rows (into
    `log`, a file: the writers are the reading processes)."""
    import json
    import os

    from checks.evidence import recording

    write = recording.tally_write

    def noted(total, **kwargs):
        rows = len(total.rows)
        found = write(total, **kwargs)
        with open(log, "a") as out:
            out.write(json.dumps([os.getpid(), rows]) + "\n")
        return found

    return noted


@pytest.mark.django_db(transaction=True)
def test_a_file_is_written_once_by_every_reading_process_a_mailboxs_logins_from_all_parts_as_one_row(
    registry, source, alpha_mailbox, beta_mailbox, tmp_path, monkeypatch
):
    """ingest_maillog's reading processes tally the parts of a file in memory and then
    each writes its share of the evidence (its mailboxes) itself, on its own connection:
    a mailbox's 300 logins in 30 parts of the file become one evidence row written once
    (not one update per part), and the two processes' shares share no row."""
    import json
    import os

    from checks.evidence import recording

    lines = [
        dovecot(user, session=f"{user}{n}", minutes_ago=1 + n % 50)
        for n in range(300)
        for user in ("info", "sales")
    ]
    one_go, expected, path = counted_in_one_go_then_forgotten(lines, source, tmp_path)
    log = tmp_path / "writers.jsonl"
    monkeypatch.setattr(recording, "tally_write", _written_by(log))
    counts, _ = evidence_ingest(
        blocks=file_blocks(path, path.stat().st_size // 30), source=source, processes=2
    )
    assert evidence_rows() == expected and len(expected) == 2
    assert counts["recorded"] == one_go["recorded"] == 600
    writers = [json.loads(line) for line in log.read_text().splitlines()]
    assert len({pid for pid, _rows in writers}) == 2 and os.getpid() not in dict(writers)
    # info's row and sales's, each written once: by one process each (by their ids' parts)
    apart = alpha_mailbox.pk % 2 != beta_mailbox.pk % 2
    assert sorted(rows for _pid, rows in writers) == ([1, 1] if apart else [0, 2])
    parts = SeenSessions.objects.values_list("part", flat=True).distinct()
    assert sorted(parts) == sorted({alpha_mailbox.pk % 4, beta_mailbox.pk % 4})


def test_sessions_kept_in_another_part_of_their_minute_still_count_once(
    registry, source, alpha_mailbox
):
    """Sessions counted before their minute was kept in parts (migration 0010 leaves them
    in part 0), or by a mailbox that has since changed: a session found in any part of its
    minute is not counted again."""
    line = dovecot("info", session="kept-elsewhere")
    ingest(source, line)
    (row,) = SeenSessions.objects.all()
    SeenSessions.objects.filter(pk=row.pk).update(part=(row.part + 1) % 4)
    counts, _ = ingest(source, line, dovecot("info", session="new"))
    assert (counts["duplicate"], counts["recorded"]) == (1, 1)
    assert LoginEvidence.objects.get().count == 2


def _killed_while_writing(total, **kwargs):
    """tally_write that SIGKILLs its process after the database got part of its work
    (the sessions and the staged rows), before it commits: the process that writes the
    share of odd mailbox ids (see the test below)."""
    import os
    import signal

    from checks.evidence import recording

    if any(key[0] % 2 for key in total.rows):
        real_merge = recording._merge

        def merge_then_die(cursor, rows):
            real_merge(cursor, rows)
            os.kill(os.getpid(), signal.SIGKILL)

        recording._merge = merge_then_die
    return _WRITE(total, **kwargs)


_WRITE = None  # the real tally_write, while the test runs


@pytest.mark.django_db(transaction=True)
def test_a_reading_process_killed_while_writing_its_share_loses_it_whole_and_a_rerun_counts_it_once(
    registry, source, alpha_mailbox, beta_mailbox, tmp_path, monkeypatch
):
    """The reading processes write their shares at the same time; one is SIGKILLed in the
    middle of its transaction (rows merged, not committed). The command stops with its
    error; the killed share is not counted at all (not half of it), the other one wholly
    or not at all (the command stops it when it sees the first gone), and running the
    command again counts the rest, nothing twice."""
    from django.core.management.base import CommandError

    from checks.evidence import reading, recording
    from checks.management.commands import ingest_maillog

    assert alpha_mailbox.pk % 2 != beta_mailbox.pk % 2  # one share each
    lines = [
        dovecot(user, session=f"{user}{n}", minutes_ago=1 + n % 50)
        for n in range(100)
        for user in ("info", "sales")
    ]
    one_go, expected, path = counted_in_one_go_then_forgotten(lines, source, tmp_path)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 4000)
    monkeypatch.setattr(ingest_maillog, "reading_processes", lambda: 2)
    monkeypatch.setattr(sys.modules[__name__], "_WRITE", recording.tally_write)
    monkeypatch.setattr(recording, "tally_write", _killed_while_writing)
    with pytest.raises(CommandError, match="reading process stopped"):
        call_command("ingest_maillog", str(path), source=source.name, stdout=StringIO())
    odd = alpha_mailbox if alpha_mailbox.pk % 2 else beta_mailbox
    even = beta_mailbox if odd is alpha_mailbox else alpha_mailbox
    assert not LoginEvidence.objects.filter(mailbox=odd).exists()
    assert not SeenSessions.objects.filter(part=odd.pk % 4).exists()
    assert list(LoginEvidence.objects.filter(mailbox=even).values_list("count", flat=True)) in (
        [],
        [100],
    )

    monkeypatch.setattr(recording, "tally_write", _WRITE)
    call_command("ingest_maillog", str(path), source=source.name, stdout=StringIO())
    assert evidence_rows() == expected
    assert sessions_counted() == one_go["recorded"] == 200
