"""The demo's mail servers: each demo server name gives the probe the verdict it is there
to show, and one sweep of the demo fills the findings with a realistic mix."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from accounts.management.commands.load_demo import SERVERS, SHEETS
from checks.demo_servers import (
    DEMO_SERVERS,
    ca_path,
    demo_env,
    demo_ports,
    demo_resolve,
    demo_servers_start,
)
from checks.findings import open_findings
from checks.probes import Endpoint, ProbeOptions, ProbeResult, probe_endpoint
from checks.sweep import sweep_start

PORTS = sorted({port for server in DEMO_SERVERS for port in server.services})


@pytest.fixture(scope="module")
def demo_servers(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The responders in a thread of their own, on high ports through a port map (no root
    needed, and no clash with a demo running on this machine)."""
    directory = tmp_path_factory.mktemp("demo-mail")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    for _attempt in range(10):
        base = random.randrange(20000, 60000, 100)
        ports = {port: base + n for n, port in enumerate(PORTS)}
        try:
            listening = asyncio.run_coroutine_threadsafe(
                demo_servers_start(directory, ports), loop
            ).result(30)
            break
        except OSError:
            continue
    else:
        pytest.fail("no free ports for the demo's servers")
    yield SimpleNamespace(ports=ports, ca_file=str(ca_path(directory)))
    for listener in listening:
        loop.call_soon_threadsafe(listener.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def probe(demo_servers, host: str, port: int, protocol: str, security: str) -> ProbeResult:
    options = ProbeOptions(
        timeout=5,
        retry_delay=0.1,
        resolve=demo_resolve(),
        port_map=demo_servers.ports,
        ca_file=demo_servers.ca_file,
    )
    return asyncio.run(probe_endpoint(Endpoint(host, port, protocol, security), options))


def what_a_probe_shows(result: ProbeResult) -> dict:
    """The facts a demo server name is there to show, in words."""
    cert = result.certificate
    if cert is None:
        certificate = None
    elif not cert.trusted:
        certificate = "untrusted"
    elif not cert.hostname_match:
        certificate = "names another server"
    elif cert.expired:
        certificate = "expired"
    elif cert.days_left <= 30:
        certificate = "expires soon"
    else:
        certificate = "good"
    versions = result.tls_versions_accepted
    return {
        "error": result.error,
        "certificate": certificate,
        "tls": None if not versions else ("1.2+" if "TLSv1.2" in versions else "1.0/1.1 only"),
        "password before TLS": result.plaintext_auth_before_tls,
    }


GOOD = {"error": None, "certificate": "good", "tls": "1.2+", "password before TLS": None}
GOOD_STARTTLS = {**GOOD, "password before TLS": False}
NO_TLS_TRIED = {"error": None, "certificate": None, "tls": None, "password before TLS": False}
OLD_TLS = {**GOOD, "certificate": "expired", "tls": "1.0/1.1 only"}
OLD_PLAIN = {"error": None, "certificate": None, "tls": None, "password before TLS": True}


EXPIRING = {**GOOD, "certificate": "expires soon"}
OTHER_NAME = {**GOOD, "certificate": "names another server"}
NO_TLS_AT_ALL = {**GOOD, "error": "tls-handshake-failed", "certificate": None, "tls": None}
NOT_SMTP = {**OTHER_NAME, "error": "protocol-error", "tls": None}


@pytest.mark.parametrize(
    ("host", "port", "protocol", "security", "expected"),
    [
        ("mail.hosting.example", 995, "pop3", "ssl", GOOD),
        ("mail.hosting.example", 993, "imap", "ssl", GOOD),
        ("mail.hosting.example", 465, "smtp", "ssl", GOOD),
        ("mail.hosting.example", 110, "pop3", "starttls", GOOD_STARTTLS),
        ("mail.hosting.example", 143, "imap", "starttls", GOOD_STARTTLS),
        ("mail.hosting.example", 587, "smtp", "starttls", GOOD_STARTTLS),
        # A sheet without TLS on the current server: it offers STARTTLS, passwords only after.
        ("mail.hosting.example", 110, "pop3", "none", NO_TLS_TRIED),
        ("mail.hosting.example", 25, "smtp", "none", NO_TLS_TRIED),
        ("mail2.hosting.example", 993, "imap", "ssl", EXPIRING),
        (
            "mail2.hosting.example",
            587,
            "smtp",
            "starttls",
            {**EXPIRING, "password before TLS": False},
        ),
        ("pop.hosting.example", 995, "pop3", "ssl", OLD_TLS),
        ("smtp.hosting.example", 465, "smtp", "ssl", OLD_TLS),
        ("pop.hosting.example", 110, "pop3", "none", OLD_PLAIN),
        ("smtp.hosting.example", 25, "smtp", "none", OLD_PLAIN),
        ("mail.aaabb.co.jp", 993, "imap", "ssl", OTHER_NAME),
        # The seed's sample sheet: implicit TLS to the SMTP port, SMTP to the POP3S port.
        ("mail.aaabb.co.jp", 587, "pop3", "ssl", NO_TLS_AT_ALL),
        ("mail.aaabb.co.jp", 995, "smtp", "ssl", NOT_SMTP),
    ],
)
def test_each_demo_name_shows_what_it_is_there_for(
    demo_servers, host, port, protocol, security, expected
):
    assert what_a_probe_shows(probe(demo_servers, host, port, protocol, security)) == expected


def test_the_old_server_offers_no_imap(demo_servers):
    result = probe(demo_servers, "pop.hosting.example", 993, "imap", "ssl")
    assert (result.reachable, result.error) == (False, "refused")


def test_every_server_name_of_the_demo_has_a_demo_server():
    registry = {row["hostname"] for row in csv.DictReader(io.StringIO(SERVERS))}
    sheets = {
        row[side]
        for row in csv.DictReader(io.StringIO(SHEETS))
        for side in ("incoming_host", "outgoing_host")
    }
    assert registry | sheets <= set(demo_resolve())


def test_the_env_lines_point_the_probes_at_the_demo_servers(tmp_path):
    lines = demo_env(tmp_path, demo_ports(low_ports_allowed=True))
    settings = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert settings["PROBE_CA_FILE"] == str(tmp_path / "ca.pem")
    assert "mail.aaabb.co.jp=127.0.0.11" in settings["PROBE_RESOLVE"].split(",")
    assert "PROBE_PORT_MAP" not in settings

    mapped = demo_env(tmp_path, demo_ports(low_ports_allowed=False))
    assert "PROBE_PORT_MAP=25=10025,110=10110,143=10143,465=10465,587=10587,993=10993,995=10995" in mapped  # fmt: skip


def test_make_run_adds_the_env_lines_once(tmp_path):
    """The Makefile looks for the lines' first comment before adding them again."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    marker = re.search(r'grep -q "\^(# [^"]+)" \.env', makefile).group(1)
    assert demo_env(tmp_path, {})[0].startswith(marker)


def test_the_command_prints_the_env_lines(capsys):
    call_command("demo_mailservers", "--print-env")
    output = capsys.readouterr().out
    assert "PROBE_RESOLVE=mail.hosting.example=127.0.0.11," in output
    assert "PROBE_CA_FILE=" in output and "demo-mail/ca.pem" in output


def test_the_port_map_setting_reaches_the_probe(db, settings):
    from checks.sweep import probe_options

    settings.PROBE_PORT_MAP = {995: 10995}
    assert probe_options().port_map == {995: 10995}


def demo_sweep(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_start() is not None


def findings_by_mailbox() -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for finding in open_findings().select_related("mailbox"):
        found.setdefault(finding.mailbox.email, set()).add((finding.side, finding.code))
    return found


def test_one_sweep_of_the_demo_shows_a_realistic_mix(
    db, demo_servers, settings, django_capture_on_commit_callbacks, capsys
):
    settings.PROBE_RESOLVE = demo_resolve()
    settings.PROBE_PORT_MAP = demo_servers.ports
    settings.PROBE_CA_FILE = demo_servers.ca_file
    settings.PROBE_CONFIRM_AFTER = 2
    call_command("load_demo")

    demo_sweep(django_capture_on_commit_callbacks)

    found = findings_by_mailbox()
    # The clinic on the second server: only the certificate that expires soon.
    assert found["reception@sato-clinic.example"] == {
        ("incoming", "cert-expiring"),
        ("outgoing", "cert-expiring"),
    }
    # Fixed by staff: on the current server with SSL, nothing to do.
    assert "info@aaabb.co.jp" not in found
    # The old machine behind the legacy names.
    assert found["taro@yamada-shoten.example"] >= {
        ("incoming", "legacy-hostname"),
        ("incoming", "cert-expired"),
        ("incoming", "tls-outdated"),
        ("outgoing", "cert-expired"),
        ("outgoing", "tls-outdated"),
    }
    assert ("incoming", "plaintext-auth-exposed") in found["order@yamada-shoten.example"]
    # Without TLS on the current server: the sheet's port, not the server, is the problem.
    assert found["shop@yamada-shoten.example"] == {
        ("incoming", "plaintext-port"),
        ("outgoing", "plaintext-port"),
    }
    # The customer's own domain name: the certificate does not name it.
    assert ("outgoing", "cert-name-mismatch") in found["test01@aaabb.co.jp"]
    codes = {code for findings in found.values() for _side, code in findings}
    assert "cert-untrusted" not in codes
    # A server that cannot be used is confirmed by the next sweep, not by the first.
    assert "endpoint-unreachable" not in codes

    demo_sweep(django_capture_on_commit_callbacks)

    unreachable = {
        (email, side)
        for email, findings in findings_by_mailbox().items()
        for side, code in findings
        if code == "endpoint-unreachable"
    }
    assert unreachable == {("test01@aaabb.co.jp", "incoming"), ("test01@aaabb.co.jp", "outgoing")}

    call_command("export_flags", "--code", "cert-expiring")
    assert "reception@sato-clinic.example,incoming,cert-expiring,medium" in capsys.readouterr().out
