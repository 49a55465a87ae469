"""The loaded config: documents with their source positions, grouped by kind."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .nodes import Mark, MarkedDict, mark_at

#: kinds that belong to no provider (configuration, reusable pieces)
NEUTRAL_KINDS = ("Provider", "Component", "Schedule", "Backend", "Policy", "Review")


@dataclass
class Document:
    kind: str
    name: str
    provider: str | None
    spec: dict[str, Any]
    raw: MarkedDict
    file: str
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    moved_from: str | None = None
    #: what is computed from the document once per process (its task rows...), by whoever needs it
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def address(self) -> str:
        return address_of(self.provider, self.kind, self.name)

    @property
    def is_resource(self) -> bool:
        return self.kind not in NEUTRAL_KINDS

    def mark(self, *path: str | int, key: bool = False) -> Mark:
        """Position of ``spec.<path>`` (the deepest part of it that exists)."""
        return mark_at(self.raw, ["spec", *path], key=key) or self.raw.mark

    def field_mark(self, name: str) -> Mark:
        """Position of a top-level envelope field (``provider``, ``name``...)."""
        return mark_at(self.raw, [name]) or self.raw.mark


def address_of(provider: str | None, kind: str, name: str) -> str:
    return f"{provider}/{kind.lower()}/{name}" if provider else f"{kind.lower()}/{name}"


@dataclass
class Config:
    root: Path
    documents: list[Document]
    file_digests: dict[str, str]

    def __post_init__(self) -> None:
        self._neutral: dict[str, dict[str, Document]] = {k: {} for k in NEUTRAL_KINDS}
        self.resources: dict[str, Document] = {}
        for doc in self.documents:
            if doc.is_resource:
                self.resources.setdefault(doc.address, doc)
            else:
                self._neutral.setdefault(doc.kind, {}).setdefault(doc.name, doc)

    def of_kind(self, kind: str) -> dict[str, Document]:
        """Neutral documents of ``kind`` by name."""
        return self._neutral.get(kind, {})

    @property
    def providers(self) -> dict[str, Document]:
        return self.of_kind("Provider")

    def resources_of(self, provider: str) -> dict[str, Document]:
        return {a: d for a, d in self.resources.items() if d.provider == provider}

    def named(self, provider: str, kind: str) -> dict[str, Document]:
        """Resources of ``provider`` and ``kind`` by name (indexed once: references resolve in O(1))."""
        index: dict[tuple[str, str], dict[str, Document]] | None = self.__dict__.get("_named")
        if index is None:
            index = {}
            for doc in self.resources.values():
                index.setdefault((doc.provider or "", doc.kind), {})[doc.name] = doc
            self._named = index
        return index.get((provider, kind), {})

    def data_files(self) -> dict[str, str]:
        """The task rows files the documents name (``spec.tasks.file``, what the loader reads),
        inside the root: path -> sha256."""
        out: dict[str, str] = {}
        root = self.root.resolve()
        folders: dict[str, Path] = {}  # a document's file -> its folder, resolved once per file
        for doc in self.documents:
            tasks = doc.spec.get("tasks") if isinstance(doc.spec, dict) else None
            name = tasks.get("file") if isinstance(tasks, dict) else None
            if not isinstance(name, str):
                continue
            try:
                folder = folders.get(doc.file) or folders.setdefault(doc.file, Path(doc.file).resolve().parent)
                path = (folder / name).resolve()
                if path.is_relative_to(root) and path.is_file():
                    with path.open("rb") as fh:  # in chunks: a 69 MB file is never in memory whole
                        out[str(path.relative_to(root))] = hashlib.file_digest(fh, "sha256").hexdigest()
            except (OSError, ValueError, RuntimeError):  # unusable or unreadable: the checks report it
                out[name] = "unreadable"
        return out

    @cached_property
    def all_file_digests(self) -> dict[str, str]:
        """Every config file's and data file's sha256 by path (data files as they are when first
        asked, once per process): what a saved plan records, to name the files that moved."""
        return {**self.file_digests, **self.data_files()}

    @cached_property
    def digest(self) -> str:
        """sha256 over every config file's and data file's path and content (data files as they
        are when first asked, once per process): changes whenever the config does."""
        h = hashlib.sha256()
        for path, digest in sorted(self.all_file_digests.items()):
            h.update(f"{path}\0{digest}\n".encode())
        return h.hexdigest()
