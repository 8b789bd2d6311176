"""The audit log: what people did is recorded, staff admins search and download it,
nobody edits it, and old entries go after AUDIT_KEEP_DAYS."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEntry
from portal.audit.record import audit_purge, audit_record
from tests.conftest import login_staff
from tests.portal.test_staff import edit


@pytest.fixture
def admin_client(client, staff_admin):
    login_staff(client, staff_admin)
    return client


def actions(**filters) -> list[str]:
    return list(AuditEntry.objects.filter(**filters).values_list("action", flat=True))


def test_a_login_and_a_failed_login_are_recorded_with_name_and_address(client, alpha_person):
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": "pw-123456!"})
    failed, ok = AuditEntry.objects.order_by("pk")
    assert (failed.action, failed.actor_name, failed.actor) == ("login-failed", "alice", None)
    assert (ok.action, ok.actor) == ("login", alpha_person)
    assert ok.address == "127.0.0.1"


def test_a_login_name_that_cannot_be_one_is_refused_before_any_backend(client, db):
    response = client.post(reverse("login"), {"username": "x\x1b[31m" + "y" * 400, "password": "p"})
    assert response.status_code == 200
    assert "ログイン名またはパスワードが正しくありません" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_recorded_name_is_cut_and_cleaned(db):
    entry = audit_record(action="login-failed", actor_name="x\x1b[31m" + "y" * 400)
    assert "\x1b" not in entry.actor_name
    assert len(entry.actor_name) == 150


def test_a_staff_sheet_edit_is_recorded_with_customer_and_mailbox(
    client, support, alpha, alpha_mailbox
):
    login_staff(client, support)
    edit(client, alpha_mailbox, outgoing_port="587", outgoing_security="starttls")
    entry = AuditEntry.objects.get(action="sheet-edit")
    assert (entry.actor, entry.customer, entry.target) == (support, alpha, "info@alpha.example")
    assert entry.detail == {"version": 2}


def test_a_customer_confirmation_is_recorded(client, alpha_person, alpha_mailbox):
    client.force_login(alpha_person)
    client.post(reverse("customer_confirm", kwargs={"slug": "alpha", "code": alpha_mailbox.code}))
    assert actions(actor=alpha_person, customer=alpha_mailbox.customer) == ["customer-confirm"]


def test_a_findings_download_is_recorded(client, support):
    login_staff(client, support)
    client.get(reverse("findings_export"), {"code": "legacy-hostname"})
    entry = AuditEntry.objects.get(action="export")
    assert (entry.target, entry.detail) == ("findings", {"code": "legacy-hostname"})


def test_staff_admins_search_by_person_customer_action_and_date(admin_client, support, alpha, beta):
    audit_record(action="sheet-edit", actor=support, customer=alpha, target="a@alpha.example")
    audit_record(action="sheet-edit", actor=support, customer=beta, target="b@beta.example")
    old = audit_record(action="export", actor=support, target="findings")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))

    def page(**params):
        params.setdefault("person", "")
        return admin_client.get(reverse("audit_list"), params, HTTP_ACCEPT_LANGUAGE="en")

    html = page(customer="beta").content.decode()
    assert "b@beta.example" in html and "a@alpha.example" not in html
    html = page(person="sue", action="export").content.decode()
    assert "findings" in html and "alpha.example" not in html
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    html = page(since=since).content.decode()
    assert "a@alpha.example" in html and ">findings<" not in html


def test_a_bad_date_is_an_error_next_to_the_field_not_a_crash(admin_client):
    response = admin_client.get(
        reverse("audit_list"),
        {"since": "2026-13-45<script>", "until": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_the_download_has_the_filtered_entries_and_is_itself_recorded(
    admin_client, staff_admin, support, alpha
):
    audit_record(action="sheet-edit", actor=support, customer=alpha, target="a@alpha.example")
    response = admin_client.get(reverse("audit_export"), {"customer": "alpha"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["person"], r["action"], r["customer"], r["target"]) for r in rows] == [
        ("sue", "sheet-edit", "alpha", "a@alpha.example")
    ]
    assert actions(actor=staff_admin, action="export") == ["export"]


def test_support_staff_and_customers_cannot_open_the_audit_log(client, support, alpha_person):
    for person in (support, alpha_person):
        login_staff(client, person)
        assert client.get(reverse("audit_list")).status_code == 403
        assert client.get(reverse("audit_export")).status_code == 403


def test_entries_cannot_be_edited_from_the_admin():
    assert AuditEntry not in admin.site._registry


def test_entries_older_than_the_keep_days_are_purged(db, settings):
    settings.AUDIT_KEEP_DAYS = 400
    old = audit_record(action="export", actor_name="x", target="old")
    new = audit_record(action="export", actor_name="x", target="new")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=401))
    assert audit_purge() == 1
    assert list(AuditEntry.objects.all()) == [new]


def test_a_registry_change_in_the_admin_is_recorded(admin_client, staff_admin):
    response = admin_client.post(
        "/admin/accounts/servername/add/",
        {"hostname": "mail3.hosting.example", "status": "current", "note": "", "addresses": ""},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="registry-change")
    assert (entry.actor, entry.target, entry.detail["how"]) == (
        staff_admin,
        "mail3.hosting.example",
        "added",
    )
