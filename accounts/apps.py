from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Customers and mailboxes")

    def ready(self) -> None:
        from accounts.roles import staff_groups_ensure

        # After every app's migrations, not only ours: the permissions of apps migrated
        # after accounts (checks) exist only then, and the admin group needs them too.
        post_migrate.connect(staff_groups_ensure, dispatch_uid="staff_groups_ensure")
