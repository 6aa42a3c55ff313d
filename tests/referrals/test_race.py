"""Two clinic staff accept the same referral at the same moment: exactly one wins.

A real race: two threads, two database connections, committed transactions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from institutions.roles import Role
from referrals.models import Referral
from referrals.services.lifecycle import referral_accept
from referrals.services.transitions import ReferralError
from tests.conftest import user
from tests.factories import UserFactory
from tests.referrals import S, hospital, sent


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_exactly_one_wins(demo_world):
    referral = sent()
    colleague = UserFactory(role=Role.CLINICIAN, institution=hospital())
    doctors = [user("clinician"), colleague]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(doctor):
        try:
            barrier.wait(timeout=10)
            referral_accept(referral=Referral(pk=referral.pk), by=doctor)
            result = "won"
        except ReferralError:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(d,)) for d in doctors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["refused", "won"]
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED
    assert referral.events.filter(to_status=S.ACCEPTED).count() == 1
