"""FAB's data interface made for lists and records at city size (``EagerInterface``).

A list or record page loads the related rows it prints with its rows, never one query per row;
a list counts at most ``COUNT_CAP`` + 1 rows and pages no further, so neither a count nor an
OFFSET walks a whole table; and a record read by its key is one statement, kept per scope."""
from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple

from flask import flash
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, func, select, true
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError
from sqlalchemy.orm import MANYTOONE, aliased, contains_eager, joinedload, outerjoin, selectinload, undefer

from ..extensions import cache
from .filters import ScopeFilter, current_scope, row_key

# Set while FAB reads one record (show, edit, delete): its page prints more relations than a list.
_ONE_ROW: ContextVar[bool] = ContextVar("gridgov_one_row", default=False)

# Record statements kept per interface (one per scope that read a record lately).
RECORDS_KEPT = 256

# A list counts its rows up to this many and then says "10,000+"; paging stops there too.
COUNT_CAP = 10_000
# The largest page a list shows (FAB's list offers 25 to 100 rows a page).
MAX_PAGE_SIZE = 100


class ConvertOnceFilterConverter(SQLAFilterConverter):
    """FAB makes a ``Filters`` object three times per list request and each turns every column
    of the model into its filter objects again. Which filters a column has
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
    # (``related_rows``), and what else its page loads.
    related: RelatedRows | None = None
    record_options: tuple = ()

    def print_on_record(self, columns) -> None:
        """Load what a record's page prints of ``columns``: joined into FAB's general read, and,
        read by key, the plain many-to-one relations by ``related_rows``."""
        self.eager_options = eager_loads(self.obj, columns)
        names = plain_many_to_one(self.obj, columns)
        if len(names) < RELATED_ROWS_FROM:
            names = ()
        self.related = related_rows(self.obj, names) if names else None
        self.record_options = eager_loads(self.obj, [column for column in columns if column not in names])
        self.records.clear()

    def also_load(self, *options) -> None:
        """More for a record's page to load (a collection and what it prints)."""
        self.eager_options += options
        self.record_options += options
        self.records.clear()

    def with_record_loads(self, statement):
        """``statement`` (a select or a Query of the model) loading what a record's page prints:
        the related rows, when the interface reads them apart, and the rest."""
        if self.related is None:
            return statement.options(*self.eager_options)
        return statement.select_from(self.related.source).options(*self.related.options, *self.record_options)

    def record_statement(self, scope, scope_filters):
        """The statement reading one record by its key (the parameter ``record_key``) within
        ``scope`` (the conditions of ``scope_filters``, a view's base filters), with what its
        page prints: made once per scope and kept in the cache (SQLAlchemy keeps a statement's
        cache key on it, so a kept statement is neither built nor keyed again)."""
        def make():
            (key,) = sa_inspect(self.obj).primary_key
            return self.with_record_loads(select(self.obj)).where(
                key == bindparam("record_key", type_=key.type), *(flt.condition(scope) for flt in scope_filters))

        return cache.get(self.records, scope, make)

    def __init__(self, *args, **kwargs):
        self.converted_filters: dict = {}
        super().__init__(*args, **kwargs)
        # scope -> record_statement, one region per interface
        self.records = cache.region(f"record statements of {self.obj.__name__} {id(self):x}", RECORDS_KEPT)

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
        filter set, an ORDER BY and the joins of a list for it."""
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
        return self.count_up_to(filters, COUNT_CAP, query, select_columns)

    def count_up_to(self, filters, cap: int, query=None, select_columns=None) -> int:
        """How many rows ``filters`` keep, counted up to ``cap`` + 1 (never a whole table)."""
        query = self.session.query(self.obj) if query is None else query
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        # the key, not a constant: FAB may make the query DISTINCT
        capped = inner.with_entities(*sa_inspect(self.obj).primary_key).limit(cap + 1).subquery()
        return self.session.scalar(select(func.count()).select_from(capped))

    def chunks(self, filters, order_column: str, order_direction: str, size: int, columns=None):
        """Every row ``filters`` keep, in the list's order, ``size`` rows at a time with what a
        list prints (an export). The keys stream from a server-side cursor on a connection of
        their own, so a commit between chunks (the access log's) does not close it; each chunk's
        rows and related rows are then read by their keys, so memory does not grow with the rows."""
        (key,) = sa_inspect(self.obj).primary_key
        keys = self._apply_inner_all(self.session.query(self.obj), filters, order_column, order_direction,
                                     aliases_mapping={}).with_entities(key).statement
        with self.session.get_bind().connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=size).execute(keys)
            # a chunk's related rows each read once, by key (a list page joins its 20 rows' instead:
            # over 1,000 rows the joined copies cost more to load than one more query)
            options = None if columns is None else eager_loads(self.obj, columns, join=False)
            for part in result.partitions(size):
                yield self._rows([row[0] for row in part], options)

    def tuples(self, filters, order_column: str, order_direction: str, size: int, expressions):
        """Every row ``filters`` keep, in the list's order, as tuples (key, *``expressions``),
        ``size`` at a time, from a server-side cursor on a connection of its own (a commit between
        chunks does not close it). An export of plain columns reads them so: no object is made
        for a row, which was half of a district's export."""
        (key,) = sa_inspect(self.obj).primary_key
        statement = self._apply_inner_all(self.session.query(self.obj), filters, order_column, order_direction,
                                          aliases_mapping={}).with_entities(key, *expressions).statement
        with self.session.get_bind().connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=size).execute(statement)
            yield from result.partitions(size)

    def rows_of(self, model, keys) -> dict:
        """key -> row of ``model`` for ``keys``, with the relations its name is made of."""
        (key,) = sa_inspect(model).primary_key
        names = getattr(model, "__repr_relations__", ())
        options = [_eager_option(sa_inspect(model).relationships[name], getattr(model, name), False) for name in names]
        return {getattr(row, key.key): row for row in self.session.query(model).filter(key.in_(keys)).options(*options)}

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

    def _rows(self, keys: list, options=None) -> list:
        """The rows of these keys, in their order, with the related rows they print (``options``:
        how they are loaded, else as the list loads them)."""
        (key,) = sa_inspect(self.obj).primary_key
        rows = {getattr(row, key.key): row for row in
                self.session.query(self.obj).filter(key.in_(keys)).options(*(self._eager() if options is None else options))}
        return [rows[k] for k in keys if k in rows]

    def _keys_then_rows(self, filters, order_column, order_direction, page, page_size):
        """A page's keys first (filters, order and OFFSET without the related rows), then its 20
        rows with what they print. Joined into the paged query, the related rows would be joined
        to every matching row before the sort, not to the page's rows only.

        The count (up to ``COUNT_CAP`` + 1) rides in the keys' statement as a sub-select,
        computed once by PostgreSQL: one statement and one round trip instead of two, and the
        filters applied once. A page past the last carries no count, which is then asked alone."""
        query = self.session.query(self.obj)
        (key,) = sa_inspect(self.obj).primary_key
        filtered = self._apply_inner_all(query, filters, aliases_mapping={})
        capped = filtered.with_entities(key).limit(COUNT_CAP + 1).subquery()
        count = select(func.count()).select_from(capped).correlate(None).scalar_subquery()
        paged = self.apply_engine_specific_hack(filtered, page, page_size, order_column)
        paged = self.apply_order_by(paged, order_column, order_direction, aliases_mapping={},
                                    bypass_many_to_many=True, add_pk=True)
        found = self.apply_pagination(paged, page, page_size).with_entities(key, count).all()
        if found:
            total = found[0][1]
        else:
            total = self.query_count(query, filters) if page else 0
        return total, self._rows([row[0] for row in found])


def capped_page(page, page_size):
    """No page lies beyond ``COUNT_CAP`` rows: a deeper page number shows the last page, a
    negative one the first."""
    if page is not None and page < 0:
        return 0
    if page and page_size and page * page_size >= COUNT_CAP:
        return max(0, (COUNT_CAP - 1) // page_size)
    return page


def eager_loads(model, columns, join: bool = True) -> tuple:
    """Eager loading for every relation among ``columns``, and for the relations the related
    model's own name is made of (``__repr_relations__``, e.g. an account's holder): a row's one
    related row joined (``join``) or, like a collection, read in one more query."""
    options = []
    mapper = sa_inspect(model)
    for column in dict.fromkeys(columns):
        relationship = mapper.relationships.get(column)
        if relationship is None:
            attribute = mapper.column_attrs.get(column)
            if attribute is not None and attribute.deferred:  # a total over another table, read when shown
                options.append(undefer(getattr(model, column)))
            continue
        option = _eager_option(relationship, getattr(model, column), join)
        target = relationship.mapper.class_
        nested = [_eager_option(sa_inspect(target).relationships[name], getattr(target, name), join)
                  for name in getattr(target, "__repr_relations__", ())]
        options.append(option.options(*nested) if nested else option)
    return tuple(options)


class ColumnRead(NamedTuple):
    expression: object  # what a statement selects for the column
    related: type | None  # the model of a many-to-one relation, whose key the expression reads


def column_reads(model, columns) -> list[ColumnRead] | None:
    """How each of ``columns`` is read by a statement: a column or a SQL expression of the model
    as itself, a many-to-one relation by one foreign key as that key (its row is then read by key,
    once for every row naming it). None when a column is neither (a method, a collection, a
    dotted name): the whole rows are read then."""
    mapper = sa_inspect(model)
    reads = []
    for column in columns:
        if column in mapper.column_attrs:
            reads.append(ColumnRead(getattr(model, column), None))
            continue
        relationship = mapper.relationships.get(column)
        if relationship is None or relationship.direction is not MANYTOONE or relationship.secondary is not None \
                or len(relationship.local_remote_pairs) != 1 \
                or len(sa_inspect(relationship.mapper.class_).primary_key) != 1:
            return None
        ((local, remote),) = relationship.local_remote_pairs
        if remote is not sa_inspect(relationship.mapper.class_).primary_key[0]:
            return None
        reads.append(ColumnRead(local, relationship.mapper.class_))
    return reads


def plain_many_to_one(model, columns) -> tuple:
    """The plain many-to-one relations among ``columns`` (by foreign key, no association table,
    the related row made and named of its own table's columns): ``related_rows`` reads them."""
    mapper = sa_inspect(model)
    found = []
    for column in dict.fromkeys(columns):
        relationship = mapper.relationships.get(column)
        if relationship is not None and relationship.direction is MANYTOONE and relationship.secondary is None \
                and not getattr(relationship.mapper.class_, "__repr_relations__", ()) \
                and _plain_columns(relationship.mapper):
            found.append(column)
    return tuple(found)


# Read related rows apart from this many relations on: with fewer, PostgreSQL's join search costs
# less than the subqueries (a LATERAL row costs more to run and, in SQLAlchemy, to load).
RELATED_ROWS_FROM = 4


def _plain_columns(mapper) -> bool:
    """Every attribute of the mapper a column of its own table: a SQL expression (a total over
    another table) read from a subquery next to the record could correlate to the record's own
    tables instead of its own row. A deferred one is not read there (a worker's training hours)."""
    table = mapper.local_table
    return all(attribute.deferred or (len(attribute.columns) == 1 and attribute.columns[0].table is table)
               for attribute in mapper.column_attrs)


class RelatedRows(NamedTuple):
    names: tuple  # the relations
    source: object  # the FROM clause: the model's table and a LATERAL subquery per relation
    options: tuple  # loader options filling each relation from its subquery


def related_rows(model, names) -> RelatedRows:
    """How to read one ``model`` row with its many-to-one relations ``names``, each by a LATERAL
    subquery kept apart from the join search (its LIMIT 1, which a row by its key meets anyway,
    keeps PostgreSQL from merging it into the join). Joined to the row instead, the related rows
    made PostgreSQL weigh every order of the tables, which cost more to plan than to run (the
    figures are in bench/RESULTS.md). Made once per interface: the same objects in every query
    keep SQLAlchemy's compiled statement."""
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
    return RelatedRows(tuple(names), source, tuple(options))


def _eager_option(relationship, attribute, join: bool = True):
    """A row's one related row joins into the same query (``join``); a collection loads in one more."""
    return joinedload(attribute) if join and not relationship.uselist else selectinload(attribute)
