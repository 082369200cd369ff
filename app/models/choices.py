"""Closed lists of values used by the models, with their translatable labels.

The database holds the keys (CHECK constraints list them); people see the labels."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, literal_column, text

# Grid levels, top to bottom. A grid's level must be strictly below its parent's.
GRID_LEVELS = ("district", "street", "community", "block", "building")
GRID_LEVEL_LABELS = {
    "district": _l("District / county"),
    "street": _l("Street / town"),
    "community": _l("Community / village"),
    "block": _l("Block grid"),
    "building": _l("Building micro-grid"),
}
GRID_LEVEL_RANK = {level: rank for rank, level in enumerate(GRID_LEVELS, start=1)}

GRID_KINDS = ("comprehensive", "dedicated")
GRID_KIND_LABELS = {
    "comprehensive": _l("Comprehensive grid"),
    "dedicated": _l("Dedicated grid"),
}

WORKER_ROLES = (
    "chief_grid_leader",
    "grid_leader",
    "grid_worker",
    "building_leader",
    "stairwell_leader",
    "party_group_leader",
    "cleaner",
    "security_officer",
    "property_officer",
    "mediator",
    "informant",
    "assistant",
    "instructor",
)
WORKER_ROLE_LABELS = {
    "chief_grid_leader": _l("Chief grid leader"),
    "grid_leader": _l("Grid leader"),
    "grid_worker": _l("Grid worker"),
    "building_leader": _l("Building leader"),
    "stairwell_leader": _l("Stairwell leader"),
    "party_group_leader": _l("Party group leader"),
    "cleaner": _l("Cleaner"),
    "security_officer": _l("Security officer"),
    "property_officer": _l("Property officer"),
    "mediator": _l("Mediator"),
    "informant": _l("Informant"),
    "assistant": _l("Assistant"),
    "instructor": _l("Instructor"),
}

EMPLOYMENT_TYPES = ("full_time", "part_time")
EMPLOYMENT_TYPE_LABELS = {
    "full_time": _l("Full-time"),
    "part_time": _l("Part-time"),
}

DEPARTMENT_KINDS = ("functional", "paired_unit")
DEPARTMENT_KIND_LABELS = {
    "functional": _l("Functional department"),
    "paired_unit": _l("Paired unit"),
}

VOLUNTEER_KINDS = ("resident", "sunk_party_member")
VOLUNTEER_KIND_LABELS = {
    "resident": _l("Resident"),
    "sunk_party_member": _l("Sunk party member"),
}


def sql_in(values) -> str:
    """The SQL list of the app's own constant values, ('a', 'b'): CHECK constraints use it, and
    ``in_constants``. A value that would need quoting is refused."""
    if any("'" in value or "\\" in value for value in values):
        raise ValueError("constants only")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def in_constants(column, values):
    """``column IN ('a', 'b')`` with the app's own constant values written into the statement:
    SQLAlchemy sends a list as an expanding parameter, rendered again on every execution."""
    return column.op("IN", is_comparison=True)(literal_column(sql_in(values)))


def fk_index(table: str, column: str, *more: str) -> Index:
    """An index of a nullable foreign key's rows that have one (migration 0018). Without it,
    deleting the row it refers to reads the whole table to find the rows to empty or refuse."""
    return Index(f"{table}_{column}_idx", column, *more, postgresql_where=text(f"{column} IS NOT NULL"))


RULE_UNITS = ("hour", "event")
RULE_UNIT_LABELS = {"hour": _l("Per hour"), "event": _l("Per event")}

ENTRY_KINDS = ("earn", "redeem", "refund", "adjust", "expire")
ENTRY_KIND_LABELS = {
    "earn": _l("Earned"),
    "redeem": _l("Redeemed"),
    "refund": _l("Refunded"),
    "adjust": _l("Adjustment"),
    "expire": _l("Expired"),
}

STOCK_KINDS = ("restock", "redeem", "cancel", "adjust")
STOCK_KIND_LABELS = {
    "restock": _l("Restocked"),
    "redeem": _l("Redeemed"),
    "cancel": _l("Returned by a cancellation"),
    "adjust": _l("Stock correction"),
}

REDEMPTION_STATUSES = ("pending", "handed_over", "cancelled")
REDEMPTION_STATUS_LABELS = {
    "pending": _l("Waiting for pick-up"),
    "handed_over": _l("Handed over"),
    "cancelled": _l("Cancelled"),
}

INCIDENT_SOURCES = ("patrol", "photo", "qr", "hotline", "iot")
INCIDENT_SOURCE_LABELS = {
    "patrol": _l("Grid-worker patrol"),
    "photo": _l("Resident photo report"),
    "qr": _l("QR code form"),
    "hotline": _l("Hotline 12345"),
    "iot": _l("IoT sensor alert"),
}

URGENCIES = ("normal", "urgent", "critical")
URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}

INCIDENT_STATUSES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "closed",
                     "returned", "rejected", "reopened")
INCIDENT_STATUS_LABELS = {
    "reported": _l("Reported"),
    "accepted": _l("Accepted"),
    "dispatched": _l("Dispatched"),
    "in_progress": _l("In progress"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "returned": _l("Returned"),
    "rejected": _l("Rejected"),
    "reopened": _l("Reopened"),
}
OPEN_STATUSES = ("reported", "accepted", "dispatched", "in_progress", "returned", "reopened")
# open, or resolved and waiting for the resident's rating: what someone still has to do
PENDING_STATUSES = (*OPEN_STATUSES, "resolved")

# Handling levels, bottom to top; a department is summoned from any level.
HANDLING_LEVELS = ("grid", "community", "street", "district", "department")
HANDLING_LEVEL_LABELS = {
    "grid": _l("Grid"),
    "community": _l("Community"),
    "street": _l("Street"),
    "district": _l("District centre"),
    "department": _l("Department"),
}
