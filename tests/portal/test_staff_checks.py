"""Staff endpoint pages: state at a glance (colour and words), history, check now, sweep now."""

import pytest
from django.urls import reverse
from django.utils import timezone

from checks.models import Endpoint, ProbeResult, Sweep
from tests.checks import misbehaving
from tests.conftest import login_staff


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


def result(endpoint, **fields):
    row = ProbeResult.objects.create(
        endpoint=endpoint, checked_at=timezone.now(), **{"reachable": True, **fields}
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(last_result=row)
    return row


GOOD_CERT = {"subject_cn": "mail.hosting.example", "sans": ["mail.hosting.example"],
             "issuer": "CN=CA", "not_before": "2026-01-01T00:00:00+00:00",
             "not_after": "2027-01-01T00:00:00+00:00", "days_left": 33, "expired": False,
             "trusted": True, "hostname_match": True}  # fmt: skip


def test_endpoint_list_shows_each_state_in_colour_and_words(staff_client):
    good = Endpoint.objects.create(
        host="mail.hosting.example", port=993, protocol="imap", security="ssl", in_registry=True
    )
    old = Endpoint.objects.create(
        host="mail.aaabb.co.jp", port=995, protocol="pop3", security="ssl", in_sheets=True
    )
    down = Endpoint.objects.create(
        host="mail2.hosting.example", port=465, protocol="smtp", security="ssl"
    )
    Endpoint.objects.create(host="new.hosting.example", port=993, protocol="imap", security="ssl")
    result(
        good,
        tls_version="TLSv1.3",
        tls_versions_accepted=["TLSv1.2", "TLSv1.3"],
        certificate=GOOD_CERT,
    )
    result(old, certificate={**GOOD_CERT, "hostname_match": False})
    result(down, error="refused", error_message="connection refused", reachable=False)

    page = staff_client.get(reverse("endpoint_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'class="badge ok">OK</span> working' in page
    assert 'class="badge bad">Problem</span> certificate does not name this host' in page
    assert 'class="badge bad">Problem</span> unreachable: connection refused' in page
    assert "Unknown</span> not checked yet" in page
    assert "TLSv1.2, TLSv1.3" in page
    problems = staff_client.get(reverse("endpoint_list") + "?level=bad").content.decode()
    assert "mail.aaabb.co.jp" in problems and "mail.hosting.example:993" not in problems


def test_endpoint_page_shows_latest_and_history(staff_client):
    endpoint = Endpoint.objects.create(
        host="mail.hosting.example", port=993, protocol="imap", security="ssl"
    )
    result(endpoint, error="timeout", error_message="the server stopped answering")
    result(endpoint, tls_version="TLSv1.3", certificate=GOOD_CERT, banner="* OK Dovecot ready.")
    url = reverse("endpoint_detail", kwargs={"code": endpoint.code})
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "* OK Dovecot ready." in page
    assert "33 days left" in page
    assert page.count("<tr><td>") >= 2  # two history rows
    assert "unreachable: no answer in time" in page


def test_check_now_probes_through_celery_and_shows_the_result(
    staff_client, django_capture_on_commit_callbacks, settings
):
    settings.PROBE_RETRY_DELAY = 0.05
    port = misbehaving.unused_port()
    settings.PROBE_RESOLVE, settings.PROBE_PORTS = {"closed.example": "127.0.0.1"}, [port]
    endpoint = Endpoint.objects.create(
        host="closed.example", port=port, protocol="smtp", security="starttls"
    )
    url = reverse("endpoint_check_now", kwargs={"code": endpoint.code})
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url)
    page = staff_client.get(
        reverse("endpoint_detail", kwargs={"code": endpoint.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "unreachable: connection refused" in page
    assert "A check is running" not in page
    assert endpoint.results.count() == 1


def test_check_now_page_refreshes_while_waiting(staff_client):
    endpoint = Endpoint.objects.create(host="127.0.0.1", port=1, protocol="smtp", security="none")
    staff_client.post(reverse("endpoint_check_now", kwargs={"code": endpoint.code}))
    page = staff_client.get(
        reverse("endpoint_detail", kwargs={"code": endpoint.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'http-equiv="refresh"' in page
    assert "A check is running" in page


def test_sweep_now_starts_one_sweep(staff_client, django_capture_on_commit_callbacks, settings):
    settings.PROBE_OFFERED = []
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("sweep_now"))
    assert Sweep.objects.get().status == "finished"  # nothing to probe
