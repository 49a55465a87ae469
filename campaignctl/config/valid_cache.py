"""Documents already known to be valid, remembered across runs by content.

JSON Schema validation is most of the time a large config takes to load (jsonschema evaluates
each keyword in Python, ~0.3 ms a document), and between two runs almost every document is
unchanged. A document that passed is remembered as a 16-byte digest of (schema bundle, schema,
exact content); the next run skips validating a document whose digest it finds. Only passes are
remembered: a document with a problem is validated, and reported, every time. The bundle digest
covers every schema file, campaignctl's and jsonschema's versions, so a changed schema or
validator never trusts an old pass. The loader also remembers, under one key, a file whose every
envelope passed (by the digest of its text), and the whole-config checks of a config.

The file lives in ``$CAMPAIGNCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/campaignctl``, else
``~/.cache/campaignctl`` — never in the config repo. ``CAMPAIGNCTL_CACHE_DIR=off`` turns it off.
It is a cache: unreadable, corrupt or unwritable, it is ignored (and rebuilt), never an error.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .. import __version__, schemas
from ..fsutil import atomic_write

log = logging.getLogger(__name__)

DIGEST = 16
#: the most digests kept (8 MB); past it the oldest are dropped
LIMIT = 500_000
#: questions answered by searching the file's bytes before the digests are made a dict
SCANS = 32


@cache
def _bundle() -> bytes:
    h = hashlib.sha256(f"campaignctl {__version__}\0jsonschema {version('jsonschema')}\0".encode())
    for path in sorted(schemas.schema_dir().rglob("*.json")):
        h.update(path.relative_to(schemas.schema_dir()).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps(schemas.composed(), sort_keys=True).encode())  # what the registry adds
    return h.digest()


def code_digest(label: str, *paths: Path) -> bytes:
    """What stands for code in the key of a cache entry: campaignctl's version, ``label`` and the
    content of ``paths`` (their source): an entry written by other code is never read."""
    h = hashlib.blake2b(f"campaignctl {__version__}\0{label}\0".encode(), digest_size=32)
    for path in paths:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def cache_dir() -> Path | None:
    configured = os.environ.get("CAMPAIGNCTL_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "campaignctl" if xdg else Path.home() / ".cache" / "campaignctl"


class ValidCache:
    """The set of digests of (schema, document) pairs that passed; ``save`` writes what was added."""

    def __init__(self, directory: Path | None) -> None:
        """``directory`` None: remembers nothing (every document is validated)."""
        self.bundle = _bundle() if directory else b""
        self.path = directory / f"valid-{self.bundle.hex()[:16]}.bin" if directory else None
        self._known: dict[bytes, None] | None = {}
        self._data = b""  # the file's digests, one after the other, until ``known`` is asked for
        self._scans = 0
        self.added: dict[bytes, None] = {}
        if self.path is None:
            return
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        if len(data) % DIGEST:
            log.debug("ignoring %s: not a whole number of digests", self.path)
            return
        self._data, self._known = data, None

    @property
    def known(self) -> dict[bytes, None]:
        """The digests of the file, insertion-ordered (the oldest are dropped first)."""
        if self._known is None:
            data = self._data
            self._known = dict.fromkeys(data[i : i + DIGEST] for i in range(0, len(data), DIGEST))
            self._data = b""
        return self._known

    def _in_file(self, key: bytes) -> bool:
        # a warm run asks a few keys (one per file, the checks'): searching the bytes is cheaper
        # than making a dict of the 10^5 digests a cache holds after a while (~25 ms); past
        # SCANS questions, the dict
        if self._known is None and self._scans < SCANS:
            self._scans += 1
            data, at = self._data, self._data.find(key)
            while at >= 0 and at % DIGEST:  # a digest straddling two: not this one
                at = data.find(key, at + 1)
            return at >= 0
        return key in self.known

    def key(self, rel: str, instance: Any, source: bytes | None = None) -> bytes | None:
        """The digest of (``rel``, ``instance``). ``source``, when the loader has it, stands for the
        instance's content without serialising it: the digest of the YAML text it was parsed from
        and of its path in there (see :func:`.yamlload.load_documents`)."""
        if self.path is None:
            return None
        if source is not None:
            data = f"{rel}\1".encode("utf-8", "surrogatepass") + source
        else:
            try:
                text = json.dumps(instance, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
            except (TypeError, ValueError):  # not plain JSON data (a YAML timestamp, a cycle): validate it
                return None
            data = f"{rel}\0{text}".encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, key=self.bundle, digest_size=DIGEST).digest()

    def __contains__(self, key: bytes | None) -> bool:
        return key is not None and (key in self.added or self._in_file(key))

    def add(self, key: bytes | None) -> None:
        if key is not None and key not in self.added and not self._in_file(key):
            self.added[key] = None

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        keep = [*self.known, *self.added][-LIMIT:]
        try:
            atomic_write(self.path, b"".join(keep), keep_mode=False)  # 0600, even over a file an older version made
        except OSError as exc:
            log.debug("cannot write the validation cache %s: %s", self.path, exc)
            return
        self._known, self._data, self.added = dict.fromkeys(keep), b"", {}


#: the cache that remembers nothing
OFF = ValidCache(None)
