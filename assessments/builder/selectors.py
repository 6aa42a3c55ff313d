"""Reads of instruments for the builder."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Max, QuerySet

from assessments.models import Instrument
from institutions.models import User


def instruments_visible_to(user: User | AnonymousUser) -> QuerySet[Instrument]:
    """Every instrument for those who may see instruments (administrators); none otherwise."""
    if not user.is_authenticated or not user.has_perm("assessments.view_instrument"):
        return Instrument.objects.none()
    return Instrument.objects.all()


def next_version_number(instrument: Instrument) -> int:
    """The number a new version of this instrument's code would get."""
    newest = Instrument.objects.filter(code=instrument.code).aggregate(n=Max("version"))["n"]
    return int(newest or 0) + 1
