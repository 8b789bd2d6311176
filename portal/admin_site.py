"""The Django admin, open to staff admins only (support staff use the staff pages)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_staff_admin


class PortalAdminSite(admin.AdminSite):
    site_header = _("Mail Settings Portal administration")
    site_title = _("Mail Settings Portal")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        return is_staff_admin(request.user)
