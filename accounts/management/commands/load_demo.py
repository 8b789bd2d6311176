"""Demo data: a hosting company's registry, three customers, staff and customer logins.

Idempotent: it goes through the same importers as real files, so running it
again changes nothing.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    Customer,
    Mailbox,
    MailDomain,
    Membership,
    ServerName,
    SettingsSheet,
    sheet_record,
)
from accounts.roles import ADMIN_GROUP, SUPPORT_GROUP, staff_groups_ensure
from accounts.server_imports import servers_import
from accounts.sheet_imports import sheets_import
from accounts.sheets import SheetValues

DEMO_PASSWORD = "demo-pass-2026"
# The demo staff's authenticator key (public, demo only): add it to an authenticator app,
# or print the current code with `python manage.py demo_code`.
DEMO_TOTP_KEY = "8ff4695aab293497ddfbd377e7ab70eaa0b83289"
DEMO_TOTP_KEY_BASE32 = "R72GSWVLFE2JPXP32N36PK3Q5KQLQMUJ"
DEMO_DEVICE_NAME = "demo authenticator"

SERVERS = """hostname,status,replaced_by,note
mail.hosting.example,current,,現行サーバ (証明書は mail.hosting.example を名乗る)
mail2.hosting.example,current,,現行サーバ (2 号機)
pop.hosting.example,legacy,mail.hosting.example,旧受信サーバ名
smtp.hosting.example,legacy,mail.hosting.example,旧送信サーバ名
mail.aaabb.co.jp,legacy,mail.hosting.example,お客様ドメイン名の旧サーバ名 (証明書に含まれない)
"""

SHEETS = """customer,customer_name,email,username,protocol,incoming_host,incoming_port,incoming_security,outgoing_host,outgoing_port,outgoing_security,smtp_auth
aaabb,株式会社エーエービービー,test01@aaabb.co.jp,test01,pop3,mail.aaabb.co.jp,587,ssl,mail.aaabb.co.jp,995,ssl,smtp-auth
yamada-shoten,山田商店,shop@yamada-shoten.example,shop,pop3,mail.hosting.example,110,none,mail.hosting.example,25,none,smtp-auth
yamada-shoten,山田商店,order@yamada-shoten.example,order,pop3,pop.hosting.example,110,none,smtp.hosting.example,25,none,pop-before-smtp
yamada-shoten,山田商店,taro@yamada-shoten.example,taro,pop3,pop.hosting.example,995,ssl,smtp.hosting.example,465,ssl,smtp-auth
sato-clinic,佐藤クリニック,reception@sato-clinic.example,reception@sato-clinic.example,imap,mail2.hosting.example,993,ssl,mail2.hosting.example,587,starttls,smtp-auth
"""

CONTACTS = {
    "aaabb": "it@aaabb.co.jp",
    "yamada-shoten": "owner@yamada-shoten.example",
    "sato-clinic": "office@sato-clinic.example",
}

# login, e-mail, staff group or None, customers
LOGINS = [
    ("support", "support@hosting.example", SUPPORT_GROUP, []),
    ("admin", "admin@hosting.example", ADMIN_GROUP, []),
    ("aaabb", "it@aaabb.co.jp", None, ["aaabb"]),
    ("yamada", "owner@yamada-shoten.example", None, ["yamada-shoten"]),
    ("multi", "office@sato-clinic.example", None, ["sato-clinic", "aaabb"]),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            staff_groups_ensure()
            servers_import(SERVERS.encode())
            sheets_import(SHEETS.encode())
            for slug, address in CONTACTS.items():
                Customer.objects.filter(slug=slug, contact_emails="").update(contact_emails=address)
            self.logins_ensure()
            self.history_ensure()
            self.domains_ensure()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login, _email, group, slugs in LOGINS:
            role = f"staff ({group})" if group else "customer: " + ", ".join(slugs)
            self.stdout.write(f"  {login:<8} {role}")
        self.stdout.write(
            f"Staff second factor (demo only): authenticator key {DEMO_TOTP_KEY_BASE32},"
            " or the current code from `python manage.py demo_code`."
        )

    def logins_ensure(self) -> None:
        User = get_user_model()
        for login, email, group, slugs in LOGINS:
            user, created = User.objects.get_or_create(
                username=login, defaults={"email": email, "is_staff": bool(group)}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
                TOTPDevice.objects.get_or_create(
                    user=user,
                    name=DEMO_DEVICE_NAME,
                    defaults={"key": DEMO_TOTP_KEY, "confirmed": True},
                )
            for slug in slugs:
                Membership.objects.get_or_create(
                    user=user, customer=Customer.objects.get(slug=slug)
                )

    def domains_ensure(self) -> None:
        """Each demo customer's mail domain, served to self-configuring mail programs."""
        server = ServerName.objects.get(hostname="mail.hosting.example")
        for slug, domain, protocol in (
            ("aaabb", "aaabb.co.jp", "pop3"),
            ("yamada-shoten", "yamada-shoten.example", "pop3"),
            ("sato-clinic", "sato-clinic.example", "imap"),
        ):
            MailDomain.objects.get_or_create(
                domain=domain,
                defaults={
                    "customer": Customer.objects.get(slug=slug),
                    "server": server,
                    "protocol": protocol,
                    "login": MailDomain.Login.LOCAL
                    if slug == "yamada-shoten"
                    else MailDomain.Login.EMAIL,
                },
            )

    def history_ensure(self) -> None:
        """A mailbox with a history: imported with the old name over plain IMAP, then fixed."""
        mailbox, _created = Mailbox.objects.get_or_create(
            email="info@aaabb.co.jp",
            defaults={
                "customer": Customer.objects.get(slug="aaabb"),
                "username": "info@aaabb.co.jp",
                "protocol": "imap",
            },
        )
        if mailbox.current_sheet_id is None:
            sheet_record(
                mailbox,
                SheetValues(
                    "mail.aaabb.co.jp", 143, "none", "mail.aaabb.co.jp", 25, "none", "smtp-auth"
                ),
                source=SettingsSheet.Source.IMPORT,
            )
        sheet_record(
            mailbox,
            SheetValues(
                "mail.hosting.example", 993, "ssl", "mail.hosting.example", 465, "ssl", "smtp-auth"
            ),
            source=SettingsSheet.Source.STAFF,
            by=get_user_model().objects.get(username="support"),
            note="お客様から電話: SSL 設定に変更済み",
        )
