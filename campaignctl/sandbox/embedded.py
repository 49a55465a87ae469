"""The in-process sandbox behind ``endpoint: sandbox``: one app per database file, per process."""
from __future__ import annotations

import threading
from pathlib import Path

from starlette.applications import Starlette

from .app import Settings, create_app
from .store import Store

_apps: dict[str, Starlette] = {}
_lock = threading.Lock()

#: the credential the embedded sandbox accepts; not a secret (nothing real is behind it)
EMBEDDED_KEY = Settings().api_key


def sandbox_db_path(config_root: Path) -> Path:
    return config_root / ".campaignctl" / "sandbox.db"


def embedded_app(config_root: Path) -> Starlette:
    path = str(sandbox_db_path(config_root).resolve())
    with _lock:
        app = _apps.get(path)
        if app is None:
            app = _apps[path] = create_app(Store(path), Settings())
        return app
