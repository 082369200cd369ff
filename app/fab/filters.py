"""FAB filters that apply gridgov's rules: the user's scope (``ScopeFilter``, used by every
model view, relation choice and REST API) and the search by a related row (typed for grids,
workers and volunteers, by key for the rest)."""
from __future__ import annotations

from flask import g
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.models.sqla.filters import (FilterGreater, FilterRelationOneToManyEqual,
                                                  FilterRelationOneToManyNotEqual, FilterSmaller)
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
import datetime

from sqlalchemy import DateTime, false, or_
from wtforms import StringField

from ..extensions import cache, db
from ..services import scope as scope_service
from ..services import search as search_service
from ..services import typed
from ..services.local_time import TIMEZONE

row_key = typed.as_key  # a typed primary key, or None


def current_user_id() -> int | None:
    user = getattr(g, "user", None)
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def current_scope() -> scope_service.Scope:
    """The signed-in user's scope, computed once per request (kept with the user by the security
    manager, so usually not computed at all)."""
    return cache.per_request("scope", _scope_of_user)


def _scope_of_user() -> scope_service.Scope:
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return scope_service.NOTHING
    signed_in = cache.in_request("signed in")
    if signed_in is not None and signed_in.user.id == user.id:
        return signed_in.scope
    return scope_service.scope_for_user(db.session, user)


class ScopeFilter(BaseFilter):
    """Keeps only the rows of the filtered model the user's scope may see."""

    name = "scope"
    arg_name = None

    def condition(self, scope):
        return scope_service.visible(scope, self.model)

    def apply(self, query, value):
        return query.filter(self.condition(current_scope()))


# A view's or API's ``base_filters``: every path to a row goes through the scope.
SCOPED = [["id", ScopeFilter, None]]


class FilterRelatedText(BaseFilter):
    """A relation searched by typing: the rows whose related grid (with its sub-grids), worker
    or volunteer the text names. Replaces FAB's drop-down of every related row."""

    name = _l("Named")
    arg_name = "tx"

    def apply(self, query, value):
        if not typed.clean(value):
            return query
        related = getattr(self.model, self.column_name).property.mapper.class_
        return query.filter(_foreign_key(self.model, self.column_name)
                            .in_(search_service.matching_ids(related, value)))


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


def scope_relation_choices(view) -> None:
    """Every relation choice of the view's add, edit and search forms offers only the rows the
    user's scope may see."""
    for column in view.datamodel.get_columns_list():
        if not view.datamodel.is_relation(column):
            continue
        if view.datamodel.get_related_model(column) in scope_service.RULES:
            for attr in ("add_form_query_rel_fields", "edit_form_query_rel_fields", "search_form_query_rel_fields"):
                fields = dict(getattr(view, attr) or {})
                fields.setdefault(column, [["id", ScopeFilter, None]])
                setattr(view, attr, fields)


def local_moment(value) -> datetime.datetime:
    """A typed time (2026-12-04, 2026-12-04 08:30, 12/04/2026 as the date picker fills it) as
    the lists print times: Beijing time. Anything else is not a time: refused, not ignored."""
    text = str(value or "").strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, pattern).replace(tzinfo=TIMEZONE)
        except ValueError:
            continue
    raise ApplyFilterException(f"not a time: {text[:40]!r}")


class FilterLocalAfter(FilterGreater):
    name = lazy_pgettext("a time", "After")

    def apply(self, query, value):
        return super().apply(query, local_moment(value))


class FilterLocalBefore(FilterSmaller):
    name = lazy_pgettext("a time", "Before")

    def apply(self, query, value):
        return super().apply(query, local_moment(value))


def local_time_searches(view) -> None:
    """A searched time (with its zone in the database) is typed in Beijing time, as the lists
    print it, from or before a moment; FAB compared the typed time as UTC, eight hours off, and
    offered "equal to", which a moment to the second never is."""
    for column in view.search_columns:
        if view.datamodel.is_relation(column) or column not in view.datamodel.list_columns:
            continue
        kind = getattr(view.datamodel.list_columns[column], "type", None)
        if isinstance(kind, DateTime) and kind.timezone:
            replace_search_filters(view, column, FilterLocalAfter, FilterLocalBefore)
