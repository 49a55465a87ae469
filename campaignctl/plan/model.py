"""The Plan and its parts. Plain data, JSON round-trippable, so a saved plan applies exactly."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = "1.0"


class LazyMapping(Mapping[str, Any]):
    """A mapping computed when first asked (``compute()``, once): a plan's live fingerprints, which
    only a saved plan (``--out``, ``--format json``) and the apply of one ask (a plan that is only
    shown saves ~35 ms for 6,350 objects); what an early prefetch's config names (it waits for the
    config) and the ids its state holds (it waits for the state)."""

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute: Callable[[], dict[str, Any]] | None = compute
        self._data: dict[str, Any] = {}

    def _all(self) -> dict[str, Any]:
        if self._compute is not None:
            self._data, self._compute = self._compute(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._all()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._all().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def ref(address: str) -> dict[str, str]:
    """A placeholder for the remote id of ``address``, resolved from state at apply time."""
    return {"$ref": address}


def refs_in(value: Any) -> set[str]:
    """Every address referenced by ``{"$ref": ...}`` placeholders inside ``value``."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if set(item) == {"$ref"} and isinstance(item["$ref"], str):
                found.add(item["$ref"])
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@dataclass
class Operation:
    """One API call (or a short fixed sequence the platform needs) that apply will make."""

    id: str  # unique in the plan: "<address>#<action>"
    address: str
    provider: str
    action: str  # create | update | set-tasks | set-jobs | publish | pause | continue | cancel | archive | delete ...
    call: str  # what it sends, for people: "POST /campaigns"
    target: Any = None  # remote id, or ref(address) for an object created earlier in the apply
    payload: Any = None
    after: list[str] = field(default_factory=list)  # operation ids that must succeed first
    cost: float = 0.0  # money this call commits, USD
    destructive: bool = False  # deletes, cancels or stops something
    records: str | None = None  # "create": success makes the state entry; "forget": success removes it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operation:
        return cls(**data)


@dataclass
class FieldChange:
    path: str  # "components[0].properties.steps"
    before: Any
    after: Any
    how: str = "update"  # update | forces replacement | action | impossible


@dataclass
class ResourceChange:
    address: str
    provider: str
    kind: str
    name: str
    actions: list[str]  # Terraform's vocabulary: no-op | create | update | delete | [delete, create] | [create, delete]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    remote_id: Any = None
    fields: list[FieldChange] = field(default_factory=list)
    lifecycle: list[str] = field(default_factory=list)  # named actions: publish, pause, restart ...
    reasons: list[str] = field(default_factory=list)  # why a replacement / what a platform forbids
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # impossible changes: the plan cannot be applied
    cost: float = 0.0
    protect: bool = False
    operations: list[str] = field(default_factory=list)  # operation ids

    @property
    def symbol(self) -> str:
        return {
            ("no-op",): " ",
            ("create",): "+",
            ("update",): "~",
            ("delete",): "-",
            ("delete", "create"): "-/+",
            ("create", "delete"): "+/-",
        }.get(tuple(self.actions), "?")

    @property
    def is_replace(self) -> bool:
        return len(self.actions) == 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceChange:
        data = dict(data)
        data["fields"] = [FieldChange(**f) for f in data.get("fields", [])]
        return cls(**data)


@dataclass
class Drift:
    """A managed object changed outside campaignctl: live differs from what the last apply recorded."""

    address: str
    provider: str
    kind: str  # "changed" | "deleted"
    fields: list[FieldChange] = field(default_factory=list)  # before = last applied, after = live now

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Drift:
        data = dict(data)
        data["fields"] = [FieldChange(**f) for f in data.get("fields", [])]
        return cls(**data)


@dataclass
class Refusal:
    """What apply refuses without an override (computed by :func:`campaignctl.plan.safety.refusals`):
    why, the flag that overrides it, and the addresses concerned."""

    reason: str
    flag: str  # "--allow-replace" | "--force" | "--max-spend"
    addresses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refusal:
        return cls(str(data["reason"]), str(data["flag"]), [str(a) for a in data.get("addresses") or []])


@dataclass
class Plan:
    changes: list[ResourceChange]
    operations: list[Operation]  # in a valid execution order
    config_digest: str = ""
    config_root: str = ""
    live_fingerprints: Mapping[str, str] = field(default_factory=dict)  # address -> sha256 of what plan read
    created_at: str = ""
    balances: dict[str, float | None] = field(default_factory=dict)  # provider -> available USD
    warnings: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)  # changes made outside campaignctl since the last apply
    managed: dict[str, int] = field(default_factory=dict)  # kind -> objects in state before this plan (thresholds)
    configured: int = 0  # resources the configuration declares
    #: what apply would refuse without an override (``--force``, ``--allow-replace``...), for reviewers
    refusals: list[Refusal] = field(default_factory=list)
    #: a saved plan's config directory relative to the plan file's directory (``config_root`` is absolute)
    config_root_relative: str = ""
    #: path (relative to the config root) -> sha256 of every config and data file, so a stale plan names them
    config_files: dict[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.actions != ["no-op"]]

    @property
    def has_changes(self) -> bool:
        return bool(self.operations) or bool(self.pending)

    @property
    def errors(self) -> list[str]:
        return [f"{c.address}: {e}" for c in self.changes for e in c.errors]

    @property
    def cost(self) -> float:
        return round(sum(op.cost for op in self.operations), 6)

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "replace": 0, "delete": 0}
        for c in self.pending:
            if c.is_replace:
                out["replace"] += 1
            elif c.actions[0] in out:
                out[c.actions[0]] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "config_digest": self.config_digest,
            "config_root": self.config_root,
            "changes": [c.to_dict() for c in self.changes],
            "operations": [o.to_dict() for o in self.operations],
            "live_fingerprints": dict(self.live_fingerprints),
            "balances": self.balances,
            "warnings": self.warnings,
            "drift": [d.to_dict() for d in self.drift],
            "managed": self.managed,
            "configured": self.configured,
            "refusals": [r.to_dict() for r in self.refusals],
            "config_root_relative": self.config_root_relative,
            "config_files": self.config_files,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            changes=[ResourceChange.from_dict(c) for c in data["changes"]],
            operations=[Operation.from_dict(o) for o in data["operations"]],
            config_digest=data.get("config_digest", ""),
            config_root=data.get("config_root", ""),
            live_fingerprints=data.get("live_fingerprints", {}),
            created_at=data.get("created_at", ""),
            balances=data.get("balances", {}),
            warnings=data.get("warnings", []),
            drift=[Drift.from_dict(d) for d in data.get("drift", [])],
            managed={str(k): int(v) for k, v in (data.get("managed") or {}).items()},
            configured=int(data.get("configured", 0)),
            refusals=[Refusal.from_dict(r) for r in data.get("refusals") or []],
            config_root_relative=str(data.get("config_root_relative") or ""),
            config_files={str(k): str(v) for k, v in (data.get("config_files") or {}).items()},
        )
