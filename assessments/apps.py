from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Instruments, scoring, screenings, alerts and the reassessment policy."""

    name = "assessments"
    verbose_name = _("Assessments")

    def ready(self) -> None:
        from assessments import (
            child_filters,
            deidentify,
            exports,
            file_integration,
            messages,
            navigation,
        )
        from assessments.selectors import register_scopes
        from assessments.services import latest_result_risks, open_alert_risks
        from cases.services.risk import register_risk_source

        file_integration.register()
        child_filters.register()
        register_scopes()
        exports.register()
        register_risk_source(latest_result_risks)
        register_risk_source(open_alert_risks)
        navigation.register()
        messages.register()
        deidentify.register()
