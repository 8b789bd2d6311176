"""The findings dashboard, its download and export_flags: the same rows everywhere."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.csvfiles import cell_safe
from accounts.models import Customer, Mailbox, ServerName
from accounts.sheets import SheetValues
from checks.findings import findings_recompute
from tests.conftest import login_staff, make_mailbox

NEW, OLD = "mail.new.example", "mail.old.example"


@pytest.fixture
def data(db, alpha, beta):
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname=OLD, status="legacy", replaced_by=new)
    make_mailbox(
        alpha, "good@alpha.example", SheetValues(NEW, 995, "ssl", NEW, 465, "ssl", "smtp-auth")
    )
    make_mailbox(
        alpha, "old@alpha.example", SheetValues(OLD, 995, "ssl", NEW, 465, "ssl", "smtp-auth")
    )
    make_mailbox(
        beta, "plain@beta.example", SheetValues(NEW, 110, "none", OLD, 25, "none", "smtp-auth")
    )
    findings_recompute(force=True)


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


def page(client, **params):
    return client.get(
        reverse("findings_dashboard"), params, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()


def test_dashboard_counts_by_code_customer_and_server(staff_client, data):
    html = page(staff_client)
    assert "4 open findings." in html  # old x2 (alpha incoming, beta outgoing), plain x2
    assert 'href="?code=legacy-hostname">Old server name</a>' in html
    assert 'href="?customer=beta">ベータ工業</a>' in html
    assert 'href="?host=mail.old.example">mail.old.example</a>' in html


def test_who_still_uses_old_server_names(staff_client, data):
    html = page(staff_client, code="legacy-hostname")
    assert "old@alpha.example" in html and "plain@beta.example" in html
    assert "good@alpha.example" not in html
    assert "The incoming server mail.old.example is an old server name" in html


def test_who_still_uses_non_ssl_ports(staff_client, data):
    html = page(staff_client, code="plaintext-port")
    assert "plain@beta.example" in html
    assert "old@alpha.example" not in html


def test_filters_combine_and_bad_ones_are_refused(staff_client, data):
    html = page(staff_client, customer="beta", side="outgoing")
    assert html.count("plain@beta.example") >= 2  # outgoing: plaintext-port and legacy-hostname
    assert "old@alpha.example" not in html
    response = staff_client.get(
        reverse("findings_dashboard"), {"code": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "Unknown finding code “nope”" in response.content.decode()


SCRIPT = "<script>alert(document.cookie)</script>"


@pytest.mark.parametrize("name", ["code", "severity", "side"])
def test_a_bad_filter_is_never_echoed_as_markup(staff_client, data, name):
    response = staff_client.get(reverse("findings_dashboard"), {name: SCRIPT})
    assert response.status_code == 400
    body = response.content.decode()
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in body


@pytest.mark.parametrize("name", ["code", "severity", "side"])
def test_a_bad_filter_on_the_download_is_plain_text(staff_client, data, name):
    response = staff_client.get(reverse("findings_export"), {name: SCRIPT})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_matches_the_dashboard(staff_client, data):
    response = staff_client.get(
        reverse("findings_export"), {"code": "legacy-hostname"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="findings-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["customer"], r["email"], r["side"], r["code"]) for r in rows] == [
        ("alpha", "old@alpha.example", "incoming", "legacy-hostname"),
        ("beta", "plain@beta.example", "outgoing", "legacy-hostname"),
    ]
    html = page(staff_client, code="legacy-hostname")
    for row in rows:
        assert row["email"] in html


def test_export_flags_command_csv_and_json(data, capsys):
    call_command("export_flags", "--code", "plaintext-port")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["customer", "email", "side", "code", "severity", "detail"]
    assert {(r["email"], r["side"]) for r in rows} == {
        ("plain@beta.example", "incoming"),
        ("plain@beta.example", "outgoing"),
    }
    call_command("export_flags", "--format", "json")
    assert len(json.loads(capsys.readouterr().out)) == 4


def test_mailbox_page_lists_findings_with_the_fix(staff_client, data):
    mailbox = Mailbox.objects.get(email="plain@beta.example")
    html = staff_client.get(
        reverse("staff_mailbox", kwargs={"code": mailbox.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "No encryption" in html
    assert "<del>110</del>" in html and "<ins>995</ins>" in html
    assert "<del>mail.old.example</del>" in html and "<ins>mail.new.example</ins>" in html


def test_the_dashboard_query_count_does_not_grow(staff_client, data, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page(staff_client)


@pytest.fixture
def formulas(data):
    """A customer and a mailbox whose names a spreadsheet would run as formulas."""
    hostile = Customer.objects.create(slug="-2-3", name="=cmd|' /C calc'!A0")
    make_mailbox(
        hostile, "=1+2@evil.example", SheetValues(OLD, 995, "ssl", NEW, 465, "ssl", "smtp-auth")
    )
    findings_recompute(force=True)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("mail.old.example", "mail.old.example"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_cell_that_would_start_a_formula_is_written_as_text(value, cell):
    assert cell_safe(value) == cell


def test_downloaded_findings_show_formula_like_values_as_text(staff_client, formulas):
    response = staff_client.get(reverse("findings_export"), {"customer": "-2-3"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")

    rows = list(csv.DictReader(io.StringIO(text)))

    assert [(r["customer"], r["email"], r["code"]) for r in rows] == [
        ("'-2-3", "'=1+2@evil.example", "legacy-hostname")
    ]


def test_export_flags_shows_formula_like_values_as_text(formulas, capsys):
    call_command("export_flags", "--customer=-2-3")

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert [(r["customer"], r["email"]) for r in rows] == [("'-2-3", "'=1+2@evil.example")]
