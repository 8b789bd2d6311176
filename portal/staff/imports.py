"""Staff imports: upload a CSV, read the preview of what will change, then apply or discard it."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.import_batches import (
    COLUMNS,
    ImportKindUnclear,
    import_batch_create,
    import_batch_discard,
    import_batch_progress,
    import_batch_queue,
    import_template,
)
from accounts.models import ImportBatch
from accounts.server_imports import SERVER_COLUMNS
from accounts.sheet_imports import SHEET_COLUMNS
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.forms import ImportUploadForm
from portal.uploads import staff_upload


@staff_upload(lambda: settings.IMPORT_MAX_UPLOAD_BYTES)
def import_list(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_batch_create(
                kind=form.cleaned_data["kind"] or None,
                filename=upload.name,
                content=upload.read(),
                by=request.user,
            )
        except ImportKindUnclear:
            form.add_error(
                "kind",
                _(
                    "The header does not say whether the file holds settings sheets or "
                    "server names: choose one and upload the file again."
                ),
            )
        else:
            return redirect("import_detail", code=batch.code)
    batches = ImportBatch.objects.select_related("uploaded_by").defer("content", "preview")[:30]
    return render(
        request,
        "staff/imports.html",
        {
            "form": form,
            "batches": batches,
            "sheet_columns": ",".join(SHEET_COLUMNS),
            "server_columns": ",".join(SERVER_COLUMNS),
        },
    )


@staff_required
def import_template_download(request, kind):
    if kind not in COLUMNS:
        raise Http404
    response = HttpResponse(import_template(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


@staff_required
def import_detail(request, code):
    batch = get_object_or_404(ImportBatch.objects.defer("content"), code=code)
    working = batch.status in (ImportBatch.Status.CHECKING, ImportBatch.Status.QUEUED)
    progress = import_batch_progress(batch) if working else None
    return render(
        request,
        "staff/import_detail.html",
        {"batch": batch, "working": working, "progress": progress},
    )


@staff_required
@require_POST
def import_apply(request, code):
    batch = get_object_or_404(ImportBatch.objects.defer("content"), code=code)
    if import_batch_queue(batch):
        audit_record(
            action=AuditEntry.Action.IMPORT_APPLY,
            request=request,
            target=batch.filename,
            detail={"kind": batch.kind, "batch": str(batch.code)},
        )
        messages.success(request, _("The import is queued; this page shows when it is done."))
    else:
        messages.error(request, _("This file cannot be applied (again)."))
    return redirect("import_detail", code=batch.code)


@staff_required
@require_POST
def import_discard(request, code):
    batch = get_object_or_404(ImportBatch.objects.defer("content"), code=code)
    if import_batch_discard(batch):
        messages.success(request, _("The file is discarded; nothing was written."))
    else:
        messages.error(request, _("This file is no longer waiting to be applied."))
    return redirect("import_detail", code=batch.code)
