"""Referrals to social-psychology services and clinics, their life cycle and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Referral(models.Model):
    """A child referred, with consent, from a person and organisation to an institution."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        APPOINTMENT = "appointment", _("Appointment booked")
        SEEN = "seen", _("Seen")
        IN_TREATMENT = "in_treatment", _("In treatment")
        DISCHARGED = "discharged", _("Discharged")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent")
        EMERGENCY = "emergency", _("Emergency")

    class TreatmentType(models.TextChoices):
        OUTPATIENT = "outpatient", _("Outpatient")
        INPATIENT = "inpatient", _("Inpatient")

    # Looked up through referral_child, which begins with it.
    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="referrals",
        db_index=False,
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referred by"),
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    from_agency = models.ForeignKey(
        "institutions.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_institution = models.ForeignKey(
        "institutions.Institution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Looked up through referral_inbox, which begins with it.
    to_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("referred to"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
        db_index=False,
    )
    service = models.CharField(_("service needed"), max_length=40)
    reason = models.TextField(_("reason"))
    urgency = models.CharField(
        _("urgency"), max_length=12, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    visit = models.ForeignKey(
        "followups.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    consent = models.ForeignKey(
        "cases.Consent",
        verbose_name=_("guardian consent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    emergency_override = models.BooleanField(_("sent without consent (emergency)"), default=False)
    override_reason = models.TextField(_("why consent could not wait"), blank=True)
    override_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reviewed_at = models.DateTimeField(null=True, blank=True)
    override_review_note = models.TextField(blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # Clinical details: visible to the clinic, the child's counsellor and health roles only.
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    treatment = models.TextField(_("treatment"), blank=True)
    treatment_type = models.CharField(
        _("treatment type"), max_length=12, choices=TreatmentType.choices, blank=True
    )
    # What the sending side sees.
    outcome_summary = models.TextField(_("outcome summary"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    followup_interval_days = models.PositiveIntegerField(
        _("follow-up every (days)"), null=True, blank=True
    )
    followup_by = models.CharField(_("who should follow up"), max_length=20, blank=True)
    followup_weeks = models.PositiveIntegerField(_("follow up for (weeks)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("discharged"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    access_until = models.DateTimeField(_("clinic access until"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["to_institution", "status"], name="referral_inbox"),
            models.Index(fields=["child", "-created_at"], name="referral_child"),
            models.Index(fields=["status", "sent_at"], name="referral_overdue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(emergency_override=False) | ~models.Q(override_reason=""),
                name="referral_override_needs_reason",
            ),
            # Once sent, a referral carries consent or an override; a draft withdrawn before
            # it was sent never needed either.
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(status="withdrawn", sent_at__isnull=True)
                | models.Q(consent__isnull=False)
                | models.Q(emergency_override=True),
                name="referral_sent_needs_consent_or_override",
            ),
        ]
        permissions = [
            ("process_referral", _("Can accept and treat referrals (clinic side)")),
            ("view_clinical_details", _("Can read diagnosis and treatment details")),
            ("review_override", _("Can review emergency consent overrides")),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.to_institution_id} ({self.status})"


class ReferralEvent(models.Model):
    """One step of a referral's life cycle: who, when, from which status to which, and why."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=Referral.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Referral.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("referral step")
        verbose_name_plural = _("referral steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status} → {self.to_status}"


class ReferralAttachment(models.Model):
    """A PDF or image attached to a referral (type checked, size limited)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename
