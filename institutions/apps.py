from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    """Regions, agencies, institutions and venues, staff and their roles, the access rules."""

    name = "institutions"
    verbose_name = _("Organisations and access")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.access import register
        from institutions import exports, navigation
        from institutions.admin import memberships, organisations, users  # noqa: F401
        from institutions.middleware import remember_language_at_sign_in
        from institutions.models import Institution, Training
        from institutions.training import training_scope_q
        from institutions.venues import venue_scope_q

        # An institution is fetched as a venue of the directory; neither holds a child's data,
        # so the fetch logs no read.
        register(Institution, q=venue_scope_q, child_id=None)
        register(Training, q=training_scope_q, child_id=None)
        navigation.register()
        exports.register()
        user_logged_in.connect(remember_language_at_sign_in, dispatch_uid="institutions.language")
        from institutions import sign_in_log

        sign_in_log.connect()  # signing in and out, failed sign-ins, lock-outs: the access log
        # Who holds each role for each region follows every membership change.
        from django.db.models.signals import post_delete, post_save

        from institutions.models import Membership
        from institutions.services import region_holders_refresh_on_save

        for signal in (post_save, post_delete):
            signal.connect(
                region_holders_refresh_on_save, sender=Membership, dispatch_uid="region_holders"
            )
        from institutions import principal

        principal.connect()  # a user's cached scope and permissions follow every change
        # The admin modules imported above registered their model admins on the admin site.
