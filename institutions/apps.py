from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    """Regions, agencies, institutions and venues, staff and their roles, the access rules."""

    name = "institutions"
    verbose_name = _("Organisations and access")
