"""Visits, activities, follow-up plans, tasks and notifications in the JSON API."""

from __future__ import annotations

from typing import Any

ROUTES: list[tuple[str, Any, str]] = []
