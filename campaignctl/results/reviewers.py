"""A campaign's results Reviewer, found through the registry by its provider's type: the one module
of ``results/`` that looks platforms up (the platforms' reviewers import ``results.common``, so that
must not import the registry)."""
from __future__ import annotations

from ..platforms import PLATFORMS, load
from .common import CampaignRef, ResultsError, Reviewer


def reviewer_for(ref: CampaignRef) -> Reviewer:
    platform = PLATFORMS.get(ref.provider.type)
    if platform is None:
        raise ResultsError(f"{ref.address}: results are not supported for provider type {ref.provider.type}")
    cls: type[Reviewer] = load(platform.reviewer)
    return cls(ref)
