"""Real Celery processes for tests: a worker (and beat) on the test database and the
configured broker, listening on a queue of their own so that no other worker on
this machine can take the test's tasks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(settings.BASE_DIR)


def database_url() -> str:
    """The URL of the database the running test uses."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Running:
    queue: str
    processes: list[subprocess.Popen]


@contextlib.contextmanager
def celery(
    *commands: str, log_dir: Path, env: dict[str, str] | None = None, queue: str | None = None
) -> Iterator[Running]:
    """Start `celery -A portal <command>` for each command ("worker", "beat"); yields the
    queue they use and the processes; stops them at the end."""
    queue = queue or f"test-{uuid.uuid4().hex}"
    environment = os.environ | {
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_QUEUE": queue,
        **(env or {}),
    }
    processes = []
    try:
        for command in commands:
            args = [sys.executable, "-m", "celery", "-A", "portal", command, "-l", "INFO"]
            if command == "worker":
                args += ["--pool=solo", "-Q", queue, "--without-mingle", "--without-gossip"]
            if command == "beat":
                args += ["--schedule", str(log_dir / "beat-schedule"), "--max-interval", "1"]
            log = (log_dir / f"{command}-{uuid.uuid4().hex[:6]}.log").open("wb")
            processes.append(
                # A process group of its own: a test can kill it whole (os.killpg), as an
                # out-of-memory killer or a reboot would.
                subprocess.Popen(
                    args,
                    cwd=PROJECT,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a group of its own, for kill_group
                )
            )
        yield Running(queue, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and all its children, as the out-of-memory killer or a
    reboot would: nothing gets to clean up or give its message back."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def logs(log_dir: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
        for path in log_dir.glob("*.log")
    )


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False
