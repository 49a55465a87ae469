"""Shared machinery of the Microworkers v1 sandbox: PHP-style form parsing, JSON replies, campaign
and task documents in the store, lazy status transitions, money, and the test/simulation helpers."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..core import Sandbox
from . import data as D

P = D.PLATFORM

#: the sandbox clock (seconds since the epoch); tests may replace it
clock: Callable[[], float] = time.time

ZERO_DT = "0000-00-00 00:00:00"


def now(sandbox: Sandbox) -> float:
    """Sandbox time: the clock plus how far :func:`simulate_submissions` fast-forwarded it."""
    return float(int(clock() + float(sandbox.store.kv_get(P, "clock_offset", 0.0))))  # whole seconds


# -- request parsing ---------------------------------------------------------------------------
@dataclass
class Upload:
    filename: str
    content: bytes


@dataclass
class Params:
    """Request parameters with PHP semantics: ``a[]=x`` appends, ``a[k]=x`` sets key ``k``."""

    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def add(self, key: str, value: str) -> None:
        if "[" in key and key.endswith("]"):
            name, _, rest = key.partition("[")
            sub = rest[:-1]
            arr = self.values.get(name)
            if not isinstance(arr, dict):
                arr = {}
                self.values[name] = arr
            if sub == "":
                ints = [int(k) for k in arr if k.lstrip("-").isdigit()]
                sub = str(max(ints) + 1 if ints else 0)
            arr[sub] = value
        else:
            self.values[key] = value

    def has(self, name: str) -> bool:
        return name in self.values

    def scalar(self, name: str) -> str | None:
        """A plain value; ``None`` when missing or sent as an array."""
        value = self.values.get(name)
        return value if isinstance(value, str) else None

    def array(self, name: str) -> dict[str, str]:
        """An array (ordered key -> value); a plain value counts as a one-element array."""
        value = self.values.get(name)
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            return {"0": value}
        return {}


async def parse_params(request: Request) -> Params:
    params = Params()
    for key, value in request.query_params.multi_items():
        params.add(key, value)
    if request.method == "GET":
        return params
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
        )
        if msg.is_multipart():
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                filename = part.get_filename()
                if filename is not None:
                    params.files[name] = Upload(filename, data)
                else:
                    params.add(name, data.decode("utf-8", "replace"))
    elif body:
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            params.add(key, value)
    return params


# -- replies -----------------------------------------------------------------------------------
def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"status": "SUCCESS", **fields})


def fail(error: Any, http_status: int = 200, **fields: Any) -> JSONResponse:
    """ERROR reply; ``fields`` go before ``error`` unless passed via ``after``."""
    after = fields.pop("after", {})
    return JSONResponse({"status": "ERROR", **fields, "error": error, **after}, status_code=http_status)


def no_such_campaign(campaign_id: str, **fields: Any) -> JSONResponse:
    return fail(D.NO_SUCH_CAMPAIGN, 404, campaign_id=campaign_id, **fields)


# -- formatting --------------------------------------------------------------------------------
def fmt_dt(ts: float | None) -> str:
    if not ts:
        return ZERO_DT
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_dt(text: str) -> float | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def money(value: float) -> str:
    return f"{value:.5f}"


def to_int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text or not (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return None
    return int(text)


def to_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def echo_number(text: str) -> Any:
    """A number as the client sent it (int when integral text), else the text itself."""
    i = to_int(text)
    if i is not None:
        return i
    f = to_float(text)
    return f if f is not None else text


# -- money -------------------------------------------------------------------------------------
def balance(sandbox: Sandbox) -> float:
    return float(sandbox.store.kv_get(P, "balance", sandbox.settings.balance))


def set_balance(sandbox: Sandbox, value: float) -> None:
    sandbox.store.kv_set(P, "balance", round(value, 5))


def positions_cost(payment: float, positions: int) -> float:
    return round(payment * positions * (1 + D.FEE_RATE), 5)


# -- campaigns ---------------------------------------------------------------------------------
def _hex_id(sandbox: Sandbox, row: int, salt: int = 0) -> str:
    key = f"campaignctl-mw-v1-{sandbox.settings.seed}".encode()
    return hmac.new(key, f"{row}:{salt}".encode(), hashlib.sha256).hexdigest()[:12]


def new_campaign_id(sandbox: Sandbox, row: int) -> str:
    salt = 0
    while True:
        cid = _hex_id(sandbox, row, salt)
        if not sandbox.store.list(P, "campaign", where={"campaign_id": cid}, limit=1):
            return cid
        salt += 1


def refresh(sandbox: Sandbox, c: dict[str, Any]) -> bool:
    """Apply the transitions that happen by themselves; True when ``c`` changed."""
    changed = False
    t = now(sandbox)
    if c["status"] in ("PENDING_REVIEW", "PENDING_RESTART") and t >= c["review_until"]:
        if c["status"] == "PENDING_REVIEW":
            c["approved"] = c["review_until"]
        c["status"] = "RUNNING"
        changed = True
    if c["status"] == "RUNNING" and c["positions_done"] >= c["available_positions"]:
        c["status"] = "FINISHED"
        c["finished"] = max(t, c.get("last_submission") or 0)
        changed = True
    return changed


def find_campaign(sandbox: Sandbox, kind: str, campaign_id: str) -> dict[str, Any] | None:
    """The campaign ``campaign_id`` of type ``kind`` ("b" or "hg"), transitions applied."""
    if not campaign_id:
        return None
    found = sandbox.store.list(P, "campaign", where={"campaign_id": campaign_id}, limit=1)
    if not found or found[0]["type"] != kind:
        return None
    c = found[0]
    if refresh(sandbox, c):
        sandbox.store.put(P, "campaign", c["id"], c)
    return c


def save(sandbox: Sandbox, c: dict[str, Any]) -> None:
    sandbox.store.put(P, "campaign", c["id"], c)


def campaign_record(c: dict[str, Any]) -> dict[str, Any]:
    """The get_info / list_extend fields of a campaign (values as strings, like the legacy API)."""
    rec: dict[str, Any] = {
        "campaign_id": c["campaign_id"],
        "title": c["title"],
        "campaign_status": c["status"],
        "folder": c["folder"],
    }
    if c["type"] == "b":
        rec["zone"] = c["zone"]
        rec["selected_countries"] = " ".join(c["selected_countries"])
    else:
        rec["group_id"] = c["group_id"]
    rec.update(
        {
            "category": c["category"],
            "category_name": D.CATEGORIES[c["category"]][0],
            "minutes_to_finish": str(c["minutes_to_finish"]),
            "available_positions": str(c["available_positions"]),
            "positions_done": str(c["positions_done"]),
            "payment_per_task": money(c["payment_per_task"]),
        }
    )
    if c["type"] == "b":
        rec["speed"] = str(c["speed"])
    else:
        rec["max_positions_per_worker"] = str(c["max_positions_per_worker"])
        rec["description_type"] = c["description_type"]
    rec.update(
        {
            "ttr": str(c["ttr"]),
            "auto_rate": c["auto_rate"],
            "file_proof": str(c["file_proof"]),
            "qt_required": "1" if c["qt_required"] else "0",
            "required_work": c["required_work"],
            "required_proof": c["required_proof"],
            "file": c.get("file") or "",
            "created_datetime": fmt_dt(c["created"]),
            "approved_datetime": fmt_dt(c.get("approved")),
            "restarted_datetime": fmt_dt(c.get("restarted")),
            "finished_datetime": fmt_dt(c.get("finished")),
            "blocked_datetime": fmt_dt(c.get("blocked")),
            "blocked_reason": c.get("blocked_reason", ""),
        }
    )
    if c["type"] == "hg" and c["description_type"] == "UNIQUE":
        rec["csv_rows"] = str(c.get("csv_rows", 0))
    return rec


# -- tasks -------------------------------------------------------------------------------------
def task_record(t: dict[str, Any], extend: bool = True) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "task_id": str(t["id"]),
        "campaign_id": t["campaign_id"],
        "worker_id": t["worker_id"],
        "started_datetime": fmt_dt(t["started"]),
        "finished_datetime": fmt_dt(t["finished"]),
        "rating": t["rating"],
    }
    if extend:
        rec.update(
            {
                "rated_datetime": fmt_dt(t.get("rated")),
                "proof": t["proof"],
                "proofs": list(t["proofs"]),
                "file_proof": {"file_proof_details": list(t.get("files", []))},
                "employer_comment": t.get("comment", ""),
                "payment_worker_earned": money(t["payment"] if t["rating"] == "OK" else 0.0),
                "bonus_worker_earned": money(t.get("bonus", 0.0)),
                "csv_record_nr": str(t.get("csv_record_nr", 0)),
            }
        )
    return rec


def campaign_tasks(sandbox: Sandbox, c: dict[str, Any]) -> list[dict[str, Any]]:
    return sandbox.store.list(P, "task", where={"campaign_row": c["id"]})


# -- exclude list, groups ----------------------------------------------------------------------
def excluded(sandbox: Sandbox) -> list[str]:
    return list(sandbox.store.kv_get(P, "exclude_list", []))


def groups(sandbox: Sandbox) -> dict[str, list[Any]]:
    stored = sandbox.store.kv_get(P, "groups")
    if stored is None:
        return {gid: [name, n] for gid, (name, n) in D.DEFAULT_GROUPS.items()}
    return dict(stored)


def worker_profile(worker_id: str) -> dict[str, str]:
    digest = hashlib.sha256(worker_id.encode()).digest()
    countries = sorted(D.COUNTRY_NAMES)
    return {
        "User ID": worker_id,
        "Username": f"Member_{digest.hex()[:5]}",
        "Country": D.COUNTRY_NAMES[countries[digest[0] % len(countries)]],
    }


# -- helpers for tests and `campaignctl sandbox` -----------------------------------------------
def campaign_any(sandbox: Sandbox, campaign_id: str) -> dict[str, Any]:
    found = sandbox.store.list(P, "campaign", where={"campaign_id": campaign_id}, limit=1)
    if not found:
        raise KeyError(f"no v1 campaign {campaign_id!r}")
    c = found[0]
    refresh(sandbox, c)
    return c


def set_status(sandbox: Sandbox, campaign_id: str, status: str, reason: str = "") -> None:
    """Admin/system action: force a campaign's status (e.g. PAUSED_ADMIN, BLOCKED; a forced PENDING_* stays)."""
    if status not in D.STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with sandbox.store.transaction():
        c = campaign_any(sandbox, campaign_id)
        c["status"] = status
        if status == "BLOCKED":
            c["blocked"] = now(sandbox)
            c["blocked_reason"] = reason or "Blocked by the sandbox"
        if status == "FINISHED":
            c["finished"] = now(sandbox)
        if status in ("PENDING_REVIEW", "PENDING_RESTART"):  # held in review until set otherwise
            c["review_until"] = now(sandbox) + 10 * 365 * 86400
        save(sandbox, c)


def archive_campaign(sandbox: Sandbox, campaign_id: str, archived: bool = True) -> None:
    """Move a campaign to the ARCHIVE folder (or back to DEFAULT)."""
    with sandbox.store.transaction():
        c = campaign_any(sandbox, campaign_id)
        c["folder"] = "ARCHIVE" if archived else "DEFAULT"
        save(sandbox, c)


def add_group(sandbox: Sandbox, group_id: str, name: str, workers: int = 10) -> None:
    with sandbox.store.transaction():
        g = groups(sandbox)
        g[group_id] = [name, workers]
        sandbox.store.kv_set(P, "groups", g)


def fail_next(sandbox: Sandbox, endpoint: str, times: int = 1) -> None:
    """Make the next ``times`` calls of ``endpoint`` (e.g. "rate_tasks") reply SYSTEM ERROR."""
    faults = dict(sandbox.store.kv_get(P, "faults", {}))
    faults[endpoint] = faults.get(endpoint, 0) + times
    sandbox.store.kv_set(P, "faults", faults)


def take_fault(sandbox: Sandbox, endpoint: str) -> bool:
    faults = dict(sandbox.store.kv_get(P, "faults", {}))
    if faults.get(endpoint, 0) <= 0:
        return False
    faults[endpoint] -= 1
    sandbox.store.kv_set(P, "faults", faults)
    return True
