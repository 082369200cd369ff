"""Real-size data: `gridgov seed district` and `gridgov seed city`, loaded with COPY through the
same constraints and triggers as the app (paths, levels, ID check digits, accounts, ledger
balances; the residents' three per-row triggers are done in bulk instead, see ``load_residents``), streamed in batches so that a city fits in memory.

- district — Qibin's shape: 1 district, 6 streets, 56 communities, 315 block grids, 2,988
  building grids; 8,400 workers; 5,000 volunteers with service records and earned points;
  70,000 incidents over the last 12 months with full timelines, 99.58% resolved; whistles;
  一户一档: 461,500 residents in ~150,000 households and houses under the building grids, with
  attention tags, household moves and a year of visits (``load_residents``).
- city — Qingdao's size: 10 districts, 150 streets, 1,640 communities and 16,400 base grids;
  19,100 grid managers and 62,300 informants; 100,000 volunteers with 2,000,000 service records
  and as many ledger entries; 1,000,000 incidents with timelines; 10,000,000 residents, their
  houses right under the block grids (the city has no building grids).

Deterministic for a given seed; ``scale`` shrinks every count (the tests load small ones)."""
from __future__ import annotations

import datetime
import io
import itertools
import json
import queue
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Department, Grid, IncidentCategory, PointsRule
from app.models.choices import SENSITIVE_TAGS
from app.services import audit
from app.services.personal_data import resident_id_check_char
from app.services.pinyin import initials_of

from .boundaries import HEBI_CITY, QIBIN, point_in, polygon, split
from .demo import FUNCTIONAL_DEPARTMENTS, PAIRED_UNITS, SKILLS
from .names import NameMaker, resident_name

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
    # 一户一档: current residents (people who moved out come on top), households of 1–6 people
    # (~3.1 on average), visits to the tagged about monthly over the past year
    residents: int = 461_500
    household_sizes: tuple = (12, 24, 28, 20, 10, 6)   # weights of households of 1, 2 … 6 people
    visit_months: int = 12
    visit_kept: float = 0.85        # share of the monthly visits made (the rest missed)
    household_visits: float = 0.04  # share of households visited at home in the past year
    # 巡查日志: every worker's patrols (about 2 a day, with a track) and clock-ins over these past days
    patrol_days: int = 365

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
            residents=shrink(self.residents, 300), household_sizes=self.household_sizes,
            visit_months=self.visit_months, visit_kept=self.visit_kept, household_visits=self.household_visits,
            patrol_days=shrink(self.patrol_days, 14) if self.patrol_days else 0,
        )


DISTRICT = Shape()
CITY = Shape(districts=10, streets=150, communities=1640, blocks=16400, buildings=0, grid_workers=900,
             helpers=62300, helper_roles=("informant",), volunteers=100000, records_per_volunteer=(20, 20),
             incidents=1_000_000, whistles=3000, residents=10_000_000, patrol_days=0)
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


    def copy_lines(self, table: str, columns: list[str], lines: list[str]) -> int:
        """COPY rows already written as lines of tab-separated cells (see ``_cell``)."""
        if lines:
            data = "".join(lines)
            # one read of the whole batch: a reader thread waits for the GIL at every read
            self.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(data),
                                    size=len(data) + 1)
        return len(lines)


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

    training_rows = []  # this year's training, one course a worker (training_records)

    def worker(grid, role, employment="full_time", hours=None):
        wid = next(worker_id)
        worker_rows.append((wid, names.name(), role, grid, names.phone(), names.resident_id(), employment,
                            rng.random() < 0.55, datetime.date(2015 + rng.randrange(11), 1 + rng.randrange(12), 1),
                            None))
        hours = hours if hours is not None else 40 + rng.randrange(60)
        if hours:
            training_rows.append((wid, datetime.date(datetime.date.today().year, 1 + rng.randrange(6), 1 + rng.randrange(28)),
                                  "网格员业务培训", hours, "区网格化服务中心"))
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
               "department_id"]
    for start in range(0, len(worker_rows), BATCH):
        copier.copy("workers", columns, worker_rows[start:start + BATCH])
    counts["workers"] = len(worker_rows)
    worker_rows.clear()
    for start in range(0, len(training_rows), BATCH):
        copier.copy("training_records", ["worker_id", "date", "course", "hours", "organiser"],
                    training_rows[start:start + BATCH])
    counts["training_records"] = len(training_rows)
    training_rows.clear()
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
    echo(f"  whistles: {counts['whistles']}")

    # --- 一户一档: visitor logins, houses, households, residents, their moves and visits ----------
    counts.update(load_residents(session, copier, shape, seed=seed, now=now, echo=echo))
    counts.update(load_patrols(session, shape, seed=seed, echo=echo))
    for table in ("grids", "workers", "volunteers", "service_records", "incidents", "whistles", "houses",
                  "households", "residents", "visits", "ab_user"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    audit.record_bulk_load(session, counts)
    session.commit()
    session.execute(text("ANALYZE"))
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


# --- 一户一档 ------------------------------------------------------------------------------------
# where people who moved here from elsewhere in Henan were born (their ID numbers' first six digits)
ELSEWHERE = {"41": ("410602", "410603", "410621", "410622", "410502", "410526", "410702", "410811", "411002",
                    "410102", "410303", "411302", "411502", "411602"),
             "37": ("370102", "370302", "370402", "370502", "370602", "370702", "370811", "370902", "371002",
                    "371102", "371302", "371402", "371502", "371602", "371702")}
ETHNIC_MINORITIES = ("03", "03", "03", "11", "02", "06", "08", "10", "05", "04", "07", "09")  # 回族 first: Henan's
WORKPLACES = ("鹤壁市人民医院", "淇滨区第一中学", "鹤煤集团", "富士康鹤壁园区", "天海集团", "个体经营", "淇滨区人民政府",
              "鹤壁职业技术学院", "京东物流鹤壁站", "中国邮政鹤壁分公司", "鹤壁市第一中学", "建设银行鹤壁分行",
              "超市营业员", "快递员", "外卖骑手", "出租车司机")
# the tags, their shares of the people they may apply to, and who that is (an age range)
TAG_RULES = (
    ("disabled", 0.015, 0, 96),
    ("low_income", 0.01, 0, 96),
    ("special_care", 0.011, 40, 96),            # about 0.5% of everyone
    ("community_correction", 0.0008, 18, 60),   # about 0.05%
    ("released_prisoner", 0.0015, 18, 70),      # about 0.1%
    ("severe_mental_disorder", 0.0026, 16, 96), # about 0.2%
    ("drug_user", 0.0008, 18, 60),              # about 0.05%
)
FOUND = {
    "elderly_alone": ("身体状况良好，生活能自理", "血压偏高，已提醒按时服药", "检查燃气和用电安全，无隐患", "老人反映腿脚不便，需要助餐服务",
                      "子女每周来看望，情况稳定"),
    "disabled": ("辅具使用正常，情况稳定", "了解康复需求，已登记", "残疾人补贴按时发放", "家属照料到位"),
    "low_income": ("低保金按时领取，生活稳定", "家中有学生，了解助学需求", "反映看病开支大，已告知医疗救助政策"),
    "left_behind_child": ("学习情况良好，祖父母照看", "与在外务工父母视频联系正常", "了解心理状况，情绪稳定"),
    "special_care": ("优抚金按时发放，身体尚可", "走访慰问，送去慰问品", "了解住房困难，已上报"),
    "community_correction": ("按时报到，表现正常", "思想稳定，正在找工作", "家属配合监管"),
    "released_prisoner": ("就业情况稳定，无异常", "帮助联系就业培训", "家庭关系和睦"),
    "severe_mental_disorder": ("按时服药，病情稳定", "监护人看护到位", "已联系精防医生随访"),
    "drug_user": ("尿检正常，无复吸迹象", "参加社区康复，表现良好"),
}
FOLLOW_UP = ("联系社区医生上门随访", "协助申请临时救助", "下次走访带米面油", "转交民政专干办理", "提醒子女多回家看望",
             "协调物业维修", "帮助办理残疾人证年审")
HOUSEHOLD_FOUND = ("入户走访，了解家庭基本情况，信息已核对", "宣传防诈骗知识，发放宣传单", "核对家庭成员信息，无变化",
                   "了解居民诉求，反映楼道照明问题", "开展消防安全检查，提醒不在楼道停放电动车")
METHODS = (("home", 60), ("phone", 30), ("encounter", 6), ("video", 3), ("other", 1))
HOUSE_COLUMNS = ["id", "grid_id", "unit", "room", "use", "area_m2", "ownership"]
HOUSEHOLD_COLUMNS = ["id", "number", "house_id", "grid_id", "kind", "head_id"]
RESIDENT_COLUMNS = ["id", "name", "name_initials", "id_number", "phone", "ethnicity", "residence_status", "moved_in",
                    "moved_out", "workplace", "party_member", "tags", "grid_id", "household_id", "relation",
                    "last_visited_at", "next_visit_due", "care_visit_due"]
MOVE_COLUMNS = ["resident_id", "household_id", "relation", "joined_on", "left_on"]
VISIT_COLUMNS = ["id", "resident_id", "household_id", "grid_id", "visitor_id", "visited_at", "method", "found",
                 "follow_up"]
LOADED_TABLES = ("houses", "households", "residents", "household_moves", "visits")
# The residents' triggers this loader stands in for, in its own transaction (see ``load_residents``).
STOOD_IN_FOR = (("residents", "residents_visit_due"), ("residents", "residents_household_move"),
                ("visits", "visits_touch"), ("residents", "residents_count"), ("households", "households_count"))
BEIJING = datetime.timedelta(hours=8)  # Asia/Shanghai has kept UTC+8 all year since 1991


def _line(cells) -> str:
    return "\t".join(cells) + "\n"


def _text(value) -> str:
    return r"\N" if value is None else str(value)


class _IdNumbers:
    """Unique 18-character ID numbers (GB 11643) without remembering them: the k-th person of a
    gender born on a day in the district's own region gets the k-th of that day's 500 sequence
    numbers of the gender, in an order that looks random; people born elsewhere take the k-th of the
    50 that belong to the district (one of ten) in their home region. Past those, the next day. The
    counts start again with each district (its own region is its own): memory stays small."""

    def __init__(self):
        self.taken: dict[tuple[str, int, bool], int] = defaultdict(int)
        self.district = 0

    def next_district(self, index: int) -> None:
        self.taken.clear()
        self.district = index % 10

    def make(self, region: str, born: datetime.date, male: bool, own: bool) -> tuple[str, datetime.date]:
        room = 500 if own else 50
        while True:
            key = (region, born.toordinal(), male)
            k = self.taken[key]
            if k < room:
                break
            born -= datetime.timedelta(days=1)
        self.taken[key] = k + 1
        if own:
            slot = (k * 211 + born.toordinal() * 7) % 500  # 211 is prime to 500: no repeats
        else:
            slot = self.district * 50 + (k * 7 + born.toordinal()) % 50
        first17 = f"{region}{born:%Y%m%d}{slot * 2 + (1 if male else 0):03d}"
        return first17 + resident_id_check_char(first17), born


# 巡查日志, made by PostgreSQL from each worker and day (no row crosses the wire): how many patrols a
# day (1 % none, 1 % one, 88 % two, 10 % three), each an out-and-back walk of 13 points five minutes
# apart from near the worker's grid, its distance the track's (12 stretches along a meridian), one in
# 75 too short (40 minutes, or 720 m): about a worker in four falls short some day of a week; a
# clock-in on 97 % of days. Deterministic: every choice is a hash of the seed, the worker and the day.
PATROLS = """
    WITH day_of AS (
        SELECT w.id AS worker_id, w.grid_id, d.n, CAST(:today AS date) - d.n AS day,
               abs(hashtext(:seed || '.' || w.id || '.' || d.n)) AS h
        FROM workers w CROSS JOIN generate_series(1, :days) AS d (n)),
    walk AS (
        SELECT day_of.*, k.n AS k, abs(hashtext(:seed || '.' || worker_id || '.' || day_of.n || '.' || k.n)) AS h2
        FROM day_of CROSS JOIN LATERAL generate_series(1, CASE WHEN h % 100 < 1 THEN 0 WHEN h % 100 < 2 THEN 1
                                                               WHEN h % 100 < 90 THEN 2 ELSE 3 END) AS k (n)),
    shaped AS (
        SELECT worker_id, grid_id, (day + make_interval(hours => (ARRAY[8, 14, 19])[k], mins => h2 % 90))
                   AT TIME ZONE 'Asia/Shanghai' AS started,
               CASE WHEN h2 % 150 = 0 THEN 40 ELSE 60 + h2 % 60 END * 60 AS duration,
               CASE WHEN h2 % 150 = 1 THEN 60 ELSE 84 + (h2 / 7) % 90 END AS step,
               35.70 + (grid_id % 97) * 0.001 AS lat, 114.20 + (grid_id % 89) * 0.001 AS lon
        FROM walk)
    INSERT INTO patrols (worker_id, grid_id, started_at, ended_at, latitudes, longitudes, seconds, distance_m,
                         duration_s)
    SELECT worker_id, grid_id, started, started + make_interval(secs => duration),
           ARRAY(SELECT lat + step / 111194.93 * (6 - abs(6 - i)) FROM generate_series(0, 12) AS i ORDER BY i),
           array_fill(lon, ARRAY[13]),
           ARRAY(SELECT i * duration / 12 FROM generate_series(0, 12) AS i ORDER BY i),
           12 * step, duration
    FROM shaped
"""
CLOCK_INS = """
    INSERT INTO clock_ins (worker_id, grid_id, clocked_at, latitude, longitude, accuracy_m)
    SELECT w.id, w.grid_id, ((CAST(:today AS date) - d.n) + make_interval(hours => 7, mins => 30 + h % 60))
               AT TIME ZONE 'Asia/Shanghai',
           35.70 + (w.grid_id % 97) * 0.001, 114.20 + (w.grid_id % 89) * 0.001, 5 + h % 30
    FROM workers w CROSS JOIN generate_series(1, :days) AS d (n)
    CROSS JOIN LATERAL (SELECT abs(hashtext(:seed || '.clock.' || w.id || '.' || d.n)) AS h) AS hashed
    WHERE h % 100 >= 3
"""


def load_patrols(session: Session, shape: Shape, *, seed: int, echo=print) -> dict:
    """A year of every worker's patrols and clock-ins (``shape.patrol_days``), ending yesterday."""
    counts = {"patrols": 0, "clock_ins": 0}
    if not shape.patrol_days:
        return counts
    started = time.perf_counter()
    arguments = {"today": session.scalar(text("SELECT gridgov_local_today()")), "days": shape.patrol_days,
                 "seed": str(seed)}
    counts["patrols"] = session.execute(text(PATROLS), arguments).rowcount
    counts["clock_ins"] = session.execute(text(CLOCK_INS), arguments).rowcount
    echo(f"  patrols: {counts['patrols']:,}, clock-ins: {counts['clock_ins']:,}; "
         f"{time.perf_counter() - started:.1f} s")
    return counts


def load_residents(session: Session, copier: Copier, shape: Shape, *, seed: int, now: datetime.datetime,
                   echo=print) -> dict:
    """Houses, households and residents for every smallest grid (building micro-grids, or block
    grids where there are none), in proportion to each grid's typed population; visits to the
    tagged and some households; a visitor login for every block grid. In batches: memory stays
    flat at a city's ten million.

    Three per-row triggers are switched off in this transaction and their work done here, in bulk:
    ``residents_household_move`` (one open ``household_moves`` row per member, joined on the
    move-in date; people who moved out get the closed stretch it would have left),
    ``visits_touch`` (``last_visited_at``: the latest visit to the resident or their household)
    and ``residents_visit_due`` (``next_visit_due`` as ``gridgov_visit_due`` computes it). They
    are switched on again before the transaction commits; tests/test_seed_district.py checks every
    row against the functions."""
    rng = random.Random(seed + 2)  # apart from the rest: the older tables stay as they were
    started = time.perf_counter()
    today = session.scalar(text("SELECT gridgov_local_today()"))
    visit_days = dict(session.execute(text("SELECT code, visit_days FROM attention_tags")).all())
    level = "building" if shape.buildings else "block"
    grids = session.execute(text(
        "SELECT g.id, g.code, g.population, CASE WHEN g.level = 'block' THEN g.id ELSE g.parent_id END "
        "FROM grids g WHERE g.level = :level ORDER BY g.code"), {"level": level}).all()
    counts = dict.fromkeys(("houses", "households", "residents", "household_moves", "visits"), 0)
    counts["ab_user"] = counts["ab_user_role"] = 0
    if not grids or shape.residents <= 0:
        return counts
    visitors = _visitor_logins(session, copier, rng, counts, today)
    for table, trigger in STOOD_IN_FOR:
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    # the indexes no constraint rests on are built once at the end, from their own definitions:
    # one sort instead of half a million random inserts into each (the constraints' indexes stay)
    indexes = session.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"),
        {"tables": list(LOADED_TABLES)}).all()
    for name, _ in indexes:
        session.execute(text(f"DROP INDEX {name}"))

    ids = _IdNumbers()
    initials: dict[str, str] = {}
    next_id = {"house": 1, "household": 1, "resident": 1, "visit": 1}
    total_weight = sum(max(1, g[2]) for g in grids)
    sizes = list(range(1, len(shape.household_sizes) + 1))
    cum_sizes = list(itertools.accumulate(shape.household_sizes))
    cum_methods = list(itertools.accumulate(w for _, w in METHODS))
    methods = [m for m, _ in METHODS]
    now_day = now.astimezone(datetime.timezone(BEIJING)).date()
    buffers = _Buffers(copier, counts)
    placed = weight = districts = 0
    region = ""
    last_echo = started

    for gid, code, population, block in grids:
        weight += max(1, population)
        target = round(shape.residents * weight / total_weight) - placed
        placed += target
        if code[:6] != region:
            region = code[:6]
            ids.next_district(districts)
            districts += 1
        visitor = visitors[block]
        houses = _Layout(rng, code, shape.buildings == 0)
        number = 0
        while target > 0:
            size = min(target, rng.choices(sizes, cum_weights=cum_sizes)[0])
            target -= size
            # a house: mostly owned, some rented (their people mostly floating), a few public
            hid = next_id["house"]
            next_id["house"] += 1
            ownership = rng.choices(("owned", "rented", "public"), cum_weights=(70, 95, 100))[0]
            use = "mixed" if rng.random() < 0.02 else "residential"
            unit, room = houses.next()
            buffers.houses.append(_line((str(hid), str(gid), _text(unit), room, use, f"{40 + rng.random() * 120:.2f}",
                                         ownership)))
            number += 1
            hhid = next_id["household"]
            next_id["household"] += 1
            roll = rng.random()
            if size >= 4 and roll < 0.03:
                kind = "collective"
            elif ownership == "rented" and roll < 0.7:
                kind = "floating"
            elif roll < 0.04:
                kind = "separated"
            else:
                kind = "registered"
            members = _members(rng, size, kind)
            head_id = next_id["resident"]
            buffers.households.append(_line((str(hhid), f"{code}-{number:04d}", str(hid), str(gid), kind, str(head_id))))
            if ownership == "owned":
                buffers.owners.append((hid, head_id))
            # when the household came here; children born since came with their birth
            years_here = rng.randrange(1, 6) if kind == "floating" else rng.randrange(0, 31)
            arrived = now_day - datetime.timedelta(days=years_here * 365 + rng.randrange(365))
            household_visits = []
            if rng.random() < shape.household_visits:
                at = _visit_time(rng, now_day - datetime.timedelta(days=1 + rng.randrange(364)))
                if at.date() >= arrived:
                    household_visits.append(at)
                    buffers.visits.append(_line((str(next_id["visit"]), r"\N", str(hhid), str(gid), str(visitor),
                                                 at.isoformat(), "home", rng.choice(HOUSEHOLD_FOUND), r"\N")))
                    next_id["visit"] += 1
            for relation, age, male in members:
                rid = next_id["resident"]
                next_id["resident"] += 1
                row = _person(rng, ids, initials, region, kind, relation, age, male, arrived, now_day)
                moved_in, status = row["moved_in"], row["status"]
                tags = _tags(rng, age, relation, size, kind)
                last = max(household_visits) if household_visits else None
                if tags:
                    last = _visits(rng, shape, buffers, next_id, rid, gid, visitor, tags, moved_in, now_day,
                                   cum_methods, methods, last)
                due = _visit_due(tags, visit_days, last, None, today)
                care_due = _visit_due([t for t in tags if t not in SENSITIVE_TAGS], visit_days, last, None, today)
                buffers.residents.append(_line((
                    str(rid), row["name"], row["initials"], _text(row["id_number"]), _text(row["phone"]),
                    row["ethnicity"], status, str(moved_in), r"\N", _text(row["workplace"]),
                    "t" if row["party"] else "f", "{" + ",".join(tags) + "}", str(gid), str(hhid), relation,
                    _text(last and last.isoformat()), _text(due), _text(care_due))))
                buffers.moves.append(_line((str(rid), str(hhid), relation, str(moved_in), r"\N")))
            # a grown child (or a tenant) who moved away: still on the grid's books, with the
            # stretch the household's history keeps
            if kind != "collective" and rng.random() < 0.06:
                rid = next_id["resident"]
                next_id["resident"] += 1
                male = rng.random() < 0.5
                relation = "tenant" if kind == "floating" else "child"
                row = _person(rng, ids, initials, region, kind, relation, 20 + rng.randrange(16), male, arrived, now_day)
                left = now_day - datetime.timedelta(days=rng.randrange(1, 3 * 365))
                moved_in = min(row["moved_in"], left)
                buffers.residents.append(_line((
                    str(rid), row["name"], row["initials"], _text(row["id_number"]), _text(row["phone"]),
                    row["ethnicity"], row["status"], str(moved_in), str(left), _text(row["workplace"]),
                    "t" if row["party"] else "f", "{}", str(gid), r"\N", r"\N", r"\N", r"\N", r"\N")))
                buffers.moves.append(_line((str(rid), str(hhid), relation, str(moved_in), str(left))))
            # now and then a shop on the ground floor or a vacant flat: a house without a household
            if rng.random() < 0.08:
                hid = next_id["house"]
                next_id["house"] += 1
                if rng.random() < 0.5:
                    unit, room, use = None, f"商铺{number}", "commercial"
                else:
                    (unit, room), use = houses.next(), "residential"
                buffers.houses.append(_line((str(hid), str(gid), _text(unit), room, use,
                                             f"{40 + rng.random() * 120:.2f}",
                                             rng.choices(("owned", "rented", "other"), cum_weights=(50, 95, 100))[0])))
            if len(buffers.residents) >= BATCH:
                buffers.flush()
        if time.perf_counter() - last_echo > 10:
            last_echo = time.perf_counter()
            _progress(echo, counts, started, shape.residents)
    buffers.finish()
    _progress(echo, counts, started, shape.residents, done=True)
    built = time.perf_counter()
    # the heads' check, deferred to the commit, runs now: neither an index nor a trigger is changed
    # over pending checks
    session.execute(text("SET CONSTRAINTS households_head_is_member_fkey IMMEDIATE"))
    for table, trigger in STOOD_IN_FOR:
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    # each grid's households and residents, counted once from the rows (the counting triggers were off)
    session.execute(text("SELECT gridgov_recount_records()"))
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _, definition in indexes:
        session.execute(text(definition))
    echo(f"  heads checked, residents' indexes: {len(indexes)} built in {time.perf_counter() - built:.1f} s")
    echo("  of which COPY and UPDATE: " + ", ".join(f"{t} {s:.1f} s" for t, s in buffers.seconds.items()))
    return counts


class _Buffers:
    """One batch's rows, written as COPY lines, in the order the keys need. A batch is copied by a
    thread of its own while the next is generated (the database and Python each keep a core busy);
    one batch waits at most, so memory stays flat."""

    def __init__(self, copier: Copier, counts: dict):
        self.copier, self.counts = copier, counts
        self.seconds: dict[str, float] = defaultdict(float)  # in the database, per table
        self.error: BaseException | None = None
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.thread = threading.Thread(target=self._write, name="residents-copy", daemon=True)
        self.thread.start()
        self._fresh()

    def _fresh(self):
        self.houses, self.households, self.residents, self.moves, self.visits = [], [], [], [], []
        self.owners: list[tuple[int, int]] = []

    def flush(self) -> None:
        """Hand the batch to the writer (waiting while it still copies the one before)."""
        batch = (self.houses, self.households, self.residents, self.moves, self.visits, self.owners)
        self._fresh()
        while True:
            self._raise()
            try:
                self.queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Copy the last batch and wait for the writer."""
        self.flush()
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _raise(self):
        if self.error is not None:
            raise self.error
        if not self.thread.is_alive():
            raise RuntimeError("the residents' writer stopped")

    def _write(self):
        try:
            while True:
                batch = self.queue.get()
                if batch is None:
                    return
                houses, households, residents, moves, visits, owners = batch
                for table, columns, lines in (("houses", HOUSE_COLUMNS, houses),
                                              ("households", HOUSEHOLD_COLUMNS, households),
                                              ("residents", RESIDENT_COLUMNS, residents),
                                              ("household_moves", MOVE_COLUMNS, moves),
                                              ("visits", VISIT_COLUMNS, visits)):
                    started = time.perf_counter()
                    self.counts[table] += self.copier.copy_lines(table, columns, lines)
                    self.seconds[table] += time.perf_counter() - started
                started = time.perf_counter()
                if owners:  # the head owns the house they live in (the residents' COPY had to come first)
                    self.copier.cursor.execute(
                        "UPDATE houses SET owner_id = o.owner FROM (SELECT unnest(%s::int[]) AS house, "
                        "unnest(%s::int[]) AS owner) o WHERE houses.id = o.house",
                        ([h for h, _ in owners], [o for _, o in owners]))
                self.seconds["owners"] += time.perf_counter() - started
        except BaseException as error:  # noqa: BLE001 - handed to the generating thread
            self.error = error


def _progress(echo, counts, started, total, done=False):
    seconds = time.perf_counter() - started
    residents = counts["residents"]
    echo(f"  residents{'' if done else ' so far'}: {residents:,} in {counts['households']:,} households and "
         f"{counts['houses']:,} houses, {counts['visits']:,} visits; {seconds:.1f} s, "
         f"{residents / max(seconds, 0.001):,.0f} residents/s" + ("" if done else f" (of ~{total:,} living here)"))


class _Layout:
    """The next free unit and room of a grid: a building's units of 6–26 floors with two flats a
    floor (2单元501); in a block grid without building grids, numbered buildings (3号楼2单元501)."""

    def __init__(self, rng, code, block):
        self.rng, self.block = rng, block
        self.building, self.index = 1, 0
        self.floors = rng.choice((6, 6, 6, 7, 11, 18, 26))

    def next(self) -> tuple[str, str]:
        per_unit = self.floors * 2
        unit, rest = divmod(self.index, per_unit)
        self.index += 1
        if self.block and unit >= 3:  # three units a building, then the next building
            self.building += 1
            self.index, unit, rest = 1, 0, 0
            self.floors = self.rng.choice((6, 6, 6, 7, 11, 18, 26))
        floor, flat = divmod(rest, 2)
        prefix = f"{self.building}号楼" if self.block else ""
        return f"{prefix}{unit + 1}单元", f"{floor + 1}{flat + 1:02d}"


def _members(rng, size, kind):
    """(relation to the head, age, male) of a household's people."""
    if kind == "collective":  # a dormitory: unrelated adults
        head = 25 + rng.randrange(30)
        return [("head", head, rng.random() < 0.6)] + [("other", 18 + rng.randrange(35), rng.random() < 0.6)
                                                         for _ in range(size - 1)]
    if size == 1:
        age = 65 + rng.randrange(30) if rng.random() < 0.55 else 20 + rng.randrange(45)
        return [("head", age, rng.random() < 0.5)]
    shape = rng.random()
    if size == 2:
        head = 22 + rng.randrange(70) if shape < 0.8 else 35 + rng.randrange(40)
    elif size >= 6 or (size == 5 and shape < 0.3):
        head = 52 + rng.randrange(16)
    else:
        head = 26 + rng.randrange(32)
    male = rng.random() < 0.8
    people = [("head", head, male)]
    if size == 2 and shape >= 0.8:  # a single parent with a child
        return people + [("child", max(0, head - 22 - rng.randrange(15)), rng.random() < 0.5)]
    people.append(("spouse", min(95, max(20, head + rng.randrange(-3, 6) * (1 if male else -1))), not male))
    if head >= 52 and size >= 5:  # three generations downwards: a grown child, their spouse, grandchildren
        child_age = head - 24 - rng.randrange(6)
        people.append(("child", child_age, True))
        people.append(("in_law", child_age - 1 + rng.randrange(3), False))
        for _ in range(size - 4):
            people.append(("grandchild", rng.randrange(max(1, min(14, child_age - 20))), rng.random() < 0.5))
        return people
    children = min(size - 2, 1 if size <= 4 and shape < 0.35 else 2)
    for _ in range(children):
        people.append(("child", max(0, head - 22 - rng.randrange(14)), rng.random() < 0.5))
    for _ in range(size - 2 - children):  # the head's parents
        people.append(("parent", min(95, head + 24 + rng.randrange(9)), len(people) % 2 == 0))
    return people


def _person(rng, ids, initials, region, kind, relation, age, male, arrived, today):
    """The personal columns of one resident."""
    born = today - datetime.timedelta(days=age * 365 + rng.randrange(1, 365))
    overseas = kind == "floating" and rng.random() < 0.005
    status = ("overseas" if overseas else "floating" if kind == "floating"
              else "resident" if kind == "separated" or rng.random() < 0.08 else "registered")
    if overseas and rng.random() < 0.6:
        id_number = None  # a passport, not an ID card
    else:
        own = status != "floating" and rng.random() < 0.9
        home = region if own else rng.choice(ELSEWHERE.get(region[:2], ELSEWHERE["41"]))
        id_number, born = ids.make(home, born, male, own)
    name = resident_name(rng, male, born.year)
    short = initials.get(name)
    if short is None:
        short = initials[name] = initials_of(name)
    adult = 18 <= age < 80
    phone = None
    if (adult and rng.random() < 0.92) or (age >= 80 and rng.random() < 0.4) or (12 <= age < 18 and rng.random() < 0.3):
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return {
        "name": name, "initials": short, "id_number": id_number, "phone": phone,
        "ethnicity": "01" if rng.random() < 0.98 else rng.choice(ETHNIC_MINORITIES),
        "status": status, "moved_in": max(arrived, born),
        "workplace": rng.choice(WORKPLACES) if 22 <= age < 60 and rng.random() < 0.45 else None,
        "party": age >= 18 and rng.random() < 0.08,
    }


def _tags(rng, age, relation, size, kind):
    tags = []
    if size == 1 and age >= 65 and rng.random() < 0.9:
        tags.append("elderly_alone")
    if age < 16 and relation in ("child", "grandchild") and rng.random() < 0.018:
        tags.append("left_behind_child")
    for tag, share, low, high in TAG_RULES:
        if low <= age < high and rng.random() < share:
            tags.append(tag)
    return tags


def _visit_time(rng, day: datetime.date) -> datetime.datetime:
    """A moment of a working day in Beijing (09:00–17:00), in UTC."""
    local = datetime.datetime.combine(day, datetime.time(9), datetime.timezone.utc) + datetime.timedelta(
        minutes=rng.randrange(480))
    return local - BEIJING


def _visits(rng, shape, buffers, next_id, rid, gid, visitor, tags, moved_in, today, cum_methods, methods, last):
    """About one visit a month over the past months (some missed: those people are overdue), never
    before the person moved in. Returns the latest visit (or ``last``, a visit to the household)."""
    found = FOUND[tags[0]]
    for month in range(shape.visit_months):
        if rng.random() >= shape.visit_kept:
            continue
        day = today - datetime.timedelta(days=month * 30 + rng.randrange(28) + 1)
        if day < moved_in:
            break
        at = _visit_time(rng, day)
        if last is None or at > last:
            last = at
        follow = rng.choice(FOLLOW_UP) if rng.random() < 0.1 else None
        buffers.visits.append(_line((str(next_id["visit"]), str(rid), r"\N", str(gid), str(visitor), at.isoformat(),
                                     rng.choices(methods, cum_weights=cum_methods)[0], rng.choice(found),
                                     _text(follow))))
        next_id["visit"] += 1
    return last


def _visit_due(tags, visit_days, last, moved_out, today):
    """``gridgov_visit_due(tags, last_visited, moved_out, NULL)`` (migration 0025) in Python."""
    intervals = [visit_days[t] for t in tags if visit_days.get(t) is not None]
    if moved_out is not None or not intervals:
        return None
    if last is None:
        return today
    return (last + BEIJING).date() + datetime.timedelta(days=min(intervals))


def _visitor_logins(session, copier, rng, counts, today) -> dict[int, int]:
    """A grid worker's login for every block grid (their visits are signed by it), with the Grid
    worker role when the roles exist. No password: an administrator sets one to hand it over."""
    blocks = session.execute(text("SELECT id, code FROM grids WHERE level = 'block' ORDER BY id")).all()
    first = (session.scalar(text("SELECT max(id) FROM ab_user")) or 0) + 1
    created = datetime.datetime.combine(today, datetime.time(0))
    rows, logins = [], {}
    for n, (gid, code) in enumerate(blocks):
        uid = first + n
        logins[gid] = uid
        name = resident_name(rng, rng.random() < 0.5, 1975 + rng.randrange(25))
        username = f"gw{code}"
        rows.append((uid, name[1:], name[0], username, "!", True, f"{username}@grid.gridgov.local", 0, 0,
                     created, created, gid))
    counts["ab_user"] = copier.copy("ab_user", ["id", "first_name", "last_name", "username", "password", "active",
                                                "email", "login_count", "fail_login_count", "created_on",
                                                "changed_on", "grid_id"], rows)
    role = session.scalar(text("SELECT id FROM ab_role WHERE name = 'Grid worker'"))
    if role:
        counts["ab_user_role"] = copier.copy("ab_user_role", ["user_id", "role_id"],
                                             ((uid, role) for uid in logins.values()))
    return logins


