"""Settings kept per district, with one row without a district as the default of every district
without its own: the patrol rules (``patrols``) and the assessment weights (``assessment``). The
rule they share, said once: a row belongs to a district or is the default, a district has one row,
and the default row stays the default (migrations 0028 and 0029 hold the same in the database)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Grid
from .errors import ValidationError


def district_of(session: Session, row, not_a_district) -> Grid | None:
    """The district ``row`` is set for (None: the default row); ``not_a_district`` when its grid is
    not a district. Call it with autoflush off (a form's row is not written yet)."""
    district = row.district if row.district is not None else (
        session.get(Grid, row.district_id) if row.district_id else None)
    if district is not None and district.level != "district":
        raise ValidationError(not_a_district, field="district")
    return district


def check_one_per_district(session: Session, row, district: Grid | None, *, default_stays, taken) -> None:
    """The default row is not given a district (``default_stays``), and no district (nor the
    default) has two rows (``taken``)."""
    model = type(row)
    district_id = district.id if district is not None else None
    if row.id is not None and district_id is not None and session.scalar(
            select(model.id).where(model.id == row.id, model.district_id.is_(None))):
        raise ValidationError(default_stays, field="district")
    clash = select(model.id).where(model.district_id.is_not_distinct_from(district_id), model.id != (row.id or 0))
    if session.scalar(clash):
        raise ValidationError(taken, field="district")
