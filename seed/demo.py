"""A small, real-looking district modelled on Qibin (淇滨区, Hebi): 2 streets, 6 communities,
their block and building grids, a leader and workers for every grid, departments, volunteers
with service records, and one demo login per role. Deterministic: the same data every time."""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import (Department, Grid, PointsRule, RewardItem, ServiceRecord, TrainingRecord, Volunteer, Worker,
                        WorkerPointsRule)
from app.services import points as points_service
from app.services.scope import EVERYTHING
from app.services.unit_of_work import unit_of_work

from .boundaries import QIBIN, box_of, point_in, polygon, split
from .names import NameMaker

DISTRICT = ("410611", "淇滨区")
STREETS = {
    "001": ("九州路街道", {
        "001": ("湘江社区", ["华夏南区", "湘江花园"]),
        "002": ("嵩山社区", ["嵩山小区", "锦绣家园"]),
        "003": ("黄河社区", ["黄河苑", "滨河小区"]),
    }),
    "002": ("金山街道", {
        "001": ("金山社区", ["金山花园", "美景嘉园"]),
        "002": ("天山社区", ["天山北区", "天山南区"]),
        "003": ("泰山社区", ["泰山苑", "翠湖小区"]),
    }),
}
FUNCTIONAL_DEPARTMENTS = [
    ("淇滨区城市管理局", "市容科"), ("淇滨区园林绿化中心", "养护科"), ("淇滨区市政工程处", "维修队"),
    ("淇滨区环境卫生管理处", "清运队"), ("淇滨区民政局", "社会救助股"), ("淇滨区卫生健康委员会", "疾控科"),
    ("淇滨区应急管理局", "防汛办"), ("淇滨区市场监督管理局", "执法大队"), ("鹤壁市公安局淇滨分局", "社区警务队"),
]
PAIRED_UNITS = [
    ("国家税务总局淇滨区税务局", ["湘江社区", "嵩山社区"]),
    ("淇滨区教育局", ["金山社区"]),
    ("鹤壁供电公司淇滨分公司", ["天山社区", "泰山社区", "黄河社区"]),
]
SKILLS = ["理发", "家电维修", "法律咨询", "心理疏导", "书法", "广场舞", "义诊", "助老陪护", "垃圾分类宣传", "防汛巡查"]
ACTIVITIES = ["清洁家园", "关爱空巢老人", "垃圾分类宣传", "文明交通劝导", "防汛隐患排查", "疫苗接种引导",
              "政策宣讲", "邻里纠纷调解", "义务理发", "小区绿化补植"]

DEMO_USERS = [
    # username, family name (姓), given name (名), role, scope; printed 姓名: 调度员, 湘江书记
    ("dispatcher", "调度", "员", "District dispatcher", ("grid", "410611")),
    ("street", "街道", "干部", "Street officer", ("grid", "410611001")),
    ("secretary", "湘江", "书记", "Community secretary", ("grid", "410611001001")),
    ("secretary2", "金山", "书记", "Community secretary", ("grid", "410611002001")),
    ("worker", "网格", "员", "Grid worker", ("grid", "410611001001-01")),
    ("department", "城管", "专员", "Department officer", ("department", "淇滨区城市管理局")),
    ("volunteer", "志愿", "者", "Volunteer", ("volunteer", None)),
    ("leader", "区", "领导", "Leader", ("grid", "410611")),
]


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Grid))


def _grid(session, code, name, level, box, parent=None, households=0, population=0, kind="comprehensive",
          branch=None):
    grid = Grid(code=code, name=name, level=level, kind=kind, parent=parent, households=households,
                population=population, party_branch=branch, boundary=polygon(box))
    session.add(grid)
    session.flush()
    return grid


def _worker(session, names: NameMaker, grid, role, employment="full_time", years_ago=3, hours="72"):
    worker = Worker(
        name=names.name(), role=role, grid=grid, phone=names.phone(), id_number=names.resident_id(),
        employment=employment, party_member=names.rng.random() < 0.6,
        start_date=datetime.date(2026 - years_ago, names.rng.randrange(1, 13), 1),
    )
    session.add(worker)
    # this year's training (Qibin asks for 70 hours): two courses making up ``hours``
    year = datetime.date.today().year
    first = (Decimal(hours) / 2).quantize(Decimal(1))
    for day, course, organiser, part in ((datetime.date(year, 1, 15), "网格员岗前及业务培训", "区网格化服务中心", first),
                                        (datetime.date(year, 3, 20), "矛盾纠纷调解实务", "区司法局",
                                         Decimal(hours) - first)):
        if part > 0:
            session.add(TrainingRecord(worker=worker, date=day, course=course, hours=part, organiser=organiser))
    return worker


def load_demo(session: Session) -> dict:
    """Load the demo district into ``session`` (not committed). Returns what was made."""
    names = NameMaker(20261122)
    district = _grid(session, DISTRICT[0], DISTRICT[1], "district", QIBIN, branch="中共淇滨区委")
    district_leader = _worker(session, names, district, "grid_leader", hours="80")
    grids = {district.code: district}
    communities: dict[str, Grid] = {}
    leaders = [(district, district_leader)]
    for (s_code, (s_name, s_communities)), s_box in zip(STREETS.items(), split(QIBIN, len(STREETS))):
        street = _grid(session, DISTRICT[0] + s_code, s_name, "street", s_box, district, branch=f"{s_name}党工委")
        grids[street.code] = street
        leaders.append((street, _worker(session, names, street, "grid_leader", hours="76")))
        for (c_code, (c_name, blocks)), c_box in zip(s_communities.items(), split(s_box, len(s_communities))):
            community = _grid(session, street.code + c_code, c_name, "community", c_box, street,
                              branch=f"{c_name}党委")
            grids[community.code] = community
            communities[c_name] = community
            leaders.append((community, _worker(session, names, community, "chief_grid_leader", hours="90")))
            _worker(session, names, community, "grid_worker", hours="70")
            _worker(session, names, community, "mediator", employment="part_time", hours="24")
            for b_index, (b_name, b_box) in enumerate(zip(blocks, split(c_box, len(blocks))), start=1):
                block = _grid(session, f"{community.code}-{b_index:02d}", b_name, "block", b_box, community,
                              branch=f"{b_name}党支部")
                grids[block.code] = block
                leaders.append((block, _worker(session, names, block, "grid_leader", hours="74")))
                _worker(session, names, block, "grid_worker", hours=str(60 + names.rng.randrange(30)))
                _worker(session, names, block, "informant", employment="part_time", hours="12")
                for n, n_box in enumerate(split(b_box, 2), start=1):
                    households = 48 + names.rng.randrange(80)
                    building = _grid(session, f"{block.code}-{n:02d}", f"{b_name}{n}号楼", "building", n_box, block,
                                     households=households, population=int(households * 2.7))
                    grids[building.code] = building
                    leaders.append((building, _worker(session, names, building, "building_leader",
                                                      employment="part_time", hours="16")))
                    _worker(session, names, building, "cleaner", employment="part_time", hours="8")
    session.flush()
    for grid, leader in leaders:
        grid.leader = leader
    departments = {}
    for name, contact in FUNCTIONAL_DEPARTMENTS:
        dept = Department(name=name, kind="functional", contact_name=f"{contact}{names.name()}",
                          contact_phone=f"0392-{3300000 + names.rng.randrange(99999)}")
        session.add(dept)
        departments[name] = dept
    for name, served in PAIRED_UNITS:
        dept = Department(name=name, kind="paired_unit", contact_name=names.name(), contact_phone=names.phone(),
                          communities=[communities[c] for c in served])
        session.add(dept)
        departments[name] = dept
    session.flush()
    rules = {rule.name: rule for rule in session.scalars(select(PointsRule))}
    volunteers = []
    units = [departments[name] for name, _ in PAIRED_UNITS]
    for c_name, community in communities.items():
        for i in range(4):
            sunk = i == 3
            unit = next((u for u in units if community in u.communities), units[0]) if sunk else None
            volunteer = Volunteer(
                name=names.name(), kind="sunk_party_member" if sunk else "resident", phone=names.phone(),
                id_number=names.resident_id(), address=f"鹤壁市淇滨区{c_name}{names.rng.randrange(1, 30)}号院",
                community=community, unit=unit, skills="、".join(names.rng.sample(SKILLS, 2)),
                party_member=sunk or names.rng.random() < 0.3,
            )
            session.add(volunteer)
            volunteers.append(volunteer)
            if i == 0:  # each community's first volunteer has also helped in the flood season
                session.add(ServiceRecord(volunteer=volunteer, date=datetime.date(2026, 7, 20), hours=Decimal(4),
                                          activity="防汛隐患排查", rule=rules.get("防汛隐患排查")))
            for r in range(2 + names.rng.randrange(3)):
                activity = names.rng.choice(ACTIVITIES)
                session.add(ServiceRecord(
                    volunteer=volunteer,
                    date=datetime.date(2026, 1 + names.rng.randrange(10), 1 + names.rng.randrange(28)),
                    hours=Decimal(str(1 + names.rng.randrange(8) / 2)),
                    activity=activity, rule=rules.get(activity),
                ))
    session.flush()
    return {"grids": grids, "departments": departments, "volunteers": volunteers, "communities": communities}


REWARDS = [
    # name, points, stock, community code (None: the whole district), description
    ("洗衣液 2kg", 80, 50, None, "全区通兑"),
    ("东北大米 5kg", 200, 30, None, "全区通兑"),
    ("食用油 1.8L", 150, 20, None, "全区通兑"),
    ("理发服务券", 30, 100, "410611001001", "湘江社区便民理发室"),
    ("环保购物袋", 20, 80, "410611001001", "湘江社区"),
    ("纯棉毛巾", 40, 60, "410611002001", "金山社区"),
    ("家电清洗服务", 120, 10, "410611002001", "金山社区志愿服务站"),
]


def load_points_demo(session: Session) -> None:
    """Reward items, points for most service records and two redemptions, through the services
    (they commit), so the demo bank obeys the same rules as the screens."""
    with unit_of_work(session):  # the workers' rules of the whole district (巡查达标奖励, 走访积分)
        session.add_all([
            WorkerPointsRule(name="巡查达标奖励", award="patrol_month", points=50, min_share=90, active=True,
                             description="当月九成以上的天数巡查达标"),
            WorkerPointsRule(name="走访积分", award="visit_due", points=5, monthly_cap=20, active=True,
                             description="按时走访重点人群，每月最多20次"),
        ])
    with unit_of_work(session):  # the items and their first stock together
        for name, price, stock, code, description in REWARDS:
            community_id = session.scalar(select(Grid.id).where(Grid.code == code)) if code else None
            item = RewardItem(name=name, price=price, community_id=community_id, active=True, description=description)
            session.add(item)
            session.flush()
            points_service.restock(session, EVERYTHING, item.id, stock, "首批入库", None)
    records = session.scalars(select(ServiceRecord.id).where(ServiceRecord.rule_id.is_not(None)).order_by(ServiceRecord.id)).all()
    # Most records are rewarded; every fifth is left for the secretaries to award in the demo.
    points_service.award(session, EVERYTHING, [r for i, r in enumerate(records) if i % 5], None)
    community = session.scalar(select(Grid.id).where(Grid.code == "410611001001"))
    first = session.scalar(select(Volunteer.id).where(Volunteer.community_id == community).order_by(Volunteer.id))
    account = points_service.account_of_volunteer(session, first)
    items = {i.name: i.id for i in session.scalars(select(RewardItem))}
    if account.balance >= 50:
        done = points_service.redeem(session, EVERYTHING, account.id, {items["环保购物袋"]: 1}, None)
        points_service.hand_over(session, EVERYTHING, done.id, None)
    session.refresh(account)
    if account.balance >= 30:
        points_service.redeem(session, EVERYTHING, account.id, {items["理发服务券"]: 1}, None)


INCIDENTS = [
    # grid code, category, title, address, urgency, steps
    ("410611001001-01-01", "环境卫生", "楼道堆放杂物", "华夏南区1号楼三单元", "normal", "closed"),
    ("410611001001-02-02", "安全隐患", "电动车楼道充电", "湘江花园2号楼一单元", "urgent", "closed"),
    ("410611001002-01", "矛盾纠纷", "邻里噪音纠纷", "嵩山小区5号楼", "normal", "closed"),
    ("410611002001-01-01", "城市管理", "占道经营", "金山花园北门", "normal", "closed"),
    ("410611001001-01-02", "公共服务", "路灯不亮", "华夏南区2号楼东侧", "normal", "in_progress"),
    ("410611002002-01", "环境卫生", "垃圾清运不及时", "天山北区垃圾站", "urgent", "in_progress"),
    ("410611001001-01-02", "安全隐患", "消防通道被占用", "华夏南区2号楼北侧", "urgent", "reported"),
    ("410611001003-02", "公共服务", "小区门禁损坏", "滨河小区东门", "normal", "overdue"),
    ("410611002003-01", "防汛应急", "地下车库积水", "泰山苑地下车库", "critical", "street"),
    ("410611001002-02", "城市管理", "下水道井盖破损", "锦绣家园南门", "urgent", "department"),
    ("410611002001-02", "矛盾纠纷", "物业费争议", "美景嘉园", "normal", "rejected"),
    ("410611001001-01-01", "环境卫生", "绿化带垃圾", "华夏南区中心花园", "normal", "reopened"),
]


def load_incidents_demo(session: Session) -> None:
    """A dozen incidents in every state of the loop, driven through the loop's own service."""
    from app.models import IncidentCategory
    from app.services import incidents
    from app.services.scope import grid_scope
    from app.services.users import GRID_WORKER, SECRETARY, STREET_OFFICER

    categories = {c.name: c.id for c in session.scalars(select(IncidentCategory))}
    places = random.Random(20261203)  # each incident's location, inside its grid
    municipal = session.scalar(select(Department.id).where(Department.name == "淇滨区市政工程处"))

    def actor(code, role, name):
        grid_id = session.scalar(select(Grid.id).where(Grid.code == code))
        return incidents.Actor(None, name, frozenset({role}), grid_scope(session, grid_id))

    for code, category, title, address, urgency, state in INCIDENTS:
        block = code[:15]
        worker = actor(block if len(code) > 12 else code, GRID_WORKER, "网格员")
        secretary = actor(code[:12], SECRETARY, "社区书记")
        street = actor(code[:9], STREET_OFFICER, "街道干部")
        grid_id, boundary = session.execute(select(Grid.id, Grid.boundary).where(Grid.code == code)).one()
        latitude, longitude = point_in(box_of(boundary), places)
        incident = incidents.report(session, worker, incidents.Report(
            grid_id=grid_id, category_id=categories[category], latitude=latitude, longitude=longitude,
            title=title, address=address, urgency=urgency, source="patrol",
            description=f"{address}：{title}，请尽快处理。"))
        if state == "reported":
            continue
        if state == "overdue":
            session.execute(text("UPDATE incidents SET deadline_from = now() - interval '74 hours', deadline = now() - interval '2 hours' WHERE id = :id"),
                            {"id": incident.id})
            session.commit()
            continue
        if state == "rejected":
            incidents.act(session, secretary, incident.id, "reject", note="属物业合同纠纷，建议走司法途径")
            continue
        incidents.act(session, worker, incident.id, "accept")
        if state in ("street", "department"):
            incidents.act(session, worker, incident.id, "escalate", note="网格无法处置，请社区协调")
            incidents.act(session, secretary, incident.id, "accept")
            incidents.act(session, secretary, incident.id, "escalate", note="需街道协调职能部门")
            if state == "department":
                incidents.act(session, street, incident.id, "accept")
                incidents.act(session, street, incident.id, "dispatch", department_id=municipal, note="请市政处维修")
            continue
        incidents.act(session, worker, incident.id, "handle")
        if state == "in_progress":
            continue
        incidents.act(session, worker, incident.id, "resolve", note="已处置完毕，现场已拍照")
        incidents.act(session, secretary, incident.id, "rate", rating=5 if state == "closed" else 2,
                      note="满意" if state == "closed" else "没有清理干净")


def load_whistles_demo(session: Session) -> None:
    """An open whistle on the flooded garage (金山街道 summons two departments, one has answered)
    and an active level-III flood response over 金山街道 with a few check-ins."""
    import datetime as dt

    from app.models import Incident, ResponseTask
    from app.services import emergencies, whistles
    from app.services import incidents
    from app.services.scope import grid_scope
    from app.services.users import DEPARTMENT_OFFICER, DISPATCHER, GRID_WORKER, STREET_OFFICER

    def actor(role, name, grid_code=None, department=None):
        if department is not None:
            from app.services.scope import Scope

            return incidents.Actor(None, name, frozenset({role}), Scope("department", department_id=department))
        grid_id = session.scalar(select(Grid.id).where(Grid.code == grid_code))
        return incidents.Actor(None, name, frozenset({role}), grid_scope(session, grid_id))

    garage = session.scalar(select(Incident).where(Incident.title == "地下车库积水"))
    names = ("淇滨区应急管理局", "淇滨区市政工程处")
    ids = [session.scalar(select(Department.id).where(Department.name == n)) for n in names]
    street = actor(STREET_OFFICER, "金山街道值班员", "410611002")
    whistle = whistles.blow(session, street, [garage.id], "地下车库积水严重，需应急、市政联合处置", "street", ids,
                            dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=12))
    emergency = actor(DEPARTMENT_OFFICER, "应急局值班员", department=ids[0])
    summons = next(s for s in whistle.summonses if s.department_id == ids[0])
    whistles.report_in(session, emergency, summons.id)
    whistles.submit_result(session, emergency, summons.id, "已调派两台抽水泵，积水排除中")

    dispatcher = actor(DISPATCHER, "区调度中心", "410611")
    response = emergencies.declare(session, dispatcher, session.scalar(select(Grid.id).where(Grid.code == "410611002")),
                                   "III", "金山街道防汛三级响应", "各网格立即排查地下车库、低洼地带和危旧房，及时转移群众，每两小时报告一次。")
    for code in ("410611002001-01", "410611002001-01-01", "410611002001-01-02"):
        task = session.scalar(select(ResponseTask.id).join(Grid, ResponseTask.grid_id == Grid.id)
                              .where(ResponseTask.response_id == response.id, Grid.code == code))
        emergencies.check_in(session, actor(GRID_WORKER, "金山网格员", "410611002001-01"), task, "已排查，无险情")


def create_demo_users(sm, session: Session, password: str, made: dict | None = None) -> list[str]:
    """One login per role (besides the administrator), all with the demo password, scoped to
    the first district of the database (淇滨区 in the demo and the district data sets)."""
    root = session.scalar(select(Grid.code).where(Grid.parent_id.is_(None)).order_by(Grid.code)) or DISTRICT[0]
    created = []
    for username, last, first, role_name, (kind, key) in DEMO_USERS:
        if kind == "grid":
            key = root + key[len(DISTRICT[0]):]
        if sm.find_user(username=username):
            continue
        role = sm.find_role(role_name)
        user = sm.add_user(username, first, last, f"{username}@demo.gridgov.local", role, password=password)
        if not user:
            raise RuntimeError(f"could not create demo user {username}")
        if kind == "grid":
            user.grid_id = session.scalar(select(Grid.id).where(Grid.code == key))
            if role_name == "Grid worker":  # the login is its grid's worker (巡查日志, 打卡)
                user.worker_id = session.scalar(select(Worker.id).where(
                    Worker.grid_id == user.grid_id, Worker.role == "grid_worker").order_by(Worker.id).limit(1))
        elif kind == "department":
            user.department_id = session.scalar(select(Department.id).where(Department.name == key))
        else:
            community = session.scalar(select(Grid.id).where(Grid.code == root + "001001"))
            user.volunteer_id = session.scalar(
                select(Volunteer.id).where(Volunteer.community_id == community).order_by(Volunteer.id).limit(1)
            )
        created.append(username)
    session.commit()
    return created


RESIDENT_RELATIONS = ("spouse", "child", "parent")


def load_residents_demo(session: Session) -> dict:
    """一户一档 of every building: three houses, a household in each with two to four residents,
    some of them tagged for care or attention, and visits to those of the demo grid worker's
    block (one lately, one long ago: overdue, one never). Run after the demo logins exist."""
    from app.models import GridgovUser, House, Household, Resident
    from app.services import incidents, residents
    from app.services.pinyin import initials_of
    from app.services.scope import grid_scope, visible
    from app.services.users import GRID_WORKER

    names = NameMaker(20261204)
    buildings = list(session.scalars(select(Grid).where(Grid.level == "building").order_by(Grid.code)))
    made = {"houses": 0, "households": 0, "residents": 0, "visits": 0}
    care = ("elderly_alone", "disabled", "low_income", "left_behind_child", "special_care")
    for b_index, building in enumerate(buildings):
        for h_index, room in enumerate(("101", "201", "302"), start=1):
            house = House(grid=building, unit="1单元", room=room, use="residential", ownership="owned",
                          area_m2=Decimal(60 + names.rng.randrange(80)))
            household = Household(number=f"{building.code}-{h_index:02d}", house=house, grid_id=building.id,
                                  kind="registered" if h_index < 3 else "floating")
            session.add_all([house, household])
            session.flush()
            people = []
            for p_index in range(2 + names.rng.randrange(3)):
                name = names.name()
                tags = []
                if p_index == 0 and h_index == 1:
                    tags = [care[b_index % len(care)]]
                if p_index == 1 and h_index == 2 and b_index % 4 == 0:
                    tags = ["community_correction"]  # a sensitive tag: shown only with its permission
                resident = Resident(
                    name=name, name_initials=initials_of(name), id_number=names.resident_id(), phone=names.phone(),
                    ethnicity="01" if names.rng.random() < 0.95 else "03", residence_status="registered"
                    if h_index < 3 else "floating", moved_in=datetime.date(2010 + names.rng.randrange(15), 3, 1),
                    party_member=names.rng.random() < 0.1, tags=tags, grid_id=building.id,
                    household_id=household.id, relation="head" if p_index == 0 else RESIDENT_RELATIONS[p_index % 3])
                session.add(resident)
                people.append(resident)
            session.flush()
            household.head_id = people[0].id
            if h_index == 1:
                house.owner_id = people[0].id
            made["houses"] += 1
            made["households"] += 1
            made["residents"] += len(people)
    session.flush()
    worker = session.scalar(select(GridgovUser).where(GridgovUser.username == "worker"))
    if worker is not None and worker.grid_id is not None:
        actor = incidents.Actor(worker.id, "网格员", frozenset({GRID_WORKER}), grid_scope(session, worker.grid_id))
        tagged = list(session.scalars(select(Resident).where(
            Resident.tags != [], visible(actor.scope, Resident)).order_by(Resident.id)))
        now = datetime.datetime.now(datetime.timezone.utc)
        for index, resident in enumerate(tagged):
            if index % 3 == 2:
                continue  # never visited: due since the day tagged
            days = 10 if index % 3 == 0 else 40
            residents.record_visit(session, actor, residents.VisitData(
                resident_id=resident.id, visited_at=now - datetime.timedelta(days=days), method="home",
                found="身体状况良好，生活能自理" if index % 2 else "家中暖气不热，已登记跟进",
                follow_up=None if index % 2 else "联系物业检修暖气"))
            made["visits"] += 1
    session.commit()
    return made


WISHES = [
    # title, kind, description, what happens to it (by the demo's logins), days since posted
    ("想要一个新书包", "goods", "留守儿童，九月升三年级，旧书包已经破了", "posted", 1),
    ("帮忙修理漏水的水龙头", "repair", "独居老人，厨房水龙头一直滴水", "open", 2),
    ("周末陪老人聊聊天", "visit", "老人子女在外地，希望有人每周来坐坐", "dispatched", 3),
    ("代购降压药", "errand", "行动不便，需要每月去药店买药", "claimed", 4),
    ("更换楼道灯泡", "repair", "家门口楼道灯坏了，晚上看不清台阶", "done", 6),
    ("想要一副老花镜", "goods", "原来的眼镜摔坏了", "posted", 10),  # no one has taken it up: a to-do
]


def load_wishes_demo(session: Session, photos_dir: str | None = None) -> int:
    """微心愿 of the demo grid worker's residents in every state but rated (a rating would move the
    demo volunteers' points): posted by the worker, opened or dispatched by the secretary, claimed
    and done by the volunteers of 湘江社区, one left past its claim deadline. Run after the
    residents and the logins; through the wishes' own service, as the screens do."""
    import os
    import uuid

    from PIL import Image

    from app.models import GridgovUser, Resident
    from app.services import wishes
    from app.services.incidents import Actor, actor_from_user
    from app.services.scope import Scope, visible
    from app.services.users import VOLUNTEER

    def login(name):
        user = session.scalar(select(GridgovUser).where(GridgovUser.username == name))
        return actor_from_user(session, user) if user is not None else None

    worker, secretary = login("worker"), login("secretary")
    if worker is None or secretary is None:
        return 0
    residents = list(session.scalars(select(Resident).where(visible(worker.scope, Resident))
                                     .order_by(Resident.id).limit(len(WISHES))))
    community = session.scalar(select(Grid.id).where(Grid.code == "410611001001"))
    helpers = [Actor(None, v.name, frozenset({VOLUNTEER}), Scope("volunteer", volunteer_id=v.id))
               for v in session.scalars(select(Volunteer).where(Volunteer.community_id == community)
                                        .order_by(Volunteer.id))]
    made = 0
    for (title, kind, description, state, days), resident in zip(WISHES, residents):
        wish = wishes.post(session, worker, wishes.WishPost(resident.id, title, kind, description))
        if state in ("open", "claimed", "done"):
            wishes.act(session, secretary, wish.id, "open")
        if state == "dispatched":
            wishes.act(session, secretary, wish.id, "dispatch", volunteer_id=helpers[0].scope.volunteer_id)
        if state in ("claimed", "done"):
            wishes.act(session, helpers[1 if state == "claimed" else 2], wish.id, "claim")
        if state == "done" and photos_dir:
            os.makedirs(photos_dir, exist_ok=True)
            name = f"{uuid.uuid4().hex}.jpg"
            Image.new("RGB", (64, 48), (250, 220, 120)).save(os.path.join(photos_dir, name), "JPEG")
            wishes.act(session, helpers[2], wish.id, "done", note="已换上新的节能灯泡，老人很满意", photo=name)
        # posted ``days`` ago: the claim deadline moves with it
        session.execute(text("UPDATE micro_wishes SET posted_at = posted_at - make_interval(days => :d), "
                             "claim_deadline = claim_deadline - make_interval(days => :d) WHERE id = :id"),
                        {"d": days, "id": wish.id})
        made += 1
    session.commit()
    return made
