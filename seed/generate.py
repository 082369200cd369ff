"""Real-size data: `gridgov seed district` and `gridgov seed city`, loaded with COPY through the
same constraints and triggers as the app (paths, levels, ID check digits, accounts, ledger
balances), streamed in batches so that a city fits in memory.

- district — Qibin's shape: 1 district, 6 streets, 56 communities, 315 block grids, 2,988
  building grids; 8,400 workers; 5,000 volunteers with service records and earned points;
  70,000 incidents over the last 12 months with full timelines, 99.58% resolved; whistles.
- city — Qingdao's size: 10 districts, 150 streets, 1,640 communities and 16,400 base grids;
  19,100 grid managers and 62,300 informants; 100,000 volunteers with 2,000,000 service records
  and as many ledger entries; 1,000,000 incidents with timelines.

Deterministic for a given seed; ``scale`` shrinks every count (the tests load small ones)."""
from __future__ import annotations

import datetime
import io
import json
import random
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Department, Grid, IncidentCategory, PointsRule
from app.services import audit

from .boundaries import HEBI_CITY, QIBIN, point_in, polygon, split
from .demo import FUNCTIONAL_DEPARTMENTS, PAIRED_UNITS, SKILLS
from .names import NameMaker

DISTRICT_CODE = "410611"
STREETS = ["九州路街道", "金山街道", "长江路街道", "黎阳路街道", "大赉店镇", "钜桥镇"]
COMMUNITY_WORDS = "湘江 嵩山 黄河 金山 天山 泰山 华山 衡山 桃园 兴鹤 淇水 朝歌 鹿鸣 花园 建业 宏达 福源 阳光 龙岗 翠湖 滨河 紫荆 和平 新世纪 明珠 五岳 淇园 枫叶 海河 庐山".split()
BLOCK_WORDS = "花园 家园 小区 新村 苑 公寓 佳苑 名都 雅居 华庭 北区 南区 东区 西区 嘉园".split()
TITLES = {
    "环境卫生": ["楼道堆放杂物", "垃圾清运不及时", "污水外溢", "绿化带垃圾", "小广告乱贴", "化粪池满溢", "宠物粪便"],
    "矛盾纠纷": ["邻里噪音纠纷", "物业费争议", "停车位纠纷", "楼上漏水邻里纠纷", "装修扰民", "遗产房屋纠纷"],
    "安全隐患": ["电动车楼道充电", "消防通道被占用", "燃气管道老化", "楼顶漏水", "管道漏水", "外墙脱落", "井盖缺失"],
    "城市管理": ["占道经营", "违章搭建", "共享单车乱停", "店外经营", "噪音扰民", "渣土车遗撒"],
    "公共服务": ["路灯不亮", "电梯故障", "小区停水", "门禁损坏", "暖气不热", "健身器材损坏"],
    "防汛应急": ["地下车库积水", "道路积水", "低洼院落进水", "雨水管网堵塞"],
}
ACTIVITY_RULES = ["清洁家园", "关爱空巢老人", "垃圾分类宣传", "文明交通劝导", "防汛隐患排查", "政策宣讲", "邻里纠纷调解", "义务理发"]
BUILDING_ROLES = ["stairwell_leader", "cleaner", "security_officer", "property_officer", "party_group_leader", "mediator"]


@dataclass
class Shape:
    districts: int = 1
    streets: int = 6
    communities: int = 56
    blocks: int = 315
    buildings: int = 2988
    grid_workers: int = 1169       # besides one leader for every grid
    helpers: int = 3865            # informants, cleaners, stairwell leaders…
    helper_roles: tuple = tuple(BUILDING_ROLES)
    volunteers: int = 5000
    records_per_volunteer: tuple = (2, 6)
    incidents: int = 70000
    resolved_share: float = 0.9958
    whistles: int = 240

    def scaled(self, scale: float) -> "Shape":
        if scale >= 1:
            return self

        def shrink(value, low):
            return max(low, round(value * scale))
        return Shape(
            districts=self.districts if self.districts == 1 else 2, streets=max(2, shrink(self.streets, 2)),
            communities=shrink(self.communities, 4), blocks=shrink(self.blocks, 8),
            buildings=shrink(self.buildings, 16) if self.buildings else 0,
            grid_workers=shrink(self.grid_workers, 10), helpers=shrink(self.helpers, 20), helper_roles=self.helper_roles,
            volunteers=shrink(self.volunteers, 40), records_per_volunteer=self.records_per_volunteer,
            incidents=shrink(self.incidents, 200), whistles=shrink(self.whistles, 4), resolved_share=self.resolved_share,
        )


DISTRICT = Shape()
CITY = Shape(districts=10, streets=150, communities=1640, blocks=16400, buildings=0, grid_workers=900,
             helpers=62300, helper_roles=("informant",), volunteers=100000, records_per_volunteer=(20, 20),
             incidents=1_000_000, whistles=3000)
CITY_DISTRICTS = [("370202", "市南区"), ("370203", "市北区"), ("370211", "黄岛区"), ("370212", "崂山区"),
                  ("370213", "李沧区"), ("370214", "城阳区"), ("370215", "即墨区"), ("370281", "胶州市"),
                  ("370283", "平度市"), ("370285", "莱西市")]
BATCH = 20000


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` spread over ``parts`` buckets of nearly equal size, in a shuffled order."""
    base, extra = divmod(total, parts)
    sizes = [base + (1 if i < extra else 0) for i in range(parts)]
    rng.shuffle(sizes)
    return sizes


class Copier:
    """COPY rows into a table through the connection of a SQLAlchemy session (triggers fire)."""

    def __init__(self, session: Session):
        self.cursor = session.connection().connection.cursor()

    def copy(self, table: str, columns: list[str], rows) -> int:
        buffer = io.StringIO()
        count = 0
        for row in rows:
            buffer.write("\t".join(_cell(value) for value in row))
            buffer.write("\n")
            count += 1
        buffer.seek(0)
        self.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        return count


def _cell(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def load_district(session: Session, *, seed: int = 20261122, scale: float = 1.0, echo=print,
                  now: datetime.datetime | None = None) -> dict:
    """Qibin's shape (see the module docstring) into an empty database."""
    return load(session, DISTRICT.scaled(scale), seed=seed, echo=echo, now=now)


def load_city(session: Session, *, seed: int = 20261122, scale: float = 1.0, echo=print,
              now: datetime.datetime | None = None) -> dict:
    """Qingdao's size (see the module docstring) into an empty database."""
    return load(session, CITY.scaled(scale), seed=seed, echo=echo, now=now, roots=CITY_DISTRICTS)


def load(session: Session, shape: Shape, *, seed: int, echo=print, now: datetime.datetime | None = None,
         roots=(("410611", "淇滨区"),)) -> dict:
    """Generate ``shape`` and load it into an empty database. Returns the counts loaded."""
    if session.scalar(select(func.count()).select_from(Grid)):
        raise RuntimeError("the database already holds grids: generated data goes into an empty one")
    rng = random.Random(seed)
    names = NameMaker(seed)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    copier = Copier(session)
    counts: dict[str, int] = {}
    audit.bulk_load(session)  # one audit row per table for what follows, not one per row

    # --- departments ----------------------------------------------------------------------
    departments = []
    for name, contact in FUNCTIONAL_DEPARTMENTS:
        departments.append(Department(name=name, kind="functional", contact_name=f"{contact}{names.name()}",
                                      contact_phone=f"0392-{3300000 + rng.randrange(99999)}"))
    for name, _ in PAIRED_UNITS:
        departments.append(Department(name=name, kind="paired_unit", contact_name=names.name(), contact_phone=names.phone()))
    session.add_all(departments)
    session.flush()
    counts["departments"] = len(departments)
    functional = [d.id for d in departments if d.kind == "functional"]
    units = [d.id for d in departments if d.kind == "paired_unit"]

    # --- grids, level by level (the trigger derives each path from its parent) ---------------
    grid_id = iter(range(1, 10**9))
    districts = [(next(grid_id), code, name, "district", None) for code, name in roots[:shape.districts]]
    streets, communities, blocks, buildings = [], [], [], []
    for district, count in zip(districts, _split(shape.streets, len(districts), rng)):
        for s in range(count):
            name = STREETS[s % len(STREETS)] if len(districts) == 1 else f"{district[2][:-1]}第{s + 1}街道"
            streets.append((next(grid_id), f"{district[1]}{s + 1:03d}", name, "street", district[0]))
    words = COMMUNITY_WORDS[:]
    rng.shuffle(words)
    for street, count in zip(streets, _split(shape.communities, len(streets), rng)):
        for c in range(count):
            n = len(communities)
            word = words[n % len(words)] + ("" if n < len(words) else str(n // len(words) + 1))
            communities.append((next(grid_id), f"{street[1]}{c + 1:03d}", f"{word}社区", "community", street[0]))
    for community, count in zip(communities, _split(shape.blocks, len(communities), rng)):
        for b in range(count):
            name = community[2].replace("社区", "") + rng.choice(BLOCK_WORDS)
            blocks.append((next(grid_id), f"{community[1]}-{b + 1:02d}", name, "block", community[0]))
    if shape.buildings:
        for block, count in zip(blocks, _split(shape.buildings, len(blocks), rng)):
            for n in range(count):
                buildings.append((next(grid_id), f"{block[1]}-{n + 1:02d}", f"{block[2]}{n + 1}号楼", "building", block[0]))
    boxes = _boxes(districts, [streets, communities, blocks, buildings])
    columns = ["id", "code", "name", "level", "kind", "parent_id", "households", "population", "party_branch", "boundary"]
    for level_rows in (districts, streets, communities):
        copier.copy("grids", columns, ((row[0], row[1], row[2], row[3], "comprehensive", row[4], 0, 0, f"{row[2]}党组织",
                                        _outline(boxes[row[0]])) for row in level_rows))

    def base_grid(row):  # households live in the smallest grids
        households = 20 + rng.randrange(100) if row[3] == "building" else 100 + rng.randrange(200)
        # about one block in eight is a dedicated grid (a school, a market, a company)
        kind = "dedicated" if row[3] == "block" and rng.random() < 0.12 else "comprehensive"
        return (row[0], row[1], row[2], row[3], kind, row[4], households, int(households * (2.3 + rng.random())),
                f"{row[2]}党支部" if row[3] == "block" else None, _outline(boxes[row[0]]))
    if buildings:
        copier.copy("grids", columns, ((row[0], row[1], row[2], row[3], "comprehensive", row[4], 0, 0, f"{row[2]}党支部",
                                        _outline(boxes[row[0]])) for row in blocks))
        copier.copy("grids", columns, (base_grid(row) for row in buildings))
    else:
        copier.copy("grids", columns, (base_grid(row) for row in blocks))
    by_id = {row[0]: row for row in [*districts, *streets, *communities, *blocks, *buildings]}
    counts["grids"] = len(by_id)
    echo(f"  grids: {counts['grids']}")

    # --- workers: a leader for every grid, grid workers, helpers in the smallest grids --------
    worker_rows = []
    worker_id = iter(range(1, 10**9))
    leaders = {}

    def worker(grid, role, employment="full_time", hours=None):
        wid = next(worker_id)
        worker_rows.append((wid, names.name(), role, grid, names.phone(), names.resident_id(), employment,
                            rng.random() < 0.55, datetime.date(2015 + rng.randrange(11), 1 + rng.randrange(12), 1),
                            hours if hours is not None else 40 + rng.randrange(60), None))
        return wid

    smallest = buildings or blocks
    for row in [*districts, *streets]:
        leaders[row[0]] = worker(row[0], "grid_leader", hours=80)
    for row in communities:
        leaders[row[0]] = worker(row[0], "chief_grid_leader", hours=90)
    for row in blocks:
        leaders[row[0]] = worker(row[0], "grid_leader")
    for row in buildings:
        leaders[row[0]] = worker(row[0], "building_leader", "part_time", 12 + rng.randrange(20))
    for i in range(shape.grid_workers):
        target = communities[i % len(communities)] if i < 4 * len(communities) else blocks[i % len(blocks)]
        worker(target[0], "grid_worker", hours=60 + rng.randrange(40))
    for i in range(shape.helpers):
        worker(smallest[i % len(smallest)][0], shape.helper_roles[i % len(shape.helper_roles)], "part_time",
               rng.randrange(30))
    columns = ["id", "name", "role", "grid_id", "phone", "id_number", "employment", "party_member", "start_date",
               "training_hours", "department_id"]
    for start in range(0, len(worker_rows), BATCH):
        copier.copy("workers", columns, worker_rows[start:start + BATCH])
    counts["workers"] = len(worker_rows)
    worker_rows.clear()
    session.execute(text("UPDATE grids SET leader_id = l.worker FROM (SELECT unnest(:g) AS grid, unnest(:w) AS worker) l "
                         "WHERE grids.id = l.grid"), {"g": list(leaders), "w": list(leaders.values())})
    echo(f"  workers: {counts['workers']}")

    # --- volunteers, service records and earned points, in batches -----------------------------
    rules = {r.name: r for r in session.scalars(select(PointsRule))}
    record_id = iter(range(1, 10**10))
    counts["volunteers"] = counts["service_records"] = counts["points_entries"] = 0
    low, high = shape.records_per_volunteer
    step = max(1, BATCH // max(1, high))
    for first in range(0, shape.volunteers, step):
        volunteer_rows, record_rows = [], []
        for v in range(first, min(first + step, shape.volunteers)):
            community = communities[v % len(communities)]
            sunk = rng.random() < 0.25
            volunteer_rows.append((v + 1, names.name(), "sunk_party_member" if sunk else "resident", names.phone(),
                                   names.resident_id(), f"{community[2]}{1 + rng.randrange(40)}号院",
                                   community[0], rng.choice(units) if sunk else None, "、".join(rng.sample(SKILLS, 2)),
                                   sunk or rng.random() < 0.3))
            for _ in range(low + rng.randrange(high - low + 1)):
                activity = rng.choice(ACTIVITY_RULES)
                day = (now - datetime.timedelta(days=1 + rng.randrange(360))).date()
                record_rows.append((next(record_id), v + 1, day, 1 + rng.randrange(8) / 2, activity, rules[activity].id))
        copier.copy("volunteers", ["id", "name", "kind", "phone", "id_number", "address", "community_id", "unit_id",
                                   "skills", "party_member"], volunteer_rows)
        copier.copy("service_records", ["id", "volunteer_id", "date", "hours", "activity", "rule_id"], record_rows)
        accounts = dict(session.execute(text(
            "SELECT volunteer_id, id FROM points_accounts WHERE volunteer_id BETWEEN :a AND :b"),
            {"a": volunteer_rows[0][0], "b": volunteer_rows[-1][0]}).all())
        entries = []
        for rid, vid, day, hours, activity, rule_id in record_rows:
            if rng.random() < 0.9 or high == low:  # the city rewards every record: 2,000,000 entries
                rule = rules[activity]
                points = rule.points if rule.unit == "event" else int(rule.points * hours + 0.5)
                at = datetime.datetime.combine(day, datetime.time(18), datetime.timezone.utc)
                entries.append((accounts[vid], "earn", points, f"{activity} {day} {hours}h", rid, at))
        copier.copy("points_entries", ["account_id", "kind", "amount", "reason", "service_record_id", "created_at"],
                    entries)
        counts["volunteers"] += len(volunteer_rows)
        counts["service_records"] += len(record_rows)
        counts["points_entries"] += len(entries)
        if shape.volunteers > 20000 and (first // step) % 10 == 0:
            echo(f"  volunteers: {counts['volunteers']:,} / {shape.volunteers:,}")
    echo(f"  volunteers: {counts['volunteers']}, service records: {counts['service_records']}, "
         f"ledger entries: {counts['points_entries']}")

    # --- incidents with timelines, in batches ------------------------------------------------
    categories = {c.name: c for c in session.scalars(select(IncidentCategory))}
    hours = dict(session.execute(text("SELECT category_id || ':' || urgency, hours FROM incident_deadlines")).all())
    ancestors = {}

    def chain(gid):
        """(grid, community, street) ids of a grid."""
        if gid not in ancestors:
            row, level = by_id[gid], {}
            while row is not None:
                level[row[3]] = row[0]
                row = by_id.get(row[4]) if row[4] else None
            ancestors[gid] = (gid, level.get("community"), level.get("street"))
        return ancestors[gid]

    targets = [b[0] for b in smallest] + ([b[0] for b in blocks] if buildings else [])
    open_count = shape.incidents - round(shape.incidents * shape.resolved_share)
    open_states = ["reported", "accepted", "in_progress", "dispatched", "reopened"]
    escalated_sample: list[tuple] = []
    counts["incidents"] = counts["incident_events"] = 0
    places = random.Random(seed + 1)  # locations apart: the rest of the data stays as it was without them
    incident_columns = ["id", "source", "category_id", "urgency", "title", "description", "address", "grid_id",
                        "reporter_name", "status", "level", "holder_grid_id", "department_id", "deadline", "rating",
                        "created_at", "resolved_at", "closed_at", "latitude", "longitude"]
    event_columns = ["incident_id", "action", "actor_name", "actor_role", "from_status", "to_status", "from_level",
                     "to_level", "handler", "note", "created_at"]
    for first in range(0, shape.incidents, BATCH):
        incident_rows, event_rows = [], []
        for i in range(first, min(first + BATCH, shape.incidents)):
            row, events = _incident(i, shape, rng, names, now, categories, hours, by_id, chain, targets, functional,
                                    open_states, open_count)
            incident_rows.append((*row, *point_in(boxes[row[7]], places)))
            event_rows.extend(events)
            if row[10] in ("community", "department") and len(escalated_sample) < shape.whistles * 3:
                escalated_sample.append(row)
        copier.copy("incidents", incident_columns, incident_rows)
        copier.copy("incident_events", event_columns, event_rows)
        counts["incidents"] += len(incident_rows)
        counts["incident_events"] += len(event_rows)
        if shape.incidents > 100000:
            echo(f"  incidents: {counts['incidents']:,} / {shape.incidents:,}")
    echo(f"  incidents: {counts['incidents']}, timeline rows: {counts['incident_events']}")

    # --- whistles on escalated incidents ----------------------------------------------------
    whistle_rows, summons_rows, links = [], [], []
    for w in range(min(shape.whistles, len(escalated_sample))):
        incident = escalated_sample[(w * 7919) % len(escalated_sample)]
        street = chain(incident[7])[2]
        blown = incident[15] + datetime.timedelta(hours=2)
        closed = incident[9] == "closed" and w % 10 != 0
        whistle_rows.append((w + 1, "street", street, "社区无法处置，吹哨召集职能部门", blown + datetime.timedelta(hours=24),
                             "closed" if closed else "open", "街道值班员", blown,
                             blown + datetime.timedelta(hours=30) if closed else None))
        links.append((w + 1, incident[0]))
        for d in rng.sample(functional, 2):
            done = closed or rng.random() < 0.5
            summons_rows.append((w + 1, d, blown + datetime.timedelta(hours=1) if done else None,
                                 "已到场联合处置" if done else None, blown + datetime.timedelta(hours=20) if done else None,
                                 rng.choice([4, 5]) if closed else None))
    copier.copy("whistles", ["id", "level", "grid_id", "reason", "deadline", "status", "blown_by_name", "blown_at",
                             "closed_at"], whistle_rows)
    copier.copy("whistle_incidents", ["whistle_id", "incident_id"], links)
    copier.copy("whistle_summonses", ["whistle_id", "department_id", "reported_at", "result", "result_at", "rating"],
                summons_rows)
    counts["whistles"] = len(whistle_rows)
    for table in ("grids", "workers", "volunteers", "service_records", "incidents", "whistles"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    audit.record_bulk_load(session, counts)
    session.commit()
    session.execute(text("ANALYZE"))
    echo(f"  whistles: {counts['whistles']}")
    return counts


def _boxes(roots, levels) -> dict:
    """Each grid's rectangle: the roots share Hebi's country (one district: 淇滨区's own), and each
    level's grids split their parent's rectangle among them."""
    boxes = dict(zip((row[0] for row in roots), [QIBIN] if len(roots) == 1 else split(HEBI_CITY, len(roots))))
    for level_rows in levels:
        children = defaultdict(list)
        for row in level_rows:
            children[row[4]].append(row[0])
        for parent, ids in children.items():
            boxes.update(zip(ids, split(boxes[parent], len(ids))))
    return boxes


def _outline(box) -> str:
    return json.dumps(polygon(box), separators=(",", ":"))


def _incident(i, shape, rng, names, now, categories, hours, by_id, chain, targets, functional, open_states, open_count):
    """One incident and its timeline: most closed through the loop, some escalated or dispatched."""
    iid = i + 1
    category_name = rng.choice(list(TITLES))
    category = categories[category_name]
    urgency = rng.choices(["normal", "urgent", "critical"], [75, 20, 5])[0]
    limit = datetime.timedelta(hours=hours.get(f"{category.id}:{urgency}", 72))
    grid, community, street = chain(rng.choice(targets))
    created = now - datetime.timedelta(days=rng.random() * 364, hours=rng.random() * 12)
    title = rng.choice(TITLES[category_name])
    row = by_id[grid]
    address = f"{row[2]}{1 + rng.randrange(6)}单元"
    worker_name = names.name()
    events = [["report", None, "reported", None, "grid", row[2], None, created]]
    level, holder, department = "grid", grid, None
    escalate = rng.random() < 0.12
    dispatch = rng.random() < 0.06
    state = open_states[i % len(open_states)] if i < open_count else "closed"

    def step(action, before, after, to_level, handler, note=None, minutes=None):
        at = events[-1][7] + datetime.timedelta(minutes=minutes if minutes is not None else 10 + rng.randrange(240))
        events.append([action, before, after, events[-1][4], to_level, handler, note, at])

    if state != "reported":
        step("accept", "reported", "accepted", "grid", row[2])
        if escalate:
            step("escalate", "accepted", "reported", "community", by_id[community][2], "网格无法处置，请社区协调")
            step("accept", "reported", "accepted", "community", by_id[community][2])
            level, holder = "community", community
        if dispatch:
            department = rng.choice(functional)
            step("dispatch", "accepted", "dispatched", "department", f"部门{department}")
            level = "department"
            if state != "dispatched":
                step("start", "dispatched", "in_progress", "department", f"部门{department}")
        elif state != "accepted":
            step("handle", "accepted", "in_progress", level, by_id[holder][2])
        if state == "closed":
            share = 0.2 + rng.random() * (0.7 if rng.random() < 0.95 else 1.6)  # about 5% resolved late
            step("resolve", "in_progress", "resolved", level, events[-1][5], "已处置完毕",
                 minutes=int(limit.total_seconds() // 60 * share))
            step("rate", "resolved", "closed", level, events[-1][5], None, minutes=60 + rng.randrange(2000))
        elif state == "reopened":
            step("resolve", "in_progress", "resolved", level, events[-1][5], "已处置")
            step("rate", "resolved", "reopened", level, events[-1][5], "不满意，请重办")
    status = events[-1][2]
    last_move = next(e[7] for e in reversed(events) if e[0] not in ("rate", "resolve"))
    deadline = (events[-1][7] if status != "closed" else last_move) + limit
    resolved_at = next((e[7] for e in events if e[0] == "resolve"), None) if status == "closed" else None
    closed_at = events[-1][7] if status == "closed" else None
    rating = rng.choices([5, 4, 3], [70, 22, 8])[0] if status == "closed" else (2 if status == "reopened" else None)
    incident = (iid, "patrol" if rng.random() < 0.6 else rng.choice(["photo", "qr", "hotline", "iot"]),
                category.id, urgency, title, f"{address}：{title}，请尽快处理。", address, grid, worker_name, status,
                level, None if level == "department" else holder, department, deadline, rating, created, resolved_at,
                closed_at)
    timeline = [(iid, action, worker_name if to_level in ("grid", "community") else "调度员",
                 "网格员" if to_level == "grid" else "社区书记" if to_level == "community" else "部门专员",
                 before, after, from_level, to_level, handler, note, at)
                for action, before, after, from_level, to_level, handler, note, at in events]
    return incident, timeline
