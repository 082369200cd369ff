"""Benchmark of the list pages at real size (a script that prints figures, not a test).

Loads a generated data set (``gridgov seed district`` or ``city``) into an embedded PostgreSQL
kept under ``instance/bench-<dataset>/`` (loaded once, reused by later runs), starts the app
under gunicorn as ``gridgov run`` does (``app/server.py``), logs N concurrent clients in as the
demo roles, and measures p50/p95 latency of its scenarios on gridgov's pages and on two stock
Flask-AppBuilder baselines over the same tables, showing the same rows with the same search
fields: ``views``, the plain ModelViews of ``bench/baseline.py`` registered inside gridgov's app
(on its security manager, menu bar and templates), and ``app``, the same views in a stock FAB
application of their own (``bench/stock_app.py``, served by a second gunicorn). The sides take
turns (``ROUNDS`` each per scenario), so that the machine's drift falls on all of them. Then requests
each gridgov page once more in-process, counts the SQL statements it runs and prints EXPLAIN
(ANALYZE) of the slowest ones.

    .venv/bin/python bench/lists.py --dataset district [--clients 4] [--requests 40] [--workers 2]
    .venv/bin/python bench/lists.py --dataset city --scale 1.0 [--baselines views,app]

The street officer (``street``, scoped to the first street) runs the incident scenarios; the
community secretary (``secretary``) the grid list and the residents' (一户一档). Both sides see the same rows.
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402

from app import server  # noqa: E402
from app.database import ensure_database, start_embedded_server  # noqa: E402

ADMIN_PASSWORD = "Bench@Grid2026"
DEMO_PASSWORD = "Demo@Grid2026"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
BIN = os.path.dirname(sys.executable)
WARM_UP = 3  # requests per client and page before measuring (a fresh worker's first page is ~80 ms)
BASELINES = {"views": "stock views", "app": "stock FAB app"}
ROUNDS = 2  # turns gridgov and the baselines take in each scenario
# A stock page slower than this (its warm-up median) is measured with a quarter of the requests:
# its deep list pages take seconds each. A quicker one gets as many requests as gridgov's.
SLOW_STOCK_MS = 250


def share(requests: int, turn: int) -> int:
    """The requests per client of one of the ``ROUNDS`` turns (together: ``requests``)."""
    return requests // ROUNDS + (1 if turn < requests % ROUNDS else 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(dataset: str, scale: float, url: str, env: dict) -> None:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('grids') IS NOT NULL")
        exists = cur.fetchone()[0]
        loaded = False
        if exists:
            cur.execute("SELECT count(*) FROM incidents")
            loaded = cur.fetchone()[0] > 0
    conn.close()
    if loaded:
        print(f"reusing the loaded {dataset} data set")
    else:
        started = time.perf_counter()
        subprocess.run([os.path.join(BIN, "gridgov"), "seed", dataset, "--scale", str(scale)], env=env, check=True)
        print(f"loaded the {dataset} data set in {time.perf_counter() - started:.1f} s")
    # migrations may have moved on since the data was loaded
    subprocess.run([os.path.join(BIN, "gridgov"), "setup", "--no-demo"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


class Client:
    """One signed-in user's browser, speaking HTTP/1.1 on a plain socket. Its own CPU time comes
    off the two cores the server runs on, which no browser's does: 0.22-0.25 ms a request this
    way, 0.43 on the standard library's ``http.client`` (its header parser and ``SimpleCookie``),
    ~1.2 on ``requests``; on an incident's page (~4.5 ms of server CPU) that is not noise."""

    def __init__(self, port: int, username: str, password: str):
        self.port = port
        self.cookies: dict[str, str] = {}
        status, page = self.get("/login/")
        match = CSRF_RE.search(page.decode())
        token = match.group(1) or match.group(2)
        status, _ = self.request("POST", "/login/", urlencode(
            {"username": username, "password": password, "csrf_token": token}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"login as {username} failed: {status}")

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        lines = [f"{method} {quote(path, safe='/?&=%_.-~:')} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 "Connection: close", *(f"{name}: {value}" for name, value in (headers or {}).items())]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        data = (body or "").encode()
        if body is not None:
            lines.append(f"Content-Length: {len(data)}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=300) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
            chunks = []
            while chunk := sock.recv(262144):  # the server closes the connection after its answer
                chunks.append(chunk)
        head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        chunked = False
        for field in fields:
            name, _, value = field.partition(":")
            name = name.strip().lower()
            if name == "set-cookie":
                cookie_name, _, cookie_value = value.strip().split(";", 1)[0].partition("=")
                self.cookies[cookie_name] = cookie_value
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        return int(status_line.split(" ", 2)[1]), dechunk(payload) if chunked else payload

    def get(self, path: str):
        return self.request("GET", path)

    def time(self, path: str) -> float:
        started = time.perf_counter()
        status, _ = self.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        return elapsed


def dechunk(payload: bytes) -> bytes:
    """A body sent in chunks (``Transfer-Encoding: chunked``), put together."""
    out, rest = [], payload
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the benchmark's client threads (this process), PostgreSQL's
    processes and the app's (every other Python process), and the time the VM's host took from
    its CPUs (steal: a neighbour's load), from /proc (Linux; zeros elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used = {"client": 0.0, "app": 0.0, "postgres": 0.0, "stolen": 0.0}
    try:
        with open("/proc/stat") as fh:
            used["stolen"] = int(fh.readline().split()[8]) / tick
    except (OSError, IndexError, ValueError):
        pass
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                data = fh.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(data.split()[0]) == os.getpid():
            used["client"] += seconds
        elif name.startswith("postgres"):
            used["postgres"] += seconds
        elif name.startswith(("python", "gunicorn")):
            used["app"] += seconds
    return used


def scenarios(url: str) -> list[tuple[str, str, str, str]]:
    """(name, user, gridgov path, stock path) — the ids are read from the loaded data."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM incident_categories WHERE name = '安全隐患'")
        category = cur.fetchone()[0]
        cur.execute("""SELECT u.grid_id FROM ab_user u WHERE u.username = 'street'""")
        street = cur.fetchone()[0]
        cur.execute("""SELECT i.id FROM incidents i JOIN grids g ON g.id = i.grid_id
                       JOIN grids s ON s.id = %s AND g.path <@ s.path
                       JOIN incident_events e ON e.incident_id = i.id
                       GROUP BY i.id ORDER BY count(*) DESC, i.id LIMIT 1""", (street,))
        incident = cur.fetchone()[0]
        # a resident of the secretary's community: their name and their phone's last four digits
        cur.execute("""SELECT r.name, right(r.phone, 4) FROM residents r JOIN grids g ON g.id = r.grid_id
                       JOIN ab_user u ON u.username = 'secretary' JOIN grids c ON c.id = u.grid_id
                       WHERE g.path <@ c.path AND r.phone IS NOT NULL ORDER BY r.id LIMIT 1""")
        name, four = cur.fetchone() or ("张", "0000")
    conn.close()
    return [
        ("1 incidents, page 1", "street", "/incidentmodelview/list/", "/stockincidentview/list/"),
        ("2 incidents, page 200", "street", "/incidentmodelview/list/?page_IncidentModelView=199",
         "/stockincidentview/list/?page_StockIncidentView=199"),
        ("3 status + category", "street", f"/incidentmodelview/list/?_flt_0_status=closed&_flt_0_category={category}",
         f"/stockincidentview/list/?_flt_3_status=closed&_flt_0_category={category}"),
        ("4a keyword 漏水", "street", "/incidentmodelview/list/?_flt_0_title=漏水",
         "/stockincidentview/list/?_flt_2_title=漏水"),
        ("4b keyword 占道经营", "street", "/incidentmodelview/list/?_flt_0_title=占道经营",
         "/stockincidentview/list/?_flt_2_title=占道经营"),
        ("5 grids of a community", "secretary", "/gridmodelview/list/", "/stockgridview/list/"),
        ("6 incident + timeline", "street", f"/incidentmodelview/show/{incident}", f"/stockincidentview/show/{incident}"),
        ("7 figures of a street", "street", "/incidentmodelview/figures/?by=community", "/stockincidentchartview/chart/"),
        ("8 whistles", "street", "/whistlemodelview/list/", "/stockwhistleview/list/"),
        # 一户一档: a community's residents, a name searched, the last four digits of a phone
        ("9a residents of a community", "secretary", "/residentmodelview/list/", "/stockresidentview/list/"),
        ("9b resident by name", "secretary", f"/residentmodelview/list/?_flt_0_name={quote(name)}",
         f"/stockresidentview/list/?_flt_0_name={quote(name)}"),
        ("9c resident by last 4 digits", "secretary", f"/residentmodelview/list/?_flt_0_name={four}",
         f"/stockresidentview/list/?_flt_1_phone={four}"),
    ]


def warm(sessions: list[Client], path: str) -> float:
    """``WARM_UP`` requests from each client, one client after the other: each worker's caches
    and pools warm, so the steady state is measured. Returns their median latency."""
    latencies = sorted(client.time(path) for _ in range(WARM_UP) for client in sessions)
    return latencies[len(latencies) // 2]


def measure(sessions: list[Client], path: str, requests_per_client: int) -> tuple[list[float], dict]:
    """The latencies of ``requests_per_client`` requests from each client at once, and what the
    run used: requests, seconds and CPU seconds (client, app, PostgreSQL)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def run(client):
        mine = [client.time(path) for _ in range(requests_per_client)]
        with lock:
            latencies.extend(mine)

    cpu_before, started = cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(run, sessions))
    elapsed, cpu_after = time.perf_counter() - started, cpu_seconds()
    return latencies, {"n": len(latencies), "seconds": elapsed,
                       **{kind: cpu_after[kind] - cpu_before[kind] for kind in cpu_after}}


def per_request(used: list[dict]) -> dict:
    """Requests a second and CPU milliseconds a request over several ``measure`` runs."""
    n, seconds = sum(run["n"] for run in used), sum(run["seconds"] for run in used)
    return {"rps": n / seconds, "stolen": sum(run["stolen"] for run in used) / (seconds * (os.cpu_count() or 1)),
            **{kind: sum(run[kind] for run in used) / n * 1000 for kind in ("client", "app", "postgres")}}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def record_statements(app) -> list[tuple[float, str]]:
    """A list that from now on receives (milliseconds, statement with its parameters) for every
    SQL statement the app runs."""
    from sqlalchemy import event

    from app.extensions import db

    ran: list[tuple[float, str]] = []
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def started(conn, cursor, statement, parameters, context, executemany):
            context.bench_started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def finished(conn, cursor, statement, parameters, context, executemany):
            ran.append(((time.perf_counter() - context.bench_started) * 1000,
                        cursor.mogrify(statement, parameters).decode()))
    return ran


def explain(app, pages: list[tuple[str, str, str, str]], slowest: int = 2) -> None:
    """Requests each scenario's gridgov page once more in this process, records every SQL
    statement it runs with its parameters, and prints how many ran and the EXPLAIN (ANALYZE)
    of the slowest ones: the plans of the queries the pages really run."""
    from app.extensions import db

    app.config["WTF_CSRF_ENABLED"] = False  # the in-process client logs in without a form
    ran = record_statements(app)

    clients = {}
    for name, user, path, _ in pages:
        if user not in clients:
            clients[user] = app.test_client()
            clients[user].post("/login/", data={"username": user, "password": DEMO_PASSWORD})
        clients[user].get(path)  # warm
        ran.clear()
        clients[user].get(path)
        statements = list(ran)
        print(f"\n-- {name}: {len(statements)} queries, {sum(t for t, _ in statements):.1f} ms in SQL; "
              f"the {slowest} slowest:")
        explainable = [(ms, statement) for ms, statement in statements  # not SET LOCAL, COMMIT…
                       if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH", "INSERT", "UPDATE",
                                                                            "DELETE")]
        for _, statement in sorted(explainable, reverse=True)[:slowest]:
            with app.app_context(), db.engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement.replace("%", "%%")).all()
            print("   " + " ".join(statement.split())[:300])
            for (line,) in plan:
                if "Buffers:" not in line and "Index Searches:" not in line:
                    print("     " + line)


def start_server(factory: str, env: dict, args, log: str | None = None) -> tuple[subprocess.Popen, int]:
    """gunicorn serving ``factory`` (an expression over bench/'s modules) as ``gridgov run``
    serves gridgov: through ``app.server.serve``, made once and forked into the workers. Its
    output goes to ``log`` when given (stock FAB warns of every array column on every list)."""
    port = free_port()
    module = factory.split(".")[0]
    output = open(log, "w") if log else None  # noqa: SIM115 (the server's, closed with this process)
    process = subprocess.Popen(
        [sys.executable, "-c", f"import sys, {module}; from app.server import serve; "
         f"serve({factory}, '127.0.0.1', {port}, workers={args.workers}, "
         f"threads={args.threads}, worker_class={args.worker_class!r})"],
        env=dict(env, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "bench")])), cwd=ROOT,
        stdout=output, stderr=output)
    return process, port


def wait_until_listening(process: subprocess.Popen, port: int, log: str | None = None) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the app did not start" + (f": see {log}" if log else ""))
            time.sleep(0.2)


def open_dataset(dataset: str, scale: float = 1.0) -> tuple[str, dict]:
    """Starts the data set's embedded PostgreSQL (instance/bench-<dataset>), loads the data set
    when it is not there yet; returns its URL and the environment the app runs with."""
    suffix = dataset if scale == 1.0 else f"{dataset}-{scale:g}"
    instance = os.path.join(ROOT, "instance", f"bench-{suffix}")
    server = start_embedded_server(os.path.join(instance, "pgdata"))
    ensure_database(server.get_uri(), "gridgov")
    url = server.get_uri("gridgov")
    env = dict(os.environ, DATABASE_URL=url, GRIDGOV_ADMIN_PASSWORD=ADMIN_PASSWORD,
               GRIDGOV_DEMO_PASSWORD=DEMO_PASSWORD, GRIDGOV_INSTANCE_DIR=instance,
               GRIDGOV_LOGIN_RATE_LIMIT="100000 per minute",
               # no clock: its first pass would escalate the generated overdue incidents and
               # freeze a year of months while the pages are measured
               GRIDGOV_CLOCK_SECONDS="0")
    load(dataset, scale, url, env)
    return url, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="district")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=40, help="requests per client and scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default=server.WORKER_CLASS, help="gunicorn worker class (gridgov run's)")
    parser.add_argument("--threads", type=int, default=server.THREADS, help="threads per worker (gridgov run's)")
    parser.add_argument("--only", default="", help="run only the scenarios whose name starts with this")
    parser.add_argument("--baselines", default="views,app",
                        help="what gridgov is compared with: views (stock views in gridgov's app), app (stock FAB app)")
    args = parser.parse_args()

    url, env = open_dataset(args.dataset, args.scale)
    suffix = args.dataset if args.scale == 1.0 else f"{args.dataset}-{args.scale:g}"
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    os.environ.update(env)
    import baseline

    bench_app = baseline.create_app()
    baseline.grant(bench_app)
    baselines = [name for name in args.baselines.split(",") if name]
    if set(baselines) - set(BASELINES):
        raise SystemExit(f"--baselines: {', '.join(BASELINES)}")

    # gunicorn as `gridgov run` starts it (app/server.py: the app made once, then forked), with
    # the stock views of bench/baseline.py registered beside gridgov's; the stock application of
    # bench/stock_app.py in a gunicorn of its own, started the same way
    servers = {"gridgov": (*start_server("baseline.create_app()", env, args), None)}
    try:
        if "app" in baselines:
            log = os.path.join(env["GRIDGOV_INSTANCE_DIR"], "stock_app.log")
            print(f"the stock FAB app's output: {log}")
            servers["app"] = (*start_server("stock_app.create_app()", env, args, log), log)
        for server_process, port, log in servers.values():
            wait_until_listening(server_process, port, log)
        rows, loads, logged_in = [], [], {}
        for name, user, ours, stock in scenarios(url):
            if args.only and not name.startswith(args.only):
                continue
            for side in servers:
                if (side, user) not in logged_in:
                    logged_in[side, user] = [Client(servers[side][1], user, DEMO_PASSWORD) for _ in range(args.clients)]
            # gridgov and each baseline take turns (ROUNDS each), so that the machine's own
            # drift (±10-20% from one minute to the next on a shared VM) falls on both sides
            stock_sides = {b: "app" if b == "app" else "gridgov" for b in baselines}
            warm(logged_in["gridgov", user], ours)
            stock_requests = {b: args.requests if warm(logged_in[side, user], stock) <= SLOW_STOCK_MS
                              else max(ROUNDS, args.requests // 4) for b, side in stock_sides.items()}
            mine, used, theirs = [], [], {b: [] for b in baselines}
            for turn in range(ROUNDS):
                latencies, load = measure(logged_in["gridgov", user], ours, share(args.requests, turn))
                mine += latencies
                used.append(load)
                for b, side in stock_sides.items():
                    theirs[b] += measure(logged_in[side, user], stock, share(stock_requests[b], turn))[0]
            load = per_request(used)
            rows.append((name, mine, theirs))
            loads.append((name, load))
            print(f"  {name}: gridgov p95 {pct(mine, 95):.1f} ms" + "".join(
                f", {BASELINES[b]} p95 {pct(t, 95):.1f} ms" for b, t in theirs.items()), flush=True)
    finally:
        for server_process, _, _ in servers.values():
            server_process.send_signal(signal.SIGTERM)
        for server_process, _, _ in servers.values():
            server_process.wait(30)

    print()
    print(f"data set: {suffix}; {args.clients} clients x {args.requests} requests (a stock page slower than "
          f"{SLOW_STOCK_MS} ms: x {max(ROUNDS, args.requests // 4)}), in {ROUNDS} turns each side; "
          f"gunicorn {args.workers} {args.worker_class} workers x {args.threads} threads; {os.cpu_count()} CPUs; Python {platform.python_version()}")
    print()
    header = "| scenario | gridgov p50 ms | gridgov p95 ms |" + "".join(
        f" {BASELINES[b]} p50 ms | {BASELINES[b]} p95 ms | p50 ratio |" for b in baselines)
    print(header)
    print("|---" + "|---:" * (header.count("|") - 2) + "|")
    for name, mine, theirs in rows:
        p50 = pct(mine, 50)
        print(f"| {name} | {p50:.1f} | {pct(mine, 95):.1f} |" + "".join(
            f" {pct(theirs[b], 50):.1f} | {pct(theirs[b], 95):.1f} | {pct(theirs[b], 50) / p50:.1f}x |"
            for b in baselines))
    print()
    print("stock views: bench/baseline.py's ModelViews inside gridgov's app (gridgov's security manager,")
    print("menu bar and templates); stock FAB app: the same views in Flask-AppBuilder as it comes")
    print("(bench/stock_app.py: FAB's security manager, templates and translations)")
    print()
    print(f"gridgov's pages under this load: requests answered per second, and CPU time per request "
          f"(the {os.cpu_count()} CPUs give {os.cpu_count() * 1000:.0f} ms of it a second; the last column: the share of "
          f"their time the VM's host took for others, steal in /proc/stat)")
    print()
    print("| scenario | requests/s | app CPU ms | PostgreSQL CPU ms | client CPU ms | taken by the VM's host |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, load in loads:
        print(f"| {name} | {load['rps']:.1f} | {load['app']:.1f} | {load['postgres']:.1f} | {load['client']:.1f} "
              f"| {load['stolen']:.0%} |")
    explain(bench_app, [page for page in scenarios(url) if page[0].startswith(args.only)])


if __name__ == "__main__":
    main()
