"""The job that ends the clinic's access after a closed referral's period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import ChildAccessGrant
from cases.selectors.scope import children_visible_to
from referrals.tasks import referral_expire_access_task
from tests.conftest import user
from tests.referrals import S, advance, pupil, sent

pytestmark = pytest.mark.django_db


def test_the_expiry_job_revokes_past_grants_and_is_idempotent():
    child = pupil(3)
    referral = advance(sent(child), S.CLOSED)
    still_open = sent(pupil(4))
    clinician = user("clinician")
    assert children_visible_to(clinician).filter(pk=child.pk).exists()
    # The access period after closing passes: the grant expires with it, before any job runs.
    ChildAccessGrant.objects.filter(source="referral", source_id=referral.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    assert not children_visible_to(clinician).filter(pk=child.pk).exists()
    assert referral_expire_access_task.apply().get() == 1
    assert not children_visible_to(user("clinician")).filter(pk=child.pk).exists()
    assert children_visible_to(user("clinician")).filter(pk=still_open.child_id).exists()
    assert referral_expire_access_task.apply().get() == 0
