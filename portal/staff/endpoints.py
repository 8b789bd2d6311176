"""Staff pages of the mail-server checks: endpoints at a glance, one endpoint's
history, "check now" and "sweep now"."""

from collections import Counter
from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from checks.models import Endpoint, Event, Sweep
from checks.tasks import endpoint_check, sweep_start
from checks.verdicts import LEVELS, verdict
from portal.access import staff_required
from portal.progress import job_progress, job_requested

HISTORY_LENGTH = 100
CHECK_WAIT = timedelta(minutes=3)  # after this a "check now" is no longer shown as running
SWEEP_JOB = "sweep"


@staff_required
def endpoint_list(request):
    level = request.GET.get("level", "")
    rows, levels = [], Counter()
    for endpoint in Endpoint.objects.select_related("last_result"):
        judged = verdict(endpoint.last_result, endpoint.security)
        levels[judged.level] += 1
        if level in LEVELS and judged.level != level:
            continue
        rows.append((endpoint, judged))
    rows.sort(key=lambda row: -LEVELS.index(row[1].level))
    sweep = Sweep.objects.first()
    requested = job_progress(SWEEP_JOB)
    # "Sweep now" was pressed and no worker has started that sweep yet.
    waiting = requested is not None and (
        sweep is None or sweep.started_at.timestamp() < requested["requested_at"]
    )
    running = sweep is not None and sweep.status == Sweep.Status.RUNNING
    return render(
        request,
        "staff/endpoints.html",
        {
            "rows": rows,
            "level": level,
            "levels": LEVELS,
            "sweep": sweep,
            "waiting": waiting,
            "running": running,
            "checked": sweep.results.count() if running else None,
            "counts": levels,
        },
    )


@staff_required
def endpoint_detail(request, code):
    endpoint = get_object_or_404(Endpoint.objects.select_related("last_result"), code=code)
    history = [
        (result, verdict(result, endpoint.security))
        for result in endpoint.results.all()[:HISTORY_LENGTH]
    ]
    checking = bool(
        endpoint.check_requested_at and timezone.now() - endpoint.check_requested_at < CHECK_WAIT
    )
    return render(
        request,
        "staff/endpoint.html",
        {
            "endpoint": endpoint,
            "latest": verdict(endpoint.last_result, endpoint.security),
            "history": history,
            "events": Event.objects.filter(endpoint=endpoint)[:50],
            "checking": checking,
        },
    )


@staff_required
@require_POST
def endpoint_check_now(request, code):
    endpoint = get_object_or_404(Endpoint, code=code)
    Endpoint.objects.filter(pk=endpoint.pk).update(check_requested_at=timezone.now())
    transaction.on_commit(lambda: endpoint_check.delay(endpoint.pk))
    messages.info(request, _("Checking now; this page shows the result when it is done."))
    return redirect("endpoint_detail", code=endpoint.code)


@staff_required
@require_POST
def sweep_now(request):
    if Sweep.objects.filter(status=Sweep.Status.RUNNING).exists():
        messages.info(request, _("A sweep is already running."))
    else:
        job_requested(SWEEP_JOB)
        transaction.on_commit(sweep_start.delay)
        messages.success(request, _("A sweep of all endpoints has been started."))
    return redirect("endpoint_list")
