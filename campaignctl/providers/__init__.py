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
    module, _, name = target.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module), name)
    return cls


__all__ = ["PROVIDER_TYPES", "Provider", "provider_class"]
