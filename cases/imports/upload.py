"""The upload of a filled-in template: the file-level checks (type, size, headers, row count)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.imports.template import EXTENSIONS, header_errors
from core.spreadsheets import UnreadableFile, read_table
from institutions.forms import BootstrapFormMixin


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the file-level checks; rows are the data rows it holds."""

    filename: str
    content: bytes
    rows: int


def check_upload(uploaded_file: UploadedFile) -> CheckedUpload:
    """Type, size, readability, header row and row count of an upload; raises ValidationError."""
    cached = getattr(uploaded_file, "_child_import_checked", None)
    if cached is not None:
        return cached
    filename = PurePath(uploaded_file.name or "").name[-200:]
    if not filename.lower().endswith(EXTENSIONS):
        raise forms.ValidationError(
            _(
                "Upload an Excel workbook (.xlsx) or a CSV file (.csv); "
                "save an older .xls file as .xlsx first."
            ),
            code="file_type",
        )
    if (uploaded_file.size or 0) > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(size)s: split it into smaller files.")
            % {"size": filesizeformat(settings.IMPORT_MAX_BYTES)},
            code="too_large",
        )
    uploaded_file.seek(0)
    content = uploaded_file.read()
    try:
        table = read_table(content=content, filename=filename)
        problems = header_errors(table.headers)
        if problems:
            raise forms.ValidationError(problems, code="headers")
        count = 0
        for _row in table.rows:
            count += 1
            if count > settings.IMPORT_MAX_ROWS:
                raise forms.ValidationError(
                    _(
                        "The file has more than %(max)d rows of children: "
                        "split it into smaller files."
                    )
                    % {"max": settings.IMPORT_MAX_ROWS},
                    code="too_many_rows",
                )
    except UnreadableFile as exc:
        raise forms.ValidationError(str(exc), code="unreadable") from None
    if count == 0:
        raise forms.ValidationError(
            _("The file has no children in it: fill in the template from its second row."),
            code="no_rows",
        )
    checked = CheckedUpload(filename=filename, content=content, rows=count)
    uploaded_file._child_import_checked = checked  # type: ignore[attr-defined]
    return checked


class ChildImportForm(BootstrapFormMixin, forms.Form):
    """The upload of a filled-in template; the whole file is checked later, by the job."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "An Excel workbook (.xlsx) or a CSV file (.csv) made from the template, "
            "up to %(size)s and %(rows)d rows."
        ) % {"size": filesizeformat(settings.IMPORT_MAX_BYTES), "rows": settings.IMPORT_MAX_ROWS}

    def clean_file(self) -> UploadedFile:
        uploaded: UploadedFile = self.cleaned_data["file"]
        check_upload(uploaded)
        return uploaded
