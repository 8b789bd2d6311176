"""The Django admin, as staff admins use it."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import ServerName
from accounts.roles import ADMIN_GROUP, SUPPORT_GROUP
from tests.conftest import login_staff


def test_contact_addresses_are_checked_line_by_line(staff_admin, client, alpha):
    login_staff(client, staff_admin)
    url = f"/admin/accounts/customer/{alpha.pk}/change/"
    response = client.post(
        url,
        {
            "slug": "alpha",
            "name": "アルファ商事",
            "contact_emails": "it@alpha.example\nnot-an-address",
            "language": "ja",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "line 2: “not-an-address” is not a valid e-mail address" in response.content.decode()


# Who may hand out powers: superusers only. A staff admin's crafted POSTs change nothing.

POWERS = ("is_staff", "is_superuser")


def user_post(user, **changes):
    """The change form as a browser would send it, with `changes` on top."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(changes)
    return data


def power_grab(*, groups=(), permissions=()):
    return {
        "is_staff": "on",
        "is_superuser": "on",
        "groups": groups,
        "user_permissions": permissions,
    }


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@hosting.example", "pw-1234567!")


@pytest.fixture
def everything():
    """Every group and a permission a staff admin does not hold."""
    support = Group.objects.get_or_create(name=SUPPORT_GROUP)[0]
    admin = Group.objects.get_or_create(name=ADMIN_GROUP)[0]
    permission = Permission.objects.get(codename="change_group")
    return [support.pk, admin.pk], [permission.pk]


def test_staff_admin_cannot_make_itself_superuser_or_take_groups_and_permissions(
    staff_admin, client, everything
):
    groups, permissions = everything
    login_staff(client, staff_admin)

    response = client.post(
        f"/admin/auth/user/{staff_admin.pk}/change/",
        user_post(
            staff_admin, first_name="Adam", **power_grab(groups=groups, permissions=permissions)
        ),
    )

    assert response.status_code == 302  # the harmless part is saved...
    staff_admin.refresh_from_db()
    assert staff_admin.first_name == "Adam"
    assert not staff_admin.is_superuser  # ...the powers are not
    assert list(staff_admin.groups.values_list("name", flat=True)) == [ADMIN_GROUP]
    assert not staff_admin.user_permissions.exists()


def test_staff_admin_cannot_make_a_customer_user_staff(
    staff_admin, alpha_person, client, everything
):
    groups, permissions = everything
    login_staff(client, staff_admin)

    response = client.post(
        f"/admin/auth/user/{alpha_person.pk}/change/",
        user_post(
            alpha_person, last_name="Alpha", **power_grab(groups=groups, permissions=permissions)
        ),
    )

    assert response.status_code == 302
    alpha_person.refresh_from_db()
    assert alpha_person.last_name == "Alpha"
    assert not alpha_person.is_staff and not alpha_person.is_superuser
    assert not alpha_person.groups.exists() and not alpha_person.user_permissions.exists()


def test_staff_admin_sees_no_power_checkboxes(staff_admin, alpha_person, client):
    login_staff(client, staff_admin)

    page = client.get(f"/admin/auth/user/{alpha_person.pk}/change/").content.decode()

    assert 'name="username"' in page
    for name in (*POWERS, "groups", "user_permissions"):
        assert f'name="{name}"' not in page


def test_staff_admin_cannot_add_a_user_with_powers(
    staff_admin, client, django_user_model, everything
):
    groups, permissions = everything
    login_staff(client, staff_admin)

    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": "a-long-pass-2026!",
            "password2": "a-long-pass-2026!",
            **power_grab(groups=groups, permissions=permissions),
        },
    )

    assert response.status_code == 302
    mallory = django_user_model.objects.get(username="mallory")
    assert not mallory.is_staff and not mallory.is_superuser
    assert not mallory.groups.exists() and not mallory.user_permissions.exists()


def test_staff_admin_cannot_touch_groups(staff_admin, client, everything):
    _groups, permissions = everything
    admin_group = Group.objects.get(name=ADMIN_GROUP)
    before = set(admin_group.permissions.values_list("pk", flat=True))
    login_staff(client, staff_admin)

    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/").content.decode().count("/admin/auth/group/") == 0
    changed = client.post(
        f"/admin/auth/group/{admin_group.pk}/change/",
        {"name": ADMIN_GROUP, "permissions": [*before, *permissions]},
    )
    added = client.post("/admin/auth/group/add/", {"name": "root-ish", "permissions": permissions})
    deleted = client.post(f"/admin/auth/group/{admin_group.pk}/delete/", {"post": "yes"})

    assert (changed.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    assert set(admin_group.permissions.values_list("pk", flat=True)) == before
    assert not Group.objects.filter(name="root-ish").exists()


def test_staff_admin_cannot_change_a_superuser_or_its_password(staff_admin, superuser, client):
    login_staff(client, staff_admin)

    changed = client.post(
        f"/admin/auth/user/{superuser.pk}/change/", user_post(superuser, is_active="")
    )
    password = client.post(
        f"/admin/auth/user/{superuser.pk}/password/",
        {"password1": "taken-over-2026!", "password2": "taken-over-2026!"},
    )
    deleted = client.post(f"/admin/auth/user/{superuser.pk}/delete/", {"post": "yes"})

    assert (changed.status_code, password.status_code, deleted.status_code) == (403, 403, 403)
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.check_password("pw-1234567!")


def test_superuser_still_gives_staff_status_groups_and_permissions(
    superuser, alpha_person, client, everything
):
    groups, permissions = everything
    login_staff(client, superuser)

    response = client.post(
        f"/admin/auth/user/{alpha_person.pk}/change/",
        user_post(alpha_person, is_staff="on", groups=groups[:1], user_permissions=permissions),
    )

    assert response.status_code == 302
    alpha_person.refresh_from_db()
    assert alpha_person.is_staff and not alpha_person.is_superuser
    assert list(alpha_person.groups.values_list("name", flat=True)) == [SUPPORT_GROUP]
    assert alpha_person.user_permissions.count() == 1
    assert client.get("/admin/auth/group/").status_code == 200


def test_staff_admin_cannot_delete_a_superuser_from_the_list(staff_admin, superuser, client):
    login_staff(client, staff_admin)

    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"},
    )

    assert response.status_code in (200, 403)
    assert type(superuser).objects.filter(pk=superuser.pk).exists()


def test_a_registry_name_must_be_a_dns_name_and_its_addresses_ip_addresses(staff_admin, client):
    login_staff(client, staff_admin)
    response = client.post(
        "/admin/accounts/servername/add/",
        {"hostname": "127.1", "status": "current", "addresses": "10.0.0.5 mail"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "“127.1” looks like an IP address" in page
    assert "“mail” is not an IP address" in page
    assert not ServerName.objects.exists()

    client.post(
        "/admin/accounts/servername/add/",
        {
            "hostname": "Mail.Internal.Example",
            "status": "current",
            "addresses": "10.0.0.5,10.0.0.6",
        },
    )
    server = ServerName.objects.get()
    assert (server.hostname, server.addresses) == ("mail.internal.example", "10.0.0.5 10.0.0.6")


def test_a_staff_admin_changes_when_a_periodic_task_runs_but_not_what_it_runs(client, staff_admin):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="checks.tasks.sweep_start")
    login_staff(client, staff_admin)
    url = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        regtask="portal.tasks.audit_purge",
        task="portal.tasks.audit_purge",
        args='["x"]',
        kwargs="{}",
        enabled="",
        interval=task.interval_id,
        description="moved",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert (task.task, task.args, task.enabled, task.description) == (
        "checks.tasks.sweep_start",
        "[]",
        False,
        "moved",
    )
    assert client.get("/admin/django_celery_beat/periodictask/add/").status_code == 403
