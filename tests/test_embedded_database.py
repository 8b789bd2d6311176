"""`make run`'s embedded default, SQLite, as it is started: migrate, the demo data, then a
log ingest (its evidence-only recompute). The rest of the suite runs on PostgreSQL; the
findings' SQL is meant for both, and this is where SQLite reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.processes import PROJECT


def manage(tmp_path, *args: str) -> str:
    environment = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "SECRET_KEY": "test",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_make_runs_database_takes_the_demo_and_a_log(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    manage(tmp_path, "load_demo")
    at = datetime.now(ZoneInfo("Asia/Tokyo")) - timedelta(minutes=5)
    log = tmp_path / "mail.log"
    log.write_text(
        f"{at:%b %e %H:%M:%S} mail dovecot: pop3-login: Login: user=<info@aaabb.co.jp>,"
        " method=PLAIN, rip=203.0.113.9, lip=127.0.0.1, lport=110, mpid=1, session=<walk>\n"
    )
    out = manage(tmp_path, "ingest_maillog", str(log), "--source", "demo")
    assert "1 logins recorded for 1 mailboxes" in out
    flags = manage(tmp_path, "export_flags", "--code", "insecure-login-seen")
    assert "info@aaabb.co.jp" in flags
