"""The inputs of a plan, which session, planner and prefetch all depend on (none of them on
another): the state backend a config selects, its providers (made and opened), and what each
provider's read is asked -- the addresses the config wants, the ids state knows, the renames
(``movedFrom``) -- and the desired attributes."""
from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from .config.model import Config, address_of
from .providers import provider_class
from .providers.base import Embedded, Provider, ReadInputs
from .state.base import State, StateBackend
from .state.local import LocalBackend
from .transport import AppTransport

log = logging.getLogger("campaignctl")


def backend_for(config: Config, workspace: str | None = None, backend_type: str | None = None) -> StateBackend:
    """The state backend the config's ``kind: Backend`` document selects (local without one).

    The workspace is ``workspace`` (``--workspace``), else ``$CAMPAIGNCTL_WORKSPACE``, else the
    document's, else ``default``. ``backend_type`` forces ``local`` or ``postgres`` (``state
    migrate``); the document's settings apply only to the type it names.
    """
    import os
    import re

    from .errors import StateError

    doc = next(iter(config.of_kind("Backend").values()), None)
    kind = backend_type or (doc.spec["type"] if doc is not None else "local")
    spec = doc.spec if doc is not None and doc.spec["type"] == kind else {}
    name = workspace or os.environ.get("CAMPAIGNCTL_WORKSPACE") or spec.get("workspace") or "default"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise StateError(f"invalid workspace name {name!r}: letters, digits, '_', '.', '-' (at most 64, starting with a letter or digit)")
    if kind == "postgres":
        from .state.postgres import PostgresBackend

        return PostgresBackend.from_env(spec.get("dsnEnv", "CAMPAIGNCTL_PG_DSN"), name)
    directory = config.root / spec.get("path", ".campaignctl")
    return LocalBackend(directory if name == "default" else directory / "workspaces" / name)


def make_providers(config: Config, env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    out: dict[str, Provider] = {}
    for name, doc in config.providers.items():
        cls = provider_class(doc.spec["type"])
        assert cls is not None  # validated
        out[name] = cls(doc, config.root, env)
    return out


def embedded_sandbox(provider: Provider) -> Embedded | None:
    """For a provider whose endpoint is ``sandbox``: the embedded sandbox app of its config's
    directory, in-process, where the registry mounts its platform (None for any other endpoint).
    Providers do not know the sandbox; what opens them hands it over."""
    if not provider.embedded:
        return None
    from .platforms import PLATFORMS
    from .sandbox.embedded import embedded_app

    return Embedded(AppTransport(app=embedded_app(provider.root)), "http://sandbox" + PLATFORMS[provider.type].prefix)


@contextlib.asynccontextmanager
async def opened(providers: dict[str, Provider], parallelism: int | None = None) -> AsyncIterator[dict[str, Provider]]:
    try:
        for provider in providers.values():
            await provider.open(parallelism, embedded_sandbox(provider))
        yield providers
    finally:
        for provider in providers.values():
            client = provider._client
            if client is not None:
                st = client.stats
                log.info(
                    "%s: %d HTTP call(s), %d retries, %d give-up(s), %d unanswered write(s), %.1f s in calls",
                    provider.name, st.calls, st.retries, st.give_ups, st.ambiguous_writes, st.seconds,
                )
            await provider.close()


def wanted_of(config: Config, providers: Iterable[str]) -> dict[str, dict[str, str]]:
    """What each of ``providers`` is asked to find: address -> kind of the config's resources."""
    wanted: dict[str, dict[str, str]] = {name: {} for name in providers}
    for address, doc in config.resources.items():
        if doc.provider in wanted:
            wanted[doc.provider][address] = doc.kind
    return wanted


def moved_of(config: Config, provider: str) -> dict[str, str]:
    """old address -> new address of ``provider``'s resources renamed with ``movedFrom``."""
    return {
        address_of(doc.provider, doc.kind, doc.moved_from): address
        for address, doc in config.resources.items() if doc.provider == provider and doc.moved_from
    }


def known_of(state: State, provider: str) -> dict[str, Any]:
    """address -> remote id of ``provider``'s objects in state. An entry without id is the intent
    of a create that never answered: it is looked for like a new object."""
    return {a: e["id"] for a, e in state.resources.items() if e.get("provider") == provider and e.get("id") is not None}


def desired_of(config: Config, providers: dict[str, Provider]) -> dict[str, dict[str, Any]]:
    """address -> desired attributes of every resource of the config (what a read is given to
    adopt objects by: :func:`read_inputs`)."""
    return {address: providers[doc.provider or ""].desired(doc, config) for address, doc in config.resources.items()}


def apply_moves(config: Config, state: State) -> tuple[State, dict[str, str]]:
    """A copy of ``state`` where every ``movedFrom: OLD`` resource holds OLD's entry, and the moves
    (``state`` itself when no resource moves: planning only reads it)."""
    if not any(doc.moved_from for doc in config.resources.values()):
        return state, {}
    moved = State(resources=copy.deepcopy(state.resources), serial=state.serial, lineage=state.lineage)
    moves: dict[str, str] = {}
    for address, doc in config.resources.items():
        if not doc.moved_from:
            continue
        old = address_of(doc.provider, doc.kind, doc.moved_from)
        if old in moved.resources and address not in moved.resources and old not in config.resources:
            entry = moved.resources.pop(old)
            moved.resources[address] = {**entry, "name": doc.name}
            moves[address] = old
    return moved, moves


def read_inputs(
    config: Config, state: State, provider: str, known: Mapping[str, Any], wanted: Mapping[str, str],
    desired: Mapping[str, dict[str, Any]],
) -> ReadInputs:
    """What the read of ``provider`` is given: ``known`` and ``wanted`` (:func:`known_of`,
    :func:`wanted_of`), the desired attributes (:func:`desired_of`) and documents of the config,
    the attributes and records state holds of its objects, its renames."""
    mine = [(a, e) for a, e in state.resources.items() if e.get("provider") == provider]
    return ReadInputs(
        known=known,
        wanted=wanted,
        desired=desired,
        documents=config.resources,
        applied={a: e.get("attrs") for a, e in mine},
        recorded={a: e["recorded"] for a, e in mine if isinstance(e.get("recorded"), dict)},
        moved=moved_of(config, provider),
    )
