"""Inviting a person to log in: the login made without a password, the mail with a
one-time link, and what the link does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int
from django.utils.translation import gettext as _

from accounts.models import Customer, Membership
from portal.campaigns import lifecycle
from portal.invitations.models import Invitation


class InvitationTokens(PasswordResetTokenGenerator):
    """Django's password-reset tokens under their own salt: a token is bound to the
    person's password and last login, so it stops working once the password is set.

    The lifetime is the invitation's (`Invitation.expires_at`, INVITATION_DAYS), not
    PASSWORD_RESET_TIMEOUT, so only the signature is checked here."""

    key_salt = "portal.invitations.InvitationTokens"

    def check_token(self, user: Any, token: str) -> bool:
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in (self.secret, *self.secret_fallbacks)
        )


tokens = InvitationTokens()

# What an invitation link finds.
VALID, USED, EXPIRED, BROKEN = "valid", "used", "expired", "broken"


def invitation_create(
    customer: Customer, *, email: str, username: str, by: Any = None
) -> Invitation:
    """A login for `email` without a usable password, and its invitation to `customer`."""
    user = get_user_model().objects.create_user(username=username, email=email, password=None)
    now = timezone.now()
    return Invitation.objects.create(
        customer=customer,
        user=user,
        email=email,
        invited_by=by if by is not None and by.is_authenticated else None,
        sent_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_DAYS),
    )


def invitation_url(invitation: Invitation) -> str:
    path = reverse("invitation_accept", args=[invitation.code, tokens.make_token(invitation.user)])
    return lifecycle.portal_link(path)


def invitation_message(invitation: Invitation) -> tuple[str, str]:
    """(subject, body) of the invitation, in the customer's language."""
    customer = invitation.customer
    lang = lifecycle.customer_language(customer)
    with translation.override(lang):
        values = {
            "customer_name": customer.name,
            "username": invitation.user.get_username(),
            "valid_until": lifecycle.date_text(timezone.localdate(invitation.expires_at), lang),
            "link": invitation_url(invitation),
        }
        return lifecycle.message_fill(
            _("Your login to the Mail Settings Portal for {customer_name}"),
            _(
                "Dear {customer_name},\n\n"
                "You have been invited to the Mail Settings Portal. There you see the "
                "settings of your mailboxes, what to change and the steps for your mail "
                "program.\n\n"
                "Your login name: {username}\n\n"
                "Open this link to choose your password. It works once, until "
                "{valid_until}:\n"
                "{link}\n\n"
                "If you did not expect this message, you can ignore it."
            ),
            values,
        )


def member_add(customer: Customer, user: Any) -> None:
    """Give a login that exists already access to `customer` too, and tell the person."""
    Membership.objects.create(user=user, customer=customer)
    lang = lifecycle.customer_language(customer)
    with translation.override(lang):
        values = {
            "customer_name": customer.name,
            "username": user.get_username(),
            "link": lifecycle.portal_link(reverse("customer_home", args=[customer.slug])),
        }
        subject, body = lifecycle.message_fill(
            _("You can now see the mail settings of {customer_name}"),
            _(
                "Dear {customer_name},\n\n"
                "Your login to the Mail Settings Portal ({username}) can now also see the "
                "mail settings of {customer_name}. Log in as usual:\n"
                "{link}\n\n"
                "If you did not expect this message, please contact us."
            ),
            values,
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def invitation_send(invitation: Invitation) -> None:
    """Mail the invitation (raises what the mail server raises)."""
    subject, body = invitation_message(invitation)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def invitation_renew(invitation: Invitation) -> None:
    """A fresh lifetime for an invitation not yet accepted (its earlier links stay valid
    until then: they all stop when the password is set)."""
    now = timezone.now()
    invitation.sent_at, invitation.expires_at = now, now + timedelta(days=settings.INVITATION_DAYS)
    invitation.save(update_fields=["sent_at", "expires_at"])


def invitation_check(invitation: Invitation, token: str) -> str:
    """What a link with `token` may do: VALID, or why not (USED, EXPIRED, BROKEN)."""
    if invitation.accepted_at is not None:
        return USED
    if invitation.expired:
        return EXPIRED
    if not tokens.check_token(invitation.user, token):
        return BROKEN
    return VALID


def invitation_accept(invitation: Invitation, password_form: Any) -> bool:
    """Set the password from a valid SetPasswordForm and make the person a member.

    The invitation is claimed with a conditional UPDATE, so a second post of the same
    form (double click, back button) changes nothing; returns False then."""
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now()
        )
        if not claimed:
            return False
        password_form.save()
        Membership.objects.get_or_create(user=invitation.user, customer=invitation.customer)
    return True
