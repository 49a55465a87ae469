"""What the config checks know of Microworkers API v1, and where its provider takes them from (no
imports of the providers or the config: the loader reads this without loading a provider)."""
from __future__ import annotations

from .. import Kinds

KINDS = Kinds(
    kinds=("Campaign", "WorkerGroup", "Blocklist"),
    references={"Campaign": {"group": "WorkerGroup"}},
)

__all__ = ["KINDS"]
