"""Benchmark of 台账导入 (a script that prints figures, not a test).

Starts a throwaway embedded PostgreSQL, migrates it and loads the demo district (as the tests do),
writes an .xlsx of N new workers spread over the community secretary's grids, and times, as the
secretary: the preview, the apply (which checks every row again, then writes them in one
transaction), and the preview of the same file again (every row unchanged). The target is 10,000
rows in ≤ 10 s each.

    .venv/bin/python bench/imports.py [--rows 10000] [--format xlsx|csv]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import openpyxl  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.database import ensure_database, normalise_url, start_embedded_server  # noqa: E402
from app.services.personal_data import resident_id_check_char  # noqa: E402

HEADER = ["姓名", "手机号", "身份证号", "角色", "网格编码", "用工类型", "党员", "入职日期", "本年度培训学时"]
COMMUNITY = "410611001001"  # the demo secretary's 湘江社区


def rows(codes: list[str], count: int) -> list[list]:
    made = []
    for n in range(count):
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n % 15000)
        first17 = f"410611{birth:%Y%m%d}{n % 1000:03d}"
        made.append([f"测试{n:05d}", f"139{n:08d}", first17 + resident_id_check_char(first17), "网格员",
                     codes[n % len(codes)], "兼职" if n % 3 else "专职", "是" if n % 4 == 0 else "否",
                     datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 1500), n % 80])
    return made


def as_file(table: list[list], kind: str) -> bytes:
    if kind == "csv":
        text = io.StringIO()
        csv.writer(text).writerows(table)
        return text.getvalue().encode("gbk")
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--profile", action="store_true", help="print where the preview spends its time")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gridgov-bench-")
    server = start_embedded_server(os.path.join(root, "pgdata"), cleanup_mode="delete")
    try:
        ensure_database(server.get_uri(), "bench")
        from flask_babel import force_locale

        from app import create_app
        from app.cli import prepare_database
        from app.extensions import db
        from app.models import Grid, Worker
        from app.services import imports
        from app.services.scope import grid_scope

        app = create_app({"DATABASE_URL": normalise_url(server.get_uri("bench")), "INSTANCE_DIR": root,
                          "SECRET_KEY": "bench", "GRIDGOV_ADMIN_PASSWORD": "Bench@Grid2026"})
        prepare_database(app, load_demo=True, echo=lambda *a, **k: None)
        with app.test_request_context(), force_locale("zh"):
            session = db.session
            community = session.scalar(select(Grid).where(Grid.code == COMMUNITY))
            codes = list(session.scalars(select(Grid.code).where(Grid.path.descendant_of(community.path))))
            scope = grid_scope(session, community.id)
            data = as_file([HEADER, *rows(codes, args.rows)], args.format)
            session.rollback()
            print(f"{args.rows:,} worker rows, {args.format}, {len(data) / 1024:.0f} KB, "
                  f"over {len(codes)} grids of {COMMUNITY}")
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            preview = imports.preview(session, scope, "workers", data, f"w.{args.format}")
            previewed = time.perf_counter() - started
            if args.profile:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            session.rollback()
            assert preview.counts["new"] == args.rows, preview.counts
            started = time.perf_counter()
            done = imports.apply(session, scope, "workers", data, f"w.{args.format}", preview.digest)
            applied = time.perf_counter() - started
            assert done.applied
            total = session.scalar(select(func.count()).select_from(Worker).where(Worker.name.like("测试%")))
            assert total == args.rows, total
            session.expire_all()
            started = time.perf_counter()
            again = imports.preview(session, scope, "workers", data, f"w.{args.format}")
            repeated = time.perf_counter() - started
            session.rollback()
            assert again.counts["unchanged"] == args.rows, again.counts
        print(f"preview (all new)       {previewed:6.2f} s")
        print(f"apply (check + write)   {applied:6.2f} s")
        print(f"re-import preview       {repeated:6.2f} s (all unchanged)")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
