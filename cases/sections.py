"""Sections other apps add to the child's file page (assessments, visits, referrals…).

A section is a template and a function giving its context from the child (already loaded by
`cases.selectors.children.child_file_queryset`) and the viewing user; the function may run a
fixed, small number of queries. Apps register their sections in AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cases.models import Child
from institutions.models import User

R = TypeVar("R")


@dataclass(frozen=True)
class FileSection:
    anchor: str
    title: Any
    template: str
    context: Callable[[Child, User], dict[str, Any]]
    order: int = 100


_sections: list[FileSection] = []


def register(section: FileSection) -> None:
    if all(s.anchor != section.anchor for s in _sections):
        _sections.append(section)
        _sections.sort(key=lambda s: s.order)


def render_context(child: Child, user: User) -> list[dict[str, Any]]:
    """Each registered section with its context, in order."""
    return [
        {"anchor": s.anchor, "title": s.title, "template": s.template, **s.context(child, user)}
        for s in _sections
    ]


def read_once(child: Child, name: str, read: Callable[[], list[R]]) -> list[R]:
    """`read()` the first time a page asks for `name` of the child, and the same rows after:
    the records a section and the timeline (or two sections) both show are read once a page.
    Kept on the child object the page loaded, so they last as long as the request."""
    kept: dict[str, Any] = child.__dict__.setdefault("_xq_read_once", {})
    if name not in kept:
        kept[name] = read()
    rows: list[R] = kept[name]
    return rows
