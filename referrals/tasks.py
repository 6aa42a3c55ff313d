"""Background jobs of referrals: ending the clinic's access once its period is over."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from referrals.services.grants import referral_expire_access

logger = logging.getLogger(__name__)


@shared_task(
    name="referrals.expire_access",
    time_limit=300,
    soft_time_limit=270,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def referral_expire_access_task() -> int:
    """Revoke the clinic grants whose access period has passed (idempotent; run it hourly)."""
    revoked = referral_expire_access(now=timezone.now())
    logger.info("referral access expired: %s grants revoked", revoked)
    return revoked
