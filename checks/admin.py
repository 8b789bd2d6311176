from django.contrib import admin

from accounts.forms import TextCheckedAdmin
from checks.models import Endpoint, Event, ProbeResult, Sweep


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
