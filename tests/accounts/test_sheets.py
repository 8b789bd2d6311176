import pytest
from django.utils import translation

from accounts.sheets import (
    Protocol,
    Security,
    SheetValueError,
    normalize_email,
    normalize_hostname,
    parse_addresses,
    parse_choice,
    parse_customer_name,
    parse_port,
    parse_slug,
    parse_username,
    text_check,
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
        ("3com.example", "3com.example"),
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


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.1.2.3",
        "192.0.2.10",
        "::1",
        "[::1]",
        "[2001:db8::1]",
        "::ffff:127.0.0.1",
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0177.0.0.1",  # octal
        "0x7f.1",
        "127.1",  # short form
        "１２７．０．０．１",  # full-width, as typed in Japanese input mode
        "127。0。0。1",
        "mail.123",  # no real top-level domain is numeric
    ],
)
def test_ip_addresses_in_any_spelling_are_refused(text):
    with pytest.raises(SheetValueError, match="looks like an IP address: use the server's name"):
        normalize_hostname(text)


@pytest.mark.parametrize("text", ["localhost", "LOCALHOST.", "mail.localhost", "mailserver"])
def test_local_names_are_refused(text):
    with pytest.raises(SheetValueError, match="not a server name on the internet"):
        normalize_hostname(text)


def test_server_addresses_are_read_in_standard_spelling():
    assert parse_addresses(" 10.0.0.5, 2001:DB8::1  10.0.0.5 ") == ("10.0.0.5", "2001:db8::1")
    assert parse_addresses("") == ()
    with pytest.raises(SheetValueError, match="not an IP address"):
        parse_addresses("10.0.0.5 mail.example.jp")


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


@pytest.mark.parametrize(
    ("text", "lines", "problem"),
    [
        ("a\x00b", False, "(found U+0000)"),
        ("a\rb", False, "(found U+000D)"),
        ("a\nb", False, "(found U+000A)"),
        ("a\tb", False, "(found U+0009)"),
        ("a\x1bb", False, "(found U+001B)"),
        ("a\x7fb", False, "(found U+007F)"),
        ("a\x85b", False, "(found U+0085)"),
        ("a\x9fb", False, "(found U+009F)"),
        ("a\x00b", True, "(found U+0000)"),
        ("a\x0bb", True, "(found U+000B)"),
        ("x" * 11, False, "at most 10 characters are allowed (this has 11)"),
    ],
)
def test_text_with_control_characters_or_too_long_is_refused(text, lines, problem):
    with pytest.raises(SheetValueError) as error:
        text_check(text, max_length=10, lines=lines)
    assert problem in error.value.message


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("株式会社エーエービービー", False),
        ("x" * 20, False),
        ("株" * 20, False),
        ("one\r\ntwo\tthree", True),
        ("no-break\u00a0space and ①", False),
        ("", False),
    ],
)
def test_plain_text_passes_unchanged(text, lines):
    assert text_check(text, max_length=20, lines=lines) == text


@pytest.mark.parametrize(
    ("parser", "text", "problem"),
    [
        (normalize_email, "a" * 250 + "@b.example", "at most 254 characters"),
        (normalize_email, '"a\x01b"@b.example', "U+0001"),
        (parse_username, "info\x00", "U+0000"),
        (parse_username, "in\x85fo", "U+0085"),
        (normalize_hostname, "mail\x7f.example", "U+007F"),
        (parse_customer_name, "山田\r\n商店", "U+000D"),
        (parse_customer_name, "山" * 201, "at most 200 characters"),
        (parse_slug, "x" * 51, "at most 50 characters"),
    ],
)
def test_every_parser_applies_the_text_rule(parser, text, problem):
    with pytest.raises(SheetValueError) as error:
        parser(text)
    assert problem in error.value.message
