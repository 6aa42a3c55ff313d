from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Children's files")

    def ready(self) -> None:
        from cases.selectors import register_scopes
        from cases.services.access import log_child_read
        from institutions.access import register_read_logger

        register_scopes()
        register_read_logger(log_child_read)
