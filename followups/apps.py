from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """Visits, activities, follow-up plans, tasks and notifications."""

    name = "followups"
    verbose_name = _("Visits and follow-up")

    def ready(self) -> None:
        from core.signals import child_record_saved
        from followups import (  # noqa: F401 (the admin modules register on import)
            child_filters,
            deidentify,
            delivery_admin,
            exports,
            generators,
            messages,
            navigation,
            policy_admin,
        )
        from followups.file_integration import activities as activities_file
        from followups.file_integration import plans as plans_file
        from followups.file_integration import visits as visits_file
        from followups.selectors import register_scopes
        from followups.services.schedule import on_child_record_saved

        visits_file.register()
        child_filters.register()
        activities_file.register()
        plans_file.register()
        register_scopes()
        exports.register()
        navigation.register()
        messages.register()
        generators.register()
        deidentify.register()
        child_record_saved.connect(on_child_record_saved, dispatch_uid="followups.tasks")
