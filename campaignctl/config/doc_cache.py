"""Parsed YAML documents, remembered across runs by content.

Once validation is cached (:mod:`.valid_cache`), parsing is most of what loading a large config
costs: libyaml composes a node tree, then :mod:`.yamlparse` builds dicts (:mod:`.nodes`) that
remember the line of every key and value (about 1 s for 6,000 documents). A config file is parsed one ``---`` chunk at
a time; each chunk that parsed without a problem is remembered as a pickle of its documents under
a digest of (the chunk's text, the line it starts on, the name the file is shown under). The next
run unpickles every chunk it finds (about 6x faster than parsing) and parses only the others, so
editing one document of a large file re-parses that document alone.

Unpickling takes only :class:`~.nodes.MarkedDict`, :class:`~.nodes.MarkedList` and
:class:`~.nodes.Mark` (a restricted ``Unpickler``, as the :mod:`pickle` docs recommend for data
that could have been tampered with): an entry naming anything else is refused and the chunk is
parsed. A node's marks are pickled packed, a few objects per node instead of two marks per key
(``nodes.pack_marks``), and made again only when one is asked for: unpickling takes half the
time (25,000 documents: 0.58 -> 0.28 s under cProfile; the file 25.7 -> 17.5 MB). The salt of
every digest covers campaignctl's version and the source of the nodes, the loader, the parser
and of this module, so a changed loader never reads an old entry.

The cache also remembers the digest of the file's whole text, whether that text holds a
``Provider`` or ``Backend`` document (:meth:`DocCache.remembered`, :meth:`DocCache.held_setup`)
and the keys of its chunks in order (a text seen whole is taken by them, without splitting and
hashing it again: :meth:`DocCache.remembered_keys`), and lists the chunks of a text it does not
hold (:meth:`DocCache.missing`): before parsing, the loader knows how much is new and which files
set up the providers (see ``load_config``'s ``on_early``).

One file per config file (``docs-<digest of its absolute path>.bin``: the entry of the whole text
-- (digest of the text, holds setup, the keys of its chunks) -- and a :mod:`marshal` dict of
chunk digest -> (alias nodes, pickle), read when a chunk is first asked for), in the validation
cache's directory (``CAMPAIGNCTL_CACHE_DIR=off`` turns both off); the newest ``KEEP`` files, up
to ``KEEP_BYTES`` in all, are kept. It is a cache: unreadable, corrupt or unwritable, it is
ignored (and rebuilt), never an error.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import marshal
import os
import pickle
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ..fsutil import open_private
from . import nodes
from .valid_cache import code_digest

log = logging.getLogger(__name__)

DIGEST = 16
#: cache files kept (one per config file) and their total size; past either, the least recently
#: written are removed (the newest is always kept)
KEEP = 256
KEEP_BYTES = 256 * 2**20
_ALLOWED = {("campaignctl.config.nodes", name): getattr(nodes, name) for name in ("MarkedDict", "MarkedList", "Mark")}


@cache
def _salt() -> bytes:
    here = Path(__file__)  # the nodes, and the loader and the parser beside them (not imported for this)
    sources = (Path(nodes.__file__), here.with_name("yamlload.py"), here.with_name("yamlparse.py"), here)
    return code_digest(f"pickle {pickle.HIGHEST_PROTOCOL}", *sources)


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
    for begin, end in zip(starts, starts[1:], strict=False):
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


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the document cache") from None


class DocCache:
    """The parsed chunks of one config file: ``get`` what was remembered, ``put`` what was parsed,
    ``save`` writes the chunks seen in this run (and drops the others)."""

    def __init__(self, directory: Path | None, path: Path, shown: str) -> None:
        """``directory`` None: remembers nothing. ``path``: the config file; ``shown``: the name its marks carry."""
        self.path = directory / f"docs-{hashlib.blake2b(os.fsencode(path.resolve()), digest_size=DIGEST).hexdigest()}.bin" if directory else None
        self._prefix = f"{shown}\0".encode("utf-8", "surrogatepass")
        self._chunks: dict[bytes, tuple[int, bytes]] | None = {}
        self._body: Any = b""  # the file's chunks, marshalled, until one is asked for
        self._used: dict[bytes, tuple[int, bytes]] = {}
        self._new: dict[bytes, tuple[int, list[Any]]] = {}  # parsed this run: pickled by save
        #: documents parsed this run, not taken from the cache
        self.fresh = 0
        self._changed = False
        self._whole: Any = None  # (digest of the text, holds setup, its chunks' keys) as saved last
        self._whole_now: Any = None  # and as this run parsed it
        self._text: tuple[str, bytes] | None = None  # the last text hashed, and its digest
        self._keyed: tuple[str, list[tuple[int, str, bytes]]] | None = None  # the last text chunked, and its chunks
        self._hash: hashlib.blake2b | None = None  # the keyed hash of the shown name, which every key continues (_hashed)
        if self.path is None:
            return
        try:
            self._whole, self._body = read_entries(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return
        self._chunks = None

    @property
    def _known(self) -> dict[bytes, tuple[int, bytes]]:
        """The chunks the file holds, unmarshalled when first asked for: whether a text is the one
        the file saw whole (``remembered``, ``held_setup``) is known without them, and the reads of
        an early start begin before they are (28 ms for a 17 MB file)."""
        if self._chunks is None:
            try:
                chunks = marshal.loads(self._body)
            except (EOFError, ValueError, TypeError):
                chunks = None
            self._chunks, self._body = chunks if isinstance(chunks, dict) else {}, b""
        return self._chunks

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _hashed(self, *parts: bytes) -> bytes:
        """The keyed BLAKE2b of the file's shown name followed by ``parts``: a copy of the hash of
        the name, not a keyed hash set up again for each of a file's thousands of chunks."""
        if self._hash is None:
            self._hash = hashlib.blake2b(self._prefix, key=_salt(), digest_size=DIGEST)
        h = self._hash.copy()
        for part in parts:
            h.update(part)
        return h.digest()

    def key(self, line: int, chunk: str) -> bytes:
        return self._hashed(f"{line}\0".encode(), chunk.encode("utf-8", "surrogatepass"))

    def _text_key(self, text: str) -> bytes:
        if self._text is None or self._text[0] is not text:  # remembered and parsed_whole ask of the same text
            self._text = (text, self._hashed(text.encode("utf-8", "surrogatepass")))
        return self._text[1]

    def _last_whole(self) -> tuple[bytes, bool, bytes] | None:
        whole = self._whole
        if self.path is None or not isinstance(whole, tuple) or len(whole) != 3 or not isinstance(whole[2], bytes):
            return None
        return whole

    def remembered(self, text: str) -> bool | None:
        """None unless ``text`` is the text this cache last saw parse without a problem (then every
        chunk of it is here); then whether it holds a Provider or Backend document."""
        whole = self._last_whole()
        return bool(whole[1]) if whole is not None and whole[0] == self._text_key(text) else None

    def remembered_keys(self, text: str) -> list[bytes] | None:
        """The keys of the chunks of ``text``, in order, when it is the text this cache last saw
        parse without a problem (no need to split it and hash each chunk), else None."""
        whole = self._last_whole()
        if whole is None or whole[0] != self._text_key(text) or len(whole[2]) % DIGEST:
            return None
        return [whole[2][i : i + DIGEST] for i in range(0, len(whole[2]), DIGEST)]  # one not here: get says None

    def held_setup(self) -> bool | None:
        """Whether the last text this cache saw parse without a problem held a Provider or Backend
        document, whatever that text was (None: no such text)."""
        whole = self._last_whole()
        return bool(whole[1]) if whole is not None else None

    def keyed_chunks(self, text: str) -> list[tuple[int, str, bytes]]:
        """The ``---`` chunks of ``text``, each with the line it starts on and its key (computed
        once for a text: ``missing`` and the loader both ask)."""
        if self._keyed is None or self._keyed[0] is not text:
            self._keyed = (text, [(line, chunk, self.key(line, chunk)) for line, chunk in chunks(text)])
        return self._keyed[1]

    def missing(self, text: str) -> list[str]:
        """The chunks of ``text`` that are not here (each holds a document or more)."""
        if self.path is None:
            return [chunk for _, chunk in chunks(text)]
        return [chunk for _, chunk, key in self.keyed_chunks(text) if key not in self._known]

    def parsed_whole(self, text: str, holds_setup: bool, keys: list[bytes]) -> None:
        """``text`` parsed chunk by chunk without a problem: every chunk of it (``keys``, in order)
        was taken or put here."""
        if self.path is not None:
            self._whole_now = (self._text_key(text), holds_setup, b"".join(keys))

    def parsed_digest(self) -> bytes | None:
        """The digest of the text ``parsed_whole`` was told of this run (its file and content), or None."""
        return self._whole_now[0] if self._whole_now is not None else None

    def get(self, key: bytes) -> tuple[list[Any], int] | None:
        """The documents of a chunk and the nodes its aliases added, or None."""
        entry = self._known.get(key)
        if entry is None:
            return None
        try:
            aliases, data = entry
            docs = _Unpickler(io.BytesIO(data)).load()
        except Exception as exc:  # a corrupt or tampered entry: parse the chunk again
            log.debug("ignoring a document cache entry of %s: %s", self.path, exc)
            return None
        if not isinstance(docs, list) or not isinstance(aliases, int):
            return None
        self._used[key] = entry
        return docs, aliases

    def put(self, key: bytes, docs: list[Any], aliases: int) -> None:
        """Remember a chunk's documents as they are now; they are pickled by :meth:`save`, which
        must come before anything changes them (the loader's ``source`` aside)."""
        if self.path is None:
            return
        self._new[key] = (aliases, docs)
        self.fresh += len(docs)
        self._changed = True

    def save(self, prune: bool = True) -> bool:
        """Write the file's cache if it changed (True when written), then prune the directory."""
        if self.path is None or not (self._changed or self._used.keys() != self._known.keys() or self._whole_now != self._whole):
            return False
        for key, (aliases, docs) in self._new.items():
            self._used[key] = (aliases, _pickled(docs))
        self._new.clear()
        written = write_cache_file(self.path, entries(self._whole_now, self._used), "document cache")
        if written and prune:
            _prune(self.path.parent)
        return written


def save_all(caches: list[DocCache]) -> None:
    """Save every file's cache of one config, then prune the directory once, keeping at least one
    file per config file: pruning after each file listed the directory once per file (5,000 files:
    51 of 65 s of a validate) and a config of more than KEEP files evicted its own entries."""
    written = [cache.path for cache in caches if cache.save(prune=False)]
    if written and written[0] is not None:
        _prune(written[0].parent, keep=max(KEEP, len(caches)))


def entries(whole: Any, chunks: dict[bytes, tuple[int, bytes]]) -> bytes:
    """A cache file: the entry of the whole text (marshalled, after its length: 4 bytes, big
    endian), then the chunks (marshalled), read apart by :func:`read_entries`."""
    head = marshal.dumps(whole)
    return len(head).to_bytes(4, "big") + head + marshal.dumps(chunks)


def read_entries(data: bytes) -> tuple[Any, memoryview]:
    """(the entry of the whole text, the chunks still marshalled) of a cache file; ValueError,
    EOFError or TypeError for one :func:`entries` did not write."""
    size = int.from_bytes(data[:4], "big")
    if len(data) < 4 + size:
        raise ValueError("cut short")
    return marshal.loads(data[4 : 4 + size]), memoryview(data)[4 + size :]


def write_cache_file(path: Path, data: bytes, what: str) -> bool:
    """Write a cache file whole or not at all (a temporary file renamed over it); False, and a
    debug line, when it cannot be written: a cache is never an error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_private(tmp, "wb") as fh:  # 0600, in a 0700 folder: it holds the config's text
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot write the %s %s: %s", what, path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False
    return True


def _pickled(docs: list[Any]) -> bytes:
    """The pickle of a chunk's documents without the ``source`` the loader set on each after
    parsing (it is set again on every load)."""
    sources = [vars(doc).pop("source", None) if hasattr(doc, "__dict__") else None for doc in docs]
    try:
        out = io.BytesIO()
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _PACKING
        pickler.dump(docs)
        return out.getvalue()
    finally:
        for doc, source in zip(docs, sources, strict=True):
            if source is not None:
                doc.source = source


def _packed(node: nodes.MarkedDict | nodes.MarkedList) -> tuple[Any, ...]:
    """How a node is pickled: its items, and its marks packed (see ``nodes.pack_marks``)."""
    packed = nodes.pack_marks(node)
    state = vars(node) if packed is None else {**packed[0], "_packed": packed[1]}
    if isinstance(node, dict):
        return type(node), (), state or None, None, iter(node.items())
    return type(node), (), state or None, iter(node), None


_PACKING: dict[type, Callable[[Any], tuple[Any, ...]]] = {nodes.MarkedDict: _packed, nodes.MarkedList: _packed}


def _prune(directory: Path, pattern: str = "docs-*.bin", keep: int | None = None) -> None:
    """Keep the newest files of ``pattern``, at most ``keep`` (else KEEP) of them and KEEP_BYTES in
    all (a CI runner that checks out each build under a new path leaves a file per build behind)."""
    keep = KEEP if keep is None else keep
    files = []
    for path in directory.glob(pattern):
        with contextlib.suppress(OSError):  # removed meanwhile by another run
            stat = path.stat()
            files.append((stat.st_mtime, stat.st_size, path))
    files.sort(reverse=True)
    total = 0
    for count, (_, size, path) in enumerate(files, 1):
        total += size
        if count > keep or (total > KEEP_BYTES and count > 1):
            with contextlib.suppress(OSError):
                path.unlink()
