"""Who must use two-factor authentication, and where a signed-in user still has to go for it."""

from __future__ import annotations

from django.conf import settings

from institutions.models import User
from institutions.principal import principal_for
from institutions.selectors import scope_for


def two_factor_required(user: User) -> bool:
    """Supervisors and administrators must enrol; demo users are exempt outside production."""
    if not scope_for(user).requires_two_factor:
        return False
    return not (settings.TWO_FACTOR_EXEMPT_DEMO_USERS and user.is_demo)


def two_factor_step(user: User) -> str | None:
    """The URL name of the step this session still owes ("verify" or "setup"), or None."""
    if not user.is_authenticated:
        return None
    # OTPMiddleware adds is_verified; a request that bypassed it counts as unverified.
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return None
    principal = principal_for(user)
    if principal is not None and principal.has_device:
        return "two_factor_verify"
    if two_factor_required(user):
        return "two_factor_setup"
    return None
