"""Loading YAML documents: from the document cache chunk by chunk (:mod:`.doc_cache`), or parsed
(:mod:`.yamlparse`, on PyYAML). The nodes it returns, which remember where they came from, are
:mod:`.nodes`.
"""
from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic
from .doc_cache import SETUP_KINDS
from .nodes import MAX_NODES

if TYPE_CHECKING:
    from .doc_cache import DocCache


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


def _load_chunks(text: str, file: str, cache: DocCache) -> list[Any] | None:
    """The documents of ``text`` chunk by chunk, or None when the whole text must be parsed. A
    text the cache saw whole is taken by its chunks' keys, without splitting it."""
    keys = cache.remembered_keys(text)
    if keys is not None:
        docs = _from_chunks(text, file, cache, [(0, None, key) for key in keys])
        if docs is not None:
            return docs
    return _from_chunks(text, file, cache, cache.keyed_chunks(text))


def _from_chunks(text: str, file: str, cache: DocCache, chunks: Sequence[tuple[int, str | None, bytes]]) -> list[Any] | None:
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
