"""Children, their families and care, and the records kept about access to them."""

from cases.models.care import CarePlan, CarePlanReview, CareTeamMember
from cases.models.child import (
    Category,
    Child,
    IntervalRule,
    RiskLevel,
)
from cases.models.family import Consent, Guardian
from cases.models.records import (
    AccessRequest,
    ChildAccessGrant,
    ChildImport,
    EmergencyAccess,
    Handover,
)

__all__ = [
    "AccessRequest",
    "CarePlan",
    "CarePlanReview",
    "CareTeamMember",
    "Category",
    "Child",
    "ChildAccessGrant",
    "ChildImport",
    "Consent",
    "EmergencyAccess",
    "Guardian",
    "Handover",
    "IntervalRule",
    "RiskLevel",
]
