"""巡查日志 and 打卡 screens: the grid worker's phone page (start, feed, stop a patrol; clock in), the
patrol log (a worker's own; the area's for who leads it), a patrol's page with its track and what
was reported or visited on it, a worker's days against the rule, the week's "fell short" list per
area, and the districts' patrol rules.

A track is personal data: its page draws it only for the worker who walked it and who leads its
area (services/patrols.py ``shows_track``); the list and the export carry no point of it."""
from __future__ import annotations

import datetime
import json

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.validators import NumberRange

from ..extensions import appbuilder, db
from ..fab.access_log import note_look
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..models import Grid, Patrol, PatrolRule
from ..services import audit
from ..services import patrols as patrol_service
from ..services.errors import DomainError, OutOfScope
from ..services.local_time import local_today
from .formats import local_time
from .incidents import current_actor
from .service_calls import call_service

VIEW = "PatrolModelView"


def leads() -> bool:
    """Whether the user leads an area's patrols (sees its workers' patrols and tracks)."""
    return appbuilder.sm.has_access("can_lead", VIEW)


def own_worker_id() -> int | None:
    return getattr(g.user, "worker_id", None) if getattr(g, "user", None) is not None else None


def duration_text(seconds) -> str:
    seconds = int(seconds or 0)
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return str(_l("%(hours)s h %(minutes)02d min", hours=hours, minutes=minutes)) if hours else \
        str(_l("%(minutes)s min", minutes=minutes))


def distance_text(metres) -> str:
    metres = int(metres or 0)
    return f"{metres / 1000:.2f} km" if metres >= 1000 else f"{metres} m"


def flag_text(patrol) -> str:
    if not patrol.jumps:
        return ""
    return str(_l("%(count)s impossible jumps (up to %(speed)s m/s) left out of the distance", count=patrol.jumps,
                  speed=patrol.fastest_jump))


class PatrolScopeFilter(BaseFilter):
    """A worker's own patrols; with ``can_lead``, every patrol of the user's area too."""

    name = "patrol scope"
    arg_name = None

    def apply(self, query, value):
        return query.filter(patrol_service.seen(current_scope(), own_worker_id(), leads()))


def track_svg(patrol, width: int = 320, height: int = 240) -> Markup:
    """The track drawn as a line (north up, metres to scale; no map tiles: it works offline)."""
    import math

    lats, lons = patrol.latitudes or [], patrol.longitudes or []
    if len(lats) < 2:
        return Markup("")
    shrink = math.cos(math.radians(sum(lats) / len(lats)))
    xs, ys = [lon * shrink for lon in lons], lats
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min(width, height) * 0.9 / span
    left, top = min(xs), max(ys)
    points = " ".join(f"{(x - left) * scale + width * 0.05:.1f},{(top - y) * scale + height * 0.05:.1f}"
                      for x, y in zip(xs, ys))
    first, last = points.split(" ")[0].split(","), points.split(" ")[-1].split(",")
    label = _l("The patrol's track")
    return Markup(
        '<svg class="gridgov-track" viewBox="0 0 %d %d" role="img" aria-label="%s">'
        '<polyline points="%s" fill="none" stroke="#337ab7" stroke-width="3" stroke-linejoin="round"/>'
        '<circle cx="%s" cy="%s" r="5" fill="#5cb85c"/><circle cx="%s" cy="%s" r="5" fill="#d9534f"/></svg>') % (
        width, height, label, points, first[0], first[1], last[0], last[1])


class PatrolModelView(ScopedModelView):
    """巡查日志 — the patrols, and the phone page a grid worker patrols with."""

    datamodel = EagerInterface(Patrol)
    base_filters = [["id", PatrolScopeFilter, None]]
    bulk_actions = False
    include_route_methods = {"list", "show", "patrol", "start", "points", "stop", "clock_in", "days", "compliance"}
    method_permission_name = {"patrol": "patrol", "start": "patrol", "points": "patrol", "stop": "patrol",
                              "clock_in": "patrol", "days": "list", "compliance": "lead"}
    list_title = _l("Patrol log")
    show_title = _l("Patrol")
    label_columns = {"worker": _l("Worker"), "grid": _l("Grid"), "started_at": _l("Started"), "ended_at": _l("Ended"),
                     "day": _l("Day"), "duration_s": _l("Duration"), "distance_m": _l("Distance"),
                     "jumps": _l("Impossible jumps")}
    list_columns = ["started_at", "worker", "grid", "ended_at", "duration_s", "distance_m", "jumps"]
    show_columns = ["worker", "grid", "started_at", "ended_at", "duration_s", "distance_m", "jumps"]
    search_columns = ["worker", "grid", "started_at"]
    # no add or edit route: a patrol is made on the phone page; the forms FAB builds anyway leave the
    # track out (it has no field for an array)
    add_columns = edit_columns = ["worker", "grid", "started_at", "ended_at"]
    order_columns = ["started_at"]
    base_order = ("started_at", "desc")
    formatters_columns = {"started_at": local_time, "ended_at": local_time, "duration_s": lambda s: duration_text(s),
                          "distance_m": lambda m: distance_text(m), "jumps": lambda n: n or ""}
    show_template = "gridgov/patrol_show.html"
    list_template = "gridgov/patrol_list.html"

    def list_extra(self) -> dict:
        sm = self.appbuilder.sm
        return {"can_patrol": sm.has_access("can_patrol", VIEW), "can_lead": leads()}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        patrol = self.record_shown(pk)
        scope = current_scope()
        incidents, visits = patrol_service.made_on(db.session, scope, patrol.id)
        shows_track = patrol_service.shows_track(scope, own_worker_id(), leads(), patrol)
        if shows_track and patrol.worker_id != own_worker_id() and patrol.points:
            # a leader shown a worker's track: personal data, in the access log as a phone shown is
            note_look(audit.Look(g.user.id, "workers", [patrol.worker_id], ["track"], request.path))
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=[],
            patrol=patrol, flag=flag_text(patrol), track=track_svg(patrol) if shows_track else None, shows_track=shows_track,
            incidents=incidents, visits=visits,
            local_time=local_time, rule=patrol_service.rule_for(db.session, patrol.grid.path),
            duration=duration_text(patrol.duration_s), distance=distance_text(patrol.distance_m))

    # --- the phone page ----------------------------------------------------------------------
    @expose("/patrol/")
    @has_access
    def patrol(self):
        """巡查: start and stop a patrol, its distance and time as it goes, the day's clock-in."""
        try:
            worker = patrol_service.worker_of(db.session, g.user.id)
        except DomainError as error:
            return self.render_template("gridgov/patrol_phone.html", worker=None, message=str(error))
        open_patrol = patrol_service.open_patrol(db.session, worker.id)
        today = local_today()
        days = patrol_service.worker_days(db.session, worker, today, today)
        return self.render_template(
            "gridgov/patrol_phone.html", worker=worker, message=None, patrol=open_patrol,
            clocked=patrol_service.clocked_in_today(db.session, worker.id), today=days[0] if days else None,
            rule=patrol_service.rule_for(db.session, worker.grid.path), local_time=local_time,
            duration=duration_text(open_patrol.duration_s) if open_patrol else "",
            distance=distance_text(open_patrol.distance_m) if open_patrol else "",
            started_ms=int(open_patrol.started_at.timestamp() * 1000) if open_patrol else 0)

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):
        if call_service(lambda: patrol_service.start(db.session, current_actor())):
            flash(str(_l("Patrol started: keep this page open while you walk.")), "success")
        return redirect(url_for(f"{VIEW}.patrol"))

    @expose("/points/<pk>", methods=["POST"])
    @has_access
    def points(self, pk):
        """A batch of the track (JSON ``{"points": [{lat, lon, t, acc}, …]}``), perhaps sent again."""
        body = request.get_json(silent=True)
        try:
            if not isinstance(body, dict):
                raise patrol_service.ValidationError(_l("The track could not be read."))
            patrol, added = patrol_service.add_points(db.session, current_actor(), pk, body.get("points"))
        except OutOfScope as error:
            return jsonify(error=str(error)), 404
        except DomainError as error:
            return jsonify(error=str(error)), error.status
        return jsonify(added=added, points=patrol.points, distance_m=patrol.distance_m, duration_s=patrol.duration_s,
                       distance=distance_text(patrol.distance_m), duration=duration_text(patrol.duration_s),
                       jumps=patrol.jumps, flag=flag_text(patrol), ended=patrol.ended_at is not None)

    @expose("/stop/<pk>", methods=["POST"])
    @has_access
    def stop(self, pk):
        try:
            points = json.loads(request.form.get("points") or "[]")
        except ValueError:
            points = []
        patrol = call_service(lambda: patrol_service.stop(db.session, current_actor(), pk, points))
        if patrol:
            flash(str(_l("Patrol stopped: %(distance)s in %(duration)s.", distance=distance_text(patrol.distance_m),
                         duration=duration_text(patrol.duration_s))), "success")
            return redirect(url_for(f"{VIEW}.show", pk=patrol.id))
        return redirect(url_for(f"{VIEW}.patrol"))

    @expose("/clock_in", methods=["POST"])
    @has_access
    def clock_in(self):
        form = request.form
        if call_service(lambda: patrol_service.clock_in(db.session, current_actor(), form.get("latitude"),
                                                        form.get("longitude"), form.get("accuracy"))):
            flash(str(_l("Clocked in.")), "success")
        return redirect(url_for(f"{VIEW}.patrol"))

    # --- the rule and who met it ---------------------------------------------------------------
    def _week(self):
        """The week asked for (any day of it, ``week=YYYY-MM-DD``; by default the week of yesterday,
        the last day that is over) and its days that are over."""
        asked = request.args.get("week", "")
        try:
            day = datetime.date.fromisoformat(asked) if asked else local_today() - datetime.timedelta(days=1)
        except ValueError:
            flash(str(_l("Give the week as a date such as 2026-12-01.")), "warning")
            day = local_today() - datetime.timedelta(days=1)
        day = min(max(day, datetime.date(2000, 1, 3)), local_today())
        monday, sunday = patrol_service.week_of(day)
        first, last = patrol_service.counted_days(monday, sunday)
        return monday, sunday, first, last

    @expose("/days/<worker_id>")
    @has_access
    def days(self, worker_id):
        """A worker's days of a week against the rule: theirs, or a worker of the area the user leads."""
        try:
            worker = patrol_service.worker_seen(db.session, current_scope(), own_worker_id(), leads(), worker_id)
        except OutOfScope:
            abort(404)
        monday, sunday, first, last = self._week()
        days = patrol_service.worker_days(db.session, worker, monday, min(sunday, local_today()))
        return self.render_template(
            "gridgov/patrol_days.html", worker=worker, days=days, monday=monday, sunday=sunday, last_counted=last,
            rule=patrol_service.rule_for(db.session, worker.grid.path),
            previous=(monday - datetime.timedelta(days=7)).isoformat(),
            following=(monday + datetime.timedelta(days=7)).isoformat() if sunday < local_today() else None)

    @expose("/compliance/")
    @has_access
    def compliance(self):
        """The week's patrolling workers of an area (grid, community, street) who fell short."""
        scope = current_scope()
        try:
            area = patrol_service.area_in_scope(db.session, scope, request.args.get("area"))
        except OutOfScope:
            abort(404)
        monday, sunday, first, last = self._week()
        page = min(max(request.args.get("page", default=0, type=int), 0), 10_000)
        per_page = patrol_service.COMPLIANCE_PAGE
        week = patrol_service.compliance(db.session, area, first, last, offset=page * per_page, limit=per_page)
        pages = max(-(-week.total // per_page), 1)
        if page >= pages and page > 0:  # past the last page: the last one
            return redirect(url_for("PatrolModelView.compliance", area=area.id, week=monday.isoformat(),
                                    page=pages - 1))
        areas = patrol_service.areas(db.session, scope, area)
        # each sub-area's workers and shortfalls, in the order of the area drop-down
        by_area = [(child, week.by_area[str(child.path)]) for child in areas["children"]
                   if str(child.path) in week.by_area]
        own_staff = week.by_area.get(str(area.path))  # the area's own workers: the rows add up to the total
        return self.render_template(
            "gridgov/patrol_compliance.html", area=area, week_figures=week, rows=week.rows, by_area=by_area,
            own_staff=own_staff,
            page=page, pages=pages, monday=monday, sunday=sunday, first=first,
            last=last, rule=patrol_service.rule_for(db.session, area.path),
            areas=areas, week=request.args.get("week", ""),
            previous=(monday - datetime.timedelta(days=7)).isoformat(),
            following=(monday + datetime.timedelta(days=7)).isoformat() if sunday < local_today() else None)


DISTRICTS = (Grid.level == "district",)


class PatrolRuleModelView(ScopedModelView):
    """巡查要求 — each district's patrol rule; the row without a district is the default."""

    datamodel = EagerInterface(PatrolRule)
    list_title = _l("Patrol rules")
    show_title = _l("Patrol rule")
    add_title = _l("Add patrol rule")
    edit_title = _l("Edit patrol rule")
    pick_where = {"district": DISTRICTS}
    label_columns = {"district": _l("District"), "min_patrols": _l("Patrols a day, at least"),
                     "min_minutes": _l("Minutes each, at least"), "min_metres": _l("Metres each, at least"),
                     "max_speed": _l("Fastest believable speed (m/s)")}
    list_columns = ["district", "min_patrols", "min_minutes", "min_metres", "max_speed"]
    show_columns = list_columns
    add_columns = edit_columns = list_columns
    search_columns = ["district"]
    base_order = ("id", "asc")
    formatters_columns = {"district": lambda d: d if d is not None else _l("Default (every district without its own)")}
    description_columns = {
        "district": _l("Leave empty for the default rule of every district without its own."),
        "max_speed": _l("A stretch of a track covered faster than this is an impossible jump: left out of the "
                        "distance, and the patrol flagged. 12 m/s (43 km/h) is beyond a person on foot or on an "
                        "electric bike."),
    }
    validators_columns = {"min_patrols": [NumberRange(min=1, max=12)], "min_minutes": [NumberRange(min=1, max=720)],
                          "min_metres": [NumberRange(min=0, max=100000)], "max_speed": [NumberRange(min=2, max=50)]}

    def check(self, item, *, is_new, original):
        patrol_service.check_rule(db.session, item)

    def check_delete(self, item):
        patrol_service.check_rule_delete(db.session, item)
