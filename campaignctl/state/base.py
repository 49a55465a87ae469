"""The state model and the backend interface (local file now; shared stores implement the same)."""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

STATE_VERSION = 1


@dataclass
class State:
    """address -> {provider, kind, name, id, attrs (last applied), protect}."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial: int = 0
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "serial": self.serial, "lineage": self.lineage, "resources": self.resources}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        return cls(resources=dict(data.get("resources") or {}), serial=int(data.get("serial", 0)), lineage=str(data.get("lineage") or uuid.uuid4()))

    def ids(self) -> dict[str, Any]:
        return {a: e.get("id") for a, e in self.resources.items()}


@dataclass
class LockInfo:
    id: str
    host: str
    pid: int
    started: str
    command: str

    @classmethod
    def new(cls, command: str) -> LockInfo:
        return cls(
            id=str(uuid.uuid4()),
            host=socket.gethostname(),
            pid=os.getpid(),
            started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            command=command,
        )

    def describe(self) -> str:
        return f"lock {self.id} held by pid {self.pid} on {self.host} since {self.started} ({self.command})"


class StateBackend(Protocol):
    """What the planner and applier need from a state store."""

    def read(self) -> State: ...

    def record(self, address: str, entry: dict[str, Any] | None) -> None:
        """Durably set (or with None remove) one address, right after the call that changed it."""

    def commit(self, state: State) -> None:
        """Write the whole state (end of a run)."""

    def lock(self, command: str, timeout: float = 0.0) -> LockInfo: ...

    def unlock(self) -> None: ...

    def force_unlock(self, lock_id: str) -> LockInfo: ...

    def describe(self) -> str: ...
