"""A server that hangs, trickles, sends garbage or resets mid-handshake yields a
result with the right error code, quickly, never an exception or a stuck probe."""

import asyncio
import time
from dataclasses import replace

import pytest

from checks.probes import Endpoint, ProbeOptions, probe_endpoint
from tests.checks import misbehaving

# The servers listen on 127.0.0.1, on ports of their own: both allowed here.
FAST = ProbeOptions(
    timeout=2,
    connect_timeout=1,
    read_timeout=1,
    retry_delay=0.05,
    allowed_addresses=frozenset({"127.0.0.1"}),
)


def probe(port, protocol="pop3", security="none", host="127.0.0.1", options=FAST):
    options = replace(options, ports=frozenset({port}))
    return asyncio.run(probe_endpoint(Endpoint(host, port, protocol, security), options))


@pytest.fixture
def server():
    started = []

    def start(handler):
        started.append(misbehaving.TcpServer(handler))
        return started[-1].port

    yield start
    for s in started:
        s.close()


def test_a_closed_port_is_refused():
    result = probe(misbehaving.unused_port())
    assert (result.reachable, result.error) == (False, "refused")
    assert result.certificate is None and result.tls_versions_accepted is None


def test_a_server_that_never_speaks_is_reachable_with_a_timeout(server):
    started = time.monotonic()
    result = probe(server(misbehaving.silent))
    assert (result.reachable, result.error) == (True, "timeout")
    assert result.starttls_offered is None  # not concluded from silence
    assert time.monotonic() - started < 8


def test_a_trickling_server_is_cut_off_by_the_deadline(server):
    started = time.monotonic()
    result = probe(server(misbehaving.trickle), options=FAST)
    assert result.error == "timeout"
    assert time.monotonic() - started < 8


def test_garbage_is_a_protocol_error(server):
    result = probe(server(misbehaving.garbage), protocol="smtp", security="starttls")
    assert (result.reachable, result.error) == (True, "protocol-error")


def test_an_endless_line_is_a_protocol_error_not_a_memory_hog(server):
    result = probe(server(misbehaving.endless_line))
    assert result.error == "protocol-error"


def test_a_reset_during_the_tls_handshake_is_a_failed_handshake(server):
    result = probe(server(misbehaving.reset_after_hello), protocol="imap", security="ssl")
    assert (result.reachable, result.error) == (True, "tls-handshake-failed")
    assert result.certificate is None


def test_a_name_that_does_not_resolve_is_a_dns_failure():
    result = probe(25, host="no-such-host.invalid")
    assert (result.reachable, result.error) == (False, "dns-failure")


def test_an_old_tls_only_server_is_judged_over_its_old_version(tmp_path):
    legacy = misbehaving.legacy_pop3s(tmp_path)
    try:
        result = probe(
            legacy.port,
            protocol="pop3",
            security="ssl",
            host="old-appliance.example",
            options=ProbeOptions(
                timeout=5, resolve={"old-appliance.example": "127.0.0.1"}, retry_delay=0.05
            ),
        )
    finally:
        legacy.close()
    assert result.error is None, result.error_message
    assert result.tls_version in ("TLSv1", "TLSv1.1")
    assert result.tls_versions_accepted == ("TLSv1", "TLSv1.1")
    assert result.banner == "+OK old appliance ready"
    cert = result.certificate
    assert (cert.subject_cn, cert.hostname_match, cert.trusted) == (
        "old-appliance.example",
        True,
        False,
    )
