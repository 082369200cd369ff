"""微心愿 screens: the scoped list and the wish's page with the steps the user may take, the phone
form a grid worker or the secretary posts a wish with, and the volunteer's phone page of the open
wishes of their community and their own."""
from __future__ import annotations

import os

from flask import abort, current_app, flash, redirect, request, send_from_directory, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..fab.fields import choice_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of, translated
from ..models import MicroWish
from ..models.choices import WISH_KIND_LABELS, WISH_STATE_LABELS
from ..services import wishes
from ..services.errors import DomainError
from ..uploads import keep_uploads, save_picture
from .formats import local_time
from .incidents import current_actor
from .service_calls import call_service

ACTION_LABELS = {
    "open": _l("Open it for claiming"),
    "dispatch": _l("Dispatch to a volunteer"),
    "claim": _l("Claim this wish"),
    "done": _l("Mark it done"),
    "rate": _l("Record the resident's satisfaction"),
    "cancel": _l("Cancel the wish"),
}
DONE_MESSAGES = {
    "open": _l("The wish is open for the volunteers of the community to claim."),
    "dispatch": _l("The wish is dispatched; it waits for the volunteer to take it up."),
    "claim": _l("You have claimed this wish. Thank you!"),
    "done": _l("Marked done; the community will ask the resident."),
    "rate": _l("Satisfaction recorded."),
    "cancel": _l("The wish is cancelled."),
}


def photos_dir() -> str:
    return os.path.join(current_app.config["INSTANCE_DIR"], "uploads", "wishes")


def claim_days() -> int:
    """How many days a wish may wait for a claimer (``GRIDGOV_WISH_CLAIM_DAYS``, 7 unless set)."""
    return int(current_app.config.get("GRIDGOV_WISH_CLAIM_DAYS", wishes.DEFAULT_CLAIM_DAYS))


class MicroWishModelView(ScopedModelView):
    """微心愿 — changed only through its steps, never edited in place."""

    datamodel = EagerInterface(MicroWish)
    bulk_actions = False
    include_route_methods = {"list", "show", "act", "post", "photo", "mine"}
    list_title = _l("Micro-wishes")
    show_title = _l("Micro-wish")
    label_columns = {
        "id": _l("No."), "title": _l("Wish"), "kind": _l("Kind"), "state": _l("State"),
        "resident": _l("For resident"), "grid": _l("Grid"), "community": _l("Community"),
        "description": _l("Description"), "posted_at": _l("Posted at"), "claim_deadline": _l("To be claimed by"),
        "claimer": _l("Volunteer"), "claimed_at": _l("Claimed at"), "done_at": _l("Done at"),
        "done_note": _l("What was done"), "satisfaction": _l("Satisfaction"), "rated_at": _l("Rated at"),
        "rule": _l("Points rule"), "cancelled_at": _l("Cancelled at"), "posted_by": _l("Posted by"),
    }
    list_columns = ["id", "title", "kind", "state", "resident", "grid", "claimer", "claim_deadline", "posted_at"]
    show_columns = ["id", "title", "kind", "state", "resident", "grid", "community", "description", "posted_by",
                    "posted_at", "claim_deadline", "rule", "claimer", "claimed_at", "done_at", "done_note",
                    "satisfaction", "rated_at", "cancelled_at"]
    search_columns = ["title", "state", "kind", "posted_at"]
    add_columns = edit_columns = ["title"]  # no add or edit routes: FAB still builds the forms
    order_columns = ["id", "posted_at", "claim_deadline"]
    base_order = ("id", "desc")
    formatters_columns = {
        "kind": label_of(WISH_KIND_LABELS), "state": label_of(WISH_STATE_LABELS), "posted_at": local_time,
        "claim_deadline": local_time, "claimed_at": local_time, "done_at": local_time, "rated_at": local_time,
        "cancelled_at": local_time,
    }
    search_form_extra_fields = {
        "state": choice_field(_l("State"), WISH_STATE_LABELS, required=False),
        "kind": choice_field(_l("Kind"), WISH_KIND_LABELS, required=False),
    }
    show_template = "gridgov/wish_show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        wish = self.record_shown(pk)
        actor = current_actor()
        actions = wishes.allowed_actions(actor, wish) if self.appbuilder.sm.has_access(
            "can_act", self.class_permission_name) else []
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            wish=wish, actions=actions, action_labels=translated(ACTION_LABELS),
            volunteers=wishes.dispatchable_volunteers(db.session, wish) if "dispatch" in actions else [],
            rules=wishes.wish_rules(db.session, wish) if {"open", "dispatch"} & set(actions) else [],
            points=wishes.awarded_points(db.session, wish.id))

    @expose("/act/<int:pk>", methods=["POST"])
    @has_access
    def act(self, pk):
        action = request.form.get("action", "")
        back = request.form.get("back") == "mine"

        def step():
            photo = save_picture(request.files.get("photo"), photos_dir(), "photo") if action == "done" else None
            return wishes.act(db.session, current_actor(), pk, action, volunteer_id=request.form.get("volunteer"),
                              rule_id=request.form.get("rule"), note=request.form.get("note"), photo=photo,
                              satisfaction=request.form.get("satisfaction"))

        if call_service(step):
            keep_uploads()
            flash(str(DONE_MESSAGES.get(action, "")), "success")
        if back:
            return redirect(url_for("MicroWishModelView.mine"))
        return redirect(url_for("MicroWishModelView.show", pk=pk))

    @expose("/post", methods=["GET", "POST"])
    @has_access
    def post(self):
        """A wish posted for a resident of the user's area (a phone form)."""
        actor = current_actor()
        form = request.form
        if request.method == "POST":
            try:
                wish = wishes.post(db.session, actor, wishes.WishPost(
                    resident_id=form.get("resident"), title=form.get("title", ""), kind=form.get("kind") or "",
                    description=form.get("description")), claim_days=claim_days())
            except DomainError as error:
                flash(str(error), "danger")
            else:
                flash(str(_l("Micro-wish No. %(id)s posted.", id=wish.id)), "success")
                return redirect(url_for("MicroWishModelView.show", pk=wish.id))
        return self.render_template("gridgov/wish_post.html", form=form, kinds=translated(WISH_KIND_LABELS),
                                    residents=wishes.postable_residents(db.session, actor), days=claim_days())

    @expose("/mine/")
    @has_access
    def mine(self):
        """A volunteer's phone page: the open wishes of their community to claim, and their own."""
        scope = current_scope()
        if scope.kind != "volunteer":
            return redirect(url_for("MicroWishModelView.list"))
        rows = wishes.volunteer_wishes(db.session, scope)
        return self.render_template("gridgov/wish_mine.html", open_wishes=[w for w in rows if w.state == "open"],
                                    own=[w for w in rows if w.state != "open"], kinds=translated(WISH_KIND_LABELS),
                                    states=translated(WISH_STATE_LABELS), local_time=local_time,
                                    actions={w.id: wishes.allowed_actions(current_actor(), w) for w in rows},
                                    action_labels=translated(ACTION_LABELS))

    @expose("/photo/<int:pk>")
    @has_access
    def photo(self, pk):
        wish = self.datamodel.get(pk, self._base_filters)
        if wish is None or not wish.photo:
            abort(404)
        return send_from_directory(photos_dir(), wish.photo, max_age=3600)
