"""Key rotation (issue 15): with FIELD_ENCRYPTION_KEY="NEW,OLD", `manage.py rotate_field_key`
re-encrypts every ID number under NEW (resumable: a run stopped part-way is finished by the
next), after which NEW alone reads them all."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from cases.identity import decrypt, field_keys
from cases.models import Child
from tests.cases.test_identity import make_id
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_field_key", *args, stdout=out)
    return out.getvalue()


def test_the_numbers_are_re_encrypted_under_the_new_key_resumably(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    numbers = {
        ChildFactory(national_id=make_id(seq=f"{index:03d}")).pk: make_id(seq=f"{index:03d}")
        for index in range(5)
    }
    stored = dict(Child.objects.filter(pk__in=numbers).values_list("pk", "national_id_encrypted"))
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    # Readable with both keys before the rotation, and new writes already use NEW.
    assert all(decrypt(stored[pk]) == number for pk, number in numbers.items())
    assert "re-encrypted 2," in rotate("--limit", "2", "--batch-size", "2")  # interrupted
    report = rotate()
    assert "re-encrypted 3," in report and "left 0" in report
    assert "re-encrypted 0," in rotate()  # nothing more to do
    settings.FIELD_ENCRYPTION_KEY = new  # the old key removed
    rows = dict(Child.objects.filter(pk__in=numbers).values_list("pk", "national_id_encrypted"))
    for pk, number in numbers.items():
        assert rows[pk] != stored[pk]
        assert field_keys()[0].decrypt(rows[pk].encode()).decode() == number
