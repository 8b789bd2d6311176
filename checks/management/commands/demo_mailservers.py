"""python manage.py demo_mailservers [--print-env]: the demo's mail servers on loopback.

`make run` starts it next to the worker; `--print-env` prints the probe settings
that point at these servers, which `make run` adds to .env once. See
checks/demo_servers.py for what each demo server name shows.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checks.demo_servers import DEMO_SERVERS, demo_env, demo_ports, demo_resolve, demo_servers_serve

LOWEST_PORT = min(port for server in DEMO_SERVERS for port in server.services)


def low_ports_allowed() -> bool:
    """Whether this process may listen on the real port numbers (25, 110, ...)."""
    if os.geteuid() == 0:
        return True
    try:
        start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()
    except OSError:
        return False
    return int(start) <= LOWEST_PORT


class Command(BaseCommand):
    help = "Run the demo's mail servers on 127.0.0.11-13 until stopped (for make run)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--print-env",
            action="store_true",
            help="print the .env lines that point the probes at these servers, and exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(settings.VAR_DIR) / "demo-mail"
        if options["print_env"]:
            self.stdout.write("\n".join(demo_env(directory, demo_ports(low_ports_allowed()))))
            return
        elsewhere = sorted(
            name for name, ip in demo_resolve().items() if settings.PROBE_RESOLVE.get(name) != ip
        )
        if elsewhere:
            self.stderr.write(
                "Note: PROBE_RESOLVE does not point the probes at these servers for "
                + ", ".join(elsewhere)
                + " (make run adds the settings to .env)."
            )
        ports = settings.PROBE_PORT_MAP
        if not ports and not low_ports_allowed():
            raise CommandError(
                "Ports below 1024 need root: set PROBE_PORT_MAP (see README, "
                "'The demo's servers'), or add the lines of --print-env to .env."
            )
        self.stdout.write(
            f"Demo mail servers on {', '.join(s.address for s in DEMO_SERVERS)}"
            + (" (ports mapped: PROBE_PORT_MAP)" if ports else "")
            + "; Ctrl-C stops them."
        )
        try:
            asyncio.run(demo_servers_serve(directory, ports, directory / "ready"))
        except OSError as error:
            raise CommandError(f"Cannot listen: {error}") from None
        except KeyboardInterrupt:
            pass
