"""How the cases app's notifications read (registered in CasesConfig.ready); `%(child)s` is the
child as the reader may see them, the other parameters are what the services store."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cases.models import CareTeamMember
from core.notifications import Message, register_messages


def register() -> None:
    register_messages(
        {
            # params: user (the asker's name)
            "access_request": _("%(user)s asks for access to the file of %(child)s."),
            "access_request_approved": _(
                "Your request for access to the file of %(child)s was approved."
            ),
            "access_request_declined": _(
                "Your request for access to the file of %(child)s was declined."
            ),
            # params: user (who broke the glass)
            "emergency_access": _(
                "%(user)s opened the file of %(child)s in an emergency: please review it."
            ),
            # params: team_role (a CareTeamMember.TeamRole code)
            "care_team_added": Message(
                _("You were added to the care team of %(child)s as %(team_role)s."),
                labels={"team_role": CareTeamMember.TeamRole},
            ),
            # params: region (the receiving region's name)
            "handover": _("%(child)s has moved to %(region)s and was handed over to you."),
        }
    )
