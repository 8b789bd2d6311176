"""Request bodies: none is read before it is known to be small enough and its sender
allowed to send it.

Django's CSRF check reads a POST body (to find the token in it) before the view runs,
and so do the 403 and 404 pages (they run the same check), so a file posted by anyone
would be spooled to disk before a view's staff check. A view that receives a file is
therefore exempt from the middleware's CSRF check, runs it itself after the staff check
and answers a refusal itself (`staff_upload`); and a request declaring a larger body
than its URL accepts is answered 413 before anything reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_protect

from portal.access import staff_required

# The form fields and multipart framing around an uploaded file.
UPLOAD_OVERHEAD = 64 * 1024


def staff_upload(max_bytes: Callable[[], int]) -> Callable[[Any], Any]:
    """A staff view that receives a file of at most `max_bytes()` bytes: the staff check
    comes before anything reads the body, the CSRF check after it."""

    def decorate(view: Any) -> Any:
        protected = staff_required(csrf_protect(view))

        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return protected(request, *args, **kwargs)
            except PermissionDenied:
                return render(request, "403.html", status=403)

        checked.csrf_exempt = True  # checked inside, once the sender is known to be staff
        checked.upload_limit = max_bytes
        return checked

    return decorate


def body_limit(path: str) -> tuple[int | None, int | None]:
    """The largest request body the path's view accepts, and the largest file in it
    (None: no file). A path without a view accepts what any form may send."""
    try:
        view = resolve(path).func
    except Resolver404:
        view = None
    upload_limit = getattr(view, "upload_limit", None)
    if upload_limit is not None:
        return upload_limit() + UPLOAD_OVERHEAD, upload_limit()
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE, None


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body without a valid length
        if not length:
            return self.get_response(request)
        limit, file_limit = body_limit(request.path_info)
        if limit is None or length <= limit:
            return self.get_response(request)
        return render(
            request,
            "413.html",
            {"size": length, "file_limit": file_limit, "limit": limit},
            status=413,
        )
