"""POST /ingest/maillog/: a log shipper's batches, authenticated by a source's token."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from checks.evidence.ingest import token_create
from checks.evidence.models import IngestBatch, IngestToken, LoginEvidence, LogSource
from portal.audit.models import AuditEntry
from tests.conftest import login_staff

URL = "/ingest/maillog/"


def line(session: str, user: str = "info", minutes_ago: int = 5) -> str:
    at = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")
    return (
        f"{at} mail dovecot[9]: pop3-login: Login: user=<{user}>, method=PLAIN, "
        f"rip=203.0.113.9, lip=192.0.2.10, lport=110, mpid=1, session=<{session}>"
    )


@pytest.fixture
def token(db):
    return token_create(LogSource.objects.create(name="mail1"))[1]


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Post a body as a shipper does; the worker's task runs when the request commits."""

    def post(body, token=None, content_type="text/plain"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, body, content_type=content_type, headers=headers)

    return post


def test_lines_posted_with_a_token_become_evidence(post, token, alpha_mailbox):
    response = post("\n".join([line("a"), line("b"), "not a log line"]), token)
    assert response.status_code == 202
    evidence = LoginEvidence.objects.get(mailbox=alpha_mailbox)
    assert (evidence.count, evidence.tls, evidence.port) == (2, False, 110)
    batch = IngestBatch.objects.get()
    assert batch.done_at is not None and bytes(batch.body) == b""  # no lines kept
    assert batch.counts["garbage"] == 1


def test_json_objects_with_a_message_field_as_vector_sends_them(post, token, alpha_mailbox):
    ndjson = "\n".join(json.dumps({"message": line(s), "host": "mail"}) for s in "abc")
    post(ndjson, token, "application/x-ndjson")
    array = json.dumps([{"message": line("d")}, {"nothing": 1}])
    post(array, token, "application/json")
    assert LoginEvidence.objects.get(mailbox=alpha_mailbox).count == 4


def test_the_same_batch_twice_counts_once(post, token, alpha_mailbox):
    body = "\n".join(line(s) for s in "abc")
    post(body, token)
    post(body, token)
    assert LoginEvidence.objects.get(mailbox=alpha_mailbox).count == 3


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dXNlcjpwdw=="])
def test_a_wrong_or_missing_token_is_401_and_nothing_is_stored(client, token, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(URL, line("a"), content_type="text/plain", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not IngestBatch.objects.exists()


def test_a_revoked_token_is_401(post, token):
    IngestToken.objects.update(revoked_at=timezone.now())
    assert post(line("a"), token).status_code == 401


def test_an_oversized_body_is_413_and_nothing_is_stored(post, token, settings):
    settings.LOG_INGEST_MAX_BYTES = 1000
    response = post("x" * 200_000, token)  # over the limit and its framing allowance
    assert response.status_code == 413
    response = post("x" * 1001, token)  # within the framing allowance: the view says no
    assert response.status_code == 413
    assert not IngestBatch.objects.exists()


def test_get_is_not_allowed(client, token):
    assert client.get(URL).status_code == 405


def test_an_admin_creates_a_token_shown_once_and_revokes_it(
    client, post, staff_admin, alpha_mailbox
):
    source = LogSource.objects.create(name="mail2")
    login_staff(client, staff_admin)
    response = client.post(
        "/admin/checks/ingesttoken/add/", {"source": source.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "shown only now" in str(m)]
    token = message.rsplit(": ", 1)[1]
    row = IngestToken.objects.get()
    assert token.startswith(row.hint) and token not in row.token_hash
    assert post(line("a"), token).status_code == 202
    client.post(
        "/admin/checks/ingesttoken/",
        {"action": "revoke", "_selected_action": [row.pk]},
    )
    assert post(line("b"), token).status_code == 401
    audited = AuditEntry.objects.filter(action="ingest-token").order_by("pk")
    assert [(e.actor, e.detail["how"]) for e in audited] == [
        (staff_admin, "added"),
        (staff_admin, "changed"),
    ]


def test_a_postfix_login_whose_tls_line_came_in_the_previous_batch_is_over_tls(
    post, token, alpha_mailbox
):
    at = timezone.now().isoformat(timespec="seconds")
    tag = f"{at} mail postfix/submission/smtpd[77]:"
    post(
        f"{tag} Anonymous TLS connection established from c[203.0.113.9]: TLSv1.3 with cipher X",
        token,
    )
    post(f"{tag} 4A1: client=c[203.0.113.9], sasl_method=PLAIN, sasl_username=info", token)
    evidence = LoginEvidence.objects.get(mailbox=alpha_mailbox)
    assert (evidence.port, evidence.tls, evidence.tls_version) == (587, True, "TLSv1.3")
