"""The knobs of the Microworkers v1 sandbox only (the shared ones are :class:`campaignctl.sandbox.core.Settings`).

Reached as ``sandbox.settings.of(PlatformSettings)``; ``campaignctl sandbox serve`` sets them from its
flags through :func:`campaignctl.sandbox.apis.platform_settings`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformSettings:
    review_seconds: float = 0.0  #: how long a new or restarted campaign stays in review (``sandbox serve --review-seconds``)
