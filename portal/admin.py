"""Admin for logins: staff admins reset a colleague's second factor (they enrol again)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from accounts.admin import UserAdmin  # registered first; extended here
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.logins.two_factor import second_factor_reset

User = get_user_model()


@admin.action(description=_("Reset two-factor login (they set it up again at next login)"))
def reset_second_factor(modeladmin, request, queryset):
    done = skipped = 0
    for user in queryset:
        # Only a superuser may take a superuser's second factor away.
        if user.is_superuser and not request.user.is_superuser:
            skipped += 1
            continue
        second_factor_reset(user)
        audit_record(
            action=AuditEntry.Action.TWO_FACTOR,
            request=request,
            target=user.get_username(),
            detail={"change": "reset"},
        )
        done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext(
                "Two-factor login reset for %(count)d user.",
                "Two-factor login reset for %(count)d users.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )
    if skipped:
        modeladmin.message_user(
            request,
            _("Only a superuser can reset a superuser's two-factor login (%(count)d skipped).")
            % {"count": skipped},
            messages.ERROR,
        )


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """accounts' user admin (who may grant powers) with the second-factor reset."""

    actions = [reset_second_factor]


# What a periodic task runs: only superusers choose it. Staff admins may still change
# when it runs and switch it on or off (e.g. the sweep's interval).
WHAT_RUNS = ("task", "args", "kwargs", "queue", "exchange", "routing_key", "headers", "priority")


class GuardedPeriodicTaskAdmin(PeriodicTaskAdmin):
    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if change and not request.user.is_superuser:
            stored = PeriodicTask.objects.get(pk=obj.pk)
            for name in WHAT_RUNS:
                setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, GuardedPeriodicTaskAdmin)
