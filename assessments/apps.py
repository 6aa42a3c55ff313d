from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
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
        from assessments.models import Instrument, ReassessmentPolicy
        from assessments.selectors import DUE_RULES_KEY, forget_due_rules, register_scopes
        from assessments.services import latest_result_risks, open_alert_risks
        from cases.services.risk import register_risk_source
        from core.cache import read_with_principal

        file_integration.register()
        child_filters.register()
        register_scopes()
        exports.register()
        register_risk_source(latest_result_risks)
        register_risk_source(open_alert_risks)
        navigation.register()
        messages.register()
        deidentify.register()
        # The rules of the file's next due date, read with the principal and kept until an
        # instrument or a policy changes.
        read_with_principal(DUE_RULES_KEY)
        for model in (Instrument, ReassessmentPolicy):
            for signal in (post_save, post_delete):
                signal.connect(forget_due_rules, sender=model, dispatch_uid=f"due-rules.{model}")
