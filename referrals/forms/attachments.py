"""Attachments to a referral: PDFs or images, each checked by its content and size."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from referrals.services.sending import MAX_ATTACHMENTS, AttachmentData

# What an attachment may be: the extension names the type, and the first bytes must agree.
ATTACHMENT_TYPES: dict[str, tuple[str, bytes]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
}
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


def attachment_max_bytes() -> int:
    return int(getattr(settings, "REFERRAL_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def check_attachment(upload: UploadedFile) -> AttachmentData:
    """The upload as checked data, or ValidationError saying what is wrong with it."""
    name = PurePath(upload.name or "").name
    limit = attachment_max_bytes()
    if (upload.size or 0) > limit:
        raise forms.ValidationError(
            _("%(name)s is larger than %(limit)s."),
            params={"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    kind = ATTACHMENT_TYPES.get(PurePath(name).suffix.lower())
    head = upload.read(16)
    upload.seek(0)
    if kind is None or not head.startswith(kind[1]):
        raise forms.ValidationError(
            _("%(name)s is not a PDF, PNG or JPEG file."),
            params={"name": name},
            code="wrong_type",
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise forms.ValidationError(
            _("%(name)s is larger than %(limit)s."),
            params={"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    return AttachmentData(filename=name, content_type=kind[0], content=content)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_ATTACHMENTS PDFs or images, each checked by its content and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[AttachmentData]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(
                _("Attach at most %(count)d files."), params={"count": MAX_ATTACHMENTS}
            )
        checked = []
        errors = []
        for upload in files:
            try:
                checked.append(check_attachment(upload))
            except forms.ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise forms.ValidationError(errors)
        return checked
