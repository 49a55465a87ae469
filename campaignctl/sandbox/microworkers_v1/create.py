"""Microworkers v1 sandbox: ``/campaign_b/new_campaign`` and ``/campaign_hg/new_campaign``.

Validation messages and the money rule are listed (as guesses) in :mod:`campaignctl.sandbox.microworkers_v1.api`.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from starlette.responses import JSONResponse, Response

from ..core import Sandbox
from . import core
from . import data as D
from .core import Params, ok
from .settings import PlatformSettings

P = D.PLATFORM


# -- new_campaign ------------------------------------------------------------------------------
def countries_param(params: Params) -> list[str]:
    raw = params.scalar("selected_countries")
    parts = re.split(r"[\s,;]+", raw) if raw is not None else list(params.array("selected_countries").values())
    seen: list[str] = []
    for code in (p.strip().upper() for p in parts):
        if code and code not in seen:
            seen.append(code)
    return seen


def int_in(params: Params, name: str, lo: int, hi: int) -> int | None:
    value = core.to_int(params.scalar(name))
    return value if value is not None and lo <= value <= hi else None


async def new_campaign(sb: Sandbox, kind: str, _id: str, params: Params) -> Response:
    errors: list[str] = []
    extra: dict[str, Any] = {}
    doc: dict[str, Any] = {"type": kind}
    doc["title"] = (params.scalar("title") or "").strip()
    if not doc["title"]:
        errors.append("TITLE IS MANDATORY")
    zone: str | None = None
    if kind == "b":
        zone = params.scalar("zone")
        if zone not in D.ZONES:
            errors.append("INCORRECT ZONE")
            zone = None
        countries = countries_param(params) if zone == "int" else []
        if any(code not in D.COUNTRY_NAMES for code in countries):
            errors.append("INCORRECT SELECTED COUNTRIES")
        doc["zone"], doc["selected_countries"] = zone, countries
    else:
        group = params.scalar("group_id") or ""
        if group not in core.groups(sb):
            errors.append(D.UNKNOWN_GROUP)
        doc["group_id"] = group
    category = params.scalar("category") or ""
    if category not in D.CATEGORIES:
        errors.append("UNKNOWN CATEGORY")
    doc["category"] = category
    doc["minutes_to_finish"] = int_in(params, "minutes_to_finish", 1, D.MAX_MINUTES_TO_FINISH)
    if doc["minutes_to_finish"] is None:
        errors.append("INCORRECT MINUTES TO FINISH VALUE")
    lo = D.MIN_POSITIONS_BASIC if kind == "b" else 1
    doc["available_positions"] = int_in(params, "available_positions", lo, 10**7)
    if doc["available_positions"] is None:
        errors.append("INCORRECT AVAILABLE POSITIONS VALUE")
    if kind == "hg":
        doc["max_positions_per_worker"] = int_in(params, "max_positions_per_worker", 0, 10**7)
        if doc["max_positions_per_worker"] is None:
            errors.append("INCORRECT MAX POSITIONS PER WORKER VALUE")
    payment = core.to_float(params.scalar("payment_per_task"))
    if payment is None or payment <= 0:
        errors.append("INCORRECT PAYMENT PER TASK VALUE")
    elif category in D.CATEGORIES and (kind == "hg" or zone is not None):
        minimum = D.min_payment(category, zone)
        if payment < minimum - 1e-9:
            errors.append("PAYMENT PER TASK TOO LOW")
            extra["min_payment_per_task"] = f"{minimum:.2f}"
    doc["payment_per_task"] = payment
    if kind == "hg":
        doc["description_type"] = params.scalar("description_type")
        if doc["description_type"] not in D.DESCRIPTION_TYPES:
            errors.append("INCORRECT DESCRIPTION TYPE VALUE")
        elif doc["description_type"] == "UNIQUE":
            upload = params.files.get("csv")
            rows = list(csv.reader(io.StringIO(upload.content.decode("utf-8", "replace")))) if upload else []
            rows = [r for r in rows if any(cell.strip() for cell in r)]
            if len(rows) < 2:
                errors.append("CSV FILE IS MANDATORY FOR UNIQUE DESCRIPTION TYPE")
            doc["csv_rows"] = max(0, len(rows) - 1)
    if kind == "b":
        doc["speed"] = int_in(params, "speed", 1, D.MAX_SPEED)
        if doc["speed"] is None:
            errors.append(D.INCORRECT_SPEED)
    doc["required_work"] = (params.scalar("required_work") or "").strip()
    if not doc["required_work"]:
        errors.append("REQUIRED WORK IS MANDATORY")
    if kind == "b":
        doc["required_proof"] = (params.scalar("required_proof") or "").strip()
        if not doc["required_proof"]:
            errors.append("REQUIRED PROOF IS MANDATORY")
    else:
        proofs = [p.strip() for p in params.array("required_proof").values() if p.strip()]
        if not proofs:
            errors.append("REQUIRED PROOF IS MANDATORY")
        elif len(proofs) > D.MAX_REQUIRED_PROOFS_HG:
            errors.append("TOO MANY REQUIRED PROOFS")
        doc["required_proof"] = proofs
    doc["ttr"] = int_in(params, "ttr", 1, D.MAX_TTR)
    if doc["ttr"] is None:
        errors.append("INCORRECT TTR VALUE")
    doc["auto_rate"] = params.scalar("auto_rate")
    if doc["auto_rate"] not in D.AUTO_RATES:
        errors.append("INCORRECT AUTO RATE VALUE")
    file_proof = params.scalar("file_proof")
    if file_proof not in D.FILE_PROOFS:
        errors.append("INCORRECT FILE PROOF VALUE")
    doc["file_proof"] = int(file_proof) if file_proof in D.FILE_PROOFS else None
    qt = params.scalar("qt_required")
    if qt is not None and qt not in ("0", "1"):
        errors.append("INCORRECT QT REQUIRED VALUE")
    doc["qt_required"] = qt != "0"
    upload = params.files.get("file")
    doc["file"] = upload.filename if upload else ""
    err_key = "error" if kind == "b" else "errors"
    if errors:
        return JSONResponse({"status": "ERROR", err_key: errors, **extra})
    with sb.store.transaction():
        cost = core.positions_cost(payment or 0.0, doc["available_positions"])
        if core.balance(sb) < cost:
            return JSONResponse({"status": "ERROR", err_key: [D.NOT_ENOUGH_FUNDS]})
        core.set_balance(sb, core.balance(sb) - cost)
        row = sb.store.next_id(P, "campaign")
        t = core.now(sb)
        doc.update(
            campaign_id=core.new_campaign_id(sb, row),
            status="PENDING_REVIEW",
            folder="DEFAULT",
            created=t,
            review_until=t + sb.settings.of(PlatformSettings).review_seconds,
            approved=None,
            restarted=None,
            finished=None,
            blocked=None,
            blocked_reason="",
            positions_done=0,
            cost=cost,
        )
        core.refresh(sb, doc)
        sb.store.insert(P, "campaign", doc, id=row)
    return ok(campaign_id=doc["campaign_id"])
