"""The ``gridgov`` command: run, set up, seed, sync roles, and Flask-Migrate's ``db``."""
from __future__ import annotations

import datetime
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from . import create_app

ADMIN_USERNAME = "admin"


def prepare_database(app, *, load_demo: bool = True, echo=click.echo) -> None:
    """Migrate, sync permissions and roles, create the first admin, load the demo data."""
    import flask_migrate

    from .database import MIGRATIONS_DIR
    from .extensions import appbuilder, db
    from .services.users import ADMIN, generate_password

    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR)
        sm = appbuilder.sm
        sm.sync_roles()
        if not any(user for user in sm.get_all_users() if any(r.name == ADMIN for r in user.roles)):
            password = app.config.get("GRIDGOV_ADMIN_PASSWORD")
            generated = not password
            password = password or generate_password()
            sm.add_user(ADMIN_USERNAME, "系统", "管理员", "admin@gridgov.local", sm.find_role(ADMIN), password=password)
            if generated:
                echo(f"Created the administrator '{ADMIN_USERNAME}' with the password: {password}")
                echo("It is shown only this once: write it down or change it after logging in.")
            else:
                echo(f"Created the administrator '{ADMIN_USERNAME}' with GRIDGOV_ADMIN_PASSWORD.")
        if load_demo:
            from seed.demo import is_empty

            if is_empty(db.session):
                load_demo_data(app, echo=echo)


def load_demo_data(app, echo=click.echo) -> None:
    from seed.demo import (create_demo_users, load_demo, load_incidents_demo, load_points_demo, load_residents_demo,
                           load_whistles_demo, load_wishes_demo)

    from .extensions import appbuilder, db
    from .services.unit_of_work import unit_of_work

    with app.app_context():
        with unit_of_work(db.session):
            made = load_demo(db.session)
        load_points_demo(db.session)
        load_incidents_demo(db.session)
        load_whistles_demo(db.session)
        password = app.config["GRIDGOV_DEMO_PASSWORD"]
        users = create_demo_users(appbuilder.sm, db.session, password, made)
        load_residents_demo(db.session)
        load_wishes_demo(db.session, os.path.join(app.config["INSTANCE_DIR"], "uploads", "wishes"))
        echo(f"Loaded the demo district: {len(made['grids'])} grids, {len(made['volunteers'])} volunteers.")
        if users:
            echo(f"Demo logins ({', '.join(users)}) use the demo password: {password}  (demo only)")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load the demo data into an empty database.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes (default: one per core, at least 2).")
def run_command(host, port, no_demo, workers):
    """Migrate, create the first admin, load demo data if empty, and serve."""
    from .server import serve

    # Not inside an application context: the server's processes would inherit it, and every
    # request would share its ``g`` (the signed-in user, the CSRF token) with the ones before.
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    prepare_database(app, load_demo=not no_demo)
    # SIGTERM (systemd, docker, CI) exits like Ctrl-C, so the embedded PostgreSQL stops cleanly
    # (gunicorn's main process handles both itself, then exits the same way).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"gridgov is serving on http://{host}:{port}/")
    serve(app, host, port, workers)


@click.command("setup")
@click.option("--no-demo", is_flag=True)
@with_appcontext
def setup_command(no_demo):
    """Migrate, sync roles, create the first admin (and demo data) without serving."""
    prepare_database(current_app._get_current_object(), load_demo=not no_demo)


@click.group("seed")
def seed_group():
    """Load generated data."""


@seed_group.command("demo")
@with_appcontext
def seed_demo():
    """Load the demo district (into an empty database)."""
    from seed.demo import is_empty

    from .extensions import db

    app = current_app._get_current_object()
    prepare_database(app, load_demo=False)
    if not is_empty(db.session):
        raise click.ClickException("The database already holds grids: the demo data goes into an empty one.")
    load_demo_data(app)


def _load_generated(loader, what, seed_value, scale):
    import time

    from seed.demo import create_demo_users

    from .extensions import appbuilder, db

    app = current_app._get_current_object()
    prepare_database(app, load_demo=False)
    started = time.perf_counter()
    try:
        loader(db.session, seed=seed_value, scale=scale, echo=click.echo)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    users = create_demo_users(appbuilder.sm, db.session, app.config["GRIDGOV_DEMO_PASSWORD"])
    click.echo(f"Loaded the {what} in {time.perf_counter() - started:.1f} s; logins: {', '.join(users)}.")


@seed_group.command("district")
@click.option("--seed", "seed_value", default=20261122, show_default=True, help="Same seed, same data.")
@click.option("--scale", default=1.0, show_default=True, help="Shrink every count (e.g. 0.1).")
@with_appcontext
def seed_district(seed_value, scale):
    """Load a district of Qibin's real size (into an empty database)."""
    from seed.generate import load_district

    _load_generated(load_district, "district", seed_value, scale)


@seed_group.command("city")
@click.option("--seed", "seed_value", default=20261122, show_default=True, help="Same seed, same data.")
@click.option("--scale", default=1.0, show_default=True, help="Shrink every count (e.g. 0.1).")
@with_appcontext
def seed_city(seed_value, scale):
    """Load a city of Qingdao's size (into an empty database); prints progress."""
    from seed.generate import load_city

    _load_generated(load_city, "city", seed_value, scale)


@click.command("sync-roles")
@with_appcontext
def sync_roles_command():
    """Write the role definitions of app/security.py to the permission tables."""
    from .extensions import appbuilder

    appbuilder.sm.sync_roles()
    click.echo("Roles synced.")


@click.group("points")
def points_group():
    """The points bank."""


@points_group.command("check")
@with_appcontext
def points_check():
    """Verify every balance against its ledger and every stock against its movements and
    redemptions; print what is wrong and exit non-zero if anything is."""
    from sqlalchemy import func, select

    from .extensions import db
    from .models import PointsAccount, RewardItem
    from .services.points import check_invariants

    problems = check_invariants(db.session)
    for problem in problems:
        click.echo(problem)
    accounts = db.session.scalar(select(func.count()).select_from(PointsAccount))
    items = db.session.scalar(select(func.count()).select_from(RewardItem))
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {accounts} accounts and {items} items")
    click.echo(f"OK: {accounts} accounts and {items} items agree with their ledgers.")


@points_group.command("award-month")
@click.option("--month", default=None, help="YYYY-MM, a month that is over (default: the last one).")
@with_appcontext
def points_award_month(month):
    """Pay the workers' awards of a past month (patrols met, visits when due); run again it pays
    only what is not yet paid."""
    from .extensions import db
    from .services.errors import DomainError
    from .services.worker_points import award_month, parse_month

    try:
        result = award_month(db.session, parse_month(month))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{result.month:%Y-%m}: {result.patrol_awards} patrol award(s) and {result.visit_awards} visit award(s) paid.")


@click.command("tick")
@with_appcontext
def tick_command():
    """Escalate incidents past their deadline one level up (idempotent; run it from cron)."""
    from .extensions import db
    from .services.incidents import escalate_overdue

    escalated = escalate_overdue(db.session)
    click.echo(f"Escalated {len(escalated)} overdue incident(s)" + (f": {', '.join(map(str, escalated))}" if escalated else "."))


@click.group("assess")
def assess_group():
    """考核: the monthly assessment."""


@assess_group.command("freeze")
@click.option("--month", default=None, help="YYYY-MM, an ended month (default: last month).")
@with_appcontext
def assess_freeze(month):
    """Freeze an ended month's scores (once: a month already frozen is left as it is; run it from
    cron on the first of each month)."""
    from .extensions import db
    from .services import assessment
    from .services.errors import DomainError
    from .services.training import required_hours

    try:
        chosen = assessment.parse_month(month) if month else \
            (assessment.current_month() - datetime.timedelta(days=1)).replace(day=1)
        written = assessment.freeze(db.session, chosen, required_hours(current_app.config))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    first = assessment.first_month(db.session)
    if first is None or chosen < first:
        click.echo(f"{chosen:%Y-%m} is not assessed: nothing is recorded before "
                   f"{first:%Y-%m}." if first else f"{chosen:%Y-%m} is not assessed: nothing is recorded yet.")
    else:
        click.echo(f"{chosen:%Y-%m}: {written} score(s) frozen." if written else f"{chosen:%Y-%m} was already frozen.")


def _create_app(*args, **kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """gridgov — grid-based community governance."""


for command in (run_command, setup_command, seed_group, sync_roles_command, points_group, tick_command,
                assess_group):
    main.add_command(command)
