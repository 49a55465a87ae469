"""Microworkers reference lists (v2 ``/basic-categories`` and ``/basic-campaigns/configuration``; v1
``zones_list``, ``categories_list``, ``groups_list``), read liberally.

The docs fix none of their shapes, so each parser accepts the plausible ones: the list as the body
itself or under its usual key (or ``items`` / ``data``), v2 categories nested (``subCategories``) or
flat, v1 records keyed ``zone_id``/``zone_name`` or ``zone``/``id``/``name`` (and alike for
categories and groups), countries as ``[{code}]``, ``["US"]`` or ``"US IN"``. A list that parses to
nothing gives None: the caller then checks nothing against it and says ``could not read <list>:
unexpected shape`` (:func:`unreadable`) instead of rejecting the config.
"""
from __future__ import annotations

from typing import Any


def unreadable(name: str) -> str:
    return f"could not read {name}: unexpected shape; the config is not checked against it"


def _items(body: Any, *keys: str) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in (*keys, "items", "data"):
            value = body.get(key)
            if isinstance(value, list):
                body = value
                break
            if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()) and value:
                body = [{"id": k, **v} for k, v in value.items()]  # keyed by id
                break
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


def _first(item: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return value
    return None


def _money(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def country_codes(value: Any) -> list[str]:
    """``[{code: "US"}]``, ``["US"]`` or ``"US IN"`` / ``"US,IN"`` -> ``["US", "IN"]``."""
    if isinstance(value, str):
        return [p for p in value.replace(",", " ").split() if p]
    out = []
    for c in value if isinstance(value, list) else []:
        code = _first(c, "code", "country_code", "id") if isinstance(c, dict) else c
        if code not in (None, ""):
            out.append(str(code))
    return out


# -- API v2 -------------------------------------------------------------------------------------
def v2_categories(body: Any) -> dict[str, float] | None:
    """Sub-category id -> minimum payment (0 when not said), or None when nothing parses."""
    out: dict[str, float] = {}
    for cat in _items(body, "categories"):
        subs = cat.get("subCategories") if isinstance(cat.get("subCategories"), list) else None
        for sub in _items(subs) if subs is not None else [cat]:
            ident = _first(sub, "id", "categoryId", "subCategoryId")
            if ident is not None:
                out[str(ident)] = _money(_first(sub, "minimumPayment", "minPayment", "minimumPaymentPerTask")) or 0.0
    return out or None


def v2_zones(body: Any) -> dict[str, list[str]] | None:
    """Zone id -> country codes, or None when nothing parses."""
    out: dict[str, list[str]] = {}
    for zone in _items(body, "zones"):
        ident = _first(zone, "id", "zoneId", "zone")
        if ident is not None:
            out[str(ident)] = country_codes(zone.get("countries"))
    return out or None


# -- API v1 -------------------------------------------------------------------------------------
def v1_zones(body: Any) -> dict[str, tuple[str, list[str]]] | None:
    """Zone id -> (name, country codes), or None when nothing parses."""
    out: dict[str, tuple[str, list[str]]] = {}
    for zone in _items(body, "zones"):
        ident = _first(zone, "zone_id", "zone", "id")
        if ident is not None:
            name = _first(zone, "zone_name", "name", "title") or ""
            out[str(ident)] = (str(name), country_codes(zone.get("countries")))
    return out or None


def v1_categories(body: Any) -> dict[str, dict[str, Any]] | None:
    """Category id -> record with ``category_name``, ``min_payment_per_task`` and
    ``min_payment_per_zone`` (as the provider reads them), or None when nothing parses."""
    out: dict[str, dict[str, Any]] = {}
    for cat in _items(body, "categories"):
        ident = _first(cat, "category_id", "category", "id")
        if ident is None:
            continue
        record = dict(cat)
        record["category_name"] = str(_first(cat, "category_name", "name", "title") or "")
        record["min_payment_per_task"] = _first(cat, "min_payment_per_task", "min_payment", "minimum_payment")
        per_zone = cat.get("min_payment_per_zone")
        record["min_payment_per_zone"] = per_zone if isinstance(per_zone, dict) else {}
        out[str(ident)] = record
    return out or None


def v1_groups(body: Any) -> dict[str, str] | None:
    """Group id -> name, or None when nothing parses (an account without groups: an empty list
    under ``groups`` is an answer, {} )."""
    if isinstance(body, dict) and isinstance(body.get("groups"), list) and not body["groups"]:
        return {}
    out: dict[str, str] = {}
    for group in _items(body, "groups"):
        ident = _first(group, "group_id", "id", "group")
        if ident is not None:
            out[str(ident)] = str(_first(group, "group_name", "name", "title") or "")
    return out or None
