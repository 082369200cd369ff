"""The database is the last guard: its constraint violations become clear, translated messages
instead of a 500 or a raw SQL error (which could also carry personal data)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..models.points import MAX_ADJUSTMENT, MAX_RULE_POINTS, MAX_STOCK_CHANGE
from .errors import Conflict, DomainError, ValidationError

MESSAGES = {
    "grids_code_key": _l("A grid with this code already exists."),
    "grids_code_format": _l("A grid code has 1 to 32 letters, digits or dashes."),
    "grids_level_below_parent": _l("A grid's level must be below the level of its parent grid."),
    "grids_no_cycle": _l("A grid cannot be moved under itself or one of its sub-grids."),
    "grids_only_district_is_root": _l("Only a district can be a grid without a parent."),
    "grids_not_own_parent": _l("A grid cannot be its own parent."),
    "grids_leader_in_grid": _l("The grid leader must be a worker of this grid."),
    "grids_parent_id_fkey": _l("This grid still has sub-grids: move or delete them first."),
    "workers_grid_id_fkey": _l("This grid still has workers: move or delete them first."),
    "volunteers_community_id_fkey": _l("This community still has volunteers: move or delete them first."),
    "volunteers_unit_id_fkey": _l("This unit still has sunk party members: change them first."),
    "ab_user_grid_id_fkey": _l("Logins are scoped to this grid: change their scope first."),
    "ab_user_department_id_fkey": _l("Logins are scoped to this department: change their scope first."),
    "ab_user_volunteer_id_fkey": _l("A login belongs to this volunteer: change its scope first."),
    "ab_user_volunteer_id_key": _l("This volunteer already has a login."),
    "ab_user_one_scope": _l("A login has one scope: a grid, a department or a volunteer."),
    "departments_name_key": _l("A department with this name already exists."),
    "departments_contact_phone_valid": _l("Enter a valid mobile number or a landline such as 0392-3312345."),
    "workers_phone_mobile": _l("Enter a valid mainland mobile number: 11 digits starting with 13–19."),
    "volunteers_phone_mobile": _l("Enter a valid mainland mobile number: 11 digits starting with 13–19."),
    "workers_id_number_valid": _l("Enter a valid 18-character resident ID number."),
    "volunteers_id_number_valid": _l("Enter a valid 18-character resident ID number."),
    "volunteers_community_is_community": _l("The home community must be a grid of community level."),
    "volunteers_sunk_member_has_unit": _l("A sunk party member needs the unit they come from."),
    "department_communities_grid_is_community": _l("Departments are paired with grids of community level."),
    "service_records_hours_range": _l("Service hours must be more than 0 and at most 24."),
    "training_records_hours_range": _l("A training record has more than 0 and at most 200 hours."),
    "training_records_date_range": _l("A training date is from 2000 on."),
    "points_entries_one_award_per_wish": _l("The points of this micro-wish have already been awarded."),
    "points_entries_micro_wish_id_fkey": _l("Points were awarded for this micro-wish: it cannot be deleted."),
    "micro_wishes_resident_id_fkey": _l("This resident has micro-wishes: keep the record, do not delete it."),
    "micro_wishes_claimer_id_fkey": _l("This volunteer has claimed micro-wishes: keep the record, do not delete it."),
    "micro_wishes_rule_id_fkey": _l("Micro-wishes use this rule: deactivate it instead."),
    "points_accounts_balance_nonnegative": _l("Not enough points."),
    "reward_items_stock_nonnegative": _l("Not enough stock."),
    "points_entries_one_award_per_record": _l("This service record has already been rewarded."),
    "points_entries_one_refund_per_redemption": _l("This redemption has already been handed over or cancelled."),
    "redemptions_closed": _l("This redemption has already been handed over or cancelled."),
    "points_entries_account_id_fkey": _l("This person has points history: keep the record, do not delete it."),
    "points_entries_service_record_id_fkey": _l("Points were awarded for this service record: it cannot be deleted."),
    "redemptions_account_id_fkey": _l("This person has redemptions: keep the record, do not delete it."),
    "redemption_lines_item_id_fkey": _l("This item has been redeemed: deactivate it instead of deleting it."),
    "stock_movements_item_id_fkey": _l("This item has stock history: deactivate it instead of deleting it."),
    "reward_items_community_is_community": _l("Items are offered by a community or by the whole district."),
    "points_rules_name_key": _l("An activity type with this name already exists."),
    "service_records_rule_id_fkey": _l("Service records use this activity type: deactivate it instead."),
    "service_records_awarded_frozen": _l("Points were awarded for this service record: its volunteer, date, hours and "
                                         "activity type can no longer change. Correct the points with an adjustment."),
    "service_records_rule_in_community": _l("Choose an activity type of the whole district or of the volunteer's "
                                            "community."),
    "incident_categories_rule_district_wide": _l("A category earns points by a rule of the whole district."),
    "points_rules_community_is_community": _l("Choose a community, or leave it empty for the whole district."),
    "points_rules_owner_in_use": _l("Service records or categories use this rule: it stays with its present owner. "
                                    "Make a new rule instead."),
    "points_rules_community_id_fkey": _l("Points rules are kept by this community: change them first."),
    "points_rules_points_range": _l("A rule earns a whole number of points from 1 to %(most)s.", most=f"{MAX_RULE_POINTS:,}"),
    "points_entries_adjust_bound": _l("An adjustment is a whole number of points other than 0, at most %(most)s "
                                      "either way.", most=f"{MAX_ADJUSTMENT:,}"),
    "stock_movements_change_bound": _l("A stock change is a whole number other than 0, at most %(most)s either way.",
                                       most=f"{MAX_STOCK_CHANGE:,}"),
    "incidents_closed_frozen": _l("This incident is closed: it can no longer change."),
    "whistle_summonses_closed_frozen": _l("This whistle is closed."),
    "response_tasks_ended_frozen": _l("This response has ended."),
    "patrols_open_key": _l("You have a patrol under way: stop it before starting another."),
    "clock_ins_worker_id_day_key": _l("You have already clocked in today."),
    "patrol_rules_district_is_district": _l("A patrol rule belongs to a district, or is the default (no district)."),
    "patrol_rules_district_id_key": _l("This district already has its patrol rule."),
    "patrol_rules_default_kept": _l("The default patrol rule cannot be deleted: change its figures instead."),
    "patrols_worker_id_fkey": _l("This worker has patrols on record: keep the record, do not delete it."),
    "clock_ins_worker_id_fkey": _l("This worker has patrols on record: keep the record, do not delete it."),
    "ab_user_worker_id_key": _l("This worker already has a login."),
    # workers' points (migration 0030)
    "points_entries_visit_id_fkey": _l("Points were awarded for this visit: it cannot be deleted. Correct the points "
                                       "with an adjustment."),
    "points_entries_worker_rule_id_fkey": _l("Points were paid by this rule: deactivate it instead."),
    "worker_points_rules_name_key": _l("A workers' points rule with this name already exists."),
    "worker_points_rules_one_active": _l("An active rule of this kind already exists here: deactivate it first."),
    "worker_points_rules_community_is_community": _l("Choose a community, or leave it empty for the whole district."),
    "worker_points_rules_community_id_fkey": _l("Points rules are kept by this community: change them first."),
    "points_accounts_kept": _l("A points account stays as long as its holder: it cannot be deleted."),
    "worker_points_rules_award_kept": _l("This rule has paid points: it keeps what it rewards. Deactivate it and "
                                         "make a new rule instead."),
    # assessment (migration 0031)
    "assessment_adjustments_score_in_range": _l("The adjusted score stays between 0 and 100."),
}

GENERIC = _l("The change was refused because it breaks a rule of the records.")


def constraint_name(exc: DBAPIError) -> str | None:
    """The name of the constraint that refused the statement, when PostgreSQL gives one."""
    return getattr(getattr(getattr(exc, "orig", None), "diag", None), "constraint_name", None)


def explain(exc: DBAPIError) -> DomainError:
    """A DomainError for a database refusal, named after the constraint when we know it."""
    name = constraint_name(exc)
    message = MESSAGES.get(name or "", GENERIC)
    error = Conflict(message) if isinstance(exc, IntegrityError) and name and name.endswith("_fkey") \
        else ValidationError(message)
    error.constraint = name
    return error
