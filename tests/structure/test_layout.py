"""The layout the README's Development section describes, held against the code: the app's
modules import each other without a cycle (at module level or inside a function), views run
no queries of their own, services have no Flask, and what adapts Flask-AppBuilder stays in
``app/fab/``."""
from __future__ import annotations

import ast
import itertools
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: pathlib.Path, modules: dict) -> set[str]:
    """The app modules ``name`` imports anywhere in its file. ``from . import x`` imports the
    module ``x`` when there is one, else the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {target for target in found if target in modules and target != name}


def _cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], itertools.count()

    def visit(node):
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_module_of_the_app_imports_itself_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_checker_sees_a_cycle_made_by_an_import_inside_a_function(tmp_path):
    """The test above can fail: two modules importing each other, one of them lazily."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("from . import b\n")
    (tmp_path / "app" / "b.py").write_text("def f():\n    from .a import x\n")
    modules = {"app.a": tmp_path / "app" / "a.py", "app.b": tmp_path / "app" / "b.py"}
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == [["app.a", "app.b"]]


def _layer(prefix: str) -> dict[str, pathlib.Path]:
    return {name: path for name, path in _modules().items() if name == prefix or name.startswith(prefix + ".")}


def test_services_know_nothing_of_flask_views_or_fab():
    for name, path in _layer("app.services").items():
        imported = _imports(name, path, _modules())
        text = path.read_text(encoding="utf-8")
        assert not any(line.startswith(("from flask ", "import flask", "from flask_appbuilder"))
                       for line in text.splitlines()), name
        assert not {target for target in imported if target.startswith(("app.views", "app.fab", "app.api"))}, name


def test_views_run_no_queries_of_their_own():
    """Choices, lists and checks come from services: no statement is built in a view."""
    found = [f"{name}:{number}" for name, path in _layer("app.views").items()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "select(" in line]
    assert found == []


def test_lower_layers_do_not_import_views():
    """FAB's adaptation, the API, the cache and the services stand below the views."""
    modules = _modules()
    for prefix in ("app.fab", "app.api", "app.services", "app.models", "app.cache"):
        for name, path in _layer(prefix).items():
            assert not {t for t in _imports(name, path, modules) if t.startswith("app.views")}, name


def test_the_model_view_every_screen_is_made_from_stays_small():
    """The issue that split views/base.py (882 lines, six jobs) set this bound."""
    lines = (APP / "fab" / "model_view.py").read_text(encoding="utf-8").count("\n")
    assert lines < 350
    assert not (APP / "views" / "base.py").exists()
