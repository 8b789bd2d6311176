"""Findings are never silently stale: the import command recomputes before it exits,
and while a full recompute is pending every page and export that shows findings says
so (in Japanese and English), until one has run."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Mailbox, ServerName
from accounts.sheet_imports import sheets_import
from checks.findings import findings_pending_since, findings_recompute, open_findings
from tests.accounts.test_imports import HEADER
from tests.conftest import login_staff, make_person

ROWS = 60  # more than are recomputed in the importing transaction (receivers.AT_ONCE)


def legacy_sheets_csv(tmp_path):
    rows = "".join(
        f"acme,アクメ,user{n}@acme.example,user{n},pop3,pop.hosting.example,995,ssl,"
        "mail.hosting.example,465,ssl,smtp-auth\n"
        for n in range(ROWS)
    )
    path = tmp_path / "sheets.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


@pytest.fixture
def registry(db):
    current = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=current)


def export_flags(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_flags", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_import_on_the_command_line_leaves_current_findings_without_any_worker(
    registry, tmp_path
):
    # In this test no on-commit callback runs: no worker would pick up a queued recompute.
    call_command("import_sheets", str(legacy_sheets_csv(tmp_path)), stdout=io.StringIO())

    out, err = export_flags("--code", "legacy-hostname")
    lines = out.strip().splitlines()
    assert len(lines) == 1 + ROWS
    assert "user0@acme.example,incoming,legacy-hostname,high" in out
    assert err == ""  # nothing pending
    assert findings_pending_since() is None


@pytest.fixture
def pending(registry, tmp_path):
    """A big import applied as a worker applies staff uploads; its full recompute queued
    for a worker that is not there."""
    sheets_import(legacy_sheets_csv(tmp_path).read_bytes())
    assert not open_findings().exists()
    return findings_pending_since()


def test_export_flags_announces_a_pending_recompute_on_stderr(pending):
    out, err = export_flags()
    assert out.startswith("customer,email,side,code,severity,detail")
    assert err.startswith("Findings recompute pending since ")
    assert pending.strftime("%Y") in err
    _out, err = export_flags("--lang", "ja")
    assert "要対応の項目の再計算待ちです" in err


def test_the_findings_dashboard_and_its_csv_announce_a_pending_recompute(pending, client, support):
    login_staff(client, support)
    page = client.get(reverse("findings_dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Findings recompute pending since" in page
    page = client.get(reverse("findings_dashboard"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "要対応の項目の再計算待ちです" in page

    response = client.get(reverse("findings_export"), HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()))
    assert rows[0][0].startswith("# Findings recompute pending since")
    assert rows[1] == ["customer", "email", "side", "code", "severity", "detail"]


def test_the_staff_mailbox_page_announces_a_pending_recompute(pending, client, support):
    mailbox = Mailbox.objects.get(email="user0@acme.example")
    login_staff(client, support)
    page = client.get(
        reverse("staff_mailbox", kwargs={"code": mailbox.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Findings recompute pending since" in page


def test_customer_pages_announce_a_pending_recompute(pending, client, django_user_model):
    mailbox = Mailbox.objects.select_related("customer").get(email="user0@acme.example")
    client.force_login(make_person(django_user_model, "acme-user", mailbox.customer))
    home = reverse("customer_home", kwargs={"slug": "acme"})
    page = client.get(home, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Recompute pending since" in page
    page = client.get(home, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "再計算待ちです" in page
    detail = reverse("customer_mailbox", kwargs={"slug": "acme", "code": mailbox.code})
    assert (
        "Recompute pending since" in client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_after_the_full_recompute_nothing_is_announced(pending, client, support):
    findings_recompute()

    assert findings_pending_since() is None
    out, err = export_flags("--code", "legacy-hostname")
    assert err == "" and len(out.strip().splitlines()) == 1 + ROWS
    login_staff(client, support)
    page = client.get(reverse("findings_dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "pending" not in page
