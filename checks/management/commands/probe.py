"""python manage.py probe HOST PORT --protocol P --security S [--resolve HOST:IP]
[--ca-file PATH] [--timeout SECONDS] [--json]

Exit status 0 whatever the endpoint did; non-zero only for bad arguments. It connects
where a sweep would (no internal address but the registered servers'), to each --resolve
address, and on the port it is given.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from checks.probes import (
    PROTOCOLS,
    SECURITIES,
    Endpoint,
    ProbeResult,
    probe_endpoint,
    result_cleaned,
)
from checks.sweep import probe_options


def resolve_argument(text: str) -> tuple[str, str]:
    host, sep, address = text.rpartition(":")
    if not sep or not host or not address:
        raise CommandError(f"--resolve {text}: use HOST:IP, e.g. mail.example.jp:127.0.0.1")
    return host.lower(), address.strip("[]")


class Command(BaseCommand):
    help = "Probe one mail endpoint: reachability, STARTTLS, TLS versions, certificate."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("host")
        parser.add_argument("port", type=int)
        parser.add_argument("--protocol", required=True, choices=PROTOCOLS)
        parser.add_argument("--security", required=True, choices=SECURITIES)
        parser.add_argument("--resolve", action="append", default=[], metavar="HOST:IP")
        parser.add_argument("--ca-file", type=Path, help="CA bundle added to the system store")
        parser.add_argument("--timeout", type=float, help="seconds for each connection (10)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["port"] <= 65535:
            raise CommandError(f"port {options['port']}: use a number from 1 to 65535")
        probe = probe_options()
        resolve = dict(probe.resolve) | dict(resolve_argument(r) for r in options["resolve"])
        # The port is the operator's own choice; where the host name leads is not.
        probe = replace(probe, resolve=resolve, ports=probe.ports | {options["port"]})
        if options["ca_file"] is not None:
            if not options["ca_file"].is_file():
                raise CommandError(f"--ca-file {options['ca_file']}: no such file")
            probe = replace(probe, ca_file=str(options["ca_file"]))
        if options["timeout"] is not None:
            if not 0 < options["timeout"] <= 300:
                raise CommandError("--timeout: use a number of seconds above 0 and up to 300")
            probe = replace(probe, timeout=options["timeout"])
        endpoint = Endpoint(
            options["host"].lower(), options["port"], options["protocol"], options["security"]
        )
        # Cleaned as stored: a hostile server's escape sequences never reach the terminal.
        result = result_cleaned(asyncio.run(probe_endpoint(endpoint, probe)))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(report(result))


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "n/a"}[value]


def report(result: ProbeResult) -> str:
    lines = [
        f"{result.host}:{result.port}  {result.protocol.upper()} / {result.security}",
        f"  reachable          {_yes(result.reachable)}",
        f"  result             {'OK' if result.error is None else result.error + ': ' + (result.error_message or '')}",
        f"  banner             {result.banner or '-'}",
        f"  STARTTLS offered   {_yes(result.starttls_offered)}",
        f"  TLS                {result.tls_version or '-'} {result.cipher or ''}".rstrip(),
        "  TLS versions       "
        + (
            ", ".join(result.tls_versions_accepted)
            if result.tls_versions_accepted is not None
            else "n/a"
        ),
        f"  password before TLS {_yes(result.plaintext_auth_before_tls)}",
    ]
    cert = result.certificate
    if cert is None:
        lines.append("  certificate        none")
    else:
        lines += [
            f"  certificate        CN={cert.subject_cn or '-'}; names: {', '.join(cert.sans) or '-'}",
            f"    issuer           {cert.issuer}",
            f"    valid            {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d} "
            f"({cert.days_left} days left{', EXPIRED' if cert.expired else ''})",
            f"    trusted          {_yes(cert.trusted)}",
            f"    names the host   {_yes(cert.hostname_match)}",
        ]
    lines.append(f"  time               {result.elapsed_ms} ms")
    return "\n".join(lines)
