"""A safe YAML loader that remembers where every node came from.

Built on ``yaml.compose_all`` (no object construction by PyYAML): only plain mappings, sequences
and scalars of the core schema are accepted; any other tag (``!!python/object``...) is an error.
Aliases are expanded with a budget so an "anchor bomb" is refused instead of eating memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Diagnostic

#: composes with libyaml (C) when available; errors are re-worded by the pure-Python parser
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 200_000  # after alias expansion, per file
MAX_DEPTH = 100


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    @classmethod
    def of(cls, file: str, node: Node) -> Mark:
        return cls(file, node.start_mark.line + 1, node.start_mark.column + 1)

    def diag(self, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.col, message)


class MarkedDict(dict):  # type: ignore[type-arg]
    """A dict that knows the position of itself, of each key and of each value."""

    mark: Mark
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]


class MarkedList(list):  # type: ignore[type-arg]
    mark: Mark
    item_marks: list[Mark]


class _YamlProblem(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        self.diagnostic = mark.diag(message)


_SCALAR = SafeConstructor()
_TAGS = {
    "tag:yaml.org,2002:str": lambda n: _SCALAR.construct_scalar(n),
    "tag:yaml.org,2002:int": _SCALAR.construct_yaml_int,
    "tag:yaml.org,2002:float": _SCALAR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SCALAR.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SCALAR.construct_yaml_null,
    # dates stay the text the user wrote; the schemas check their format
    "tag:yaml.org,2002:timestamp": lambda n: _SCALAR.construct_scalar(n),
}


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0

    def build(self, node: Node, depth: int = 0) -> Any:
        mark = Mark.of(self.file, node)
        self.count += 1
        if self.count > MAX_NODES:
            raise _YamlProblem(mark, f"document too large after expanding aliases (more than {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise _YamlProblem(mark, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, ScalarNode):
            make = _TAGS.get(node.tag)
            if make is None:
                raise _YamlProblem(mark, _bad_tag(node))
            try:
                return make(node)
            except (ConstructorError, ValueError) as exc:
                raise _YamlProblem(mark, f"bad {node.tag.rsplit(':', 1)[-1]} value {node.value!r}: {exc}") from None
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise _YamlProblem(mark, _bad_tag(node))
            out = MarkedList(self.build(item, depth + 1) for item in node.value)
            out.mark = mark
            out.item_marks = [Mark.of(self.file, item) for item in node.value]
            return out
        if isinstance(node, MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise _YamlProblem(mark, _bad_tag(node))
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                _SCALAR.flatten_mapping(node)
            out_map = MarkedDict()
            out_map.mark, out_map.key_marks, out_map.value_marks = mark, {}, {}
            for key_node, value_node in node.value:
                key = self.build(key_node, depth + 1)
                key_mark = Mark.of(self.file, key_node)
                if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                    raise _YamlProblem(key_mark, "mapping keys must be strings")
                key = str(key)
                if key in out_map:
                    first = out_map.key_marks[key]
                    raise _YamlProblem(key_mark, f"duplicate key {key!r} (first at line {first.line})")
                out_map[key] = self.build(value_node, depth + 1)
                out_map.key_marks[key] = key_mark
                out_map.value_marks[key] = Mark.of(self.file, value_node)
            return out_map
        raise _YamlProblem(mark, "unsupported YAML node")  # pragma: no cover - PyYAML has no other node kinds


_SYNTAX_HINTS = {
    "mapping values are not allowed here": " (quote a value that contains ': ', or check the indentation)",
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
}


def _bad_tag(node: Node) -> str:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
    return f"unsupported YAML tag {tag!r}: only plain mappings, lists, strings, numbers, booleans and null are allowed"


def load_documents(text: str, file: str) -> tuple[list[Any], list[Diagnostic]]:
    """Every YAML document in ``text`` (empty ones dropped), or the diagnostics that stopped it."""
    try:
        try:  # libyaml's parser when PyYAML has it (about 10x faster); same nodes, same marks
            nodes = list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except yaml.YAMLError:  # word the error as the pure-Python parser does (and as the docs show)
            if _FAST_LOADER is yaml.SafeLoader:
                raise
            nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        problem += _SYNTAX_HINTS.get(problem, "")
        if exc.context:
            where = exc.context_mark
            if where is not None and mark is not None and (where.line, where.column) != (mark.line, mark.column):
                problem += f" ({exc.context} that started at line {where.line + 1}, column {where.column + 1})"
            elif exc.context not in problem:
                problem = f"{exc.context}: {problem}"
        return [], [Diagnostic(file, line, col, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return [], [Diagnostic(file, 1, 1, f"YAML error: {exc}")]
    except RecursionError:
        return [], [Diagnostic(file, 1, 1, "YAML nesting too deep")]
    docs: list[Any] = []
    diags: list[Diagnostic] = []
    builder = _Builder(file)
    for node in nodes:
        if node is None:
            continue
        try:
            docs.append(builder.build(node))
        except _YamlProblem as exc:
            diags.append(exc.diagnostic)
        except RecursionError:
            diags.append(Mark.of(file, node).diag("YAML nesting too deep"))
    return docs, diags


def mark_at(root: Any, path: list[str | int], *, key: bool = False) -> Mark | None:
    """The position of the value at ``path`` below ``root`` (of its key with ``key=True``).

    Falls back to the deepest marked ancestor, so every error has a position.
    """
    best: Mark | None = getattr(root, "mark", None)
    node = root
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, MarkedDict) and isinstance(step, str) and step in node:
            best = node.key_marks[step] if (last and key) else node.value_marks[step]
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_marks[step]
            node = node[step]
        else:
            break
    return best


def dotted_path(path: list[Any]) -> str:
    """``["spec", "components", 0, "type"]`` -> ``spec.components[0].type``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
