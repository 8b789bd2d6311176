from django.contrib import admin

from accounts.models import (
    Customer,
    ImportBatch,
    Mailbox,
    MailDomain,
    Membership,
    ServerName,
    SettingsSheet,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ["user"]
    extra = 1


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "language", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(ServerName)
class ServerNameAdmin(admin.ModelAdmin):
    list_display = ["hostname", "status", "replaced_by", "addresses", "updated_at"]
    list_filter = ["status"]
    search_fields = ["hostname"]
    autocomplete_fields = ["replaced_by"]


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "username", "protocol"]
    list_filter = ["protocol"]
    search_fields = ["email", "username"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(SettingsSheet)
class SettingsSheetAdmin(admin.ModelAdmin):
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
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "uploaded_by", "created_at", "applied_at"]
    list_filter = ["kind", "status"]
    exclude = ["content"]
    readonly_fields = ["kind", "filename", "status", "preview", "result", "uploaded_by"]


@admin.register(MailDomain)
class MailDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "customer", "server", "protocol", "login"]
    search_fields = ["domain", "customer__slug", "customer__name"]
    autocomplete_fields = ["customer", "server"]
