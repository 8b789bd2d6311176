"""The Django admin, open to staff admins only (support staff use the staff pages), after
the portal's own login and second factor."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_staff_admin


class PortalAdminSite(admin.AdminSite):
    site_header = _("Mail Settings Portal administration")
    site_title = _("Mail Settings Portal")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        return is_staff_admin(request.user) and request.user.is_verified()

    def login(self, request, extra_context=None):
        """One login page for everyone: the portal's (with its lockout and second factor)."""
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))
