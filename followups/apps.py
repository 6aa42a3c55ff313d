from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """Visits, activities, follow-up plans, tasks and notifications."""

    name = "followups"
    verbose_name = _("Visits and follow-up")

    def ready(self) -> None:
        from followups import activities_file, visits_file
        from followups.selectors import register_scopes

        visits_file.register()
        activities_file.register()
        register_scopes()
