"""python manage.py probe: one JSON object with the documented keys, exit 0 whatever
the endpoint did, non-zero only for bad arguments."""

import json
import subprocess
import sys

import pytest
from django.conf import settings

from tests.checks import misbehaving
from tests.processes import database_url

KEYS = [
    "host", "port", "protocol", "security", "reachable", "error", "error_message", "banner",
    "starttls_offered", "tls_version", "cipher", "tls_versions_accepted", "certificate",
    "plaintext_auth_before_tls", "elapsed_ms",
]  # fmt: skip
CERT_KEYS = {"subject_cn", "sans", "issuer", "not_before", "not_after", "days_left", "expired",
             "trusted", "hostname_match"}  # fmt: skip


@pytest.fixture(autouse=True)
def database(db):
    """The command reads the registry (its servers' addresses may be probed): the test's."""


def probe(*args):
    return subprocess.run(
        [sys.executable, "manage.py", "probe", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "SECRET_KEY": "x",
            "PATH": "/usr/bin:/bin",
            "PROBE_RETRY_DELAY": "0.05",
            "DATABASE_URL": database_url(),
        },
    )


def test_a_closed_port_prints_one_json_object_and_exits_0():
    port = misbehaving.unused_port()
    done = probe(
        "closed.example", str(port), "--protocol", "smtp", "--security", "starttls",
        "--resolve", "closed.example:127.0.0.1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == KEYS
    assert result["reachable"] is False
    assert result["error"] == "refused"
    assert result["certificate"] is None


def test_an_old_server_is_reported_with_its_certificate(tmp_path):
    server = misbehaving.legacy_pop3s(tmp_path)
    try:
        done = probe(
            "old-appliance.example", str(server.port), "--protocol", "pop3", "--security", "ssl",
            "--resolve", "old-appliance.example:127.0.0.1", "--json",
        )  # fmt: skip
    finally:
        server.close()
    result = json.loads(done.stdout)
    assert set(result["certificate"]) == CERT_KEYS
    assert result["certificate"]["hostname_match"] is True
    assert result["tls_versions_accepted"] == ["TLSv1", "TLSv1.1"]


def test_the_readable_report_names_the_problem():
    port = misbehaving.unused_port()
    done = probe(
        "closed.example", str(port), "--protocol", "pop3", "--security", "none",
        "--resolve", "closed.example:127.0.0.1",
    )  # fmt: skip
    assert done.returncode == 0
    assert "refused" in done.stdout
    assert "reachable          no" in done.stdout


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "169.254.169.254"])
def test_an_internal_address_is_not_probed_without_an_explicit_resolve(host):
    done = probe(host, "25", "--protocol", "smtp", "--security", "starttls", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["reachable"], result["error"]) == (False, "address-not-allowed")
    assert "address" in result["error_message"]


@pytest.mark.parametrize(
    "args",
    [
        ["h.example", "993", "--protocol", "smtp2", "--security", "ssl"],
        ["h.example", "993", "--protocol", "imap", "--security", "tls"],
        ["h.example", "99999", "--protocol", "imap", "--security", "ssl"],
        ["h.example", "x", "--protocol", "imap", "--security", "ssl"],
        ["h.example", "993", "--protocol", "imap", "--security", "ssl", "--resolve", "nocolon"],
        ["h.example", "993", "--protocol", "imap", "--security", "ssl", "--ca-file", "/nope"],
        ["h.example", "993", "--protocol", "imap", "--security", "ssl", "--timeout", "0"],
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(args):
    done = probe(*args)
    assert done.returncode != 0
    assert done.stderr.strip()
