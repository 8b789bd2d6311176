from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"

    def ready(self) -> None:
        from checks.findings import findings_recomputed
        from portal import campaigns
        from portal.audit import record  # noqa: F401  (connects the login signals)

        def verify(sender, mailbox_ids, **kwargs):
            campaigns.mailboxes_verify(mailbox_ids)

        findings_recomputed.connect(verify, weak=False)


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "portal.admin_site.PortalAdminSite"
