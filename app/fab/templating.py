"""How FAB's pages are drawn quicker: the Jinja template class, and the parts of every page
kept between requests (the menu bar, the page frame), installed as Jinja globals."""
from __future__ import annotations

from collections import ChainMap

from flask import current_app, g, request, session
from flask_babel import get_locale
from jinja2 import Template
from markupsafe import Markup

from ..extensions import cache
from ..headers import csp_nonce
from .access_log import record_links
from .export import export_links
from .interface import COUNT_CAP
from .rendering import list_rows, show_rows, translated

_NAVBARS = cache.region("menu bars", 2000)
_PAGE_FRAME = cache.region("page frame", 100)
_NONCE_MARK = "gridgov-csp-nonce"
# Where the menu bar's to-do badge goes: the bar is kept, the badge (``gridgov_todo_badge``, a
# Jinja global the views install) is made on each page.
TODO_MARK = "<!--gridgov-todos-->"


class ImportingTemplate(Template):
    """Jinja's template, quicker to ``{% import %}`` without context.

    On each such import Jinja checks whether the importing page has globals the imported
    template lacks (Jinja 3.1: ``ctx.globals_keys - self.globals.keys()``), walking the
    template's ``ChainMap`` of globals in Python, key by key, and FAB's pages import their macro
    libraries three times a page. The same question is asked here of the ChainMap's dicts in
    one set operation; when the answer is not "none", Jinja's own method answers (it makes a
    module that sees those globals)."""

    def _get_default_module(self, ctx=None):
        if ctx is not None and isinstance(self.globals, ChainMap) \
                and not ctx.globals_keys.difference(*self.globals.maps):
            return super()._get_default_module()  # what Jinja returns when nothing is missing
        return super()._get_default_module(ctx)


def navbar(render):
    """The menu bar (FAB's navbar block, ``render``), made once per user, display name, language
    and permission set: FAB checks every menu entry and translates every label on each page."""
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return Markup(str(render()).replace(TODO_MARK, ""))
    sm = current_app.appbuilder.sm
    key = (user.id, user.get_full_name(), str(get_locale()), session.get("locale"),
           frozenset(sm.permission_set(user)))
    badge = current_app.jinja_env.globals.get("gridgov_todo_badge")
    return Markup(str(_NAVBARS.get(key, render)).replace(TODO_MARK, str(badge()) if badge else ""))


def page_frame(name: str, caller):
    """A part of every page that depends only on the language and where the app is mounted
    (the stylesheets and scripts of the page frame: some 25 ``url_for`` and a dozen translated
    texts), made once per process: ``{% call gridgov_once('name') %}…{% endcall %}``. It is kept
    with a mark where the request's CSP nonce stood, and each page gets its own nonce there."""
    nonce = csp_nonce()
    html = _PAGE_FRAME.get((name, str(get_locale()), request.script_root),
                           lambda: caller().replace(nonce, _NONCE_MARK))
    return html.replace(_NONCE_MARK, nonce)


def html_lang():
    locale = str(get_locale() or "zh")
    return {"gridgov_html_lang": "zh-CN" if locale.startswith("zh") else locale}


def install(app) -> None:
    """Templates loaded from now on are ``ImportingTemplate``s (before any page is drawn), and
    the page's kept parts and rows are Jinja globals."""
    app.jinja_env.template_class = ImportingTemplate
    app.context_processor(html_lang)
    app.jinja_env.globals.update(
        gridgov_count_cap=COUNT_CAP, gridgov_navbar=navbar, gridgov_once=page_frame,
        gridgov_todo_mark=Markup(TODO_MARK),
        gridgov_rows=list_rows, gridgov_show_rows=show_rows, gridgov_export_links=export_links,
        gridgov_record_links=record_links, gridgov_translated=translated)
