"""The architecture, checked (issue 22): no import cycle among campaignctl's modules, and a platform
is named only in its own folders and in the registry; tests share helpers, not each other.

Static analysis of the source (``ast``), nothing is imported but the registry. An import edge is
any of:

- an ``import`` / ``from ... import`` statement, at module level or inside a function or method;
- ``importlib.import_module(NAME)`` (or ``import_module(NAME)``): a constant NAME is one edge, an
  f-string such as ``f"campaignctl.sandbox.{platform.package}.api"`` is an edge to every module it
  can name (each ``{...}`` stands for one name segment);
- a ``"campaignctl.module:Name"`` string, as the registry names providers and reviewers (``load()``
  imports them).

Imports under ``if TYPE_CHECKING:`` are not edges: they are never run.

As in ``/tmp/arch/imports.py`` (the reviewer's checker), importing one's own package (``from . import
x`` inside ``campaignctl.plan.builder`` naming ``campaignctl.plan``) is not an edge: that package is
always imported first, whatever the module does.
"""
from __future__ import annotations

import ast
import json
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from campaignctl.platforms import PLATFORMS
from tests.helpers import ROOT

PACKAGE = ROOT / "campaignctl"
TESTS = ROOT / "tests"
SCHEMAS = ROOT / "schemas"
REGISTRY = PACKAGE / "platforms" / "__init__.py"
#: the folders of campaignctl named after a platform (anything under them may name it)
PLATFORM_PARENTS = ("platforms", "sandbox")
MODULE_CLASS = re.compile(r"^(campaignctl(?:\.\w+)+):\w+$")


# -- the module graph --------------------------------------------------------------------------
def module_name(file: Path, root: Path = ROOT) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(f): f for f in sorted(package.rglob("*.py"))}


def _known(name: str, mods: dict[str, Path]) -> str | None:
    """The module ``name`` is, or the nearest package it is inside (``a.b.C`` -> ``a.b``)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _from_targets(module: str, node: ast.ImportFrom, mods: dict[str, Path]) -> Iterator[str]:
    if node.level:
        base = module.split(".") if mods[module].name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    for alias in node.names:
        candidate = f"{prefix}.{alias.name}"
        yield candidate if candidate in mods else prefix


def _import_module_targets(call: ast.Call, mods: dict[str, Path]) -> Iterator[str]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name != "import_module" or not call.args:
        return
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        yield arg.value
    elif isinstance(arg, ast.JoinedStr):
        pattern = "".join(
            re.escape(str(part.value)) if isinstance(part, ast.Constant) else r"\w+" for part in arg.values
        )
        yield from (m for m in mods if re.fullmatch(pattern, m))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks: read by type checkers, never run."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name | ast.Attribute) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            out.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return out


def edges(module: str, mods: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import edge of ``module``, function-level ones included
    (those under ``if TYPE_CHECKING:`` are not run, so they are not edges)."""
    tree = ast.parse(mods[module].read_text(), str(mods[module]))
    skip = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            targets = list(_from_targets(module, node, mods))
        elif isinstance(node, ast.Call):
            targets = list(_import_module_targets(node, mods))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (match := MODULE_CLASS.match(node.value)):
            targets = [match.group(1)]
        for target in targets:
            known = _known(target, mods)
            if known and known.startswith("campaignctl") and known != module and not module.startswith(known + "."):
                yield known, getattr(node, "lineno", 0)


def import_graph(mods: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported module: the line of its first import}."""
    graph: dict[str, dict[str, int]] = {}
    for module in mods:
        out: dict[str, int] = {}
        for target, line in edges(module, mods):
            out[target] = min(out.get(target, line), line)
        graph[module] = out
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def shortest_cycle(graph: dict[str, dict[str, int]], start: str) -> list[str]:
    """A shortest path start -> ... -> start (breadth first), to show one concrete cycle."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return []


def describe_cycle(graph: dict[str, dict[str, int]], mods: dict[str, Path], cycle: list[str], root: Path = ROOT) -> str:
    steps = [f"{a} ({mods[a].relative_to(root)}:{graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join([*steps, cycle[-1]])


def test_no_import_cycle_among_campaignctl_modules() -> None:
    mods = modules()
    graph = import_graph(mods)
    components = strongly_connected(graph)
    report = [
        f"{len(c)} modules: {', '.join(c)}\n    e.g. {describe_cycle(graph, mods, shortest_cycle(graph, c[0]))}"
        for c in components
    ]
    assert not components, f"{len(components)} import cycle(s):\n" + "\n".join(report)


def test_the_cycle_checker_sees_every_kind_of_edge(tmp_path: Path) -> None:
    """The checker itself: function-level imports, import_module (constant and f-string) and
    "module:Class" strings are edges, and a cycle through them is found and shown."""
    pkg = tmp_path / "campaignctl"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import a\n")
    (pkg / "sub" / "a.py").write_text("def f():\n    from campaignctl import b\n")
    (pkg / "b.py").write_text("import importlib\nX = importlib.import_module('campaignctl.c')\n")
    (pkg / "c.py").write_text("from importlib import import_module\ndef g(n):\n    return import_module(f'campaignctl.sub.{n}')\n")
    (pkg / "d.py").write_text("REGISTRY = {'x': 'campaignctl.sub.a:Thing'}\n")
    (pkg / "e.py").write_text("'''campaignctl.d:Doc is prose in a docstring'''\nfrom .sub import a\n")
    mods = {module_name(f, tmp_path): f for f in sorted(pkg.rglob("*.py"))}
    graph = import_graph(mods)
    assert graph["campaignctl.sub.a"] == {"campaignctl.b": 2}  # inside a function
    assert graph["campaignctl.b"] == {"campaignctl.c": 2}  # import_module with a constant
    assert graph["campaignctl.c"] == {"campaignctl.sub.a": 3}  # an f-string: any module it can name
    assert graph["campaignctl.d"] == {"campaignctl.sub.a": 1}  # a registry "module:Class" string
    assert "campaignctl.sub" not in graph["campaignctl.sub.a"]  # its own package is not an edge
    assert graph["campaignctl.e"] == {"campaignctl.sub.a": 2}
    assert strongly_connected(graph) == [["campaignctl.b", "campaignctl.c", "campaignctl.sub.a"]]
    cycle = shortest_cycle(graph, "campaignctl.b")
    assert cycle == ["campaignctl.b", "campaignctl.c", "campaignctl.sub.a", "campaignctl.b"]
    assert describe_cycle(graph, mods, cycle, tmp_path) == (
        "campaignctl.b (campaignctl/b.py:2) -> campaignctl.c (campaignctl/c.py:3)"
        " -> campaignctl.sub.a (campaignctl/sub/a.py:2) -> campaignctl.b"
    )


# -- where a platform is named -----------------------------------------------------------------
def platform_words() -> set[str]:
    """What names a platform: its type (``microworkers-v1``) and its package (``microworkers_v1``)."""
    return {p.type for p in PLATFORMS.values()} | {p.package for p in PLATFORMS.values()}


def in_platform_folder(file: Path) -> bool:
    parts = file.relative_to(PACKAGE).parts
    packages = {p.package for p in PLATFORMS.values()}
    return len(parts) > 2 and parts[0] in PLATFORM_PARENTS and parts[1] in packages


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def names_a_platform(value: str, words: set[str]) -> bool:
    """A string literal names a platform when it is one of its words, or when it has no blank and
    one of its ``/``, ``.``, ``:`` separated parts is one (``"/swarms"``, ``"campaignctl.sandbox.swarms.api"``,
    ``"/microworkers/api/v2"``). Prose (docstrings, messages with blanks) is not a name."""
    if value in words:
        return True
    return not re.search(r"\s", value) and any(part in words for part in re.split(r"[/.:]", value))


def platform_mentions(file: Path, mods: dict[str, Path], words: set[str]) -> Iterator[str]:
    """``line: what`` for each place ``file`` names a platform: a string literal (see
    names_a_platform) or an import edge into a platform's package (``campaignctl.platforms.<p>``,
    ``campaignctl.sandbox.<p>``)."""
    module = module_name(file)
    tree = ast.parse(file.read_text(), str(file))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if names_a_platform(node.value, words):
                yield f"{node.lineno}: string {node.value!r}"
    # an import whose module name is computed from the registry (an f-string over a platform's
    # package) names no platform: it is an edge to each (the cycle check), not a mention
    computed = {node.lineno for node in ast.walk(tree)
                if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.JoinedStr)}
    for target, line in sorted(edges(module, mods), key=lambda e: e[1]):
        parts = target.split(".")
        if len(parts) > 2 and parts[1] in PLATFORM_PARENTS and parts[2] in words and line not in computed:
            yield f"{line}: imports {target}"


def json_mentions(value: object, words: set[str], path: str = "$") -> Iterator[str]:
    """``path: what`` for each key or string value of a JSON document that names a platform."""
    if isinstance(value, dict):
        for key, item in value.items():
            if names_a_platform(key, words):
                yield f"{path}: key {key!r}"
            yield from json_mentions(item, words, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from json_mentions(item, words, f"{path}[{i}]")
    elif isinstance(value, str) and names_a_platform(value, words):
        yield f"{path}: string {value!r}"


def shared_schemas() -> list[Path]:
    """The schemas outside a platform's folder (``schemas/<p>/``)."""
    folders = {p.schemas for p in PLATFORMS.values()}
    return [f for f in sorted(SCHEMAS.rglob("*.json")) if f.relative_to(SCHEMAS).parts[0] not in folders]


def test_a_platform_is_named_only_in_its_folders_and_the_registry() -> None:
    """Outside ``campaignctl/platforms/<p>/``, ``campaignctl/sandbox/<p>/``, ``schemas/<p>/`` and
    ``examples/``, the registry is the one file that names a platform: in campaignctl's Python and
    in the shared JSON Schemas (what depends on the platforms, the Provider schema's types and auth
    forms, the editor entry of each kind, is composed from the registry or lies in the platforms'
    folders). Adding a platform is then: its folders, and one entry in the registry."""
    mods = modules()
    words = platform_words()
    offenders: dict[Path, list[str]] = {}
    for file in mods.values():
        if in_platform_folder(file) or file == REGISTRY:
            continue
        mentions = list(platform_mentions(file, mods, words))
        if mentions:
            offenders[file.relative_to(ROOT)] = mentions
    for file in shared_schemas():
        mentions = list(json_mentions(json.loads(file.read_text()), words))
        if mentions:
            offenders[file.relative_to(ROOT)] = mentions
    report = "\n".join(f"{file}:{m}" for file, mentions in sorted(offenders.items()) for m in mentions)
    assert not offenders, f"{len(offenders)} file(s) outside the platform folders name a platform:\n{report}"


def test_the_platform_rule_sees_literals_and_imports_not_prose(tmp_path: Path) -> None:
    words = {"swarms", "microworkers", "microworkers-v1", "microworkers_v1"}
    assert names_a_platform("swarms", words) and names_a_platform("microworkers-v1", words)
    assert names_a_platform("/microworkers/api/v2", words)
    assert names_a_platform("campaignctl.platforms.microworkers_v1.provider:MicroworkersV1Provider", words)
    assert not names_a_platform("the swarms provider", words)  # prose
    assert not names_a_platform("SWARMS_TOKEN", words) and not names_a_platform("swarmsx", words)
    assert in_platform_folder(PACKAGE / "platforms" / "swarms" / "provider.py")
    assert in_platform_folder(PACKAGE / "sandbox" / "microworkers_v1" / "api.py")
    assert not in_platform_folder(PACKAGE / "platforms" / "__init__.py")
    assert not in_platform_folder(PACKAGE / "sandbox" / "app.py")
    assert not in_platform_folder(PACKAGE / "results" / "swarms.py")
    document = {"enum": ["swarms", "other"], "microworkers": {"$ref": "microworkers-v1/Campaign.json"},
                "description": "a swarms or microworkers campaign"}
    assert list(json_mentions(document, words)) == [
        "$.enum[0]: string 'swarms'", "$: key 'microworkers'", "$.microworkers.$ref: string 'microworkers-v1/Campaign.json'",
    ]
    assert all(f.relative_to(SCHEMAS).parts[0] not in {"swarms", "microworkers", "microworkers-v1"} for f in shared_schemas())
    assert SCHEMAS / "Provider.json" in shared_schemas()


# -- the tests ---------------------------------------------------------------------------------
def test_no_test_imports_another_test_module_or_the_conftest() -> None:
    """Tests share what tests/helpers.py holds (fixtures come from conftest.py through pytest)."""
    offenders = []
    for file in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:  # from tests.e2e import test_x, too
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                names = []
            for name in names:
                assert isinstance(node, ast.Import | ast.ImportFrom)
                last = name.rpartition(".")[2]
                if name.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                    offenders.append(f"{file.relative_to(ROOT)}:{node.lineno}: imports {name}")
            if isinstance(node, ast.ImportFrom) and node.level:
                offenders.append(f"{file.relative_to(ROOT)}:{node.lineno}: a relative import (use tests.helpers)")
    assert not offenders, "\n".join(offenders)
