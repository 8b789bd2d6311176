"""Everything at once (issue 15): customers browsing, staff on the findings dashboard and
search, a sweep of about 1,000 endpoints and a 10,000-notice campaign, all on one machine
against gunicorn (two workers), a Celery worker with two processes and beat, PostgreSQL
and Redis, started with the command lines of deploy/systemd/ and the environment of
deploy/portal.env.example.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load \\
           CELERY_BROKER_URL=redis://127.0.0.1:6379/2      # a Redis database of its own
    .venv/bin/python bench/load.py          # --customers 50 --staff 5 --endpoints 1000 --notices 10000

The database is created and migrated when missing; `generate_mailboxes` fills it
(100,000 mailboxes of 20,001 customers unless told otherwise; --keep-data reuses them).
Then, each in a process group of its own, stopped at the end however the script ends:
the SMTP sink (bench/smtp_sink_process.py), the mail servers the sweep probes
(checks/demo_servers.py's responders on 127.0.91.x, bench/responders_process.py),
gunicorn, the worker (every queue), beat. The people log in through the login form
(staff with a TOTP code computed from their device's key, as their app would), browse for a
warm-up, then one staff member presses "Sweep now" and launches the campaign (its
confirmation page, then the POST) and the browsing is measured until the sweep and the
campaign are both done, and at least --duration seconds.

Customers: home (redirected to their customer) → a mailbox of theirs → the guide's program
choice → a program (POST) → its guide → "I have changed my settings" (POST, CSRF) → the
guide again, with --think seconds (on average) between pages. Staff: the findings
dashboard (first page, a code, a customer, a second page) and searches. Each request is
timed from connect to the last byte of the answer; any other status than the page's own
(200, or the redirect it makes) or any exception is an error. gunicorn's access log
gives the server's own time of each request for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.files import env_template, exec_start, unit_setting  # noqa: E402

HOST = "portal.bench.example"
RESPONDERS = "127.0.91."  # the probed servers' addresses: 127.0.91.1 ...
OLD_SERVER = "127.0.92.1"  # the old machine behind the legacy names
PORT_OFFSET = 20000  # the responders listen on 20000 + each mail port
QUEUES = "celery,probing,campaigns"
WORK = ROOT / "var" / "bench-load"
PASSWORD = "bench-load-" + secrets.token_urlsafe(12)


def environment_check() -> tuple[str, str]:
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (created when missing)")
    if not broker.startswith("redis://"):
        raise SystemExit("set CELERY_BROKER_URL to a Redis database of its own")
    return database, broker


def database_ensure(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


DATABASE_URL, BROKER_URL = environment_check()
database_ensure(DATABASE_URL)
# Everything this script starts shares one strong key (production refuses a weak one) and
# the production environment; the script itself uses the same settings.
BASE_ENV = {
    **os.environ,
    **env_template(),
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "PYTHONPATH": str(ROOT),  # this tree's code, wherever the script is run from
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "PORTAL_URL": f"https://{HOST}",
    "ALLOWED_HOSTS": HOST,
    "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
    "WEB_CONCURRENCY": "2",
    "CAMPAIGN_RATE_PER_MINUTE": "1000000",  # rate limit off, as bench/campaign_speed.py
    "EMAIL_URL": "smtp://127.0.0.1:1",  # until the sink's port is known
}
BASE_ENV.pop("CELERY_QUEUE", None)  # production's queues and routes
os.environ.update(BASE_ENV)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_celery_beat.models import PeriodicTask  # noqa: E402
from django_otp.oath import totp  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.models import Customer, Mailbox, Membership, ServerName  # noqa: E402
from accounts.roles import SUPPORT_GROUP  # noqa: E402
from checks.findings import findings_recompute, open_findings  # noqa: E402
from checks.models import ProbeResult, Sweep  # noqa: E402
from checks.sweep import offered, offered_endpoints, sheet_endpoints  # noqa: E402
from portal.campaigns.lifecycle import SHEET_CODES  # noqa: E402
from portal.celery import app as celery_app  # noqa: E402
from portal.guides.catalog import CATALOG  # noqa: E402
from portal.models import Campaign, Notice  # noqa: E402

# Data


def data_prepare(args: argparse.Namespace) -> None:
    synthetic = Mailbox.objects.filter(customer__slug__startswith="synthetic-")
    if not args.keep_data or synthetic.count() != args.mailboxes:
        call_command(
            "generate_mailboxes",
            mailboxes=args.mailboxes,
            customers=args.customer_count,
            unregistered_names=2,  # names nobody registered; probed like the others
            no_findings=True,
        )
    Campaign.objects.all().delete()
    Sweep.objects.filter(status=Sweep.Status.RUNNING).update(
        status=Sweep.Status.ABANDONED, finished_at=timezone.now()
    )
    # Beat's hourly sweep would start one of its own as soon as it starts.
    PeriodicTask.objects.filter(task="checks.tasks.sweep_start").update(last_run_at=timezone.now())
    ServerName.objects.filter(hostname__endswith=".bench.example").delete()
    wanted = args.endpoints - len(offered_endpoints() | sheet_endpoints())
    ServerName.objects.bulk_create(
        ServerName(
            hostname=f"mail{n:03d}.bench.example",
            status=ServerName.Status.CURRENT,
            addresses=responder_address(n, args),
            note="bench/load.py",
        )
        for n in range(1, max(0, math.ceil(wanted / len(offered()))) + 1)
    )
    findings_recompute(force=True)


def responder_address(n: int, args: argparse.Namespace) -> str:
    return f"{RESPONDERS}{n % args.responders + 1}"


def probe_targets(args: argparse.Namespace) -> tuple[dict[str, str], list[dict]]:
    """PROBE_RESOLVE (every name the sweep will probe, so that nothing is asked of DNS)
    and the responders to run."""
    names = {host for host, _port, _protocol, _security in offered_endpoints() | sheet_endpoints()}
    resolve, servers = {}, defaultdict(list)
    old = {"pop.hosting.example", "smtp.hosting.example"}
    for n, name in enumerate(sorted(names - old)):
        resolve[name] = responder_address(n, args)
        servers[resolve[name]].append(name)
    for name in sorted(names & old):
        resolve[name] = OLD_SERVER
    specs = [{"address": a, "names": n} for a, n in sorted(servers.items())]
    specs.append({"address": OLD_SERVER, "names": sorted(names & old), "old": True})
    return resolve, specs


def people_make(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The customers' people (one customer each) and the support staff, with one password
    hash for all (made once: hashing is what a login pays for, not set-up)."""
    User = get_user_model()
    User.objects.filter(username__startswith="bench-load-").delete()
    hashed = make_password(PASSWORD)
    ids = list(
        Customer.objects.filter(slug__startswith="synthetic-").order_by("pk").values_list("pk")
    )
    step = max(1, len(ids) // max(1, args.customers))
    customers = Customer.objects.in_bulk([pk for (pk,) in ids[::step][: args.customers]])
    people = []
    for n, customer in enumerate(customers.values(), start=1):
        user = User.objects.create(username=f"bench-load-customer-{n:02d}", password=hashed)
        Membership.objects.create(user=user, customer=customer)
        people.append((user.username, customer.slug))
    support = Group.objects.get_or_create(name=SUPPORT_GROUP)[0]
    staff = []
    for n in range(1, args.staff + 1):
        user = User.objects.create(username=f"bench-load-staff-{n}", password=hashed, is_staff=True)
        user.groups.add(support)
        device = TOTPDevice.objects.create(user=user, name="bench app", confirmed=True)
        staff.append((user.username, device.key))
    return people, staff


def campaign_prepare(args: argparse.Namespace) -> Campaign:
    """A draft campaign about --notices customers that have something to change (one
    notice each); staff launch it during the run."""
    campaign = Campaign.objects.create(
        name="bench/load.py", cutover=date.today() + timedelta(days=60)
    )
    customers = (
        Mailbox.objects.filter(
            pk__in=open_findings().filter(code__in=SHEET_CODES).values("mailbox")
        )
        .values_list("customer_id", flat=True)
        .distinct()
        .order_by("customer_id")[: args.notices]
    )
    campaign.target_customers.add(*customers)
    if campaign.target_customers.count() < args.notices:
        raise SystemExit(f"only {campaign.target_customers.count()} customers to notify")
    return campaign


# Processes


class Processes:
    """Started each in a process group of its own, so that stopping takes their children
    too; `stop` ends them all, however the script ends."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
        log = (WORK / f"{name}.log").open("wb")
        kwargs.setdefault("stdout", log)
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stderr=kwargs.pop("stderr", log),
            start_new_session=True,
            **kwargs,
        )
        self.running[name] = process
        return process

    def check(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} stopped ({process.returncode}): see {WORK}/{name}.log")

    def stop(self, name: str, seconds: float = 30) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        if process.stdin:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the sink writes what it got, the responders stop
        with contextlib.suppress(ProcessLookupError):
            if process.stdin is None:
                os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(seconds)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its group
        process.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):  # the sink last: workers may still send
            self.stop(name)


def log_has(name: str, text: str) -> bool:
    path = WORK / f"{name}.log"
    return path.exists() and text in path.read_text(errors="replace")


def wait_until(condition, seconds: float, what: str, processes: Processes) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        processes.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {seconds:.0f} s (logs in {WORK})")
        time.sleep(0.5)


# The people's browsers


@dataclass
class Request:
    who: str  # "customer" or "staff"
    kind: str
    started: float  # time.monotonic()
    ms: float
    error: str = ""


@dataclass
class Record:
    requests: list[Request] = field(default_factory=list)
    measure_from: float = math.inf  # requests started earlier are the warm-up

    def add(self, request: Request) -> None:
        self.requests.append(request)  # list.append is atomic

    def measured(self) -> list[Request]:
        return [r for r in self.requests if r.started >= self.measure_from]


class Unexpected(Exception):
    pass


class Browser:
    """One person's browser: its cookies, the CSRF token of the last form it was shown,
    a new connection per request (gunicorn's sync workers close each one), behind the
    TLS proxy as Caddy forwards it."""

    CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, who: str, n: int, port: int, record: Record, language: str) -> None:
        self.who, self.port, self.record = who, port, record
        self.client = f"10.{1 if who == 'customer' else 2}.0.{n}"
        self.language = language
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.referer = f"https://{HOST}/"

    def request(
        self, kind: str, method: str, path: str, form: dict | None = None, expect: int = 200
    ) -> tuple[str, str]:
        """(body, Location); records the time and raises Unexpected on another status."""
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client,
            "Accept-Language": self.language,
            "User-Agent": "bench/load.py",
            # For gunicorn's access log: warm-up or measured, and what this request is.
            "X-Bench-Kind": f"{'m' if time.monotonic() >= self.record.measure_from else 'w'}:"
            f"{self.who}:{kind}".replace(" ", "_"),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urlencode({**(form or {}), "csrfmiddlewaretoken": self.csrf})
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{HOST}",
                "Referer": self.referer,
            }
        started = time.monotonic()
        error = ""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            finally:
                connection.close()
            if response.status != expect:
                error = f"{response.status} for {method} {path}"
        except OSError as problem:
            error = f"{type(problem).__name__}: {problem} for {method} {path}"
        self.record.add(
            Request(self.who, kind, started, (time.monotonic() - started) * 1000, error)
        )
        if error:
            raise Unexpected(error)
        for morsel in SimpleCookie(
            "\n".join(v for k, v in response.getheaders() if k.lower() == "set-cookie")
        ).values():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[morsel.key] = morsel.value
            else:
                self.cookies.pop(morsel.key, None)
        if token := self.CSRF.search(text):
            self.csrf = token.group(1)
        if method == "GET":
            self.referer = f"https://{HOST}{path}"
        return text, response.getheader("Location", "")

    def login(self, username: str, device_key: str | None = None) -> None:
        self.request("login page", "GET", "/accounts/login/")
        form = {"username": username, "password": PASSWORD}
        self.request("login", "POST", "/accounts/login/", form, 302)
        if device_key is not None:  # staff: the second factor, from the app's key
            self.request("two-factor page", "GET", "/accounts/two-factor/?next=/staff/")
            code = f"{totp(bytes.fromhex(device_key)):06d}"
            self.request(
                "two-factor", "POST", "/accounts/two-factor/?next=/staff/", {"code": code}, 302
            )


class Stopped(Exception):
    """The run is over: no further request (all sessions at once would be a burst)."""


def pause(think: float, rng: random.Random, stop: threading.Event) -> None:
    if think > 0:
        stop.wait(rng.uniform(0.5 * think, 1.5 * think))
    if stop.is_set():
        raise Stopped


def customer_browse(browser: Browser, slug: str, think: float, stop: threading.Event) -> None:
    rng = random.Random(browser.client)
    clients = list(CATALOG)
    mailbox_link = re.compile(rf'href="/c/{re.escape(slug)}/m/([0-9a-f-]{{36}})/"')
    while not stop.is_set():
        try:
            _text, home = browser.request("home (redirect)", "GET", "/", expect=302)
            text, _ = browser.request("customer home", "GET", urlsplit(home).path)
            code = rng.choice(mailbox_link.findall(text))
            mailbox = f"/c/{slug}/m/{code}/"
            pause(think, rng, stop)
            browser.request("mailbox", "GET", mailbox)
            pause(think, rng, stop)
            browser.request("guide: program choice", "GET", f"{mailbox}guide/")
            pause(think, rng, stop)
            _text, guide = browser.request(
                "guide: program chosen (POST)",
                "POST",
                f"{mailbox}guide/",
                {"client": rng.choice(clients)},
                302,
            )
            browser.request("guide", "GET", urlsplit(guide).path)
            pause(think, rng, stop)
            _text, back = browser.request(
                "confirm (POST)", "POST", f"{mailbox}confirm/", expect=302
            )
            browser.request("guide", "GET", urlsplit(back).path)
        except (Unexpected, IndexError):
            pass  # recorded; a person would start again
        except Stopped:
            return
        with contextlib.suppress(Stopped):
            pause(think, rng, stop)


def staff_browse(browser: Browser, think: float, stop: threading.Event) -> None:
    rng = random.Random(browser.client)
    customers = Customer.objects.filter(slug__startswith="synthetic-").count()
    mailboxes = Mailbox.objects.count()
    connection.close()  # this thread's; the loop below only speaks HTTP
    pages = [
        ("findings dashboard", lambda: "/staff/findings/"),
        ("findings: one code", lambda: "/staff/findings/?code=legacy-hostname"),
        ("findings: page 2", lambda: "/staff/findings/?page=2"),
        (
            "findings: one customer",
            lambda: f"/staff/findings/?customer=synthetic-{rng.randint(1, customers):06d}",
        ),
        ("search", lambda: f"/staff/?q=user{rng.randint(1, mailboxes)}"),
        ("search", lambda: f"/staff/?q=c{rng.randint(1, customers - 1)}.example"),
        ("search", lambda: f"/staff/?q=synthetic-{rng.randint(1, customers):06d}"),
        (
            "search",
            lambda: "/staff/?" + urlencode({"q": f"株式会社サンプル{rng.randint(1, customers)}"}),
        ),
    ]
    while not stop.is_set():
        kind, path = rng.choice(pages)
        with contextlib.suppress(Unexpected):
            browser.request(kind, "GET", path())
        with contextlib.suppress(Stopped):
            pause(think, rng, stop)


def operator_start(browser: Browser, campaign: Campaign) -> None:
    """A staff member presses "Sweep now" and launches the campaign."""
    browser.request("endpoints page", "GET", "/staff/endpoints/")
    browser.request("sweep now (POST)", "POST", "/staff/endpoints/sweep/", expect=302)
    launch = f"/staff/campaigns/{campaign.code}/launch/"
    browser.request("campaign launch: confirmation page", "GET", launch)
    browser.request("campaign launch (POST)", "POST", launch, {"at": ""}, 302)


# Figures


KIND_ORDER = [
    "home (redirect)",
    "customer home",
    "mailbox",
    "guide: program choice",
    "guide: program chosen (POST)",
    "guide",
    "confirm (POST)",
    "findings dashboard",
    "findings: one code",
    "findings: page 2",
    "findings: one customer",
    "search",
    "endpoints page",
    "sweep now (POST)",
    "campaign launch: confirmation page",
    "campaign launch (POST)",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def row(label: str, times: list[float], errors: int, server: list[float]) -> str:
    """One line of the table: the people's times, then gunicorn's own for the same."""
    if not times:
        return f"| {label} | 0 | | | | | | | {errors} |"
    inside = f"{percentile(server, 50):.0f} | {percentile(server, 95):.0f}" if server else " | "
    return (
        f"| {label} | {len(times):,} | {percentile(times, 50):.0f} | {percentile(times, 95):.0f}"
        f" | {percentile(times, 99):.0f} | {max(times):.0f} | {inside} | {errors} |"
    )


def server_times() -> dict[str, list[float]]:
    """gunicorn's own time of each measured request (the access log's %(M)s), by kind."""
    times = defaultdict(list)
    for line in (WORK / "gunicorn.log").read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "bench" and parts[1].startswith("m:"):
            times[parts[1][2:]].append(float(parts[2]))
    return times


TICK = os.sysconf("SC_CLK_TCK")
PARTS = {
    "gunicorn": "gunicorn",
    "worker": "Celery worker",
    "beat": "Celery beat",
    "responders": "bench: the probed mail servers",
    "smtp-sink": "bench: the SMTP sink",
}


def processes_cpu() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (process group, name, CPU seconds so far)."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                text = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue  # gone meanwhile
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            found[int(entry.name)] = (
                int(fields[2]),
                name,
                (int(fields[11]) + int(fields[12])) / TICK,
            )
    return found


def machine_busy() -> float:
    """CPU seconds the machine's cores have spent not idle, since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n")[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


class CpuMeter:
    """Where the cores' time goes during the measured part: each process this script
    started (by process group), the database's connections, Redis, the script itself
    (the people's browsers), and what is left: everything else on the machine."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = {pgid: PARTS.get(name, name) for name, pgid in groups.items()}
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.busy: list[float] = []
        self.started = False

    def sample(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            database = {pid for (pid,) in cursor.fetchall()}
        self.busy.append(machine_busy())
        for pid, (group, name, seconds) in processes_cpu().items():
            if group in self.groups:
                part = self.groups[group]
            elif pid in database:
                part = "PostgreSQL (this database's connections)"
            elif pid == os.getpid():
                part = "bench: the people's browsers (this script)"
            elif name == "redis-server":
                part = "Redis (the whole server, shared)"
            else:
                continue
            if not self.started:
                self.first[pid] = seconds
            self.last[pid] = (part, seconds)
        self.started = True

    def parts(self) -> dict[str, float]:
        used = defaultdict(float)
        for pid, (part, seconds) in self.last.items():
            used[part] += seconds - self.first.get(pid, 0.0)
        return dict(used)

    def machine(self) -> float:
        return self.busy[-1] - self.busy[0]


@dataclass
class Background:
    load: list[float] = field(default_factory=list)
    sweep: Sweep | None = None
    campaign_done_at: float | None = None
    sweep_done_at: float | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50, help="customer sessions")
    parser.add_argument("--staff", type=int, default=5, help="staff sessions")
    parser.add_argument("--endpoints", type=int, default=1000, help="the sweep's size")
    parser.add_argument("--notices", type=int, default=10_000, help="the campaign's size")
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--customer-count", type=int, default=20_001, help="customers in all")
    parser.add_argument("--responders", type=int, default=40, help="probed server addresses")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between pages")
    parser.add_argument("--warmup", type=float, default=15, help="seconds before measuring")
    parser.add_argument("--duration", type=float, default=60, help="least seconds measured")
    parser.add_argument("--timeout", type=float, default=900, help="most seconds measured")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's (default: a free one)")
    parser.add_argument("--keep-data", action="store_true", help="reuse generated mailboxes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn's workers")
    parser.add_argument("--web-threads", type=int, default=1, help="threads per web worker")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=int(unit_setting("portal-worker@.service", "Nice", "0")),
        help="the worker's niceness (default: its unit's Nice=)",
    )
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob("*.log"):
        old.unlink()
    load_at_start = os.getloadavg()
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    data_prepare(args)
    people, staff = people_make(args)
    campaign = campaign_prepare(args)
    with connection.cursor() as cursor:
        # Tables and statistics as autovacuum keeps them on a database in use, the draft
        # campaign's target included (this machine runs PostgreSQL with autovacuum off,
        # and earlier runs leave dead rows behind).
        cursor.execute("VACUUM ANALYZE")
    resolve, responders = probe_targets(args)
    celery_app.control.purge()  # a stopped run's leftovers
    connection.close()
    print(
        f"data ready in {time.monotonic() - started:.0f} s: {Mailbox.objects.count():,} mailboxes,"
        f" {len(resolve)} probed names on {len(responders)} addresses",
        file=sys.stderr,
        flush=True,
    )

    processes = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    stop = threading.Event()
    record = Record()
    threads: list[threading.Thread] = []
    try:
        sink = processes.start(
            "smtp-sink",
            [sys.executable, str(ROOT / "bench" / "smtp_sink_process.py"), str(WORK / "sink.json")],
            BASE_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        smtp_port = int(sink.stdout.readline())
        mail_ports = {*settings.PROBE_PORTS, *(port for _p, port, _s in offered())}
        ports = {port: PORT_OFFSET + port for port in sorted(mail_ports)}
        (WORK / "responders.json").write_text(
            json.dumps({"directory": str(WORK / "mail"), "ports": ports, "servers": responders})
        )
        responder = processes.start(
            "responders",
            [
                sys.executable,
                str(ROOT / "bench" / "responders_process.py"),
                str(WORK / "responders.json"),
            ],
            BASE_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if responder.stdout.readline().strip() != "ready":
            raise SystemExit(f"the responders did not start: see {WORK}/responders.log")
        env = BASE_ENV | {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "PROBE_RESOLVE": ",".join(f"{name}={ip}" for name, ip in resolve.items()),
            "PROBE_CA_FILE": str(WORK / "mail" / "ca.pem"),
            "PROBE_PORT_MAP": ",".join(f"{a}={b}" for a, b in ports.items()),
            "WEB_CONCURRENCY": str(args.web_workers),
        }
        web = exec_start("portal-web.service")
        port = args.port or free_port()
        web[web.index("127.0.0.1:8000")] = f"127.0.0.1:{port}"
        # The server's own time of each request, with the bench's label for it.
        web += ["--access-logformat", "bench %({x-bench-kind}i)s %(M)s"]
        if args.web_threads > 1:
            web += ["--threads", str(args.web_threads)]
        processes.start("gunicorn", web, env)
        worker = exec_start("portal-worker@.service", i=QUEUES, H="bench-load")
        processes.start("worker", ["nice", "-n", str(args.worker_nice), *worker], env)
        processes.start("beat", exec_start("portal-beat.service"), env)
        wait_until(lambda: healthz(port) is not None, 60, "gunicorn answering", processes)
        wait_until(lambda: log_has("worker", " ready."), 90, "the worker ready", processes)

        # Log in (not measured): customers, then staff with their second factor.
        browsers = []
        for n, (username, slug) in enumerate(people, start=1):
            browser = Browser("customer", n, port, record, "ja" if n % 2 else "en")
            browsers.append((browser, username, None, slug))
        for n, (username, key) in enumerate(staff, start=1):
            browser = Browser("staff", n, port, record, "ja")
            browsers.append((browser, username, key, None))
        login_at = time.monotonic()
        login_threads = [
            threading.Thread(target=b.login, args=(u, k), daemon=True) for b, u, k, _s in browsers
        ]
        for thread in login_threads:
            thread.start()
        for thread in login_threads:
            thread.join()
        logins = time.monotonic() - login_at
        login_errors = [r for r in record.requests if r.error]
        if login_errors:
            raise SystemExit(f"logins failed: {login_errors[:3]}")
        operator = browsers[len(people)][0]

        for browser, _username, key, slug in browsers:
            if key is None:
                target, targs = customer_browse, (browser, slug, args.think, stop)
            else:
                target, targs = staff_browse, (browser, args.think, stop)
            threads.append(threading.Thread(target=target, args=targs, daemon=True))
        for thread in threads:
            thread.start()
        print(f"logged in ({logins:.0f} s); warming up", file=sys.stderr, flush=True)
        time.sleep(args.warmup)

        # Measure: the sweep and the campaign start now.
        load_at_t0 = os.getloadavg()
        record.measure_from = t0 = time.monotonic()
        t0_db = timezone.now()
        meter = CpuMeter({name: p.pid for name, p in processes.running.items()})
        meter.sample()
        operator_start(operator, campaign)
        background = Background()
        notices = Notice.objects.filter(campaign=campaign)
        last_print = 0.0
        while True:
            processes.check()
            now = time.monotonic()
            background.load.append(os.getloadavg()[0])
            meter.sample()
            sweep = Sweep.objects.filter(started_at__gte=t0_db).order_by("pk").first()
            if sweep and sweep.status == Sweep.Status.FINISHED and not background.sweep_done_at:
                background.sweep_done_at = now
            waiting = notices.filter(status__in=[Notice.Status.PENDING, Notice.Status.SENDING])
            # Its notices appear once a worker has started the campaign.
            if background.campaign_done_at is None and notices.exists() and not waiting.exists():
                background.campaign_done_at = now
            done = background.sweep_done_at and background.campaign_done_at
            if now - last_print > 10:
                last_print = now
                print(
                    f"{now - t0:4.0f} s: load {background.load[-1]:.1f}, sweep"
                    f" {sweep.batches_done if sweep else 0}/{sweep.batch_count if sweep else '?'}"
                    f" batches, notices sent {notices.filter(status='sent').count():,}",
                    file=sys.stderr,
                    flush=True,
                )
            if not all(thread.is_alive() for thread in threads):
                raise SystemExit("a session stopped (see above)")
            if (done and now - t0 >= args.duration) or now - t0 >= args.timeout:
                break
            time.sleep(2)
        meter.sample()
        measured_seconds = time.monotonic() - t0
        stop.set()
        for thread in threads:
            thread.join(90)
        background.sweep = sweep
    finally:
        stop.set()
        processes.stop_all()

    # Figures
    requests = record.measured()
    with (WORK / "requests.csv").open("w") as raw:  # each request, for a closer look
        raw.write("who,kind,seconds_after_start,ms,error\n")
        for r in requests:
            raw.write(f'{r.who},"{r.kind}",{r.started - t0:.3f},{r.ms:.1f},"{r.error}"\n')
    sink_data = json.loads((WORK / "sink.json").read_text())
    report(
        args, requests, background, campaign, sink_data, server_times(), measured_seconds, meter,
        load_at_start, load_at_t0, logins, len(resolve), time.monotonic() - started
    )  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthz(port: int) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz", headers={"Host": HOST})
        return connection.getresponse().status
    except OSError:
        return None


def report(
    args, requests, background, campaign, sink_data, server, seconds, meter, load_start, load_t0,
    logins, names, total
) -> None:  # fmt: skip
    by_kind: dict[tuple[str, str], list[Request]] = defaultdict(list)
    for request in requests:
        by_kind[(request.who, request.kind)].append(request)
    print(
        f"gunicorn with {args.web_workers} workers of {args.web_threads} thread(s), the Celery"
        f" worker at nice {args.worker_nice};"
        f" {args.customers} customer and {args.staff} staff sessions, think {args.think:g} s;"
        f" {seconds:.0f} s measured after {args.warmup:g} s warm-up; load average"
        f" {load_start[0]:.2f} at the start, {load_t0[0]:.2f} when measuring began,"
        f" {max(background.load):.1f} at most; {os.cpu_count()} cores"
    )
    print()
    print(
        "| requests | count | p50 ms | p95 ms | p99 ms | max ms | server p50 ms | server p95 ms"
        " | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for who in ("customer", "staff"):
        mine = [r for r in requests if r.who == who]
        kinds = [kind for w, kind in by_kind if w == who]
        for kind in sorted(kinds, key=lambda k: [*KIND_ORDER, k].index(k)):
            items = by_kind[(who, kind)]
            inside = server.get(f"{who}:{kind}".replace(" ", "_"), [])
            errors = sum(bool(r.error) for r in items)
            print(row(f"{who}: {kind}", [r.ms for r in items], errors, inside))
        inside = [t for k, ts in server.items() if k.startswith(f"{who}:") for t in ts]
        errors = sum(bool(r.error) for r in mine)
        print(row(f"**{who}, all**", [r.ms for r in mine], errors, inside))
    print(
        f"\n{len(requests) / seconds:.1f} requests/s. The people's times run from connecting"
        " to the answer's last byte; the server's are gunicorn's own (its access log), from"
        " reading the request to writing the answer: the difference is the wait for a free"
        " web worker."
    )
    errors = [r for r in requests if r.error]
    for request in errors[:10]:
        print(f"- error: {request.who} {request.kind}: {request.error}")

    sweep = background.sweep
    print("\n| background work | size | done | seconds | result |\n|---|---|---|---|---|")
    if sweep:
        results = ProbeResult.objects.filter(sweep=sweep)
        outcome = Counter(results.values_list("error", flat=True))
        took = (
            f"{(sweep.finished_at - sweep.started_at).total_seconds():.0f}"
            if sweep.finished_at
            else "not finished"
        )
        print(
            f"| sweep ({names} names) | {sweep.endpoint_count:,} endpoints | {sweep.status},"
            f" {results.count():,} results | {took} | "
            + ", ".join(f"{code or 'answered'}: {n}" for code, n in outcome.most_common())
            + " |"
        )
    else:
        print("| sweep | | not started | | |")
    notices = Notice.objects.filter(campaign=campaign)
    statuses = Counter(notices.values_list("status", flat=True))
    prefix = f"<campaign-{campaign.pk}."
    ids = Counter(m for m, _session in sink_data["messages"] if m.startswith(prefix))
    sent_ids = set(notices.filter(status="sent").values_list("message_id", flat=True))
    last = notices.aggregate(last=Max("sent_at"))["last"]
    campaign.refresh_from_db()
    took = (last - campaign.started_at).total_seconds() if last and campaign.started_at else 0
    print(
        f"| campaign | {notices.count():,} notices | {statuses.get('sent', 0):,} sent,"
        f" {sum(ids.values()):,} delivered"
        f" ({', '.join(f'{s} {n}' for s, n in statuses.items() if s != 'sent') or 'nothing else'})"
        f" | {took:.0f} | {sum(ids.values()) / max(took, 1):.0f} messages/s,"
        f" {sum(n - 1 for n in ids.values())} duplicates, {len(sent_ids - set(ids))} lost |"
    )
    parts = meter.parts()
    cores = os.cpu_count() * seconds
    print(
        f"\n| where the CPU time went (measured part) | CPU seconds | share of {os.cpu_count()} cores |"
    )
    print("|---|---|---|")
    for part, used in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"| {part} | {used:.0f} | {100 * used / cores:.0f} % |")
    others = meter.machine() - sum(parts.values())
    print(f"| everything else on the machine | {others:.0f} | {100 * others / cores:.0f} % |")
    print(f"| the machine, busy | {meter.machine():.0f} | {100 * meter.machine() / cores:.0f} % |")
    print(f"\nLogins: {args.customers + args.staff} in {logins:.0f} s (not measured);"
          f" one full run {total / 60:.1f} min.")  # fmt: skip


if __name__ == "__main__":
    main()
