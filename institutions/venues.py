"""The service venues (服务阵地) staff may look up: their scope for the directory and the one
fetch. Venues hold no personal information, so any signed-in staff member reaches all of them."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from institutions.models import Institution, User
from institutions.roles import Level
from institutions.selectors import scope_for

# Community venues are listed even before their services are filled in.
VENUE_KINDS = frozenset(
    {
        Institution.Kind.CHILDRENS_HOME,
        Institution.Kind.YOUTH_PALACE,
        Institution.Kind.SOCIAL_WORK_STATION,
        Institution.Kind.PARENT_SCHOOL,
        Institution.Kind.FAMILY_EDUCATION_STATION,
        Institution.Kind.MINOR_PROTECTION_WORKSTATION,
    }
)


def venue_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Active venues (institutions that offer a service, and community venues), for anyone
    signed in with a staff scope; the level does not matter, nobody edits a venue here."""
    if scope_for(user).user_id is None:
        return Q(pk__in=[])
    return (~Q(services=[]) | Q(kind__in=VENUE_KINDS)) & Q(is_active=True)


def venues_visible_to(user: User | AnonymousUser) -> QuerySet[Institution]:
    """Active venues: institutions that offer a service, and community venues. Not personal
    information, so any signed-in staff member sees all of them."""
    if scope_for(user).user_id is None:
        return Institution.objects.none()
    return Institution.objects.filter(venue_scope_q(user))
