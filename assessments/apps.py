from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Instruments, scoring, screenings, alerts and the reassessment policy."""

    name = "assessments"
    verbose_name = _("Assessments")

    def ready(self) -> None:
        from assessments import file_integration
        from assessments.selectors import register_scopes

        file_integration.register()
        register_scopes()
