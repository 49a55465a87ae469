"""Microworkers v1 answers for review and aggregation: task = ``*`` (every worker answers the
campaign's required proofs), field = ``proof_1``, ``proof_2``... Workers can be excluded through
the ``Blocklist`` kind (the account's exclude list): a Review suggests additions as YAML."""
from __future__ import annotations

from ...results.common import Submission

WHOLE = "*"
BLOCKLIST_KIND: str | None = "Blocklist"


def items(sub: Submission) -> list[tuple[str, str, str]]:
    return [(WHOLE, name, str(value)) for name, value in sub.answers.items()]
