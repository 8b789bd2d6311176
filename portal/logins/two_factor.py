"""The staff's second factor: a TOTP app (enrolled once, with ten recovery codes) asked
once per session. Customers are never asked."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import is_staff_member
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record

RECOVERY_CODES = 10


def totp_secret(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it by hand: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def recovery_codes_create(user: Any) -> list[str]:
    """New recovery codes for `user`, replacing any old ones; each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes")
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


WAIT = _("Too many wrong codes in a row: wait a minute, then enter the code the app shows now.")


def _waiting(device: Device) -> bool:
    """After wrong codes a device refuses every code for a while (1 s, 2 s, 4 s ...)."""
    return not device.verify_is_allowed()[0]


def second_factor_match(user: Any, code: str) -> tuple[Device | None, bool]:
    """The confirmed device that accepts `code` (six digits: the TOTP app; otherwise a
    recovery code, used up by matching), and whether that kind of device was refusing
    codes for a while after wrong ones."""
    code = "".join(code.split()).lower()
    model = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
    with transaction.atomic():
        devices = list(model.objects.filter(user=user, confirmed=True).select_for_update())
        waiting = any(_waiting(device) for device in devices)
        for device in devices:
            if device.verify_token(code):
                return device, waiting
    return None, waiting


def second_factor_reset(user: Any) -> None:
    """Removes the user's TOTP app and recovery codes: they enrol again at the next login,
    and a session verified with the old device is no longer verified."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("staff_home" if is_staff_member(request.user) else "home")


@never_cache
@login_required
def two_factor(request):
    """Enrolment the first time, the code prompt after that."""
    user = request.user
    if not is_staff_member(user) or user.is_verified():
        return redirect(_next_url(request))
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return _enrol(request)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        device, waiting = second_factor_match(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                audit_record(
                    action=AuditEntry.Action.TWO_FACTOR,
                    request=request,
                    target=user.get_username(),
                    detail={"change": "recovery-code-used"},
                )
            return redirect(_next_url(request))
        form.add_error(
            "code",
            WAIT
            if waiting
            else _(
                "That code is not right. Use the current code from the app, or an unused recovery code."
            ),
        )
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


def _enrol(request):
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        waiting = _waiting(device)
        if device.verify_token("".join(form.cleaned_data["code"].split())):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = recovery_codes_create(user)
            otp_login(request, device)
            audit_record(
                action=AuditEntry.Action.TWO_FACTOR,
                request=request,
                target=user.get_username(),
                detail={"change": "enrolled"},
            )
            # Shown in this response only: the codes are stored nowhere readable.
            return render(
                request,
                "registration/two_factor_recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        form.add_error(
            "code",
            WAIT
            if waiting
            else _("That code is not right. Check the app and enter the current code."),
        )
    context = {
        "form": form,
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2),
        "secret": totp_secret(device),
        "next": _next_url(request),
    }
    return render(request, "registration/two_factor_enrol.html", context)
