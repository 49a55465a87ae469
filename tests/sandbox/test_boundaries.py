"""The sandbox's and the results' boundaries (issue 22): who may import whom, and who names a platform.

Read from the source with ``ast`` (imports inside functions and under ``TYPE_CHECKING`` included),
so that a boundary crossed anywhere fails here, not only at import time.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import campaignctl
from campaignctl.platforms import PLATFORMS
from campaignctl.sandbox import faults, inject

PACKAGE = Path(campaignctl.__file__).parent
PLATFORM_FOLDERS = {p.package for p in PLATFORMS.values()}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, wherever the import statement stands."""
    here = _module(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.add(module)
            out |= {f"{module}.{alias.name}" for alias in node.names}
    return out


def _files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path", _files("results", *(f"platforms/{name}" for name in PLATFORM_FOLDERS)), ids=lambda p: _module(p)
)
def test_results_and_platforms_never_import_the_sandbox(path: Path) -> None:
    """Simulated submissions are reached through the sandbox's ``POST /_sandbox/submit``, not its code."""
    assert not {m for m in _imports(path) if m == "campaignctl.sandbox" or m.startswith("campaignctl.sandbox.")}


@pytest.mark.parametrize("name", sorted(PLATFORM_FOLDERS))
def test_platform_sandboxes_never_import_the_app_that_mounts_them(name: str) -> None:
    for path in _files(f"sandbox/{name}"):
        assert "campaignctl.sandbox.app" not in _imports(path), _module(path)


def _code_strings(path: Path) -> set[str]:
    """The string constants of a module's code (docstrings left out: prose may name a platform)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


@pytest.mark.parametrize(
    "path",
    [p for p in _files("sandbox", "results") if not set(p.relative_to(PACKAGE).parts[1:-1]) & PLATFORM_FOLDERS],
    ids=lambda p: _module(p),
)
def test_shared_sandbox_and_results_code_names_no_platform(path: Path) -> None:
    """Outside the platform folders only the registry names a platform."""
    names = {p.type for p in PLATFORMS.values()} | {p.prefix for p in PLATFORMS.values()}
    assert not _code_strings(path) & names


def test_fault_injection_targets_the_registrys_platforms() -> None:
    assert faults.PLATFORMS == tuple(PLATFORMS)
    assert faults.parse_faults("5xx=0.1,platforms=all").platforms == tuple(PLATFORMS)  # type: ignore[union-attr]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_injected_errors_come_in_each_platforms_format(platform: str) -> None:
    media, body = inject.error_answer(platform, 503)
    assert media.startswith((b"application/json", b"application/problem+json")) and b"sandbox fault injection" in body
    assert inject.error_answer(platform, 502)[0].startswith(b"text/html")
