from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User

from accounts.forms import TextCheckedAdmin
from accounts.models import (
    Customer,
    ImportBatch,
    Mailbox,
    MailDomain,
    Membership,
    ServerName,
    SettingsSheet,
)


class MembershipInline(TextCheckedAdmin, admin.TabularInline):
    model = Membership
    autocomplete_fields = ["user"]
    extra = 1


@admin.register(Customer)
class CustomerAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["slug", "name", "language", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(ServerName)
class ServerNameAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["hostname", "status", "replaced_by", "addresses", "updated_at"]
    list_filter = ["status"]
    search_fields = ["hostname"]
    autocomplete_fields = ["replaced_by"]


@admin.register(Mailbox)
class MailboxAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["email", "customer", "username", "protocol"]
    list_filter = ["protocol"]
    search_fields = ["email", "username"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(SettingsSheet)
class SettingsSheetAdmin(TextCheckedAdmin, admin.ModelAdmin):
    """History is evidence: versions are only ever added (through the staff pages or imports)."""

    list_display = ["mailbox", "version", "incoming_host", "outgoing_host", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["mailbox__email"]
    list_select_related = ["mailbox"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "uploaded_by", "created_at", "applied_at"]
    list_filter = ["kind", "status"]
    exclude = ["content"]
    readonly_fields = ["kind", "filename", "status", "preview", "result", "uploaded_by"]


@admin.register(MailDomain)
class MailDomainAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["domain", "customer", "server", "protocol", "login"]
    search_fields = ["domain", "customer__slug", "customer__name"]
    autocomplete_fields = ["customer", "server"]


# Who holds which powers is for superusers alone: a staff admin (group `admin`) may
# manage people, but never tick staff or superuser status, groups or permissions —
# on itself or anyone — and never touch a superuser's account or the groups.
POWER_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(TextCheckedAdmin, auth_admin.UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *POWER_FIELDS)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Group)
class GroupAdmin(TextCheckedAdmin, auth_admin.GroupAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
