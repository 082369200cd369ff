"""The model view every gridgov screen of rows is made from (``ScopedModelView``): FAB's
ModelView with the user's scope on every path to a row, the service's checks on create, edit
and delete (the refusal shown next to its field), personal data masked for who does not manage
the rows, and bulk actions that read their rows through the scope (FAB's do not)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, session
from flask_appbuilder import ModelView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.core import UnboundField

from ..extensions import appbuilder, cache, db
from ..services.errors import DomainError
from ..services.unit_of_work import unit_of_work
from ..uploads import keep_uploads
from . import urltools
from .access_log import PersonalDataLog
from .export import ExportMixin
from .fields import label_empty_choices, number_fields
from .filters import (SCOPED, current_scope, local_time_searches, replace_search_filters, scope_relation_choices,
                      type_searched_relations)
from .interface import EagerInterface, eager_loads
from .lists import ListArguments
from .pickers import PickerMixin
from .rendering import blank_if_none
from .widgets import SearchWidget


class ScopedModelView(PersonalDataLog, ExportMixin, ListArguments, PickerMixin, ModelView):
    """A ModelView whose every path to a row goes through the user's scope.

    list/show/edit/delete use ``base_filters``; relation choices in add, edit and search forms
    use the same filter; create, edit and delete run the service ``check`` and the bulk
    action reloads its rows through the scope (FAB's ``action_post`` does not); what it shows of
    people's personal data in clear is logged (``PersonalDataLog``)."""

    base_filters = SCOPED
    page_size = 20
    search_widget = SearchWidget
    # The bulk delete is covered by the view's can_delete permission, not one of its own.
    method_permission_name = {"muldelete": "delete"}
    # Columns holding personal data, masked for users who cannot edit this view's rows.
    masked_columns: dict = {}
    # Records that change only through their workflow (incidents, whistles…) offer no bulk delete.
    bulk_actions = True

    def __init__(self, *args, **kwargs):
        self.formatters_columns = dict(self.formatters_columns or {})
        for column, masker in self.masked_columns.items():
            self.formatters_columns[column] = self._masking(column, masker)
        # FAB prints an empty value as the English word "None".
        for column in set(self.list_columns or []) | set(self.show_columns or []):
            self.formatters_columns.setdefault(column, blank_if_none)
        super().__init__(*args, **kwargs)
        if not self.bulk_actions:
            self.actions = {}
        if isinstance(self.datamodel, EagerInterface):
            self.datamodel.print_on_record(self.show_columns or self.list_columns or [])
            self.datamodel.list_eager_options = eager_loads(self.datamodel.obj, self.list_columns or [])

    def _init_properties(self):
        super()._init_properties()
        type_searched_relations(self)
        local_time_searches(self)
        extra = self.search_form_extra_fields
        # A closed list (status, level…) is searched by equality, not FAB's "starts with".
        for column, field in extra.items():
            if column in self.search_columns and isinstance(field, UnboundField) \
                    and field.field_class is SelectField and not self.datamodel.is_relation(column):
                self.replace_search_filters(column, FilterEqual, FilterNotEqual)
        scope_relation_choices(self)

    def replace_search_filters(self, column: str, *filter_classes) -> None:
        replace_search_filters(self, column, *filter_classes)

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            number_fields(form, self.datamodel)
            label_empty_choices(form)

    # --- the list page ------------------------------------------------------------------
    def list_extra(self) -> dict:
        """More context for the list template (figures, quick filters…)."""
        return {}

    @expose("/list/")
    @has_access
    def list(self):
        self.update_redirect()
        return self.render_template(self.list_template, title=self.list_title, widgets=self._list(),
                                    **self.list_extra())

    def hidden_columns(self) -> frozenset:
        """The masked columns this user sees masked: never sorted or filtered on either, or the
        order of the rows would tell the hidden phones and ID numbers."""
        return frozenset(column for column in self.masked_columns if not self.sees_in_clear(column))

    # --- personal data ----------------------------------------------------------------
    def manages_rows(self) -> bool:
        """Users who may edit these rows (inside their scope) see personal data in clear, and so
        does a volunteer, whose scope is their own record."""
        if current_scope().kind == "volunteer":
            return True
        return appbuilder.sm.has_access("can_edit", self.class_permission_name)

    def sees_in_clear(self, column: str) -> bool:
        """Whether this user is shown the masked column ``column`` in clear: who manages the rows
        (a view may ask more of a column, as the residents' sensitive tags do)."""
        return self.manages_rows()

    def cell_in_clear(self, column: str) -> bool:
        """``sees_in_clear``, asked once per request and column: a list's masked cells ask it for
        every row."""
        return cache.per_request(("in clear", type(self).__name__, column), lambda: self.sees_in_clear(column))

    def _masking(self, column, masker):
        def format_value(value):
            if value is None:
                return ""
            return value if self.cell_in_clear(column) else masker(value)

        return format_value

    # --- service checks ---------------------------------------------------------------
    def check(self, item, *, is_new: bool, original: dict) -> None:
        """Run the domain rules for ``item``; raise DomainError to refuse."""

    def apply(self, item, *, is_new: bool, original: dict) -> None:
        """Write what goes with ``item`` in the same transaction (it is flushed, not committed)."""

    def check_delete(self, item) -> None:
        """Raise DomainError to refuse deleting ``item``."""

    def _original(self, item) -> dict:
        return {}

    def _refuse(self, form, error: DomainError) -> None:
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = list(field.errors or []) + [str(error)]
        flash(str(error), "danger")

    def _save(self, form, item, *, is_new: bool, original: dict) -> bool:
        session = db.session
        try:
            # one unit of work: the services the checks and ``apply`` call join it
            with unit_of_work(session):
                with session.no_autoflush:
                    form.populate_obj(item)
                    self.check(item, is_new=is_new, original=original)
                    if is_new:
                        self.pre_add(item)
                    else:
                        self.pre_update(item)
                if is_new:
                    session.add(item)
                session.flush()
                self.apply(item, is_new=is_new, original=original)
            keep_uploads()
        except DomainError as error:  # a database refusal too: the unit of work logged its constraint
            self._refuse(form, error)
            return False
        if is_new:
            self.post_add(item)
            flash(self.add_row_message, "success")
        else:
            self.post_update(item)
            flash(self.edit_row_message, "success")
        return True

    def _add(self):
        self._read_filter_args(searched_only=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                if self._save(form, self.datamodel.obj(), is_new=True, original={}):
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        pages, page_sizes, orders = urltools.get_page_args(), urltools.get_page_size_args(), urltools.get_order_args()
        self._read_filter_args(searched_only=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self.keep_present(form, item)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, is_new=False, original=self._original(item)):
                    return None
                item = self.datamodel.get(pk, self._base_filters)
                if not item:
                    abort(404)
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(
            item, filters={}, orders=orders, pages=pages, page_sizes=page_sizes, widgets=widgets
        )

    def _delete_item(self, item) -> bool:
        try:
            with unit_of_work(db.session):
                self.check_delete(item)
                self.pre_delete(item)
                db.session.delete(item)
        except DomainError as error:
            flash(str(error), "danger")
            return False
        self.post_delete(item)
        return True

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        if self._delete_item(item):
            flash(self.delete_row_message, "success")
        self.update_redirect()

    # --- bulk actions -----------------------------------------------------------------
    def _scoped_items(self, pks):
        items = []
        for pk in pks:
            item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
            if item is None:
                abort(404)
            items.append(item)
        return items

    def _get_show_widget(self, pk, item, *args, **kwargs):
        cache.keep_in_request("record shown", item)  # the record FAB's show just read through the scope
        return super()._get_show_widget(pk, item, *args, **kwargs)

    def record_shown(self, pk):
        """The record ``_show`` read in this request (a record page needs it twice: FAB's widget
        and the page's own parts), else read again through the scope."""
        item = cache.in_request("record shown")
        cache.keep_in_request("record shown", None)
        if item is not None and str(self.datamodel.get_pk_value(item)) == str(pk):
            return item
        return self.datamodel.get(pk, self._base_filters)

    def after_action(self):
        """Back to the page the action was taken from (the list, or a record's page). FAB's
        get_redirect() steps back past it, as after a form, and left the user on the page before."""
        history = session.get("page_history") or []
        return redirect(history[-1] if history else self.get_redirect())

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):  # single-row actions go through the scope too
        return self._run_action(name, [pk])

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        return self._run_action(request.form.get("action", ""), request.form.getlist("rowid"))

    def _run_action(self, name, pks):
        if name not in self.actions:
            abort(404)
        permission_name = self.get_action_permission_name(name)
        if not appbuilder.sm.has_access(permission_name, self.class_permission_name):
            flash(str(_l("Access is Denied")), "danger")
            return self.after_action()
        return self.actions[name].func(self._scoped_items(pks))

    @fab_action(
        "muldelete",
        _l("Delete"),
        _l("Delete all selected records?"),
        "fa-trash",
        single=False,
    )
    def muldelete(self, items):
        deleted = 0
        for item in items:
            if self._delete_item(item):
                deleted += 1
        if deleted:
            flash(str(_l("Deleted %(count)s records.", count=deleted)), "success")
        return self.after_action()

