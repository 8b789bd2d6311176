"""A Redis server and a PostgreSQL cluster of the test's own, on loopback ports, that a
test may stop and start again — as an operator's restart, the out-of-memory killer or a
crash would — without touching the machine's servers that other tests use."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest
from django.db import connections

from tests.checks.misbehaving import unused_port

# The server programs (initdb, pg_ctl): Debian's newest, unless POSTGRES_BIN says.
POSTGRES_BIN = Path(
    os.environ.get("POSTGRES_BIN")
    or max(glob.glob("/usr/lib/postgresql/*/bin"), default="/usr/lib/postgresql/bin")
)


def _unavailable(reason: str) -> None:
    """Skip, except on CI (CI=true), where a test that cannot stop its server fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the services tests)", pytrace=False)
    pytest.skip(reason)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class RedisServer:
    """redis-server without persistence, as a broker usually runs: stopped, it forgets
    every queued message (the worst case for the portal)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = unused_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.starts += 1
        log = (self.directory / f"redis-{self.starts}.log").open("wb")
        # No persistence (--save "", no append-only file), as a broker often runs.
        options = f"--port {self.port} --bind 127.0.0.1 --appendonly no --dir {self.directory}"
        self.process = subprocess.Popen(
            ["redis-server", *options.split(), "--save", ""],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: nothing is saved, every connection breaks at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb), trust authentication on 127.0.0.1.
    PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres`
    user and every command runs as that user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = unused_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            self.as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(directory, "postgres", "postgres")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(POSTGRES_BIN / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.directory,
        )
        if done.returncode:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{self.logs()}")

    def initdb(self) -> None:
        options = "-U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync"
        self._run("initdb", "-D", str(self.data), *options.split())

    def start(self) -> None:
        # fsync off: a test's data need not survive a crash of this machine, only of
        # the server, and the machine's disk is shared with other tests.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: "fast" ends every session (as `systemctl restart` does),
        "immediate" kills it without a checkpoint, as a crash would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return _answers(self.port)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    if not (POSTGRES_BIN / "initdb").exists():
        _unavailable(f"no PostgreSQL server programs in {POSTGRES_BIN} (set POSTGRES_BIN)")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        _unavailable("as root, initdb needs runuser and a postgres user (it refuses root)")
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    cluster = PostgresCluster(directory)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            if cluster.running():
                cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def database_alias(url: str, alias: str = "own") -> Iterator[str]:
    """The database at `url` as a Django alias for the test's own reads and writes
    (`Model.objects.using(alias)`), beside the test database that pytest-django made."""
    connections.settings[alias] = connections.configure_settings(
        {"default": environ.Env.db_url_config(url)}
    )["default"]
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
