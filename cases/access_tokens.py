"""Opaque, per-user tokens for a child that a duplicate search showed outside the user's scope.

The token lets that user ask for access or break the glass for that one child. It is encrypted
(Fernet, with the field-encryption key), so it reveals nothing, not even the child's internal id;
it names the user it was made for, expires after a day, and carries a random nonce so that
break-the-glass can accept each token once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import InvalidToken

from cases.identity import fernet

TOKEN_MAX_AGE = 24 * 3600  # seconds


@dataclass(frozen=True)
class ChildToken:
    """What a valid token says: which child, and its one-time nonce."""

    child_id: int
    nonce: str


def child_token_make(*, child_id: int, user_id: int) -> str:
    payload = json.dumps({"c": child_id, "u": user_id, "n": secrets.token_hex(16)})
    return fernet().encrypt(payload.encode()).decode()


def child_token_read(token: str, *, user_id: int) -> ChildToken | None:
    """The token's child for this user, or None (forged, expired, or made for someone else)."""
    if not token or len(token) > 1000:
        return None
    try:
        data = json.loads(fernet().decrypt(token.encode(), ttl=TOKEN_MAX_AGE))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    child_id, nonce = data.get("c"), data.get("n")
    if not isinstance(child_id, int) or not isinstance(nonce, str):
        return None
    return ChildToken(child_id=child_id, nonce=nonce)
