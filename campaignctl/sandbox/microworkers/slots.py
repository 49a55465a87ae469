"""Submitted work in the Microworkers API v2 sandbox: slots, rating, and the submission simulator.

A *slot* is one position taken by one worker. :func:`simulate_submissions` is how work appears
(the sandbox has no workers): it takes untaken positions of a running campaign and fills them with
submitted slots, deterministically for a seed. ``PUT /slots/{id}/rate`` follows the v1 rate_tasks
rules: comment mandatory for NOK and REVISE, bonus within 0.1x..2x the payment per task and
covered by the balance.
"""
from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import data
from .model import (
    CAMPAIGN_IDS,
    CENTS4,
    FEE,
    HIRE_GROUP,
    SLOT_COUNTERS,
    SLOT_IDS,
    P,
    balance,
    charge,
    digest,
    iso,
    now,
    page_size,
    paginate,
    refresh,
    save,
    status_of,
    untaken,
)
from .rules import ApiError, Checker, not_found

if TYPE_CHECKING:
    from ..core import Sandbox

WORDS = ["amber", "bright", "canyon", "delta", "ember", "forest", "garden", "harbor", "island", "jasmine",
         "kettle", "lantern", "meadow", "nectar", "orchard", "pebble", "quiet", "river", "summit", "timber",
         "umbrella", "valley", "willow", "yellow", "zephyr", "good", "clear", "fast", "helpful", "simple"]


def render_slot(slot: dict[str, Any], docs_only: bool = False) -> dict[str, Any]:
    """A slot as the API answers it. ``taskIds`` (the task rows a slot worked on) is a guess: left
    out in docs-only mode (guess ``v2.slot.taskIds``)."""
    shown = {
        "id": SLOT_IDS.encode(slot["id"]), "campaignId": CAMPAIGN_IDS.encode(slot["campaign"]),
        "workerId": slot["workerId"], "status": slot["status"], "taskIds": slot["taskIds"],
        "answers": slot["answers"], "proof": slot["proof"], "locked": iso(slot["lockedTs"]),
        "submitted": iso(slot["submittedTs"]), "rated": iso(slot["ratedTs"]), "comment": slot["comment"],
        "bonus": slot["bonus"], "autoRated": slot["autoRated"],
    }
    if docs_only:
        del shown["taskIds"]
    return shown


def load_slot(sb: Sandbox, ident: str) -> dict[str, Any]:
    n = SLOT_IDS.decode(ident)
    slot = sb.store.get(P, "slot", n) if n else None
    if slot is None:
        raise not_found("Slot", ident)
    return slot


def list_slots(sb: Sandbox, doc: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    size = page_size(params)
    status = params.get("filter[status]", params.get("status"))
    where: dict[str, Any] = {"campaign": doc["id"]}
    if status is not None:
        c = Checker()
        c.choice(status, "filter[status]", list(SLOT_COUNTERS))
        c.done()
        where["status"] = status
    slots = sb.store.list(P, "slot", where=where)
    items, token = paginate(slots, lambda s: [s["id"]], size=size, token=params.get("nextPageToken"),
                            context=f"slots|{doc['id']}|{status}")
    return {"items": [render_slot(s, sb.settings.docs_only) for s in items], "nextPageToken": token}


def list_tasks(sb: Sandbox, doc: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    size = page_size(params)
    rows = sb.store.list(P, "taskrow", where={"campaign": doc["id"]})
    items, token = paginate(rows, lambda r: [r["id"]], size=size, token=params.get("nextPageToken"),
                            context=f"tasks|{doc['id']}")
    return {"items": [{"id": r["rowId"], "data": r["data"], "testCases": r["testCases"]} for r in items],
            "nextPageToken": token}


def _count(doc: dict[str, Any], status: str, delta: int) -> None:
    doc["slotCounts"][SLOT_COUNTERS[status]] += delta


def _set_status(doc: dict[str, Any], slot: dict[str, Any], status: str) -> None:
    _count(doc, slot["status"], -1)
    _count(doc, status, 1)
    slot["status"] = status
    if status == "NOK" and doc["autoRefillPositions"]:
        slot["refilled"] = True
        doc["positionsUsed"] -= 1
        if slot["group"] is not None:
            doc["refillGroups"].append(slot["group"])


def rate(sb: Sandbox, slot: dict[str, Any], body: Any) -> None:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError
    c.unknown(b, {"rating", "comment", "bonus"})
    rating = c.choice(b.get("rating"), "rating", ["OK", "NOK", "REVISE"])
    comment = b.get("comment")
    if rating in ("NOK", "REVISE"):
        if not (isinstance(comment, str) and comment.strip()):
            c.add("comment", "comment IS MANDATORY when rating NOK or REVISE.")
    elif comment is not None:
        c.string(comment, "comment", empty=True)
    doc = sb.store.get(P, "campaign", slot["campaign"])
    assert doc is not None
    bonus = None
    if b.get("bonus") is not None:
        bonus = c.money(b["bonus"], "bonus")
        payment = Decimal(doc["paymentPerTask"])
        if rating is not None and rating != "OK":
            c.add("bonus", "A bonus can only be given with rating OK.")
        elif bonus is not None and not payment * Decimal("0.1") <= bonus <= payment * 2:
            c.add("bonus", f"Bonus you entered is outside allowed values ({payment * Decimal('0.1')} .. "
                           f"{payment * 2} USD).")
    if slot["status"] != "NOTRATED":
        c.add("rating", f"The slot is {slot['status']}, not waiting for a rating.")
    c.done()
    assert rating is not None
    if bonus is not None:
        amount = (bonus * (1 + FEE)).quantize(CENTS4)
        if amount > balance(sb):
            raise ApiError(400, "ValidationFailed", "Your account balance is too low to add bonus.",
                           [{"field": "bonus", "message": "Your account balance is too low to add bonus."}])
        charge(sb, amount)
    _set_status(doc, slot, rating)
    slot.update(ratedTs=now(), comment=comment or "", bonus=float(bonus) if bonus is not None else None)
    sb.store.put(P, "slot", slot["id"], slot)
    save(sb, doc)


def _answer(rng: random.Random, q: dict[str, Any], seq: int) -> list[str]:
    kind, options = q.get("type", "text"), q.get("options") or []
    if kind in ("radio", "select"):
        return [rng.choice(options or ["yes", "no"])]
    if kind == "checkbox":
        opts = options or ["yes"]
        picked = set(rng.sample(opts, rng.randint(1, len(opts))))
        return [o for o in opts if o in picked]
    if kind == "number":
        return [str(rng.randint(0, 100))]
    if kind == "email":
        return [f"worker{seq}@example.org"]
    if kind == "url":
        return [f"https://example.org/{rng.choice(WORDS)}"]
    if kind == "textarea":
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 12))]
        return [" ".join(words).capitalize() + "."]
    return [" ".join(rng.sample(WORDS, rng.randint(1, 3)))]


def _worker(doc: dict[str, Any], seed: int, seq: int) -> str:
    if doc["kind"] == HIRE_GROUP:
        pool = data.HIRE_GROUPS[doc["groupId"]][1]
        return digest("member", doc["groupId"], (seq + seed) % pool)[:12]
    return digest("worker", seed, doc["id"], seq)[:12]


def simulate_submissions(sandbox: Sandbox, campaign_id: str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Add up to ``count`` submitted slots to a RUNNING campaign; returns them as ``GET /slots/{id}`` shows them.

    Deterministic for a seed (worker ids, task rows, answers, proofs, ratings; timestamps are
    anchored at the wall clock and never go back before the campaign's last submission). Stops at the campaign's untaken positions; when none remain the
    campaign becomes FINISHED. Rows with test cases are answered correctly 4 times in 5 and then
    auto-rated OK / NOK when ``autoRateOkTask`` / ``autoRateNokTask`` are set.
    """
    sb = sandbox
    with sb.store.transaction():
        n = CAMPAIGN_IDS.decode(campaign_id)
        doc = sb.store.get(P, "campaign", n) if n else None
        if doc is None:
            raise KeyError(f"no campaign {campaign_id!r}")
        refresh(doc)
        if status_of(doc) != "RUNNING":
            raise ValueError(f"campaign {campaign_id} is {status_of(doc)}, not RUNNING")
        k = max(0, min(count, untaken(doc)))
        rows = sb.store.list(P, "taskrow", where={"campaign": doc["id"]}) if doc["uniqueTasks"] else []
        sub, same = doc["subTasks"], doc["workersPerPosition"]
        groups = [rows[i:i + sub] for i in range(0, len(rows), sub)]
        rng = random.Random(digest("simulate", seed, doc["id"], doc["slotSeq"]))
        questions = doc["questions"] or [
            {"id": None, "name": p, "type": "text"} for p in (doc["externalTemplate"] or {}).get("parameters", [])]
        t = now()
        out: list[dict[str, Any]] = []
        for i in range(k):
            seq = doc["slotSeq"]
            doc["slotSeq"] += 1
            group: int | None = None
            if doc["uniqueTasks"]:
                if doc["refillGroups"]:
                    group = doc["refillGroups"].pop(0)
                else:
                    group = doc["nextGroup"] // same
                    doc["nextGroup"] += 1
            task_rows: list[dict[str, Any] | None] = (
                list(groups[group]) if group is not None and group < len(groups) else [])
            answers: list[dict[str, Any]] = []
            results: list[bool] = []
            for row in task_rows or [None]:
                cases = {tc["questionId"]: tc["answers"] for tc in row["testCases"]} if row else {}
                for q in questions:
                    if q["id"] in cases:
                        ok = rng.random() < 0.8
                        results.append(ok)
                        expected = cases[q["id"]][0]
                        values = [expected] if ok else [next(w for w in rng.sample(WORDS, 2) if w != expected)]
                    else:
                        values = _answer(rng, q, seq)
                    answers.append({"taskId": row["rowId"] if row else None, "questionId": q["id"],
                                    "name": q["name"], "answers": values})
            # spread over the last minutes, but never before work already submitted (time moves on)
            submitted = max(t - (k - i) * rng.randint(5, 90), doc.get("lastSubmittedTs", 0))
            doc["lastSubmittedTs"] = submitted
            worker = _worker(doc, seed, seq)
            slot: dict[str, Any] = {
                "campaign": doc["id"], "workerId": worker, "status": "NOTRATED", "group": group,
                "taskIds": [r["rowId"] for r in task_rows if r], "answers": answers,
                "proof": f"Completed as instructed. Worker {worker}, reference MW-{digest('proof', seed, seq)[:6].upper()}.",
                "lockedTs": submitted - rng.randint(30, max(31, int(doc["minutesToFinish"]) * 60)),
                "submittedTs": submitted, "ratedTs": None, "comment": "", "bonus": None, "refilled": False,
                "autoRated": False,
            }
            doc["positionsUsed"] += 1
            _count(doc, "NOTRATED", 1)
            if results and all(results) and doc["autoRateOkTask"]:
                _set_status(doc, slot, "OK")
                slot.update(autoRated=True, ratedTs=submitted)
            elif results and not all(results) and doc["autoRateNokTask"]:
                _set_status(doc, slot, "NOK")
                slot.update(autoRated=True, ratedTs=submitted,
                            comment="Automatically rated: the answers do not match the test cases.")
            out.append(render_slot(sb.store.insert(P, "slot", slot)))
        if untaken(doc) == 0 and doc["slotCounts"]["locked"] == 0:
            doc["state"], doc["finishedTs"] = "FINISHED", t
        save(sb, doc)
    return out


def submit_route(sb: Sandbox) -> Route:
    """Sandbox admin for ``campaignctl sandbox submit`` on a served sandbox: ``POST /_sandbox/submit
    {campaign, count, seed}`` -> ``{"submitted": n}`` (runs :func:`simulate_submissions`)."""

    async def submit(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        c = Checker()
        if (b := c.obj(body, "body")) is not None:
            c.string(b.get("campaign"), "campaign")
            for key in ("count", "seed"):
                value = b.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    c.add(key, "Must be an integer >= 0.")
        c.done()
        assert b is not None
        try:
            made = simulate_submissions(sb, b["campaign"], b.get("count", 0), b.get("seed", 0))
        except KeyError:
            raise not_found("Campaign", b["campaign"]) from None
        except ValueError as exc:
            raise ApiError(400, "CampaignIsNotRunning", str(exc)) from None
        return JSONResponse({"submitted": len(made)})

    return Route("/_sandbox/submit", submit, methods=["POST"])
