from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from checks.findings import findings_recomputed
        from portal.audit import record  # noqa: F401  (connects the login signals)
        from portal.logins.middleware import session_times_start

        def verify(sender, mailbox_ids, **kwargs):
            from portal.campaigns.models import Campaign

            if not Campaign.objects.filter(state=Campaign.State.RUNNING).exists():
                return  # most of the time: nothing to verify
            # Imported when first needed: a process whose recomputes have no campaign to
            # verify (an ingest, most of the time) goes without the campaigns' machinery.
            from portal.campaigns import lifecycle

            lifecycle.mailboxes_verify(mailbox_ids)

        findings_recomputed.connect(verify, weak=False)
        user_logged_in.connect(session_times_start)


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "portal.admin_site.PortalAdminSite"
