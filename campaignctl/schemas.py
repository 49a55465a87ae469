"""Access to the JSON Schemas in ``schemas/`` (shipped in the wheel as ``campaignctl/_schemas``).

Files are registered under their ``file://`` URI so the relative ``$ref``s between them resolve
exactly as they do for editors (yaml-language-server). The shared files name no platform: what
depends on the platforms is composed here from the platforms' folders (:func:`composed`): the
Provider schema the loader checks a Provider spec with (the type one of theirs, and the platform's
part of the spec, ``schemas/<p>/Provider.json``, picked by type), and where a kind's schema is
(:func:`kind_schema`).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported on first use: a config whose documents are all known valid never needs it
    from jsonschema import Draft202012Validator
    from referencing import Registry


def schema_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


@cache
def platform_folders() -> dict[str, str]:
    """Provider type -> its platform's schema folder: each folder of ``schemas/`` with a
    ``Provider.json`` (the platform's part of the Provider spec) names its type there
    (``properties.type.const``). Read from the files, not from the registry of platforms, which
    names each platform's code: the loader is below the platforms, and importing the registry would
    make it depend on them. The test suite holds the two to agree (``Platform.schemas``)."""
    found: dict[str, str] = {}
    for path in sorted(schema_dir().glob("*/Provider.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["properties"]["type"]["const"]] = path.parent.name
    return found


def provider_rules() -> dict[str, Any]:
    """What the platforms add to the shared ``Provider.json``: ``type`` is one of theirs, and each
    type's spec is also held to its platform's part, ``<folder>/Provider.json`` (its ``auth``
    forms), picked by type (the ``allOf`` branch idiom of :func:`_branch_key`)."""
    folders = platform_folders()
    return {
        "properties": {"type": {"enum": list(folders)}},
        "allOf": [
            {"if": {"properties": {"type": {"const": t}}, "required": ["type"]}, "then": {"$ref": f"{folder}/Provider.json"}}
            for t, folder in folders.items()
        ],
    }


def composed() -> dict[str, dict[str, Any]]:
    """The schemas composed from the platforms' folders, by the name of the file they stand for
    when the loader validates (``validator("Provider.json")``); their ``$ref``s are relative to that
    file. The file itself stays as it is for the other schemas' ``$ref``s (a platform's entry schema
    adds its own part to it)."""
    return {"Provider.json": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Provider spec, of any platform",
        "description": "Provider.json (the fields every platform shares), the type one of the platforms', and its platform's part.",
        "$ref": "Provider.json",
        **provider_rules(),
    }}


@cache
def kind_schema(kind: str, provider_type: str | None) -> str:
    """The schema of the spec of a ``kind`` document: for a resource, ``<Kind>.json`` in its
    provider type's folder; for a kind of no provider (``provider_type`` None), ``<Kind>.json`` when
    the platforms share it, else the one a platform's folder has (``Component``: the registry's
    ``Platform.shared_kinds``)."""
    folders = platform_folders()
    if provider_type is not None:
        return f"{folders.get(provider_type, provider_type)}/{kind}.json"
    root = schema_dir()
    if not (root / f"{kind}.json").is_file():
        for folder in folders.values():
            if (root / folder / f"{kind}.json").is_file():
                return f"{folder}/{kind}.json"
    return f"{kind}.json"


@cache
def _registry() -> tuple[Registry, dict[str, dict[str, Any]]]:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    root = schema_dir()
    docs: dict[str, dict[str, Any]] = {}
    registry: Registry = Registry()
    for path in sorted(root.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("$id", path.resolve().as_uri())
        rel = path.relative_to(root).as_posix()
        docs[rel] = data
        # registered without "$schema": jsonschema picks the validator class of a $ref's target by
        # its "$schema", which would drop the dispatching allOf below at every file boundary
        rules = {k: v for k, v in data.items() if k != "$schema"}
        registry = registry.with_resource(data["$id"], DRAFT202012.create_resource(rules))
    for rel, data in composed().items():
        # under a URI of its own next to the file it stands for: relative $refs resolve alike, and
        # the file keeps its URI for the $refs of the other schemas
        data = {**data, "$id": (root / rel).resolve().with_suffix(".composed.json").as_uri()}
        docs[rel] = data
        rules = {k: v for k, v in data.items() if k != "$schema"}
        registry = registry.with_resource(data["$id"], DRAFT202012.create_resource(rules))
    return registry, docs


def has_schema(rel: str) -> bool:
    return rel in _registry()[1]


def _branch_key(subschema: Any) -> tuple[str, str] | None:
    """``(K, V)`` when ``subschema`` is exactly ``{"if": {"properties": {K: {"const": V}}, "required":
    [K]}, "then": ...}`` with a string V: the idiom the component and provider schemas use to pick
    the rules of one type out of many (JSON Schema has no discriminator)."""
    if not isinstance(subschema, dict) or set(subschema) != {"if", "then"}:
        return None
    test = subschema["if"]
    if not isinstance(test, dict) or set(test) != {"properties", "required"}:
        return None
    props, required = test["properties"], test["required"]
    if not isinstance(props, dict) or len(props) != 1 or required != list(props):
        return None
    (key, rule), = props.items()
    if not isinstance(rule, dict) or set(rule) != {"const"} or not isinstance(rule["const"], str):
        return None
    return key, rule["const"]


def _dispatching_all_of(validator: Any, all_of: list[Any], instance: Any, schema: Any) -> Any:
    """``allOf`` that skips, without evaluating it, a branch (see ``_branch_key``) whose ``if`` an
    object cannot match: its K is missing or a string other than V. Such an ``if`` fails, and a
    branch with no ``else`` then asks nothing, so the errors are exactly the standard keyword's;
    only the time differs (the component schema has 13 branches: most of a config's validation
    time went to evaluating 12 ``if``s that fail, for every component)."""
    if not isinstance(instance, dict):
        from jsonschema._keywords import allOf

        yield from allOf(validator, all_of, instance, schema)
        return
    for index, subschema in enumerate(all_of):
        branch = _BRANCHES.get(id(subschema), _UNKNOWN)
        if branch is _UNKNOWN:
            branch = _BRANCHES[id(subschema)] = _branch_key(subschema)
        if branch is not None:
            value = instance.get(branch[0], _UNKNOWN)
            if value is _UNKNOWN or (isinstance(value, str) and value != branch[1]):
                continue
        yield from validator.descend(instance, subschema, schema_path=index)


_UNKNOWN: Any = object()
#: id() of an allOf branch -> its (K, V), or None; the schemas live (and keep their ids) for the process
_BRANCHES: dict[int, tuple[str, str] | None] = {}


def _remembered_ref(validator: Any, ref: str, instance: Any, schema: Any) -> Any:
    """``$ref`` whose target is looked up once per (base URI, reference): the registry never
    changes, so neither does what a reference from a given base resolves to, and the same few
    dozen references are followed ~25,000 times for 6,000 documents (joining URIs, walking
    pointers: a third of a cold validation). The errors are the standard keyword's: the same
    contents and resolver are descended into."""
    resolver = validator._resolver
    base = getattr(resolver, "_base_uri", None)
    if base is None:  # another jsonschema / referencing than the one this was written against
        yield from validator._validate_reference(ref=ref, instance=instance)
        return
    resolved = _RESOLVED.get((base, ref))
    if resolved is None:
        try:
            resolved = resolver.lookup(ref)
        except Exception:  # noqa: BLE001 - the standard keyword words it (and raises it) its way
            yield from validator._validate_reference(ref=ref, instance=instance)
            return
        _RESOLVED[(base, ref)] = resolved
    yield from validator.descend(instance, resolved.contents, resolver=resolved.resolver)


#: (base URI, $ref) -> what the registry resolves it to (the schemas' registry lives for the process)
_RESOLVED: dict[tuple[str, str], Any] = {}


@cache
def _validator_class() -> type[Draft202012Validator]:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"allOf": _dispatching_all_of, "$ref": _remembered_ref})


@cache
def validator(rel: str) -> Draft202012Validator:
    """The validator for ``schemas/<rel>`` (e.g. ``swarms/Task.json``)."""
    registry, docs = _registry()
    return _validator_class()(docs[rel], registry=registry)


def schema(rel: str) -> dict[str, Any]:
    return _registry()[1][rel]
