"""Staff roles: Django staff users in the group `support` or `admin`."""

from __future__ import annotations

from typing import Any

SUPPORT_GROUP = "support"
ADMIN_GROUP = "admin"

# What the admin group may change in the Django admin.
ADMIN_GROUP_APPS = ("accounts", "checks", "django_celery_beat", "axes")
ADMIN_GROUP_MODELS = (("auth", "user"),)


def _in_group(user: Any, *names: str) -> bool:
    return user.groups.filter(name__in=names).exists()


def is_staff_member(user: Any) -> bool:
    """Support staff or staff admins: may use the staff pages."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or _in_group(user, SUPPORT_GROUP, ADMIN_GROUP)


def is_staff_admin(user: Any) -> bool:
    """Staff admins: may also use the Django admin."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or _in_group(user, ADMIN_GROUP)


def staff_groups_ensure(**kwargs: Any) -> None:
    """Create the two staff groups and give `admin` the portal's model permissions."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    Group.objects.get_or_create(name=SUPPORT_GROUP)
    admin, _created = Group.objects.get_or_create(name=ADMIN_GROUP)
    wanted = Q(content_type__app_label__in=ADMIN_GROUP_APPS)
    for app_label, model in ADMIN_GROUP_MODELS:
        wanted |= Q(content_type__app_label=app_label, content_type__model=model)
    admin.permissions.add(*Permission.objects.filter(wanted))
