"""Fault injection for the sandbox: latency, 5xx, 429, dropped connections and slow answers.

Per platform, bounded, seeded and reproducible: given the seed and the order in which the
requests arrive, the same requests get the same faults. The spec is a compact string::

    latency=20ms,jitter=5ms,5xx=0.1,429=0.05,retry-after=1,reset-after=0.05,reset-before=0.02,
    slow=0.01,slow-seconds=40,seed=7,max=100,platforms=swarms+microworkers,methods=POST+PUT

``key=value`` items separated by commas (spaces around them are ignored; an empty string means
no faults). Keys:

================  ==========================================================================
``latency``       added to every matching request; a duration, ``ms`` when no unit (``20ms``,
                  ``0.5s``, ``20``). The platform handles the request when it arrives and
                  its answer leaves that much later (a fault below waits it out first)
``jitter``        latency is uniform in ``latency ± jitter`` (never below 0); ``ms`` by default
``5xx``           rate (``0.1`` or ``10%``) of answers replaced by a 500, 502 or 503 (a third
                  each), sent **before** the platform handles the request: nothing happens
``429``           rate of ``429 Too Many Requests`` refusals (before handling), with
``retry-after``   the ``Retry-After`` they carry; seconds by default (``1``, ``250ms``); a
                  fraction is sent as a decimal (campaignctl's client reads it)
``reset-before``  rate of connections dropped before the request is handled: nothing happens
``reset-after``   rate of requests handled to completion (committed), then the connection is
                  dropped without an answer: the client cannot know it happened (ambiguous)
``slow``          rate of requests handled to completion whose answer is then held back for
``slow-seconds``  seconds (default 40): beyond the client's timeout, so the client times out
``seed``          seed of the random choices (default 0)
``max``           at most this many faults in total (latency does not count); default no bound
``platforms``     ``+``-separated provider types of the registry (``campaignctl.platforms``) or ``all``
``methods``       ``+``-separated HTTP methods, or ``reads`` (GET+HEAD), ``writes``
                  (POST+PUT+PATCH+DELETE), ``all`` (the default)
================  ==========================================================================

The rates of ``5xx``, ``429``, ``reset-before``, ``reset-after`` and ``slow`` are exclusive
shares of the matching requests and may add up to at most 1. Aliases: ``latency-ms``,
``jitter-ms``, ``error-rate``, ``rate-429``, ``slow-rate``, ``max-faults`` (and the
:class:`FaultSpec` field names, with ``_``).

Where faults come from: ``campaignctl sandbox serve --faults SPEC``; the embedded sandbox
(``endpoint: sandbox``) reads the environment variable ``CAMPAIGNCTL_SANDBOX_FAULTS`` (same
string); at run time ``POST /_sandbox/faults`` with a JSON object of the same keys (values as
numbers, strings or lists) sets the spec, ``{}`` clears it, ``GET /_sandbox/faults`` shows it
(with the sandbox's key: see :mod:`campaignctl.sandbox.admin`).
``/_sandbox/stats`` counts what was injected under ``"_faults"`` (by kind and status).

What a client sees (the ASGI middleware of :mod:`.inject` injects them):

* **in-process** (``httpx.ASGITransport``): a dropped connection is raised out of the app as
  :class:`ConnectionDropped`, a subclass of ``httpx.RemoteProtocolError`` (an
  ``httpx.TransportError``), exactly what httpx raises when a server hangs up; ``slow`` relies on
  the client enforcing its own deadline (campaignctl's ApiClient does) — the answer is held
  back, never dropped.
* **over loopback** (``campaignctl sandbox serve``, uvicorn): the socket is closed without a
  byte of answer, and httpx raises ``RemoteProtocolError("Server disconnected without sending a
  response.")`` (or a ``ReadError`` if the close turns into a TCP reset). Raising from an ASGI app
  would not do: uvicorn then answers ``500 Internal Server Error`` when nothing was sent yet, so
  the middleware closes uvicorn's transport itself (found through the ``send`` callable uvicorn
  hands to the app); on a server it does not recognise it raises :class:`ConnectionDropped`.
"""
from __future__ import annotations

import json
import math
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import httpx

from ..platforms import PLATFORMS as REGISTRY

#: the platforms faults can target: the registry's types (``Provider`` ``spec.type``)
PLATFORMS = tuple(REGISTRY)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
METHOD_GROUPS = {"reads": ("GET", "HEAD"), "writes": ("POST", "PUT", "PATCH", "DELETE")}
#: fault kinds, in the order their shares are laid out on [0, 1)
KINDS = ("reset-before", "reset-after", "5xx", "429", "slow")
ERROR_STATUSES = (500, 502, 503)

ENV_VAR = "CAMPAIGNCTL_SANDBOX_FAULTS"


class FaultSpecError(ValueError):
    """A fault spec that does not parse; the message names the item and what was expected."""


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised out of the sandbox app (in-process) where a server would close the connection."""


@dataclass(frozen=True)
class FaultSpec:
    """What to inject (see the module docstring for the meaning of each key)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # 500/502/503, before handling
    rate_429: float = 0.0
    retry_after: float = 1.0  # seconds, in the 429's Retry-After
    reset_before: float = 0.0
    reset_after: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 40.0
    platforms: tuple[str, ...] = PLATFORMS
    methods: tuple[str, ...] | None = None  # None: all
    seed: int = 0
    max_faults: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.platforms, str) or not isinstance(self.platforms, (tuple, list, set, frozenset)):
            raise FaultSpecError(f"platforms: expected a sequence of names, got {self.platforms!r}")
        object.__setattr__(self, "platforms", tuple(p for p in PLATFORMS if p in self.platforms) + tuple(
            p for p in self.platforms if p not in PLATFORMS))
        if self.methods is not None:
            if isinstance(self.methods, str):
                raise FaultSpecError(f"methods: expected a sequence of methods, got {self.methods!r}")
            object.__setattr__(self, "methods", tuple(dict.fromkeys(str(m).upper() for m in self.methods)))
        for name in ("latency_ms", "jitter_ms", "retry_after", "slow_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise FaultSpecError(f"{_KEY_OF[name]}: expected a duration >= 0, got {value!r}")
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise FaultSpecError(f"{_KEY_OF[name]}: expected a rate between 0 and 1, got {value!r}")
        total = self.fault_rate
        if total > 1 + 1e-9:
            raise FaultSpecError(
                f"the fault rates (5xx, 429, reset-before, reset-after, slow) add up to {total:g}; at most 1"
            )
        unknown = [p for p in self.platforms if p not in PLATFORMS]
        if unknown or not self.platforms:
            raise FaultSpecError(f"platforms: unknown {', '.join(unknown) or '(none)'}; use {'+'.join(PLATFORMS)} or all")
        if self.methods is not None:
            bad = [m for m in self.methods if m not in METHODS]
            if bad or not self.methods:
                raise FaultSpecError(f"methods: unknown {', '.join(bad) or '(none)'}; use e.g. GET+POST, reads, writes or all")
        if self.max_faults is not None and (isinstance(self.max_faults, bool) or not isinstance(self.max_faults, int) or self.max_faults < 0):
            raise FaultSpecError(f"max: expected a whole number >= 0, got {self.max_faults!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise FaultSpecError(f"seed: expected a whole number, got {self.seed!r}")

    @property
    def fault_rate(self) -> float:
        return sum(getattr(self, name) for name in _RATE_FIELDS)

    def shares(self) -> list[tuple[str, float]]:
        return [("reset-before", self.reset_before), ("reset-after", self.reset_after), ("5xx", self.error_rate),
                ("429", self.rate_429), ("slow", self.slow_rate)]

    # -- parsing -------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse the compact ``key=value,...`` form (see the module docstring)."""
        items: list[tuple[str, str]] = []
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise FaultSpecError(f"{item!r}: expected key=value (e.g. 5xx=0.1)")
            items.append((key, value))
        return cls._from_items(items)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultSpec:
        """The JSON form: the same keys, values as numbers, strings or (platforms, methods) lists."""
        items: list[tuple[str, str]] = []
        for key, value in data.items():
            if value is None:
                continue
            if isinstance(value, bool):
                raise FaultSpecError(f"{key}: expected a number or a string, got {json.dumps(value)}")
            if isinstance(value, (list, tuple)):
                value = "+".join(str(v) for v in value)
            elif not isinstance(value, (int, float, str)):
                raise FaultSpecError(f"{key}: expected a number, a string or a list, got {json.dumps(value)}")
            items.append((str(key), str(value)))
        return cls._from_items(items)

    @classmethod
    def _from_items(cls, items: list[tuple[str, str]]) -> FaultSpec:
        kwargs: dict[str, Any] = {}
        for raw_key, raw_value in items:
            key, value = _canonical_key(raw_key), raw_value.strip()
            field_name, parse = _KEYS[key]
            if field_name in kwargs:
                raise FaultSpecError(f"{raw_key.strip()}: given twice")
            try:
                kwargs[field_name] = parse(value)
            except FaultSpecError as exc:
                raise FaultSpecError(f"{raw_key.strip()}={value}: {exc}") from None
        return cls(**kwargs)

    # -- output --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with the canonical keys (``GET /_sandbox/faults``)."""
        return {
            "latency": f"{self.latency_ms:g}ms", "jitter": f"{self.jitter_ms:g}ms", "5xx": self.error_rate,
            "429": self.rate_429, "retry-after": self.retry_after, "reset-before": self.reset_before,
            "reset-after": self.reset_after, "slow": self.slow_rate, "slow-seconds": self.slow_seconds,
            "seed": self.seed, "max": self.max_faults, "platforms": list(self.platforms),
            "methods": list(self.methods) if self.methods is not None else "all",
        }

    def __str__(self) -> str:
        """The compact form, without the items left at their default (``FaultSpec.parse`` reads it)."""
        defaults = FaultSpec().to_dict()
        out = []
        for key, value in self.to_dict().items():
            if value is None or (value == defaults[key] and key != "seed"):
                continue
            if isinstance(value, list):
                value = "+".join(value)
            elif isinstance(value, float):
                value = f"{value:g}"
            out.append(f"{key}={value}")
        return ",".join(out)


def parse_faults(text: str | None) -> FaultSpec | None:
    """``None`` for no faults (an empty or blank string, ``off`` or ``none``), else the spec."""
    if text is None or text.strip().lower() in ("", "off", "none"):
        return None
    return FaultSpec.parse(text)


# -- value parsers -------------------------------------------------------------------------------
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s)?\s*$")


def _duration(default_unit: str) -> Callable[[str], float]:
    """A duration in the unit of the field (``ms`` or ``s``); ``20ms``, ``0.5s`` or a bare number."""

    def parse(value: str) -> float:
        m = _DURATION.match(value)
        if not m:
            raise FaultSpecError(f"expected a duration such as 20ms or 1.5s (a bare number is in {default_unit})")
        number, unit = float(m.group(1)), (m.group(2) or default_unit)
        if not math.isfinite(number):
            raise FaultSpecError("expected a finite duration")
        seconds = number / 1000 if unit == "ms" else number
        return seconds * 1000 if default_unit == "ms" else seconds

    return parse


def _rate(value: str) -> float:
    text = value.strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise FaultSpecError("expected a rate between 0 and 1 (e.g. 0.05 or 5%)") from None
    if not (0 <= number <= 1):
        raise FaultSpecError("expected a rate between 0 and 1 (e.g. 0.05 or 5%)")
    return number


def _whole(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise FaultSpecError("expected a whole number") from None
    if number < 0:
        raise FaultSpecError("expected a whole number >= 0")
    return number


def _seed(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise FaultSpecError("expected a whole number") from None


def _platforms(value: str) -> tuple[str, ...]:
    names = [v.strip().lower() for v in value.split("+") if v.strip()]
    if names == ["all"]:
        return PLATFORMS
    unknown = [n for n in names if n not in PLATFORMS]
    if unknown or not names:
        raise FaultSpecError(f"unknown platform {', '.join(unknown) or '(none)'}; use {'+'.join(PLATFORMS)} or all")
    return tuple(p for p in PLATFORMS if p in names)


def _methods(value: str) -> tuple[str, ...] | None:
    names = [v.strip() for v in value.split("+") if v.strip()]
    if [n.lower() for n in names] == ["all"]:
        return None
    out: list[str] = []
    for name in names:
        group = METHOD_GROUPS.get(name.lower())
        for method in group or (name.upper(),):
            if method not in METHODS:
                raise FaultSpecError(f"unknown method {name}; use e.g. GET+POST, reads, writes or all")
            if method not in out:
                out.append(method)
    if not out:
        raise FaultSpecError("no method given; use e.g. GET+POST, reads, writes or all")
    return tuple(out)


_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "latency": ("latency_ms", _duration("ms")),
    "jitter": ("jitter_ms", _duration("ms")),
    "5xx": ("error_rate", _rate),
    "429": ("rate_429", _rate),
    "retry-after": ("retry_after", _duration("s")),
    "reset-before": ("reset_before", _rate),
    "reset-after": ("reset_after", _rate),
    "slow": ("slow_rate", _rate),
    "slow-seconds": ("slow_seconds", _duration("s")),
    "seed": ("seed", _seed),
    "max": ("max_faults", _whole),
    "platforms": ("platforms", _platforms),
    "methods": ("methods", _methods),
}
_ALIASES = {
    "latency-ms": "latency", "jitter-ms": "jitter", "error-rate": "5xx", "errors": "5xx", "rate-429": "429",
    "slow-rate": "slow", "max-faults": "max", "platform": "platforms", "method": "methods",
}
_KEY_OF = {field_name: key for key, (field_name, _) in _KEYS.items()}
_FIELD_KEYS = {field_name.replace("_", "-"): key for field_name, key in _KEY_OF.items()}
_RATE_FIELDS = ("error_rate", "rate_429", "reset_before", "reset_after", "slow_rate")
assert set(_KEY_OF) == {f.name for f in fields(FaultSpec)}


def _canonical_key(raw: str) -> str:
    key = raw.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, _FIELD_KEYS.get(key, key))
    if key not in _KEYS:
        raise FaultSpecError(f"unknown key {raw.strip()!r}; known keys: {', '.join(_KEYS)}")
    return key


# -- the injector ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What to do with one request: wait ``delay`` seconds, then ``kind`` (None: handle it normally)."""

    delay: float = 0.0
    kind: str | None = None
    status: int | None = None  # for 5xx


NO_FAULT = Decision()


class FaultInjector:
    """Draws the faults of a spec; thread-safe, reproducible for a given seed and request order.

    Every request the spec covers takes exactly three draws from ``random.Random(seed)`` (fault,
    status, jitter), whatever comes out, so the sequence does not depend on timing."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self._lock = threading.Lock()
        self.injected = 0  # towards max_faults
        self.counts: Counter[str] = Counter()

    def covers(self, platform: str, method: str) -> bool:
        spec = self.spec
        return platform in spec.platforms and (spec.methods is None or method.upper() in spec.methods)

    def decide(self, platform: str, method: str) -> Decision:
        if not self.covers(platform, method):
            return NO_FAULT
        spec = self.spec
        with self._lock:
            u, v, w = self._rng.random(), self._rng.random(), self._rng.random()
            delay = max(0.0, spec.latency_ms + (2 * w - 1) * spec.jitter_ms) / 1000
            kind: str | None = None
            edge = 0.0
            for name, share in spec.shares():
                edge += share
                if share > 0 and u < edge:
                    kind = name
                    break
            if kind is not None and spec.max_faults is not None and self.injected >= spec.max_faults:
                kind = None
            status = ERROR_STATUSES[min(int(v * len(ERROR_STATUSES)), len(ERROR_STATUSES) - 1)] if kind == "5xx" else None
            if kind is not None:
                self.injected += 1
                self.counts["total"] += 1
                self.counts[str(status) if status else kind] += 1
            if delay > 0:
                self.counts["latency"] += 1
        return Decision(delay, kind, status)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.counts.items()))

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
