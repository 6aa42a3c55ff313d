from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The ground floor: plumbing every app uses, with no domain of its own."""

    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.access import register
        from core.cache import read_with_principal
        from core.dbcursor import keep_more_prepared
        from core.exports import export_job_scope_q
        from core.models import ExportJob
        from core.notifications import badge_key

        # An export's file is its requester's alone (the one fetch answers 404 to anyone else).
        register(ExportJob, q=export_job_scope_q, child_id=None)
        # The bell's count, on every page: read in the principal's round trip.
        read_with_principal(badge_key)
        connection_created.connect(keep_more_prepared, dispatch_uid="core.prepared_max")
