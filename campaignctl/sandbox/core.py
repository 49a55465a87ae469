"""What every platform sandbox is handed: the :class:`Sandbox` (store, settings, call counters,
fault injector) and its :class:`Settings`. Kept apart from :mod:`.app`, which assembles the
platform apps, so that a platform sandbox imports this and nothing imports back.

:class:`Settings` holds what concerns every platform; a knob of one platform only lives in that
platform's sandbox package (``sandbox/<package>/settings.py``: a ``PlatformSettings`` dataclass),
held here by its class (:attr:`Settings.platforms`, :meth:`Settings.of`), so nothing here names a
platform."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..origin import SANDBOX_KEY
from .faults import FaultInjector, FaultSpec
from .store import Store

T = TypeVar("T")


@dataclass
class Settings:
    """Knobs of the fake platforms. Defaults give a well-funded account that approves at once."""

    api_key: str = SANDBOX_KEY  # SWARMS static X-Auth-Token; Microworkers v2/v1 API key
    email: str = "requester@sandbox.test"  # the account's email on every platform (SWARMS logs in with it and api_key)
    balance: float = 10_000.0  # USD available on each platform's account
    seed: int = 0
    #: serve only what the platforms' docs document: no guessed field in any answer, no guessed route
    #: (``sandbox serve --docs-only``; ``CAMPAIGNCTL_SANDBOX_DOCS_ONLY=1`` for the embedded sandbox)
    docs_only: bool = False
    faults: FaultSpec | None = None  # injected faults (see campaignctl.sandbox.faults)
    #: each platform's own knobs, by their class (``sandbox/<package>/settings.py``); a platform
    #: missing here has its class's defaults (built by :func:`campaignctl.sandbox.apis.platform_settings`)
    platforms: dict[type, Any] = field(default_factory=dict)

    def of(self, kind: type[T]) -> T:
        """The platform knobs of class ``kind``: as given in :attr:`platforms`, else its defaults."""
        found = self.platforms.get(kind)
        return found if found is not None else kind()


@dataclass
class Sandbox:
    """What every platform module gets: the store, the settings, and call counters."""

    store: Store
    settings: Settings = field(default_factory=Settings)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    faults: FaultInjector | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.faults is None and self.settings.faults is not None:
            self.faults = FaultInjector(self.settings.faults)

    def set_faults(self, spec: FaultSpec | None) -> None:
        """Start injecting ``spec`` (a fresh random sequence and fault count), or stop (None)."""
        self.faults = FaultInjector(spec) if spec is not None else None

    def count(self, platform: str, method: str) -> None:
        with self._lock:
            self.calls[(platform, method)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (platform, method), n in sorted(self.calls.items()):
                out.setdefault(platform, {})[method] = n
        faults = self.faults
        if faults is not None:
            out["_faults"] = faults.stats()
        return out


__all__ = ["Sandbox", "Settings"]
