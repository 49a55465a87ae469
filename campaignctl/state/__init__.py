"""State: which remote object each address is. ``open_state`` picks the backend."""
from __future__ import annotations

from .base import State, StateBackend
from .local import LocalBackend

__all__ = ["LocalBackend", "State", "StateBackend"]
