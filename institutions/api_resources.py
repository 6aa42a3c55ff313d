"""Regions, institutions and venues in the JSON API (read only)."""

from __future__ import annotations

from typing import Any

ROUTES: list[tuple[str, Any, str]] = []
