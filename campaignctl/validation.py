"""A config, validated: loaded by :mod:`campaignctl.config` and held to its platforms' rules.

The config loader imports no platform and no provider (issue 22: providers import config, so the
other way round would be a cycle). This step, above both, gives it what it needs of the platforms
(:class:`~campaignctl.config.load.Platforms`): each one's kinds and references from its light
``kinds`` module, found through the registry, and its rules, each Provider class's ``check``, run
on the resources whose own documents and dependencies are sound. The loader reports their
problems with its own (one sorted list, ``file:line:col``) and remembers a config that passed all
of them in the validation cache, under a key that holds the code of both.

Every command that reads a config loads it through :func:`load_config`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from .config import load
from .config.model import Config, Document
from .config.valid_cache import code_digest
from .errors import Diagnostic
from .platforms import Kinds, kinds_of

HERE = Path(__file__).resolve().parent


class RegistryPlatforms:
    """The registry's platforms, as the loader asks for them."""

    def kinds(self, type_: str) -> Kinds | None:
        return kinds_of(type_)

    def check(self, config: Config, sound: list[tuple[str, Document]]) -> list[Diagnostic]:
        from .providers import provider_class  # only when the checks run: a remembered config needs no provider

        diags: list[Diagnostic] = []
        for type_, doc in sound:
            cls = provider_class(type_)
            assert cls is not None  # the loader checked the type's kinds through the same registry
            diags += cls.check(doc, config)
        return diags

    def code(self) -> bytes:
        return _platforms_code()


@functools.cache
def _platforms_code() -> bytes:
    """What stands for the platforms' code in the cache key of the whole-config checks: this
    module, the registry, the kinds modules and everything the rules run (the providers' shared
    code and every platform's package)."""
    sources = [HERE / "validation.py", *(HERE / "providers").glob("*.py"), *(HERE / "platforms").rglob("*.py")]
    return code_digest("platform rules", *sorted(sources))


PLATFORMS = RegistryPlatforms()


def load_config(
    path: str | Path, on_parsed: Callable[[Config], None] | None = None, on_early: Callable[[Config], None] | None = None,
) -> Config:
    """Load the config at ``path`` and validate it, platform rules included (see
    :func:`campaignctl.config.load.load_config`: ``on_parsed``, ``on_early``). Raises ConfigError."""
    return load.load_config(path, on_parsed, on_early, platforms=PLATFORMS)


__all__ = ["PLATFORMS", "RegistryPlatforms", "load_config"]
