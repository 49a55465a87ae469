"""Access to the JSON Schemas in ``schemas/`` (shipped in the wheel as ``campaignctl/_schemas``).

Files are registered under their ``file://`` URI so the relative ``$ref``s between them resolve
exactly as they do for editors (yaml-language-server).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


def schema_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


@cache
def _registry() -> tuple[Registry, dict[str, dict[str, Any]]]:
    root = schema_dir()
    docs: dict[str, dict[str, Any]] = {}
    registry: Registry = Registry()
    for path in sorted(root.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("$id", path.resolve().as_uri())
        rel = path.relative_to(root).as_posix()
        docs[rel] = data
        registry = registry.with_resource(data["$id"], Resource.from_contents(data))
    return registry, docs


def has_schema(rel: str) -> bool:
    return rel in _registry()[1]


@cache
def validator(rel: str) -> Draft202012Validator:
    """The validator for ``schemas/<rel>`` (e.g. ``swarms/Task.json``)."""
    registry, docs = _registry()
    return Draft202012Validator(docs[rel], registry=registry)


def schema(rel: str) -> dict[str, Any]:
    return _registry()[1][rel]
