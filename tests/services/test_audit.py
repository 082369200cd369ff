"""The audit trail (written by PostgreSQL's trigger in the changing transaction) and the personal-data
access log: a row per change of every audited table with its actor and masked before → after,
none for a refused change, neither log changeable, and the masks the same as Python's."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.models import (AuditEntry, DeadlineRule, Department, Grid, IncidentCategory, PersonalDataAccess, PointsRule,
                        RewardItem, ServiceRecord, Volunteer, Worker, department_communities)
from app.services import audit
from app.services.personal_data import mask_address, mask_mobile, mask_resident_id

XIANGJIANG = "410611001001"
BLOCK = XIANGJIANG + "-01"
ID_NUMBER = "11010519491231002X"


def act_as(session, user_id: int | None) -> None:
    """What the app does before a transaction's first write (app/fab/actor.py)."""
    if user_id is not None:
        session.execute(text("SELECT set_config('gridgov.actor_id', :id, true)"), {"id": str(user_id)})


def admin_id(session) -> int:
    return session.scalar(text("SELECT id FROM ab_user WHERE username = 'admin'"))


def grid(session, code: str) -> Grid:
    return session.scalar(select(Grid).where(Grid.code == code))


def entries(session, table: str, record_id) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.record_table == table,
                                                         AuditEntry.record_id == record_id).order_by(AuditEntry.id)))


def test_a_worker_created_changed_and_deleted_leaves_three_masked_entries_by_its_actor(session):
    actor = admin_id(session)
    block = grid(session, BLOCK)
    act_as(session, actor)
    worker = Worker(name="审计员", role="grid_worker", grid_id=block.id, phone="13812345678", id_number=ID_NUMBER,
                    employment="full_time", start_date=datetime.date(2024, 1, 1))
    session.add(worker)
    session.commit()
    act_as(session, actor)
    worker.phone, worker.employment = "13987654321", "part_time"
    session.commit()
    act_as(session, actor)
    worker_id = worker.id
    session.delete(worker)  # its points account goes with it (ON DELETE CASCADE; alone it is kept: migration 0030)
    session.commit()

    created, changed, deleted = entries(session, "workers", worker_id)
    assert [e.action for e in (created, changed, deleted)] == ["insert", "update", "delete"]
    assert {e.actor_id for e in (created, changed, deleted)} == {actor}
    assert created.changes["phone"] == [None, "138****5678"]
    assert created.changes["id_number"] == [None, "110105********002X"]
    assert created.changes["name"] == [None, "审计员"]
    assert changed.changes == {"phone": ["138****5678", "139****4321"], "employment": ["full_time", "part_time"]}
    assert deleted.changes["phone"] == ["139****4321", None]
    assert set(created.grid_ids) == {block.id, block.parent_id, grid(session, "410611001").id, grid(session, "410611").id}
    everything = " ".join(str(e.changes) for e in (created, changed, deleted))
    assert "13812345678" not in everything and "13987654321" not in everything and ID_NUMBER not in everything


def test_a_volunteer_and_their_service_record_are_audited_in_their_community(session):
    community = grid(session, XIANGJIANG)
    volunteer = Volunteer(name="张审计", kind="resident", phone="13812345678", address="淇滨区九州路街道湘江社区8号楼2单元",
                          community_id=community.id)
    session.add(volunteer)
    session.flush()
    record = ServiceRecord(volunteer_id=volunteer.id, date=datetime.date(2026, 11, 1), hours=2, activity="打扫楼道")
    session.add(record)
    session.commit()
    (created,) = entries(session, "volunteers", volunteer.id)
    assert created.actor_id is None  # no user: the system
    assert created.changes["address"] == [None, mask_address(volunteer.address)]
    (service,) = entries(session, "service_records", record.id)
    assert community.id in service.grid_ids and grid(session, BLOCK).id not in service.grid_ids  # through the volunteer
    assert service.changes["activity"] == [None, "打扫楼道"]


@pytest.mark.parametrize("make,table", [
    (lambda s: Department(name="审计局", kind="functional", contact_phone="13812345678"), "departments"),
    (lambda s: PointsRule(name="审计规则", unit="hour", points=5), "points_rules"),
    (lambda s: RewardItem(name="审计奖品", price=10, community_id=grid(s, XIANGJIANG).id), "reward_items"),
    (lambda s: IncidentCategory(name="审计类别"), "incident_categories"),
    (lambda s: Grid(code=BLOCK + "-99", name="审计楼", level="building", kind="comprehensive",
                    parent_id=grid(s, BLOCK).id, households=1, population=2), "grids"),
])
def test_each_record_type_is_audited_on_create_update_and_delete(session, make, table):
    actor = admin_id(session)
    act_as(session, actor)
    row = make(session)
    session.add(row)
    session.commit()
    act_as(session, actor)
    row.name = row.name + "改"
    session.commit()
    act_as(session, actor)
    row_id = row.id
    session.delete(row)
    session.commit()
    made = entries(session, table, row_id)
    assert [(e.action, e.actor_id) for e in made] == [("insert", actor), ("update", actor), ("delete", actor)]
    assert made[1].changes == {"name": [made[0].changes["name"][1], made[0].changes["name"][1] + "改"]}
    if table == "departments":
        assert made[0].changes["contact_phone"] == [None, "138****5678"]
    if table == "grids":
        assert "path" not in made[0].changes  # derived from the parent
        assert grid(session, BLOCK).id in made[2].grid_ids and row_id in made[2].grid_ids  # deleted, still scoped


def test_deadline_rules_and_a_departments_pairing_are_audited(session):
    category = IncidentCategory(name="审计类别二")
    department = Department(name="审计办", kind="paired_unit")
    session.add_all([category, department])
    session.flush()
    session.add(DeadlineRule(category_id=category.id, urgency="normal", hours=24))
    session.execute(department_communities.insert().values(department_id=department.id,
                                                           grid_id=grid(session, XIANGJIANG).id))
    session.commit()
    rule_id = session.scalar(select(DeadlineRule.id).where(DeadlineRule.category_id == category.id))
    assert [e.action for e in entries(session, "incident_deadlines", rule_id)] == ["insert"]
    pairing = [e for e in entries(session, "departments", department.id) if e.table_name == "department_communities"]
    assert len(pairing) == 1 and grid(session, XIANGJIANG).id in pairing[0].grid_ids


def test_users_and_roles_are_audited_without_their_password(session):
    actor = admin_id(session)
    act_as(session, actor)
    role_id = session.scalar(text("INSERT INTO ab_role (id, name) VALUES ((SELECT max(id) + 1 FROM ab_role), '审计角色') "
                                  "RETURNING id"))
    user_id = session.scalar(text(
        "INSERT INTO ab_user (id, first_name, last_name, username, password, active, email, grid_id) "
        "VALUES ((SELECT max(id) + 1 FROM ab_user), '计', '审', 'auditee', 'pbkdf2:secret-hash', true, "
        "'auditee@x.cn', :grid) RETURNING id"), {"grid": grid(session, XIANGJIANG).id})
    session.execute(text("INSERT INTO ab_user_role (id, user_id, role_id) VALUES ((SELECT max(id) + 1 FROM ab_user_role), "
                         ":user, :role)"), {"user": user_id, "role": role_id})
    session.commit()
    act_as(session, actor)
    session.execute(text("UPDATE ab_user SET password = 'pbkdf2:other-hash', login_count = 3 WHERE id = :id"),
                    {"id": user_id})
    session.execute(text("UPDATE ab_user SET last_login = now(), login_count = 4 WHERE id = :id"), {"id": user_id})
    session.commit()
    history = entries(session, "ab_user", user_id)
    assert [(e.table_name, e.action) for e in history] == [("ab_user", "insert"), ("ab_user_role", "insert"),
                                                            ("ab_user", "update")]
    assert history[0].changes["password"] == "changed" and history[2].changes == {"password": "changed"}
    assert "secret-hash" not in str(history) + str([e.changes for e in history])
    assert [e.action for e in entries(session, "ab_role", role_id)] == ["insert"]


def test_a_refused_change_leaves_no_entry(session):
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    block = grid(session, BLOCK)
    session.add(Worker(name="坏号码", role="grid_worker", grid_id=block.id, phone="12345", employment="full_time",
                       start_date=datetime.date(2024, 1, 1)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_only_bookkeeping_columns_changed_leave_no_entry(session):
    item = session.scalar(select(RewardItem).limit(1))
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    session.execute(text("UPDATE reward_items SET name = name WHERE id = :id"), {"id": item.id})
    session.commit()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


@pytest.mark.parametrize("table", ["audit_entries", "personal_data_access"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET at = now()", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_both_logs_are_append_only(session, table, statement):
    audit.log_looks(session, [audit.Look(admin_id(session), "workers", [1], ["phone"], "/x")])
    session.add(Department(name="有审计行", kind="functional"))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement.format(t=table)))
    session.rollback()


@pytest.mark.parametrize("value", ["13812345678", "1381234", "", "11010519491231002X", "淇滨区", "淇",
                                   "淇滨区九州路街道湘江社区8号楼2单元301室", "abcdefghijklmnopqrstuvwxyz"])
def test_the_database_masks_as_python_does(session, value):
    masked = session.execute(text("SELECT gridgov_mask_mobile(:v), gridgov_mask_resident_id(:v), "
                                  "gridgov_mask_address(:v)"), {"v": value}).one()
    assert tuple(masked) == (mask_mobile(value), mask_resident_id(value), mask_address(value))


def test_a_page_of_people_is_one_statement_and_one_row_each(session):
    viewer = admin_id(session)
    workers = list(session.scalars(select(Worker.id).limit(20)))
    assert audit.log_looks(session, [audit.Look(viewer, "workers", workers + workers[:3], ["phone", "id_number"],
                                                "/workermodelview/list/")]) == 20
    rows = list(session.scalars(select(PersonalDataAccess)))
    assert len(rows) == 20 and {r.subject_id for r in rows} == set(workers)
    assert {tuple(r.fields) for r in rows} == {("id_number", "phone")} and {r.viewer_id for r in rows} == {viewer}
    assert audit.log_looks(session, [audit.Look(viewer, "workers", workers, [], "/x"),
                                     audit.Look(viewer, "workers", [], ["phone"], "/x")]) == 0


def test_a_pages_looks_end_its_reading_transaction_and_never_commit_a_stray_change(session):
    """``log_looks`` (a page's looks, after the page is made) commits the request's transaction,
    which only read; a change left uncommitted in it is rolled back, not committed with them."""
    viewer = admin_id(session)
    workers = list(session.scalars(select(Worker.id).order_by(Worker.id).limit(5)))
    looks = [audit.Look(viewer, "workers", workers[:3], ["phone"], "/workermodelview/list/"),
             audit.Look(viewer, "workers", workers[3:], ["id_number"], "/workermodelview/show/"),
             audit.Look(viewer, "workers", [], ["phone"], "/x")]
    assert audit.log_looks(session, looks) == 5
    assert not session.in_transaction()
    assert session.scalar(select(func.count()).select_from(PersonalDataAccess)) == 5
    name = session.scalar(select(Worker.name).where(Worker.id == workers[0]))
    session.execute(text("UPDATE workers SET name = '改过' WHERE id = :id"), {"id": workers[0]})  # never committed
    assert audit.log_looks(session, looks[:1]) == 3
    assert session.scalar(select(Worker.name).where(Worker.id == workers[0])) == name
    assert session.scalar(select(func.count()).select_from(PersonalDataAccess)) == 8
    assert audit.log_looks(session, looks[2:]) == 0
    # the looks' commit does not wait for the disk; a later transaction does again (the suite's
    # server does not wait by default: this connection does)
    with session.get_bind().connect() as connection:
        connection.execute(text("SET synchronous_commit = on"))
        connection.commit()
        connection.execute(audit._FIRST_LOOK, {"viewer": viewer, "table": "workers", "ids": workers[:1],
                                               "fields": ["phone"], "place": "/x"})
        assert connection.scalar(text("SHOW synchronous_commit")) == "off"
        connection.rollback()
        assert connection.scalar(text("SHOW synchronous_commit")) == "on"


def test_the_log_names_people_masked(session):
    worker = session.scalar(select(Worker).limit(1))
    labels = audit.subject_labels(session, [("workers", worker.id), ("volunteers", 999999)])
    assert labels == {("workers", worker.id): f"{worker.name} {mask_mobile(worker.phone)}"}


def test_a_bulk_load_writes_one_summary_row_per_table(session):
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    audit.bulk_load(session)
    session.add_all([IncidentCategory(name=f"批量{n}") for n in range(5)])
    session.flush()
    audit.record_bulk_load(session, {"incident_categories": 5, "incidents": 7})
    session.add(IncidentCategory(name="批量之后"))  # the load is over: audited again
    session.commit()
    added = list(session.scalars(select(AuditEntry).where(AuditEntry.id > 0).order_by(AuditEntry.id)
                                 .offset(before)))
    assert [(e.table_name, e.action, e.changes) for e in added[:1]] == [("incident_categories", "load", {"rows": 5})]
    assert [e.action for e in added[1:]] == ["insert"]


def test_a_pages_looks_never_commit_a_change_the_session_holds_unflushed(session):
    """A change made to an object of the request's session and not flushed yet gives the
    transaction no id: the looks' commit must not flush it into the database with them."""
    viewer = admin_id(session)
    worker = session.scalar(select(Worker).order_by(Worker.id).limit(1))
    name, key = worker.name, worker.id
    worker.name = "改过"  # pending in the session only
    assert audit.log_looks(session, [audit.Look(viewer, "workers", [key], ["phone"], "/x")]) == 1
    with session.get_bind().connect() as connection:
        assert connection.scalar(text("SELECT name FROM workers WHERE id = :id"), {"id": key}) == name
        assert connection.scalar(text("SELECT count(*) FROM personal_data_access WHERE subject_id = :id"),
                                 {"id": key}) == 1
