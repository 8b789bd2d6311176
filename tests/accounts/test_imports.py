"""Imports: the whole file is checked first; a bad file writes nothing; a good one is applied once."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.csvfiles import ImportRefused, columns_keep, read_table
from accounts.import_batches import import_kind
from accounts.models import Customer, Mailbox, ServerName, SettingsSheet
from accounts.server_imports import servers_import
from accounts.sheet_imports import sheets_import, sheets_plan

HEADER = (
    "customer,customer_name,email,username,protocol,incoming_host,incoming_port,"
    "incoming_security,outgoing_host,outgoing_port,outgoing_security,smtp_auth\n"
)
GOOD = HEADER + (
    "aaabb,株式会社エーエービービー,test01@aaabb.co.jp,test01,pop3,mail.aaabb.co.jp,587,ssl,"
    "mail.aaabb.co.jp,995,ssl,smtp-auth\n"
    "aaabb,株式会社エーエービービー,info@aaabb.co.jp,info,imap,mail.hosting.example,993,ssl,"
    "mail.hosting.example,465,ssl,smtp-auth\n"
    "yamada,山田商店,shop@yamada.example,shop,POP3,pop.hosting.example,110,none,"
    "smtp.hosting.example,25,none,pop-before-smtp\n"
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write(tmp_path, text, encoding="utf-8", name="sheets.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot():
    return (
        list(Customer.objects.values_list("slug", "name")),
        list(Mailbox.objects.values_list("email", "username", "protocol", "current_sheet_id")),
        list(SettingsSheet.objects.values_list("pk", "version", "incoming_host")),
        list(ServerName.objects.values_list("hostname", "status", "replaced_by__hostname")),
    )


def test_good_file_creates_customers_mailboxes_and_first_versions(db, tmp_path, capsys):
    call_command("import_sheets", str(write(tmp_path, GOOD)))

    assert "3 created, 0 changed, 0 unchanged" in capsys.readouterr().out
    assert dict(Customer.objects.values_list("slug", "name")) == {
        "aaabb": "株式会社エーエービービー",
        "yamada": "山田商店",
    }
    mailbox = Mailbox.objects.select_related("current_sheet").get(email="test01@aaabb.co.jp")
    assert mailbox.customer.slug == "aaabb"
    assert (mailbox.username, mailbox.protocol, mailbox.domain) == ("test01", "pop3", "aaabb.co.jp")
    sheet = mailbox.current_sheet
    assert (sheet.version, sheet.source) == (1, "import")
    assert (sheet.incoming_host, sheet.incoming_port, sheet.outgoing_port) == (
        "mail.aaabb.co.jp",
        587,
        995,
    )
    assert Mailbox.objects.get(email="shop@yamada.example").protocol == "pop3"


def test_importing_the_same_file_again_changes_nothing(db, tmp_path, capsys):
    path = write(tmp_path, GOOD)
    call_command("import_sheets", str(path))
    before = snapshot()
    capsys.readouterr()

    call_command("import_sheets", str(path))

    assert "0 created, 0 changed, 3 unchanged" in capsys.readouterr().out
    assert snapshot() == before


def test_changed_values_add_a_version_and_keep_the_old_one(db, tmp_path):
    call_command("import_sheets", str(write(tmp_path, GOOD)))
    fixed = GOOD.replace(
        "mail.aaabb.co.jp,587,ssl,mail.aaabb.co.jp,995,ssl",
        "mail.hosting.example,995,ssl,mail.hosting.example,465,ssl",
    )

    plan = sheets_import(fixed.encode())

    assert plan.counts() == {"created": 0, "changed": 1, "unchanged": 2}
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    versions = list(mailbox.sheets.values_list("version", "incoming_host", "incoming_port"))
    assert versions == [(2, "mail.hosting.example", 995), (1, "mail.aaabb.co.jp", 587)]
    assert mailbox.current_sheet.version == 2


def test_a_file_with_bad_rows_reports_every_problem_and_writes_nothing(db, tmp_path, capsys):
    call_command(
        "import_servers",
        str(
            write(
                tmp_path,
                "hostname,status,replaced_by\nmail.hosting.example,current,\n",
                name="s.csv",
            )
        ),
    )
    before = snapshot()
    bad = GOOD + (
        "aaabb,株式会社エーエービービー,bad-address,u1,pop3,mail.hosting.example,995,ssl,"
        "mail.hosting.example,465,ssl,smtp-auth\n"
        "aaabb,株式会社エーエービービー,u2@aaabb.co.jp,u2,smtp,mail.hosting.example,99999,tls,"
        "mail.hosting.example,465,ssl,maybe\n"
        "aaabb,株式会社エーエービービー,test01@aaabb.co.jp,test01,pop3,mail.hosting.example,995,ssl,"
        "mail.hosting.example,465,ssl,smtp-auth\n"
        "newco,,n@newco.example,n,imap,mail.hosting.example,993,ssl,mail.hosting.example,465,ssl,smtp-auth\n"
    )

    with pytest.raises(CommandError, match="7 problem"):
        call_command("import_sheets", str(write(tmp_path, bad)))

    errors = capsys.readouterr().err
    assert "line 5, column email: “bad-address” is not a valid e-mail address" in errors
    assert "line 6, column protocol: “smtp” is not allowed: use one of pop3, imap" in errors
    assert "line 6, column incoming_port: “99999” is not a port number" in errors
    assert "line 6, column incoming_security: “tls” is not allowed" in errors
    assert "line 6, column smtp_auth: “maybe” is not allowed" in errors
    assert "line 7, column email: this address is also on line 2" in errors
    assert "line 8, column customer_name: customer newco does not exist yet" in errors
    assert snapshot() == before


def test_a_bad_header_names_the_missing_and_unknown_columns(db):
    text = HEADER.replace("incoming_port", "incomming_port").replace(",smtp_auth", "")
    with pytest.raises(ImportRefused) as refused:
        sheets_import(text.encode())
    messages = [str(p) for p in refused.value.problems]
    assert "line 1, column incoming_port: this column is missing from the header" in messages
    assert "line 1, column smtp_auth: this column is missing from the header" in messages
    assert any(m.startswith("line 1, column incomming_port: unknown column") for m in messages)


def test_a_row_with_too_few_cells_is_refused(db):
    with pytest.raises(ImportRefused) as refused:
        sheets_import((HEADER + "aaabb,x,a@b.example,a,pop3\n").encode())
    assert str(refused.value.problems[0]) == "line 2, column -: expected 12 cells, found 5"


def test_cp932_file_from_excel_with_japanese_names_is_read(db, tmp_path):
    path = write(tmp_path, GOOD.replace("\n", "\r\n"), encoding="cp932")

    call_command("import_sheets", str(path))

    assert Customer.objects.get(slug="aaabb").name == "株式会社エーエービービー"
    assert Customer.objects.get(slug="yamada").name == "山田商店"


def test_cp932_specific_characters_survive(db):
    # ① and ㈱ exist in CP932 but not in plain Shift_JIS.
    sheets_import(GOOD.replace("株式会社エーエービービー", "㈱エーエービービー①").encode("cp932"))
    assert Customer.objects.get(slug="aaabb").name == "㈱エーエービービー①"


def test_utf8_with_bom_and_tab_separated_files_are_read(db):
    tsv = GOOD.replace(",", "\t")
    sheets_import(b"\xef\xbb\xbf" + tsv.encode())
    assert Mailbox.objects.count() == 3


def test_a_file_in_another_encoding_is_refused_with_its_line(db):
    data = HEADER.encode() + "aaabb,Ünïcødé\x80".encode("latin-1") + b"\xff\xfe\n"
    with pytest.raises(ImportRefused) as refused:
        sheets_import(data)
    assert str(refused.value.problems[0]) == (
        "line 2, column -: the file is neither UTF-8, Shift_JIS (CP932) nor EUC-JP text"
    )


def test_euc_jp_file_with_japanese_names_is_read(db, tmp_path):
    path = write(tmp_path, GOOD, encoding="euc_jp")

    call_command("import_sheets", str(path))

    assert Customer.objects.get(slug="aaabb").name == "株式会社エーエービービー"
    assert Customer.objects.get(slug="yamada").name == "山田商店"


def test_a_file_that_reads_as_half_width_kana_or_euc_jp_is_refused_not_guessed(db):
    # 山田商店 in EUC-JP is also valid Shift_JIS: ｻｳﾅﾄｾｦﾅｹ.
    data = GOOD.replace("株式会社エーエービービー", "山田商店").encode("euc_jp")

    with pytest.raises(ImportRefused) as refused:
        sheets_import(data)

    assert str(refused.value.problems[0]) == (
        "line 2, column -: the file could be Shift_JIS or EUC-JP text and the portal cannot "
        "tell which: save it as UTF-8 (in Excel: CSV UTF-8) and upload it again"
    )
    assert Customer.objects.count() == 0


def test_an_empty_file_is_refused(db):
    with pytest.raises(ImportRefused, match="1 problem"):
        sheets_import(b"")


def test_dry_run_shows_the_changes_and_writes_nothing(db, tmp_path, capsys):
    call_command("import_sheets", str(write(tmp_path, GOOD)), "--dry-run")

    out = capsys.readouterr().out
    assert "3 created, 0 changed, 0 unchanged" in out
    assert "dry run: nothing written" in out
    assert "new customer aaabb: 株式会社エーエービービー" in out
    assert Customer.objects.count() == 0
    assert Mailbox.objects.count() == 0


def test_dry_run_of_a_bad_file_fails(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_sheets", str(write(tmp_path, GOOD + "x,y,z\n")), "--dry-run")


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_sheets", str(tmp_path / "nope.csv"))


def test_a_mailbox_is_never_moved_to_another_customer(db):
    sheets_import(GOOD.encode())
    moved = GOOD.replace("aaabb,株式会社エーエービービー,test01", "yamada,山田商店,test01")
    with pytest.raises(ImportRefused) as refused:
        sheets_import(moved.encode())
    assert str(refused.value.problems[0]) == (
        "line 2, column customer: this address belongs to customer aaabb; "
        "an import does not move mailboxes"
    )


def test_one_customer_with_two_names_in_the_file_is_refused(db):
    text = GOOD.replace("aaabb,株式会社エーエービービー,info", "aaabb,エーエービービー,info")
    plan = sheets_plan(text.encode())
    assert [str(p) for p in plan.problems] == [
        "line 3, column customer_name: line 2 gives this customer the name 株式会社エーエービービー"
    ]


def test_a_new_customer_name_renames_the_customer_and_says_so(db):
    sheets_import(GOOD.encode())
    plan = sheets_import(GOOD.replace("山田商店", "有限会社山田商店").encode())
    assert "customer yamada is renamed: 山田商店 → 有限会社山田商店" in plan.notes
    assert Customer.objects.get(slug="yamada").name == "有限会社山田商店"


def test_user_name_change_alone_keeps_the_sheet_version(db):
    sheets_import(GOOD.encode())
    plan = sheets_import(GOOD.replace(",shop,POP3", ",shop2,POP3").encode())
    assert plan.counts()["changed"] == 1
    mailbox = Mailbox.objects.get(email="shop@yamada.example")
    assert mailbox.username == "shop2"
    assert mailbox.sheets.count() == 1


SERVERS = (
    "hostname,status,replaced_by\n"
    "mail.hosting.example,current,\n"
    "pop.hosting.example,legacy,mail.hosting.example\n"
    "Old.Example.JP,legacy,\n"
)


def test_server_registry_import_and_reimport(db, tmp_path, capsys):
    path = write(tmp_path, SERVERS, name="servers.csv")
    call_command("import_servers", str(path))
    assert "3 created" in capsys.readouterr().out
    assert ServerName.objects.get(hostname="pop.hosting.example").replaced_by.hostname == (
        "mail.hosting.example"
    )
    assert ServerName.objects.get(hostname="old.example.jp").status == "legacy"

    call_command("import_servers", str(path))
    assert "0 created, 0 changed, 3 unchanged" in capsys.readouterr().out


def test_server_registry_problems_are_all_listed(db):
    servers_import(SERVERS.encode())
    before = snapshot()
    bad = (
        "hostname,status,replaced_by\n"
        "mail.hosting.example,legacy,\n"
        "new.hosting.example,current,mail.hosting.example\n"
        "x.example,retired,\n"
        "y.example,legacy,nowhere.example\n"
        "z.example,legacy,z.example\n"
    )
    with pytest.raises(ImportRefused) as refused:
        servers_import(bad.encode())
    assert [str(p) for p in refused.value.problems] == [
        "line 2, column status: still named as the replacement of pop.hosting.example: "
        "change those first",
        "line 3, column replaced_by: only a legacy name has a replacement: leave this empty",
        "line 4, column status: “retired” is not allowed: use one of current, legacy",
        "line 5, column replaced_by: nowhere.example is neither in the registry nor in this file",
        "line 6, column replaced_by: a name cannot replace itself",
    ]
    assert snapshot() == before


def test_a_legacy_name_can_point_at_a_current_name_from_the_same_file(db):
    servers_import(
        b"hostname,status,replaced_by,note\n"
        b"old.example,legacy,new.example,retired 2026\n"
        b"new.example,current,,\n"
    )
    old = ServerName.objects.get(hostname="old.example")
    assert (old.replaced_by.hostname, old.note) == ("new.example", "retired 2026")


def test_messages_can_be_japanese(db, tmp_path, capsys):
    with pytest.raises(CommandError):
        call_command("import_sheets", str(write(tmp_path, GOOD + "x,y,z\n")), "--lang", "ja")
    assert "5 行目" in capsys.readouterr().err


def row(**cells):
    """One GOOD-like row with some cells replaced (quoted, so line breaks stay in the cell)."""
    values = {
        "customer": "aaabb", "customer_name": "株式会社エーエービービー",
        "email": "test01@aaabb.co.jp", "username": "test01", "protocol": "pop3",
        "incoming_host": "mail.aaabb.co.jp", "incoming_port": "995", "incoming_security": "ssl",
        "outgoing_host": "mail.aaabb.co.jp", "outgoing_port": "465", "outgoing_security": "ssl",
        "smtp_auth": "smtp-auth",
    }  # fmt: skip
    values.update(cells)
    return ",".join('"' + v.replace('"', '""') + '"' for v in values.values()) + "\n"


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"customer_name": "株式会社\x00エー"}, "line 2, column customer_name: control characters"),
        ({"customer_name": "株式会社\r\nエー"}, "line 2, column customer_name: control characters"),
        ({"customer_name": "x" * 201}, "line 2, column customer_name: at most 200 characters"),
        ({"email": "a" * 250 + "@aaabb.co.jp"}, "line 2, column email: at most 254 characters"),
        ({"username": "test\x0001"}, "line 2, column username: control characters"),
        ({"username": "test\x9b01"}, "line 2, column username: control characters"),
        ({"incoming_host": "mail\x00.aaabb.co.jp"}, "line 2, column incoming_host: control"),
    ],
)
def test_control_characters_and_over_long_values_are_refused_by_line_and_column(db, cells, problem):
    with pytest.raises(ImportRefused) as refused:
        sheets_import((HEADER + row(**cells)).encode())

    assert any(str(p).startswith(problem) for p in refused.value.problems), refused.value.problems
    assert not Customer.objects.exists() and not Mailbox.objects.exists()


def test_a_server_note_with_a_nul_is_refused_by_line_and_column(db):
    text = "hostname,status,replaced_by,note\nmail.hosting.example,current,,ok\x00\n"

    with pytest.raises(ImportRefused) as refused:
        servers_import(text.encode())

    assert str(refused.value.problems[0]).startswith("line 2, column note: control characters")
    assert not ServerName.objects.exists()


def test_a_header_with_control_characters_is_named_printably(db):
    with pytest.raises(ImportRefused) as refused:
        sheets_import(HEADER.replace("smtp_auth", "smtp_auth,x\x00y").encode())

    assert "line 1, column x\ufffdy: unknown column" in str(refused.value.problems[-1])


def test_sheets_naming_ip_addresses_or_local_names_are_refused_row_by_row(db):
    bad = HEADER + (
        "aaabb,株式会社エーエービービー,test01@aaabb.co.jp,test01,pop3,127.1,995,ssl,"
        "mail.aaabb.co.jp,465,ssl,smtp-auth\n"
        "aaabb,株式会社エーエービービー,info@aaabb.co.jp,info,imap,mail.aaabb.co.jp,993,ssl,"
        "0x7f000001,465,ssl,smtp-auth\n"
        "aaabb,株式会社エーエービービー,it@aaabb.co.jp,it,imap,localhost,993,ssl,"
        "[::1],465,ssl,smtp-auth\n"
    )
    with pytest.raises(ImportRefused) as refused:
        sheets_import(bad.encode())
    assert [str(p) for p in refused.value.problems] == [
        "line 2, column incoming_host: “127.1” looks like an IP address: "
        "use the server's name, e.g. mail.example.jp",
        "line 3, column outgoing_host: “0x7f000001” looks like an IP address: "
        "use the server's name, e.g. mail.example.jp",
        "line 4, column incoming_host: “localhost” is not a server name on the internet: "
        "use its full name, e.g. mail.example.jp",
        "line 4, column outgoing_host: “[::1]” looks like an IP address: "
        "use the server's name, e.g. mail.example.jp",
    ]
    assert not Mailbox.objects.exists()


def test_the_registry_refuses_ip_addresses_as_server_names(db):
    with pytest.raises(ImportRefused) as refused:
        servers_import(
            b"hostname,status,replaced_by\n"
            b"169.254.169.254,current,\n"
            b"old.example,legacy,2130706433\n"
        )
    assert [str(p) for p in refused.value.problems] == [
        "line 2, column hostname: “169.254.169.254” looks like an IP address: "
        "use the server's name, e.g. mail.example.jp",
        "line 3, column replaced_by: “2130706433” looks like an IP address: "
        "use the server's name, e.g. mail.example.jp",
    ]
    assert not ServerName.objects.exists()


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (HEADER, "sheets"),
        (HEADER.replace(",", "\t"), "sheets"),
        ("email,customer,password\n", "sheets"),
        ("hostname,status,replaced_by,note\n", "servers"),
        ("Hostname;Status;Replaced_By\n", "servers"),
        ("hostname,email\n", None),
        ("a,b,c\n", None),
        ("", None),
    ],
)
def test_the_kind_of_file_is_read_from_its_header(header, kind):
    assert import_kind(header + "x,y,z\n") == kind


def test_the_sheet_check_reports_its_progress_row_by_row(db):
    rows = "".join(
        f"c{n},Co {n},u{n}@example.jp,u{n},imap,mail.hosting.example,993,ssl,"
        f"mail.hosting.example,465,ssl,smtp-auth\n"
        for n in range(4500)
    )
    seen = []

    sheets_plan((HEADER + rows).encode(), progress=lambda step, total: seen.append((step, total)))

    assert seen == [(2000, 4500), (2000, 4500), (500, 4500)]


def test_kept_columns_leave_every_line_where_it_was():
    text = (
        'hostname,password,note\nmail.example,"multi\nline",hi\n\na.example,x\nb.example,y,"z\nz"\n'
    )

    kept = columns_keep(text, ("hostname", "status", "replaced_by", "note"))

    assert kept.ignored == ["password"]
    assert kept.content.decode() == 'hostname,note\nmail.example,hi\n\n\n\nb.example,"z\nz"\n'
    _names, rows, _problems = read_table(kept.content, ["hostname"], ["note"])
    assert [(line, cells["hostname"]) for line, cells in rows] == [
        (2, "mail.example"),
        (6, "b.example"),
    ]
    assert [str(p) for p in kept.problems] == ["line 5, column -: expected 3 cells, found 2"]
