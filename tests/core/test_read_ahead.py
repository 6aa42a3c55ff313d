"""The bell's count is read from Redis in the same round trip as the signed-in user's principal
(core.cache.read_with_principal): once per request, never staler than that request."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.notifications import badge_key, notifications_mark_read, unread_badge_count
from institutions.models import User
from institutions.principal import principal_for

pytestmark = pytest.mark.django_db


def _fresh(username: str) -> User:
    # A new user object, as each request has.
    return User.objects.get(username=username)


def test_the_count_comes_from_the_principals_read_then_from_the_cache():
    mentor = _fresh("mentor")
    cache.set(badge_key(mentor.pk), 7)
    principal_for(mentor)  # reads the badge's key too
    cache.set(badge_key(mentor.pk), 9)
    # 7: what the principal's round trip read, not a second read of the cache.
    assert unread_badge_count(mentor) == 7
    # A second read in the same request asks the cache again.
    assert unread_badge_count(mentor) == 9
    cache.delete(badge_key(mentor.pk))


def test_marking_read_in_the_request_drops_the_count_read_ahead():
    mentor = _fresh("mentor")
    cache.set(badge_key(mentor.pk), 5)
    principal_for(mentor)
    notifications_mark_read(user=mentor)
    assert unread_badge_count(mentor) == 0  # counted, not the 5 read ahead


def test_without_a_principal_the_count_is_read_as_before():
    mentor = _fresh("mentor")
    cache.set(badge_key(mentor.pk), 3)
    assert unread_badge_count(mentor) == 3
    cache.delete(badge_key(mentor.pk))
