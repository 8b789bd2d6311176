"""Who may open which page: the one staff check, and the navigation it implies."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.models import Customer
from accounts.roles import is_staff_admin, is_staff_member


def staff_required(view: Any) -> Any:
    """Support staff and staff admins only; anyone else signed in gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_admin_required(view: Any) -> Any:
    """Staff admins only; anyone else signed in gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def is_staff_request(request) -> bool:
    """`is_staff_member` for the request's user, asked once per request."""
    if not hasattr(request, "_is_staff_member"):
        request._is_staff_member = is_staff_member(request.user)
    return request._is_staff_member


def navigation(request) -> dict[str, Any]:
    """Template context: the customers the user may switch between, and the staff links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Staff links once the second factor is given (before it, they lead nowhere).
    staff = is_staff_request(request) and user.is_verified()
    return {
        "nav_customers": Customer.objects.visible_to(user).only("slug", "name"),
        "nav_is_staff": staff,
        "nav_is_admin": staff and is_staff_admin(user),
    }
