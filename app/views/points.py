"""The points bank's screens: rules, reward catalog, accounts and ledgers, redemptions, and
the custom views volunteers use on their phones (my points, redeem) and the honour roll."""
from __future__ import annotations

import datetime
import logging
import os
import uuid

from flask import abort, current_app, flash, g, has_request_context, redirect, request, send_from_directory, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from markupsafe import Markup, escape
from wtforms import IntegerField
from wtforms.validators import Length, NumberRange, Optional

from ..extensions import db
from ..models import LedgerEntry, PointsAccount, PointsRule, Redemption, RedemptionLine, RewardItem, WorkerPointsRule
from ..models.choices import ENTRY_KIND_LABELS, REDEMPTION_STATUS_LABELS, RULE_UNIT_LABELS, WORKER_ROLE_LABELS
from ..models.points import MAX_RULE_POINTS, MAX_STOCK_CHANGE, WORKER_AWARD_LABELS
from ..services import assessment, paging
from ..services.training import required_hours
from ..services import points
from ..services import worker_points
from ..services.errors import DomainError, OutOfScope
from ..services.local_time import TIMEZONE
from ..fab.fields import choice_field, flag_field
from ..fab.filters import current_scope, current_user_id, row_key, ScopeFilter
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.pickers import COMMUNITIES
from ..fab.rendering import label_of, yes_no
from ..uploads import PICTURE_TYPES, replace_later, save_picture
from .formats import local_time
from .service_calls import call_service


log = logging.getLogger(__name__)


def pictures_dir() -> str:
    return os.path.join(current_app.config["INSTANCE_DIR"], "uploads", "rewards")


def picture_html(filename) -> Markup:
    if not filename:
        return Markup("")
    src = url_for("PointsView.picture", filename=filename)
    return Markup(f'<img src="{escape(src)}" alt="" class="gridgov-thumb">')


class PointsRuleModelView(ScopedModelView):
    """积分规则 — editable by secretaries and administrators."""

    datamodel = EagerInterface(PointsRule)
    list_title = _l("Points rules")
    show_title = _l("Points rule")
    add_title = _l("Add points rule")
    edit_title = _l("Edit points rule")
    pick_where = {"community": COMMUNITIES}
    label_columns = {"name": _l("Activity type"), "unit": _l("Counted"), "points": _l("Points"),
                     "active": _l("Active"), "description": _l("Description"), "community": _l("Kept by")}
    list_columns = ["name", "unit", "points", "community", "active", "description"]
    show_columns = list_columns
    add_columns = ["community", "name", "unit", "points", "active", "description"]
    edit_columns = add_columns
    search_columns = ["name", "unit", "active", "community"]
    base_order = ("name", "asc")
    formatters_columns = {"unit": label_of(RULE_UNIT_LABELS), "active": yes_no,
                          "community": lambda c: c if c is not None else _l("Whole district")}
    description_columns = {
        "community": _l("Leave empty for a rule of the whole district (district staff only)."),
        "points": _l("Per hour or per event, at most 1,000."),
    }
    validators_columns = {"name": [Length(max=50)], "points": [NumberRange(min=1, max=MAX_RULE_POINTS)],
                          "description": [Length(max=200)]}
    add_form_extra_fields = {"unit": choice_field(_l("Counted"), RULE_UNIT_LABELS),
                             "active": flag_field(_l("Active"))}
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"unit": choice_field(_l("Counted"), RULE_UNIT_LABELS, required=False)}

    def _original(self, item):
        return {"community_id": item.community_id}

    def check(self, item, *, is_new, original):
        points.check_rule(db.session, current_scope(), item,
                          present_community_id=points.NEW if is_new else original["community_id"])

    def check_delete(self, item):
        points.check_rule_delete(db.session, current_scope(), item)


class WorkerPointsRuleModelView(ScopedModelView):
    """工作积分规则 — what grid workers and building leaders earn: kept as the volunteers' rules."""

    datamodel = EagerInterface(WorkerPointsRule)
    list_title = _l("Workers' points rules")
    show_title = _l("Workers' points rule")
    add_title = _l("Add workers' points rule")
    edit_title = _l("Edit workers' points rule")
    pick_where = {"community": COMMUNITIES}
    label_columns = {"name": _l("Name"), "award": _l("Rewards"), "points": _l("Points"),
                     "min_share": _l("Days met (%)"), "monthly_cap": _l("Visits paid a month at most"),
                     "active": _l("Active"), "description": _l("Description"), "community": _l("Kept by")}
    list_columns = ["name", "award", "points", "min_share", "monthly_cap", "community", "active"]
    show_columns = list_columns + ["description"]
    add_columns = ["community", "name", "award", "points", "min_share", "monthly_cap", "active", "description"]
    edit_columns = add_columns
    search_columns = ["name", "award", "active", "community"]
    base_order = ("name", "asc")
    formatters_columns = {"award": label_of(WORKER_AWARD_LABELS), "active": yes_no,
                          "community": lambda c: c if c is not None else _l("Whole district")}
    description_columns = {
        "community": _l("Leave empty for a rule of the whole district (district staff only). A community's own "
                        "rule replaces the district's for its workers."),
        "points": _l("For a month's patrols met, or per visit made when due; at most 1,000."),
        "min_share": _l("Patrols: the share of the month's days on which the patrol rule must be met "
                        "(100 = every day)."),
        "monthly_cap": _l("Visits: how many visits are paid a month at most; empty for no cap."),
    }
    validators_columns = {"name": [Length(max=50)], "points": [NumberRange(min=1, max=MAX_RULE_POINTS)],
                          "min_share": [Optional(), NumberRange(min=1, max=100)],
                          "monthly_cap": [Optional(), NumberRange(min=1, max=100)],
                          "description": [Length(max=200)]}
    add_form_extra_fields = {"award": choice_field(_l("Rewards"), WORKER_AWARD_LABELS),
                             "active": flag_field(_l("Active"))}
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"award": choice_field(_l("Rewards"), WORKER_AWARD_LABELS, required=False)}

    def _original(self, item):
        return {"community_id": item.community_id, "award": item.award}

    def check(self, item, *, is_new, original):
        worker_points.check_rule(db.session, current_scope(), item,
                                 present_community_id=points.NEW if is_new else original["community_id"],
                                 present_award=None if is_new else original["award"])

    def check_delete(self, item):
        worker_points.check_rule_delete(db.session, current_scope(), item)


class RewardItemModelView(ScopedModelView):
    """奖励物品 — a secretary manages her community's items; stock moves by restocking."""

    datamodel = EagerInterface(RewardItem)
    pick_where = {"community": COMMUNITIES}
    list_title = _l("Reward catalog")
    show_title = _l("Reward item")
    add_title = _l("Add reward item")
    edit_title = _l("Edit reward item")
    label_columns = {"name": _l("Item"), "description": _l("Description"), "picture": _l("Picture"),
                     "price": _l("Points price"), "stock": _l("Stock"), "community": _l("Offered by"),
                     "active": _l("Active"), "restock": _l("Add to stock"), "picture_file": _l("Picture")}
    list_columns = ["picture", "name", "price", "stock", "community", "active"]
    export_columns = ["name", "price", "stock", "community", "active", "description"]  # a file holds no picture
    show_columns = ["name", "picture", "description", "price", "stock", "community", "active"]
    add_columns = ["community", "name", "description", "price", "restock", "active", "picture_file"]
    edit_columns = ["community", "name", "description", "price", "restock", "active", "picture_file"]
    search_columns = ["name", "community", "active"]
    order_columns = ["name", "price", "stock"]
    base_order = ("price", "asc")
    formatters_columns = {
        "picture": picture_html,
        "community": lambda c: c if c is not None else _l("Whole district"),
        "active": yes_no,
    }
    description_columns = {
        "community": _l("Leave empty for an item of the whole district (district staff only)."),
        "restock": _l("How many to add; a negative number corrects the stock."),
        "picture_file": _l("JPG, PNG or WebP, at most 4 MB. Stored on this server."),
    }
    validators_columns = {"name": [Length(max=60)], "description": [Length(max=300)],
                          "price": [NumberRange(min=1, max=1_000_000)]}
    add_form_extra_fields = {
        "restock": IntegerField(_l("Initial stock"), validators=[Optional(), NumberRange(min=0, max=MAX_STOCK_CHANGE)]),
        "active": flag_field(_l("Active")),
        "picture_file": FileField(_l("Picture"), validators=[Optional(), FileAllowed(PICTURE_TYPES)]),
    }
    edit_form_extra_fields = {
        "restock": IntegerField(_l("Add to stock"), validators=[Optional(), NumberRange(min=-MAX_STOCK_CHANGE, max=MAX_STOCK_CHANGE)]),
        "active": flag_field(_l("Active")),
        "picture_file": FileField(_l("Picture"), validators=[Optional(), FileAllowed(PICTURE_TYPES)]),
    }

    def _original(self, item):
        return {"community_id": item.community_id}

    def check(self, item, *, is_new, original):
        points.check_item(db.session, current_scope(), item,
                          present_community_id=points.NEW if is_new else original["community_id"])

    def check_delete(self, item):
        points.check_item_delete(db.session, current_scope(), item)

    def apply(self, item, *, is_new, original):
        change = getattr(item, "restock", None)
        if change:
            points.restock(db.session, current_scope(), item.id, int(change), None, current_user_id())
        name = save_picture(request.files.get("picture_file"), pictures_dir(), "picture_file")
        if name:
            replace_later(pictures_dir(), item.picture)
            item.picture = name


class LedgerInterface(EagerInterface):
    """A grid's or a department's ledger in its default order (newest first), unfiltered, is read
    account by account (``paging.newest_ledger_entries``); a search, another order, the whole
    ledger (the administrator's: its newest entries are its page) and one volunteer's take FAB's
    query."""

    def index_page(self, filters, order_column, order_direction, offset, limit, cap):
        if (order_column or "id") != "id" or (order_direction or "desc") != "desc":
            return None
        if current_scope().kind not in ("grid", "department"):
            return None
        if any(not isinstance(flt, ScopeFilter) for flt, _ in (filters.get_filters_values() if filters else ())):
            return None
        return paging.newest_ledger_entries(db.session, current_scope(), offset, limit, cap)


class LedgerEntryModelView(ScopedModelView):
    """积分流水 — read only: the ledger is corrected by new entries, never edited."""

    datamodel = LedgerInterface(LedgerEntry)
    include_route_methods = {"list", "show"}
    list_title = _l("Points ledger")
    show_title = _l("Ledger entry")
    label_columns = {"account": _l("Account"), "kind": _l("Kind"), "amount": _l("Points"), "reason": _l("Reason"),
                     "service_record": _l("Service record"), "redemption": _l("Redemption"),
                     "created_by": _l("By"), "created_at": _l("Time")}
    list_columns = ["created_at", "account", "kind", "amount", "reason"]
    show_columns = ["created_at", "account", "kind", "amount", "reason", "service_record", "redemption", "created_by"]
    search_columns = ["kind", "created_at"]
    order_columns = ["created_at", "amount"]
    base_order = ("id", "desc")
    formatters_columns = {"kind": label_of(ENTRY_KIND_LABELS), "created_at": local_time}
    search_form_extra_fields = {"kind": choice_field(_l("Kind"), ENTRY_KIND_LABELS, required=False)}


class RedemptionLineModelView(ScopedModelView):
    datamodel = EagerInterface(RedemptionLine)
    include_route_methods = {"list", "show"}
    list_title = _l("Redeemed items")
    label_columns = {"item": _l("Item"), "quantity": _l("Quantity"), "unit_price": _l("Points each"),
                     "redemption": _l("Redemption")}
    list_columns = ["item", "quantity", "unit_price"]
    show_columns = ["redemption", "item", "quantity", "unit_price"]
    search_columns = ["item"]


class RedemptionModelView(ScopedModelView):
    """兑换单 — handed over at the counter or cancelled (which refunds points and stock)."""

    datamodel = EagerInterface(Redemption)
    include_route_methods = {"list", "show", "action", "action_post"}
    method_permission_name = {"hand_over": "handle", "cancel_redemption": "handle"}
    list_title = _l("Redemptions")
    show_title = _l("Redemption")
    label_columns = {"id": _l("No."), "account": _l("Account"), "status": _l("Status"),
                     "total_points": _l("Points"), "created_at": _l("Time"), "created_by": _l("Made by"),
                     "handled_at": _l("Closed at"), "handled_by": _l("Closed by")}
    list_columns = ["id", "created_at", "account", "total_points", "status"]
    show_columns = ["id", "account", "status", "total_points", "created_at", "created_by", "handled_at", "handled_by"]
    search_columns = ["status", "created_at"]
    order_columns = ["id", "created_at", "total_points"]
    base_order = ("id", "desc")
    formatters_columns = {
        "status": label_of(REDEMPTION_STATUS_LABELS),
        "created_at": local_time,
        "handled_at": local_time,
    }
    search_form_extra_fields = {"status": choice_field(_l("Status"), REDEMPTION_STATUS_LABELS, required=False)}
    related_views = [RedemptionLineModelView, LedgerEntryModelView]

    def _close_each(self, items, close, done_message):
        done = 0
        for redemption in items:
            try:
                close(db.session, current_scope(), redemption.id, current_user_id())
                done += 1
            except DomainError as error:
                flash(f"#{redemption.id}: {error}", "warning")
        if done:
            flash(str(done_message % {"count": done}), "success")
        return self.after_action()

    @fab_action("hand_over", _l("Hand over"), _l("Mark the selected redemptions as handed over?"), "fa-check")
    def hand_over(self, items):
        return self._close_each(items, points.hand_over, _l("%(count)s redemption(s) handed over."))

    @fab_action("cancel_redemption", _l("Cancel and refund"),
                _l("Cancel the selected redemptions and return their points and stock?"), "fa-undo")
    def cancel_redemption(self, items):
        return self._close_each(items, points.cancel, _l("%(count)s redemption(s) cancelled and refunded."))


class PointsAccountModelView(ScopedModelView):
    """积分账户 — read only; balances move through the ledger."""

    datamodel = EagerInterface(PointsAccount)
    include_route_methods = {"list", "show"}
    list_title = _l("Points accounts")
    show_title = _l("Points account")
    label_columns = {"volunteer": _l("Volunteer"), "worker": _l("Worker"), "balance": _l("Balance"),
                     "created_at": _l("Opened"), "holder": _l("Holder")}
    list_columns = ["volunteer", "worker", "balance"]
    show_columns = ["holder", "balance"]  # a volunteer or a worker, with what they are
    formatters_columns = {"holder": lambda holder: _holder_words(holder)}
    search_columns = ["volunteer", "worker", "balance"]
    order_columns = ["balance"]
    base_order = ("balance", "desc")
    related_views = [LedgerEntryModelView, RedemptionModelView]
    show_template = "gridgov/points_account_show.html"

    @expose("/list/")
    @has_access
    def list(self):
        award_last_month()  # the workers' balances include the last month's awards
        return super().list()


class PointsView(BaseView):
    """The volunteer's screens (my points, redeem, both phone-first) and the honour roll."""

    route_base = "/points"
    default_view = "me"

    # --- my points ------------------------------------------------------------------------
    @expose("/me/")
    @has_access
    def me(self):
        """A volunteer's or a worker's own points (phone-first); others go to the accounts list."""
        scope = current_scope()
        own = _own_account(scope)
        if own is None:
            return self._no_account()
        if scope.kind == "volunteer":
            records = points.service_records(db.session, scope.volunteer_id)
            awarded = points.awarded_record_ids(db.session, [r.id for r in records])
            worker = rules = progress = None
        else:
            award_last_month()
            db.session.refresh(own)
            records, awarded = [], set()
            worker = own.worker
            rules = worker_points.rules_for(db.session, worker)
            progress = worker_points.month_so_far(db.session, worker)
        return self.render_template(
            "gridgov/my_points.html", account=own, ledger=points.ledger(db.session, own.id),
            redemptions=points.redemptions(db.session, own.id), records=records, awarded=awarded,
            worker=worker, rules=rules, progress=progress, award_labels=WORKER_AWARD_LABELS,
            words=_entry_words, kind_labels=ENTRY_KIND_LABELS, status_labels=REDEMPTION_STATUS_LABELS, tz=TIMEZONE,
        )

    # --- redeem ---------------------------------------------------------------------------
    @expose("/redeem/", methods=["GET", "POST"])
    @expose("/redeem/<int:account_id>", methods=["GET", "POST"])
    @has_access
    def redeem(self, account_id=None):
        scope = current_scope()
        own = _own_account(scope)
        if account_id is None:
            if own is None:
                return self._no_account()
            account_id = own.id
        at_counter = self.appbuilder.sm.has_access("can_handle", "RedemptionModelView")
        if not worker_points.may_redeem_from(account_id, own, at_counter):
            abort(404)  # another holder's account: as if it did not exist
        raw = {key[4:]: value for key, value in request.form.items() if key.startswith("qty-")}
        refusal = None
        if request.method == "POST":
            try:
                quantities = points.parse_quantities(raw)
                if request.form.get("step") == "confirm":
                    redemption = points.redeem(db.session, scope, account_id, quantities, current_user_id(),
                                               request_key=request.form.get("request_key") or None)
                    flash(str(_l("Redeemed: redemption No. %(id)s, %(points)s points. Pick it up at the community.",
                                 id=redemption.id, points=redemption.total_points)), "success")
                    if own is not None and own.id == account_id:
                        return redirect(url_for("PointsView.me"))
                    return redirect(url_for("RedemptionModelView.show", pk=redemption.id))
                offer = points.preview(db.session, scope, account_id, quantities)
                return self.render_template(
                    "gridgov/redeem_confirm.html", account=offer.account, lines=offer.lines, total=offer.total,
                    after=offer.balance_after, request_key=uuid.uuid4().hex, holder=offer.account.holder,
                )
            except DomainError as error:  # said on the form if the account is in scope, else a 404
                refusal = error
        try:
            account = points.visible_account(db.session, scope, account_id)
        except OutOfScope:
            abort(404)
        if refusal is not None:
            flash(str(refusal), "danger")
        items = points.offered_items(db.session, account)
        return self.render_template("gridgov/redeem.html", account=account, items=items, entered=raw,
                                    holder=account.holder)

    def _no_account(self):
        """Who holds no account of their own: the counter's staff go to the accounts; a worker's
        login not linked to its worker is told why there is nothing to show."""
        if self.appbuilder.sm.has_access("can_list", "PointsAccountModelView"):
            return redirect(url_for("PointsAccountModelView.list"))
        flash(str(_l("Your login is not linked to a worker record: ask the administrator to link it.")), "warning")
        return redirect(self.appbuilder.get_url_for_index)

    # --- corrections ----------------------------------------------------------------------
    @expose("/adjust/<int:account_id>", methods=["POST"])
    @has_access
    def adjust(self, account_id):
        """A compensating entry (the ledger itself is never edited)."""
        try:
            amount = int((request.form.get("amount") or "").strip())
        except ValueError:
            amount = 0
        if call_service(lambda: points.adjust(db.session, current_scope(), account_id, amount,
                                              request.form.get("reason", ""), current_user_id())):
            flash(str(_l("Adjustment of %(amount)+d points recorded.", amount=amount)), "success")
        return redirect(url_for("PointsAccountModelView.show", pk=account_id))

    # --- the honour roll ------------------------------------------------------------------
    @expose("/honour/")
    @has_access
    def honour(self):
        this_year = datetime.datetime.now(TIMEZONE).year
        try:
            year = assessment.parse_year(request.args.get("year"))
        except DomainError as error:
            flash(str(error), "danger")
            year = this_year
        street = row_key(request.args.get("street", ""))
        district = None if street is not None else row_key(request.args.get("district", ""))
        scope = points.roll_scope(db.session, current_scope())  # a volunteer's or worker's community
        roll = points.honour_roll(db.session, scope, year, street_id=street, district_id=district)
        place = {"street": street} if street is not None else {"district": district} if district is not None else {}
        # what the whole roll (no street or district chosen) ranks: its link says all streets or all districts
        top = points.roll_level(db.session, scope) if place else roll["level"]
        # 网格员光荣榜 beside the volunteers': the year's best assessment scores (app/services/assessment.py)
        workers = assessment.worker_honour_roll(
            db.session, scope, year, street_id=street, district_id=district,
            required_hours=required_hours(current_app.config))
        return self.render_template("gridgov/honour_roll.html", roll=roll, year=year, this_year=this_year,
                                    place=place, top=top, workers=workers,
                                    can_rank=self.appbuilder.sm.has_access("can_rank", "AssessmentView"))

    # --- pictures -------------------------------------------------------------------------
    @expose("/picture/<path:filename>")
    @has_access
    def picture(self, filename):
        if "/" in filename or not filename.rsplit(".", 1)[-1].lower() in PICTURE_TYPES \
                or not points.picture_visible(db.session, current_scope(), filename):
            abort(404)
        return send_from_directory(pictures_dir(), filename, max_age=3600)


def _own_account(scope):
    """The signed-in person's own account: a volunteer's, or that of the worker their login is."""
    return worker_points.own_account(db.session, scope, _own_worker_id())


def _own_worker_id():
    user = g.user if has_request_context() else None
    return getattr(user, "worker_id", None)


def award_last_month() -> None:
    """The workers' awards of the last month, made the first time a page needs them (no scheduler
    on an intranet). A refusal is logged, not shown: the page shows what is paid."""
    try:
        worker_points.award_last_month_once(db.session)
    except DomainError as error:
        log.warning("the workers' award of the last month was refused: %s", error)


def _holder_words(holder) -> str:
    """An account's holder as the counter reads it: the name, and a volunteer or the worker's role."""
    if holder is None:
        return ""
    role = WORKER_ROLE_LABELS.get(getattr(holder, "role", None)) or _l("Volunteer")
    return f"{holder.name} · {role}"


def _entry_words(entry) -> str:
    """What a worker's award paid for, in the reader's language."""
    if entry.worker_rule_id is None or entry.award_month is None:
        return entry.reason
    if entry.visit_id is not None:
        return str(_l("Visit made when due (%(month)s)", month=entry.award_month.strftime("%Y-%m")))
    return str(_l("Patrols met for %(month)s", month=entry.award_month.strftime("%Y-%m")))


class ServiceRecordAwardMixin:
    """The bulk action that awards points for service records, mixed into their view."""

    @fab_action("award", _l("Award points"), _l("Award points for the selected service records?"), "fa-star")
    def award(self, items):
        try:
            result = points.award(db.session, current_scope(), [item.id for item in items], current_user_id())
        except DomainError as error:
            flash(str(error), "danger")
            return self.after_action()
        if result.awarded:
            flash(str(_l("Awarded %(points)s points for %(count)s service record(s).",
                         points=result.total, count=len(result.awarded))), "success")
        if result.already:
            flash(str(_l("%(count)s record(s) had already been rewarded and were skipped.",
                         count=len(result.already))), "info")
        if result.elsewhere:
            flash(str(_l("%(count)s record(s) use an activity type of another community: choose one of the whole "
                         "district or of the volunteer's community.", count=len(result.elsewhere))), "warning")
        if result.no_rule:
            flash(str(_l("%(count)s record(s) have no activity type with a points rule: set one first.",
                         count=len(result.no_rule))), "warning")
        return self.after_action()
