"""checks/demo_servers.py's mail responders for bench/load.py, in a process of their own
(so that the bench's own work does not slow them down): reads the servers to run from the
JSON file named by its argument, prints "ready" once every one listens, serves until stdin
closes.

The file: {"directory": where the CA and certificates go, "ports": {"995": 20995, ...}
(the port map, may be empty), "servers": [{"address": "127.0.91.1", "names": [...],
"old": false}, ...]}. A server is the demo's current server (good certificate for its
names, TLS 1.2+, STARTTLS) or, with "old", the demo's old machine (expired certificate,
TLS 1.0/1.1, passwords in the clear).
"""

import asyncio
import dataclasses
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.demo_servers import CURRENT_SERVICES, DEMO_SERVERS, DemoServer, demo_servers_start

OLD = next(server for server in DEMO_SERVERS if server.old_tls)


def server(spec: dict) -> DemoServer:
    names = tuple(spec["names"])
    if spec.get("old"):
        return dataclasses.replace(OLD, address=spec["address"], names=names, cert_names=names)
    return DemoServer(spec["address"], names, names, days_left=365, services=CURRENT_SERVICES)


async def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    ports = {int(port): actual for port, actual in spec["ports"].items()}
    listening = await demo_servers_start(
        Path(spec["directory"]), ports, [server(s) for s in spec["servers"]]
    )
    print("ready", flush=True)
    stdin_closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stdin_closed.set)),
        daemon=True,
    ).start()
    try:
        await stdin_closed.wait()
    finally:
        for listener in listening:
            listener.close()


asyncio.run(main())
