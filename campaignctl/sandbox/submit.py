"""``campaignctl sandbox submit`` with a skill (``--accuracy``, ``--truth``, ``--fast-share``): on the
embedded sandbox (``endpoint: sandbox``) in-process, on a served one (``campaignctl sandbox serve``,
a loopback endpoint) through its admin route ``POST /_sandbox/submit`` (:mod:`.skilled`).

The admin routes want the sandbox's key: the key its platform APIs accept, which is the provider's
own credential for a served sandbox (its token, API key or password), sent as ``X-Sandbox-Key``
to the endpoint's loopback origin only, never through a proxy, and never shown."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import CampaignctlError
from .admin import KEY_HEADER, loopback_host
from .embedded import embedded_app
from .skill import Skill
from .skilled import submit_skilled

#: the provider credentials, in order, that are the sandbox's key (the others, an email, are not)
KEY_CREDENTIALS = ("token", "apiKey", "password")


def submit_with_skill(reviewer: Any, count: int, seed: int, skill: Skill, timeout: float = 120.0) -> int:
    """Let ``count`` simulated workers of ``skill`` submit to the reviewer's campaign; how many did."""
    provider = reviewer.provider
    if provider.embedded:
        sandbox = embedded_app(provider.root).state.sandbox
        try:
            return submit_skilled(sandbox, provider.type, str(reviewer.remote_id), count, seed, skill)
        except ValueError as exc:
            raise CampaignctlError(f"the sandbox refused: {exc}") from None
    endpoint = urlsplit(str(provider.spec.get("endpoint")))
    if endpoint.scheme != "http" or not loopback_host(endpoint.netloc):
        raise CampaignctlError(f"{provider.name}: simulated workers with a skill exist only in a sandbox on loopback")
    origin = f"http://{endpoint.netloc}"
    credentials = provider.credentials()
    key = next((credentials[k] for k in KEY_CREDENTIALS if credentials.get(k)), "")
    body = {"platform": provider.type, "campaign": reviewer.remote_id, "count": count, "seed": seed, "skill": skill.to_json()}
    try:
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            answer = client.post(f"{origin}/_sandbox/submit", json=body, headers={KEY_HEADER: key})
    except httpx.HTTPError as exc:
        raise CampaignctlError(f"cannot reach the sandbox at {origin}: {exc.__class__.__name__}") from None
    try:
        got = answer.json()
    except ValueError:
        got = None
    got = got if isinstance(got, dict) else {}
    if answer.status_code == 200 and isinstance(got.get("submitted"), int):
        return int(got["submitted"])
    if answer.status_code == 404:
        raise CampaignctlError(f"{origin} offers no admin route /_sandbox/submit (a `campaignctl sandbox serve` of this version has it)")
    if answer.status_code == 401:
        raise CampaignctlError(f"the sandbox at {origin} refused provider {provider.name!r}'s credential as its key")
    error = got.get("error")
    why = error if isinstance(error, str) else f"HTTP {answer.status_code}"
    if key:
        why = why.replace(key, "***")  # whatever answers on that port, the key is not shown
    raise CampaignctlError(f"the sandbox refused: {why}")
