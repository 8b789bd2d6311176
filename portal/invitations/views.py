"""The page an invitation link opens: choose a password once, then log in."""

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.invitations import lifecycle
from portal.invitations.models import Invitation

STATUS = {lifecycle.VALID: 200, lifecycle.USED: 410, lifecycle.EXPIRED: 410}


def invitation_accept(request, code, token):
    invitation = get_object_or_404(Invitation.objects.select_related("user", "customer"), code=code)
    state = lifecycle.invitation_check(invitation, token)
    if state == lifecycle.BROKEN:
        raise Http404
    form = None
    if state == lifecycle.VALID:
        form = SetPasswordForm(invitation.user, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            if lifecycle.invitation_accept(invitation, form):
                audit_record(
                    action=AuditEntry.Action.INVITATION_ACCEPT,
                    request=request,
                    actor=invitation.user,
                    customer=invitation.customer,
                    target=invitation.email,
                )
                messages.success(
                    request,
                    _("Your password is set. Log in with the login name %(name)s.")
                    % {"name": invitation.user.get_username()},
                )
                return redirect("login")
            state = lifecycle.USED
    return render(
        request,
        "invitations/accept.html",
        {"invitation": invitation, "state": state, "form": form},
        status=STATUS[state],
    )
