"""The data model: one module per aggregate."""

from careapp.models.booking import (
    ACTIVE_BOOKING_STATUSES,
    CONSENT_POLICY_VERSION,
    Booking,
    BookingStatus,
    CalendarFeed,
    Child,
    ClosedDate,
    GuardianConsent,
    Schedule,
    Slot,
    SlotStatus,
)
from careapp.models.capacity import Inventory, WaitlistEntry, WaitStatus
from careapp.models.filing import ChangeRequest, ChangeStatus, FilingAction, FilingDecision
from careapp.models.institution import (
    Authority,
    EventType,
    FilingEvent,
    Institution,
    Nature,
    Status,
    Transition,
    disclosed_events,
    publicly_listed,
)
from careapp.models.outbox import OutboxMessage
from careapp.models.provision import (
    CLASS_STANDARDS,
    CareClass,
    CareOffer,
    CareType,
    ClassKind,
    PriceUnit,
)
from careapp.models.region import Region, Township, TownshipKind
from careapp.models.user import SELF_SERVICE_ROLES, Role, User

__all__ = [
    "ACTIVE_BOOKING_STATUSES",
    "CONSENT_POLICY_VERSION",
    "Booking",
    "BookingStatus",
    "CalendarFeed",
    "Child",
    "ClosedDate",
    "GuardianConsent",
    "Inventory",
    "Schedule",
    "Slot",
    "SlotStatus",
    "WaitStatus",
    "WaitlistEntry",
    "CLASS_STANDARDS",
    "SELF_SERVICE_ROLES",
    "ChangeRequest",
    "ChangeStatus",
    "FilingAction",
    "FilingDecision",
    "OutboxMessage",
    "Role",
    "Transition",
    "User",
    "Authority",
    "CareClass",
    "CareOffer",
    "CareType",
    "ClassKind",
    "EventType",
    "FilingEvent",
    "Institution",
    "Nature",
    "PriceUnit",
    "Region",
    "Status",
    "Township",
    "TownshipKind",
    "disclosed_events",
    "publicly_listed",
]
