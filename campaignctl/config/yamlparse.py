"""A safe YAML parser that remembers where every node came from: it builds the nodes of
:mod:`.nodes`; :mod:`.yamlload` drives it.

Built on ``yaml.compose_all`` (no object construction by PyYAML): only plain mappings, sequences
and scalars of the core schema are accepted; any other tag (``!!python/object``...) is an error.
Aliases are expanded with a budget so an "anchor bomb" is refused instead of eating memory.
Imported only when a text must be parsed: a config the document cache holds needs no PyYAML.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Diagnostic
from .nodes import MAX_DEPTH, MAX_NODES, Mark, MarkedDict, MarkedList, new_mark

#: composes with libyaml (C) when available; errors are re-worded by the pure-Python parser
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlProblem(Exception):
    def __init__(self, mark: Mark | _LazyMark, message: str) -> None:
        self.diagnostic = mark.diag(message)


class _LazyMark:
    """The mark of a node, made only if an error needs it."""

    __slots__ = ("file", "node", "offset")

    def __init__(self, file: str, node: Node, offset: int) -> None:
        self.file, self.node, self.offset = file, node, offset

    def diag(self, message: str) -> Diagnostic:
        return Mark.of(self.file, self.node, self.offset).diag(message)


_SCALAR = SafeConstructor()
_TAGS: dict[str, Callable[[ScalarNode], Any]] = {
    "tag:yaml.org,2002:str": lambda n: _SCALAR.construct_scalar(n),
    "tag:yaml.org,2002:int": _SCALAR.construct_yaml_int,
    "tag:yaml.org,2002:float": _SCALAR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SCALAR.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SCALAR.construct_yaml_null,
    # dates stay the text the user wrote; the schemas check their format
    "tag:yaml.org,2002:timestamp": lambda n: _SCALAR.construct_scalar(n),
}


class _Builder:
    def __init__(self, file: str, offset: int = 0) -> None:
        self.file = file
        self.offset = offset  # lines of the file before the text composed
        self.count = 0  # nodes built again through an alias
        self._seen: set[int] = set()  # ids of the nodes built once (all alive: the composed tree holds them)

    def mark(self, node: Node) -> Mark:
        start = node.start_mark
        return new_mark(Mark, (self.file, start.line + self.offset + 1, start.column + 1))

    def build(self, node: Node, depth: int = 0) -> Any:
        # the budget is on what aliases add: a file of 10,000 plain documents is no bomb
        if id(node) in self._seen:
            self.count += 1
        else:
            self._seen.add(id(node))
        if self.count > MAX_NODES:
            raise _YamlProblem(self.mark(node), f"document too large after expanding aliases (more than {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise _YamlProblem(self.mark(node), f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, ScalarNode):  # its mark is made by its parent (or on an error): not here
            lazy = _LazyMark(self.file, node, self.offset)
            make = _TAGS.get(node.tag)
            if make is None:
                raise _YamlProblem(lazy, _bad_tag(node))
            try:
                value = make(node)
                if isinstance(value, str):
                    value.encode("utf-8")  # "\ud800" escapes a lone surrogate: no character, and unprintable later
                elif isinstance(value, float) and value - value != 0:  # .nan, .inf: JSON and the APIs have none
                    raise _YamlProblem(lazy, f"{node.value} is not a finite number")
                elif isinstance(value, int) and not -(2**63) <= value < 2**63:  # no API takes it (nor a float holds 10**400)
                    raise _YamlProblem(lazy, f"{node.value[:40]} is out of range (beyond a 64-bit integer)")
                return value
            except UnicodeEncodeError:
                raise _YamlProblem(lazy, "a \\u escape in this string names a lone surrogate (U+D800 to U+DFFF), which is not a character") from None
            except (ConstructorError, ValueError) as exc:
                raise _YamlProblem(lazy, f"bad {node.tag.rsplit(':', 1)[-1]} value {node.value!r}: {exc}") from None
        mark = self.mark(node)
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise _YamlProblem(mark, _bad_tag(node))
            out = MarkedList(self.build(item, depth + 1) for item in node.value)
            out.mark = mark
            out.item_marks = [self.mark(item) for item in node.value]
            return out
        if isinstance(node, MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise _YamlProblem(mark, _bad_tag(node))
            out_map = MarkedDict()
            out_map.mark, out_map.key_marks, out_map.value_marks = mark, {}, {}
            merged: list[MarkedDict] = []
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    # `<<: *base` / `<<: [*a, *b]` is built like any value, so a merge bomb hits MAX_NODES
                    # (PyYAML's flatten_mapping expands blindly); the mapping's own keys win, then the
                    # merged mappings in order
                    value = self.build(value_node, depth + 1)
                    sources = value if isinstance(value, MarkedList) else [value]
                    if not all(isinstance(s, MarkedDict) for s in sources):
                        raise _YamlProblem(self.mark(value_node), "a merge key (<<) takes a mapping or a list of mappings")
                    merged += sources
                    continue
                key = self.build(key_node, depth + 1)
                key_mark = self.mark(key_node)
                if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                    raise _YamlProblem(key_mark, "mapping keys must be strings")
                key = str(key)
                if key in out_map:
                    first = out_map.key_marks[key]
                    raise _YamlProblem(key_mark, f"duplicate key {key!r} (first at line {first.line})")
                out_map[key] = self.build(value_node, depth + 1)
                out_map.key_marks[key] = key_mark
                out_map.value_marks[key] = self.mark(value_node)
            for source in merged:
                for key, value in source.items():
                    if key not in out_map:
                        out_map[key] = value
                        out_map.key_marks[key] = source.key_marks[key]
                        out_map.value_marks[key] = source.value_marks[key]
            return out_map
        raise _YamlProblem(mark, "unsupported YAML node")  # pragma: no cover - PyYAML has no other node kinds


_SYNTAX_HINTS = {
    "mapping values are not allowed here": " (quote a value that contains ': ', or check the indentation)",
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
}


def _bad_tag(node: Node) -> str:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
    return f"unsupported YAML tag {tag!r}: only plain mappings, lists, strings, numbers, booleans and null are allowed"


def compose_build(text: str, file: str, offset: int) -> tuple[list[Any], list[Diagnostic], int]:
    """The documents of ``text`` (which starts ``offset`` lines into ``file``), the diagnostics
    that stopped it, and how many nodes its aliases added."""
    try:
        try:  # libyaml's parser when PyYAML has it (about 10x faster); same nodes, same marks
            nodes = list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except yaml.YAMLError:  # word the error as the pure-Python parser does (and as the docs show)
            if _FAST_LOADER is yaml.SafeLoader:
                raise
            nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + offset + 1, mark.column + 1) if mark else (offset + 1, 1)
        problem = exc.problem or "invalid YAML"
        problem += _SYNTAX_HINTS.get(problem, "")
        if exc.context:
            where = exc.context_mark
            if where is not None and mark is not None and (where.line, where.column) != (mark.line, mark.column):
                problem += f" ({exc.context} that started at line {where.line + offset + 1}, column {where.column + 1})"
            elif exc.context not in problem:
                problem = f"{exc.context}: {problem}"
        return [], [Diagnostic(file, line, col, f"YAML syntax error: {problem}")], 0
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (NUL, most control characters)
        line, col = offset + text.count("\n", 0, exc.position) + 1, exc.position - text.rfind("\n", 0, exc.position)
        return [], [Diagnostic(file, line, col, f"character #x{exc.character:04x} is not allowed in YAML; remove it (or write it as an escape inside double quotes)")], 0
    except yaml.YAMLError as exc:
        return [], [Diagnostic(file, offset + 1, 1, f"YAML error: {exc}")], 0
    except RecursionError:
        return [], [Diagnostic(file, offset + 1, 1, "YAML nesting too deep")], 0
    docs: list[Any] = []
    diags: list[Diagnostic] = []
    builder = _Builder(file, offset)
    for node in nodes:
        if node is None or (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""):
            continue  # empty: a trailing `---`, or only comments after it
        try:
            doc = builder.build(node)
            if not isinstance(doc, (MarkedDict, MarkedList)):  # a scalar has no mark of its own later: say it here
                raise _YamlProblem(builder.mark(node), "a document must be a mapping with kind, name and spec")
            docs.append(doc)
        except _YamlProblem as exc:
            diags.append(exc.diagnostic)
        except RecursionError:
            diags.append(builder.mark(node).diag("YAML nesting too deep"))
    return docs, diags, builder.count
