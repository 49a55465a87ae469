"""What the config checks know of SWARMS, and where its provider takes them from (no imports of
the providers or the config: the loader reads this without loading a provider)."""
from __future__ import annotations

from .. import Kinds

KINDS = Kinds(
    kinds=("Task", "Job", "Campaign"),
    references={
        "Job": {"tasks": "Task"},
        "Campaign": {"jobs": "Job", "schedule": "Schedule"},
    },
    component_lists={"Task": "components"},
)

__all__ = ["KINDS"]
