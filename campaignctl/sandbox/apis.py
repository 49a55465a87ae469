"""Each platform's fake API module (``sandbox/<package>/api.py``: its ``create_app(sandbox)`` and
``fault_answer``), simulated worker skill (``sandbox/<package>/skill.py``) and own knobs
(``sandbox/<package>/settings.py``: its ``PlatformSettings`` dataclass), found by the
registry's package name. The sandbox knows its own platform packages;
the registry does not import the sandbox."""
from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import Any

from ..platforms import PLATFORMS, Platform


def api_of(platform: Platform) -> ModuleType:
    return importlib.import_module(f"campaignctl.sandbox.{platform.package}.api")


def skill_of(platform: Platform) -> ModuleType:
    """The platform's simulated skill and speed (``sandbox/<package>/skill.py``): its ``apply_skill``."""
    return importlib.import_module(f"campaignctl.sandbox.{platform.package}.skill")


def settings_class(platform: Platform) -> type:
    """The dataclass of the platform's own sandbox knobs (``sandbox/<package>/settings.py``)."""
    found: type = importlib.import_module(f"campaignctl.sandbox.{platform.package}.settings").PlatformSettings
    return found


def platform_settings(**knobs: Any) -> dict[type, Any]:
    """Every platform's own knobs (for :attr:`campaignctl.sandbox.core.Settings.platforms`), each
    given the ``knobs`` its class has (``review_seconds=60`` sets it on each platform that reviews
    campaigns) and its defaults for the rest. A knob no platform has is a TypeError."""
    out: dict[type, Any] = {}
    used: set[str] = set()
    for platform in PLATFORMS.values():
        cls = settings_class(platform)
        names = {f.name for f in dataclasses.fields(cls)}
        used |= names & knobs.keys()
        out[cls] = cls(**{k: v for k, v in knobs.items() if k in names})
    unknown = sorted(knobs.keys() - used)
    if unknown:
        raise TypeError(f"no platform's sandbox has the knob(s) {', '.join(unknown)}")
    return out
