"""What every gridgov model view shares: the scope filter on every path to a row, service
checks on create/edit/delete with the message shown next to the field, masking of personal
data, and labels for closed lists."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextvars import ContextVar
from decimal import Decimal
from typing import NamedTuple

from flask import abort, flash, g, redirect, request, session
from flask_appbuilder import ModelView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (FilterEqual, FilterNotEqual, FilterRelationOneToManyEqual,
                                                  FilterRelationOneToManyNotEqual, SQLAFilterConverter)
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.widgets import RenderTemplateWidget
from flask_appbuilder.widgets import SearchWidget as FabSearchWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import get_locale
from markupsafe import Markup, escape
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, false, func, or_, select, true
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm import MANYTOONE, aliased, contains_eager, joinedload, outerjoin, selectinload
from wtforms import BooleanField, DecimalField, SelectField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import InputRequired, Optional

from ..extensions import appbuilder, db
from ..fab import urltools
from ..models import Department, IncidentCategory, PointsRule
from ..services import scope as scope_service
from ..services import search as search_service
from ..services.db_errors import explain
from ..services.errors import DomainError, OutOfScope
from .pickers import PickerMixin
from .uploads import keep_uploads

log = logging.getLogger(__name__)


def attempt(call):
    """Run a service call for a custom view: a row outside the scope is a 404, a refusal is a
    flashed message (the service's unit of work wrote nothing); returns the call's result, or None
    when refused."""
    try:
        return call()
    except OutOfScope:
        abort(404)
    except DomainError as error:
        flash(str(error), "danger")
        return None


def current_user_id() -> int | None:
    user = getattr(g, "user", None)
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def current_scope() -> scope_service.Scope:
    """The logged-in user's scope, computed once per request."""
    if "gridgov_scope" not in g:
        user = getattr(g, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            g.gridgov_scope = scope_service.NOTHING
        else:
            signed_in = g.get("gridgov_signed_in")  # kept by the security manager's load_user
            if signed_in is not None and signed_in.user.id == user.id:
                g.gridgov_scope = signed_in.scope
            else:
                g.gridgov_scope = scope_service.scope_for_user(db.session, user)
    return g.gridgov_scope


# Set while FAB reads one record (show, edit, delete): its page prints more relations than a list.
_ONE_ROW: ContextVar[bool] = ContextVar("gridgov_one_row", default=False)

# Record statements kept per interface (one per scope that read a record lately).
RECORDS_KEPT = 256
_RECORDS_LOCK = threading.Lock()

# A list counts its rows up to this many and then says "10,000+"; paging stops there too.
COUNT_CAP = 10_000
# The largest page a list shows (FAB's list offers 25 to 100 rows a page).
MAX_PAGE_SIZE = 100


class ConvertOnceFilterConverter(SQLAFilterConverter):
    """FAB makes a ``Filters`` object three times per list request and each turns every column
    of the model into its filter objects again (~45 on an incident). Which filters a column has
    depends only on the model, so each column is converted once per interface; every ``Filters``
    gets its own list (FAB extends them in place), the filter objects hold no request state."""

    def convert(self, col_name):
        converted = self.datamodel.converted_filters
        if col_name not in converted:
            converted[col_name] = super().convert(col_name)
        found = converted[col_name]
        return None if found is None else list(found)


class EagerInterface(SQLAInterface):
    """FAB's SQLAInterface made for large tables: the related rows a list or show page prints are
    loaded with the rows (joined) or in one query per collection, never one per row; a list counts at most
    ``COUNT_CAP`` + 1 rows instead of all of them; and no page lies beyond the cap, so an OFFSET
    never walks more than ``COUNT_CAP`` rows."""

    filter_converter_class = ConvertOnceFilterConverter
    eager_options: tuple = ()  # what one record's page prints
    list_eager_options: tuple | None = None  # what a list prints; None: the same
    # A record read by its key: its row with the plain many-to-one relations its page prints
    # (``read_beside``), and what else its page loads.
    beside: Beside | None = None
    beside_options: tuple = ()

    def print_on_record(self, columns) -> None:
        """Load what a record's page prints of ``columns``: joined into FAB's general read, and,
        read by key, the plain many-to-one relations beside the record."""
        self.eager_options = eager_loads(self.obj, columns)
        names = beside_relations(self.obj, columns)
        if len(names) < BESIDE_FROM:
            names = ()
        self.beside = read_beside(self.obj, names) if names else None
        self.beside_options = eager_loads(self.obj, [column for column in columns if column not in names])
        self.records.clear()

    def also_load(self, *options) -> None:
        """More for a record's page to load (a collection and what it prints)."""
        self.eager_options += options
        self.beside_options += options
        self.records.clear()

    def with_record_loads(self, statement):
        """``statement`` (a select or a Query of the model) loading what a record's page prints:
        the relations beside the record, when the interface has them, and the rest."""
        if self.beside is None:
            return statement.options(*self.eager_options)
        return statement.select_from(self.beside.source).options(*self.beside.options, *self.beside_options)

    def record_statement(self, scope, scope_filters):
        """The statement reading one record by its key (the parameter ``record_key``) within
        ``scope`` (the conditions of ``scope_filters``, a view's base filters), with what its
        page prints: made once per scope and kept (the most recent ``RECORDS_KEPT``).
        SQLAlchemy keeps a statement's cache key on it, so a kept statement skips making the
        key again (~0.3 ms for an incident's) and building it (~0.2 ms)."""
        with _RECORDS_LOCK:
            found = self.records.get(scope)
            if found is not None:
                self.records.move_to_end(scope)
                return found
        (key,) = sa_inspect(self.obj).primary_key
        statement = self.with_record_loads(select(self.obj)).where(
            key == bindparam("record_key", type_=key.type), *(flt.condition(scope) for flt in scope_filters))
        with _RECORDS_LOCK:
            self.records[scope] = statement
            while len(self.records) > RECORDS_KEPT:
                self.records.popitem(last=False)
        return statement

    def __init__(self, *args, **kwargs):
        self.converted_filters: dict = {}
        self.records: OrderedDict = OrderedDict()  # scope -> record_statement
        super().__init__(*args, **kwargs)

    def _eager(self) -> tuple:
        if self.list_eager_options is None or _ONE_ROW.get():
            return self.eager_options
        return self.list_eager_options

    def apply_all(self, query, *args, **kwargs):
        query = super().apply_all(query, *args, **kwargs)
        options = self._eager()
        return query.options(*options) if options else query

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        """One row by its key through ``filters`` (the scope), with what its page prints. A
        single integer key is read with one filtered query; FAB's general ``get`` builds a
        filter set, an ORDER BY and the joins of a list for it (a sixth of a record page)."""
        token = _ONE_ROW.set(True)
        try:
            (key, *more) = sa_inspect(self.obj).primary_key
            if more or select_columns or outer_default_load or not isinstance(key.type, Integer):
                return super().get(id, filters, select_columns, outer_default_load)
            value = row_key(id)
            if value is None:  # not a key ("abc", -1, past the integer range): no such row
                return None
            if filters is not None and filters.filters and all(isinstance(flt, ScopeFilter) for flt in filters.filters):
                statement = self.record_statement(current_scope(), filters.filters)
                return self.session.execute(statement, {"record_key": value}).unique().scalar_one_or_none()
            query = self.with_record_loads(self.session.query(self.obj)).filter(key == value)
            if filters is not None:
                query = filters.apply_all(query)
            return query.one_or_none()
        finally:
            _ONE_ROW.reset(token)

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        # the key, not a constant: FAB may make the query DISTINCT
        capped = inner.with_entities(*sa_inspect(self.obj).primary_key).limit(COUNT_CAP + 1).subquery()
        return self.session.scalar(select(func.count()).select_from(capped))

    def apply_pagination(self, query, page, page_size):
        return super().apply_pagination(query, capped_page(page, page_size), page_size)

    def index_page(self, filters, order_column: str, order_direction: str, offset: int,
                   limit: int, cap: int) -> tuple[int, list] | None:
        """(count up to ``cap`` + 1, primary keys of the page) read from an index alone, for the
        lists a subclass knows how to serve that way; None sends the list to the general query."""
        return None

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        try:
            return self._query(filters, order_column, order_direction, page, page_size, select_columns,
                               outer_default_load)
        except (DataError, ApplyFilterException):  # a typed value its column cannot hold ("abc" for a date)
            self.session.rollback()
            flash(_("A search value does not fit its field, so nothing was searched for."), "warning")
            return 0, []

    def _query(self, filters, order_column, order_direction, page, page_size, select_columns,
               outer_default_load):
        if not page_size and not select_columns:  # every row (a form's choices): no count query
            rows = self.apply_all(self.session.query(self.obj), filters, order_column, order_direction,
                                  outer_default_load=outer_default_load).all()
            return len(rows), rows
        if page_size:
            page = capped_page(page, page_size) or 0
            fast = self.index_page(filters, order_column, order_direction, page * page_size, page_size, COUNT_CAP)
            if fast is not None:
                count, keys = fast
                return count, self._rows(keys)
            if not select_columns and self._eager() and len(sa_inspect(self.obj).primary_key) == 1:
                return self._keys_then_rows(filters, order_column, order_direction, page, page_size)
        return super().query(filters, order_column, order_direction, page, page_size, select_columns,
                             outer_default_load)

    def _rows(self, keys: list) -> list:
        """The rows of these keys, in their order, with the related rows they print."""
        (key,) = sa_inspect(self.obj).primary_key
        rows = {getattr(row, key.key): row for row in
                self.session.query(self.obj).filter(key.in_(keys)).options(*self._eager())}
        return [rows[k] for k in keys if k in rows]

    def _keys_then_rows(self, filters, order_column, order_direction, page, page_size):
        """A page's keys first (filters, order and OFFSET without the related rows), then its 20
        rows with what they print. Joined into the paged query, the related rows were joined to
        every matching row before the sort: a street's ledger joined 13,420 entries to their
        accounts and holders for a page of 20 (38 ms of SQL at city size)."""
        query = self.session.query(self.obj)
        count = self.query_count(query, filters)
        (key,) = sa_inspect(self.obj).primary_key
        paged = self._apply_inner_all(query, filters, order_column, order_direction, page, page_size,
                                      aliases_mapping={})
        return count, self._rows([row[0] for row in paged.with_entities(key)])


def capped_page(page, page_size):
    """No page lies beyond ``COUNT_CAP`` rows: a deeper page number shows the last page, a
    negative one the first."""
    if page is not None and page < 0:
        return 0
    if page and page_size and page * page_size >= COUNT_CAP:
        return max(0, (COUNT_CAP - 1) // page_size)
    return page


def eager_loads(model, columns) -> tuple:
    """Eager loading for every relation among ``columns``, and for the relations the related
    model's own name is made of (``__repr_relations__``, e.g. an account's holder)."""
    options = []
    mapper = sa_inspect(model)
    for column in dict.fromkeys(columns):
        relationship = mapper.relationships.get(column)
        if relationship is None:
            continue
        option = _eager_option(relationship, getattr(model, column))
        target = relationship.mapper.class_
        nested = [_eager_option(sa_inspect(target).relationships[name], getattr(target, name))
                  for name in getattr(target, "__repr_relations__", ())]
        options.append(option.options(*nested) if nested else option)
    return tuple(options)


def beside_relations(model, columns) -> tuple:
    """The plain many-to-one relations among ``columns`` (by foreign key, no association table,
    the related row made and named of its own table's columns): ``read_beside`` reads them."""
    mapper = sa_inspect(model)
    found = []
    for column in dict.fromkeys(columns):
        relationship = mapper.relationships.get(column)
        if relationship is not None and relationship.direction is MANYTOONE and relationship.secondary is None \
                and not getattr(relationship.mapper.class_, "__repr_relations__", ()) \
                and _plain_columns(relationship.mapper):
            found.append(column)
    return tuple(found)


# Read beside a record from this many relations on: with fewer, PostgreSQL's join search costs
# less than the subqueries (a LATERAL row costs more to run and, in SQLAlchemy, to load).
BESIDE_FROM = 4


def _plain_columns(mapper) -> bool:
    """Every attribute of the mapper a column of its own table: a SQL expression (a total over
    another table) read from a subquery beside the record could correlate to the record's own
    tables instead of its own row."""
    table = mapper.local_table
    return all(len(attribute.columns) == 1 and attribute.columns[0].table is table
               for attribute in mapper.column_attrs)


class Beside(NamedTuple):
    names: tuple  # the relations
    source: object  # the FROM clause: the model's table and a LATERAL subquery per relation
    options: tuple  # loader options filling each relation from its subquery


def read_beside(model, names) -> Beside:
    """How to read one ``model`` row with its many-to-one relations ``names``, each by a LATERAL
    subquery kept apart from the join search (its LIMIT 1, which a row by its key meets anyway,
    keeps PostgreSQL from merging it into the join). Joined to the row, a record's five
    related rows made PostgreSQL weigh every order of six tables: planning an incident's page
    took 0.6-0.8 ms, running it 0.06; this way 0.3 and 0.14. Made once per interface: the same
    objects in every query keep SQLAlchemy's compiled statement."""
    source, options = model, []
    for name in names:
        relationship = sa_inspect(model).relationships[name]
        target = relationship.mapper.class_
        inner = relationship.mapper.local_table.alias()  # a table's columns: a cheaper cache key
        match = and_(*(inner.corresponding_column(remote) == local
                       for local, remote in relationship.local_remote_pairs))
        related = aliased(target, select(inner).where(match).limit(1).lateral())
        source = outerjoin(source, related, true())
        options.append(contains_eager(getattr(model, name).of_type(related)))
    return Beside(tuple(names), source, tuple(options))


def _eager_option(relationship, attribute):
    """A row's one related row joins into the same query; a collection loads in one more."""
    return selectinload(attribute) if relationship.uselist else joinedload(attribute)


_FIXED_FIELDS: dict = {}  # (view, column, language) -> a search field of fixed choices or text
_KEPT: dict = {}
_KEPT_MOST = 5000
# Rows a search form offers as a drop-down that ``reference_version`` follows (migration 0012).
KEPT_CHOICES = (IncidentCategory, Department, PointsRule)


def kept(key, make):
    """``make()``, kept under ``key`` until ``auth_version`` or ``reference_version`` moves (the
    request's numbers, read with its user): for what is made of accounts, grid paths, categories,
    departments or points rules only. Made afresh when the request has no numbers."""
    versions = g.get("gridgov_versions")
    if versions is None:
        return make()
    if _KEPT.get("versions") != versions:  # what was kept under other numbers goes
        _KEPT.clear()
        _KEPT["versions"] = versions
    key = (key, versions)
    if key not in _KEPT:
        if len(_KEPT) >= _KEPT_MOST:
            _KEPT.clear()
        _KEPT[key] = make()
    return _KEPT[key]


def forget_kept() -> None:
    """Drop what ``kept`` holds (a test that recreates the database sets the numbers back)."""
    _KEPT.clear()


class SearchWidget(FabSearchWidget):
    """FAB's search widget, each field's HTML made once per view and language: a list page
    renders every search field (hidden until chosen) on every request. A drop-down of rows (a
    category, a department, a rule) is kept per scope until ``reference_version`` or
    ``auth_version`` moves (a change to those rows, or to grid paths); of other rows it is made
    afresh."""

    def __call__(self, **kwargs):
        form = self.template_args["form"]
        route, locale = self.template_args.get("route_base"), str(get_locale())
        dict_filters = self.filters.get_search_filters()
        label_columns, form_fields, search_filters = {}, {}, {}
        for col in self.template_args["include_cols"]:
            field = form[col]
            label_columns[col] = str(field.label.text)
            if request.method != "GET":
                form_fields[col] = field()
            elif not field.type.startswith("QuerySelect"):
                key = (route, col, locale)
                if key not in _FIXED_FIELDS:
                    _FIXED_FIELDS[key] = field()
                form_fields[col] = _FIXED_FIELDS[key]
            elif self.filters.datamodel.get_related_model(col) in KEPT_CHOICES:
                form_fields[col] = kept(("search field", route, col, locale, current_scope()), field)
            else:
                form_fields[col] = field()
            search_filters[col] = [str(flt.name) for flt in dict_filters[col]]
        kwargs.update(label_columns=label_columns, form_fields=form_fields, search_filters=search_filters,
                      active_filters=self.filters.get_filters_values_tojson())
        return RenderTemplateWidget.__call__(self, **kwargs)


class ScopeFilter(BaseFilter):
    """FAB filter that keeps only the rows of the filtered model the user's scope may see."""

    name = "scope"
    arg_name = None

    def condition(self, scope):
        return scope_service.visible(scope, self.model)

    def apply(self, query, value):
        return query.filter(self.condition(current_scope()))


SCOPED = [["id", ScopeFilter, None]]


class FilterRelatedText(BaseFilter):
    """A relation searched by typing: the rows whose related grid (with its sub-grids), worker
    or volunteer the text names. Replaces FAB's drop-down of every related row."""

    name = _l("Named")
    arg_name = "tx"

    def apply(self, query, value):
        if not search_service.clean(value):
            return query
        related = getattr(self.model, self.column_name).property.mapper.class_
        return query.filter(_foreign_key(self.model, self.column_name)
                            .in_(search_service.matching_ids(related, value)))


row_key = search_service.as_key  # a typed primary key, or None


def _foreign_key(model, relation: str):
    (column,) = getattr(model, relation).property.local_columns
    return getattr(model, column.key)


class FilterRelationIs(FilterRelationOneToManyEqual):
    """The rows related to the chosen row (FAB's filter without loading that row first; a value
    that is no key finds nothing instead of a database error)."""

    def apply(self, query, value):
        key = row_key(value)
        return query.filter(_foreign_key(self.model, self.column_name) == key if key is not None else false())


class FilterRelationIsNot(FilterRelationOneToManyNotEqual):
    def apply(self, query, value):
        key = row_key(value)
        column = _foreign_key(self.model, self.column_name)
        return query.filter(or_(column != key, column.is_(None))) if key is not None else query


def choice_field(label, labels: dict, required: bool = True, description="") -> SelectField:
    return SelectField(
        label,
        choices=[(key, text) for key, text in labels.items()],
        validators=[InputRequired()] if required else [Optional()],
        widget=Select2Widget(),
        description=description,
    )


class NumberField(DecimalField):
    """A number typed into a form for a column of ``precision`` digits, ``scale`` of them after
    the point, refused with a message unless the column holds it as typed: Python reads "NaN"
    and "Infinity" as numbers (a comparison with NaN raises: a 500), PostgreSQL would round
    0.05 to 0.1 in a column of one place, and refuses more digits before the point."""

    def __init__(self, label=None, validators=None, precision=None, scale=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.precision, self.scale = precision, scale

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        value = self.data
        if value is None:
            return
        if not value.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        if self.precision is not None and value and value.adjusted() >= self.precision - (self.scale or 0):
            self.data = None
            raise ValueError(_("Too large a number: at most %(digits)s digits before the decimal point.",
                               digits=self.precision - (self.scale or 0)))
        if self.scale is not None and value != value.quantize(Decimal(1).scaleb(-self.scale)):
            self.data = None
            raise ValueError(_("Too many decimal places: at most %(places)s.", places=self.scale))


def number_fields(form, datamodel) -> None:
    """Make each DecimalField FAB made for a Numeric column of ``form`` a ``NumberField``."""
    for name in dir(form):
        unbound = getattr(form, name, None)
        if not isinstance(unbound, UnboundField) or unbound.field_class is not DecimalField:
            continue
        column_type = getattr(datamodel.list_columns.get(name), "type", None)
        number = UnboundField(NumberField, *unbound.args, precision=getattr(column_type, "precision", None),
                              scale=getattr(column_type, "scale", None), **unbound.kwargs)
        number.creation_counter = unbound.creation_counter  # the form keeps its order
        setattr(form, name, number)


def flag_field(label, description="") -> BooleanField:
    """A checkbox: FAB would make a NOT NULL boolean 'required', so unticked could not be saved."""
    return BooleanField(label, description=description, default=False)


def label_of(labels: dict):
    def label(value):
        return labels.get(value, value) if value is not None else ""

    label.gridgov_pure = True
    return label


def blank_if_none(value):
    return "" if value is None else value


def yes_no(value) -> str:
    return str(_l("Yes")) if value else str(_l("No"))


yes_no.gridgov_pure = True


def list_rows(value_columns, pks, columns, formatters, checkbox: bool, links: tuple, texts: dict,
              nonce: str, placeholder: str) -> Markup:
    """The rows of a list page's table, made in Python (FAB's widget does it in Jinja, a call
    wrapper and an escape per cell, and translates a status label again in every row).

    ``links`` are the show/edit/delete URLs with ``placeholder`` standing for the key (or None);
    ``texts`` the buttons' titles, translated once per page. A formatter marked
    ``gridgov_pure`` (a closed list's labels) gives the same text for the same value, so each
    label is made once per page."""
    show, edit, delete = (None if link is None else str(escape(link)) for link in links)
    placeholder = str(escape(placeholder))
    texts = {name: str(escape(text)) for name, text in texts.items()}
    memo: dict = {}
    out: list[str] = []
    add = out.append
    for item, pk in zip(value_columns, pks):
        key = str(escape(pk))
        add("<tr>")
        if checkbox:
            add(f'<td><input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox"></td>')
        if show or edit or delete:
            add('<td><center><div class="btn-group btn-group-xs" style="display: flex;">')
            if show:
                add(f'<a href="{show.replace(placeholder, key)}" class="btn btn-sm btn-default" data-toggle="tooltip"'
                    f' rel="tooltip" title="{texts["show_title"]}"><span class="sr-only">{texts["show_text"]}</span>'
                    '<i class="fa fa-search"></i></a>')
            if edit:
                add(f'<a href="{edit.replace(placeholder, key)}" class="btn btn-sm btn-default" data-toggle="tooltip"'
                    f' rel="tooltip" title="{texts["edit_title"]}"><span class="sr-only">{texts["edit_text"]}</span>'
                    '<i class="fa fa-edit"></i></a>')
            if delete:
                href = delete.replace(placeholder, key)
                add(f'<a id="btn-delete-{href}" href="#" class="btn btn-sm btn-default confirm" rel="tooltip"'
                    f' title="{texts["delete_title"]}"><span class="sr-only">{texts["delete_text"]}</span>'
                    f'<i class="fa fa-trash"></i></a><script nonce="{nonce}">document.getElementById('
                    f'"btn-delete-{href}").addEventListener("click", function () {{ return new AdminActions()'
                    f".execute_single_delete('{href}', '{texts['delete_question']}'); }})</script>")
            add("</div></center></td>")
        for column in columns:
            value = item[column]
            formatter = formatters.get(column)
            if formatter is None or formatter is blank_if_none:
                cell = "" if value is None and formatter else escape(value)
            elif getattr(formatter, "gridgov_pure", False):
                cell = memo.get((column, value))
                if cell is None:
                    cell = memo[(column, value)] = escape(formatter(value))
            else:
                cell = escape(formatter(value))
            add(f"<td>{cell}</td>")
        add("</tr>")
    return Markup("".join(out))


_TEXTS: dict = {}
_TEXTS_MOST = 1000


def texts(mapping: dict) -> dict:
    """A long-lived mapping of labels (a view's column labels, a closed list's) with each label
    in the request's language, made once per mapping and language: a page that prints a status
    or an action in every row would translate the same label again in each."""
    key = (id(mapping), str(get_locale()))
    found = _TEXTS.get(key)
    if found is None or found[0] is not mapping:  # the id of a mapping that is gone, reused
        if len(_TEXTS) >= _TEXTS_MOST:
            _TEXTS.clear()
        # a lazy text is printed as it is (Jinja does not escape what has __html__): so here
        found = _TEXTS[key] = (mapping, {name: Markup(text.__html__()) if hasattr(text, "__html__") else text
                                         for name, text in mapping.items()})
    return found[1]


def show_rows(fields, columns, values, labels: dict, formatters: dict) -> Markup:
    """The rows of a record's page, a label and a value for each of ``fields``, made in Python
    (FAB's show widget calls a macro per row, which looks the value up and translates the label);
    ``values`` are in the order of ``columns``."""
    value_of = dict(zip(columns, values))
    labels = texts(labels)
    out = []
    for field in fields:
        formatter = formatters.get(field)
        value = formatter(value_of[field]) if formatter else value_of[field]
        out.append(f'<tr><th class="col-lg-2 col-md-2 col-sm-2">{escape(labels.get(field))}</th>'
                   f'<td><span style="white-space: pre-line">{escape(value)}</span></td></tr>')
    return Markup("".join(out))


def replace_search_filters(view, column: str, *filter_classes) -> None:
    """Search ``column`` with these filters only (FAB keeps two lists: the one the search form
    offers and the one the URL's ``_flt_<n>_<column>`` is read from)."""
    filters = [cls(column, view.datamodel) for cls in filter_classes]
    view._filters._search_filters[column] = filters
    view._filters._all_filters[column] = filters


def type_searched_relations(view) -> None:
    """A search by grid, worker or volunteer is typed (FAB's drop-down of every such row takes
    seconds to draw at city size); another relation is picked by its key, checked."""
    extra = dict(view.search_form_extra_fields or {})
    for column in view.search_columns:
        if view.datamodel.is_relation_many_to_one(column) and \
                view.datamodel.get_related_model(column) in search_service.MATCHERS:
            replace_search_filters(view, column, FilterRelatedText)
            extra.setdefault(column, StringField(view.label_columns.get(column, column)))
        elif view.datamodel.is_relation_many_to_one(column):
            replace_search_filters(view, column, FilterRelationIs, FilterRelationIsNot)
    view.search_form_extra_fields = extra


class ListArguments:
    """A FAB model view whose lists (its own and the related lists of a record page) take their
    order, page, page size and filters from the URL through ``app.fab.urltools``: what is not one
    is left out, an order the user may not sort by falls back to the default order, a page size
    outside 1 to ``MAX_PAGE_SIZE`` to the default, a negative page to the first. FAB's own
    readers made each of those a 500."""

    def hidden_columns(self) -> frozenset:
        """Columns this user may neither sort nor filter on."""
        return frozenset()

    def sortable_columns(self) -> list:
        """The columns this user may sort the list by (and the page offers to)."""
        hidden = self.hidden_columns()
        return [column for column in self.order_columns if column not in hidden]

    def _read_filter_args(self, searched_only: bool = True) -> None:
        urltools.get_filter_args(self._filters, disallow_if_not_in_search=searched_only,
                                 hidden=self.hidden_columns())

    def _list(self, **kwargs):
        """FAB's list, its arguments read by ``app.fab.urltools`` (what is not one is left out)."""
        name = self.__class__.__name__
        order_column, order_direction = urltools.get_order_args().get(name, ("", ""))
        self._read_filter_args()
        widgets = self._get_list_widget(filters=self._filters, order_column=order_column,
                                        order_direction=order_direction, page=urltools.get_page_args().get(name),
                                        page_size=urltools.get_page_size_args().get(name), **kwargs)
        form = self.search_form.refresh()
        self.update_redirect()
        return self._get_search_widget(form=form, widgets=widgets)

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **kwargs):
        """FAB's list widget (a list page's or a related list's) for what the user may ask of it:
        an order by a column they may not sort by goes back to the default order, a page size
        outside 1 to ``MAX_PAGE_SIZE`` to the default, a negative page to the first."""
        widgets = widgets or {}
        sortable = self.sortable_columns()
        if order_column not in sortable or order_direction not in ("asc", "desc"):
            order_column, order_direction = self.base_order or ("", "")
        if page_size is None or not 0 < page_size <= MAX_PAGE_SIZE:
            page_size = self.page_size
        if page is not None and page < 0:
            page = None
        joined_filters = filters.get_joined_filters(self._base_filters)
        count, rows = self.datamodel.query(joined_filters, order_column, order_direction, page=page,
                                           page_size=page_size)
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns,
            include_columns=self.list_columns,
            value_columns=self.datamodel.get_values(rows, self.list_columns),
            order_columns=sortable,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            pks=[self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(rows)],
            actions=actions or self.actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            **kwargs,
        )
        return widgets

    def _show(self, pk):
        """FAB's record page, the arguments of its related lists read by ``app.fab.urltools``."""
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        widgets = self._get_show_widget(pk, item)
        self.update_redirect()
        return self._get_related_views_widgets(item, orders=urltools.get_order_args(), pages=urltools.get_page_args(),
                                               page_sizes=urltools.get_page_size_args(), widgets=widgets)


class ScopedModelView(ListArguments, PickerMixin, ModelView):
    """A ModelView whose every path to a row goes through the user's scope.

    list/show/edit/delete use ``base_filters``; relation choices in add, edit and search forms
    use the same filter; create, edit and delete run the service ``check`` and the bulk
    action reloads its rows through the scope (FAB's ``action_post`` does not)."""

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
            self.formatters_columns[column] = self._masking(masker)
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
        extra = self.search_form_extra_fields
        # A closed list (status, level…) is searched by equality, not FAB's "starts with".
        for column, field in extra.items():
            if column in self.search_columns and isinstance(field, UnboundField) \
                    and field.field_class is SelectField and not self.datamodel.is_relation(column):
                self.replace_search_filters(column, FilterEqual, FilterNotEqual)
        # Every relation choice (add, edit, search) is limited to what the scope may see.
        for column in self.datamodel.get_columns_list():
            if not self.datamodel.is_relation(column):
                continue
            related = self.datamodel.get_related_model(column)
            if related in scope_service.RULES:
                for attr in ("add_form_query_rel_fields", "edit_form_query_rel_fields", "search_form_query_rel_fields"):
                    fields = dict(getattr(self, attr) or {})
                    fields.setdefault(column, [["id", ScopeFilter, None]])
                    setattr(self, attr, fields)

    def replace_search_filters(self, column: str, *filter_classes) -> None:
        replace_search_filters(self, column, *filter_classes)

    def _init_forms(self):
        super()._init_forms()
        # FAB leaves the empty choice of an optional relation unlabelled (Select2 shows "__None").
        for form in (self.add_form, self.edit_form):
            number_fields(form, self.datamodel)
            for name in dir(form):
                unbound = getattr(form, name, None)
                if isinstance(unbound, UnboundField) and unbound.kwargs.get("allow_blank"):
                    unbound.kwargs["blank_text"] = _l("(none)")

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
        return frozenset() if self.manages_rows() else frozenset(self.masked_columns)

    # --- personal data ----------------------------------------------------------------
    def manages_rows(self) -> bool:
        """Users who may edit these rows (inside their scope) see personal data in clear, and so
        does a volunteer, whose scope is their own record."""
        if current_scope().kind == "volunteer":
            return True
        return appbuilder.sm.has_access("can_edit", self.class_permission_name)

    def _masking(self, masker):
        def format_value(value):
            if value is None:
                return ""
            return value if self.manages_rows() else masker(value)

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
        from ..services.unit_of_work import unit_of_work

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
        from ..services.unit_of_work import unit_of_work

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
        g.gridgov_shown = item  # the record FAB's show just read through the scope
        return super()._get_show_widget(pk, item, *args, **kwargs)

    def shown(self, pk):
        """The record ``_show`` read in this request (a record page needs it twice: FAB's widget
        and the page's own parts), else read again through the scope."""
        item = g.pop("gridgov_shown", None)
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

