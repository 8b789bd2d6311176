"""GET /metrics: Prometheus text for a scraper with the token or from an allowed
address, nobody else; the figures come from the database."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from checks.models import Endpoint, Finding, ProbeResult, Sweep
from portal.metrics import task_failure_record

TOKEN = "metrics-token-0123456789"


@pytest.fixture(autouse=True)
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = ["192.0.2.0/24"]


def scrape(**headers):
    return Client().get("/metrics", HTTP_HOST="127.0.0.1:8000", **headers)


def samples(response):
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def test_a_scraper_with_the_token_reads_the_figures(alpha_mailbox):
    now = timezone.now()
    Sweep.objects.create(status=Sweep.Status.FINISHED, finished_at=now)
    Sweep.objects.filter().update(started_at=now - timedelta(seconds=42))
    endpoint = Endpoint.objects.create(
        host="mail.hosting.example", port=995, protocol="pop3", security="ssl", in_registry=True
    )
    expires = now + timedelta(days=20)
    endpoint.last_result = ProbeResult.objects.create(
        endpoint=endpoint, checked_at=now, reachable=True, cert_not_after=expires
    )
    endpoint.save()
    Endpoint.objects.create(host="pop.hosting.example", port=110, protocol="pop3", security="none")
    Finding.objects.create(
        mailbox=alpha_mailbox,
        customer=alpha_mailbox.customer,
        side="incoming",
        code="legacy-hostname",
        severity="high",
        host="pop.hosting.example",
        first_seen=now,
        last_seen=now,
    )
    task_failure_record("portal.tasks.notices_send")

    response = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    figures = samples(response)
    assert figures[("portal_sweep_duration_seconds", ())] == pytest.approx(42, abs=1)
    assert figures[("portal_endpoints", (("state", "working"),))] == 1
    assert figures[("portal_endpoints", (("state", "unknown"),))] == 1
    key = ("portal_findings_open", (("code", "legacy-hostname"), ("severity", "high")))
    assert figures[key] == 1
    assert figures[("portal_campaign_notices", (("state", "sent"),))] == 0
    cert = ("portal_certificate_expiry_timestamp_seconds",
            (("host", "mail.hosting.example"), ("port", "995")))  # fmt: skip
    assert figures[cert] == pytest.approx(expires.timestamp())
    failed = ("portal_task_failures_total", (("task", "portal.tasks.notices_send"),))
    assert figures[failed] == 1
    assert figures[("portal_task_failures_total", (("task", "checks.tasks.sweep_start"),))] == 0


def test_a_scraper_from_an_allowed_address_needs_no_token(db):
    assert scrape(REMOTE_ADDR="192.0.2.9").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": TOKEN},
        {"REMOTE_ADDR": "198.51.100.1"},
    ],
)
def test_anyone_else_is_refused(db, headers):
    response = scrape(**headers)
    assert response.status_code == 403
    assert b"portal_" not in response.content


def test_behind_caddy_the_allow_list_applies_to_the_client_not_the_proxy(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.1"]
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert scrape(**forwarded).status_code == 403


def test_without_a_token_or_addresses_there_are_no_metrics(db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert scrape(HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_every_metric_the_alert_rules_use_is_served(db, settings):
    import re

    rules = (settings.BASE_DIR / "deploy" / "prometheus-alerts.yml").read_text()
    served = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    families = set(re.findall(r"^# TYPE (\w+) (\w+)", served, re.MULTILINE))
    names = {n for n, _t in families} | {f"{n}_total" for n, t in families if t == "counter"}
    used = set(re.findall(r"\bportal_\w+", rules))
    assert used and used <= names, used - names
    for alert in ("PortalSweepStale", "PortalWorkerGone", "MailServerCertificateExpiring"):
        assert f"alert: {alert}" in rules
