from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """Visits, activities, follow-up plans, tasks and notifications."""

    name = "followups"
    verbose_name = _("Visits and follow-up")

    def ready(self) -> None:
        from followups import navigation
        from followups.file_integration import activities as activities_file
        from followups.file_integration import visits as visits_file
        from followups.selectors import register_scopes

        visits_file.register()
        activities_file.register()
        register_scopes()
        navigation.register()
