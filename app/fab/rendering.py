"""A list's rows and a record's fields as HTML, made in Python: FAB's widgets do it in Jinja,
with a macro call, a lookup and a translation per cell, and a list page prints hundreds of
cells. The templates call ``list_rows`` and ``show_rows`` (``gridgov_rows``,
``gridgov_show_rows``); the formatters here say how a value is printed."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..extensions import cache

_TRANSLATED = cache.region("translated labels", 1000)


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


def readable_cells(formatters: dict | None, datamodel, columns) -> dict:
    """``formatters`` with 是/否 for each boolean among ``columns`` and a blank for an empty value
    of the others: FAB's own views (users, roles) print True, False and None."""
    formatters = dict(formatters or {})
    for column in dict.fromkeys(columns):
        if column not in formatters:
            formatters[column] = yes_no if datamodel.is_boolean(column) else blank_if_none
    return formatters


def list_rows(value_columns, pks, columns, formatters, checkbox: bool, links: tuple, button_texts: dict,
              nonce: str, placeholder: str, labels: dict | None = None) -> Markup:
    """The rows of a list page's table, made in Python (FAB's widget does it in Jinja, a call
    wrapper and an escape per cell, and translates a status label again in every row).

    ``links`` are the show/edit/delete URLs with ``placeholder`` standing for the key (or None);
    ``button_texts`` the buttons' titles, translated once per page. A formatter marked
    ``gridgov_pure`` (a closed list's labels) gives the same text for the same value, so each
    label is made once per page. With ``labels`` (the columns' labels) each cell carries its
    column's label (``data-label``), which a phone shows beside the value when the rows become
    cards (gridgov.css)."""
    show, edit, delete = (None if link is None else str(escape(link)) for link in links)
    placeholder = str(escape(placeholder))
    texts = {name: str(escape(text)) for name, text in button_texts.items()}
    labels = translated(labels) if labels else labels
    opening = {column: f'<td data-label="{escape(labels.get(column, column))}">' if labels else "<td>"
               for column in columns}
    memo: dict = {}
    out: list[str] = []
    add = out.append
    for item, pk in zip(value_columns, pks):
        key = str(escape(pk))
        add("<tr>")
        if checkbox:
            add(f'<td class="gridgov-row-check"><input id="{key}" class="action_check" name="rowid" value="{key}"'
                ' type="checkbox"></td>')
        if show or edit or delete:
            add('<td class="gridgov-row-buttons"><center><div class="btn-group btn-group-xs" style="display: flex;">')
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
            add(f"{opening[column]}{cell}</td>")
        add("</tr>")
    return Markup("".join(out))


def translated(mapping: dict) -> dict:
    """A long-lived mapping of labels (a view's column labels, a closed list's) with each label
    in the request's language, made once per mapping and language: a page that prints a status
    or an action in every row would translate the same label again in each."""
    key = (id(mapping), str(get_locale()))
    found = _TRANSLATED.get(key, lambda: _translate(mapping))
    if found[0] is not mapping:  # the id of a mapping that is gone, reused
        found = _translate(mapping)
        _TRANSLATED.set(key, found)
    return found[1]


def _translate(mapping: dict) -> tuple:
    # a lazy text is printed as it is (Jinja does not escape what has __html__): so here
    return mapping, {name: Markup(text.__html__()) if hasattr(text, "__html__") else text
                     for name, text in mapping.items()}


def show_rows(fields, columns, values, labels: dict, formatters: dict) -> Markup:
    """The rows of a record's page, a label and a value for each of ``fields``, made in Python
    (FAB's show widget calls a macro per row, which looks the value up and translates the label);
    ``values`` are in the order of ``columns``."""
    value_of = dict(zip(columns, values))
    labels = translated(labels)
    out = []
    for field in fields:
        formatter = formatters.get(field)
        value = formatter(value_of[field]) if formatter else value_of[field]
        out.append(f'<tr><th class="col-lg-2 col-md-2 col-sm-2">{escape(labels.get(field))}</th>'
                   f'<td><span style="white-space: pre-line">{escape(value)}</span></td></tr>')
    return Markup("".join(out))
