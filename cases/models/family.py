"""A child's guardians and the consents recorded for them, per purpose."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.child import Child
from institutions.models import Agency, Institution


@pghistory.track(append_only=True)
class Guardian(models.Model):
    """A parent or other guardian of a child, with how to reach them."""

    class Relation(models.TextChoices):
        FATHER = "father", _("Father")
        MOTHER = "mother", _("Mother")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Adult sibling")
        RELATIVE = "relative", _("Other relative")
        FOSTER = "foster", _("Foster parent")
        APPOINTED = "appointed", _("Appointed guardian")
        INSTITUTION = "institution", _("Institution (as guardian)")
        OTHER = "other", _("Other")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="guardians"
    )
    name = models.CharField(_("name"), max_length=64)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    # State guardianship (国家监护): the institution that is the guardian. Its responsible
    # persons (its staff who record consent) consent for the child; `name` is whom to ask.
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("guardian institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wards",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    lives_with_child = models.BooleanField(_("lives with the child"), default=True)
    works_away = models.BooleanField(_("works away from home"), default=False)
    work_location = models.CharField(_("where they work"), max_length=100, blank=True)
    is_primary_contact = models.BooleanField(_("primary contact"), default=False)
    is_active = models.BooleanField(_("current"), default=True)
    # Bumped by every save: an edit based on an older version is refused (409), not merged.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["-is_primary_contact", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(is_primary_contact=True, is_active=True),
                name="guardian_one_primary_contact",
            ),
            # Only an institution guardian names an institution. (Rows recorded as one before
            # the institution could be named may lack it: they cannot consent until it is.)
            models.CheckConstraint(
                condition=models.Q(institution__isnull=True) | models.Q(relation="institution"),
                name="guardian_institution_only_for_institution",
            ),
        ]

    def __str__(self) -> str:
        if self.institution_id:
            return f"{self.institution} · {self.name} ({self.get_relation_display()})"
        return f"{self.name} ({self.get_relation_display()})"

    @property
    def is_institution(self) -> bool:
        return self.relation == self.Relation.INSTITUTION


class Consent(models.Model):
    """Informed consent (知情同意) for one purpose, by a guardian or (from 14) the child."""

    class Purpose(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment")
        REFERRAL = "referral", _("Referral")
        SHARING = "sharing", _("Sharing with another agency")

    # Under this age only a guardian can consent (PIPL art. 31).
    SELF_CONSENT_AGE = 14

    # Looked up through consent_child_purpose, which begins with it.
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="consents",
        db_index=False,
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    guardian = models.ForeignKey(
        Guardian,
        verbose_name=_("given by guardian"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
    )
    given_by_child = models.BooleanField(_("given by the child"), default=False)
    shared_with = models.ForeignKey(
        Agency,
        verbose_name=_("shared with agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    given_on = models.DateField(_("date given"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(given_by_child=True, guardian__isnull=True)
                    | models.Q(given_by_child=False, guardian__isnull=False)
                ),
                name="consent_given_by_one_person",
            ),
            models.CheckConstraint(
                condition=models.Q(purpose="sharing") | models.Q(shared_with__isnull=True),
                name="consent_agency_only_for_sharing",
            ),
        ]
        indexes = [models.Index(fields=["child", "purpose"], name="consent_child_purpose")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.purpose} {self.given_on}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
