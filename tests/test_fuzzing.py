"""Property tests over what people and files hand the portal: the settings-sheet import,
the staff sheet form, campaign message templates and the Autodiscover parser. Whatever
comes in: never a server error, never a half-written change."""

from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.csvfiles import ImportRefused
from accounts.models import Customer, Mailbox, SettingsSheet
from accounts.sheet_imports import SHEET_COLUMNS, sheets_import
from portal.autoconfig.answers import BadRequest, autodiscover_email
from portal.campaigns.lifecycle import message_render, template_problems
from portal.models import Campaign
from tests.conftest import login_staff
from tests.portal.test_staff import edit

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as people and files give it: control characters, NUL, full-width digits, Japanese,
# quotes and separators, and now and then something very long.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "mail\x00.example",
            "a\r\nb",
            "９９５",
            "=cmd|' /C calc'!A0",
            "127.0.0.1",
            "x" * 300,
            "a@" + "b" * 260 + ".example",
            "山田商店",
            '"',
            ",",
        ]
    ),
)
good_row = {
    "customer": "fuzz",
    "customer_name": "ファズ商会",
    "email": "user@fuzz.example",
    "username": "user",
    "protocol": "pop3",
    "incoming_host": "mail.hosting.example",
    "incoming_port": "995",
    "incoming_security": "ssl",
    "outgoing_host": "mail.hosting.example",
    "outgoing_port": "465",
    "outgoing_security": "ssl",
    "smtp_auth": "smtp-auth",
}


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def snapshot() -> tuple:
    return (
        list(Customer.objects.order_by("pk").values_list("slug", "name")),
        list(Mailbox.objects.order_by("pk").values_list("email", "username", "current_sheet")),
        SettingsSheet.objects.count(),
    )


@pytest.mark.django_db
@FUZZ
@given(
    changes=st.dictionaries(st.sampled_from(SHEET_COLUMNS), nasty_text, max_size=4),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
)
@example(changes={"customer_name": "山田\x00商店"}, encoding="utf-8")
@example(changes={"customer_name": "山田商店\r\nBcc: x@evil.example"}, encoding="utf-8")
@example(changes={"email": "a@" + "b" * 260 + ".example"}, encoding="utf-8")
@example(changes={"username": "user\x00"}, encoding="utf-8")
def test_a_sheet_import_is_applied_whole_or_refused_whole(changes, encoding):
    row = good_row | changes
    text = ",".join(SHEET_COLUMNS) + "\r\n" + ",".join(csv_cell(row[c]) for c in SHEET_COLUMNS)
    data = text.encode(encoding, errors="replace")
    before = snapshot()
    try:
        sheets_import(data)
    except ImportRefused as refused:
        assert refused.problems
        assert snapshot() == before
    else:
        mailbox = Mailbox.objects.get(email=row["email"].strip().lower())
        assert mailbox.current_sheet is not None


@pytest.mark.django_db
@FUZZ
@given(data=st.binary(max_size=300))
def test_a_sheet_import_of_any_bytes_never_crashes(data):
    before = snapshot()
    try:
        sheets_import(data)
    except ImportRefused:
        assert snapshot() == before


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(list(good_row)[3:]), nasty_text, max_size=3))
@example(changes={"username": "a\x00b"})
@example(changes={"incoming_host": "mail\x00.example"})
def test_the_staff_sheet_form_never_fails_with_a_server_error(
    changes, client, support, alpha_mailbox
):
    login_staff(client, support)
    fields = {k: v for k, v in changes.items() if k not in ("customer", "customer_name", "email")}
    versions = alpha_mailbox.sheets.count()
    response = edit(client, alpha_mailbox, **fields)
    assert response.status_code == 200
    if "Saved as version" not in response.content.decode():
        assert alpha_mailbox.sheets.count() == versions


@pytest.mark.django_db
@FUZZ
@given(text=st.text(max_size=60) | st.from_regex(r"\{[a-z_!:.\[\]0-9>]{0,20}\}", fullmatch=True))
@example(text="{customer_name:>100000000}")
@example(text="{customer_name!r}{customer_name.__class__}{mailboxes[0]}")
def test_a_template_is_refused_or_renders_to_a_bounded_message(text):
    if template_problems(text):
        return
    customer = Customer(slug="x", name="山田商店")
    campaign = Campaign(
        name="c", cutover=date(2027, 1, 31), subject_ja=text, body_ja=text, target_codes=[]
    )
    _lang, subject, body = message_render(campaign, customer, lang="ja", mailboxes=[])
    bound = len(text) + text.count("{") * 200 + 300  # the values, and the signature
    assert len(subject) <= bound and len(body) <= bound


@FUZZ
@given(
    body=st.binary(max_size=400)
    | st.text(max_size=200).map(
        lambda t: (
            '<?xml version="1.0"?><Autodiscover><Request><EMailAddress>'
            + t
            + "</EMailAddress></Request></Autodiscover>"
        ).encode("utf-8", errors="replace")
    )
)
@example(body=b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
def test_the_autodiscover_parser_answers_or_refuses(body):
    try:
        address = autodiscover_email(body)
    except BadRequest:
        return
    assert isinstance(address, str) and address


@pytest.mark.django_db
@FUZZ
@given(body=st.binary(max_size=200))
def test_the_autodiscover_endpoint_never_fails_with_a_server_error(client, body):
    response = client.post(
        reverse("autodiscover"), body, content_type="text/xml", HTTP_HOST="localhost"
    )
    assert response.status_code in (200, 400, 404)
