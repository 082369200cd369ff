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


# --- 一户一档 ------------------------------------------------------------------------------------

def test_small_district_residents_are_consistent(small_district):
    """Houses, households, residents, moves and visits: valid, unique, and exactly what the
    triggers the loader stands in for would have left (migration 0025)."""
    from app.services.personal_data import is_valid_resident_id
    from app.services.pinyin import initials_of
    from seed.generate import DISTRICT

    session, counts = small_district
    q = lambda sql: session.execute(text(sql)).scalar()  # noqa: E731
    shape = DISTRICT.scaled(0.02)
    current = q("SELECT count(*) FROM residents WHERE household_id IS NOT NULL")
    assert current == shape.residents
    assert q("SELECT count(*) FROM residents") == counts["residents"] > current
    assert q("SELECT count(*) FROM households") == counts["households"]
    assert 2.9 < current / counts["households"] < 3.3
    assert q("SELECT count(*) FROM houses") == counts["houses"] > counts["households"]
    # everyone lives in a building micro-grid (the district has them) and in their household's grid
    assert q("SELECT count(*) FROM residents r JOIN grids g ON g.id = r.grid_id WHERE g.level <> 'building'") == 0
    assert q("SELECT count(*) FROM houses WHERE area_m2 NOT BETWEEN 40 AND 160") == 0
    # every ID number valid (check digit, birth date), unique, from Qibin or elsewhere in Henan
    rows = session.execute(text("SELECT id_number, residence_status, name, name_initials, phone FROM residents")).all()
    numbers = [r[0] for r in rows if r[0] is not None]
    assert all(is_valid_resident_id(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("41") for n in numbers)
    assert sum(n.startswith("410611") for n in numbers) / len(numbers) > 0.7
    assert all(r[1] == "overseas" for r in rows if r[0] is None)
    assert all(r[3] == initials_of(r[2]) for r in rows)
    phones = [r[4] for r in rows if r[4]]
    assert len(phones) / len(rows) > 0.6 and len(set(phones)) > 0.99 * len(phones)
    ages = session.execute(text("SELECT min(date_part('year', age(birth_date))), max(date_part('year', age(birth_date))), "
                                "count(*) FILTER (WHERE gender = 'male') * 1.0 / count(gender) FROM residents")).one()
    assert ages[0] == 0 and 85 <= ages[1] <= 95 and 0.4 < ages[2] < 0.6
    assert q("SELECT count(*) FILTER (WHERE ethnicity = '01') * 1.0 / count(*) FROM residents") > 0.95
    # the head is a current member, called head; every household has one
    assert q("SELECT count(*) FROM households h JOIN residents r ON r.id = h.head_id AND r.household_id = h.id "
             "AND r.relation = 'head'") == counts["households"]
    assert q("SELECT count(*) FROM residents WHERE relation = 'head'") == counts["households"]
    # household_moves: one open stretch per current member, as the trigger writes on insert; people
    # who moved out have their closed stretch, left on the day they moved out
    assert q("""SELECT count(*) FROM residents r
                FULL JOIN (SELECT * FROM household_moves WHERE left_on IS NULL) m ON m.resident_id = r.id
                WHERE r.household_id IS NOT NULL AND (m.id IS NULL OR m.household_id <> r.household_id
                      OR m.relation IS DISTINCT FROM r.relation
                      OR m.joined_on <> coalesce(r.moved_in, gridgov_local_today()))
                   OR (r.id IS NULL) OR (r.household_id IS NULL AND m.id IS NOT NULL)""") == 0
    assert q("SELECT count(*) FROM household_moves WHERE left_on IS NULL") == current
    assert q("""SELECT count(*) FROM residents r LEFT JOIN household_moves m ON m.resident_id = r.id
                WHERE r.moved_out IS NOT NULL AND (m.left_on IS DISTINCT FROM r.moved_out OR m.joined_on > m.left_on)""") == 0
    assert counts["household_moves"] == q("SELECT count(*) FROM household_moves")
    # last_visited_at as gridgov_visits_touch leaves it, next_visit_due as gridgov_visit_due computes it
    assert q("""SELECT count(*) FROM residents r WHERE r.last_visited_at IS DISTINCT FROM (
                    SELECT max(v.visited_at) FROM visits v
                    WHERE v.resident_id = r.id OR (r.household_id IS NOT NULL AND v.household_id = r.household_id))""") == 0
    assert q("""SELECT count(*) FROM residents
                WHERE next_visit_due IS DISTINCT FROM gridgov_visit_due(tags, last_visited_at, moved_out, NULL)
                   OR care_visit_due IS DISTINCT FROM gridgov_visit_due(tags, last_visited_at, moved_out, NULL, false)""") == 0
    tagged = q("SELECT count(*) FROM residents WHERE tags <> '{}' AND moved_out IS NULL")
    overdue = q("SELECT count(*) FROM residents WHERE next_visit_due < gridgov_local_today()")
    assert q("SELECT count(*) FROM residents WHERE next_visit_due IS NOT NULL") == tagged
    assert 0.05 * tagged < overdue < 0.4 * tagged
    # visits: about monthly for the tagged, in the visited person's grid, signed by the block's login
    assert 6 * tagged < q("SELECT count(*) FROM visits WHERE resident_id IS NOT NULL") < 12 * tagged
    assert q("SELECT count(*) FROM visits WHERE household_id IS NOT NULL") > 0
    assert q("""SELECT count(*) FROM visits v JOIN residents r ON r.id = v.resident_id JOIN grids g ON g.id = r.grid_id
                JOIN ab_user u ON u.id = v.visitor_id
                WHERE v.grid_id <> r.grid_id OR u.grid_id <> g.parent_id OR v.visited_at > now()""") == 0
    assert q("SELECT count(*) FROM ab_user WHERE username LIKE 'gw%'") == counts["ab_user"] == shape.blocks
    # the tags' shares, out of everyone living here
    shares = dict(session.execute(text(
        "SELECT tag, count(*) * 1.0 / :n FROM residents, unnest(tags) AS tag GROUP BY tag"), {"n": current}).all())
    for tag, low, high in (("elderly_alone", 0.012, 0.03), ("disabled", 0.008, 0.025), ("low_income", 0.004, 0.018),
                           ("special_care", 0.001, 0.01)):
        assert low < shares.get(tag, 0) < high, (tag, shares)
    assert sum(shares.values()) < 0.1
    # the triggers stood in for are on again, and work
    assert q("""SELECT count(*) FROM pg_trigger WHERE tgname IN ('residents_visit_due', 'residents_household_move',
                'visits_touch', 'residents_count', 'households_count') AND tgenabled = 'O'""") == 5
    household, grid = session.execute(text("SELECT id, grid_id FROM households ORDER BY id LIMIT 1")).one()
    # each grid's counts as the counting triggers would have kept them
    assert set(session.execute(text("SELECT grid_id, households, residents FROM grid_records")).all()) == set(
        session.execute(text("""SELECT grid_id, sum(h)::int, sum(r)::int FROM (
            SELECT grid_id, count(*) AS h, 0 AS r FROM households GROUP BY grid_id UNION ALL
            SELECT grid_id, 0, count(*) FROM residents WHERE moved_out IS NULL GROUP BY grid_id) AS c
            GROUP BY grid_id""")).all())
    rid = q(f"""INSERT INTO residents (name, residence_status, party_member, tags, grid_id, household_id, relation)
                VALUES ('新生儿', 'overseas', false, '{{elderly_alone}}', {grid}, {household}, 'child') RETURNING id""")
    assert q(f"SELECT count(*) FROM household_moves WHERE resident_id = {rid} AND left_on IS NULL") == 1
    assert q(f"SELECT next_visit_due = gridgov_local_today() FROM residents WHERE id = {rid}")
    session.rollback()
    # one audit summary row per table, none per row
    loads = dict(session.execute(select(AuditEntry.table_name, AuditEntry.changes["rows"].as_integer())
                                 .where(AuditEntry.action == "load")).all())
    for table in ("houses", "households", "residents", "visits", "ab_user"):
        assert loads[table] == counts[table], table
    assert session.scalar(text("SELECT nextval(pg_get_serial_sequence('residents', 'id'))")) > counts["residents"]


def test_loaded_tables_keep_the_migrations_indexes(small_district, database_url):
    """The loader drops the residents' tables' secondary indexes and builds them again at the end:
    the same ones, defined the same way, as a database just migrated."""
    session, _ = small_district
    query = text("SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN "
                 "('houses', 'households', 'residents', 'household_moves', 'visits') ORDER BY 1, 2")
    url = database_url("fresh")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.connect() as fresh:
        expected = fresh.execute(query).all()
    engine.dispose()
    assert session.execute(query).all() == expected
    assert len(expected) > 20


def test_small_city_houses_lie_in_block_grids(database_url):
    from seed.generate import load_city

    url = database_url("city")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with Session(engine) as session:
        counts = load_city(session, scale=0.0005, echo=lambda *a: None)
        q = lambda sql: session.execute(text(sql)).scalar()  # noqa: E731
        assert counts["residents"] > 5000
        assert q("SELECT count(*) FROM houses h JOIN grids g ON g.id = h.grid_id WHERE g.level <> 'block'") == 0
        assert q("SELECT count(*) FROM houses WHERE unit LIKE '%号楼%单元'") > 0
        assert q("SELECT count(*) FROM residents WHERE id_number NOT LIKE '37%'") == 0
        assert q("SELECT count(DISTINCT left(id_number, 6)) FROM residents WHERE id_number LIKE '3702%'") == 2
        assert q("""SELECT count(*) FROM residents
                    WHERE next_visit_due IS DISTINCT FROM gridgov_visit_due(tags, last_visited_at, moved_out, NULL)
                   OR care_visit_due IS DISTINCT FROM gridgov_visit_due(tags, last_visited_at, moved_out, NULL, false)""") == 0
    engine.dispose()


def test_small_district_patrols_are_measured_as_the_service_measures_them(small_district):
    """About two patrols a worker and day, each track's distance and duration what the service
    computes from it, none under way, a clock-in on most days; the compliance list answers."""
    from app.models import Patrol
    from app.services import patrols

    session, counts = small_district
    worker_days = counts["workers"] * 14  # the small shape's 14 days
    assert 1.9 * worker_days < counts["patrols"] < 2.2 * worker_days
    assert 0.9 * worker_days < counts["clock_ins"] <= worker_days
    assert session.scalar(select(func.count()).select_from(Patrol).where(Patrol.ended_at.is_(None))) == 0
    for patrol in session.scalars(select(Patrol).order_by(Patrol.id).limit(200)):
        found = patrols.measure(patrol.latitudes, patrol.longitudes, patrol.seconds, 12)
        assert (round(found.distance_m), found.duration_s, found.jumps) == (
            patrol.distance_m, patrol.duration_s, patrol.jumps)
    street = session.scalar(select(Grid).where(Grid.level == "street").order_by(Grid.code))
    monday, sunday = patrols.week_of(datetime.date.today() - datetime.timedelta(days=7))
    short = patrols.shortfalls(session, street, monday, sunday)
    assert short and all(0 < row.days_short <= 7 for row in short)
    staff = session.scalar(select(func.count()).select_from(Worker).join(Grid, Worker.grid_id == Grid.id)
                           .where(Grid.path.descendant_of(street.path)))
    assert len(short) < staff / 2  # most workers meet the rule
    loads = dict(session.execute(select(AuditEntry.table_name, AuditEntry.changes["rows"].as_integer())
                                 .where(AuditEntry.action == "load")).all())
    assert loads["patrols"] == counts["patrols"]
