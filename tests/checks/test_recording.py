"""One hostile server never stops monitoring: what servers send is cleaned before it is
stored, each result is stored on its own, and a sweep's batches always finish."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from accounts.sheets import SheetValues
from checks import sweep
from checks.models import Endpoint, Event, ProbeResult, Sweep
from checks.probes import BANNER_LENGTH, ISSUER_LENGTH, MAX_SANS, NAME_LENGTH, CertificateInfo
from checks.probes import ProbeResult as ProbeOutcome
from checks.recording import results_record
from checks.tasks import sweep_start
from portal.celery import app as celery_app
from tests.checks import misbehaving
from tests.conftest import login_staff, make_mailbox
from tests.processes import celery, logs, wait_for

HOSTILE, NORMAL = "mail.hostile.example", "mail.normal.example"


def unsafe(text):
    """The characters no column or terminal should get: controls, DEL, anything unprintable."""
    return [ch for ch in text if not ch.isprintable()]


@pytest.fixture
def servers(settings, alpha, tmp_path):
    """A hostile and a normal implicit-TLS POP3 server, each used by a mailbox."""
    hostile = misbehaving.hostile_pop3s(tmp_path)
    cert, key = misbehaving.self_signed(tmp_path, NORMAL)
    normal = misbehaving.pop3s(cert, key, b"+OK normal server ready")
    settings.PROBE_OFFERED = []
    settings.PROBE_TIMEOUT = 5
    settings.PROBE_RETRY_DELAY = 0.05
    settings.PROBE_RESOLVE = {HOSTILE: "127.0.0.1", NORMAL: "127.0.0.1"}
    settings.PROBE_PORTS = [hostile.port, normal.port]
    for name, server in ((HOSTILE, hostile), (NORMAL, normal)):
        make_mailbox(
            alpha,
            f"info@{name}",
            SheetValues(name, server.port, "ssl", name, server.port, "ssl", "smtp-auth"),
        )
    yield hostile.port, normal.port
    hostile.close()
    normal.close()


def test_a_sweep_over_a_hostile_server_finishes_with_both_results_cleaned(
    servers, django_capture_on_commit_callbacks, client, support
):
    with django_capture_on_commit_callbacks(execute=True):
        started = sweep.sweep_start()

    started.refresh_from_db()
    assert started.status == Sweep.Status.FINISHED
    assert started.batch_count == 1  # all in one batch, whose insert one hostile value failed
    assert all(e.last_result for e in Endpoint.objects.all())  # the outgoing sides too
    incoming = Endpoint.objects.filter(protocol="pop3").select_related("last_result")
    latest = {e.host: e.last_result for e in incoming}
    assert set(latest) == {HOSTILE, NORMAL}
    assert latest[NORMAL].error == "", latest[NORMAL].error_message
    assert latest[NORMAL].banner == "+OK normal server ready"

    hostile = latest[HOSTILE]
    assert hostile.error == "", hostile.error_message
    assert hostile.banner.startswith("+OK") and "hostile" in hostile.banner
    assert not unsafe(hostile.banner) and len(hostile.banner) <= BANNER_LENGTH
    certificate = hostile.certificate
    assert "\ufffd" in certificate["subject_cn"]  # what was there shows, harmlessly
    assert not unsafe(certificate["subject_cn"]) and len(certificate["subject_cn"]) <= NAME_LENGTH
    assert len(certificate["sans"]) == MAX_SANS
    assert certificate["sans"][0] == "mail.hostile.example\ufffd.evil.example"
    assert not any(unsafe(name) for name in certificate["sans"])
    assert not unsafe(certificate["issuer"]) and len(certificate["issuer"]) <= ISSUER_LENGTH
    assert hostile.cert_hostname_match is False  # judged on the names as sent

    login_staff(client, support)
    page = client.get(
        reverse("endpoint_detail", kwargs={"code": hostile.endpoint.code}),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "mail.hostile.example\ufffd.evil.example" in page
    assert "\x1b" not in page and "\x00" not in page


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_finishes_a_sweep_over_a_hostile_server(servers, tmp_path):
    hostile_port, normal_port = servers
    celery_app.conf.task_always_eager = False
    env = {
        "PROBE_RESOLVE": f"{HOSTILE}=127.0.0.1,{NORMAL}=127.0.0.1",
        "PROBE_PORTS": f"{hostile_port},{normal_port}",
        "PROBE_RETRY_DELAY": "0.05",
    }
    with celery("worker", log_dir=tmp_path, env=env) as running:
        sweep_start.apply_async(queue=running.queue)
        finished = wait_for(lambda: Sweep.objects.filter(status=Sweep.Status.FINISHED).exists(), 60)

    assert finished, logs(tmp_path)
    results = ProbeResult.objects.filter(endpoint__protocol="pop3").select_related("endpoint")
    banners = {r.endpoint.host: r.banner for r in results}
    assert banners[NORMAL] == "+OK normal server ready"
    assert banners[HOSTILE] == "+OK \ufffd\ufffd[31mhostile\ufffd ready\ufffd"


def outcome(host, **changes):
    return replace(ProbeOutcome(host, 995, "pop3", "ssl", True, banner="+OK ready"), **changes)


def test_a_result_the_database_refuses_costs_only_that_endpoint_its_result(db):
    good = Endpoint.objects.create(host=NORMAL, port=995, protocol="pop3", security="ssl")
    bad = Endpoint.objects.create(host=HOSTILE, port=995, protocol="pop3", security="ssl")

    rows = results_record(
        {bad.pk: outcome(HOSTILE, elapsed_ms=-1), good.pk: outcome(NORMAL)},  # -1: refused
        sweep=None,
        at=timezone.now(),
    )

    assert [row.endpoint_id for row in rows] == [good.pk]
    assert ProbeResult.objects.get().endpoint == good
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.last_result is not None and bad.last_result is None


def test_a_batch_whose_results_cannot_be_recorded_still_finishes_its_sweep(
    servers, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise DatabaseError("the database is having a bad day")

    monkeypatch.setattr(sweep, "results_record", broken)
    with django_capture_on_commit_callbacks(execute=True):
        started = sweep.sweep_start()

    started.refresh_from_db()
    assert (started.status, started.batches_done) == (Sweep.Status.FINISHED, 1)
    assert not ProbeResult.objects.exists()


def test_a_change_to_many_long_certificate_names_is_recorded_with_a_capped_detail(db, settings):
    settings.PROBE_CONFIRM_AFTER = 1
    endpoint = Endpoint.objects.create(host=HOSTILE, port=995, protocol="pop3", security="ssl")
    endpoint.state = {"working": True, "cert_names": [HOSTILE]}
    endpoint.save()
    now = timezone.now()
    names = tuple(f"{'n' * 200}{i}.hostile.example" for i in range(100))
    certificate = CertificateInfo(
        subject_cn=HOSTILE,
        sans=names,
        issuer="CN=Hostile CA",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=90),
        days_left=89,
        expired=False,
        trusted=False,
        hostname_match=False,
    )

    results_record({endpoint.pk: outcome(HOSTILE, certificate=certificate)}, sweep=None, at=now)

    event = Event.objects.get(endpoint=endpoint)
    assert event.kind == "cert-names"
    assert event.detail.startswith(f"{HOSTILE} → {names[0]}")
    assert len(event.detail) == Event._meta.get_field("detail").max_length
