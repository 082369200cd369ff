"""Typed pickers for a form's choice of a grid, worker, volunteer or login.

FAB draws a many-to-one (or many-to-many) relation as a drop-down of every related row the
scope may see, which at city size is tens of thousands of rows in one form. A picked field
carries only its chosen row(s); Select2 asks the view's ``pick/<column>`` endpoint for the rows
a typed text names, a page at a time. A submitted key is read back through the user's scope: a
key outside it is refused as an invalid choice, as FAB's drop-down refused one it did not list."""
from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from ..extensions import appbuilder, db
from ..models import Grid
from ..services import search as search_service
from ..services import typed
from .filters import current_scope, row_key


# A field that takes a community offers grids of community level only.
COMMUNITIES = (Grid.level == "community",)


def _keys(values) -> list[int]:
    return [row_key(value) for value in values]


class PickWidget:
    """A ``<select>`` holding the chosen row(s) only, made a typed search by static/gridgov/pick.js."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        params = {
            "name": field.name, "class": "form-control gridgov-pick",
            "data-pick": url_for(f"{field.view.endpoint}.pick", column=field.column),
            "data-placeholder": _("Type a name to search"),
            "data-blank": "1" if field.allow_blank else "",
        }
        if field.multiple:
            params["multiple"] = True
        chosen = field.chosen()
        # Select2 shows its placeholder on an empty option; the × button clears an optional one
        options = [] if field.multiple or (chosen and not field.allow_blank) else ['<option value=""></option>']
        for key, label in chosen:
            options.append(f'<option value="{escape(key)}" selected>{escape(label)}</option>')
        return Markup(f"<select {html_params(**params, **kwargs)}>{''.join(options)}</select>")


class _Picked:
    """What the single and the multiple picked field share."""

    widget = PickWidget()

    def __init__(self, label=None, validators=None, *, view, column, model, row_model, **kwargs):
        for unused in ("query_func", "get_pk_func", "get_label"):
            kwargs.pop(unused, None)
        super().__init__(label, validators, query_func=lambda: [], get_pk_func=lambda row: row.id, **kwargs)
        self.view, self.column, self.model, self.row_model = view, column, model, row_model
        self._refused = False
        self.present: dict = {}  # key -> row: what the edited record holds now

    def keep_present(self, rows) -> None:
        """The rows the edited record holds now stay valid choices, even when they lie outside the
        editor's scope (a community's parent street for its secretary): keeping them moves
        nothing; choosing another row is checked against the scope."""
        self.present = {row.id: row for row in rows if row is not None}

    def _read(self, keys) -> list:
        keys = _keys(keys)
        rows = search_service.picked(db.session, current_scope(), self.model, keys, as_model=self.row_model)
        by_key = {row.id: row for row in rows}
        by_key.update({key: row for key, row in self.present.items() if key in keys and key not in by_key})
        self._refused = None in keys or len(by_key) != len(set(keys))
        return [by_key[key] for key in dict.fromkeys(keys) if key in by_key]

    def chosen(self) -> list[tuple[str, str]]:
        rows = self.data if self.multiple else ([self.data] if self.data is not None else [])
        return [(str(row.id), search_service.label(db.session, self.model, row)) for row in rows]

    def _get_object_list(self):
        return []  # never every row; the validation reads the submitted keys instead


class PickField(_Picked, QuerySelectField):
    multiple = False

    def _get_data(self):
        if self._formdata is not None:
            rows = self._read([self._formdata]) if self._formdata else []
            self._set_data(rows[0] if rows else None)
        return self._data

    data = property(_get_data, QuerySelectField._set_data)

    def process_formdata(self, valuelist):
        if valuelist:
            self._data = None
            self._formdata = "" if valuelist[0] in ("", "__None") else valuelist[0]

    def pre_validate(self, form):
        # an empty choice is the required/optional validators' to judge
        if self.data is None and self._refused:
            raise StopValidation(_("Not a valid choice"))


class PickMultipleField(_Picked, QuerySelectMultipleField):
    multiple = True

    def _get_data(self):
        if self._formdata is not None:
            self._set_data(self._read([key for key in self._formdata if key]))
        return self._data

    data = property(_get_data, QuerySelectMultipleField._set_data)

    def process_formdata(self, valuelist):
        self._formdata = list(valuelist)

    def pre_validate(self, form):
        if self.data is not None and self._refused:
            raise StopValidation(_("Not a valid choice"))


class PickerMixin:
    """A model view whose add and edit forms pick grids, workers, volunteers and logins by
    typing. ``pick_where``: per column, the SQL conditions of the rows the picker offers (a
    community field offers communities); a submitted key is checked by the view's service."""

    pick_where: dict = {}
    # Pickers of a workflow's own form: column -> (model, the permissions that may use it).
    pick_extra: dict = {}

    def _init_forms(self):
        super()._init_forms()
        self.picked_columns: dict = {}
        for form in (self.add_form, self.edit_form):
            for column in self.datamodel.get_columns_list():
                unbound = getattr(form, column, None)
                if not isinstance(unbound, UnboundField) or not self.datamodel.is_relation(column):
                    continue
                row_model = self.datamodel.get_related_model(column)
                model = search_service.picker_of(row_model)
                if model is None or issubclass(unbound.field_class, _Picked):
                    continue
                many = issubclass(unbound.field_class, QuerySelectMultipleField)
                kwargs = {k: v for k, v in unbound.kwargs.items() if k not in ("widget", "blank_text")}
                setattr(form, column, UnboundField(
                    PickMultipleField if many else PickField, *unbound.args, view=self, column=column,
                    model=model, row_model=row_model, **kwargs))
                self.picked_columns[column] = model
        self.picked_columns.update({column: model for column, (model, _) in self.pick_extra.items()})

    def keep_present(self, form, item) -> None:
        """Let each picked field of an edit form keep the row(s) ``item`` holds now."""
        for column in getattr(self, "picked_columns", {}):
            field = getattr(form, column, None)
            if isinstance(field, _Picked):
                value = getattr(item, column, None)
                field.keep_present(value if field.multiple else [value])

    @expose("/pick/<column>")
    def pick(self, column):
        """The rows a typed text names, as Select2 reads them: {results: [{id, text}], pagination}."""
        model = self.picked_columns.get(column)
        if model is None:
            abort(404)
        name = self.class_permission_name
        permissions = self.pick_extra[column][1] if column in self.pick_extra else ("can_add", "can_edit")
        if not any(appbuilder.sm.has_access(permission, name) for permission in permissions):
            abort(403)
        page = request.args.get("page", "1")
        rows, more = search_service.pick(
            db.session, current_scope(), model, request.args.get("q", ""),
            page=min(typed.as_key(page) or 1, 99999),
            where=tuple(self.pick_where.get(column, ())))
        return jsonify(results=[{"id": key, "text": label} for key, label in rows], pagination={"more": more})
