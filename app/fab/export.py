"""Every list out to Excel and CSV (``ExportMixin``): ``/<view>/export/xlsx`` and ``/export/csv``
hold exactly the rows the list shows the user — the scope, the search and the order of the
list's URL — with its columns under their labels in the user's language, masked columns
masked for who sees them masked, codes as their labels, times and numbers typed."""
from __future__ import annotations

import datetime
import decimal
import inspect
import operator

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import DataError

from .. import downloads
from ..extensions import appbuilder, db
from .interface import column_reads
from .rendering import blank_if_none, yes_no

# The most rows one export holds: a district's 70,000 incidents pass, a city's million do not.
EXPORT_CAP = 200_000
# Rows read (and written) at a time.
CHUNK_ROWS = 1000
# Cells of related rows (a grid's name) kept per column of an export, read once for every row naming them.
RELATED_KEPT = 20_000
# What a list page's URL carries that an export keeps: the search and the order.
_KEPT_ARGS = ("_flt_", "_oc_", "_od_")
EXPORT_LABELS = {"xlsx": _l("Export Excel"), "csv": _l("Export CSV")}
TYPED = (int, float, decimal.Decimal, datetime.date)  # datetime is a date


def export_cell(value, formatter=None):
    """A list's value as a file's cell: a yes/no in words, a time, date or number as itself, a
    code or a related row as the list prints it, without HTML."""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, TYPED):
        return value
    if formatter is not None and formatter is not blank_if_none:
        value = formatter(value)
        if isinstance(value, TYPED) and not isinstance(value, bool):
            return value
    if value is None:
        return None
    if isinstance(value, Markup):
        value = value.striptags()
    elif isinstance(value, (list, tuple, set)):  # a collection (a user's roles)
        value = "、".join(str(item) for item in value)
    text = str(value)
    return text or None


def export_links(view_name: str) -> list[tuple[str, str, str]]:
    """(format, label, URL) of the export buttons of the list page of this request, each URL
    carrying the page's search and order; none on a record page's related lists (their rows are
    the record's, which the URL does not say) or without the permission."""
    if request.endpoint != f"{view_name}.list" or not appbuilder.sm.has_access("can_export", view_name):
        return []
    args = {arg: request.args.getlist(arg) for arg in request.args if arg.startswith(_KEPT_ARGS)}
    return [(fmt, str(label), url_for(f"{view_name}.export", fmt=fmt, **args)) for fmt, label in EXPORT_LABELS.items()]


class ExportMixin:
    """A model view whose list page exports to .xlsx and .csv (permission ``can_export``)."""

    # The columns of the file; None: the list's.
    export_columns: list | None = None
    # How a column is written to a file when not as the page prints it (a record page's table of
    # changes as one line of text).
    export_formatters_columns: dict = {}

    def __init__(self, *args, **kwargs):
        routes = self.include_route_methods
        if routes is not None and "list" in routes:  # a view that lists exports its list
            self.include_route_methods = set(routes) | {"export"}
        super().__init__(*args, **kwargs)

    @expose("/export/<string:fmt>")
    @has_access
    def export(self, fmt):
        if fmt not in downloads.FORMATS:
            abort(404)
        self._read_filter_args()
        filters = self._filters.get_joined_filters(self._base_filters)
        order = self.list_order()
        try:
            count = self.datamodel.count_up_to(filters, EXPORT_CAP)
        except (DataError, ApplyFilterException):  # a typed value its column cannot hold
            db.session.rollback()
            flash(_("A search value does not fit its field, so nothing was searched for."), "warning")
            return self._back_to_list()
        if count > EXPORT_CAP:
            flash(_("An export holds at most %(cap)s rows and this list has more: narrow the search and "
                    "export again.", cap=f"{EXPORT_CAP:,}"), "warning")
            return self._back_to_list()
        columns = list(self.export_columns or self.list_columns)
        table = downloads.Table(
            title=str(self.list_title), ascii_name=self.__class__.__name__.replace("ModelView", "").lower(),
            headers=[str(self.label_columns.get(column, column)) for column in columns],
            rows=self._export_rows(filters, order, columns, request.path))
        return downloads.send(table, fmt)

    def _back_to_list(self):
        args = {arg: request.args.getlist(arg) for arg in request.args if arg.startswith(_KEPT_ARGS)}
        return redirect(url_for(f"{self.__class__.__name__}.list", **args))

    def _export_rows(self, filters, order, columns, place: str):
        hidden = self.hidden_columns()
        masked = getattr(self, "masked_columns", {})
        in_clear = [column for column in columns if column in masked and column not in hidden]
        formatters = {**(self.formatters_columns or {}), **self.export_formatters_columns}
        words = {True: yes_no(True), False: yes_no(False)}  # translated once, not per row
        makers = [self._cell_maker(column, formatters.get(column), masked, hidden, words) for column in columns]
        # an interface that makes its values itself (the access log names its people) is asked for them
        own_values = type(self.datamodel).get_values is not SQLAInterface.get_values
        reads = None if own_values else column_reads(self.datamodel.obj, columns)
        if reads is not None:
            yield from self._export_tuples(filters, order, reads, makers, columns, in_clear, place)
            return
        readers = [self._value_reader(column) for column in columns]
        for rows in self.datamodel.chunks(filters, *order, CHUNK_ROWS, columns):
            # the chunk's cells made before the access log is written: its commit may expire the rows
            if own_values:
                cells = [[make(values[column]) for column, make in zip(columns, makers)]
                         for values in self.datamodel.get_values(rows, columns)]
            else:
                cells = [[make(read(row)) for read, make in zip(readers, makers)] for row in rows]
            if in_clear:  # only a ScopedModelView has masked columns
                self.log_personal_data([self.datamodel.get_pk_value(row) for row in rows], in_clear, place)
            yield from cells

    def _export_tuples(self, filters, order, reads, makers, columns, in_clear, place):
        """The cells of an export whose columns are all columns of the model or its many-to-one
        relations, read as tuples (no object per row). A related row is read by key once and its
        cell kept for the next rows naming it; at most ``RELATED_KEPT`` cells are kept per
        column, so memory does not grow with the rows."""
        related = {position: {} for position, read in enumerate(reads) if read.related is not None}
        for part in self.datamodel.tuples(filters, *order, CHUNK_ROWS, [read.expression for read in reads]):
            for position, kept in related.items():
                missing = {row[position + 1] for row in part} - kept.keys() - {None}
                if not missing:
                    continue
                if len(kept) + len(missing) > RELATED_KEPT:
                    kept.clear()
                    missing = {row[position + 1] for row in part} - {None}
                make = makers[position]
                kept.update((key, make(row)) for key, row in
                            self.datamodel.rows_of(reads[position].related, missing).items())
            empty = [make(None) for make in makers]  # a row naming no related row
            cells = [[related[position].get(value, empty[position]) if position in related else make(value)
                      for position, (value, make) in enumerate(zip(row[1:], makers))] for row in part]
            if in_clear:
                self.log_personal_data([row[0] for row in part], in_clear, place)
            yield from cells

    def _value_reader(self, column):
        """How a column's value is read from a row, decided once per export: an attribute is read
        as it is, a method called (FAB's ``get_values`` asks both questions of every cell, a
        third of a district's export); a dotted or unknown name goes to FAB's own reader."""
        attribute = inspect.getattr_static(self.datamodel.obj, column, None)
        if attribute is None or "." in column:
            return lambda row: self.datamodel._get_attr_value(row, column)
        if inspect.isfunction(attribute):
            return lambda row: getattr(row, column)()
        return operator.attrgetter(column)

    @staticmethod
    def _cell_maker(column, formatter, masked, hidden, words):
        """How a column's value becomes its cell, for every row of one export."""
        if column in hidden:
            masker = masked[column]
            return lambda value: None if value is None else str(masker(value))
        if getattr(formatter, "gridgov_pure", False):  # a closed list's label: made once per value
            made = {}

            def label(value):
                if value not in made:
                    made[value] = export_cell(value, formatter)
                return made[value]

            return label

        def cell(value):
            if value is True or value is False:
                return words[value]
            return export_cell(value, formatter)

        return cell
