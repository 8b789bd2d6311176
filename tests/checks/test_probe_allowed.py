"""Probes connect only to mail ports, and to an internal address only when it is a
registered server's or one given with --resolve / PROBE_RESOLVE: anything else is
"not probed: address not allowed", without a connection."""

import asyncio
import socket
from dataclasses import replace

import pytest

from checks.probes import NOT_ALLOWED, Endpoint, ProbeOptions, address_refusal, probe_endpoint
from tests.checks import misbehaving

FAST = ProbeOptions(timeout=2, connect_timeout=1, read_timeout=1, retries=0)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "reserved"),  # NAT64 around 169.254.169.254
    ],
)
def test_internal_addresses_are_refused(address, kind):
    assert address_refusal(address, FAST) == (
        f"{address} is a {kind} address that no registered server has"
    )


@pytest.mark.parametrize("address", ["8.8.8.8", "133.242.0.1", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(address, FAST) is None


def test_registered_and_resolve_addresses_are_allowed():
    options = ProbeOptions(allowed_addresses=frozenset({"10.0.0.5"}), resolve={"a.example": "::1"})
    assert address_refusal("10.0.0.5", options) is None
    assert address_refusal("0:0::1", options) is None  # any spelling of a --resolve address
    assert address_refusal("10.0.0.6", options) is not None


@pytest.fixture
def counted():
    """A server on 127.0.0.1 that counts the connections it gets."""
    connections = []

    def handle(conn: socket.socket) -> None:
        connections.append(conn)
        conn.sendall(b"+OK ready\r\n")
        while data := conn.recv(1024):
            if data.upper().startswith(b"QUIT"):
                conn.sendall(b"+OK bye\r\n")
                return
            conn.sendall(b"-ERR no\r\n")

    server = misbehaving.TcpServer(handle)
    yield server.port, connections
    server.close()


def probe(host, port, **options):
    options = replace(FAST, ports=frozenset({port}), **options)
    return asyncio.run(probe_endpoint(Endpoint(host, port, "pop3", "none"), options))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "2130706433", "127.1"])
def test_a_name_or_address_leading_to_loopback_is_not_probed(counted, host):
    port, connections = counted
    result = probe(host, port)
    assert (result.reachable, result.error) == (False, NOT_ALLOWED)
    assert "loopback address that no registered server has" in result.error_message
    assert connections == []


def test_a_registered_servers_internal_address_is_probed(counted):
    port, connections = counted
    result = probe("localhost", port, allowed_addresses=frozenset({"127.0.0.1", "::1"}))
    assert (result.reachable, result.error, result.banner) == (True, None, "+OK ready")
    assert len(connections) == 1


def test_a_resolve_entry_is_probed(counted):
    port, connections = counted
    result = probe("mail.test.example", port, resolve={"mail.test.example": "127.0.0.1"})
    assert (result.reachable, result.error) == (True, None)
    assert len(connections) == 1


def test_a_port_that_is_not_a_mail_port_is_not_probed(counted):
    port, connections = counted
    result = asyncio.run(
        probe_endpoint(
            Endpoint("mail.test.example", port, "pop3", "none"),
            ProbeOptions(resolve={"mail.test.example": "127.0.0.1"}),
        )
    )
    assert (result.reachable, result.error) == (False, NOT_ALLOWED)
    assert result.error_message == f"port {port} is not one of the mail ports probed"
    assert connections == []
