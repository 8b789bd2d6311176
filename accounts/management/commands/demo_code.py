"""The demo staff's current two-factor code, so that a newcomer can walk the staff pages
of `make run` without an authenticator app. Development (DEBUG) only."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands.load_demo import DEMO_DEVICE_NAME


class Command(BaseCommand):
    help = "Print the demo staff's current two-factor code (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code only works with DEBUG on (the demo).")
        devices = TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME).select_related("user")
        if not devices:
            raise CommandError("No demo staff: run `python manage.py load_demo` first.")
        for device in devices.order_by("user__username"):
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            code = f"{totp.token():0{device.digits}d}"
            self.stdout.write(f"{device.user.get_username():<8} {code}")
