"""The district generator, at a small scale: it goes through every constraint, is deterministic,
and leaves a consistent bank, valid incidents and the demo logins' scopes."""
from __future__ import annotations

import datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, Grid, Incident, IncidentEvent, PointsAccount, Worker
from app.services.points import check_invariants
from seed.generate import load_district

from .migrations.test_migrations import alembic_config
from .services.test_maps import check_nesting, located_inside_their_grids


@pytest.fixture
def small_district(database_url):
    url = database_url("district")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with Session(engine) as session:
        counts = load_district(session, scale=0.02, echo=lambda *a: None)
        yield session, counts
    engine.dispose()


def test_small_district_is_consistent(small_district):
    session, counts = small_district
    assert session.scalar(select(func.count()).select_from(Grid)) == counts["grids"]
    assert session.scalar(select(func.count()).select_from(Worker)) == counts["workers"]
    assert session.scalar(select(func.count()).select_from(PointsAccount)) == counts["workers"] + counts["volunteers"]
    assert check_invariants(session) == []
    # every grid has its leader, working in it
    assert session.scalar(select(func.count()).select_from(Grid).where(Grid.leader_id.is_(None))) == 0
    # incidents: ~99.58% resolved, every one with a timeline that starts with the report
    resolved = session.scalar(select(func.count()).select_from(Incident).where(Incident.status.in_(("resolved", "closed"))))
    assert resolved / counts["incidents"] > 0.99
    assert session.scalar(select(func.count(func.distinct(IncidentEvent.incident_id)))) == counts["incidents"]
    assert session.scalar(select(func.count()).select_from(IncidentEvent).where(IncidentEvent.action == "report")) == counts["incidents"]
    # the codes the demo logins are scoped to exist
    for code in ("410611", "410611001", "410611001001", "410611002001", "410611001001-01"):
        assert session.scalar(select(Grid.id).where(Grid.code == code)), code
    # every grid outlined inside its parent, every incident located inside its grid
    check_nesting(session.scalars(select(Grid)).all())
    located_inside_their_grids(session)
    # the audit trail has one summary row per loaded table, not one per row (app/services/audit.py)
    loads = dict(session.execute(select(AuditEntry.table_name, AuditEntry.changes["rows"].as_integer())
                                 .where(AuditEntry.action == "load")).all())
    assert loads["grids"] == counts["grids"] and loads["workers"] == counts["workers"]
    assert loads["service_records"] == counts["service_records"] and "incidents" not in loads
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == len(loads)
    # sequences continue after the loaded ids
    assert session.scalar(text("SELECT nextval(pg_get_serial_sequence('incidents', 'id'))")) > counts["incidents"]


def test_generator_is_deterministic(database_url):
    signatures = []
    for _ in range(2):
        url = database_url("district")
        command.upgrade(alembic_config(url), "head")
        engine = create_engine(url)
        with Session(engine) as session:
            load_district(session, scale=0.01, echo=lambda *a: None,
                          now=datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc))
            signatures.append(session.execute(text(
                "SELECT md5(string_agg(code || name, ',' ORDER BY code)) FROM grids")).scalar()
                + session.execute(text("SELECT md5(string_agg(title || status, ',' ORDER BY id)) FROM incidents")).scalar()
                + session.execute(text("SELECT md5(string_agg(name || phone, ',' ORDER BY id)) FROM volunteers")).scalar())
        engine.dispose()
    assert signatures[0] == signatures[1]


def test_refuses_a_database_with_grids(small_district):
    session, _ = small_district
    with pytest.raises(RuntimeError):
        load_district(session, scale=0.02, echo=lambda *a: None)


def test_small_city_has_several_districts_and_scoped_logins(database_url):
    from seed.generate import load_city

    url = database_url("city")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with Session(engine) as session:
        counts = load_city(session, scale=0.002, echo=lambda *a: None)
        roots = session.scalars(select(Grid.code).where(Grid.parent_id.is_(None)).order_by(Grid.code)).all()
        assert roots == ["370202", "370203"]
        assert session.scalar(select(func.count()).select_from(Grid).where(Grid.level == "building")) == 0
        assert counts["points_entries"] == counts["service_records"]  # the city rewards every record
        assert check_invariants(session) == []
        assert session.scalar(select(Grid.id).where(Grid.code == "370202001001"))
        check_nesting(session.scalars(select(Grid)).all())
        located_inside_their_grids(session)
    engine.dispose()
