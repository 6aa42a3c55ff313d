"""The dashboards' indicators in the JSON API."""

from __future__ import annotations

from typing import Any

ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[tuple[str, Any, str]] = []
