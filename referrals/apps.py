from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals to services and clinics, their life cycle, and the clinic's access."""

    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from referrals import (
            deidentify,
            exports,
            file_integration,
            messages,
            navigation,
            plan_source,
            scheduling,
        )
        from referrals.selectors import register_scopes

        file_integration.register()
        scheduling.register()
        register_scopes()
        exports.register()
        navigation.register()
        plan_source.register()
        messages.register()
        deidentify.register()
