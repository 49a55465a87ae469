"""Simulated workers with a skill (``campaignctl sandbox submit --accuracy/--truth/--fast-share``) in
the sandbox: the platform's simulation, then its simulated workers' skill and speed
(``sandbox/<package>/skill.py``).

Reached in-process on the embedded sandbox, and on a served one through the admin route
``POST /_sandbox/submit`` (the sandbox's key and a loopback Host, as every admin route:
:mod:`.admin`) with a JSON body ``{"platform": TYPE, "campaign": ID, "count": N, "seed": S,
"skill": {"accuracy": A, "fast_share": F, "truth": [[task, field, answer], ...]}}``, answered
``{"submitted": n}``; 400 ``{"error": ...}`` for a body that is off or a campaign the platform's
simulation refuses (:mod:`.submit` is the client)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypeGuard

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..platforms import PLATFORMS
from .apis import api_of, skill_of
from .skill import Skill

if TYPE_CHECKING:
    from .core import Sandbox

MAX_COUNT = 100_000  #: as ``sandbox submit --count``


def submit_skilled(sandbox: Sandbox, platform_type: str, campaign: str, count: int, seed: int, skill: Skill) -> int:
    """The platform's simulation, then its ``apply_skill``; how many were submitted. ValueError
    (its message) when the platform's simulation refuses."""
    platform = PLATFORMS[platform_type]
    try:
        made = api_of(platform).simulate_submissions(sandbox, campaign, count, seed)
    except (KeyError, ValueError) as exc:
        raise ValueError(str(exc.args[0]) if exc.args else str(exc)) from None
    skill_of(platform).apply_skill(sandbox, made, skill)
    return len(made)


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


async def submit_route(sandbox: Sandbox, request: Request) -> JSONResponse:
    """``POST /_sandbox/submit`` (behind :func:`.admin.guarded`)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    platform, campaign, count, seed = body.get("platform"), body.get("campaign"), body.get("count"), body.get("seed", 0)
    if platform not in PLATFORMS:
        return JSONResponse({"error": f"platform: one of {', '.join(sorted(PLATFORMS))} expected"}, status_code=400)
    if not isinstance(campaign, str | int) or isinstance(campaign, bool) or str(campaign) == "":
        return JSONResponse({"error": "campaign: the campaign's id expected"}, status_code=400)
    if not _whole(count) or not 0 <= count <= MAX_COUNT or not _whole(seed):
        return JSONResponse({"error": f"count: a whole number from 0 to {MAX_COUNT}, seed: a whole number expected"}, status_code=400)
    try:
        skill = Skill.from_json(body.get("skill", {}), seed)
        made = submit_skilled(sandbox, platform, str(campaign), count, seed, skill)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"submitted": made})
