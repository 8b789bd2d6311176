"""Staff sessions: they end after a time idle and a time after login, and every page
except the login pages waits for the second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import is_staff_member
from portal.access import is_staff_request

LOGIN_AT = "staff_login_at"
SEEN_AT = "staff_seen_at"
# Pages an unverified staff member may open: how to log in, give the code or leave.
WITHOUT_SECOND_FACTOR = {"login", "logout", "two_factor", "set_language"}


def session_times_start(sender, request: HttpRequest, user, **kwargs) -> None:
    """At login (user_logged_in): the session's clock starts; a staff session's cookie
    lasts as long as it may stay idle."""
    now = time.time()
    request.session[LOGIN_AT] = request.session[SEEN_AT] = now
    if is_staff_member(user):
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_MINUTES * 60)


class StaffSessionMiddleware:
    """Ends a staff session STAFF_SESSION_IDLE_MINUTES after its last request or
    STAFF_SESSION_MAX_HOURS after login (customers keep SESSION_COOKIE_AGE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_staff_request(request):
            idle = settings.STAFF_SESSION_IDLE_MINUTES * 60
            now = time.time()
            session = request.session
            login_at = session.setdefault(LOGIN_AT, now)
            seen_at = session.get(SEEN_AT, now)
            if now - seen_at > idle or now - login_at > settings.STAFF_SESSION_MAX_HOURS * 3600:
                logout(request)
                messages.info(
                    request,
                    _(
                        "For security, staff sessions end after %(minutes)d minutes without "
                        "activity and %(hours)d hours after login. Please log in again."
                    )
                    % {
                        "minutes": settings.STAFF_SESSION_IDLE_MINUTES,
                        "hours": settings.STAFF_SESSION_MAX_HOURS,
                    },
                )
                return redirect_to_login(request.get_full_path())
            if SEEN_AT not in session or now - seen_at >= 60:
                # Once a minute is precise enough, and spares a session write per request.
                session[SEEN_AT] = now
                session.set_expiry(idle)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Sends a staff member without the second factor in this session to give it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.resolver_match.view_name in WITHOUT_SECOND_FACTOR:
            return None
        if is_staff_request(request) and not request.user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('two_factor')}?{query}")
        return None
