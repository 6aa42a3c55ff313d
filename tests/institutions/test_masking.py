"""Field masking helpers and who may see what unmasked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework import serializers

from institutions.masking import (
    MASKING_TABLE,
    FieldKind,
    MaskedField,
    mask,
    mask_name,
    mask_national_id,
    mask_phone,
    may_see,
)
from institutions.models import User
from institutions.services import resolve_permissions

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
    assert mask(director, "national_id", value) == value
    assert mask(county, "national_id", value) == mask_national_id(value)


def test_confidential_notes_are_replaced_for_roles_without_the_right():
    director = User.objects.get(username="director_a")
    counselor = User.objects.get(username="counselor")
    note = "家中有冲突"
    assert mask(counselor, "confidential_note", note) == note
    assert note not in mask(director, "confidential_note", note)


def test_every_kind_in_the_table_names_a_real_permission():
    resolve_permissions({rule.permission for rule in MASKING_TABLE.values()})
    assert set(MASKING_TABLE) == set(FieldKind)


@pytest.mark.parametrize(
    ("username", "kind", "whole"),
    [
        ("director_a", "phone", True),
        ("counselor", "phone", True),
        ("clinician", "phone", True),
        ("mentor", "phone", False),
        ("volunteer", "phone", False),
        ("county_civil", "phone", False),
        ("director_a", "national_id", True),
        ("mentor", "national_id", False),
        ("mentor", "name", True),
        ("auditor", "name", False),
        ("supervisor_town", "confidential_note", True),
        ("volunteer", "confidential_note", False),
    ],
)
def test_mask_follows_the_table(username, kind, whole):
    value = {
        "phone": "13812345678",
        "national_id": "990101200801011234",
        "name": "张小明",
        "confidential_note": "家中有冲突",
    }[kind]
    shown = mask(User.objects.get(username=username), kind, value)
    assert shown == (value if whole else MASKING_TABLE[FieldKind(kind)].masker(value))
    assert (shown == value) is whole


def test_a_child_out_of_scope_is_masked_whatever_the_role():
    director = User.objects.get(username="director_a")
    assert mask(director, "name", "张小明", in_scope=False) == "张**"
    assert mask(director, "phone", "13812345678", in_scope=False) == "138****5678"


def test_a_value_not_marked_sensitive_is_shown_as_it_is():
    volunteer = User.objects.get(username="volunteer")
    assert mask(volunteer, "confidential_note", "一切正常", sensitive=False) == "一切正常"
    assert mask(volunteer, "confidential_note", "", sensitive=True) == ""
    assert mask(AnonymousUser(), "phone", None) == ""


def test_an_unknown_kind_is_an_error_not_a_whole_value():
    with pytest.raises(ValueError):
        mask(User.objects.get(username="director_a"), "bank_account", "6222020000000000")


@pytest.mark.parametrize(("username", "whole"), [("social_worker", True), ("mentor", False)])
def test_templates_show_phones_through_the_table(username, whole):
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=username)
    html = Template(
        '{% load masking %}{% phone_link phone %}|{% masked note "confidential_note" '
        "sensitive=secret %}"
    ).render(Context({"request": request, "phone": "13812345678", "note": "x", "secret": False}))
    if whole:
        assert html == '<a href="tel:13812345678">13812345678</a>|x'
    else:
        assert html == "138****5678|x"


class _GuardianOut(serializers.Serializer):
    phone = MaskedField(FieldKind.PHONE)


@pytest.mark.parametrize(
    ("username", "shown"), [("welfare_staff", "13812345678"), ("mentor", "138****5678")]
)
def test_the_api_field_masks_through_the_table(username, shown):
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=username)
    data = _GuardianOut({"phone": "13812345678"}, context={"request": request}).data
    assert data["phone"] == shown
