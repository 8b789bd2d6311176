"""Staff imports: upload a CSV, read the preview of what will change, then apply it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.import_batches import import_batch_create, import_batch_queue
from accounts.models import ImportBatch
from accounts.server_imports import SERVER_COLUMNS
from accounts.sheet_imports import SHEET_COLUMNS
from portal.access import staff_required
from portal.forms import ImportUploadForm


@staff_required
def import_list(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_batch_create(
            kind=form.cleaned_data["kind"],
            filename=upload.name,
            content=upload.read(),
            by=request.user,
        )
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
def import_detail(request, code):
    batch = get_object_or_404(ImportBatch.objects.defer("content"), code=code)
    return render(request, "staff/import_detail.html", {"batch": batch})


@staff_required
@require_POST
def import_apply(request, code):
    batch = get_object_or_404(ImportBatch.objects.defer("content"), code=code)
    if import_batch_queue(batch):
        messages.success(request, _("The import is queued; this page shows when it is done."))
    else:
        messages.error(request, _("This file cannot be applied (again)."))
    return redirect("import_detail", code=batch.code)
