"""Which departments incidents are dispatched to and whistles summon: the functional ones
(职能部门), not the paired units."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Department

FUNCTIONAL = Department.kind == "functional"
_BY_NAME = select(Department).where(FUNCTIONAL).order_by(Department.name)


def functional_departments(session: Session) -> list[Department]:
    """The functional departments, by name."""
    return list(session.scalars(_BY_NAME))


def functional_department_names(session: Session) -> list[tuple[int, str]]:
    """(id, name) of each functional department, by name: plain rows, which a page may keep
    between requests."""
    return [(row.id, row.name) for row in session.execute(_BY_NAME.with_only_columns(Department.id, Department.name))]
