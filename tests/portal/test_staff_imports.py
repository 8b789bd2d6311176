"""Staff upload: the preview shows what will change and writes nothing; applying writes it."""

import csv
import io
import os
import select
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.import_batches import (
    IMPORTERS,
    PLANNERS,
    _progress_recorder,
    import_batches_purge,
    import_batches_resume,
)
from accounts.models import Customer, ImportBatch, Mailbox, SettingsSheet
from accounts.sheet_imports import sheets_import, sheets_plan
from accounts.signals import sheets_changed
from accounts.tasks import import_batch_preview_task
from portal.audit.models import AuditEntry
from tests.accounts.test_imports import GOOD, HEADER, SERVERS
from tests.conftest import login_staff
from tests.portal.test_browser import ARTIFACTS, chromium
from tests.processes import wait_for

FILES_READ = []


class RecordingUploadHandler(FileUploadHandler):
    """Notes every file Django starts reading from a request body, then lets the
    ordinary handlers do the work."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        FILES_READ.append(file_name)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def files_read(settings):
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.portal.test_staff_imports.RecordingUploadHandler",
        *settings.FILE_UPLOAD_HANDLERS,
    ]
    FILES_READ.clear()
    return FILES_READ


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Post a file as the import form does; the worker's preview runs (eagerly) before
    the page is shown."""

    def post(client, text, kind="", encoding="utf-8", name="sheets.csv"):
        data = text if isinstance(text, bytes) else text.encode(encoding)
        file = SimpleUploadedFile(name, data, content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("import_list"), {"kind": kind, "file": file}, HTTP_ACCEPT_LANGUAGE="en"
            )
        if response.status_code != 302:
            return response
        return client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")

    return post


def test_upload_shows_a_preview_and_writes_nothing(upload, staff_client):
    response = upload(staff_client, GOOD, encoding="cp932")

    page = response.content.decode()
    assert "3 to create, 0 to change, 0 unchanged." in page
    assert "new customer aaabb: 株式会社エーエービービー" in page
    assert "test01@aaabb.co.jp" in page
    assert "Apply these changes" in page
    assert Mailbox.objects.count() == 0
    assert Customer.objects.count() == 0


def test_preview_of_changes_shows_before_and_after(
    upload, staff_client, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    changed = GOOD.replace("mail.aaabb.co.jp,587", "mail.hosting.example,995")

    page = upload(staff_client, changed).content.decode()

    assert "0 to create, 1 to change, 2 unchanged." in page
    assert "<del>mail.aaabb.co.jp</del> → <ins>mail.hosting.example</ins>" in page
    assert "<del>587</del> → <ins>995</ins>" in page


def test_applying_writes_the_file_once(upload, staff_client, django_capture_on_commit_callbacks):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    url = reverse("import_apply", kwargs={"code": batch.code})

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url)
    page = staff_client.get(
        reverse("import_detail", kwargs={"code": batch.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "Applied: 3 created, 0 changed, 0 unchanged." in page
    assert Mailbox.objects.count() == 3
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert (
        Mailbox.objects.get(email="test01@aaabb.co.jp").current_sheet.created_by.username == "sue"
    )

    again = staff_client.post(url, HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "This file cannot be applied (again)." in again
    assert Mailbox.objects.get(email="test01@aaabb.co.jp").sheets.count() == 1
    applied = AuditEntry.objects.get(action="import-apply")  # once, not for the refused retry
    assert (applied.actor.username, applied.detail["kind"]) == ("sue", "sheets")


def test_a_bad_file_lists_its_problems_and_cannot_be_applied(upload, staff_client):
    page = upload(
        staff_client, GOOD + "x,,bad,u,smtp,h.example,1,ssl,h.example,2,ssl,none\n"
    ).content.decode()

    assert "The file has 3 problems." in page
    assert "line 5, column email: “bad” is not a valid e-mail address" in page
    assert "Apply these changes" not in page
    batch = ImportBatch.objects.get()
    assert batch.status == "invalid"
    staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    assert Mailbox.objects.count() == 0


def test_a_file_that_went_bad_meanwhile_is_not_half_applied(
    upload, staff_client, alpha, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    # Between preview and apply, test01 was created under another customer.
    Mailbox.objects.create(
        customer=alpha, email="test01@aaabb.co.jp", username="x", protocol="imap"
    )

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    page = staff_client.get(
        reverse("import_detail", kwargs={"code": batch.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "nothing was written" in page
    assert "this address belongs to customer alpha" in page
    assert Mailbox.objects.count() == 1
    assert not Customer.objects.filter(slug="aaabb").exists()


def test_server_names_can_be_uploaded(upload, staff_client, django_capture_on_commit_callbacks):
    upload(staff_client, SERVERS, kind="servers", name="servers.csv")
    batch = ImportBatch.objects.get()
    assert batch.preview["counts"]["created"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    batch.refresh_from_db()
    assert batch.status == "applied"


def test_too_large_a_file_is_refused(upload, staff_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    page = upload(staff_client, GOOD).content.decode()
    assert "the largest accepted is 100" in page
    assert ImportBatch.objects.count() == 0


def test_old_upload_contents_are_purged(upload, staff_client, settings):
    upload(staff_client, GOOD)
    settings.IMPORT_KEEP_DAYS = -1
    assert import_batches_purge() == 1
    assert bytes(ImportBatch.objects.get().content) == b""


def test_an_upload_with_control_characters_lists_them_and_keeps_the_preview(upload, staff_client):
    text = GOOD.replace("山田商店", "山田\x00商店").replace("shop@yamada", "sh\x00op@yamada")

    response = upload(staff_client, text)

    page = response.content.decode()
    assert response.status_code == 200
    assert "line 4, column customer_name: control characters" in page
    assert "line 4, column email: control characters" in page
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.INVALID
    assert "\x00" not in str(batch.preview)
    assert not Customer.objects.exists()


def csrf_enforcing_client():
    """A client whose POSTs carry a CSRF cookie, as an attacker's can: Django's CSRF check
    then reads the body to find the token."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    return client


def multipart(name="secret.csv", text=GOOD):
    return {
        "kind": "",
        "csrfmiddlewaretoken": "a" * 32,
        "file": SimpleUploadedFile(name, text.encode()),
    }


def test_an_anonymous_upload_is_not_read_before_the_login_check(files_read, db):
    response = csrf_enforcing_client().post(reverse("import_list"), multipart())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert files_read == []
    assert ImportBatch.objects.count() == 0


def test_a_customers_upload_is_not_read_before_the_staff_check(files_read, alpha_person):
    client = csrf_enforcing_client()
    client.force_login(alpha_person)

    response = client.post(reverse("import_list"), multipart())

    assert response.status_code == 403
    assert files_read == []


def test_a_staff_upload_still_needs_the_csrf_token(files_read, support):
    client = Client(enforce_csrf_checks=True)
    login_staff(client, support)
    client.get(reverse("import_list"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    forged = client.post(reverse("import_list"), multipart() | {"csrfmiddlewaretoken": "b" * 32})
    genuine = client.post(reverse("import_list"), multipart() | {"csrfmiddlewaretoken": token})

    assert forged.status_code == 403
    assert genuine.status_code == 302
    assert files_read == ["secret.csv", "secret.csv"]  # read only once the sender was staff
    assert ImportBatch.objects.count() == 1


def test_a_300_mb_upload_is_refused_before_anything_reads_it(files_read, staff_client):
    # The body is tiny: the test client would fail loudly if anything read past it.
    response = staff_client.generic(
        "POST",
        reverse("import_list"),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(300 * 1024 * 1024),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 413
    page = response.content.decode()
    assert "The upload is 300.0\xa0MB; the largest file accepted is 32.0\xa0MB." in page
    assert "Nothing was read or stored" in page
    assert files_read == []


def test_an_anonymous_300_mb_upload_is_refused_before_anything_reads_it(files_read, db):
    response = Client().generic(
        "POST",
        reverse("import_list"),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(300 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert files_read == []


def test_other_pages_refuse_a_body_larger_than_form_data_may_be(files_read, db):
    response = Client().generic(
        "POST",
        reverse("login"),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 413
    assert "The request is 3.0\xa0MB; the largest accepted here is 2.5\xa0MB." in (
        response.content.decode()
    )
    assert files_read == []


def test_a_post_to_no_page_is_refused_before_the_not_found_page_reads_it(files_read, db):
    response = Client().generic(
        "POST",
        "/no-such-page/",
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert files_read == []


def test_the_preview_is_made_by_a_worker_while_the_page_refreshes_itself(staff_client):
    file = SimpleUploadedFile("sheets.csv", GOOD.encode())
    # No worker runs the preview task: the commit's callbacks are not executed.
    response = staff_client.post(
        reverse("import_list"), {"kind": "", "file": file}, HTTP_ACCEPT_LANGUAGE="en"
    )
    batch = ImportBatch.objects.get()
    detail = reverse("import_detail", kwargs={"code": batch.code})
    assert response.url == detail

    waiting = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    _progress_recorder(batch)(2000, 6000)
    halfway = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    import_batch_preview_task(batch.pk)
    done = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert batch.status == "checking"
    assert "A worker is checking the file; nothing is written." in waiting
    assert '<meta http-equiv="refresh" content="2">' in waiting
    assert '<progress value="2000" max="6000"></progress>' in halfway
    assert "2,000 of 6,000 rows checked" in halfway
    assert "3 to create, 0 to change, 0 unchanged." in done
    assert 'http-equiv="refresh"' not in done


def test_an_apply_that_loses_the_database_writes_nothing_is_tried_again_and_says_so(
    upload, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    tries = []

    def cut_off_once(data, **kwargs):
        plan = sheets_import(data, **kwargs)  # written inside the apply's transaction…
        tries.append(plan)
        if len(tries) == 1:  # …when the server goes away
            raise OperationalError("terminating connection due to administrator command")
        return plan

    monkeypatch.setitem(IMPORTERS, "sheets", cut_off_once)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    detail = reverse("import_detail", kwargs={"code": batch.code})
    english = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert len(tries) == 2
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert Mailbox.objects.count() == 3  # the first try's rows were rolled back
    assert set(SettingsSheet.objects.values_list("version", flat=True)) == {1}
    [interruption] = batch.interruption_list()
    assert interruption.reason == "database" and interruption.count == 1
    assert "Applied: 3 created, 0 changed, 0 unchanged." in english
    assert "Interrupted and resumed:" in english
    assert "(the connection to the database was lost), went on at" in english
    assert "tries started again: 1" in english
    assert "the database undid whatever an interrupted try had written" in english
    assert "中断と再開:" in japanese
    assert "に中断（データベースとの接続が切れました）" in japanese
    assert "やり直した回数: 1" in japanese


def test_a_preview_that_loses_the_database_is_tried_again(
    staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    tries = []

    def cut_off_once(data, **kwargs):
        tries.append(data)
        if len(tries) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return sheets_plan(data, **kwargs)

    monkeypatch.setitem(PLANNERS, "sheets", cut_off_once)
    file = SimpleUploadedFile("sheets.csv", GOOD.encode())
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_list"), {"kind": "", "file": file})

    batch = ImportBatch.objects.get()
    assert len(tries) == 2
    assert batch.status == "preview" and batch.preview["counts"]["created"] == 3
    assert [i.reason for i in batch.interruption_list()] == ["database"]


def test_beat_hands_out_again_an_import_whose_message_was_lost(
    upload, staff_client, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))  # message lost
    assert import_batches_resume() == 0  # handed out just now: it may still come
    lost_at = timezone.now() - timedelta(minutes=5)
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=lost_at)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_batches_resume() == 1

    batch.refresh_from_db()
    assert batch.status == "applied" and Mailbox.objects.count() == 3
    [interruption] = batch.interruption_list()
    assert (interruption.reason, interruption.at) == ("stalled", lost_at)
    assert import_batches_resume() == 0


@pytest.mark.django_db(transaction=True)
def test_beat_leaves_alone_an_import_a_worker_is_applying(support):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite locks the whole database, not a row")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    batch = ImportBatch.objects.create(
        kind="sheets",
        filename="f.csv",
        content=GOOD.encode(),
        status="queued",
        queued_at=an_hour_ago,
    )
    locked, release = threading.Event(), threading.Event()

    def applying():  # as import_batch_apply holds the row, on a connection of its own
        with transaction.atomic():
            ImportBatch.objects.select_for_update().get(pk=batch.pk)
            locked.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=applying)
    worker.start()
    try:
        assert locked.wait(10)
        assert import_batches_resume() == 0
    finally:
        release.set()
        worker.join()
    assert import_batches_resume() == 1  # the worker died without applying it


def test_a_change_the_database_refuses_fails_the_apply_without_a_retry(
    upload, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    tries = []

    def refused(data, **kwargs):
        tries.append(data)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setitem(IMPORTERS, "sheets", refused)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))

    assert len(tries) == 1
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.interruptions == []
    assert batch.result["problems"] == [
        "the database refused the change (IntegrityError); nothing was written"
    ]


def test_a_refused_file_keeps_its_problems_but_not_its_content(upload, staff_client):
    page = upload(staff_client, GOOD + "x,,bad,u,smtp,h,1,ssl,h,2,ssl,none\n").content.decode()

    batch = ImportBatch.objects.get()
    assert batch.status == "invalid"
    assert bytes(batch.content) == b""
    assert "line 5, column email: “bad” is not a valid e-mail address" in page


def test_an_unreadable_file_is_refused_at_once_without_its_content(upload, staff_client):
    data = HEADER.encode() + "aaabb,Ünïcødé\x80".encode("latin-1") + b"\xff\xfe\n"

    page = upload(staff_client, data).content.decode()

    batch = ImportBatch.objects.get()
    assert (batch.status, bytes(batch.content)) == ("invalid", b"")
    assert "line 2, column -: the file is neither UTF-8, Shift_JIS (CP932) nor EUC-JP text" in page


def test_columns_the_import_does_not_use_are_never_stored(staff_client, support):
    with_password = "".join(
        line + (",password,memo\n" if number == 0 else f",Secret-{number},call first\n")
        for number, line in enumerate(GOOD.splitlines())
    )
    file = SimpleUploadedFile("sheets.csv", with_password.encode())

    staff_client.post(reverse("import_list"), {"kind": "", "file": file})

    batch = ImportBatch.objects.get()
    stored = bytes(batch.content).decode()
    assert "Secret-" not in stored and "password" not in stored and "call first" not in stored
    assert next(csv.reader(io.StringIO(stored))) == HEADER.strip().split(",")
    import_batch_preview_task(batch.pk)
    page = staff_client.get(
        reverse("import_detail", kwargs={"code": batch.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Columns the import does not use were ignored and not stored:" in page
    assert "<code>password, memo</code>" in page
    assert "3 to create, 0 to change, 0 unchanged." in page


def test_a_row_that_does_not_fit_the_header_is_left_out_and_reported(upload, staff_client):
    text = (
        HEADER.strip()
        + ",password\n"
        + GOOD.splitlines()[1]
        + ",Secret-1\n"
        + GOOD.splitlines()[2]
        + ",Secret-2,extra\n"
        + GOOD.splitlines()[3]
        + ",Secret-3\n"
    )

    page = upload(staff_client, text).content.decode()

    assert "line 3, column -: expected 13 cells, found 14" in page
    assert "The file has 1 problem." in page
    assert bytes(ImportBatch.objects.get().content) == b""


def test_a_sheet_file_is_read_as_sheets_whatever_the_kind_was_left_at(upload, staff_client):
    page = upload(staff_client, GOOD, kind="").content.decode()

    assert ImportBatch.objects.get().kind == "sheets"
    assert "3 to create, 0 to change, 0 unchanged." in page


def test_a_sheet_file_uploaded_as_server_names_is_still_read_as_sheets(upload, staff_client):
    page = upload(staff_client, GOOD, kind="servers").content.decode()

    assert ImportBatch.objects.get().kind == "sheets"
    assert "3 to create, 0 to change, 0 unchanged." in page


def test_a_server_file_is_read_as_server_names(upload, staff_client):
    upload(staff_client, SERVERS, name="servers.csv")

    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.status) == ("servers", "preview")


def test_a_header_that_does_not_say_what_it_is_asks_for_the_kind(upload, staff_client):
    page = upload(staff_client, "a,b,c\n1,2,3\n").content.decode()

    assert "The header does not say whether the file holds settings sheets or server names" in page
    assert ImportBatch.objects.count() == 0


def test_the_chosen_kind_counts_when_the_header_does_not_say(upload, staff_client):
    page = upload(staff_client, "a,b,c\n1,2,3\n", kind="servers").content.decode()

    assert (
        "line 1, column -: none of the columns is one this import uses; "
        "they are hostname,status,replaced_by,note" in page
    )


def readme_header(kind):
    """The first line of the README's example file of the kind."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    command = {"sheets": "import_sheets", "servers": "import_servers"}[kind]
    block = readme.split(f"python manage.py {command} FILE.csv", 1)[1]
    return block.split("```csv\n", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("kind", ["sheets", "servers"])
def test_each_kind_has_a_template_that_excel_opens_and_the_import_accepts(
    upload, staff_client, kind
):
    response = staff_client.get(reverse("import_template", kwargs={"kind": kind}))
    data = response.content

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}-template.csv"'
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode().split("\r\n")
    assert (lines[0], len(lines)) == (readme_header(kind), 3)  # header, example, end
    page = upload(staff_client, data, name=f"{kind}-template.csv").content.decode()
    assert "1 to create, 0 to change, 0 unchanged." in page
    assert ImportBatch.objects.get().kind == kind


def test_an_unknown_template_is_not_found(staff_client):
    assert staff_client.get(reverse("import_template", kwargs={"kind": "x"})).status_code == 404


def test_a_file_with_nothing_to_change_offers_no_apply(
    upload, staff_client, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": ImportBatch.objects.get().code}))

    page = upload(staff_client, GOOD).content.decode()

    assert "Nothing to change: all 3 entries in the file are already stored as they say." in page
    assert "Apply these changes" not in page
    batch = ImportBatch.objects.first()
    assert (batch.status, bytes(batch.content)) == ("nothing", b"")


def test_a_preview_can_be_discarded_and_then_not_applied(upload, staff_client):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()

    page = staff_client.post(
        reverse("import_discard", kwargs={"code": batch.code}),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    ).content.decode()
    staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))

    assert "The file is discarded; nothing was written." in page
    assert "Apply these changes" not in page
    batch.refresh_from_db()
    assert (batch.status, bytes(batch.content)) == ("discarded", b"")
    assert Mailbox.objects.count() == 0


def test_customers_cannot_discard_or_apply(upload, staff_client, client, alpha_person):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    client.force_login(alpha_person)

    for name in ("import_discard", "import_apply"):
        assert client.post(reverse(name, kwargs={"code": batch.code})).status_code == 403
    assert ImportBatch.objects.get().status == "preview"


def test_previews_older_than_a_day_are_discarded_by_the_cleanup(upload, staff_client):
    upload(staff_client, GOOD)
    upload(staff_client, GOOD.replace("test01@", "test02@"))
    upload(staff_client, GOOD.replace("test01@", "test03@"))
    old, recent, stuck = ImportBatch.objects.order_by("pk")
    day_ago = old.created_at - timedelta(hours=25)
    ImportBatch.objects.filter(pk=old.pk).update(created_at=day_ago)
    ImportBatch.objects.filter(pk=stuck.pk).update(created_at=day_ago, status="checking")

    import_batches_purge()

    for batch in (old, recent, stuck):
        batch.refresh_from_db()
    assert (old.status, bytes(old.content)) == ("discarded", b"")
    assert (stuck.status, bytes(stuck.content)) == ("discarded", b"")
    assert recent.status == "preview" and bytes(recent.content)


def test_applying_shows_a_live_progress_bar_then_the_outcome(
    upload, staff_client, django_capture_on_commit_callbacks
):
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    detail = reverse("import_detail", kwargs={"code": batch.code})
    pages_while_writing = []

    def look(**kwargs):
        pages_while_writing.append(staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en"))

    sheets_changed.connect(look)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
        queued = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        callbacks[0]()  # the worker takes the task
    finally:
        sheets_changed.disconnect(look)
    done = staff_client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Waiting for a worker to apply the file." in queued
    assert '<meta http-equiv="refresh" content="2">' in queued
    writing = pages_while_writing[0].content.decode()
    assert "A worker is applying the file." in writing
    assert '<progress value="3" max="3"></progress>' in writing
    assert "3 of 3 settings sheets written" in writing
    assert '<meta http-equiv="refresh" content="2">' in writing
    assert "Applied: 3 created, 0 changed, 0 unchanged." in done
    assert 'http-equiv="refresh"' not in done


def in_thread(work):
    """Run database work on a thread of its own: inside the browser block Playwright's
    event loop owns this one."""

    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_staff_member_uploads_and_the_page_follows_the_worker_in_a_real_browser(
    live_server, support, tmp_path
):
    client = Client()
    login_staff(client, support)
    session = client.cookies["sessionid"].value
    path = tmp_path / "sheets.csv"
    path.write_bytes(
        "".join(
            line + (",password\r\n" if n == 0 else f",Secret-{n}\r\n")
            for n, line in enumerate(GOOD.splitlines())
        ).encode("cp932")
    )

    with chromium() as browser:
        context = browser.new_context(locale="en-US")
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}{reverse('import_list')}")
        page.set_input_files("input[type=file]", str(path))
        page.click("main form button[type=submit]")
        page.wait_for_selector("text=3 to create, 0 to change, 0 unchanged.")
        assert "password" in page.inner_text("main")
        detail = page.url

        in_thread(
            lambda: ImportBatch.objects.update(
                status=ImportBatch.Status.CHECKING, preview={"ignored": ["password"]}
            )
        )
        page.goto(detail)
        assert "A worker is checking the file" in page.inner_text("main")
        in_thread(lambda: import_batch_preview_task(ImportBatch.objects.get().pk))
        # No reload here: the page refreshes itself.
        page.wait_for_selector("text=3 to create, 0 to change, 0 unchanged.", timeout=10_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "import-preview.png"), full_page=True)

    batch = ImportBatch.objects.get()
    assert batch.kind == "sheets"
    assert b"Secret" not in bytes(batch.content)


def test_a_real_server_answers_an_anonymous_300_mb_upload_without_taking_it(tmp_path):
    """gunicorn, as in production: the answer comes while the sender is still sending,
    and the server stops taking the body after a few megabytes at most."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=settings.BASE_DIR,
        env=os.environ | {"SECRET_KEY": settings.SECRET_KEY},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(lambda: _accepts(port), 30), (tmp_path / "gunicorn.log").read_text()
        answer, sent = _post_until_answered(port, 300 * 1024 * 1024)
    finally:
        server.terminate()
        server.wait(15)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert sent < 32 * 1024 * 1024


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _post_until_answered(port, length):
    """Send a multipart POST of `length` bytes to the import page, reading as it goes;
    the first bytes of the answer and how much of the body went out."""
    head = (
        f"POST {reverse('import_list')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n"
        f"Cookie: csrftoken={'a' * 32}\r\n\r\n"  # so Django's CSRF check would read the body
    )
    chunk, sent, answer = b"\0" * 65536, 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode())
        while sent < length and not answer:
            readable, writable, _ = select.select([conn], [conn], [], 30)
            if readable:
                answer = conn.recv(4096)
            elif writable:
                try:
                    sent += conn.send(chunk)
                except OSError:
                    break
        if not answer:
            answer = conn.recv(4096)
    return answer, sent
