from django.apps import AppConfig
from django.core import checks as system_checks
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
        system_checks.register(compiled_reader_check)


def compiled_reader_check(app_configs=None, **kwargs) -> list:
    """`manage.py check` (and every start of the web server) says when the install could
    not build the compiled log reader: log ingest then still works, several times slower."""
    from checks.evidence import reading

    if reading.read_block is not None:
        return []
    return [
        system_checks.Warning(
            "The compiled log reader (checks/evidence/_fastread.pyx) is not built: log"
            " ingest reads with Python only, several times slower.",
            hint="Install a C compiler and Python's headers (Debian: build-essential"
            " python3-dev), then `pip install -e .` again.",
            id="evidence.W001",
        )
    ]
