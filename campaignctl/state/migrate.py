"""``campaignctl state migrate``: copy a whole state (resources, serial, lineage) between backends."""
from __future__ import annotations

import copy

from ..errors import StateError
from .base import State, StateBackend


def migrate(source: StateBackend, destination: StateBackend, *, force: bool = False, lock_timeout: float = 0.0) -> State:
    """Copy ``source``'s state into ``destination`` under both locks and check the copy.

    Refuses (unless ``force``) when the destination already holds resources of another state
    (a different lineage) or a newer serial of the same one. The source is left as it is.
    Returns the state copied.
    """
    source.lock("state migrate", lock_timeout)
    try:
        destination.lock("state migrate", lock_timeout)
        try:
            state = source.read()
            if not state.resources and state.serial == 0:
                raise StateError(f"{source.describe()} holds no state: nothing to migrate")
            existing = destination.read()
            if existing.resources and not force:
                if existing.lineage != state.lineage:
                    raise StateError(
                        f"{destination.describe()} already holds another state ({len(existing.resources)} resource(s), "
                        f"lineage {existing.lineage}; the source's is {state.lineage}): refusing to overwrite it "
                        "without --force"
                    )
                if existing.serial > state.serial:
                    raise StateError(
                        f"{destination.describe()} holds a newer copy of this state (serial {existing.serial} > "
                        f"{state.serial}): refusing to overwrite it without --force"
                    )
            # commit() bumps the serial: hand it serial - 1 so the copy keeps the source's
            copied = State(resources=copy.deepcopy(state.resources), serial=state.serial - 1, lineage=state.lineage)
            destination.commit(copied)
            check = destination.read()
            if (check.resources, check.serial, check.lineage) != (state.resources, state.serial, state.lineage):
                raise StateError(f"the copy in {destination.describe()} does not read back as the source's state")
            return state
        finally:
            destination.unlock()
    finally:
        source.unlock()


__all__ = ["migrate"]
