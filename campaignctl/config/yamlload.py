"""A safe YAML loader that remembers where every node came from: the marked nodes it builds,
the document cache's chunks, and the positions of paths in them. The parsing itself, on PyYAML,
is :mod:`.yamlparse`.
"""
from __future__ import annotations

import gc
import re
from array import array
from collections.abc import Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic

if TYPE_CHECKING:
    from yaml.nodes import Node

    from .doc_cache import DocCache

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
        return _new_mark(cls, (file, line, col))

    @classmethod
    def of(cls, file: str, node: Node, offset: int = 0) -> Mark:
        """The mark of ``node``, composed from a text that starts ``offset`` lines into ``file``."""
        start = node.start_mark
        return _new_mark(cls, (file, start.line + offset + 1, start.column + 1))

    def diag(self, message: str) -> Diagnostic:
        return Diagnostic(self[0], self[1], self[2], message)

    def __repr__(self) -> str:
        return f"Mark({self[0]!r}, {self[1]}, {self[2]})"


_new_mark = tuple.__new__


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
        keys, pairs = None, attributes.get("item_marks")
        if not isinstance(pairs, list):
            return None
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
        marks = [_new_mark(Mark, (file, numbers[i], numbers[i + 1])) for i in range(0, len(numbers), 2)]
        attributes["mark"] = marks[0]
        if keys is None:
            attributes["item_marks"] = marks[1:]
        else:
            attributes["key_marks"] = dict(zip(keys, marks[1::2], strict=True))
            attributes["value_marks"] = dict(zip(keys, marks[2::2], strict=True))
    except (TypeError, ValueError, IndexError):  # not what pack_marks made: every mark at the top of the file
        shown = packed[0] if isinstance(packed, tuple) and packed and isinstance(packed[0], str) else "?"
        mark = _new_mark(Mark, (shown, 1, 1))
        attributes["mark"] = mark
        if isinstance(node, MarkedList):
            attributes["item_marks"] = [mark] * len(node)
        else:
            attributes["key_marks"] = dict.fromkeys(node, mark)
            attributes["value_marks"] = dict.fromkeys(node, mark)


def load_documents(text: str, file: str, cache: DocCache | None = None) -> tuple[list[Any], list[Diagnostic]]:
    """Every YAML document in ``text`` (empty ones dropped), or the diagnostics that stopped it.

    With ``cache``, the text is parsed one ``---`` chunk at a time and each chunk's documents are
    taken from the cache or put in it; a problem anywhere (or an alias budget spent across chunks)
    parses the whole text again, so every diagnostic is worded and positioned as in one pass."""
    # Parsing allocates a few hundred thousand objects that all stay alive: the cyclic garbage
    # collector would scan the growing heap again and again for nothing (3x the parse time for a
    # config of 6,000 documents). Nothing here makes cycles worth collecting meanwhile.
    paused = gc.isenabled()
    gc.disable()
    try:
        if cache is not None and cache.enabled:
            docs = _load_chunks(text, file, cache)
            if docs is not None:
                return docs, []
        return _load_documents(text, file)
    finally:
        if paused:
            gc.enable()


#: a line that starts a document: ``---`` at column 0, then a space, a tab or the line's end (YAML
#: forbids it inside any scalar, so it never splits one; a boundary this misses, after a Unicode
#: line break, only leaves two documents in one chunk)
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|\Z)", re.MULTILINE)
#: line breaks as YAML counts them, for a text that has more than ``\n`` (a mark's line counts them all)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


#: the kinds a plan's reads need before the rest of the config (see DocCache.remembered)
SETUP_KINDS = ("Provider", "Backend")


def chunks(text: str) -> Iterator[tuple[int, str]]:
    """The ``---`` chunks of ``text``, each with the line it starts on (0-based)."""
    starts = _document_starts(text)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    other_breaks = any(c in text for c in "\r\x85\u2028\u2029")
    line = 0
    for begin, end in zip(starts, starts[1:]):
        chunk = text[begin:end]
        yield line, chunk
        line += len(_LINE_BREAK.findall(chunk)) if other_breaks else chunk.count("\n")


def _document_starts(text: str) -> list[int]:
    """Where ``_DOCUMENT_START`` matches in ``text``, by ``str.find`` (a third of the regex's time
    over a file of 6,000 documents: 10 -> 3 ms)."""
    starts = [0] if text.startswith("---") and (len(text) == 3 or text[3] in " \t\r\n") else []
    find, end = text.find, len(text)
    at = find("\n---")
    while at != -1:
        after = at + 4
        if after == end or text[after] in " \t\r\n":
            starts.append(at + 1)
        at = find("\n---", after)
    return starts


def _load_chunks(text: str, file: str, cache: DocCache) -> list[Any] | None:
    """The documents of ``text`` chunk by chunk, or None when the whole text must be parsed. A
    text the cache saw whole is taken by its chunks' keys, without splitting it."""
    keys = cache.remembered_keys(text)
    if keys is not None:
        docs = _from_chunks(text, file, cache, [(0, None, key) for key in keys])
        if docs is not None:
            return docs
    return _from_chunks(text, file, cache, cache.keyed_chunks(text))


def _from_chunks(text: str, file: str, cache: DocCache, chunks: list[tuple[int, str | None, bytes]]) -> list[Any] | None:
    """None: parse the whole text -- or, for chunks known by their key alone (``None`` text), one
    the cache could not give."""
    docs: list[Any] = []
    aliases = 0
    for line, chunk, key in chunks:
        found = cache.get(key)
        if found is None:
            if chunk is None:
                return None
            got, problems, added = _compose_build(chunk, file, line)
            if problems:
                return None
            cache.put(key, got, added)
        else:
            got, added = found
        aliases += added
        if aliases > MAX_NODES:
            return None
        for index, doc in enumerate(got):
            doc.source = key + index.to_bytes(4, "big")  # what this document is: see ValidCache.key
        docs += got
    holds = any(isinstance(doc, dict) and doc.get("kind") in SETUP_KINDS for doc in docs)
    cache.parsed_whole(text, holds, [key for _, _, key in chunks])
    return docs


def _load_documents(text: str, file: str) -> tuple[list[Any], list[Diagnostic]]:
    docs, diags, _ = _compose_build(text, file, 0)
    return docs, diags


def _compose_build(text: str, file: str, offset: int) -> tuple[list[Any], list[Diagnostic], int]:
    """The documents of ``text`` (which starts ``offset`` lines into ``file``), the diagnostics
    that stopped it, and how many nodes its aliases added (:mod:`.yamlparse`: PyYAML is imported
    only when a text must be parsed, not for a config the document cache holds)."""
    from .yamlparse import compose_build

    return compose_build(text, file, offset)


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
