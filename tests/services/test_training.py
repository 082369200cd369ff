"""Training records (services/training.py, migration 0027): a worker's yearly totals, the workers under
the required hours per community on hand-counted fixtures, and the checks of a record."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.models import Grid, TrainingRecord, Worker
from app.services import training
from app.services.errors import OutOfScope, ValidationError
from app.services.scope import EVERYTHING, grid_scope

from .test_incidents import actor

XIANGJIANG, JINSHAN = "410611001001", "410611002001"


def grid(session, code) -> Grid:
    return session.scalar(select(Grid).where(Grid.code == code))


def new_worker(session, name, code, role="grid_worker") -> Worker:
    worker = Worker(name=name, role=role, grid_id=grid(session, code).id, phone="13900001111",
                    start_date=datetime.date(2024, 1, 1), employment="full_time")
    session.add(worker)
    session.flush()
    return worker


def trained(session, worker, *courses):
    for day, hours in courses:
        session.add(TrainingRecord(worker_id=worker.id, date=day, course="业务培训", hours=Decimal(hours),
                                   organiser="区网格中心"))
    session.commit()


@pytest.fixture
def no_training(session):
    """The demo's records gone: the fixtures below are the only hours counted."""
    session.execute(delete(TrainingRecord))
    session.commit()


def test_yearly_totals_and_this_years_hours_on_the_worker(session, no_training):
    worker = new_worker(session, "甲", XIANGJIANG + "-01")
    this_year = datetime.date.today().year
    trained(session, worker, (datetime.date(2025, 3, 1), "30"), (datetime.date(2025, 12, 31), "12.5"),
            (datetime.date(this_year, 1, 1), "8"), (datetime.date(this_year, 2, 3), "20.5"))
    assert training.yearly_totals(session, EVERYTHING, worker.id) == [(this_year, Decimal("28.5")),
                                                                      (2025, Decimal("42.5"))]
    assert training.year_total(session, EVERYTHING, worker.id, 2025) == Decimal("42.5")
    assert training.year_total(session, EVERYTHING, worker.id, 2024) == 0
    session.expire_all()
    assert session.get(Worker, worker.id).training_hours == Decimal("28.5")  # this year's, read with the worker
    with pytest.raises(OutOfScope):
        training.year_total(session, actor(session, "secretary2").scope, worker.id, 2025)


def test_the_workers_under_the_required_hours_per_community(session, no_training):
    year = 2025
    a = new_worker(session, "甲", XIANGJIANG + "-01")  # 60 + 9.5 = 69.5: under by 0.5
    b = new_worker(session, "乙", XIANGJIANG)  # 70 exactly: enough
    c = new_worker(session, "丙", JINSHAN + "-01")  # 30 in 2025, 50 in 2024: under by 40
    d = new_worker(session, "丁", XIANGJIANG + "-01", role="cleaner")  # a helper: not asked
    trained(session, a, (datetime.date(2025, 1, 5), "60"), (datetime.date(2025, 6, 1), "9.5"))
    trained(session, b, (datetime.date(2025, 4, 1), "70"))
    trained(session, c, (datetime.date(2025, 4, 1), "30"), (datetime.date(2024, 4, 1), "50"))
    rows = training.under_required(session, EVERYTHING, year)
    mine = {row.worker_id: row for row in rows if row.worker_id in (a.id, b.id, c.id, d.id)}
    assert set(mine) == {a.id, c.id}
    assert (mine[a.id].community, mine[a.id].hours, mine[a.id].missing) == ("湘江社区", Decimal("69.5"), Decimal("0.5"))
    assert (mine[c.id].community, mine[c.id].hours, mine[c.id].missing) == ("金山社区", Decimal(30), Decimal(40))
    # the demo's workers have no record of 2025: listed with 0 hours, each community's in one run
    communities = [row.community_id for row in rows]
    assert communities == sorted(communities, key=communities.index)  # one run per community
    # a secretary sees her community's only; with 30 required, 甲 has enough
    scoped = training.under_required(session, grid_scope(session, grid(session, XIANGJIANG).id), year, required=30)
    assert a.id not in {row.worker_id for row in scoped} and c.id not in {row.worker_id for row in scoped}
    assert {row.community for row in scoped} <= {"湘江社区"}
    with pytest.raises(ValidationError):
        training.under_required(session, EVERYTHING, year, required=0)


def test_the_demo_workers_under_70_this_year(session):
    """The demo's hours: grid workers of 60–89, leaders 74–90; the grid workers below 70 are listed."""
    year = datetime.date.today().year
    rows = training.under_required(session, EVERYTHING, year)
    assert rows and all(row.hours < 70 and row.role in training.TRAINED_ROLES for row in rows)
    for row in rows[:5]:
        assert training.year_total(session, EVERYTHING, row.worker_id, year) == row.hours


def test_a_record_is_checked_and_the_database_bounds_its_hours(session):
    worker = new_worker(session, "甲", XIANGJIANG + "-01")
    scope = actor(session, "secretary").scope
    for values, field in (({"course": " "}, "course"), ({"hours": Decimal(0)}, "hours"),
                          ({"hours": Decimal(201)}, "hours"), ({"date": datetime.date(1999, 12, 31)}, "date"),
                          ({"date": datetime.date.today() + datetime.timedelta(days=2)}, "date")):
        record = TrainingRecord(**{"worker_id": worker.id, "date": datetime.date(2025, 1, 1), "course": "培训",
                                   "hours": Decimal(8), **values})
        with pytest.raises(ValidationError) as refused:
            training.check_record(session, scope, record)
        assert refused.value.field == field
    record = TrainingRecord(worker_id=worker.id, date=datetime.date(2025, 1, 1), course="培训", hours=Decimal(8))
    with pytest.raises(ValidationError):  # another community's secretary
        training.check_record(session, actor(session, "secretary2").scope, record)
    training.check_record(session, scope, record)
    session.add(TrainingRecord(worker_id=worker.id, date=datetime.date(2025, 1, 1), course="培训", hours=Decimal(250)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
