"""``forEach``: one resource per row of a CSV or JSONL data file.

A resource document with ``forEach: {file: data/photos.csv, key: id}`` is a template: the loader
replaces it by one member per row, named ``<name>[<key>]`` (address
``<provider>/<kind>/<name>[<key>]``), whose spec is the template's with every string that holds a
Jinja2 tag rendered against the row (``{{ row.url }}``). Rendering uses Jinja2's sandboxed
environment with strict undefined: no template engine of our own, and a missing column is an error.
A string that is one expression and nothing else (``"{{ row.pay | float }}"``) keeps the
expression's type. Members keep the file:line:col of their template's nodes.

A reference field (a platform's ``references``, see ``Kinds``) that names a family in a list stands for every
member, in row order; ``name[key]`` names one. A single-valued reference must name one member.

Errors name the template's file:line:col and the data file's line; they are reported once per
template string (with the number of other rows that failed the same way).
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic
from .model import Document, address_of
from .nodes import Mark, MarkedDict, MarkedList

if TYPE_CHECKING:
    from ..platforms import Kinds

#: what a member's key may be: what a document name may be (schemas/document.json), so that an
#: address stays one token for globs, state and markers
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_TAG = ("{{", "{%", "{#")
_ONE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)


class _Problems(Exception):
    """The family cannot be expanded; its diagnostics are already recorded."""


def expand(
    documents: list[Document], diags: list[Diagnostic], digests: dict[str, str], root: Path, kinds: Callable[[str], Kinds | None],
) -> list[Document]:
    """``documents`` with every forEach template replaced by its members and every reference to a
    family replaced by its members' names. Problems go to ``diags``; each data file read goes to
    ``digests`` (path relative to ``root`` -> sha256), so that caches and saved plans see it.
    ``kinds``: a Provider document's type -> its platform's kinds and references (the loader's
    ``Platforms.kinds``)."""
    if not any("forEach" in doc.raw for doc in documents):
        return documents
    out: list[Document] = []
    families: dict[str, list[str]] = {}  # a family's address -> its members' names, in row order
    taken = {doc.address for doc in documents if "forEach" not in doc.raw}
    for doc in documents:
        spec = doc.raw.get("forEach")
        if spec is None:
            out.append(doc)
            continue
        if not doc.is_resource:
            diags.append(doc.field_mark("forEach").diag(f"forEach is for resources; a {doc.kind} is not one"))
            continue
        if doc.address in taken or doc.address in families:
            diags.append(doc.field_mark("name").diag(f"duplicate {doc.kind} {doc.name!r}: a forEach family's name must be its own"))
            continue
        try:
            members = list(_members(doc, spec, diags, digests, root))
        except _Problems:
            families[doc.address] = []
            continue
        families[doc.address] = [m.name for m in members]
        out += members
    return _expand_references(out, families, diags, kinds)


def _members(doc: Document, spec: dict[str, Any], diags: list[Diagnostic], digests: dict[str, str], root: Path) -> Iterator[Document]:
    at = doc.field_mark("forEach")
    path, shown = _data_path(doc, spec["file"], root, at, diags)
    rows = _rows(path, shown, spec["key"], at, diags, digests, root)
    templates = _compile(doc.spec, diags)
    failed: dict[int, list[Any]] = {}  # a template string's id -> [its first diagnostic, rows that failed]
    seen: dict[str, int] = {}
    members = []
    for line, row in rows:
        key = row.get(spec["key"])
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not KEY.match(key):
            what = "has no" if key is None else f"has {key!r} in"
            diags.append(at.diag(f"{shown}:{line}: the row {what} its key column {spec['key']!r}; a key is letters, digits, '_', '.', '-' (at most 128)"))
            raise _Problems
        if key in seen:
            diags.append(at.diag(f"{shown}:{line}: key {key!r} again (first at line {seen[key]}); forEach.key must be unique"))
            raise _Problems
        seen[key] = line
        rendered = _render(doc.spec, templates, {"row": row}, shown, line, failed)
        members.append((key, rendered))
    for first, more in failed.values():
        diags.append(first if not more else Diagnostic(first.file, first.line, first.col, f"{first.message} (and {more} more row(s))"))
    if failed:
        raise _Problems
    for key, rendered in members:
        raw = _like(doc.raw, {k: v for k, v in doc.raw.items() if k != "forEach"} | {"spec": rendered}, keep_source=False)
        yield dataclasses.replace(
            doc, name=f"{doc.name}[{key}]", spec=rendered, raw=raw, derived={},
            moved_from=f"{doc.moved_from}[{key}]" if doc.moved_from else None,
        )


def _data_path(doc: Document, name: str, root: Path, at: Mark, diags: list[Diagnostic]) -> tuple[Path, str]:
    try:
        path = (Path(doc.file).resolve().parent / name).resolve()
    except (OSError, RuntimeError):
        path = None
    if path is None or not path.is_relative_to(root.resolve()):
        diags.append(at.diag(f"forEach.file {name!r} is outside the config directory; campaignctl reads only files inside it"))
        raise _Problems
    if not path.is_file():
        diags.append(at.diag(f"forEach.file {name!r}: no such file"))
        raise _Problems
    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        diags.append(at.diag(f"forEach.file {name!r}: a .csv or .jsonl file, please"))
        raise _Problems
    return path, str(Path(doc.file).parent / name)


def _rows(path: Path, shown: str, key: str, at: Mark, diags: list[Diagnostic], digests: dict[str, str], root: Path) -> list[tuple[int, dict[str, Any]]]:
    """Each row of the data file with its line (1-based)."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        diags.append(at.diag(f"forEach.file {shown}: cannot read: {exc.strerror}"))
        raise _Problems from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        diags.append(Diagnostic(shown, line, 1, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"))
        raise _Problems from None
    digests[path.relative_to(root.resolve()).as_posix()] = hashlib.sha256(data).hexdigest()
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        try:
            if reader.fieldnames is not None and key not in reader.fieldnames:
                diags.append(at.diag(f"{shown}:1: no column {key!r} (forEach.key); columns: {', '.join(reader.fieldnames)}"))
                raise _Problems
            line = reader.line_num + 1
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    diags.append(Diagnostic(shown, line, 1, f"{len(reader.fieldnames or [])} columns in the header, another number in this row"))
                    raise _Problems
                rows.append((line, row))
                line = reader.line_num + 1
        except csv.Error as exc:
            diags.append(Diagnostic(shown, reader.line_num, 1, f"not CSV: {exc}"))
            raise _Problems from None
        return rows
    for number, line_text in enumerate(text.splitlines(), 1):
        if not line_text.strip():
            continue
        try:
            row = json.loads(line_text)
        except ValueError as exc:
            diags.append(Diagnostic(shown, number, 1, f"not a JSON line: {exc}"))
            raise _Problems from None
        if not isinstance(row, dict):
            diags.append(Diagnostic(shown, number, 1, "a JSONL row must be an object"))
            raise _Problems
        rows.append((number, row))
    return rows


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _compile(spec: Any, diags: list[Diagnostic]) -> dict[int, tuple[Any, bool, Mark | None]]:
    """Every templated string below ``spec`` by id: (compiled template or expression, is one
    expression, its mark)."""
    from jinja2 import TemplateSyntaxError

    env = _environment()
    out: dict[int, tuple[Any, bool, Mark | None]] = {}
    bad = False
    for value, mark in _strings(spec, None):
        if not any(tag in value for tag in _TAG) or id(value) in out:
            continue
        one = _ONE_EXPRESSION.match(value)
        try:
            out[id(value)] = (env.compile_expression(one["expr"].strip(), undefined_to_none=False), True, mark) if one else (env.from_string(value), False, mark)
        except TemplateSyntaxError as exc:
            where = mark or Mark.at("?", 1, 1)
            diags.append(where.diag(f"template: {exc.message}" + (f" (line {exc.lineno} of the text)" if "\n" in value else "")))
            bad = True
    if bad:
        raise _Problems
    return out


def _strings(node: Any, mark: Mark | None) -> Iterator[tuple[str, Mark | None]]:
    if isinstance(node, str):
        yield node, mark
    elif isinstance(node, dict):
        marks = getattr(node, "value_marks", None) or {}
        for k, v in node.items():
            yield from _strings(v, marks.get(k, mark))
    elif isinstance(node, list):
        marks = getattr(node, "item_marks", None) or []
        for i, v in enumerate(node):
            yield from _strings(v, marks[i] if i < len(marks) else mark)


def _render(node: Any, templates: dict[int, Any], context: dict[str, Any], data: str, line: int, failed: dict[int, list[Any]]) -> Any:
    """``node`` with its templated strings rendered; subtrees without any are shared, not copied."""
    if isinstance(node, str):
        found = templates.get(id(node))
        if found is None:
            return node
        compiled, expression, mark = found
        from jinja2 import TemplateError, Undefined

        try:
            if expression:
                value = compiled(**context)
                if isinstance(value, Undefined):
                    str(value)  # strict: raises the UndefinedError that names what is missing
                try:  # a value YAML could have held keeps its type; anything else (a range...) is text
                    json.dumps(value, allow_nan=False)
                except (TypeError, ValueError):
                    return str(value)
                return value
            return compiled.render(**context)
        except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            if id(node) in failed:
                failed[id(node)][1] += 1
            else:
                columns = ", ".join(map(str, context["row"]))
                where = mark or Mark.at(data, line, 1)
                failed[id(node)] = [where.diag(f"template, row at {data}:{line}: {exc}; the row's columns: {columns}"), 0]
            return node
    if isinstance(node, dict):
        items = {k: _render(v, templates, context, data, line, failed) for k, v in node.items()}
        if all(items[k] is node[k] for k in node):
            return node
        return _like(node, items)
    if isinstance(node, list):
        rendered = [_render(v, templates, context, data, line, failed) for v in node]
        if all(a is b for a, b in zip(rendered, node, strict=True)):
            return node
        return _like(node, rendered)
    return node


def _like(node: Any, items: Any, keep_source: bool = True) -> Any:
    """A marked node of ``node``'s type holding ``items``, with ``node``'s marks."""
    if isinstance(node, MarkedDict):
        new: Any = MarkedDict(items)
        new.mark, new.key_marks, new.value_marks = node.mark, node.key_marks, node.value_marks
    elif isinstance(node, MarkedList):
        new = MarkedList(items)
        new.mark, new.item_marks = node.mark, node.item_marks
    else:
        return type(node)(items)
    if keep_source and getattr(node, "source", None) is not None:
        new.source = node.source
    return new


def _expand_references(
    documents: list[Document], families: dict[str, list[str]], diags: list[Diagnostic], kinds: Callable[[str], Kinds | None],
) -> list[Document]:
    """References to a family by its name replaced by its members' names (a list) or reported (a
    single-valued field)."""
    if not families:
        return documents
    types = {d.name: d.spec.get("type") for d in documents if d.kind == "Provider" and isinstance(d.spec, dict)}
    out = []
    for doc in documents:
        ptype = types.get(doc.provider) if doc.is_resource and doc.provider else None
        known = kinds(ptype) if isinstance(ptype, str) else None
        refs = known.references.get(doc.kind, {}) if known is not None else {}
        spec = doc.spec
        for field, target_kind in refs.items():
            value = spec.get(field)

            def family(name: Any, doc: Document = doc, target_kind: str = target_kind) -> list[str] | None:
                return families.get(address_of(doc.provider or "", target_kind, name)) if isinstance(name, str) else None

            if isinstance(value, list) and any(family(v) is not None for v in value):
                names: list[Any] = []
                marks: list[Mark] = []
                item_marks = getattr(value, "item_marks", None) or [doc.mark(field)] * len(value)
                for item, mark in zip(value, item_marks, strict=False):
                    members = family(item)
                    names += [item] if members is None else members
                    marks += [mark] if members is None else [mark] * len(members)
                expanded = MarkedList(names)
                expanded.mark, expanded.item_marks = getattr(value, "mark", doc.mark(field)), marks
                spec = _like(spec, {**spec, field: expanded}, keep_source=False)
            elif family(value) is not None:
                members = family(value)
                example = f" such as {members[0]!r}" if members else ""
                diags.append(doc.mark(field).diag(f"spec.{field}: {value!r} is a forEach family; name one of its members{example}"))
        if spec is not doc.spec:
            raw = _like(doc.raw, {**doc.raw, "spec": spec}, keep_source=False)
            doc = dataclasses.replace(doc, spec=spec, raw=raw, derived={})
        out.append(doc)
    return out


__all__ = ["KEY", "expand"]
