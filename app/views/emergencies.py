"""平急结合 screens: the list of responses, the declare form (district dispatchers), the
response page with progress per street and community and the grids that have not answered,
and the phone page where a grid's staff check in."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..extensions import db
from ..models import EmergencyResponse
from ..services import emergencies as emergency_service
from ..services.errors import DomainError
from ..fab.fields import choice_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of
from .formats import local_time
from .service_calls import call_service
from .incidents import current_actor
from .redirects import safe_redirect_target

LEVEL_LABELS = {"III": _l("Level III"), "II": _l("Level II"), "I": _l("Level I")}
STATUS_LABELS = {"active": lazy_pgettext("emergency response", "Active"), "ended": _l("Ended")}


class EmergencyResponseModelView(ScopedModelView):
    """三级响应 — declared for an area with one directive; every grid checks in."""

    datamodel = EagerInterface(EmergencyResponse)
    bulk_actions = False
    include_route_methods = {"list", "show", "declare", "end", "check_in", "tasks"}
    method_permission_name = {"declare": "declare", "end": "declare", "check_in": "check_in", "tasks": "check_in"}
    list_title = _l("Emergency responses")
    show_title = _l("Emergency response")
    label_columns = {"id": _l("No."), "level": _l("Response level"), "title": _l("Title"), "area": _l("Area"),
                     "directive": _l("Directive"), "status": _l("Status"), "declared_by_name": _l("Declared by"),
                     "declared_at": _l("Declared at"), "ended_at": _l("Ended at")}
    list_columns = ["id", "level", "title", "area", "status", "declared_at"]
    show_columns = ["id", "level", "title", "area", "directive", "status", "declared_by_name", "declared_at", "ended_at"]
    add_columns = edit_columns = ["title"]
    search_columns = ["level", "status", "area"]
    base_order = ("id", "desc")
    formatters_columns = {"level": label_of(LEVEL_LABELS), "status": label_of(STATUS_LABELS),
                          "declared_at": local_time, "ended_at": local_time}
    search_form_extra_fields = {"level": choice_field(_l("Response level"), LEVEL_LABELS, required=False),
                                "status": choice_field(_l("Status"), STATUS_LABELS, required=False)}
    show_template = "gridgov/response_show.html"
    list_template = "gridgov/response_list.html"  # with the declare button

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        response = self.record_shown(pk)
        scope = current_scope()
        mine = emergency_service.own_tasks(db.session, scope, response.id) if self.appbuilder.sm.has_access(
            "can_check_in", self.class_permission_name) else []
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            response=response, totals=emergency_service.totals(db.session, response.id, scope),
            streets=emergency_service.progress(db.session, response.id, "street", scope),
            communities=emergency_service.progress(db.session, response.id, "community", scope),
            pending=emergency_service.pending(db.session, response.id, scope), my_tasks=mine, local_time=local_time,
            whole=emergency_service.totals(db.session, response.id),
            can_end=self.appbuilder.sm.has_access("can_declare", self.class_permission_name) and response.status == "active",
        )

    @expose("/declare", methods=["GET", "POST"])
    @has_access
    def declare(self):
        scope = current_scope()
        areas = emergency_service.areas(db.session, scope)
        form = request.form
        if request.method == "POST":
            try:
                response = emergency_service.declare(db.session, current_actor(), form.get("area"), form.get("level", ""),
                                                     form.get("title", ""), form.get("directive", ""))
            except DomainError as error:
                flash(str(error), "danger")
            else:
                flash(str(_l("Response declared: %(count)s grids have their task.",
                             count=emergency_service.totals(db.session, response.id).total)), "success")
                return redirect(url_for("EmergencyResponseModelView.show", pk=response.id))
        return self.render_template("gridgov/response_declare.html", areas=areas, form=form, level_labels=LEVEL_LABELS)

    @expose("/end/<int:pk>", methods=["POST"])
    @has_access
    def end(self, pk):
        if call_service(lambda: emergency_service.end(db.session, current_actor(), pk)):
            flash(str(_l("The response has ended.")), "success")
        return redirect(url_for("EmergencyResponseModelView.show", pk=pk))

    @expose("/check_in/<int:task_id>", methods=["POST"])
    @has_access
    def check_in(self, task_id):
        task = call_service(lambda: emergency_service.check_in(db.session, current_actor(), task_id, request.form.get("note")))
        if task:
            flash(str(_l("Checked in for %(grid)s.", grid=task.grid.name)), "success")
        return redirect(safe_redirect_target(request.form.get("next"), url_for("EmergencyResponseModelView.tasks")))

    @expose("/tasks/")
    @has_access
    def tasks(self):
        """The user's open tasks, on a phone: one tap to check in."""
        tasks = emergency_service.own_tasks(db.session, current_scope())
        return self.render_template("gridgov/response_tasks.html", tasks=tasks, level_labels=LEVEL_LABELS,
                                    local_time=local_time)
