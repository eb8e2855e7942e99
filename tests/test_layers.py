"""Imports point down: a lower layer never imports a higher one.

The layers, from the top:

    cli, web           entry points (the CLI may import the web app, to serve it; never back)
    jobs               the scheduler both entry points run
    mail, community, search, recommend
                       features; siblings never import each other (what two of them share
                       goes below them, e.g. :mod:`paperboy.query` for search's types)
    ingest             sources into the store
    storage            the only code that touches the database
    sources            parsers and fetchers of the outside formats
    foundation         the top-level modules (records, query, settings, ids, errors,
                       validation, trending, secret_key, ...): they import no package of
                       Paperboy, only each other

A module may import its own package, any lower layer and the foundation. Every import counts,
also one inside a function: a lazy import still makes the lower layer depend on the higher one.
The check parses the sources (ast), so it needs no import to succeed. A second check refuses
import cycles between the modules of one package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import paperboy

ROOT = Path(paperboy.__file__).resolve().parent

LAYERS: list[set[str]] = [
    {"cli", "web"},
    {"jobs"},
    {"mail", "community", "search", "recommend"},
    {"ingest"},
    {"storage"},
    {"sources"},
]
#: imports across one rank that are allowed (importer, imported)
SIBLINGS_ALLOWED = {("cli", "web")}
FOUNDATION = len(LAYERS)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ROOT.rglob("*.py")}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The paperboy modules ``name`` imports (anywhere in the file), resolved to modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from paperboy.x import y``: y may itself be a module
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in MODULES else module)
    return {m for m in found if m == "paperboy" or m.startswith("paperboy.")}


def _area(module: str) -> str | None:
    """The layer package a module belongs to; None for the foundation."""
    parts = module.split(".")
    if len(parts) < 2 or f"paperboy.{parts[1]}" not in MODULES:
        return None
    if not (ROOT / parts[1]).is_dir():
        return None  # a top-level module
    return parts[1]


def _rank(area: str | None) -> int:
    if area is None:
        return FOUNDATION
    for rank, names in enumerate(LAYERS):
        if area in names:
            return rank
    raise AssertionError(f"paperboy.{area} is in no layer: add it to LAYERS in {__file__}")


def _allowed(src: str | None, dst: str | None) -> bool:
    if src == dst:
        return True  # within one package, or foundation modules among themselves
    rank_src, rank_dst = _rank(src), _rank(dst)
    return rank_dst > rank_src or (rank_dst == rank_src and (src, dst) in SIBLINGS_ALLOWED)


def test_every_package_has_a_layer():
    for module in MODULES:
        _rank(_area(module))


def test_imports_point_down():
    wrong = []
    for name, path in sorted(MODULES.items()):
        src = _area(name)
        for target in sorted(_imports(name, path)):
            dst = _area(target)
            if not _allowed(src, dst):
                wrong.append(f"{name} imports {target} ({src or 'foundation'} -> "
                             f"{dst or 'foundation'})")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_no_cycles_between_modules():
    graph = {name: {t for t in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # a package's __init__ importing its own submodules is not a cycle worth refusing
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")
                       and not t.startswith(name + ".")}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_check_sees_a_wrong_import(tmp_path):
    """The parser resolves absolute, relative and ``from package import module`` forms, and
    the rule refuses upward and sideways imports."""
    fake = tmp_path / "fake.py"
    fake.write_text("from paperboy import trending\n"
                    "def f():\n    from ..web import app\n    import paperboy.mail.digest\n")
    found = _imports("paperboy.storage.fake", fake)
    assert {"paperboy.trending", "paperboy.web.app", "paperboy.mail.digest"} <= found
    assert not _allowed("storage", "web") and not _allowed("mail", "search")
    assert not _allowed(None, "storage")  # the foundation imports no package
    assert _allowed("cli", "web") and not _allowed("web", "cli")
    assert _allowed("web", "storage") and _allowed("storage", None)
