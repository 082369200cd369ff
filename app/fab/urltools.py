"""The list arguments of a request (``page_<View>``, ``psize_<View>``, ``_oc_<View>``,
``_od_<View>``, ``_flt_<n>_<column>``) read as FAB's ``flask_appbuilder.urltools`` reads them,
except that a value which is not one is left out instead of raising: FAB's readers turn
``page_X=x`` into a ValueError and ``_flt_9_name`` into an IndexError, both a 500.

Whether a page, page size or order column suits a view is the view's to say
(``ScopedModelView.list_arguments``); these only read what the request says."""
from __future__ import annotations

import re

from flask import request

# An integer of at most this many digits: a page or a page size, never a 20-digit number.
_NUMBER = re.compile(r"-?\d{1,9}")
_FILTER = re.compile(r"_flt_(\d)_(.*)")


def _integer(text) -> int | None:
    text = (text or "").strip()
    return int(text) if _NUMBER.fullmatch(text) else None


def _by_view(prefix: str) -> dict:
    """{view name: integer} of the arguments ``<prefix><view name>`` that hold one."""
    found = {}
    for arg, value in request.args.items():
        if arg.startswith(prefix) and len(arg) > len(prefix):
            number = _integer(value)
            if number is not None:
                found[arg[len(prefix):]] = number
    return found


def get_page_args() -> dict:
    """{view name: page number} from ``page_<view>``."""
    return _by_view("page_")


def get_page_size_args() -> dict:
    """{view name: page size} from ``psize_<view>``."""
    return _by_view("psize_")


def get_order_args() -> dict:
    """{view name: (column, "asc" or "desc")} from ``_oc_<view>`` with its ``_od_<view>``."""
    orders = {}
    for arg, column in request.args.items():
        if arg.startswith("_oc_") and len(arg) > 4:
            direction = request.args.get("_od_" + arg[4:])
            if direction in ("asc", "desc") and column:
                orders[arg[4:]] = (column, direction)
    return orders


def get_filter_args(filters, disallow_if_not_in_search: bool = True, hidden=()) -> None:
    """Set ``filters`` from the request's ``_flt_<n>_<column>``: a column that is not searched
    (unless ``disallow_if_not_in_search`` is False), one of ``hidden`` or a filter number the
    column does not have is left out."""
    filters.clear_filters()
    searched = filters.get_search_filters()
    for arg in sorted(set(request.args)):
        match = _FILTER.fullmatch(arg)
        if not match:
            continue
        index, column = int(match.group(1)), match.group(2)
        if column in hidden or (disallow_if_not_in_search and column not in searched):
            continue
        if index < len(filters._all_filters.get(column, ())):
            filters.add_filter_index(column, index, request.args.getlist(arg))
