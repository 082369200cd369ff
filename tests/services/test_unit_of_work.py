"""The unit of work: the outermost block commits, an inner block joins it, any error rolls the
whole action back, and a database refusal becomes the DomainError that names its rule (a lost
connection stays what it is: no one's refusal)."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app.models import Department
from app.services.db_errors import MESSAGES
from app.services.errors import DomainError, ValidationError
from app.services.unit_of_work import unit_of_work


def names(session) -> set[str]:
    session.rollback()  # what is committed
    return set(session.scalars(select(Department.name)))


def test_the_outermost_block_commits_and_an_inner_block_joins_it(session):
    with unit_of_work(session):
        session.add(Department(name="测试一处", kind="functional"))
        with unit_of_work(session):  # a service called inside another's action
            session.add(Department(name="测试二处", kind="functional"))
        session.flush()
        assert session.execute(text("SELECT count(*) FROM departments WHERE name LIKE '测试%'")).scalar() == 2
        other = session.get_bind().connect()
        try:  # nothing is committed until the outermost block ends
            assert other.execute(text("SELECT count(*) FROM departments WHERE name LIKE '测试%'")).scalar() == 0
        finally:
            other.close()
    assert {"测试一处", "测试二处"} <= names(session)


def test_an_error_in_an_inner_block_rolls_back_the_whole_action(session):
    with pytest.raises(ValidationError):
        with unit_of_work(session):
            session.add(Department(name="测试三处", kind="functional"))
            session.flush()
            with unit_of_work(session):
                raise ValidationError("refused")
    assert "测试三处" not in names(session)
    with unit_of_work(session):  # the session is usable again, at the outermost level
        session.add(Department(name="测试四处", kind="functional"))
    assert "测试四处" in names(session)


def test_a_database_refusal_is_the_domain_error_of_its_constraint(session):
    taken = session.scalar(select(Department.name).limit(1))
    with pytest.raises(DomainError) as refused:
        with unit_of_work(session):
            with unit_of_work(session):
                session.add(Department(name=taken, kind="functional"))
    assert refused.value.constraint == "departments_name_key"
    assert str(refused.value) == str(MESSAGES["departments_name_key"])
    assert refused.value.__cause__ is None  # the statement's values stay out of tracebacks
    assert names(session)  # rolled back: the session works


def test_a_lost_connection_is_not_a_refusal(session):
    with pytest.raises(OperationalError):
        with unit_of_work(session):
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert names(session)  # rolled back: the session works on a new connection
