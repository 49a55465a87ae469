"""Providers: the shared template every platform's provider follows (:mod:`.base`), and
``provider_class(type)``, which finds a platform's class through the registry
(:mod:`campaignctl.platforms`)."""
from __future__ import annotations

from ..platforms import PLATFORMS, load
from .base import Provider

#: the Provider document's ``spec.type`` -> "module:Class"
PROVIDER_TYPES = {type_: platform.provider for type_, platform in PLATFORMS.items()}


def provider_class(type_: str) -> type[Provider] | None:
    target = PROVIDER_TYPES.get(type_)
    return None if target is None else load(target)


__all__ = ["PROVIDER_TYPES", "Provider", "provider_class"]
