"""Pages about the child's family: guardians, and the consent they (or the child) give."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.forms.family import ConsentForm, GuardianEditForm, GuardianForm, WithdrawConsentForm
from cases.models import Consent, Guardian
from cases.services.child import EditConflict
from cases.services.family import (
    consent_record,
    consent_withdraw,
    guardian_add,
    guardian_deactivate,
    guardian_update,
)
from cases.views.children import file_url
from cases.views.object_form import ObjectFormView
from core.inputs import whole_number
from institutions.models import User
from institutions.selectors import signed_in_user


class GuardianAddView(ObjectFormView):
    permission_required = "cases.record_consent"
    form_class = GuardianForm
    title = gettext_lazy("Add a guardian")
    success_message = gettext_lazy("The guardian was added.")
    anchor = "family"

    def perform(self, obj: Any, form: Any, user: User) -> None:
        guardian_add(child=obj, data=form.cleaned_data, by=user)


class GuardianEditView(ObjectFormView):
    """Edit or remove a guardian; both carry the version the form was opened at."""

    fetch_model = Guardian
    permission_required = "cases.record_consent"
    form_class = GuardianEditForm
    title = gettext_lazy("Edit a guardian")
    success_message = gettext_lazy("The guardian was saved.")
    conflict_message = gettext_lazy(
        "Someone else saved this guardian after you opened the form. Your changes were not "
        "saved, so that theirs are not lost: the form now shows the guardian as on file. Make "
        "your changes again and save."
    )
    anchor = "family"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"instance": obj}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {"removable": obj.is_active}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("remove"):
            guardian = self.object
            version = request.POST.get("version", "")
            try:
                guardian_deactivate(
                    guardian=guardian,
                    by=signed_in_user(request),
                    expected_version=whole_number(version),
                )
            except EditConflict as conflict:
                return self.render_conflict(request, conflict.current)
            messages.success(request, _("The guardian is now listed as former."))
            return redirect(file_url(guardian.child, self.anchor))
        return super().post(request, pk)

    def perform(self, obj: Any, form: Any, user: User) -> None:
        guardian_update(
            guardian=obj,
            data=form.cleaned_data,
            expected_version=form.cleaned_data["version"],
            by=user,
        )


class ConsentAddView(ObjectFormView):
    permission_required = "cases.record_consent"
    form_class = ConsentForm
    title = gettext_lazy("Record consent")
    success_message = gettext_lazy("The consent was recorded.")
    anchor = "family"

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {"child": obj, "user": user}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        data = form.cleaned_data
        consent_record(
            child=obj,
            purpose=data["purpose"],
            given_on=data["given_on"],
            by=user,
            guardian=data["guardian"],
            shared_with=data["shared_with"],
            note=data.get("note", ""),
        )


class ConsentWithdrawView(ObjectFormView):
    fetch_model = Consent
    permission_required = "cases.record_consent"
    form_class = WithdrawConsentForm
    title = gettext_lazy("Withdraw consent")
    success_message = gettext_lazy("The withdrawal was recorded; it applies from now on.")
    anchor = "family"

    def describe_conflict(self, current: Any) -> str:
        return _(
            "This consent was already withdrawn on %(date)s by %(who)s (“%(reason)s”). Your "
            "withdrawal was not recorded again."
        ) % {
            "date": date_format(localtime(current.withdrawn_at), "DATETIME_FORMAT"),
            "who": current.withdrawn_by or "—",
            "reason": current.withdrawal_reason,
        }

    def perform(self, obj: Any, form: Any, user: User) -> None:
        consent_withdraw(consent=obj, reason=form.cleaned_data["reason"], by=user)
