"""How the referrals app's notifications read (registered in ReferralsConfig.ready). None names
a diagnosis or a treatment: the reader opens the referral for those."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.notifications import Message, register_messages
from referrals.models import Referral


def register() -> None:
    register_messages(
        {
            # params: referral (id), urgency (a Referral.Urgency code)
            "referral_received": Message(
                _("New referral of %(child)s (%(urgency)s)."),
                labels={"urgency": Referral.Urgency},
            ),
            "referral_override": _(
                "A referral of %(child)s was sent without guardian consent (emergency): "
                "please review it."
            ),
            "referral_withdrawn": _("The referral of %(child)s was withdrawn."),
            # params: referral (id), institution (the clinic's name)
            "referral_accepted": _("%(institution)s accepted the referral of %(child)s."),
            "referral_declined": _("%(institution)s declined the referral of %(child)s."),
            "referral_discharged": _(
                "%(institution)s discharged %(child)s: read the outcome and the follow-up "
                "recommendation."
            ),
        }
    )
