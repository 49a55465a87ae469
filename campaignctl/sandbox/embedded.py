"""The in-process sandbox behind ``endpoint: sandbox``: one app per database file, per process.

Fault injection: when the environment variable ``CAMPAIGNCTL_SANDBOX_FAULTS`` holds a fault spec
(the string of ``campaignctl sandbox serve --faults``, e.g.
``CAMPAIGNCTL_SANDBOX_FAULTS="5xx=0.1,reset-after=0.05,seed=7,platforms=swarms"``; see
:mod:`campaignctl.sandbox.faults`), the embedded sandbox injects those faults, so an end-to-end run
against ``endpoint: sandbox`` can meet errors, dropped connections and timeouts. The variable is
read each time a provider opens its client; a changed value replaces the spec (and restarts its
seeded sequence), an empty or unset one turns faults off. A spec that does not parse is an error
of the run.

``CAMPAIGNCTL_SANDBOX_DOCS_ONLY=1`` makes the embedded sandbox serve only what the platforms' docs
document (:attr:`Settings.docs_only`), read when the app of a database file is first made.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from starlette.applications import Starlette

from ..errors import CampaignctlError
from ..origin import SANDBOX_KEY
from .app import create_app
from .core import Settings
from .faults import ENV_VAR, FaultSpecError, parse_faults
from .store import Store

_apps: dict[str, Starlette] = {}
_faults_env: dict[str, str] = {}  # db path -> the CAMPAIGNCTL_SANDBOX_FAULTS value in force
_lock = threading.Lock()
DOCS_ONLY_ENV = "CAMPAIGNCTL_SANDBOX_DOCS_ONLY"

#: the credential the embedded sandbox accepts; not a secret (nothing real is behind it)
EMBEDDED_KEY = SANDBOX_KEY


def sandbox_db_path(config_root: Path) -> Path:
    return config_root / ".campaignctl" / "sandbox.db"


def embedded_app(config_root: Path) -> Starlette:
    path = str(sandbox_db_path(config_root).resolve())
    text = os.environ.get(ENV_VAR, "")
    with _lock:
        app = _apps.get(path)
        if app is None:
            docs_only = os.environ.get(DOCS_ONLY_ENV, "").strip().lower() in ("1", "true", "yes")
            app = _apps[path] = create_app(Store(path), Settings(docs_only=docs_only))
            _faults_env[path] = ""
        if _faults_env[path] != text:
            try:
                spec = parse_faults(text)
            except FaultSpecError as exc:
                raise CampaignctlError(f"{ENV_VAR}: {exc}") from None
            app.state.sandbox.set_faults(spec)
            _faults_env[path] = text
        return app
