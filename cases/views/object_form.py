"""The base of the pages that add to or change one object of a child's file."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views import View

from cases.models import Child
from cases.services.child import EditConflict
from cases.views.children import file_url
from core.submissions import SubmitOnceMixin
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


class ObjectFormView(SubmitOnceMixin, ScopedViewMixin, View):
    """A form about one object of a child's file, found through the object's selector.

    Subclasses set the selector, permission, form, title and `perform`; the object's child is
    `object` itself for Child, otherwise `object.child`. The form carries a one-time submission
    key (a repeated POST gets the first result); when `perform` finds that someone else changed
    the object since the form was opened (EditConflict), the answer is 409 with the object as it
    is now, and nothing of this submission is written.
    """

    fetch_model: ClassVar[type[Model] | None] = Child
    level = Level.MANAGE

    form_class: ClassVar[type[forms.BaseForm]]
    title: ClassVar[Any] = ""
    success_message: ClassVar[Any] = gettext_lazy("Saved.")
    conflict_message: ClassVar[Any] = gettext_lazy(
        "Someone else changed this after you opened the form. Your changes were not saved, so "
        "that theirs are not lost: the form now shows what is on file. Make your changes again "
        "if they are still needed."
    )
    # A create form keeps what was typed on a conflict (only its hidden state is renewed); an
    # edit form shows the record as it now is.
    conflict_keeps_input: ClassVar[bool] = False
    anchor: ClassVar[str] = ""
    template_name = "cases/child_form.html"

    def child_of(self, obj: Any) -> Child:
        return obj if isinstance(obj, Child) else obj.child

    def form_kwargs(self, obj: Any, user: User) -> dict[str, Any]:
        return {}

    def perform(self, obj: Any, form: Any, user: User) -> None:
        raise NotImplementedError

    def render_form(
        self, request: HttpRequest, obj: Any, form: Any, *, status: int = 200, conflict: str = ""
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "child": self.child_of(obj),
                "object": obj,
                "title": self.title,
                "conflict": conflict,
                **self.extra_context(obj),
            },
            status=status,
        )

    def describe_conflict(self, current: Any) -> str:
        return str(self.conflict_message)

    def render_conflict(self, request: HttpRequest, current: Any) -> HttpResponse:
        """409: the form again, based on the record as it is now."""
        kwargs = self.form_kwargs(current, signed_in_user(request))
        form = self.form_class(**kwargs)
        if self.conflict_keeps_input:
            data = request.POST.copy()
            for field in form.hidden_fields():
                if field.name in form.fields:
                    data[field.name] = "" if field.value() is None else str(field.value())
            form = self.form_class(data, **kwargs)
        return self.render_form(
            request, current, form, status=409, conflict=self.describe_conflict(current)
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.object
        form = self.form_class(**self.form_kwargs(obj, signed_in_user(request)))
        return self.render_form(request, obj, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        obj = self.object
        form = self.form_class(request.POST, **self.form_kwargs(obj, user))
        if not form.is_valid():
            return self.render_form(request, obj, form)
        try:
            self.perform(obj, form, user)
        except EditConflict as conflict:
            return self.render_conflict(request, conflict.current)
        messages.success(request, str(self.success_message))
        return redirect(file_url(self.child_of(obj), self.anchor))
