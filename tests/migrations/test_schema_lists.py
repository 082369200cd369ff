"""The closed lists the migrations wrote into the schema (CHECK constraints, a partial index, the
tally trigger's function) are the lists the Python code works with: a status added in one place
and not the other fails here, not in production."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from app.models import choices
from app.models.points import WORKER_AWARDS
from app.services import figures

QUOTED = re.compile(r"'([a-z_]+)'")

CHECKED = {
    "departments_kind_valid": choices.DEPARTMENT_KINDS,
    "grids_kind_valid": choices.GRID_KINDS,
    "grids_level_valid": choices.GRID_LEVELS,
    "volunteers_kind_valid": choices.VOLUNTEER_KINDS,
    "workers_employment_valid": choices.EMPLOYMENT_TYPES,
    "workers_role_valid": choices.WORKER_ROLES,
    "points_rules_unit_valid": choices.RULE_UNITS,
    "redemptions_status_valid": choices.REDEMPTION_STATUSES,
    "points_entries_kind_valid": choices.ENTRY_KINDS,
    "stock_movements_kind_valid": choices.STOCK_KINDS,
    "incident_deadlines_urgency_valid": choices.URGENCIES,
    "incidents_level_valid": choices.HANDLING_LEVELS,
    "incidents_source_valid": choices.INCIDENT_SOURCES,
    "incidents_status_valid": choices.INCIDENT_STATUSES,
    "incidents_urgency_valid": choices.URGENCIES,
    "micro_wishes_kind_valid": choices.WISH_KINDS,
    "micro_wishes_state_valid": choices.WISH_STATES,
    "worker_points_rules_award_valid": WORKER_AWARDS,
}


def quoted(definition: str) -> set[str]:
    return set(QUOTED.findall(definition)) - {"text"}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_a_check_constraint_allows_exactly_the_python_list(session, name):
    definition = session.scalar(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
                                {"n": name})
    assert definition is not None, f"no constraint {name}"
    assert quoted(definition) == set(CHECKED[name]), definition


def test_the_open_incidents_index_holds_the_open_statuses(session):
    definition = session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'incidents_open_idx'"))
    assert quoted(definition.split(" WHERE ", 1)[1]) == set(choices.OPEN_STATUSES)


def test_the_tally_trigger_counts_the_statuses_the_figures_call_resolved(session):
    source = session.scalar(text("SELECT prosrc FROM pg_proc WHERE proname = 'incidents_tally'"))
    lists = re.findall(r"status IN \(([^)]*)\)", source)
    assert lists, source
    assert all(quoted(found) == set(figures.RESOLVED) for found in lists)
    assert set(figures.RESOLVED) <= set(choices.INCIDENT_STATUSES) - set(choices.OPEN_STATUSES)
