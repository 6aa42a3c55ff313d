"""Out-of-scope cases of the referrals app's API."""

from __future__ import annotations

from tests.api.scope_cases import OutOfScope
from tests.factories import ReferralFactory, child_out_of_scope_of

CASES: dict[str, OutOfScope] = {
    "referral-list": OutOfScope(
        hidden=lambda user: ReferralFactory(child=child_out_of_scope_of(user)).pk
    ),
    "referral-detail": OutOfScope(
        kwargs=lambda user: {"pk": ReferralFactory(child=child_out_of_scope_of(user)).pk}
    ),
}
