"""What a provider's ``export_documents`` makes for ``campaignctl import``: the documents
(:class:`ExportedDoc`) and the naming context (:class:`ExportContext`). Neutral ground: the
providers and the import command (campaignctl.importer) both import it, neither the other."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..address import Address
from ..config.model import NEUTRAL_KINDS, Config, address_of
from .base import Live

NAME_LIMIT = 60


@dataclass
class ExportedDoc:
    """One YAML document an import writes, and the live object it stands for."""

    kind: str
    name: str
    spec: dict[str, Any]
    file: str  # file name inside the output directory
    provider: str | None = None  # None for platform-neutral kinds (Component, Schedule)
    live: Live | None = None  # recorded in state (None for neutral documents)
    source: str = ""  # "campaign 12" (shown in a comment and in the summary)
    notes: list[str] = field(default_factory=list)  # what the config cannot say about the object
    ignore_changes: list[str] = field(default_factory=list)
    data_files: dict[str, str] = field(default_factory=dict)  # path inside the output directory -> text
    skipped: str | None = None  # why it is not imported after all

    @property
    def address(self) -> str:
        return address_of(self.provider, self.kind, self.name)

    def ignore(self, *fields: str, note: str | None = None) -> None:
        for f in fields:
            if f not in self.ignore_changes:
                self.ignore_changes.append(f)
        if note and note not in self.notes:
            self.notes.append(note)

    def envelope(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.provider:
            out["provider"] = self.provider
        if self.ignore_changes:
            out["ignoreChanges"] = list(self.ignore_changes)
        out["spec"] = self.spec
        return out


def slugify(text: Any, fallback: str) -> str:
    """``"Review model images!"`` -> ``review-model-images``; empty -> ``fallback``."""
    ascii_text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    slug = slug[:NAME_LIMIT].rstrip("-")
    return slug or fallback


class ExportContext:
    """What ``export_documents`` needs besides the live objects: unique names, references, the config."""

    def __init__(self, provider: str, config: Config) -> None:
        self.provider = provider
        self.config = config
        self._taken: set[tuple[str | None, str, str]] = set()
        for doc in config.documents:
            self._taken.add((None if doc.kind in NEUTRAL_KINDS else doc.provider, doc.kind, doc.name))
        self._names: dict[str, str] = {}  # live address -> imported name
        self.skipped: list[tuple[str, str]] = []  # (what, why)

    def unique(self, kind: str, base: Any, fallback: str, *, neutral: bool = False) -> str:
        """A document name of ``kind`` derived from ``base``, unused in the config and this import."""
        owner = None if neutral else self.provider
        stem = slugify(base, fallback)
        name, n = stem, 1
        while (owner, kind, name) in self._taken:
            n += 1
            name = f"{stem[: NAME_LIMIT - len(str(n)) - 1]}-{n}"
        self._taken.add((owner, kind, name))
        return name

    def assign(self, live: Live, base: Any, fallback: str | None = None) -> str:
        """Name the imported document of ``live`` (remembered for :meth:`ref`)."""
        name = self.unique(live.kind, base, fallback or f"{live.kind.lower()}-{slugify(live.id, 'x')}")
        self._names[live.address] = name
        return name

    def name_of(self, live: Live) -> str:
        return self._names[live.address]

    def ref(self, address: Any) -> str | None:
        """The document name a live reference (``<provider>/<kind>/<name>`` or ``.../#<id>``) resolves to."""
        if not isinstance(address, str):
            return None
        if address in self._names:
            return self._names[address]
        parsed = Address.maybe(address)
        if parsed is None:
            return address.rsplit("/", 1)[-1]
        if parsed.remote_id is not None:
            return None  # an object that is not imported (archived, deleted, not importable)
        return parsed.name  # an object the config manages already

    def refs(self, doc: ExportedDoc, field_name: str, addresses: list[Any], ignore: str | None = None) -> list[str]:
        """Names for a list of live references; what cannot be named is left out and ignored in plans."""
        names: list[str] = []
        missing: list[str] = []
        for address in addresses:
            name = self.ref(address)
            if name is None:
                missing.append(str(address))
            else:
                names.append(name)
        if missing:
            doc.ignore(ignore or field_name, note=(
                f"{field_name}: {', '.join(missing)} is not imported (archived, deleted or not importable), so the "
                f"config cannot name it; {field_name} is left to the platform (ignoreChanges)"))
        return names

    def skip(self, live: Live, why: str) -> None:
        self.skipped.append((f"{self.provider} {live.kind.lower()} {live.id}", why))

    @staticmethod
    def source(live: Live) -> str:
        return f"{live.kind.lower()} {live.id}"
