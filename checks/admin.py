from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import TextCheckedAdmin
from checks.evidence.ingest import token_create
from checks.models import Endpoint, Event, IngestToken, LogSource, ProbeResult, Sweep


@admin.register(Endpoint)
class EndpointAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["host", "port", "protocol", "security", "in_registry", "in_sheets"]
    list_filter = ["protocol", "security", "in_registry", "in_sheets"]
    search_fields = ["host"]
    readonly_fields = ["last_result", "state", "pending_state", "pending_count"]


class ReadOnlyAdmin(TextCheckedAdmin, admin.ModelAdmin):
    """Probe results and events are evidence: written by the probes only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProbeResult)
class ProbeResultAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "checked_at", "reachable", "error", "tls_version", "elapsed_ms"]
    list_filter = ["error", "tls_version"]
    list_select_related = ["endpoint"]
    date_hierarchy = "checked_at"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "kind", "detail", "created_at", "mailed_at"]
    list_filter = ["kind"]
    list_select_related = ["endpoint"]


@admin.register(Sweep)
class SweepAdmin(ReadOnlyAdmin):
    list_display = ["pk", "started_at", "finished_at", "status", "endpoint_count", "batches_done"]


@admin.register(LogSource)
class LogSourceAdmin(TextCheckedAdmin, admin.ModelAdmin):
    list_display = ["name", "last_ingest_at", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["counts", "last_ingest_at"]


@admin.register(IngestToken)
class IngestTokenAdmin(TextCheckedAdmin, admin.ModelAdmin):
    """A new token is shown once, when it is added; only its hash is kept."""

    list_display = ["source", "hint", "created_at", "revoked_at"]
    list_filter = ["source"]
    fields = ["source"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        row, token = token_create(obj.source)
        obj.pk = row.pk
        self.message_user(
            request,
            _(
                "The token for %(source)s (shown only now; copy it into the shipper's settings): %(token)s"
            )
            % {"source": row.source, "token": token},
            messages.WARNING,
        )

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            self.log_change(request, token, "revoked")  # the admin's log feeds the audit log
