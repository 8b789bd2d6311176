import pytest
from django.utils import translation

from accounts.sheets import (
    Protocol,
    Security,
    SheetValueError,
    normalize_email,
    normalize_hostname,
    parse_choice,
    parse_port,
    parse_slug,
    parse_username,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "port"),
    [("995", 995), (" 587 ", 587), ("1", 1), ("65535", 65535), (465, 465), ("９９５", 995)],
)
def test_ports_in_range_are_accepted(text, port):
    assert parse_port(text) == port


@pytest.mark.parametrize("text", ["0", "65536", "-1", "99a", "", "9.5", "٩٩٥"])
def test_impossible_ports_are_refused_with_the_range(text):
    with pytest.raises(SheetValueError, match="1 to 65535"):
        parse_port(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Mail.Hosting.Example", "mail.hosting.example"),
        ("mail.hosting.example.", "mail.hosting.example"),
        ("  smtp.aaabb.co.jp ", "smtp.aaabb.co.jp"),
        ("メール.例え.jp", "xn--4dkua4c.xn--r8jz45g.jp"),
        ("192.0.2.10", "192.0.2.10"),
        ("[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_server_names_are_normalized(text, name):
    assert normalize_hostname(text) == name


@pytest.mark.parametrize(
    "text", ["", "mail server.example", "-mail.example", "a..b", "mail_1.example"]
)
def test_bad_server_names_are_refused(text):
    with pytest.raises(SheetValueError):
        normalize_hostname(text)


def test_security_words_are_matched_without_case():
    assert parse_choice(" SSL ", Security) == "ssl"
    assert parse_choice("STARTTLS", Security) == "starttls"
    assert parse_choice("POP3", Protocol) == "pop3"


def test_unknown_security_names_the_allowed_words():
    with pytest.raises(SheetValueError) as refused:
        parse_choice("tls", Security)
    assert "ssl, starttls, none" in refused.value.message
    assert "“tls”" in refused.value.message


def test_email_is_lower_cased_and_checked():
    assert normalize_email(" Test01@AAABB.co.jp ") == "test01@aaabb.co.jp"
    with pytest.raises(SheetValueError, match="not a valid e-mail address"):
        normalize_email("test01.aaabb.co.jp")


def test_user_names_keep_their_case_but_not_spaces():
    assert parse_username(" Test01 ") == "Test01"
    with pytest.raises(SheetValueError):
        parse_username("test 01")
    with pytest.raises(SheetValueError, match="required"):
        parse_username("")


def test_customer_ids_are_slugs():
    assert parse_slug("AAABB") == "aaabb"
    with pytest.raises(SheetValueError, match="customer ID"):
        parse_slug("株式会社")
