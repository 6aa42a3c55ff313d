"""The children given to a user one by one (cases.selectors.scope.given_children): grants in
force at the level asked for, and for reading the user's unexpired break-the-glass accesses.
Written as SQL for speed, it must reach exactly the children the ORM's definition reaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Child, ChildAccessGrant, EmergencyAccess
from cases.selectors.scope import children_visible_to, given_children, live_grants
from institutions.roles import Level
from tests.conftest import user
from tests.demo import FAR_VILLAGE

pytestmark = pytest.mark.django_db


def _by_the_orm(user_id: int, level: Level) -> list[int]:
    ids = list(live_grants(user_id=user_id, level=level).values_list("child_id", flat=True))
    if level == Level.READ:
        ids += EmergencyAccess.objects.filter(
            user_id=user_id, expires_at__gt=timezone.now()
        ).values_list("child_id", flat=True)
    return sorted(ids)


def _by_the_sql(user_id: int, level: Level) -> list[int]:
    given = given_children(user_id=user_id, level=level)
    with connection.cursor() as cursor:
        cursor.execute(given.sql, given.params)
        return sorted(row[0] for row in cursor.fetchall())


def test_the_given_children_are_the_live_grants_and_unexpired_emergencies():
    director, other = user("director_a"), user("director_b")
    far = list(Child.objects.filter(residence_region_id=FAR_VILLAGE).order_by("pk")[:8])
    now = timezone.now()
    hour = timedelta(hours=1)

    def grant(child, level, **extra):
        ChildAccessGrant.objects.create(
            child=child, user=director, level=level, source="share", **extra
        )

    grant(far[0], Level.READ)
    grant(far[1], Level.CONTRIBUTE, expires_at=now + hour)
    grant(far[2], Level.CONTRIBUTE, expires_at=now - hour)  # expired
    grant(far[3], Level.READ, ended_at=now - hour)  # ended
    ChildAccessGrant.objects.create(child=far[4], user=other, level=Level.READ, source="share")
    EmergencyAccess.objects.create(user=director, child=far[5], reason="x", expires_at=now + hour)
    EmergencyAccess.objects.create(user=director, child=far[6], reason="x", expires_at=now - hour)

    for level in (Level.READ, Level.CONTRIBUTE, Level.MANAGE):
        assert _by_the_sql(director.pk, level) == _by_the_orm(director.pk, level)
    assert _by_the_sql(director.pk, Level.READ) == sorted([far[0].pk, far[1].pk, far[5].pk])
    assert _by_the_sql(director.pk, Level.CONTRIBUTE) == [far[1].pk]
    # And the scope the pages use reaches them, at each level, and no further.
    readable = set(children_visible_to(director).values_list("pk", flat=True))
    assert {far[0].pk, far[1].pk, far[5].pk} <= readable
    assert not {far[2].pk, far[3].pk, far[4].pk, far[6].pk} & readable
    writable = set(children_visible_to(director, Level.CONTRIBUTE).values_list("pk", flat=True))
    assert far[1].pk in writable and not {far[0].pk, far[5].pk} & writable
