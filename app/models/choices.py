"""Closed lists of values used by the models, with their translatable labels.

The database holds the keys (CHECK constraints list them); people see the labels."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
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


# 一户一档 (app/models/residents.py)
HOUSE_USES = ("residential", "commercial", "mixed", "office", "other")
HOUSE_USE_LABELS = {
    "residential": _l("Residential"),
    "commercial": _l("Commercial"),
    "mixed": _l("Residential and commercial"),
    "office": _l("Office"),
    "other": lazy_pgettext("a kind", "Other"),
}
HOUSE_OWNERSHIPS = ("owned", "rented", "public", "other")
HOUSE_OWNERSHIP_LABELS = {
    "owned": _l("Owner-occupied"),
    "rented": _l("Rented out"),
    "public": _l("Public housing"),
    "other": lazy_pgettext("a kind", "Other"),
}
HOUSEHOLD_KINDS = ("registered", "floating", "collective", "separated")
HOUSEHOLD_KIND_LABELS = {
    "registered": _l("Registered household"),
    "floating": _l("Floating household"),
    "collective": _l("Collective household"),
    "separated": _l("Registered elsewhere (人户分离)"),
}
RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "in_law", "tenant", "other")
RELATION_LABELS = {
    "head": _l("Head of household"),
    "spouse": _l("Spouse"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "grandchild": _l("Grandchild"),
    "grandparent": _l("Grandparent"),
    "sibling": _l("Brother or sister"),
    "in_law": _l("In-law"),
    "tenant": _l("Tenant"),
    "other": lazy_pgettext("a relation", "Other"),
}
RESIDENCE_STATUSES = ("registered", "resident", "floating", "overseas")
RESIDENCE_STATUS_LABELS = {
    "registered": _l("Registered (户籍)"),
    "resident": _l("Living here, registered elsewhere (常住)"),
    "floating": _l("Floating (流动)"),
    "overseas": _l("From abroad (境外)"),
}
GENDER_LABELS = {"male": _l("Male"), "female": _l("Female")}
# GB 3304 codes of China's ethnic groups
ETHNICITY_LABELS = {
    "01": lazy_pgettext("ethnic group", "Han"),
    "02": lazy_pgettext("ethnic group", "Mongol"),
    "03": lazy_pgettext("ethnic group", "Hui"),
    "04": lazy_pgettext("ethnic group", "Tibetan"),
    "05": lazy_pgettext("ethnic group", "Uyghur"),
    "06": lazy_pgettext("ethnic group", "Miao"),
    "07": lazy_pgettext("ethnic group", "Yi"),
    "08": lazy_pgettext("ethnic group", "Zhuang"),
    "09": lazy_pgettext("ethnic group", "Bouyei"),
    "10": lazy_pgettext("ethnic group", "Korean"),
    "11": lazy_pgettext("ethnic group", "Manchu"),
    "12": lazy_pgettext("ethnic group", "Dong"),
    "13": lazy_pgettext("ethnic group", "Yao"),
    "14": lazy_pgettext("ethnic group", "Bai"),
    "15": lazy_pgettext("ethnic group", "Tujia"),
    "16": lazy_pgettext("ethnic group", "Hani"),
    "17": lazy_pgettext("ethnic group", "Kazakh"),
    "18": lazy_pgettext("ethnic group", "Dai"),
    "19": lazy_pgettext("ethnic group", "Li"),
    "20": lazy_pgettext("ethnic group", "Lisu"),
    "21": lazy_pgettext("ethnic group", "Va"),
    "22": lazy_pgettext("ethnic group", "She"),
    "23": lazy_pgettext("ethnic group", "Gaoshan"),
    "24": lazy_pgettext("ethnic group", "Lahu"),
    "25": lazy_pgettext("ethnic group", "Sui"),
    "26": lazy_pgettext("ethnic group", "Dongxiang"),
    "27": lazy_pgettext("ethnic group", "Naxi"),
    "28": lazy_pgettext("ethnic group", "Jingpo"),
    "29": lazy_pgettext("ethnic group", "Kyrgyz"),
    "30": lazy_pgettext("ethnic group", "Tu"),
    "31": lazy_pgettext("ethnic group", "Daur"),
    "32": lazy_pgettext("ethnic group", "Mulao"),
    "33": lazy_pgettext("ethnic group", "Qiang"),
    "34": lazy_pgettext("ethnic group", "Blang"),
    "35": lazy_pgettext("ethnic group", "Salar"),
    "36": lazy_pgettext("ethnic group", "Maonan"),
    "37": lazy_pgettext("ethnic group", "Gelao"),
    "38": lazy_pgettext("ethnic group", "Xibe"),
    "39": lazy_pgettext("ethnic group", "Achang"),
    "40": lazy_pgettext("ethnic group", "Pumi"),
    "41": lazy_pgettext("ethnic group", "Tajik"),
    "42": lazy_pgettext("ethnic group", "Nu"),
    "43": lazy_pgettext("ethnic group", "Uzbek"),
    "44": lazy_pgettext("ethnic group", "Russian"),
    "45": lazy_pgettext("ethnic group", "Evenki"),
    "46": lazy_pgettext("ethnic group", "De'ang"),
    "47": lazy_pgettext("ethnic group", "Bonan"),
    "48": lazy_pgettext("ethnic group", "Yugur"),
    "49": lazy_pgettext("ethnic group", "Gin"),
    "50": lazy_pgettext("ethnic group", "Tatar"),
    "51": lazy_pgettext("ethnic group", "Derung"),
    "52": lazy_pgettext("ethnic group", "Oroqen"),
    "53": lazy_pgettext("ethnic group", "Hezhen"),
    "54": lazy_pgettext("ethnic group", "Monba"),
    "55": lazy_pgettext("ethnic group", "Lhoba"),
    "56": lazy_pgettext("ethnic group", "Jino"),
    "97": lazy_pgettext("ethnic group", "Other"),
    "98": lazy_pgettext("ethnic group", "Of foreign origin"),
}
ETHNICITIES = tuple(ETHNICITY_LABELS)
# Tags of people who need care or attention (重点人群); the last four are sensitive: shown only to
# roles given their permission (can_sensitive).
ATTENTION_TAGS = ("elderly_alone", "disabled", "low_income", "left_behind_child", "special_care",
                  "community_correction", "released_prisoner", "severe_mental_disorder", "drug_user")
SENSITIVE_TAGS = ("community_correction", "released_prisoner", "severe_mental_disorder", "drug_user")
ATTENTION_TAG_LABELS = {
    "elderly_alone": _l("Elderly living alone"),
    "disabled": _l("Person with a disability"),
    "low_income": _l("Minimum living allowance (低保)"),
    "left_behind_child": _l("Left-behind child"),
    "special_care": _l("Entitled to special care (优抚对象)"),
    "community_correction": _l("Under community correction"),
    "released_prisoner": _l("Released from prison"),
    "severe_mental_disorder": _l("Severe mental disorder"),
    "drug_user": _l("Drug user"),
}
VISIT_METHODS = ("home", "phone", "video", "encounter", "other")
VISIT_METHOD_LABELS = {
    "home": _l("Home visit"),
    "phone": _l("Phone call"),
    "video": _l("Video call"),
    "encounter": _l("Met in person elsewhere"),
    "other": lazy_pgettext("a way", "Other"),
}

# 微心愿: what a resident wishes for, and where the wish stands
WISH_KINDS = ("visit", "repair", "goods", "errand", "other")
WISH_KIND_LABELS = {
    "visit": _l("A visit or company"),
    "repair": _l("A small repair"),
    "goods": _l("Goods (a school bag, a wheelchair…)"),
    "errand": _l("An errand"),
    "other": _l("Other"),
}
WISH_STATES = ("posted", "open", "dispatched", "claimed", "done", "rated", "cancelled")
WISH_STATE_LABELS = {
    "posted": _l("Posted, waiting for the community"),
    "open": _l("Open for claiming"),
    "dispatched": _l("Dispatched to a volunteer"),
    "claimed": _l("Claimed"),
    "done": _l("Done, waiting for the resident's rating"),
    "rated": _l("Rated"),
    "cancelled": _l("Cancelled"),
}
# the states a volunteer is named in (a dispatched wish waits for the volunteer's yes)
WISH_CLAIMED_STATES = ("dispatched", "claimed", "done", "rated")
