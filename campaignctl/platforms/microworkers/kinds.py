"""What the config checks know of Microworkers API v2, and where its provider takes them from (no
imports of the providers or the config: the loader reads this without loading a provider)."""
from __future__ import annotations

from .. import Kinds

KINDS = Kinds(
    kinds=("Template", "Campaign"),
    references={"Campaign": {"template": "Template", "schedule": "Schedule"}},
)

__all__ = ["KINDS"]
