"""A model view's list and record pages with their arguments read safely: what the URL asks
for (order, page, page size, filters) is read by ``urltools`` and limited to what the user may
ask of the view; FAB's own readers made each malformed value a 500."""
from __future__ import annotations

from flask import abort

from . import urltools
from .interface import MAX_PAGE_SIZE


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

    def allowed_order(self, order_column: str, order_direction: str) -> tuple[str, str]:
        """The order asked for when the user may sort by it, else the list's default order."""
        if order_column not in self.sortable_columns() or order_direction not in ("asc", "desc"):
            return self.base_order or ("", "")
        return order_column, order_direction

    def list_order(self) -> tuple[str, str]:
        """The order the request's ``_oc_<View>`` and ``_od_<View>`` ask of this view's list."""
        return self.allowed_order(*urltools.get_order_args().get(self.__class__.__name__, ("", "")))

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
        order_column, order_direction = self.allowed_order(order_column, order_direction)
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
