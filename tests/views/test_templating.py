"""The app's templates import their macro libraries as Jinja does, only quicker."""
from __future__ import annotations

from jinja2 import DictLoader, Environment

from app.fab.templating import ImportingTemplate

LIBRARY = "{% macro hello() %}{{ greeting | default('none') }}{% endmacro %}"


def _environment(template_class):
    env = Environment(loader=DictLoader({
        "lib.html": LIBRARY,
        "page.html": "{% import 'lib.html' as lib %}{{ lib.hello() }}",
    }))
    env.template_class = template_class
    return env


def test_the_apps_pages_are_importing_templates(app):
    with app.app_context():
        assert isinstance(app.jinja_env.get_template("appbuilder/general/lib.html"), ImportingTemplate)


def test_an_import_without_context_gives_the_kept_module_when_no_global_is_missing():
    env = _environment(ImportingTemplate)
    env.globals["greeting"] = "环境"
    page, library = env.get_template("page.html"), env.get_template("lib.html")
    assert page.render() == "环境"
    kept = library.module
    assert page.render() == "环境"
    # the same module as Jinja keeps: not made again for each import
    assert library._get_default_module(page.new_context()) is kept


def test_an_import_sees_the_importing_pages_own_globals_as_in_jinja():
    # A page loaded with globals of its own: the imported library must be made again with them,
    # as Jinja does; the kept module (which lacks them) would print "none".
    for template_class in (ImportingTemplate, Environment.template_class):
        env = _environment(template_class)
        env.get_template("lib.html").module  # noqa: B018  (kept without the page's globals)
        page = env.get_template("page.html", globals={"greeting": "页面"})
        assert page.render() == "页面", template_class
        assert env.get_template("lib.html").render() == ""
