"""The registry of platforms: the one place outside a platform's own folders that names it.

A platform is one package here (``platforms/<package>/``: its provider, its kinds, its results
reviewer, its import/export), one sandbox package (``sandbox/<package>/``), one schema folder (``schemas/<schemas>/``:
a schema per kind, its part of the Provider spec, its editor entry schema ``campaignctl.json``)
and one example. Everything else finds it through :data:`PLATFORMS`, by the Provider document's
``spec.type``. Classes are named as ``"module:Class"`` and imported when first asked for, so that
loading the registry imports no platform.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class Kinds:
    """What the config checks know of a platform (``platforms/<package>/kinds.py``, a module that
    imports neither the providers nor the config): the one source of its Provider class's
    ``kinds``, ``references`` and ``component_lists`` too."""

    #: the kinds of resource it manages (a document's ``kind``)
    kinds: tuple[str, ...]
    #: kind -> {spec field: referenced kind}; a field holds a name or a list of names
    references: dict[str, dict[str, str]] = field(default_factory=dict)
    #: kind -> spec field holding a list of components whose ``use:`` items are resolved
    component_lists: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Platform:
    type: str  #: the Provider document's ``spec.type``
    package: str  #: the folder name under ``platforms/`` and ``sandbox/``
    provider: str  #: "module:Class" of its Provider
    reviewer: str  #: "module:Class" of its results Reviewer
    prefix: str  #: where the sandbox serves it (``campaignctl sandbox serve``, and the embedded sandbox)
    schemas: str  #: its folder under ``schemas/`` (its ``Provider.json`` names ``type``: the loader finds it by that)
    example: str  #: its folder under ``examples/``
    env_var: str  #: the environment variable its credential conventionally comes from (tests, import)
    kinds: str  #: "module:Name" of its :class:`Kinds` (what the config checks need; no provider imported)
    status: str = ""  #: "module:function" reading one campaign's status (``campaignctl status``)
    #: the kinds of no provider it brings (``Component``), each checked by ``schemas/<schemas>/<Kind>.json``
    shared_kinds: tuple[str, ...] = ()


PLATFORMS: dict[str, Platform] = {
    p.type: p
    for p in (
        Platform("swarms", "swarms", "campaignctl.platforms.swarms.provider:SwarmsProvider",
                 "campaignctl.platforms.swarms.results:SwarmsReviewer", "/swarms", "swarms", "quickstart", "SWARMS_TOKEN",
                 "campaignctl.platforms.swarms.kinds:KINDS",
                 status="campaignctl.platforms.swarms.status:read_status", shared_kinds=("Component",)),
        Platform("microworkers", "microworkers", "campaignctl.platforms.microworkers.provider:MicroworkersProvider",
                 "campaignctl.platforms.microworkers.results:MicroworkersReviewer", "/microworkers/api/v2", "microworkers",
                 "microworkers-survey", "MW_API_KEY", "campaignctl.platforms.microworkers.kinds:KINDS",
                 status="campaignctl.platforms.microworkers.status:read_status"),
        Platform("microworkers-v1", "microworkers_v1", "campaignctl.platforms.microworkers_v1.provider:MicroworkersV1Provider",
                 "campaignctl.platforms.microworkers_v1.results:MicroworkersV1Reviewer", "/microworkers-v1", "microworkers-v1",
                 "microworkers-legacy", "MW_API_KEY", "campaignctl.platforms.microworkers_v1.kinds:KINDS",
                 status="campaignctl.platforms.microworkers_v1.status:read_status"),
    )
}  # fmt: skip

_loaded: dict[str, Any] = {}


def load(target: str) -> Any:
    """The object a ``"module:Name"`` string names (imported once, then remembered: validation asks
    once per document, and import_module's lookup was 0.1 s of 6,000)."""
    found = _loaded.get(target)
    if found is None:
        module, _, name = target.partition(":")
        found = _loaded[target] = getattr(importlib.import_module(module), name)
    return found


def kinds_of(type_: str) -> Kinds | None:
    """The :class:`Kinds` of the platform whose Provider documents say ``type: <type_>`` (None: no such
    platform). Imports its light ``kinds`` module only, not its provider."""
    platform = PLATFORMS.get(type_)
    return None if platform is None else load(platform.kinds)


def review_module(platform: Platform) -> Any:
    """The platform's review hooks (``platforms/<package>/review.py``): its submissions' answers as
    (task, field, answer) items, its Blocklist suggestion (``results review``, ``results aggregate``)."""
    return importlib.import_module(f"campaignctl.platforms.{platform.package}.review")


__all__ = ["PLATFORMS", "Kinds", "Platform", "kinds_of", "load", "review_module"]
