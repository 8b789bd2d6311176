"""Probe speed: 1,000 probes of local TLS endpoints (real Dovecot IMAPS and POP3S,
started by tests/checks/mailservers.py), side by side in one run with

  (a) the ceiling: a bare asyncio loop doing only TLS handshakes on the same
      endpoints, with the same concurrency;
  (b) sslyze scanning the same endpoints for the same facts (certificate,
      host-name match, TLS versions accepted) — what a user would pick instead.
      sslyze is installed only for this benchmark, in its own virtualenv:
      python3 -m venv var/sslyze-venv && var/sslyze-venv/bin/pip install sslyze

    .venv/bin/python bench/probe_speed.py [--probes 1000] [--sslyze-scans 20]

Handshakes are counted the same way for (a) and the probe: completed TLS
handshakes. A probe of an implicit-TLS endpoint that accepts TLS 1.2 and 1.3
makes three (the main exchange, then one per accepted version; the refused
TLS 1.0/1.1 attempts fail inside the handshake and are not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.probes import Endpoint, ProbeOptions, probe_many  # noqa: E402
from tests.checks.mailservers import running_mail_servers  # noqa: E402

CONCURRENCY = 50
SSLYZE_PYTHON = ROOT / "var" / "sslyze-venv" / "bin" / "python"

SSLYZE_SCRIPT = r"""
import json, sys, time
from sslyze import (Scanner, ServerNetworkLocation, ServerScanRequest, ScanCommand,
                    ServerNetworkConfiguration)
targets = json.loads(sys.argv[1])
commands = {ScanCommand.CERTIFICATE_INFO, ScanCommand.TLS_1_0_CIPHER_SUITES,
            ScanCommand.TLS_1_1_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES,
            ScanCommand.TLS_1_3_CIPHER_SUITES}
requests = [
    ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=name, port=port, ip_address=ip),
        network_configuration=ServerNetworkConfiguration(tls_server_name_indication=name),
        scan_commands=commands,
    )
    for name, ip, port in targets
]
scanner = Scanner()
started = time.perf_counter()
scanner.queue_scans(requests)
done = 0
for result in scanner.get_results():
    done += result.scan_result is not None
print(json.dumps({"scans": done, "seconds": time.perf_counter() - started}))
"""


async def bare_handshakes(targets: list[tuple[str, int]], count: int) -> float:
    """Seconds for `count` TLS handshakes (connect, handshake, close), CONCURRENCY at a time."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(ip: str, port: int) -> None:
        async with semaphore:
            _reader, writer = await asyncio.open_connection(
                ip, port, ssl=context, server_hostname="mail.new.example"
            )
            writer.transport.abort()

    started = time.perf_counter()
    await asyncio.gather(*(one(*targets[i % len(targets)]) for i in range(count)))
    return time.perf_counter() - started


def run_probes(endpoints: list[Endpoint], options: ProbeOptions) -> tuple[float, list]:
    started = time.perf_counter()
    results = asyncio.run(
        probe_many(endpoints, options, total=CONCURRENCY, per_address=CONCURRENCY)
    )
    return time.perf_counter() - started, results


def run_sslyze(targets: list[tuple[str, str, int]]) -> dict | None:
    if not SSLYZE_PYTHON.exists():
        return None
    done = subprocess.run(
        [str(SSLYZE_PYTHON), "-c", SSLYZE_SCRIPT, json.dumps(targets)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--sslyze-scans", type=int, default=20)
    args = parser.parse_args()

    with running_mail_servers() as servers:
        services = [("imaps", "imap"), ("pop3s", "pop3")]
        addresses = [(servers.address("good", s), protocol) for s, protocol in services]
        name = servers.cert_name
        options = ProbeOptions(resolve={name: addresses[0][0][0]}, ca_file=str(servers.ca_file))
        endpoints = [
            Endpoint(name, addresses[i % 2][0][1], addresses[i % 2][1], "ssl")
            for i in range(args.probes)
        ]
        probe_seconds, results = run_probes(endpoints, options)
        handshakes = sum(1 + len(r.tls_versions_accepted or ()) for r in results if r.error is None)
        failed = sum(r.error is not None for r in results)
        bare_seconds = asyncio.run(bare_handshakes([a for a, _ in addresses], handshakes))
        sslyze = run_sslyze(
            [
                (name, addresses[i % 2][0][0], addresses[i % 2][0][1])
                for i in range(args.sslyze_scans)
            ]
        )

    probe_rate = args.probes / probe_seconds
    probe_hs = handshakes / probe_seconds
    bare_hs = handshakes / bare_seconds
    print(f"{args.probes} probes on {os.cpu_count()} cores, concurrency {CONCURRENCY}")
    print("| what | count | seconds | per second |\n|---|---|---|---|")
    print(
        f"| bare asyncio TLS handshakes (ceiling) | {handshakes} | {bare_seconds:.1f} | {bare_hs:.0f} handshakes |"
    )
    print(
        f"| portal probe, full result | {args.probes} | {probe_seconds:.1f} | {probe_rate:.1f} endpoints, {probe_hs:.0f} handshakes |"
    )
    if sslyze:
        sslyze_rate = sslyze["scans"] / sslyze["seconds"]
        print(
            f"| sslyze (certificate + TLS 1.0–1.3) | {sslyze['scans']} | {sslyze['seconds']:.1f} | {sslyze_rate:.2f} endpoints |"
        )
        print(f"\nprobe vs sslyze: {probe_rate / sslyze_rate:.0f}× the endpoints per second")
    else:
        print("\nsslyze not run (install it in var/sslyze-venv)")
    print(f"probe vs ceiling: {100 * probe_hs / bare_hs:.0f} % of the handshakes per second")
    if failed:
        print(f"({failed} probes failed)")


if __name__ == "__main__":
    main()
