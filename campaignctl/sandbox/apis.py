"""Each platform's fake API module (``sandbox/<package>/api.py``: its ``create_app(sandbox)`` and
``fault_answer``) and simulated worker skill (``sandbox/<package>/skill.py``), found by the
registry's package name. The sandbox knows its own platform packages;
the registry does not import the sandbox."""
from __future__ import annotations

import importlib
from types import ModuleType

from ..platforms import Platform


def api_of(platform: Platform) -> ModuleType:
    return importlib.import_module(f"campaignctl.sandbox.{platform.package}.api")


def skill_of(platform: Platform) -> ModuleType:
    """The platform's simulated skill and speed (``sandbox/<package>/skill.py``): its ``apply_skill``."""
    return importlib.import_module(f"campaignctl.sandbox.{platform.package}.skill")
