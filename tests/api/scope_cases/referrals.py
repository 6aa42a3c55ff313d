"""Out-of-scope cases of the referrals app's API."""

from __future__ import annotations

from typing import Any

from institutions.models import Institution
from referrals.models import Referral, ReferralAttachment
from tests.api.scope_cases import OutOfScope
from tests.demo import HOSPITAL, SOCIAL_PSYCH
from tests.factories import ReferralFactory, child_out_of_scope_of, institution


def _referral(user: str) -> dict[str, Any]:
    return {"pk": ReferralFactory(child=child_out_of_scope_of(user)).pk}


def _sent(user: str) -> dict[str, Any]:
    """Sent to the social-psychology service, where no demo user works: no clinic's inbox
    holds it either."""
    referral = ReferralFactory(
        child=child_out_of_scope_of(user),
        to_institution=institution(SOCIAL_PSYCH),
        service=Institution.Service.PSYCHOLOGICAL_COUNSELLING,
        send=True,
    )
    return {"pk": referral.pk}


def _sent_without_consent(user: str) -> dict[str, Any]:
    """An emergency referral sent without consent (what a supervisor reviews)."""
    referral = ReferralFactory(
        child=child_out_of_scope_of(user),
        urgency=Referral.Urgency.EMERGENCY,
        consent=False,
        emergency_override=True,
        override_reason="测试：监护人无法联系",
        send=True,
    )
    return {"pk": referral.pk}


def _attachment(user: str) -> dict[str, Any]:
    referral = ReferralFactory(child=child_out_of_scope_of(user))
    row = ReferralAttachment.objects.create(
        referral=referral,
        filename="测试.pdf",
        content_type="application/pdf",
        size=9,
        content=b"%PDF-1.4\n",
        uploaded_by=referral.from_user,
    )
    return {"pk": row.pk}


def _draft_body(user: str) -> dict[str, Any]:
    return {
        "child": child_out_of_scope_of(user).pk,
        "to_institution": institution(HOSPITAL).pk,
        "service": Institution.Service.PSYCHIATRIC_CLINIC,
        "reason": "测试转介",
    }


CASES: dict[str, OutOfScope] = {
    "referral-list": OutOfScope(
        hidden=lambda user: ReferralFactory(child=child_out_of_scope_of(user)).pk,
        body=_draft_body,
    ),
    "referral-detail": OutOfScope(kwargs=_referral),
    "referral-events": OutOfScope(kwargs=_referral),
    "referral-attachments": OutOfScope(kwargs=_referral),
    "referral-attachment-detail": OutOfScope(kwargs=_attachment),
    # The sending side's steps, tried by a child director with the sender's permission.
    "referral-send": OutOfScope(kwargs=_referral),
    "referral-withdraw": OutOfScope(kwargs=_sent),
    "referral-close": OutOfScope(kwargs=_sent),
    # The clinic's steps, tried by a clinician on a referral outside their clinic's inbox.
    "referral-accept": OutOfScope(user="clinician", kwargs=_sent),
    "referral-decline": OutOfScope(user="clinician", kwargs=_sent),
    "referral-book": OutOfScope(user="clinician", kwargs=_sent),
    "referral-seen": OutOfScope(user="clinician", kwargs=_sent),
    "referral-treatment": OutOfScope(user="clinician", kwargs=_sent),
    "referral-discharge": OutOfScope(user="clinician", kwargs=_sent),
    "referral-review-override": OutOfScope(user="supervisor_town", kwargs=_sent_without_consent),
}
