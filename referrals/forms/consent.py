"""Consent on a referral form: consent on file, consent given now (by a guardian or, old
enough, the child), or an emergency override with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Child, Consent
from cases.services.family import consent_giver_choices, consent_giver_from
from institutions.forms import DateInput
from institutions.models import User
from referrals.models import Referral
from referrals.services.consent import ConsentGiven


def consent_on_file(child: Child) -> Consent | None:
    """The newest unwithdrawn consent to referral, if any."""
    return (
        Consent.objects.filter(
            child=child, purpose=Consent.Purpose.REFERRAL, withdrawn_at__isnull=True
        )
        .select_related("guardian")
        .order_by("-given_on", "-id")
        .first()
    )


class ConsentFieldsMixin(forms.Form):
    """Consent given now (when none is on file), or an emergency override with a reason.

    Needed only when the referral is sent; a draft may be saved without either."""

    consent_by = forms.ChoiceField(label=_("Consent to the referral given by"), required=False)
    consent_given_on = forms.DateField(
        label=_("Consent given on"), required=False, widget=DateInput()
    )
    emergency_override = forms.BooleanField(
        label=_("Emergency: send without consent"), required=False
    )
    override_reason = forms.CharField(
        label=_("Why consent could not wait"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Logged and reviewed by the supervisor."),
    )

    child: Child
    sending: bool
    user: User

    def setup_consent(self, child: Child, sending: bool, user: User) -> None:
        """`user` records the consent (for an institution guardian, its responsible person)."""
        self.child = child
        self.sending = sending
        self.user = user
        self.consent_on_file = consent_on_file(child)
        if self.consent_on_file is not None:
            for name in ("consent_by", "consent_given_on", "emergency_override", "override_reason"):
                del self.fields[name]
            return
        self.fields["consent_by"].choices = [("", "---------"), *consent_giver_choices(child)]  # type: ignore[attr-defined]
        self.fields["consent_by"].help_text = _(
            "No consent to referral is on file: record who gave it."
        )
        self.fields["consent_given_on"].initial = timezone.localdate()

    def clean_consent(self, data: dict[str, Any], urgency: str) -> None:
        data["consent_given"] = None
        if self.consent_on_file is not None:
            data["emergency_override"] = False
            data["override_reason"] = ""
            return
        given_by = data.get("consent_by") or ""
        if given_by:
            given_on = data.get("consent_given_on")
            try:
                guardian = consent_giver_from(self.child, given_by, given_on, by=self.user)
            except forms.ValidationError as error:
                self.add_error("consent_by", error)
                return
            if given_on is None:
                self.add_error("consent_given_on", _("Say when consent was given."))
            elif given_on > timezone.localdate():
                self.add_error("consent_given_on", _("Consent cannot be dated in the future."))
            else:
                data["consent_given"] = ConsentGiven(guardian=guardian, given_on=given_on)
            data["emergency_override"] = False
            data["override_reason"] = ""
            return
        if data.get("emergency_override"):
            if urgency != Referral.Urgency.EMERGENCY:
                self.add_error(
                    "emergency_override",
                    _("Only an emergency referral can be sent without consent."),
                )
            if not (data.get("override_reason") or "").strip():
                self.add_error("override_reason", _("Say why consent could not wait."))
            return
        data["override_reason"] = ""
        if self.sending:
            self.add_error(
                "consent_by",
                _(
                    "Guardian consent to the referral is required: record who gave it, or, in "
                    "an emergency, send without it and say why."
                ),
            )
