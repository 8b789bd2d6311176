"""Fixtures for the checks tests: real Dovecot and Postfix servers (see mailservers.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from .mailservers import (
    MailServers,
    MailServersStartError,
    MailServersUnavailable,
    ensure_installed,
    running_mail_servers,
)


def _unavailable(reason: str) -> None:
    """Skip, except on CI (CI=true), where missing mail servers are a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"test mail servers unavailable (CI=true): {reason}", pytrace=False)
    pytest.skip(f"test mail servers unavailable: {reason}")


def _running(**options) -> Iterator[MailServers]:
    """running_mail_servers(**options), installing the Debian packages first when missing
    (as root, through install-mailservers.sh); skipped when they cannot run."""
    # pytest.skip/fail are called outside the except blocks: no chained traceback in the report.
    unavailable = failed = None
    stack = contextlib.ExitStack()
    try:
        ensure_installed()
        servers = stack.enter_context(running_mail_servers(**options))
    except MailServersUnavailable as exc:
        unavailable = str(exc)
    except MailServersStartError as exc:
        failed = str(exc)
    if unavailable is not None:
        _unavailable(unavailable)
    if failed is not None:
        pytest.fail(f"test mail servers did not start: {failed}", pytrace=False)
    with stack:
        yield servers


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Dovecot (POP3, IMAP) and Postfix (SMTP) for the cases good, expired, selfsigned, plain.

    ``mail_servers.address(case, service) -> (host, port)``; ``mail_servers.ca_file`` is the
    test CA and ``mail_servers.cert_name`` ("mail.new.example") the certificates' name.
    """
    yield from _running()


@pytest.fixture(scope="module")
def legacy_tls_mail_servers() -> Iterator[MailServers]:
    """The same servers (on other ports), whose TLS services also accept TLS 1.0 and 1.1
    as an old server does; for the few tests that need it."""
    yield from _running(legacy_tls=True)
