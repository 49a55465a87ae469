"""State of the Microworkers API v2 sandbox: ids, paging, money, campaigns and their lifecycle.

Kinds stored under platform ``microworkers``: ``campaign`` (basic and hire-group, one id space),
``template``, ``taskrow`` (uploaded unique task rows), ``queuejob`` and ``slot``. Store rows have
integer ids; the API shows them through :class:`IdCodec` as Microworkers-looking strings.
A campaign's status is stored as a *state* and turned into the API status lazily, on read,
from the clock (review approval), so there are no background threads.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from . import data
from .guesses import V2_CAMPAIGN_GUESSED_FIELDS
from .rules import (
    PATCHABLE,
    ApiError,
    Checker,
    check_settings,
    limit,
    not_found,
    validation_failed,
)

if TYPE_CHECKING:
    from ..core import Sandbox

P = data.PLATFORM
BASIC, HIRE_GROUP = "basic", "hireGroup"
SLOT_COUNTERS = {
    "LOCKED": "locked", "OK": "ok", "NOK": "nok", "NOTRATED": "notRated", "NOTREVIEWED": "notReviewed",
    "REVISE": "revise", "REVISE_ADMIN": "reviseAdmin",
}
JOB_TYPES = ("csvUploadJob", "restartCampaignJob", "addPositionJob")
T = TypeVar("T")


def now() -> float:
    """The sandbox clock (tests may monkeypatch it)."""
    return time.time()


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class IdCodec:
    """A bijection between store row ids and fixed-width hex strings (an odd multiplier mod 2**bits)."""

    def __init__(self, prefix: str, bits: int, mult: int, offset: int) -> None:
        self.prefix, self.bits, self.mod = prefix, bits, 1 << bits
        self.mult, self.offset, self.inv = mult, offset, pow(mult, -1, 1 << bits)
        self.width = bits // 4

    def encode(self, n: int) -> str:
        return self.prefix + format((n * self.mult + self.offset) % self.mod, f"0{self.width}x")

    def decode(self, s: str) -> int | None:
        body = s[len(self.prefix):] if s.startswith(self.prefix) else None
        if body is None or len(body) != self.width:
            return None
        try:
            n = ((int(body, 16) - self.offset) * self.inv) % self.mod
        except ValueError:
            return None
        return n if 0 < n < 1 << 40 and self.encode(n) == s else None


CAMPAIGN_IDS = IdCodec("", 48, 0x9E3779B97F4B, 0xE7162DD17B83)
TEMPLATE_IDS = IdCodec("T", 52, 0x5851F42D4C95B, 0x685131442C9F8)
SLOT_IDS = IdCodec("", 48, 0xD1B54A32D193, 0x3C6EF372FE95)
JOB_IDS = IdCodec("", 64, 0x9E3779B97F4A7C15, 0x243F6A8885A308D3)


def digest(*parts: Any) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


# -- paging ------------------------------------------------------------------------------------
def page_size(params: dict[str, str], default: int = 10) -> int:
    raw = params.get("pageSize")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    lo, hi = limit("pageSize", "min"), limit("pageSize", "max")
    if not lo <= size <= hi:
        raise validation_failed([("pageSize", f"Must be an integer between {lo} and {hi}.")])
    return size


def _token(token: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        if not isinstance(state, dict) or not isinstance(state.get("c"), str) or not isinstance(state.get("k"), list):
            raise TypeError("not a page token")
        return state
    except (ValueError, TypeError, binascii.Error):
        raise validation_failed([("nextPageToken", "Invalid or expired page token.")]) from None


def token_context(token: str | None) -> list[str] | None:
    """The ``|``-separated query context a page token was issued for (its values win over the query's)."""
    return str(_token(token)["c"]).split("|") if token else None


def paginate(
    items: list[T], key: Callable[[T], list[Any]], *, size: int, token: str | None, context: str,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """Keyset paging; the opaque token carries the query context and the last key served."""
    ordered = sorted(items, key=key, reverse=descending)
    if token:
        state = _token(token)
        if state["c"] != context:
            raise validation_failed([("nextPageToken", "The page token belongs to another query.")])
        last = state["k"]
        try:
            ordered = [x for x in ordered if (key(x) < last if descending else key(x) > last)]
        except TypeError:
            raise validation_failed([("nextPageToken", "Invalid or expired page token.")]) from None
    chunk = ordered[: size + 1]
    if len(chunk) <= size:
        return chunk, None
    state = {"c": context, "k": key(chunk[size - 1])}
    next_token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return chunk[:size], next_token


# -- money -------------------------------------------------------------------------------------
FEE = Decimal(data.FEE_RATE)
CENTS4 = Decimal("0.0001")


def cost(payment: str | Decimal, positions: int) -> Decimal:
    return (Decimal(payment) * positions * (1 + FEE)).quantize(CENTS4, ROUND_HALF_UP)


def balance(sb: Sandbox) -> Decimal:
    return Decimal(str(sb.store.kv_get(P, "balance", str(sb.settings.balance))))


def charge(sb: Sandbox, amount: Decimal) -> None:
    available = balance(sb)
    if amount > available:
        raise ApiError(400, "NotEnoughMoneyToStartCampaign", f"The cost {amount} USD (fee {FEE * 100}% included) exceeds the account balance "
                                  f"{available} USD.", cost=float(amount), balance=float(available))
    sb.store.kv_set(P, "balance", str(available - amount))


def refund(sb: Sandbox, amount: Decimal) -> None:
    sb.store.kv_set(P, "balance", str(balance(sb) + amount))


def account(sb: Sandbox) -> dict[str, Any]:
    return {"id": "a5f3c2d1e9b7", "email": sb.settings.email, "username": "sandbox-requester",
            "balance": float(balance(sb)), "currency": "USD"}


# -- task rows and queue jobs (storage; the job logic lives in jobs.py) ------------------------
def gen_row_ids(rows: list[dict[str, Any]], salt: str, taken: set[str]) -> None:
    """Give rows without ``id`` a system-generated alpha-numeric one (deterministic per salt)."""
    used = taken | {r["id"] for r in rows if r["id"]}
    for i, row in enumerate(rows):
        n = 0
        while row["id"] is None:
            candidate = digest("row", salt, i, n)[:12]
            n += 1
            if candidate not in used:
                row["id"] = candidate
                used.add(candidate)


def existing_row_ids(sb: Sandbox, cid: int) -> set[str]:
    return {r["rowId"] for r in sb.store.list(P, "taskrow", where={"campaign": cid})}


def insert_rows(sb: Sandbox, doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sb.store.insert(P, "taskrow", {"campaign": doc["id"], "rowId": row["id"], "data": row["data"],
                                       "testCases": row["testCases"]})
    doc["tasksCount"] += len(rows)


def new_job(
    sb: Sandbox, doc: dict[str, Any], kind: str, rows: list[dict[str, Any]], errors: list[dict[str, Any]],
    positions: int, charged: Decimal, *, status: str = "Pending", output: str = "",
) -> dict[str, Any]:
    """Store a queue job and make it the campaign's current job of its kind (the caller saves doc)."""
    job = sb.store.insert(P, "queuejob", {
        "campaign": doc["id"], "type": kind, "status": status, "polls": 0, "rows": rows, "errors": errors,
        "positions": positions, "charged": str(charged), "output": output, "created": now(),
    })
    doc["jobQueues"][kind] = job["id"]
    return job


# -- campaigns: reading, status, rendering ------------------------------------------------------
def load_campaign(sb: Sandbox, ident: str, kind: str) -> dict[str, Any]:
    n = CAMPAIGN_IDS.decode(ident)
    doc = sb.store.get(P, "campaign", n) if n else None
    if doc is None or doc["kind"] != kind:
        raise not_found("Campaign", ident)
    return doc


def save(sb: Sandbox, doc: dict[str, Any]) -> dict[str, Any]:
    return sb.store.put(P, "campaign", doc["id"], doc)


def status_of(doc: dict[str, Any], t: float | None = None) -> str:
    if doc["state"] == "REVIEW":
        return "RUNNING" if (now() if t is None else t) >= doc["reviewUntil"] else "PENDING_REVIEW"
    return str(doc["state"])


def refresh(doc: dict[str, Any]) -> dict[str, Any]:
    """Materialise a lazily computed approval before a mutation (the caller saves)."""
    if doc["state"] == "REVIEW" and status_of(doc) == "RUNNING":
        doc["state"], doc["approvedTs"] = "RUNNING", doc["reviewUntil"]
    return doc


def untaken(doc: dict[str, Any]) -> int:
    return int(doc["availablePositions"]) - int(doc["positionsUsed"])


def _geo(zone: dict[str, Any]) -> dict[str, Any]:
    if zone["id"] == "int":
        codes = [c for c in data.zone_countries("int") if c not in zone["excludedCountries"]]
    else:
        codes = zone["countries"]
    return {"id": zone["id"], "countries": [data.country(c) for c in codes], "name": data.zone_name(zone["id"])}


def _job_info(sb: Sandbox, job_id: int | None) -> dict[str, Any] | None:
    job = sb.store.get(P, "queuejob", job_id) if job_id else None
    if job is None:
        return None
    info = {"status": job["status"], "output": job["output"]}
    if not sb.settings.docs_only:
        info = {"id": JOB_IDS.encode(job["id"]), **info}  # guess v2.campaign.jobQueues.id
    return info


def render_campaign(sb: Sandbox, doc: dict[str, Any]) -> dict[str, Any]:
    t = now()
    status = status_of(doc, t)
    approved = doc["approvedTs"] or (doc["reviewUntil"] if doc["state"] == "REVIEW" and status == "RUNNING" else None)
    out: dict[str, Any] = {
        "id": CAMPAIGN_IDS.encode(doc["id"]),
        "title": doc["title"],
        "description": doc["description"],
        "categoryId": doc["categoryId"],
        "status": status,
        "geoZone": _geo(doc["zone"]) if doc["zone"] else None,
        "speed": doc["speed"],
        "autoSkipTask": doc["autoSkipTask"],
        "ttr": doc["ttr"],
        "availablePositions": doc["availablePositions"],
        "blockedReason": None,
        "created": iso(doc["createdTs"]),
        "blocked": None,
        "approved": iso(approved),
        "finished": iso(doc["finishedTs"]),
        "htmlCode": doc["htmlCode"],
        "minutesToFinish": doc["minutesToFinish"],
        "paymentPerTask": float(doc["paymentPerTask"]),
        "variables": doc["variables"],
        "questions": doc["questions"],
        "jobQueues": {k: _job_info(sb, doc["jobQueues"][k]) for k in JOB_TYPES},
        "qtRequired": doc["qtRequired"],
        "internalTemplate": doc["internalTemplate"],
        "externalTemplate": doc["externalTemplate"],
        "maximumJobLimit": doc["maximumJobLimit"],
        "slotsCount": {"locked": doc["slotCounts"]["locked"], "unTaken": untaken(doc),
                       **{k: v for k, v in doc["slotCounts"].items() if k != "locked"}},
        "notificationSettings": doc["notificationSettings"],
        "visibilityDelay": doc["visibilityDelay"],
        "estimateCost": float(cost(doc["paymentPerTask"], doc["availablePositions"])),
        "jsSection": doc["jsSection"],
        "cssSection": doc["cssSection"],
        # accepted on create/PATCH but not in the documented response: echoed (guesses v2.campaign.*,
        # campaignctl.sandbox.microworkers.guesses; left out in docs-only mode)
        "autoRateOkTask": doc["autoRateOkTask"],
        "autoRateNokTask": doc["autoRateNokTask"],
        "autoRefillPositions": doc["autoRefillPositions"],
        "successRate": doc["successRate"],
        "timeToWaitAfterSlotExpiration": doc["timeToWaitAfterSlotExpiration"],
        "folder": doc["folder"],
        "uniqueTasks": doc["uniqueTasks"],
        "tasksCount": doc["tasksCount"],
    }
    if doc["kind"] == HIRE_GROUP:
        out.update({k: doc[k] for k in ("groupId", "maxPositionPerWorker", "numberOfWorkerOnSamePosition",
                                        "taskOrder")})
    if sb.settings.docs_only:
        for key in V2_CAMPAIGN_GUESSED_FIELDS:
            out.pop(key, None)
    return out


def list_campaigns(sb: Sandbox, kind: str, params: dict[str, str]) -> dict[str, Any]:
    size = page_size(params)
    sort = params.get("sort", "id")
    folder = params.get("filter[folder]", "DEFAULT")
    issued = token_context(params.get("nextPageToken"))
    if issued and len(issued) == 3 and issued[0] == kind:
        sort, folder = issued[1], issued[2]
    c = Checker()
    c.choice(sort, "sort", ["id", "title", "created", "-created"])
    c.choice(folder, "filter[folder]", ["DEFAULT", "ARCHIVE"])
    c.done()
    keys: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
        "id": lambda d: [d["id"]],
        "title": lambda d: [d["title"].casefold(), d["id"]],
        "created": lambda d: [d["createdTs"], d["id"]],
        "-created": lambda d: [d["createdTs"], d["id"]],
    }
    docs = sb.store.list(P, "campaign", where={"kind": kind, "folder": folder})
    items, token = paginate(docs, keys[sort], size=size, token=params.get("nextPageToken"),
                            context=f"{kind}|{sort}|{folder}", descending=sort == "-created")
    return {"items": [render_campaign(sb, d) for d in items], "nextPageToken": token}


# -- campaigns: changes ------------------------------------------------------------------------
def patch_campaign(sb: Sandbox, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError
    allowed = PATCHABLE | ({"groupId"} if doc["kind"] == HIRE_GROUP else set())
    for key in b:
        if key not in allowed:
            c.add(key, "This field cannot be changed (not in the PATCH field list).")
    values = check_settings(c, b, fill_defaults=False)
    if "groupId" in b:
        group = str(b["groupId"]) if isinstance(b["groupId"], (str, int)) else None
        if group not in data.HIRE_GROUPS:
            c.add("groupId", "Unknown hire group (see GET /hire-groups).")
        values["groupId"] = group
    c.done()
    refresh(doc)
    if "groupId" in b and status_of(doc) not in ("RUNNING", "PAUSED"):
        raise ApiError(400, "CampaignIsNotRunning", "The group of a campaign can only be changed while it is "
                                                    "running or paused.")
    doc.update(values)
    return save(sb, doc)


def _transition(doc: dict[str, Any], allowed: tuple[str, ...], to: str, code: str, detail: str) -> None:
    refresh(doc)
    status = status_of(doc)
    if status not in allowed:
        raise ApiError(400, code, f"{detail} (status {status}).")
    doc["state"] = to


def pause(sb: Sandbox, doc: dict[str, Any]) -> None:
    _transition(doc, ("RUNNING",), "PAUSED", "CampaignIsNotRunning", "Only a running campaign can be paused")
    save(sb, doc)


def resume(sb: Sandbox, doc: dict[str, Any]) -> None:
    _transition(doc, ("PAUSED",), "RUNNING", "CampaignIsNotPaused", "Only a paused campaign can be resumed")
    save(sb, doc)


def stop(sb: Sandbox, doc: dict[str, Any]) -> None:
    _transition(doc, ("RUNNING", "PAUSED"), "FINISHED", "CampaignCantBeStopped",
                "Only a running or paused campaign can be stopped")
    doc["finishedTs"] = now()
    save(sb, doc)


def archive(sb: Sandbox, doc: dict[str, Any], folder: str) -> None:
    if folder == "ARCHIVE":
        if status_of(doc) != "FINISHED":
            raise ApiError(400, "CampaignIsNotFinished", "Only a finished campaign can be archived.")
        if doc["slotCounts"]["notRated"] or doc["slotCounts"]["notReviewed"]:
            raise ApiError(400, "CampaignWithNotRatedTasks", "Rate every submitted task before archiving.")
    doc["folder"] = folder
    save(sb, doc)
