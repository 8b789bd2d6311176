"""The one tenancy helper: every customer-facing read goes through here.

Each customer-owned model names its path to the customer in `tenant_path`
("" for Customer itself). `visible_to(user)` keeps the rows of the customers
the user is a member of; `get_visible_or_404` turns anything else into a 404,
so another customer's id looks exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404


class TenantQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TenantQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        path = self.model.tenant_path
        prefix = f"{path}__" if path else ""
        return self.filter(**{f"{prefix}memberships__user": user})


def get_visible_or_404(
    queryset: models.QuerySet | type[models.Model], user: Any, **lookup: Any
) -> models.Model:
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
