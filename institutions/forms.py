"""Forms for signing in and two-factor enrolment."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core.inputs import BoundedInputMixin


class DateInput(forms.DateInput):
    """A browser date picker; its value must be ISO (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class BootstrapFormMixin(BoundedInputMixin):
    """Adds Bootstrap's classes, and marks fields with errors, so templates stay plain; every
    field gets the project's input bounds (sane dates, numbers that fit, capped free text)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            kind = getattr(field.widget, "input_type", "")
            base = {
                "select": "form-select",
                "checkbox": "form-check-input",
                "radio": "form-check-input",
            }.get(kind, "form-control")
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {base}".strip()

    def add_error(self, field: str | None, error: object) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        if field in self.fields:
            attrs = self.fields[field].widget.attrs
            if "is-invalid" not in attrs["class"]:
                attrs["class"] += " is-invalid"
            attrs["aria-describedby"] = f"id_{field}_error"


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    """Username and password, with labels and autocomplete hints for phones."""

    username = forms.CharField(
        label=_("Username"),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(BootstrapFormMixin, forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits shown in your authenticator app.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "maxlength": 7,
            }
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()
