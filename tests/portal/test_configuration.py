"""Configuration traps: where mailed links point (PORTAL_URL), what `make run` derives
from HOST and PORT, and production refusing to start with links nobody can open."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from portal.deployment import portal_url_problem

PROJECT = Path(settings.BASE_DIR)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://portal.example.jp", None),
        ("http://192.0.2.10:8080", None),
        ("http://[2001:db8::10]:8000", None),
        ("", "PORTAL_URL must be set"),
        ("http://127.0.0.1:8000", "names this machine itself"),
        ("http://127.0.0.2/", "names this machine itself"),
        ("http://localhost:8000", "names this machine itself"),
        ("http://[::1]:8000", "names this machine itself"),
        ("http://0.0.0.0:8000", "names this machine itself"),
        ("portal.example.jp", "is not an http(s) address"),
    ],
)
def test_which_portal_addresses_reach_the_portal(url, problem):
    found = portal_url_problem(url)
    assert found is None if problem is None else problem in found


def environment(**values) -> dict[str, str]:
    """This test run's environment with the production settings module and `values`
    (None removes a variable)."""
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "portal.settings"}
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def load_wsgi(**values) -> subprocess.CompletedProcess:
    """Load the web application as gunicorn and runserver do."""
    return subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"],
        cwd=PROJECT,
        env=environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "ImproperlyConfigured: PORTAL_URL must be set when DEBUG is off"),
        ("http://127.0.0.1:8000", "ImproperlyConfigured: PORTAL_URL=http://127.0.0.1:8000 names this machine itself"),
    ],
)  # fmt: skip
def test_production_web_server_refuses_to_start_without_a_public_portal_url(url, message):
    started = load_wsgi(DEBUG="false", PORTAL_URL=url)
    assert started.returncode != 0
    assert message in started.stderr


def test_production_web_server_starts_with_a_public_portal_url():
    started = load_wsgi(DEBUG="false", PORTAL_URL="https://portal.example.jp")
    assert started.returncode == 0, started.stderr


def test_development_serves_on_this_machine():
    started = load_wsgi(DEBUG="true", PORTAL_URL=None)
    assert started.returncode == 0, started.stderr


def test_management_commands_still_run_without_portal_url():
    """Migrations and collectstatic run in build steps that have no PORTAL_URL."""
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT,
        env=environment(DEBUG="false", PORTAL_URL=None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr


def test_a_production_worker_refuses_to_start_with_a_loopback_portal_url(tmp_path):
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo",
         "-Q", "refused-worker", "--without-mingle", "--without-gossip"],
        cwd=PROJECT,
        env=environment(DEBUG="false", PORTAL_URL="http://localhost:8000"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        output, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode != 0
    assert "ImproperlyConfigured: PORTAL_URL=http://localhost:8000 names this machine" in output


def allowed_hosts(**values) -> str:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)"],
        cwd=PROJECT, env=environment(**values), capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip


def test_the_portal_answers_at_the_address_its_links_name():
    assert "192.0.2.7" in allowed_hosts(
        DEBUG="true", PORTAL_URL="http://192.0.2.7:8123", ALLOWED_HOSTS=None
    )
    assert "192.0.2.7" not in allowed_hosts(
        DEBUG="true", PORTAL_URL="http://192.0.2.7:8123", ALLOWED_HOSTS="portal.example.jp"
    )


@pytest.fixture
def make_run_dir(tmp_path):
    """The real Makefile in a folder whose programs only note the PORTAL_URL they got."""
    (tmp_path / "Makefile").write_text((PROJECT / "Makefile").read_text())
    for made_from in ("pyproject.toml", "setup.py", "checks/evidence/_fastread.pyx"):
        (tmp_path / made_from).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / made_from).write_text("")  # what the install is made from
    (tmp_path / ".env").write_text("DEBUG=true\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for program in ("python", "celery"):
        script = bin_dir / program
        script.write_text(f'#!/bin/sh\necho "{program} PORTAL_URL=$PORTAL_URL" >> "$0.log"\n')
        script.chmod(0o755)
    # The web server runs last, in the foreground: it waits until the worker and beat,
    # started in the background just before, have noted theirs (else make's exit trap
    # may stop them first on a busy machine).
    (bin_dir / "python").write_text(
        '#!/bin/sh\necho "python PORTAL_URL=$PORTAL_URL" >> "$0.log"\n'
        'case "$*" in *runserver*) for _ in $(seq 200); do\n'
        '  [ "$(cat "$(dirname "$0")/celery.log" 2>/dev/null | wc -l)" -ge 2 ] && break\n'
        "  sleep 0.1; done;; esac\n"
    )
    installed = tmp_path / ".venv" / ".installed"
    installed.write_text("")
    later = time.time() + 60
    os.utime(installed, (later, later))
    return tmp_path


def make_run(folder: Path, *args: str, **values) -> str:
    subprocess.run(
        ["make", "-s", "run", *args],
        cwd=folder,
        env=environment(**values),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return (folder / ".venv" / "bin" / "python.log").read_text()


def test_make_run_derives_portal_url_from_host_and_port(make_run_dir):
    log = make_run(make_run_dir, "HOST=192.0.2.7", "PORT=8123", PORTAL_URL=None)
    assert set(log.splitlines()) == {"python PORTAL_URL=http://192.0.2.7:8123"}
    worker = (make_run_dir / ".venv" / "bin" / "celery.log").read_text()
    assert set(worker.splitlines()) == {"celery PORTAL_URL=http://192.0.2.7:8123"}


def test_make_run_keeps_a_portal_url_that_is_set(make_run_dir):
    log = make_run(make_run_dir, "PORT=8123", PORTAL_URL="https://portal.example.jp")
    assert set(log.splitlines()) == {"python PORTAL_URL=https://portal.example.jp"}


def test_make_run_keeps_the_portal_url_of_dot_env(make_run_dir):
    (make_run_dir / ".env").write_text(
        'DEBUG=true\nPORTAL_URL="https://from-env-file.example.jp"\n'
    )
    log = make_run(make_run_dir, "PORT=8123", PORTAL_URL=None)
    assert set(log.splitlines()) == {"python PORTAL_URL=https://from-env-file.example.jp"}
