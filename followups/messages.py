"""How the followups app's notifications read (registered in FollowupsConfig.ready): visits,
follow-up plans, the scheduler's reminders and the delivery log's failures."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cases.models import CareTeamMember
from core.notifications import Message, register_messages


def register() -> None:
    register_messages(
        {
            # params: visit (id)
            "flagged_visit": _("A visit to %(child)s found a serious concern: please review it."),
            # params: visit (id), user (the reviewer's name)
            "visit_reviewed": _("%(user)s reviewed your visit to %(child)s: read the note."),
            # params: overdue, today, soon (counts): one reminder per person and run
            "tasks_due": _(
                "You have %(overdue)s overdue tasks, %(today)s due today and %(soon)s due soon."
            ),
            # params: count
            "tasks_escalated": _(
                "%(count)s tasks of your team are overdue past the limit and were escalated to you."
            ),
            # params: institution (the clinic's name), referral (id)
            "followup_plan_made": _(
                "A follow-up plan after discharge from %(institution)s was made for %(child)s."
            ),
            # params: role (a CareTeamMember.TeamRole code), referral (id)
            "followup_partner_needed": Message(
                _("%(child)s was discharged and needs a follow-up partner (%(role)s): name one."),
                labels={"role": CareTeamMember.TeamRole},
            ),
            # params: plan (id)
            "followup_partner_named": _(
                "You were paired with %(child)s for follow-up visits after treatment."
            ),
            # params: count: to system administrators, in the app only
            "delivery_failed": _(
                "%(count)s e-mails or text messages could not be sent, even after retrying: "
                "see the delivery log."
            ),
        }
    )
