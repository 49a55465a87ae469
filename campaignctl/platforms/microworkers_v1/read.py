"""Microworkers API v1: reading replies, the account's catalogs, and live campaigns normalised to
the shape of the ``Campaign`` spec. Used by :mod:`campaignctl.platforms.microworkers_v1.provider`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from ...http import error_json

#: v1 status -> the desired ``state`` it stands for
STATE_OF_STATUS = {
    "RUNNING": "running",
    "PENDING_REVIEW": "running",  # a new campaign runs once Microworkers approved it
    "PENDING_RESTART": "running",
    "PAUSED": "paused",
    "FINISHED": "stopped",
}
#: statuses only Microworkers sets or lifts; they forbid every change but toggle_qt_required
ADMIN_STATUSES = {
    "BLOCKED": "blocked by Microworkers",
    "PAUSED_ADMIN": "paused by Microworkers staff",
    "PAUSED_SYSTEM": "paused by the Microworkers system",
}
PENDING_STATUSES = {
    "PENDING_REVIEW": "waiting for Microworkers' review",
    "PENDING_RESTART": "waiting for Microworkers' review of its restart",
}
#: errors that mean "nothing to list" / "already so", not a failure
NO_CAMPAIGNS = "NO CAMPAIGNS"
NOTHING_ADDED = "No workers were added to exclude list"
NOTHING_REMOVED = "workers were not found in exclude list"

PREFIX = {"basic": "/campaign_b", "hire-group": "/campaign_hg"}
LIST = {"basic": "/campaigns_b/list_extend", "hire-group": "/campaigns_hg/list_extend"}


def error_text(body: dict[str, Any]) -> str:
    """The platform's error text: every message of ``error``, ``errors`` and ``errors_list``, plus
    the details some errors carry (``campaign_status``, ``min_payment_per_task``)."""
    head: list[str] = []
    for key in ("error", "errors"):
        value = body.get(key)
        if isinstance(value, list):
            head += [str(v) for v in value]
        elif value not in (None, ""):
            head.append(str(value))
    detail = body.get("errors_list")
    details = [str(v) for v in detail] if isinstance(detail, list) else ([str(detail)] if detail else [])
    text = "; ".join(head) or "ERROR"
    if details:
        text += ": " + "; ".join(details)
    extras = [f"{k} {body[k]}" for k in ("campaign_status", "min_payment_per_task") if body.get(k) not in (None, "")]
    if extras:
        text += f" ({', '.join(extras)})"
    return text


def v1_error(response: httpx.Response) -> tuple[str | None, str]:
    """ErrorParser for v1 replies: the error is in the JSON body, whatever the HTTP status."""
    body, text = error_json(response)
    if text is not None:
        return None, text
    if not isinstance(body, dict):
        return None, f"unexpected reply {str(body)[:120]}"
    if body.get("status") == "SUCCESS":  # only reached for a 4xx/5xx that still claims success
        return None, f"HTTP {response.status_code} with status SUCCESS"
    if body.get("status") != "ERROR":
        return None, f"a reply without status SUCCESS or ERROR: {str(body)[:120]}"
    return None, error_text(body)


@dataclass
class Catalog:
    """What the account offers (read at plan time): zones, categories per campaign type, hire groups."""

    zones: dict[str, tuple[str, list[str]]] | None = None  # zone id -> (name, country codes)
    categories: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # type -> id -> record
    groups: dict[str, str] | None = None  # group id -> name
    unreadable: list[str] = field(default_factory=list)  # "could not read <list>: unexpected shape"

    def zone_problems(self, zone: str, countries: list[str]) -> list[str]:
        if self.zones is None:
            return []
        if zone not in self.zones:
            valid = ", ".join(f"{z} ({name})" for z, (name, _) in sorted(self.zones.items()))
            return [f"unknown zone {zone!r}: zones_list offers {valid}"]
        allowed = self.zones[zone][1]
        bad = [c for c in countries if c not in allowed]
        if bad:
            return [f"selected_countries {', '.join(bad)} are not in zone {zone} (zones_list: {', '.join(sorted(allowed))})"]
        return []

    def category_problems(self, type_: str, category: str, payment: float, zone: str | None) -> list[str]:
        known = self.categories.get(type_)
        if known is None:
            return []
        if category not in known:
            valid = ", ".join(f"{cid} ({rec.get('category_name', '')})" for cid, rec in sorted(known.items()))
            return [f"unknown category {category!r} for {type_} campaigns: categories_list offers {valid}"]
        rec = known[category]
        minimum = (rec.get("min_payment_per_zone") or {}).get(zone) if zone else None
        minimum = minimum if minimum is not None else rec.get("min_payment_per_task")
        try:
            low = minimum is not None and payment < float(minimum) - 1e-9
        except (TypeError, ValueError):
            low = False
        if low:
            where = f" in zone {zone}" if zone else ""
            name = rec.get("category_name", "")
            return [f"payment_per_task {payment:g} is below the minimum {minimum} USD for category {category} ({name}){where}"]
        return []

    def group_problems(self, group_id: str) -> list[str]:
        if self.groups is None or group_id in self.groups:
            return []
        valid = ", ".join(f"{gid} ({name})" for gid, name in sorted(self.groups.items())) or "none"
        return [f"unknown hire group {group_id!r}: groups_list of this account has {valid}"]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _money(value: Any) -> float:
    try:
        return round(float(str(value).strip()), 5)
    except (TypeError, ValueError):
        return 0.0


def countries(value: Any) -> list[str]:
    """``"US IN"`` / ``"US,IN"`` / ``["US", "IN"]`` -> sorted unique codes."""
    parts = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    return sorted({str(p).strip().upper() for p in parts if str(p).strip()})


def proofs(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(p).strip() for p in items if str(p or "").strip()]


def campaign_attrs(rec: dict[str, Any], type_: str, group_address: str | None) -> dict[str, Any]:
    """A list_extend / get_info record -> the shape of the provider's desired Campaign."""
    attrs: dict[str, Any] = {"type": type_, "title": str(rec.get("title", "")).strip()}
    if type_ == "basic":
        attrs["zone"] = rec.get("zone")
        attrs["selected_countries"] = countries(rec.get("selected_countries"))
    else:
        attrs["group"] = group_address
    attrs.update(
        category=str(rec.get("category", "")),
        available_positions=_int(rec.get("available_positions")),
        payment_per_task=_money(rec.get("payment_per_task")),
    )
    if type_ == "basic":
        attrs["speed"] = _int(rec.get("speed"))
    else:
        attrs["max_positions_per_worker"] = _int(rec.get("max_positions_per_worker"))
    proof = rec.get("required_proof")
    attrs.update(
        minutes_to_finish=_int(rec.get("minutes_to_finish")),
        ttr=_int(rec.get("ttr")),
        required_work=str(rec.get("required_work", "")).strip(),
        required_proof=proofs(proof) if type_ == "hire-group" else str(proof or "").strip(),
        auto_rate=rec.get("auto_rate"),
        file_proof=_int(rec.get("file_proof")),
        qt_required=str(rec.get("qt_required", "1")).strip() not in ("0", "false", "False", ""),
        state=STATE_OF_STATUS.get(str(rec.get("campaign_status")), str(rec.get("campaign_status", "")).lower()),
    )
    return attrs


def positions_left(rec: dict[str, Any]) -> int:
    return _int(rec.get("available_positions")) - _int(rec.get("positions_done"))


def pick_by_title(candidates: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str | None]:
    """The campaign to adopt among live campaigns with the wanted title, or a reason for none.

    One not FINISHED -> it; several not FINISHED -> none (ambiguous); all FINISHED -> the newest."""
    if not candidates:
        return None, None
    active = [c for c in candidates if c.get("campaign_status") != "FINISHED"]
    if len(active) == 1:
        return active[0], None
    if len(active) > 1:
        ids = ", ".join(str(c.get("campaign_id")) for c in active)
        return None, (
            f"{len(active)} live campaigns carry this exact title ({ids}) and there is no state entry to tell "
            "which one is this resource; campaignctl adopts none of them. Stop or rename the extra ones, "
            "or give this campaign a distinct title"
        )
    newest = max(candidates, key=lambda c: (str(c.get("created_datetime", "")), str(c.get("campaign_id"))))
    return newest, None
