from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Children's files")

    def ready(self) -> None:
        from cases import deidentify, exports, messages, navigation
        from cases.selectors.scope import register_scopes

        register_scopes()
        exports.register()
        navigation.register()
        messages.register()
        deidentify.register()
