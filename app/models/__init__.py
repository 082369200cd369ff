"""All tables of gridgov. Importing this package registers every model on FAB's metadata."""
from flask_appbuilder import Model

from .assessment import AssessmentAdjustment, AssessmentScore, AssessmentWeights
from .audit import AuditEntry, PersonalDataAccess
from .departments import Department, department_communities
from .emergencies import EmergencyResponse, ResponseTask
from .grids import Grid
from .incidents import (DeadlineRule, Incident, IncidentCategory, IncidentEvent, incident_month_tallies, incident_scopes,
                        incident_tallies)
from .logins import login_failures
from .patrols import ClockIn, Patrol, PatrolRule
from .people import ServiceRecord, TrainingRecord, Volunteer, Worker
from .residents import AttentionTag, GridRecords, House, Household, HouseholdMove, Resident, Visit
from .points import (LedgerEntry, PointsAccount, PointsRule, Redemption, RedemptionLine, RewardItem, StockMovement,
                     WorkerPointsRule, points_earned, worker_points_months)
from .users import GridgovUser
from .versions import auth_version, reference_version
from .wishes import MicroWish
from .whistles import Whistle, WhistleSummons, whistle_incidents

metadata = Model.metadata

__all__ = [
    "AssessmentAdjustment",
    "AssessmentScore",
    "AssessmentWeights",
    "AuditEntry",
    "PersonalDataAccess",
    "Department",
    "EmergencyResponse",
    "ResponseTask",
    "department_communities",
    "Grid",
    "GridgovUser",
    "DeadlineRule",
    "Incident",
    "IncidentCategory",
    "IncidentEvent",
    "LedgerEntry",
    "login_failures",
    "ClockIn",
    "Patrol",
    "PatrolRule",
    "PointsAccount",
    "PointsRule",
    "Redemption",
    "RedemptionLine",
    "RewardItem",
    "StockMovement",
    "ServiceRecord",
    "AttentionTag",
    "GridRecords",
    "House",
    "Household",
    "HouseholdMove",
    "Resident",
    "Visit",
    "Volunteer",
    "Worker",
    "TrainingRecord",
    "MicroWish",
    "metadata",
    "Whistle",
    "WhistleSummons",
    "whistle_incidents",
    "incident_scopes",
    "reference_version",
    "incident_tallies",
    "incident_month_tallies",
    "points_earned",
    "WorkerPointsRule",
    "worker_points_months",
    "auth_version",
]
