"""Field masking helpers and who may see what unmasked."""

from __future__ import annotations

import pytest

from institutions.masking import mask_name, mask_national_id, mask_phone, masked_text, may_see
from institutions.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "masked"), [("张小明", "张**"), ("李雷", "李*"), ("Zhang Wei", "Z**** W**"), ("", "")]
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_national_id_keeps_region_and_last_four_only():
    assert mask_national_id("990101200801011234") == "990101********1234"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"


def test_identity_is_unmasked_only_for_roles_allowed():
    director = User.objects.get(username="director_a")
    county = User.objects.get(username="county_civil")
    assert may_see(director, "national_id")
    assert not may_see(county, "national_id")
    value = "990101200801011234"
    assert masked_text(director, value, field_kind="national_id", masker=mask_national_id) == value
    assert masked_text(county, value, field_kind="national_id", masker=mask_national_id) != value


def test_confidential_notes_are_replaced_for_roles_without_the_right():
    director = User.objects.get(username="director_a")
    counselor = User.objects.get(username="counselor")
    note = "家中有冲突"
    assert masked_text(counselor, note, field_kind="confidential_note") == note
    assert note not in masked_text(director, note, field_kind="confidential_note")
