"""What a platform's ``status`` function reads of one campaign (:class:`PlatformStatus`), and the
count of its submissions by rating (:func:`tally`): shared by the platforms' ``status.py`` modules
and the ``campaignctl status`` command (:mod:`campaignctl.status`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import Reviewer


@dataclass
class PlatformStatus:
    """What a platform's ``status`` function reads for one campaign (None: no documented source)."""

    state: str | None
    #: how many pieces of work the campaign asks for in all (results x jobs, positions)
    target: int | None = None
    submitted: int | None = None
    approved: int | None = None
    rejected: int | None = None
    pending: int | None = None
    committed: float | None = None  #: USD the campaign commits in all
    spent: float | None = None  #: USD paid so far
    queue_jobs: int | None = None  #: the platform's background jobs still running for it
    notes: list[str] = field(default_factory=list)  #: how a figure was computed, what is missing


async def tally(reviewer: Reviewer) -> tuple[int, int, int, int]:
    """(submitted, approved, rejected, pending) over every submission of the campaign."""
    submitted = approved = rejected = 0
    async for sub in reviewer.submissions():
        submitted += 1
        approved += sub.rating == "OK"
        rejected += sub.rating == "NOK"
    return submitted, approved, rejected, submitted - approved - rejected
