"""Providers: one module per platform API. ``provider_class(type)`` finds the class for a type."""
from __future__ import annotations

import importlib

from .base import Provider

PROVIDER_TYPES = {
    "swarms": "campaignctl.providers.swarms:SwarmsProvider",
    "microworkers": "campaignctl.providers.microworkers:MicroworkersProvider",
    "microworkers-v1": "campaignctl.providers.microworkers_v1:MicroworkersV1Provider",
}


def provider_class(type_: str) -> type[Provider] | None:
    target = PROVIDER_TYPES.get(type_)
    if target is None:
        return None
    cls = _CLASSES.get(target)
    if cls is None:  # validation asks once per document: import_module's lookup was 0.1 s of 6,000
        module, _, name = target.partition(":")
        cls = _CLASSES[target] = getattr(importlib.import_module(module), name)
    return cls


_CLASSES: dict[str, type[Provider]] = {}


__all__ = ["PROVIDER_TYPES", "Provider", "provider_class"]
