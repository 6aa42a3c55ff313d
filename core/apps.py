from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The ground floor: plumbing every app uses, with no domain of its own."""

    name = "core"
    verbose_name = _("Core")
