"""The production stack as deploy/ installs it: Caddy with deploy/Caddyfile, gunicorn,
a worker per queue and beat with the command lines of deploy/systemd/, the environment
of deploy/portal.env.example — read from those files, not copied — against PostgreSQL
and Redis. Checked from outside, over HTTPS, as mail programs and people reach it.

Caddy uses its internal certificate authority instead of ACME (CADDY_CERT_ISSUER) and
high ports; names resolve to 127.0.0.1 in the client, as curl --resolve does.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Customer, MailDomain, ServerName
from accounts.sheets import SheetValues
from checks.models import Sweep
from checks.tasks import sweep_start
from portal.campaigns import lifecycle
from portal.celery import app as celery_app
from portal.models import Campaign, CampaignMailbox, Notice
from portal.tasks import notices_send
from tests.conftest import make_mailbox
from tests.deploy.files import DEPLOY, INSTALLED_AT, env_template, exec_start, unit_directory
from tests.portal.test_autoconfig import REQUEST, RESPONSE
from tests.processes import database_url, wait_for
from tests.smtp_sink import SmtpSink

PROJECT = Path(settings.BASE_DIR)
QUEUES = ("celery", "probing", "campaigns")  # the ones this test's work goes through

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def required(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must run the production stack test)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def caddy() -> str:
    path = shutil.which("caddy")
    if not path:
        required("caddy is not installed (make test installs Debian's caddy as root)")
    return path


@pytest.fixture
def services():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        required("the stack test runs against PostgreSQL (DATABASE_URL)")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        required("the stack test runs against Redis (CELERY_BROKER_URL)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def started(commands: dict[str, list[str]], env: dict[str, str], log_dir: Path):
    processes = {}
    try:
        for name, args in commands.items():
            log = (log_dir / f"{name}.log").open("wb")
            processes[name] = subprocess.Popen(
                args, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        yield processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def logs(log_dir: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}"
        for path in sorted(log_dir.glob("*.log"))
    )


class ResolvedHTTPS(http.client.HTTPSConnection):
    """HTTPS to `host` on 127.0.0.1, with `host` in SNI, the Host header and the
    certificate check (curl --resolve host:port:127.0.0.1)."""

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def https(port: int, ca: Path, host: str, path: str, method="GET", body=None, headers=None):
    context = ssl.create_default_context(cafile=str(ca))
    connection = ResolvedHTTPS(host, port, context=context, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def stack_data() -> Campaign:
    current = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=current)
    customer = Customer.objects.create(
        slug="aaabb", name="株式会社エーエービービー", contact_emails="it@aaabb.co.jp"
    )
    MailDomain.objects.create(customer=customer, domain="aaabb.co.jp", server=current)
    old = SheetValues(
        "pop.hosting.example", 995, "ssl", "pop.hosting.example", 465, "ssl", "smtp-auth"
    )
    make_mailbox(customer, "test01@aaabb.co.jp", old)
    campaign = Campaign.objects.create(
        name="stack", cutover=date(2030, 1, 1), target_codes=["legacy-hostname"], state="running"
    )
    CampaignMailbox.objects.bulk_create(
        CampaignMailbox(campaign=campaign, mailbox=m, customer=m.customer)
        for m in lifecycle.target_mailboxes(campaign).select_related("customer")
    )
    lifecycle.notices_create(campaign, "notice")
    return campaign


def test_the_deployed_stack_serves_https_and_its_workers_do_the_work(caddy, services, tmp_path):
    campaign = stack_data()
    web_port, http_port, https_port, admin_port = (free_port() for _ in range(4))
    static_root = tmp_path / "static"
    template = env_template()
    portal_name = template["ALLOWED_HOSTS"]
    smtp = SmtpSink()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **template,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": f"stack-test-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "WEB_CONCURRENCY": "2",
        "METRICS_TOKEN": "stack-test-token",
        "STATIC_ROOT": str(static_root),
        # The sweep's server: nothing listens there, so each probe is quickly "refused".
        "PROBE_RESOLVE": "mail.hosting.example=127.0.0.11,pop.hosting.example=127.0.0.11",
        "PROBE_RETRY_DELAY": "0.05",
        # Caddy's variables (deploy/README.md): test ports, the internal CA, a storage here.
        "CADDY_HTTP_PORT": str(http_port),
        "CADDY_HTTPS_PORT": str(https_port),
        "CADDY_ADMIN": f"127.0.0.1:{admin_port}",
        "CADDY_CERT_ISSUER": "internal",
        "CADDY_STORAGE": str(tmp_path / "caddy"),
        "PORTAL_UPSTREAM": f"127.0.0.1:{web_port}",
        "PORTAL_STATIC_ROOT": str(static_root),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    assert unit_directory("portal-web.service") == INSTALLED_AT
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT,
        env=env,
        check=True,
        timeout=120,
    )
    web = exec_start("portal-web.service")
    web[web.index("127.0.0.1:8000")] = f"127.0.0.1:{web_port}"
    commands = {
        "gunicorn": web,
        **{
            f"worker-{queue}": exec_start("portal-worker@.service", i=queue, H="stack-test")
            for queue in QUEUES
        },
        "beat": exec_start("portal-beat.service"),
        "caddy": [caddy, "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
    }
    ca = tmp_path / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    celery_app.conf.task_always_eager = False

    with smtp, started(commands, env, tmp_path) as processes:

        def up() -> bool:
            if any(p.poll() is not None for p in processes.values()):
                raise AssertionError("a process stopped:\n" + logs(tmp_path))
            try:
                return ca.exists() and https(https_port, ca, portal_name, "/healthz")[0] < 500
            except OSError:
                return False

        assert wait_for(up, 60), logs(tmp_path)

        # A person: the login page on the portal's name, with its static files.
        status, _headers, body = https(https_port, ca, portal_name, "/accounts/login/")
        assert status == 200, logs(tmp_path)
        assert b'name="password"' in body
        status, _headers, css = https(https_port, ca, portal_name, "/static/portal/portal.css")
        assert status == 200 and css

        # Thunderbird on autoconfig.<domain>, Outlook on autodiscover.<domain>.
        status, _headers, body = https(
            https_port,
            ca,
            "autoconfig.aaabb.co.jp",
            "/mail/config-v1.1.xml?emailaddress=test01%40aaabb.co.jp",
        )
        assert status == 200, logs(tmp_path)
        assert ET.fromstring(body).find(".//incomingServer/hostname").text == (
            "mail.hosting.example"
        )
        status, _headers, body = https(
            https_port,
            ca,
            "autodiscover.aaabb.co.jp",
            "/autodiscover/autodiscover.xml",
            method="POST",
            body=REQUEST.format(email="test01@aaabb.co.jp").encode(),
            headers={"Content-Type": "text/xml"},
        )
        assert status == 200, logs(tmp_path)
        assert ET.fromstring(body).find(f".//{RESPONSE}Server").text == "mail.hosting.example"

        # No certificate for a name the portal does not know.
        for unknown in ("autoconfig.elsewhere.example", "www.aaabb.co.jp"):
            with pytest.raises(ssl.SSLError):
                https(https_port, ca, unknown, "/mail/config-v1.1.xml?emailaddress=a%40b.example")

        # The work: a sweep on the probing queue, a campaign's message on the campaigns queue.
        sweep_start.delay()
        notices_send.delay(campaign.pk)
        assert wait_for(lambda: Sweep.objects.filter(status=Sweep.Status.FINISHED).exists(), 90), (
            logs(tmp_path)
        )
        assert wait_for(lambda: Notice.objects.filter(status="sent").exists(), 60), logs(tmp_path)
        assert [m["to"] for m in smtp.messages] == [["it@aaabb.co.jp"]]
        worker_logs = {q: (tmp_path / f"worker-{q}.log").read_text() for q in QUEUES}
        assert "Task checks.tasks.probe_batch[" in worker_logs["probing"]
        assert "Task portal.tasks.notices_send[" in worker_logs["campaigns"]
        assert "Task portal.tasks.notices_send[" not in worker_logs["probing"]
        assert "Task checks.tasks.probe_batch[" not in worker_logs["campaigns"]

        # Monitoring: every part healthy (workers' heartbeats, beat's ticks, the sweep).
        def healthy() -> bool:
            return https(https_port, ca, portal_name, "/healthz")[0] == 200

        assert wait_for(healthy, 60), https(https_port, ca, portal_name, "/healthz")[2]
        status, _headers, body = https(
            https_port,
            ca,
            portal_name,
            "/metrics",
            headers={"Authorization": "Bearer stack-test-token"},
        )
        assert status == 200
        assert 'portal_campaign_notices{state="sent"} 1.0' in body.decode()
        assert 'portal_worker_heartbeat_age_seconds{queue="probing"}' in body.decode()
        assert https(https_port, ca, portal_name, "/metrics")[0] == 403
