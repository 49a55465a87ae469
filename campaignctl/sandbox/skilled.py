"""``campaignctl sandbox submit`` with a skill (``--accuracy``, ``--truth``, ``--fast-share``): the
platform's simulation in the embedded sandbox, then its simulated workers' skill and speed
(``sandbox/<package>/skill.py``)."""
from __future__ import annotations

from typing import Any

from ..errors import CampaignctlError
from ..platforms import PLATFORMS
from .apis import api_of, skill_of
from .embedded import embedded_app
from .skill import Skill


def submit_skilled(reviewer: Any, count: int, seed: int, skill: Skill) -> int:
    """``sandbox submit`` with skill options, on the embedded sandbox (``endpoint: sandbox``):
    the platform's simulation, then its ``apply_skill``. Returns how many were submitted."""
    if not reviewer.provider.embedded:
        raise CampaignctlError(
            "--accuracy, --truth and --fast-share work with `endpoint: sandbox` only (the served sandbox "
            "simulates workers without a skill)"
        )
    sandbox = embedded_app(reviewer.provider.root).state.sandbox
    platform = PLATFORMS[reviewer.provider.type]
    try:
        made = api_of(platform).simulate_submissions(sandbox, reviewer.remote_id, count, seed)
    except (KeyError, ValueError) as exc:
        raise CampaignctlError(f"the sandbox refused: {exc.args[0] if exc.args else exc}") from None
    skill_of(platform).apply_skill(sandbox, made, skill)
    return len(made)
