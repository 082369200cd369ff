"""The pages of the longest lists in their default order, read from indexes. Each function gives
(the number of rows the scope sees, counted up to ``cap`` + 1; the ids of the page at ``offset``,
newest first)."""
from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from ..models import Incident, LedgerEntry, incident_scopes
from .incidents import keyword_condition
from .scope import Scope, accounts_seen, department_incidents, visible
from .typed import clean


# --- incidents -------------------------------------------------------------------------------
def newest_incidents(session: Session, scope: Scope, offset: int, limit: int, cap: int, *,
                     status: str | None = None, category_id: int | None = None,
                     keywords: str | None = None) -> tuple[int, list[int]] | None:
    """The incidents a scope sees, of one status and category when given. For a grid scope the
    count and the page are read from the ``incident_scopes`` index alone; for a department
    (unfiltered), from its two indexes; with keywords, from one pass over the matches. None for
    any other scope: the list's general query serves it."""
    if keywords is not None and clean(keywords).split():
        return _newest_matching(session, scope, offset, limit, cap, keywords, status, category_id)
    if scope.kind == "department" and status is None and category_id is None:
        seen = department_incidents(scope.department_id)
        count = session.scalar(select(func.count()).select_from(select(seen.c.id).limit(cap + 1).subquery()))
        ids = session.scalars(select(seen.c.id).order_by(seen.c.id.desc()).offset(offset).limit(limit)).all()
        return count, list(ids)
    if scope.kind != "grid":
        return None
    seen = incident_scopes.c
    conditions = [seen.grid_id == scope.grid_id]
    if status is not None:
        conditions.append(seen.status == status)
    if category_id is not None:
        conditions.append(seen.category_id == category_id)
    counted = select(seen.incident_id).where(*conditions).limit(cap + 1).subquery()
    count = session.scalar(select(func.count()).select_from(counted))
    ids = session.scalars(select(seen.incident_id).where(*conditions)
                          .order_by(seen.incident_id.desc()).offset(offset).limit(limit)).all()
    return count, list(ids)


def _newest_matching(session: Session, scope: Scope, offset: int, limit: int, cap: int, keywords: str,
                     status: str | None, category_id: int | None) -> tuple[int, list[int]]:
    """A keyword search visits its matches on the heap once, for the capped count and the page
    together (a count and a page query would visit them twice)."""
    conditions = [visible(scope, Incident), keyword_condition(keywords)]
    if status is not None:
        conditions.append(Incident.status == status)
    if category_id is not None:
        conditions.append(Incident.category_id == category_id)
    matches = select(Incident.id).where(*conditions).limit(cap + 1).cte("matches")
    rows = session.execute(select(matches.c.id, func.count().over()).order_by(matches.c.id.desc())
                           .offset(offset).limit(limit)).all()
    count = rows[0][1] if rows else session.scalar(select(func.count()).select_from(matches))
    if count > cap:  # the page must be the newest of every match, not of the first cap + 1 found
        return count, list(session.scalars(select(Incident.id).where(*conditions)
                                           .order_by(Incident.id.desc()).offset(offset).limit(limit)))
    return count, [row[0] for row in rows]


# --- the points ledger -----------------------------------------------------------------------
def newest_ledger_entries(session: Session, scope: Scope, offset: int, limit: int, cap: int) -> tuple[int, list[int]]:
    """The ledger entries a scope sees, read account by account: each account the scope sees gives
    its newest ``offset + limit`` entries from its index. Filtered the other way round (the ledger
    newest first, each entry's account looked up), a district's page went through the entries of
    every other account before it found its own."""
    accounts = accounts_seen(scope).subquery()

    def newest(count: int):
        return (select(LedgerEntry.id).where(LedgerEntry.account_id == accounts.c.id)
                .order_by(LedgerEntry.id.desc()).limit(count).lateral())

    counted = newest(cap + 1)
    total = session.scalar(select(func.count()).select_from(
        select(counted.c.id).select_from(accounts).join(counted, true()).limit(cap + 1).subquery()))
    page = newest(offset + limit)
    keys = session.scalars(select(page.c.id).select_from(accounts).join(page, true())
                           .order_by(page.c.id.desc()).offset(offset).limit(limit)).all()
    return total, list(keys)
