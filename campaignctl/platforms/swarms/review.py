"""SWARMS answers for review and aggregation: task = the job id (``job_id`` in exports), field =
the answer column ``<task name>.<component type>.<result field>``."""
from __future__ import annotations

from ...results.common import Submission

#: SWARMS has no worker blocklist kind
BLOCKLIST_KIND: str | None = None


def items(sub: Submission) -> list[tuple[str, str, str]]:
    task = str(sub.fields.get("job_id"))
    return [(task, name, str(value)) for name, value in sub.answers.items() if value is not None]
