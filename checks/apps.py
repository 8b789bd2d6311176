from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    name = "checks"
    verbose_name = _("Mail server checks")

    def ready(self) -> None:
        from accounts.models import ServerName
        from accounts.signals import registry_changed, sheets_changed
        from checks import receivers

        sheets_changed.connect(receivers.on_sheets_changed)
        registry_changed.connect(receivers.on_registry_changed)
        # Edits in the admin change the registry too.
        post_save.connect(receivers.on_registry_changed, sender=ServerName)
        post_delete.connect(receivers.on_registry_changed, sender=ServerName)
