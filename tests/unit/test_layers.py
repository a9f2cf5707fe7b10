"""The layering of the code (docs/architecture.md): doors (``cdp.cli``, ``cdp.api``, ``cdp.console``) → services
(``cdp.services``) → adapters (the rest of ``cdp``) → the pure packages (``projections``,
``ingestion``) → ``schemas``. No import runs back up, no module imports a door, and no modules of
``cdp`` import each other in a circle.

The imports are read with ``ast`` from the source (module level and inside functions alike: a
function-level import is still a dependency, only a later one), so the test sees what a
reader of the code sees, without importing anything.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cdp", "schemas", "projections", "ingestion")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The modules of ours that ``name`` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield _existing(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                yield _existing(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base, known), node.lineno


def _existing(name: str, known: set[str]) -> str:
    """The most specific module of ``name`` that exists (``import a.b.C`` names a class in ``a.b``)."""
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name


def import_graph() -> dict[str, dict[str, int]]:
    """Module → {module it imports: line}."""
    found = modules()
    known = set(found)
    graph: dict[str, dict[str, int]] = {}
    for name, path in found.items():
        edges = graph.setdefault(name, {})
        for target, line in imported(name, path, known):
            if target != name:
                edges.setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One circle through each group of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the number of modules (a few hundred)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, set(group)) for group in groups]


def _circle(graph: dict[str, dict[str, int]], group: set[str]) -> list[str]:
    """A shortest import circle inside a strongly connected group, starting at its first module."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target == start:
                    return [*paths[node], start]
                if target in group and target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle through {start}")  # a strongly connected group always has one


def _shown(graph: dict[str, dict[str, int]], circle: list[str]) -> str:
    return " → ".join(f"{a} (line {graph[a][b]})" for a, b in zip(circle, circle[1:], strict=False)) + f" → {circle[-1]}"


def test_no_import_cycle_in_cdp() -> None:
    graph = import_graph()
    inside = {name: {t: line for t, line in edges.items() if _in(t, "cdp")} for name, edges in graph.items() if _in(name, "cdp")}
    found = cycles(inside)
    assert not found, "import circles in cdp/:\n" + "\n".join(_shown(inside, c) for c in found)


# (importer prefix, imported prefix, (importer, imported) pairs allowed anyway): a module under the
# first may not import the second
FORBIDDEN = [
    ("cdp", "cdp.cli", {("cdp.__main__", "cdp.cli.main")}),  # `python -m cdp` runs the CLI
    ("cdp", "cdp.api", {("cdp.cli.main", "cdp.api.server")}),  # `cdp serve` and `cdp start` run the HTTP server, nothing else of it
    ("cdp", "cdp.console", {("cdp.api.app", "cdp.console.app")}),  # the server app mounts the console, nothing else of it
    ("cdp.services", "cdp.cli", set()),
    ("cdp.services", "cdp.api", set()),
    ("cdp.services", "cdp.console", set()),
    ("cdp", "cdp.services", set()),  # only doors and services call services
    ("schemas", "cdp", set()),
    ("schemas", "projections", set()),
    ("schemas", "ingestion", set()),
    ("projections", "cdp", set()),
    ("projections", "ingestion", set()),
    ("ingestion", "cdp", set()),
    ("ingestion", "projections", set()),
]
DOORS_AND_SERVICES = ("cdp.cli", "cdp.api", "cdp.console", "cdp.services")


def violations(graph: dict[str, dict[str, int]]) -> list[str]:
    found = []
    for importer, edges in sorted(graph.items()):
        for target, line in sorted(edges.items()):
            for outer, imported_prefix, allowed in FORBIDDEN:
                if not _in(importer, outer) or not _in(target, imported_prefix) or (importer, target) in allowed:
                    continue
                if _in(importer, imported_prefix) or (imported_prefix == "cdp.services" and any(_in(importer, d) for d in DOORS_AND_SERVICES)):
                    continue  # a layer may import itself; doors call services
                found.append(f"{importer} (line {line}) imports {target}")
                break  # one line per import, however many rules it breaks
    return found


def test_imports_run_down_the_layers() -> None:
    found = violations(import_graph())
    assert not found, "imports against the layering (docs/architecture.md):\n" + "\n".join(found)


def test_the_check_sees_a_new_cycle_and_a_door_imported() -> None:
    """The checks themselves: a circle added to a graph is reported with its lines; an adapter importing a door is refused."""
    graph = {"cdp.a": {"cdp.b": 3}, "cdp.b": {"cdp.c": 5}, "cdp.c": {"cdp.a": 7}, "cdp.d": {"cdp.a": 1}}
    assert cycles(graph) == [["cdp.a", "cdp.b", "cdp.c", "cdp.a"]]
    assert _shown(graph, ["cdp.a", "cdp.b", "cdp.c", "cdp.a"]) == "cdp.a (line 3) → cdp.b (line 5) → cdp.c (line 7) → cdp.a"
    assert violations({"cdp.keys": {"cdp.cli.options": 4}, "cdp.cli.main": {"cdp.api.server": 9, "cdp.api.auth": 10}, "cdp.services.access": {"cdp.api.auth": 2}}) == [
        "cdp.cli.main (line 10) imports cdp.api.auth",
        "cdp.keys (line 4) imports cdp.cli.options",
        "cdp.services.access (line 2) imports cdp.api.auth",
    ]
    assert violations({"projections.profile": {"cdp.config": 1}, "cdp.cli.access": {"cdp.services.access": 1}, "cdp.keys": {"cdp.services": 2}}) == [
        "cdp.keys (line 2) imports cdp.services",
        "projections.profile (line 1) imports cdp.config",
    ]


def test_relative_and_function_level_imports_are_seen(tmp_path: Path) -> None:
    source = tmp_path / "cdp" / "x" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text("from . import sibling\nfrom ..keys import KeyRegistry\n\ndef f():\n    import cdp.cli.main\n")
    known = {"cdp", "cdp.x", "cdp.x.sibling", "cdp.keys", "cdp.cli.main", "cdp.x.mod"}
    assert sorted(imported("cdp.x.mod", source, known)) == [("cdp.cli.main", 5), ("cdp.keys", 2), ("cdp.x.sibling", 1)]


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")
