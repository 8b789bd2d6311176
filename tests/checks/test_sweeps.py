"""Sweeps: which endpoints, one sweep at a time, batches recorded once, alerts mailed once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.interruptions import interruption_record
from accounts.models import Customer, ServerName
from accounts.sheets import SheetValues
from checks import sweep
from checks.findings import open_findings
from checks.models import Endpoint, Event, ProbeResult, Sweep, SweepBatch
from checks.tasks import events_mail, results_purge
from tests.checks import misbehaving
from tests.conftest import login_staff, make_mailbox

LOCAL = "mail.local-test.example"


@pytest.fixture
def local(settings, alpha):
    """One mailbox whose incoming side is a local server that never speaks and whose
    outgoing side is a closed port."""
    settings.PROBE_OFFERED = []
    settings.PROBE_TIMEOUT = 1
    settings.PROBE_RETRY_DELAY = 0.05
    settings.PROBE_ALERT_EMAIL = ["noc@hosting.example"]
    silent = misbehaving.TcpServer(misbehaving.silent)
    closed = misbehaving.unused_port()
    settings.PROBE_RESOLVE = {LOCAL: "127.0.0.1"}
    settings.PROBE_PORTS = [silent.port, closed]
    make_mailbox(
        alpha,
        "info@alpha.example",
        SheetValues(LOCAL, silent.port, "none", LOCAL, closed, "starttls", "smtp-auth"),
    )
    yield silent.port, closed
    silent.close()


def test_endpoints_come_from_current_names_and_from_sheets(db, settings, alpha_mailbox):
    settings.PROBE_OFFERED = ["imap:993:ssl", "smtp:587:starttls"]
    ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="old.hosting.example", status="legacy")

    sweep.endpoints_sync()

    found = {
        (e.host, e.port, e.protocol, e.security, e.in_registry, e.in_sheets)
        for e in Endpoint.objects.all()
    }
    assert found == {
        ("mail.hosting.example", 993, "imap", "ssl", True, False),
        ("mail.hosting.example", 587, "smtp", "starttls", True, False),
        ("mail.hosting.example", 995, "pop3", "ssl", False, True),
        ("mail.hosting.example", 465, "smtp", "ssl", False, True),
    }


def test_a_sweep_probes_every_endpoint_and_records_each_once(
    local, django_capture_on_commit_callbacks
):
    silent_port, closed_port = local
    with django_capture_on_commit_callbacks(execute=True):
        started = sweep.sweep_start()

    started.refresh_from_db()
    assert started.status == "finished"
    assert started.endpoint_count == 2
    results = {r.endpoint.port: r for r in ProbeResult.objects.select_related("endpoint")}
    assert results[silent_port].error == "timeout" and results[silent_port].reachable
    assert results[closed_port].error == "refused" and not results[closed_port].reachable

    # A batch delivered again after it was done changes nothing.
    for batch in SweepBatch.objects.all():
        sweep.sweep_batch_run(batch.pk)
    assert ProbeResult.objects.count() == 2
    assert started.interruptions == []  # nothing stopped it


def test_two_sweeps_never_run_at_once(local):
    first = sweep.sweep_start()  # its batches are not run: it stays running
    assert first.status == "running"
    assert sweep.sweep_start() is None
    assert Sweep.objects.count() == 1


def test_a_stale_sweep_does_not_block_forever(local, settings):
    first = sweep.sweep_start()
    settings.PROBE_SWEEP_STALE_HOURS = 0
    second = sweep.sweep_start()
    first.refresh_from_db()
    assert first.status == "abandoned"
    assert second is not None


def _lease_runs_out(batch):
    """What time does to the batch of a worker that died: its lease and its message age."""
    past = timezone.now() - timedelta(minutes=5)
    SweepBatch.objects.filter(pk=batch.pk).update(lease_until=past, queued_at=past)
    return past


def test_a_batch_leased_to_a_live_worker_is_neither_taken_nor_sent_again(local):
    sweep.sweep_start()  # its batch message is not run
    batch = SweepBatch.objects.get()
    assert sweep.batch_claim(batch.pk) is not None
    assert sweep.batch_claim(batch.pk) is None  # a second delivery leaves it to the first
    SweepBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    assert sweep.batches_reclaim() == 0


def test_a_dead_workers_batch_is_sent_again_and_its_sweep_finishes(
    local, settings, django_capture_on_commit_callbacks
):
    started = sweep.sweep_start()
    batch = SweepBatch.objects.get()
    sweep.batch_claim(batch.pk)  # the worker that then dies
    lease_ran_out = _lease_runs_out(batch)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.batches_reclaim() == 1

    started.refresh_from_db()
    assert started.status == Sweep.Status.FINISHED
    assert ProbeResult.objects.filter(sweep=started).count() == 2  # one per endpoint
    assert SweepBatch.objects.get().claims == 2
    assert sweep.batches_reclaim() == 0
    # Stopped when the dead worker last renewed its lease.
    [interruption] = started.interruption_list()
    assert interruption.reason == "stalled" and interruption.count == 1
    assert interruption.at == lease_ran_out - timedelta(seconds=settings.PROBE_BATCH_LEASE_SECONDS)


def test_a_dead_workers_batch_is_sent_again_once_per_lease(local):
    sweep.sweep_start()
    batch = SweepBatch.objects.get()
    sweep.batch_claim(batch.pk)
    _lease_runs_out(batch)
    assert sweep.batches_reclaim() == 1
    assert sweep.batches_reclaim() == 0  # its message is on its way


def test_a_batch_whose_message_was_lost_unstarted_is_sent_again_when_its_sweep_stands_still(
    local, django_capture_on_commit_callbacks
):
    started = sweep.sweep_start()
    Sweep.objects.update(started_at=timezone.now() - timedelta(minutes=5))
    SweepBatch.objects.update(queued_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.batches_reclaim() == 1

    started.refresh_from_db()
    assert started.status == Sweep.Status.FINISHED
    # Stopped when the sweep last moved: here, its start.
    [interruption] = started.interruption_list()
    assert (interruption.at, interruption.count) == (started.started_at, 1)


def test_a_batch_that_killed_every_worker_it_met_is_given_up_and_its_sweep_ends(
    local, settings, django_capture_on_commit_callbacks
):
    started = sweep.sweep_start()
    batch = SweepBatch.objects.get()
    SweepBatch.objects.filter(pk=batch.pk).update(claims=settings.PROBE_BATCH_CLAIMS)
    _lease_runs_out(batch)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.batches_reclaim() == 0

    started.refresh_from_db()
    assert started.status == Sweep.Status.FINISHED
    assert not ProbeResult.objects.exists()
    assert sweep.sweep_start() is not None  # the next sweep is not blocked


def test_alerts_are_mailed_once_per_confirmed_change(local, django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            sweep.sweep_start()

    assert sorted(Event.objects.values_list("kind", flat=True)) == ["unreachable", "unreachable"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["noc@hosting.example"]
    assert "2" in message.subject
    assert LOCAL in message.body
    assert events_mail() == 0  # nothing new: nothing sent
    assert len(mail.outbox) == 1


def test_old_results_are_purged_but_not_the_latest(
    local, settings, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            sweep.sweep_start()
    settings.PROBE_KEEP_DAYS = -1
    assert results_purge() == 2
    assert ProbeResult.objects.count() == 2
    assert all(e.last_result_id for e in Endpoint.objects.all())


def test_run_checks_waits_and_prints_a_summary(transactional_db, local, capsys):
    call_command("run_checks", "--wait", "--max-wait", "60")
    out = capsys.readouterr().out
    assert "2 endpoints" in out
    assert "0 OK" in out
    assert "2 with problems" in out


def test_an_endpoint_leading_inside_is_not_probed_and_never_shown_as_a_bad_server(
    settings, alpha, client, support, django_capture_on_commit_callbacks
):
    settings.PROBE_OFFERED = []
    settings.PROBE_CONFIRM_AFTER = 1
    settings.PROBE_ALERT_EMAIL = ["noc@hosting.example"]
    # A sheet stored before names were checked, naming the portal's own machine.
    mailbox = make_mailbox(
        alpha,
        "info@alpha.example",
        SheetValues("localhost", 995, "ssl", "localhost", 8080, "ssl", "smtp-auth"),
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            sweep.sweep_start()

    results = ProbeResult.objects.select_related("endpoint")
    assert {(r.endpoint.port, r.reachable, r.error) for r in results} == {
        (995, False, "address-not-allowed"),
        (8080, False, "address-not-allowed"),
    }
    assert not Event.objects.exists()  # could not test: no state changes, no alert
    assert len(mail.outbox) == 0
    codes = {(f.side, f.code) for f in open_findings().filter(mailbox=mailbox)}
    assert {("incoming", "endpoint-not-probed"), ("outgoing", "endpoint-not-probed")} <= codes
    assert not {code for _side, code in codes if code == "endpoint-unreachable"}

    login_staff(client, support)
    endpoints = client.get(reverse("endpoint_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert endpoints.count("not probed: address not allowed") == 2
    assert "loopback address that no registered server has" in endpoints
    assert "port 8080 is not one of the mail ports probed" in endpoints
    assert "Problem" not in endpoints
    page = client.get(
        reverse("staff_mailbox", kwargs={"code": mailbox.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Could not test the server" in page
    assert "Server unreachable" not in page


def test_a_registered_servers_internal_address_is_probed(
    local, settings, django_capture_on_commit_callbacks
):
    silent_port, _closed_port = local
    settings.PROBE_RESOLVE = {}  # the name is looked up: "localhost" leads to 127.0.0.1
    ServerName.objects.create(
        hostname="mail.internal.example", status="current", addresses="127.0.0.1"
    )
    make_mailbox(
        Customer.objects.get(slug="alpha"),
        "it@alpha.example",
        SheetValues("localhost", silent_port, "none", "localhost", 465, "ssl", "smtp-auth"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep_start()

    result = ProbeResult.objects.get(endpoint__host="localhost", endpoint__port=silent_port)
    assert (result.reachable, result.error) == (True, "timeout")  # connected: it never speaks


def test_the_endpoints_page_says_when_the_last_sweep_stopped_and_went_on(db, support, client):
    stopped = timezone.now() - timedelta(minutes=3)
    last = Sweep.objects.create(status=Sweep.Status.FINISHED, finished_at=timezone.now())
    interruption_record(Sweep, last.pk, reason="stalled", at=stopped, count=4)
    login_staff(client, support)

    english = client.get(reverse("endpoint_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get(reverse("endpoint_list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "Interrupted and resumed:" in english
    assert "(its worker stopped, or the message broker lost the queued work), went on at" in english
    assert "batches sent again: 4" in english
    assert (
        "中断（処理中のワーカーが止まったか、メッセージブローカーが待機中の処理を失いました）"
        in japanese
    )
    assert "送り直したバッチ: 4" in japanese
