"""The import page: upload, preview (a dry run), apply. The logic lives in `core.importing`, and
what can be imported in the importers the apps register there.

The uploaded file is kept on the server between preview and apply; applying re-reads that
stored file and validates it again, so what is written is what was previewed and checked.
"""

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import importing
from fieldservice.core.errors import require
from fieldservice.core.listing import XLSX_TYPE

SESSION_KEY = "pending_imports"
STORAGE_DIR = "imports"
KEEP_FOR = dt.timedelta(days=1)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to import"), choices=importing.kind_choices)
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("Excel (.xlsx) or CSV, at most 5 MB. The first row holds the column names."),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("When some rows have errors"),
        choices=importing.ImportMode.choices,
        initial=importing.ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.check_upload(upload)
        except importing.ImportFileError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload


class ApplyForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        label=gettext_lazy("When some rows have errors"),
        choices=importing.ImportMode.choices,
        widget=forms.RadioSelect,
    )


def _stored_path(token: str) -> str:
    return f"{STORAGE_DIR}/{token}"


def _forget_old_uploads() -> None:
    # Previews that were never applied leave their file behind; clear those older than a day.
    try:
        _dirs, files = default_storage.listdir(STORAGE_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - KEEP_FOR
    for name in files:
        path = f"{STORAGE_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except FileNotFoundError:
            continue


def _keep_upload(request, upload, kind: str) -> str:
    _forget_old_uploads()
    token = str(uuid.uuid4())
    upload.seek(0)
    default_storage.save(_stored_path(token), ContentFile(upload.read()))
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"kind": kind, "name": upload.name}
    request.session[SESSION_KEY] = pending
    return token


def _take_upload(request, token: str) -> tuple[str, ContentFile] | None:
    """The stored file of a preview this session made, removed so it is applied at most once."""
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if entry is None:
        return None
    path = _stored_path(token)
    try:
        with default_storage.open(path) as stored:
            data = stored.read()
    except FileNotFoundError:
        return None
    finally:
        default_storage.delete(path)
    return entry["kind"], ContentFile(data, name=entry["name"])


def _page(request, context: dict):
    context.setdefault("kinds", importing.column_docs())
    context.setdefault("modes", importing.ImportMode)
    return render(request, "site/import.html", context)


@login_required
def import_view(request):
    require(can(request.user, Capability.IMPORT_DATA))
    if request.method == "POST" and "token" in request.POST:
        return _apply(request)
    # Preselect the first kind the form offers (customers), the one most imports start with.
    initial = {"kind": request.GET.get("kind", importing.importers()[0].kind)}
    form = ImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
        mode = form.cleaned_data["mode"]
        try:
            result = importing.run_import(request.user, kind, upload, mode, dry_run=True)
        except importing.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            token = _keep_upload(request, upload, kind)
            apply_form = ApplyForm(initial={"token": token, "mode": mode})
            return _page(request, {"result": result, "apply_form": apply_form, "file_name": upload.name})
    return _page(request, {"form": form})


def _apply(request):
    form = ApplyForm(request.POST)
    taken = _take_upload(request, str(form.cleaned_data["token"])) if form.is_valid() else None
    if taken is None:
        messages.error(request, _("This import is no longer waiting to be applied; upload the file again."))
        return redirect("site:import")
    kind, stored = taken
    try:
        result = importing.run_import(request.user, kind, stored, form.cleaned_data["mode"], dry_run=False)
    except importing.ImportFileError as exc:
        messages.error(request, exc.message)
        return redirect("site:import")
    if result.applied:
        messages.success(
            request,
            _("Imported %(created)d of %(total)d rows.") % {"created": result.created_count, "total": result.total},
        )
    else:
        messages.error(request, _("Nothing was imported."))
    form = ImportForm(initial={"kind": kind, "mode": result.mode})
    return _page(request, {"result": result, "form": form, "file_name": stored.name})


@login_required
def template_view(request, kind):
    require(can(request.user, Capability.IMPORT_DATA))
    if importing.find_importer(kind) is None:
        raise Http404
    chinese = (get_language() or "").startswith("zh")
    response = HttpResponse(importing.template_workbook(kind, chinese=chinese), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="import-{kind}.xlsx"'
    return response
