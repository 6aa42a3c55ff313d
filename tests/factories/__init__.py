"""factory_boy factories, one module per app, each writing through the app's services; and
the children in and out of each role's scope (`scope`). Import from here:

    from tests.factories import ChildFactory, child_in_scope_of
"""

from tests.factories.assessments import AssessmentFactory, instrument
from tests.factories.cases import (
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    ConsentFactory,
    GuardianFactory,
)
from tests.factories.followups import VisitFactory
from tests.factories.institutions import (
    InstitutionFactory,
    UserFactory,
    agency,
    institution,
    membership_of,
    neighbouring_village,
    region,
)
from tests.factories.referrals import ReferralFactory
from tests.factories.scope import child_in_scope_of, child_out_of_scope_of

__all__ = [
    "AssessmentFactory",
    "CarePlanFactory",
    "CareTeamMemberFactory",
    "ChildFactory",
    "ConsentFactory",
    "GuardianFactory",
    "InstitutionFactory",
    "ReferralFactory",
    "UserFactory",
    "VisitFactory",
    "agency",
    "child_in_scope_of",
    "child_out_of_scope_of",
    "institution",
    "instrument",
    "membership_of",
    "neighbouring_village",
    "region",
]
