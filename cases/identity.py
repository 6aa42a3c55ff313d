"""National ID numbers and names: validation, keyed hashing, encryption, masking, pinyin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from institutions.masking import FieldKind, masked, may_see
from institutions.models import User

if TYPE_CHECKING:
    from cases.models import Child

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidNationalId(ValueError):
    """The number is not a valid 18-digit resident identity number."""


def normalize_national_id(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def national_id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_national_id(raw: str) -> tuple[str, date]:
    """Validate an 18-digit ID (GB 11643: format, date, check digit); return it and its birth."""
    value = normalize_national_id(raw)
    if not _ID_RE.match(value):
        raise InvalidNationalId(_("An ID number has 17 digits followed by a digit or X."))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidNationalId(
            _("The date of birth inside the ID number is not a date.")
        ) from None
    if national_id_check_digit(value[:17]) != value[17]:
        raise InvalidNationalId(
            _("The ID number's check digit is wrong: please check it for a typing error.")
        )
    return value, born


def national_id_hash(value: str) -> str:
    """Keyed hash used to find the same child anywhere without storing the number."""
    key = settings.NATIONAL_ID_HASH_KEY.encode()
    return hmac.new(key, normalize_national_id(value).encode(), hashlib.sha256).hexdigest()


def field_keys() -> list[Fernet]:
    """The field-encryption keys, the current one first: FIELD_ENCRYPTION_KEY is one Fernet
    key, or during a key rotation "NEW,OLD" (`manage.py rotate_field_key`)."""
    keys = [key.strip() for key in str(settings.FIELD_ENCRYPTION_KEY or "").split(",")]
    keys = [key for key in keys if key]
    if not keys:
        # Development and tests: a key derived from SECRET_KEY (production must set its own).
        digest = hashlib.sha256((settings.SECRET_KEY + ":field-encryption").encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return [Fernet(key.encode()) for key in keys]


def fernet() -> MultiFernet:
    """Encrypts with the current key; decrypts with any key of FIELD_ENCRYPTION_KEY."""
    return MultiFernet(field_keys())


def under_current_key(token: str) -> bool:
    """Whether `token` is encrypted with the current key (what a rotation leaves)."""
    try:
        field_keys()[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def protect_national_id(value: str) -> dict[str, str | None]:
    """The three stored forms of an ID number (or empty ones when there is none)."""
    if not value:
        return {"national_id_hash": None, "national_id_encrypted": "", "national_id_masked": ""}
    return {
        "national_id_hash": national_id_hash(value),
        "national_id_encrypted": encrypt(value),
        "national_id_masked": masked(FieldKind.NATIONAL_ID, value),
    }


def national_id_for(*, user: User, child: Child) -> str:
    """The child's ID number as `user` may see it: whole, or the masked form stored with it."""
    if child.national_id_encrypted and may_see(user, FieldKind.NATIONAL_ID):
        return decrypt(child.national_id_encrypted) or child.national_id_masked
    return child.national_id_masked


def name_key(name: str) -> str:
    """Pinyin key for matching: 張偉, 张伟, "Zhang Wei" and "zhangwei" all give "zhangwei"."""
    letters = "".join(lazy_pinyin((name or "").strip()))
    return re.sub(r"[^a-z]", "", letters.lower())
