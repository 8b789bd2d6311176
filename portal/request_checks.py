"""The text rule (accounts.sheets.text_check) for what every request carries outside
its forms: the URL path and the query parameters. A control character or an
over-long value there is a clear 400 page, before any view can hand it to the
database (PostgreSQL refuses NUL: that was a 500)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.sheets import SheetValueError, text_check

# Longer than any search, filter or token the portal's pages make.
MAX_PATH_LENGTH = 2000
MAX_QUERY_VALUE_LENGTH = 2000


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The 400 page, saying what is wrong (escaped by the template like any text)."""
    return render(request, "400.html", {"message": message}, status=400)


def request_problem(request: HttpRequest) -> str | None:
    try:
        text_check(request.path, max_length=MAX_PATH_LENGTH)
        for name, values in request.GET.lists():
            text_check(name, max_length=100)
            for value in values:
                text_check(value, max_length=MAX_QUERY_VALUE_LENGTH)
    except SheetValueError as error:
        return _("The address of this page is not valid: %(problem)s") % {"problem": error.message}
    return None


class RequestTextCheck:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem is not None:
            return bad_request(request, problem)
        return self.get_response(request)
