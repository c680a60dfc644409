"""All tables. One module per area; importing this package registers every model."""

from portal.models.base import utcnow
from portal.models.cohorts import (
    CalendarFeed,
    Cohort,
    CohortFacilitator,
    CohortSession,
    CohortStatus,
    Dyad,
    DyadMember,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Supervision,
)
from portal.models.people import (
    ROLE_ORDER,
    AuditEvent,
    Invitation,
    PasswordReset,
    Role,
    User,
    UserRole,
    UserSession,
)

__all__ = [
    "CalendarFeed",
    "Cohort",
    "CohortFacilitator",
    "CohortSession",
    "CohortStatus",
    "Dyad",
    "DyadMember",
    "Enrollment",
    "EnrollmentStatus",
    "Handout",
    "Supervision",
    "AuditEvent",
    "Invitation",
    "PasswordReset",
    "ROLE_ORDER",
    "Role",
    "User",
    "UserRole",
    "UserSession",
    "utcnow",
]
