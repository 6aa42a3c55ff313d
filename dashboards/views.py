"""The home page: the signed-in user's work list, made of the panels the apps register."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.navigation import home_panels
from institutions.selectors import signed_in_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What is due and waiting for this user, panel by panel (each shown only when it has
    something for them)."""
    user = signed_in_user(request)
    panels = []
    for panel in home_panels():
        context = panel.context(user)
        if context is not None:
            panels.append((panel.template, context))
    return render(request, "dashboards/home.html", {"panels": panels})
