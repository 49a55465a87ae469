"""The nodes of a loaded YAML document that remember where they came from (:class:`Mark`,
:class:`MarkedDict`, :class:`MarkedList`), how their marks are packed for the document cache, and
the positions of paths in them. Built by :mod:`.yamlparse`; loading is driven by :mod:`.yamlload`;
:mod:`.doc_cache` pickles them. This module imports none of those.
"""
from __future__ import annotations

from array import array
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_NODES = 200_000  # nodes that alias expansion may add, per file (the file size bounds the rest)
MAX_DEPTH = 100


class Mark(tuple):  # type: ignore[type-arg]
    """A position in a file: ``(file, line, col)``, 1-based (a tuple: a config of thousands of
    documents makes ~50 per document). Made with ``Mark.at``; it has no ``__new__`` of its own so
    that unpickling one (:mod:`.doc_cache`) is tuple's C constructor, not a Python call."""

    __slots__ = ()
    file: str = property(itemgetter(0))  # type: ignore[assignment]
    line: int = property(itemgetter(1))  # type: ignore[assignment]
    col: int = property(itemgetter(2))  # type: ignore[assignment]

    @classmethod
    def at(cls, file: str, line: int, col: int) -> Mark:
        return new_mark(cls, (file, line, col))

    @classmethod
    def of(cls, file: str, node: Node, offset: int = 0) -> Mark:
        """The mark of ``node``, composed from a text that starts ``offset`` lines into ``file``."""
        start = node.start_mark
        return new_mark(cls, (file, start.line + offset + 1, start.column + 1))

    def diag(self, message: str) -> Diagnostic:
        return Diagnostic(self[0], self[1], self[2], message)

    def __repr__(self) -> str:
        return f"Mark({self[0]!r}, {self[1]}, {self[2]})"


new_mark = tuple.__new__


class _Packed:
    """A mark attribute of a MarkedDict or MarkedList read back from the document cache, which
    keeps a node's marks packed in one ``_packed`` entry (:func:`pack_marks`): they are made when
    one is first asked for. A node the loader built has them in its ``__dict__``, which wins over
    this descriptor."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        packed = node.__dict__.pop("_packed", None)
        if packed is None:
            raise AttributeError(self.name)
        _unpack(node, packed)
        return node.__dict__[self.name]


class MarkedDict(dict):  # type: ignore[type-arg]
    """A dict that knows the position of itself, of each key and of each value."""

    mark: Mark = _Packed()  # type: ignore[assignment]
    key_marks: dict[str, Mark] = _Packed()  # type: ignore[assignment]
    value_marks: dict[str, Mark] = _Packed()  # type: ignore[assignment]


class MarkedList(list):  # type: ignore[type-arg]
    mark: Mark = _Packed()  # type: ignore[assignment]
    item_marks: list[Mark] = _Packed()  # type: ignore[assignment]


_MARK_ATTRIBUTES = {MarkedDict: ("mark", "key_marks", "value_marks"), MarkedList: ("mark", "item_marks")}


def pack_marks(node: MarkedDict | MarkedList) -> tuple[dict[str, Any], Any] | None:
    """``node``'s other attributes and its marks packed as ``(file, keys, line and column of each
    mark as 32-bit integers)`` (keys None for a list), or None when they cannot be packed (marks of
    another file, or out of range): a few objects to unpickle instead of two marks per key."""
    attributes = vars(node)
    mark = attributes.get("mark")
    if not isinstance(mark, Mark):
        return None
    file = mark[0]
    numbers = [mark[1], mark[2]]
    if isinstance(node, MarkedDict):
        key_marks, value_marks = attributes.get("key_marks"), attributes.get("value_marks")
        if not isinstance(key_marks, dict) or not isinstance(value_marks, dict) or key_marks.keys() != value_marks.keys():
            return None
        keys: tuple[str, ...] | None = tuple(key_marks)
        pairs = [m for key in key_marks for m in (key_marks[key], value_marks[key])]
    else:
        keys, items = None, attributes.get("item_marks")
        if not isinstance(items, list):
            return None
        pairs = items
    for m in pairs:
        if not isinstance(m, Mark) or m[0] != file:
            return None
        numbers += (m[1], m[2])
    try:
        packed = (file, keys, array("I", numbers).tobytes())
    except (OverflowError, TypeError):
        return None
    rest = {k: v for k, v in attributes.items() if k not in _MARK_ATTRIBUTES[type(node)]}
    return rest, packed


def _unpack(node: Any, packed: Any) -> None:
    attributes = node.__dict__
    try:
        file, keys, data = packed
        numbers = array("I")
        numbers.frombytes(data)
        marks = [new_mark(Mark, (file, numbers[i], numbers[i + 1])) for i in range(0, len(numbers), 2)]
        attributes["mark"] = marks[0]
        if keys is None:
            attributes["item_marks"] = marks[1:]
        else:
            attributes["key_marks"] = dict(zip(keys, marks[1::2], strict=True))
            attributes["value_marks"] = dict(zip(keys, marks[2::2], strict=True))
    except (TypeError, ValueError, IndexError):  # not what pack_marks made: every mark at the top of the file
        shown = packed[0] if isinstance(packed, tuple) and packed and isinstance(packed[0], str) else "?"
        mark = new_mark(Mark, (shown, 1, 1))
        attributes["mark"] = mark
        if isinstance(node, MarkedList):
            attributes["item_marks"] = [mark] * len(node)
        else:
            attributes["key_marks"] = dict.fromkeys(node, mark)
            attributes["value_marks"] = dict.fromkeys(node, mark)


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
