"""一户一档's rules (services/residents.py and migration 0025): ID-derived fields, one household at
a time with its history, the head a member, houses in building grids, the visit-due rule on
hand-counted fixtures, a visit raising an incident, finding a person, and the sensitive tags."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.models import AttentionTag, Grid, House, Household, HouseholdMove, Incident, Resident, Visit
from app.services import residents
from app.services.errors import DomainError, ValidationError
from app.services.local_time import local_today
from app.services.personal_data import resident_id_check_char
from app.services.scope import grid_scope
from app.services.search import find_condition

from .test_incidents import BLOCK, actor, category

BUILDING = BLOCK + "-01"  # 华夏南区1号楼, in the demo grid worker's block
OTHER_BUILDING = BLOCK + "-02"


def id_number(birth: str, sequence: int, region: str = "410611") -> str:
    """A valid ID number born on ``birth`` (YYYYMMDD); an odd ``sequence`` is a man."""
    first17 = f"{region}{birth}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def grid(session, code) -> Grid:
    return session.scalar(select(Grid).where(Grid.code == code))


def new_house(session, code=BUILDING, room="902", unit="3单元") -> House:
    house = House(grid=grid(session, code), unit=unit, room=room, use="residential", ownership="owned")
    residents.check_house(session, grid_scope(session, grid(session, code).id), house)
    session.add(house)
    session.commit()
    return house


def new_household(session, house, number) -> Household:
    household = Household(number=number, house=house, kind="registered")
    residents.check_household(session, grid_scope(session, house.grid_id), household)
    session.add(household)
    session.commit()
    return household


def new_resident(session, name, sequence, *, household=None, relation=None, code=BUILDING, tags=(), birth="19800101",
                 phone=None, moved_in=None) -> Resident:
    resident = Resident(name=name, id_number=id_number(birth, sequence), phone=phone, residence_status="registered",
                        tags=list(tags), grid=grid(session, code), household=household, relation=relation,
                        moved_in=moved_in)
    residents.check_resident(session, grid_scope(session, grid(session, code).id), resident)
    session.add(resident)
    session.flush()
    residents.settle_household(session, resident, None)
    session.commit()
    return resident


def test_gender_and_birth_date_come_from_the_id_number(session):
    man = new_resident(session, "王建国", 11, birth="19560704")
    woman = new_resident(session, "李秀英", 22, birth="20011231")
    session.refresh(man)
    session.refresh(woman)
    assert (man.gender, man.birth_date) == ("male", datetime.date(1956, 7, 4))
    assert (woman.gender, woman.birth_date) == ("female", datetime.date(2001, 12, 31))
    assert man.name_initials == "wjg"
    # the database derives them again when the number is corrected
    session.execute(update(Resident).where(Resident.id == woman.id).values(id_number=id_number("19990315", 31)))
    session.commit()
    session.refresh(woman)
    assert (woman.gender, woman.birth_date) == ("male", datetime.date(1999, 3, 15))


def test_a_bad_or_repeated_id_number_is_refused_with_a_message(session):
    new_resident(session, "赵一", 11)
    scope = grid_scope(session, grid(session, BUILDING).id)
    wrong = id_number("19800101", 13)[:-1] + ("0" if id_number("19800101", 13)[-1] != "0" else "1")
    for number, message in ((wrong, "valid 18-character"), (id_number("19800101", 11), "already recorded"),
                            (None, "only a person from abroad")):
        resident = Resident(name="钱二", id_number=number, residence_status="registered", tags=[],
                            grid=grid(session, BUILDING))
        with pytest.raises(ValidationError, match=message):
            residents.check_resident(session, scope, resident)
        session.rollback()
    # the database holds the same rules whatever writes the row
    with pytest.raises(IntegrityError):
        session.execute(text("INSERT INTO residents (name, residence_status, grid_id, party_member) "
                             "VALUES ('孙三', 'registered', :grid, false)"), {"grid": grid(session, BUILDING).id})
    session.rollback()


def test_a_resident_lives_in_one_household_at_a_time_and_the_moves_are_kept(session):
    house = new_house(session)
    first = new_household(session, house, "T-0001")
    second = new_household(session, new_house(session, room="903"), "T-0002")
    person = new_resident(session, "周大伟", 11, household=first, relation="head", moved_in=datetime.date(2020, 5, 1))
    session.refresh(first)
    assert first.head_id == person.id  # a household without a head takes the one who says so

    scope = grid_scope(session, house.grid_id)
    person.household, person.relation = second, "tenant"
    residents.check_resident(session, scope, person)
    session.flush()
    residents.settle_household(session, person, first.id)
    session.commit()
    session.refresh(first)
    assert first.head_id is None  # the head moved on: the household has none until one is named

    residents.move_out(session, scope, person.id, on=local_today())
    session.refresh(person)
    assert (person.household_id, person.relation, person.moved_out) == (None, None, local_today())
    moves = session.execute(select(HouseholdMove.household_id, HouseholdMove.relation, HouseholdMove.joined_on,
                                   HouseholdMove.left_on).where(HouseholdMove.resident_id == person.id)
                            .order_by(HouseholdMove.id)).all()
    today = local_today()
    assert moves == [(first.id, "head", datetime.date(2020, 5, 1), today), (second.id, "tenant", today, today)]
    # one open stretch per resident, whatever writes it
    session.execute(update(Resident).where(Resident.id == person.id).values(moved_out=None))
    session.execute(update(Resident).where(Resident.id == person.id).values(household_id=first.id, relation="head"))
    session.commit()
    open_moves = session.scalar(select(HouseholdMove.id).where(HouseholdMove.resident_id == person.id,
                                                               HouseholdMove.left_on.is_(None)))
    assert open_moves is not None


def test_the_head_of_a_household_is_one_of_its_members(session):
    first = new_household(session, new_house(session), "T-0101")
    other = new_household(session, new_house(session, room="904"), "T-0102")
    stranger = new_resident(session, "吴小明", 11, household=other, relation="head")
    first.head_id = stranger.id
    with pytest.raises(ValidationError, match="one of its members"):
        residents.check_household(session, grid_scope(session, first.grid_id), first)
    session.rollback()
    session.execute(update(Household).where(Household.id == first.id).values(head_id=stranger.id))
    with pytest.raises(IntegrityError):
        session.commit()  # checked at commit
    session.rollback()


def test_a_house_lies_in_a_building_or_block_grid_and_its_households_follow_it(session):
    community = grid(session, BLOCK[:12])
    scope = grid_scope(session, community.id)
    with pytest.raises(ValidationError, match="building micro-grid"):
        residents.check_house(session, scope, House(grid=community, room="1", use="residential", ownership="owned"))
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(text("INSERT INTO houses (grid_id, room, use, ownership) VALUES (:g, '1', 'residential', "
                             "'owned')"), {"g": community.id})
    session.rollback()
    house = new_house(session)
    household = new_household(session, house, "T-0201")
    person = new_resident(session, "郑好", 11, household=household, relation="head")
    moved_to = grid(session, OTHER_BUILDING)
    session.execute(update(House).where(House.id == house.id).values(grid_id=moved_to.id))
    session.commit()
    assert session.scalar(select(Household.grid_id).where(Household.id == household.id)) == moved_to.id
    assert session.scalar(select(Resident.grid_id).where(Resident.id == person.id)) == moved_to.id


def visit(session, person, days_ago, username="worker"):
    at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return residents.record_visit(session, actor(session, username), residents.VisitData(
        resident_id=person.id, visited_at=at, method="home", found="一切正常"))


def test_the_visit_due_rule_on_hand_counted_residents(session):
    today = local_today()
    lonely = new_resident(session, "甲", 11, tags=["elderly_alone"])  # never visited: due from today
    recent = new_resident(session, "乙", 13, tags=["disabled"])
    late = new_resident(session, "丙", 15, tags=["low_income", "elderly_alone"])
    untagged = new_resident(session, "丁", 17)
    visit(session, recent, 10)
    visit(session, late, 45)
    visit(session, untagged, 3)
    for person in (lonely, recent, late, untagged):
        session.refresh(person)
    assert lonely.next_visit_due == today
    assert recent.next_visit_due == recent.last_visited_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date() + datetime.timedelta(days=30)
    assert late.next_visit_due < today
    assert untagged.next_visit_due is None
    hidden = new_resident(session, "戊", 19, tags=["drug_user"])  # a sensitive tag only
    session.refresh(hidden)
    assert hidden.next_visit_due == today and hidden.care_visit_due is None
    assert (late.care_visit_due, lonely.care_visit_due) == (late.next_visit_due, lonely.next_visit_due)
    scope = grid_scope(session, grid(session, BUILDING).id)
    count, due = residents.due_visits(session, scope)
    ours = [person.name for person in due if person.name in "甲乙丙丁戊"]
    assert ours == ["丙", "甲", "戊"]  # most overdue first; 乙 is not due for 20 days
    # who may not see the sensitive tags is not told of 戊's: no visit due for a tag they cannot see
    count, due = residents.due_visits(session, scope, sees_sensitive=False)
    assert [person.name for person in due if person.name in "甲乙丙丁戊"] == ["丙", "甲"]
    # a shorter interval for one tag moves the due dates of those who carry it
    session.execute(update(AttentionTag).where(AttentionTag.code == "disabled").values(visit_days=7))
    session.commit()
    session.refresh(recent)
    assert recent.next_visit_due < today
    # deleting the last visit puts the due date back to "never visited"
    session.execute(text("DELETE FROM visits WHERE resident_id = :r"), {"r": late.id})
    session.commit()
    session.refresh(late)
    assert late.last_visited_at is None and late.next_visit_due is not None


def test_a_household_visit_counts_for_its_members(session):
    household = new_household(session, new_house(session), "T-0301")
    member = new_resident(session, "王奶奶", 11, household=household, relation="head", tags=["elderly_alone"])
    residents.record_visit(session, actor(session, "worker"), residents.VisitData(
        household_id=household.id, method="home", found="老人身体尚好"))
    session.refresh(member)
    assert member.last_visited_at is not None and member.next_visit_due > local_today()


def test_a_visit_raises_an_incident_in_the_same_step_or_neither_is_kept(session):
    person = new_resident(session, "冯强", 11, tags=["elderly_alone"])
    made = residents.record_visit(session, actor(session, "worker"), residents.VisitData(
        resident_id=person.id, method="home", found="家中燃气灶漏气，需维修", incident_category_id=category(session).id))
    incident = session.get(Incident, made.incident_id)
    assert incident.grid_id == person.grid_id and incident.title == "家中燃气灶漏气，需维修"
    assert "冯强" not in (incident.description or "")
    before = session.scalar(select(Visit.id).order_by(Visit.id.desc()).limit(1))
    with pytest.raises(DomainError):
        residents.record_visit(session, actor(session, "worker"), residents.VisitData(
            resident_id=person.id, method="home", found="又发现问题", incident_category_id=-5))
    assert session.scalar(select(Visit.id).order_by(Visit.id.desc()).limit(1)) == before


def test_a_visit_outside_the_area_or_in_the_future_is_refused(session):
    person = new_resident(session, "陈光", 11)
    with pytest.raises(ValidationError, match="your area"):
        residents.record_visit(session, actor(session, "secretary2"), residents.VisitData(
            resident_id=person.id, method="home", found="x"))
    with pytest.raises(ValidationError, match="future"):
        residents.record_visit(session, actor(session, "worker"), residents.VisitData(
            resident_id=person.id, method="home", found="x",
            visited_at=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)))


def found(session, typed):
    condition = find_condition(typed)
    return set(session.scalars(select(Resident.name).where(condition))) if condition is not None else None


def test_a_person_is_found_by_name_initials_last_four_digits_or_whole_number(session):
    number = id_number("19700101", 11)
    new_resident(session, "单雄信", 11, phone="13912345678", birth="19700101")
    assert "单雄信" in found(session, "单雄")
    assert "单雄信" in found(session, "sxx")  # 单 as a surname reads shàn
    assert "单雄信" in found(session, "SX")
    assert "单雄信" in found(session, "5678")
    assert "单雄信" in found(session, number[-4:])
    assert found(session, "13912345678") == {"单雄信"}
    assert found(session, number.lower()) == {"单雄信"}
    # no other part of a number: the masks show the last four digits, not the rest
    assert found(session, "1391") == set() and found(session, "139123") == set()
    assert found(session, "   ") is None
    assert found(session, "%") == set()  # LIKE's wildcard taken literally


def test_the_sensitive_tags_a_form_hides_are_kept(session):
    assert residents.merged_tags(["elderly_alone"], ["drug_user", "disabled"], False) == ["elderly_alone", "drug_user"]
    assert residents.merged_tags(["elderly_alone", "drug_user"], ["released_prisoner"], False) == ["elderly_alone",
                                                                                                    "released_prisoner"]
    assert residents.merged_tags(["elderly_alone"], ["drug_user"], True) == ["elderly_alone"]
    assert residents.shown_tags(["drug_user", "disabled"], False) == ["disabled"]


COUNTED = """SELECT grid_id, sum(households), sum(residents) FROM (
    SELECT grid_id, count(*) AS households, 0 AS residents FROM households GROUP BY grid_id
    UNION ALL SELECT grid_id, 0, count(*) FROM residents WHERE moved_out IS NULL GROUP BY grid_id) AS counted
    GROUP BY grid_id"""
KEPT = "SELECT grid_id, households, residents FROM grid_records WHERE households <> 0 OR residents <> 0"


def test_each_grids_records_are_counted_whatever_moves(session):
    """grid_records holds what counting the rows gives, after adding, moving between grids, moving
    out and deleting; gridgov_recount_records() (for bulk loaders) makes the same."""
    def assert_counted():
        assert set(session.execute(text(KEPT)).all()) == {tuple(map(int, row)) for row in session.execute(text(COUNTED))}

    assert_counted()
    house = new_house(session)
    household = new_household(session, house, "T-0401")
    first = new_resident(session, "韩梅", 11, household=household, relation="head")
    new_resident(session, "韩雪", 22, code=OTHER_BUILDING)
    assert_counted()
    session.execute(update(House).where(House.id == house.id).values(grid_id=grid(session, OTHER_BUILDING).id))
    session.commit()
    assert_counted()
    residents.move_out(session, grid_scope(session, grid(session, BLOCK).id), first.id)
    assert_counted()
    session.execute(text("DELETE FROM households WHERE id = :h"), {"h": household.id})
    session.commit()
    assert_counted()
    session.execute(text("SELECT gridgov_recount_records()"))
    session.commit()
    assert_counted()


def test_a_change_of_only_sensitive_tags_is_written_apart_in_the_trail(session):
    """The trail writes the tags' change as "tags" (the care tags) and "sensitive_tags" apart
    (migration 0032), each only when that part changed; a new order of the same tags is no change."""
    from app.models import AuditEntry

    person = new_resident(session, "蒋武", 12, tags=["elderly_alone"])

    def last_change():
        return session.scalar(select(AuditEntry).where(AuditEntry.record_table == "residents",
                                                         AuditEntry.record_id == person.id)
                              .order_by(AuditEntry.id.desc()).limit(1))

    created = last_change()
    assert created.changes.get("tags") == "changed" and "sensitive_tags" not in created.changes
    person.tags = ["elderly_alone", "drug_user"]
    session.commit()
    assert last_change().changes == {"sensitive_tags": "changed"}
    person.tags = ["disabled", "drug_user"]
    session.commit()
    assert last_change().changes == {"tags": "changed"}
    before = last_change().id
    person.tags = ["drug_user", "disabled"]
    session.commit()
    assert last_change().id == before  # the same tags in another order: no entry
    person.tags, person.workplace = [], "淇滨区实验小学"
    session.commit()
    assert set(last_change().changes) == {"tags", "sensitive_tags", "workplace"}


def test_residents_and_visits_are_audited_with_numbers_masked_and_tags_and_findings_hidden(session):
    from app.models import AuditEntry
    from app.services.personal_data import mask_mobile

    person = new_resident(session, "蒋文", 11, phone="13712345678", tags=["drug_user"])
    person.phone, person.tags = "13787654321", ["elderly_alone"]
    session.commit()
    made = visit(session, person, 1)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.record_table.in_(("residents", "visits")))
                              .order_by(AuditEntry.id)).all()
    created, changed = [entry for entry in entries if entry.table_name == "residents"][-2:]
    assert created.action == "insert" and changed.action == "update"
    assert changed.changes["phone"] == [mask_mobile("13712345678"), mask_mobile("13787654321")]
    assert changed.changes["tags"] == "changed"  # which tags: never in the trail
    assert "next_visit_due" not in changed.changes and "name_initials" not in created.changes
    (visited,) = [entry for entry in entries if entry.table_name == "visits" and entry.record_id == made.id]
    assert visited.changes["found"] == "changed" and visited.grid_ids  # found in the area's trail
    assert not any("13712345678" in str(entry.changes) or "drug_user" in str(entry.changes) for entry in entries)
    assert created.record_id == changed.record_id == person.id
