"""Staff upload: the preview shows what will change and writes nothing; applying writes it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.import_batches import import_batches_purge
from accounts.models import Customer, ImportBatch, Mailbox
from tests.accounts.test_imports import GOOD, SERVERS
from tests.conftest import login_staff


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


def upload(client, text, kind="sheets", encoding="utf-8", name="sheets.csv"):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(
        reverse("import_list"), {"kind": kind, "file": file}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )


def test_upload_shows_a_preview_and_writes_nothing(staff_client):
    response = upload(staff_client, GOOD, encoding="cp932")

    page = response.content.decode()
    assert "3 to create, 0 to change, 0 unchanged." in page
    assert "new customer aaabb: 株式会社エーエービービー" in page
    assert "test01@aaabb.co.jp" in page
    assert "Apply these changes" in page
    assert Mailbox.objects.count() == 0
    assert Customer.objects.count() == 0


def test_preview_of_changes_shows_before_and_after(
    staff_client, django_capture_on_commit_callbacks
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


def test_applying_writes_the_file_once(staff_client, django_capture_on_commit_callbacks):
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


def test_a_bad_file_lists_its_problems_and_cannot_be_applied(staff_client):
    page = upload(staff_client, GOOD + "x,,bad,u,smtp,h,1,ssl,h,2,ssl,none\n").content.decode()

    assert "The file has 3 problems." in page
    assert "line 5, column email: “bad” is not a valid e-mail address" in page
    assert "Apply these changes" not in page
    batch = ImportBatch.objects.get()
    assert batch.status == "invalid"
    staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    assert Mailbox.objects.count() == 0


def test_a_file_that_went_bad_meanwhile_is_not_half_applied(
    staff_client, alpha, django_capture_on_commit_callbacks
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


def test_server_names_can_be_uploaded(staff_client, django_capture_on_commit_callbacks):
    upload(staff_client, SERVERS, kind="servers", name="servers.csv")
    batch = ImportBatch.objects.get()
    assert batch.preview["counts"]["created"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("import_apply", kwargs={"code": batch.code}))
    batch.refresh_from_db()
    assert batch.status == "applied"


def test_too_large_a_file_is_refused(staff_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    page = upload(staff_client, GOOD).content.decode()
    assert "the largest accepted is 100" in page
    assert ImportBatch.objects.count() == 0


def test_old_upload_contents_are_purged(staff_client, settings):
    upload(staff_client, GOOD)
    settings.IMPORT_KEEP_DAYS = -1
    assert import_batches_purge() == 1
    assert bytes(ImportBatch.objects.get().content) == b""
