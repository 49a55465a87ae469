"""The knobs of the SWARMS sandbox only (the shared ones are :class:`campaignctl.sandbox.core.Settings`).

Reached as ``sandbox.settings.of(PlatformSettings)``; ``campaignctl sandbox serve`` sets them from its
flags through :func:`campaignctl.sandbox.apis.platform_settings`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformSettings:
    #: a published campaign's job list and the tasks/jobs linked to an active or paused campaign are
    #: read-only (``readOnly`` "indicates whether the resource can be modified"); False is the old
    #: guess that left them editable (``sandbox serve --lenient-readonly``)
    strict_readonly: bool = True
