"""Registries that let each app put entries in the menu and panels on the home page without the
floor below importing it (DESIGN.md §3). Apps register in their `AppConfig.ready()`; the top
floor (`dashboards`) renders what is registered, in order, for the user at hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UserTest = Callable[[Any], bool]


def always(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the navigation: shown to users for whom `visible(user)` holds."""

    order: int
    label: Any  # a lazy translation
    url_name: str
    icon: str
    visible: UserTest = always


@dataclass(frozen=True)
class HomePanel:
    """One panel of the home page: `context(user)` gives the template its data, or None when
    the panel has nothing to show this user (one or two queries at most: the home page's count
    of queries is fixed)."""

    order: int
    template: str
    context: Callable[[Any], dict[str, Any] | None]
    name: str = field(default="")


_MENU: list[MenuEntry] = []
_PANELS: list[HomePanel] = []


def register_menu_entries(*entries: MenuEntry) -> None:
    for entry in entries:
        if entry not in _MENU:
            _MENU.append(entry)
    _MENU.sort(key=lambda e: e.order)


def register_home_panels(*panels: HomePanel) -> None:
    for panel in panels:
        if panel not in _PANELS:
            _PANELS.append(panel)
    _PANELS.sort(key=lambda p: p.order)


def menu_entries() -> tuple[MenuEntry, ...]:
    return tuple(_MENU)


def home_panels() -> tuple[HomePanel, ...]:
    return tuple(_PANELS)


def has_perm(permission: str) -> UserTest:
    """A visibility test: the user holds `permission`."""
    return lambda user: user.has_perm(permission)


def has_any_perm(*permissions: str) -> UserTest:
    return lambda user: any(user.has_perm(p) for p in permissions)
