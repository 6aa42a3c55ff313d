"""The pages a one-time set-password link opens (outside the admin site, for the user it was
issued to); that a password was set is logged."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse
from django.urls import reverse_lazy

from institutions.admin.site import admin_record
from institutions.forms import BootstrapFormMixin


class OwnPasswordForm(BootstrapFormMixin, SetPasswordForm):
    """The new password, twice, checked by the password rules."""


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page a one-time set-password link opens; that a password was set is logged."""

    form_class = OwnPasswordForm
    template_name = "registration/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        signed_in = self.request.user.pk if self.request.user.is_authenticated else None
        admin_record(
            request=self.request,
            user=form.user,
            event="password_set_by_link",
            member=form.user.pk,
            signed_in_as=signed_in,
        )
        return response


class PasswordSetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_set_done.html"
