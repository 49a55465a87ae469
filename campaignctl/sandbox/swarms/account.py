"""SWARMS sandbox: money (balance, frozen budgets, commission) and the account (token, ``/me``)."""
from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..store import Store

if TYPE_CHECKING:
    from ..core import Settings
from .common import (
    COMMISSION_RATE,
    TOKEN_LIFETIME,
    USER_ID,
    ApiError,
    P,
    invalid,
    money,
    now,
    timestamp,
)
from .context import Ctx, stored_tokens
from .validation import type_name

# --------------------------------------------------------------------------------------------
# money
# --------------------------------------------------------------------------------------------


def get_balance(store: Store, settings: Settings) -> dict[str, Decimal]:
    raw = store.kv_get(P, "balance")
    if raw is None:
        return {"available": Decimal(str(settings.balance)), "frozen": Decimal(0)}
    return {"available": Decimal(raw["available"]), "frozen": Decimal(raw["frozen"])}


def set_balance(store: Store, balance: dict[str, Decimal]) -> None:
    store.kv_set(P, "balance", {k: str(v) for k, v in balance.items()})


def unit_cost(campaign: dict[str, Any]) -> Decimal:
    """What one approved result costs: the worker payment plus commission."""
    return Decimal(str(campaign.get("workerPayment") or 0)) * (1 + COMMISSION_RATE)


def campaign_budget(campaign: dict[str, Any], job_count: int) -> Decimal:
    return unit_cost(campaign) * int(campaign.get("results") or 0) * job_count


def refreeze(ctx: Ctx, campaign: dict[str, Any], target: Decimal) -> None:
    """Move money so that the campaign has ``target`` frozen (409 3003 when available is short)."""
    target = max(Decimal(0), target)
    current = Decimal(campaign.get("_frozen", "0"))
    delta = target - current
    balance = get_balance(ctx.store, ctx.settings)
    if delta > balance["available"]:
        raise ApiError(
            409, 3003, "insufficient balance",
            f"campaign {campaign['id']} needs {money(delta)} more frozen but only "
            f"{money(balance['available'])} is available",
        )
    balance["available"] -= delta
    balance["frozen"] += delta
    set_balance(ctx.store, balance)
    campaign["_frozen"] = str(target)


def release_frozen(ctx: Ctx, campaign: dict[str, Any], amount: Decimal | None = None) -> None:
    """Unfreeze ``amount`` (default: all) of the campaign's frozen money."""
    current = Decimal(campaign.get("_frozen", "0"))
    refreeze(ctx, campaign, current - (current if amount is None else min(amount, current)))


# --------------------------------------------------------------------------------------------
# auth and profile
# --------------------------------------------------------------------------------------------

PROFILE_EDITABLE = ("firstName", "lastName", "phone", "organization", "website")
PROFILE_READ_ONLY = ("id", "customerId", "balance", "email", "logo", "commissionRate", "charity")


def profile(ctx: Ctx) -> dict[str, Any]:
    stored = ctx.store.kv_get(P, "profile", {})
    balance = get_balance(ctx.store, ctx.settings)
    return {
        "firstName": stored.get("firstName", "Sandbox"),
        "lastName": stored.get("lastName", "Requester"),
        "phone": stored.get("phone", "+10000000000"),
        "organization": stored.get("organization", "campaignctl sandbox"),
        "website": stored.get("website", "www.example.org"),
        "id": USER_ID,
        "customerId": "SANDBOX1",
        "balance": {"available": money(balance["available"]), "frozen": money(balance["frozen"])},
        "email": ctx.settings.email,
        "logo": "https://logo.sandbox.swarms.test/logo.png",
        "commissionRate": float(COMMISSION_RATE),
        "charity": False,
    }


async def token_request(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    errors = [f"{f}: required string" for f in ("email", "password") if not isinstance(body.get(f), str)]
    if errors:
        raise invalid(errors)
    if body["email"] != ctx.settings.email or not secrets.compare_digest(
        str(body["password"]), ctx.settings.api_key
    ):
        raise ApiError(401, 1000, "invalid credentials", "The given credentials did not match any user in our database")
    token = secrets.token_urlsafe(32)
    expires = timestamp(now() + TOKEN_LIFETIME)
    with ctx.store.transaction():
        tokens = {k: v for k, v in stored_tokens(ctx.store).items() if v > timestamp()}
        tokens[token] = expires
        ctx.store.kv_set(P, "tokens", tokens)
    return {"accessToken": token, "expiresAt": expires, "userId": USER_ID}


async def token_discard(ctx: Ctx) -> Any:
    token = ctx.request.headers.get("x-auth-token", "")
    with ctx.store.transaction():
        tokens = stored_tokens(ctx.store)
        if tokens.pop(token, None) is not None:
            ctx.store.kv_set(P, "tokens", tokens)
    return {}


async def get_me(ctx: Ctx) -> Any:
    return profile(ctx)


async def put_me(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    errors: list[str] = []
    for key, value in body.items():
        if key in PROFILE_READ_ONLY or key == "_links":
            continue
        if key not in PROFILE_EDITABLE:
            errors.append(f"{key}: unknown field (editable: {', '.join(PROFILE_EDITABLE)})")
        elif value is not None and not isinstance(value, str):
            errors.append(f"{key}: must be a string (got {type_name(value)})")
    if errors:
        raise invalid(errors)
    with ctx.store.transaction():
        stored = ctx.store.kv_get(P, "profile", {})
        stored.update({k: (v or "") for k, v in body.items() if k in PROFILE_EDITABLE})
        ctx.store.kv_set(P, "profile", stored)
    return profile(ctx)
