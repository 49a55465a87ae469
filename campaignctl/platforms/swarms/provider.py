"""SWARMS API 1.0: tasks, jobs (ordered task lists) and campaigns (job lists + lifecycle).

Live state is read with paged list calls (``_links.next`` followed, never built) and one relation
read per managed job/campaign; the resource address is stored in ``properties.campaignctl`` so an
object is found again without state. What changes how:

=========  ===============================  ===================================================
kind       field                            change
=========  ===============================  ===================================================
Task       name, components, properties     ``PUT /tasks/{id}`` (refused if the task is readOnly)
Job        name, description, properties    ``PUT /jobs/{id}``
Job        tasks                            ``PUT /jobs/{id}/tasks`` (refused if the job is readOnly)
Campaign   jobs                             ``PUT /campaigns/{id}/jobs`` while unpublished
Campaign   state                            publish / pause / continue / cancel
Campaign   other fields                     ``PUT`` while unpublished; once published the campaign
                                            is readOnly: replacement (new campaign, cancel the old)
=========  ===============================  ===================================================

A relation is part of its object: a job or campaign that reads ``readOnly: true`` ("whether the
resource can be modified", the docs) has its task / job list planned like its fields -- a
replacement for a published campaign, an error in the plan for a job -- before any write.

Removing a resource archives it (a published campaign is cancelled first), so results stay.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import httpx

from ...address import kind_of
from ...config.load import resolve_component
from ...config.model import Config, Document, address_of
from ...errors import ApiError, Diagnostic
from ...http import ErrorParser, error_json
from ...paging import PageGuard
from ...plan.model import Operation, ref
from ...providers.base import (
    Embedded,
    ExecResult,
    Impossible,
    Live,
    NeedsReplace,
    Provider,
    ReadInputs,
    Resource,
)
from ...providers.fields import IMMUTABLE, REPLACE, Policy, by
from ...providers.schedule import check_schedule, schedule_of, to_utc
from .kinds import KINDS

log = logging.getLogger(__name__)

MARKER = "campaignctl"
COLLECTION = {"Task": "tasks", "Job": "jobs", "Campaign": "campaigns"}
CAMPAIGN_FIELDS = (
    "name", "title", "description", "terms", "estDuration", "workerPayment", "results", "maxResultsPerWorker",
    "workerGroup", "maxWorkTime", "maxUploadTime", "maxReviewTime", "training", "startDate", "endDate",
)  # fmt: skip
#: lifecycle: (from, to) -> actions
TRANSITIONS: dict[tuple[str, str], list[str]] = {
    ("unpublished", "active"): ["publish"],
    ("unpublished", "paused"): ["publish", "pause"],
    ("active", "paused"): ["pause"],
    ("active", "cancelled"): ["cancel"],
    ("paused", "active"): ["continue"],
    ("paused", "cancelled"): ["cancel"],
}
RUNNING = ("active", "paused")
#: lifecycle action -> (the states it moves a campaign from, the state it leads to): the one-step transitions
LEADS_TO: dict[str, tuple[tuple[str, ...], str]] = {
    action: (tuple(start for (start, _), steps in TRANSITIONS.items() if steps == [action]), end)
    for (_, end), (action, *more) in TRANSITIONS.items() if not more
}
MAX_PAGE = 100  # the largest ``limit`` a list accepts
#: relation reads: kind -> (list path, key of the items)
RELATION = {"Job": ("/jobs/{id}/tasks", "tasks"), "Campaign": ("/campaigns/{id}/jobs", "jobs")}
RELATION_FIELD = {"Job": "tasks", "Campaign": "jobs"}
LIST_LANE, RELATION_LANE = 0, 1  # a waiting list page gets the next free slot before a relation read


class Lanes:
    """At most ``capacity`` calls in flight; of the calls waiting for a slot, the lowest lane goes
    first (then first come, first served)."""

    def __init__(self, capacity: int) -> None:
        self.free = max(1, capacity)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, lane: int) -> AsyncIterator[None]:
        if self.free > 0 and not self._waiting:
            self.free -= 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (lane, next(self._order), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # the slot was handed over just as the waiter was cancelled
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # hand the slot over
                return
        self.free += 1


async def _all(first: list[asyncio.Task[Any]], later: list[asyncio.Task[Any]]) -> None:
    """Wait for the tasks of ``first`` and then for those of ``later`` (which they may extend);
    on the first failure cancel every task and raise that failure."""
    try:
        await asyncio.gather(*first)
        await asyncio.gather(*later)
    except BaseException:
        for task in (*first, *later):
            task.cancel()
        await asyncio.gather(*first, *later, return_exceptions=True)
        raise


def swarms_error(response: httpx.Response) -> tuple[str | None, str]:
    body, text = error_json(response)
    if text is not None:
        return None, text
    if not isinstance(body, dict):
        return None, response.reason_phrase
    message = str(body.get("message") or response.reason_phrase)
    if body.get("description"):
        message += f": {body['description']}"
    code = body.get("code")
    return (str(code) if code is not None else None), message


def _blank(value: Any) -> Any:
    return None if value in ("", None) else value


def _component(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": item["type"],
        "properties": dict(item.get("properties") or {}),
        "sticky": bool(item.get("sticky", False)),
        "optionalResult": bool(item.get("optionalResult", False)),
        "landscape": bool(item.get("landscape", False)),
    }


def _props(properties: Any) -> dict[str, Any]:
    return {k: v for k, v in (properties or {}).items() if k != MARKER}


class SwarmsProvider(Provider):
    type = "swarms"
    ignore_names: ClassVar[dict[str, list[str]]] = {"schedule": ["startDate", "endDate"]}
    kinds = KINDS.kinds
    pay_fields = ("workerPayment", "estDuration")  # USD per result (a job done), estimated duration of a job
    references = KINDS.references
    component_lists = KINDS.component_lists
    schedule_fields = frozenset({"start", "end"})
    official_endpoint = "https://api.swarms.com"
    platform_name = "SWARMS"
    error_parser: ClassVar[ErrorParser] = swarms_error
    prefetchable = True
    read_attributes = ("commission",)
    #: SWARMS keeps a published campaign, and the jobs and tasks it holds, read-only (``readOnly``:
    #: "indicates whether the resource can be modified"), relations too: a published campaign is
    #: replaced, a job or task of one cannot change
    field_policy: ClassVar[Policy] = {
        "Campaign": {"*": by("PUT /campaigns/{id}", published=REPLACE), "jobs": by("set-jobs", published=REPLACE),
                     "state": by("lifecycle")},
        "Job": {"*": by("PUT /jobs/{id}", published=IMMUTABLE), "tasks": by("set-tasks", published=IMMUTABLE)},
        "Task": {"*": by("PUT /tasks/{id}", published=IMMUTABLE)},
    }  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_token: str | None = None
        self._gate = Lanes(self.parallelism)
        self.commission = 0.0

    # -- connection ------------------------------------------------------------------------
    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        self._credentials = credentials
        token = credentials.get("token")
        return {"X-Auth-Token": token} if token else {}

    def base_headers(self) -> dict[str, str]:
        return {**super().base_headers(), "X-API-Version": "1.0"}

    async def login(self) -> None:
        creds = self._credentials
        if "token" not in creds and "email" in creds:
            body = await self.client.json(
                "POST", "/auth/token/request", json={"email": creds["email"], "password": creds["password"]}
            )
            self._session_token = str(body["accessToken"])
            self.client.add_secret(self._session_token)
            self.client.set_header("X-Auth-Token", self._session_token)

    async def logout(self) -> None:
        if self._session_token:
            try:
                await self.client.request("POST", "/auth/token/discard")
            except ApiError as exc:  # the session token expires by itself: not worth failing the run for
                log.debug("discarding the session token failed: %s", exc)

    # -- offline ---------------------------------------------------------------------------
    @classmethod
    def check(cls, doc: Document, config: Config) -> list[Diagnostic]:
        diags = []
        if doc.kind == "Campaign":
            schedule = schedule_of(doc, config)
            if schedule is not None:
                diags += check_schedule(schedule, doc, cls.schedule_fields, "SWARMS")
            start, end = doc.spec.get("startDate"), doc.spec.get("endDate")
            if start and end and end <= start:
                diags.append(doc.mark("endDate").diag(f"spec.endDate: {end} is not after startDate {start}"))
        return diags

    def desired(self, doc: Document, config: Config) -> dict[str, Any]:
        spec = doc.spec
        if doc.kind == "Task":
            return {
                "name": spec.get("name", doc.name),
                # only a ``use:`` needs resolving (and its copies); _component copies a plain item itself
                "components": [_component(resolve_component(config, c) if "use" in c else c) for c in spec["components"]],
                "properties": _props(spec.get("properties")),
            }
        if doc.kind == "Job":
            return {
                "name": spec.get("name", doc.name),
                "description": _blank(spec.get("description")),
                "properties": _props(spec.get("properties")),
                "tasks": [address_of(self.name, "Task", t) for t in spec.get("tasks", [])],
            }
        out: dict[str, Any] = {f: _blank(spec.get(f)) for f in CAMPAIGN_FIELDS}
        out["name"] = spec.get("name", doc.name)
        out["training"] = bool(spec.get("training", False))
        schedule = schedule_of(doc, config)
        if schedule is not None:
            tz = schedule.spec.get("timeZone", "UTC")
            for key, target in (("start", "startDate"), ("end", "endDate")):
                if key in schedule.spec:
                    out[target] = to_utc(schedule.spec[key], tz)
        out["properties"] = _props(spec.get("properties"))
        out["jobs"] = [address_of(self.name, "Job", j) for j in spec.get("jobs", [])]
        out["state"] = spec.get("state", "unpublished")
        return out

    # -- reading ---------------------------------------------------------------------------
    async def open(self, parallelism: int | None = None, embedded: Embedded | None = None) -> None:
        self._gate = Lanes(parallelism or self.parallelism)  # the client's limit, shared out by lane
        await super().open(parallelism, embedded)

    async def _list(self, path: str, key: str, lane: int = LIST_LANE) -> list[dict[str, Any]]:
        """Every item of a paged list, page after page (the next cursor comes from ``_links.next``)."""
        items: list[dict[str, Any]] = []
        async for page in self._pages(path, key, lane):
            items += page
        return items

    async def _pages(self, path: str, key: str, lane: int = LIST_LANE) -> AsyncIterator[list[dict[str, Any]]]:
        url: str | None = path
        params: dict[str, Any] | None = {"limit": min(self.page_size, MAX_PAGE)}
        guard = PageGuard(path, redact=self.client.redact)  # a next link that comes back, endless pages
        while url:
            async with self._gate.slot(lane):
                body = await self.client.json("GET", url, params=params)
            items = body.get(key) or []
            if lane == LIST_LANE:  # a relation (a job's tasks) may hold an object many times: no stale-page rule
                guard.items(obj.get("id") for obj in items if isinstance(obj, dict))
            yield items
            href = ((body.get("_links") or {}).get("next") or {}).get("href")
            url = self.client.follow(href) if href is not None else None  # on the endpoint's origin only
            params = None  # the next link carries the query
            if url:
                guard.follow(url, f"the next link {url}")

    async def read(self, inputs: ReadInputs, only: set[str] | None = None) -> dict[str, Live]:
        """The three lists, page by page, and one relation read per managed job and campaign (the
        documented list items carry no task / job ids). A relation read starts as soon as the page
        naming its object arrives, and list pages go ahead of relation reads for a free slot: the
        lists are the longest chain of calls that must follow one another. With ``only``, its
        objects are read by id instead where that gives the same answer in fewer calls."""
        known, wanted, moved = inputs.known, inputs.wanted, inputs.moved
        if only is not None:
            targeted = await self._read_by_id(known, wanted, moved, only)
            if targeted is not None:
                return targeted
        # (kind, id) -> address, of the objects state knows: made when the first page is here, so
        # that a ``known`` computed on demand (the prefetch's, from a state parsed meanwhile) is
        # not needed before the first requests go out
        index: list[dict[tuple[str | None, Any], str]] = []
        # kind -> address -> its claims, each normalised as its page arrives, between the answers
        claims: dict[str, dict[str, list[tuple[dict[str, Any], Live]]]] = {kind: {} for kind in self.kinds}
        final: dict[str, dict[str, Live]] = {}  # kind -> address -> live, once the kind's list is read
        relations: dict[tuple[str, Any], asyncio.Task[list[dict[str, Any]]]] = {}
        spawned: list[asyncio.Task[Any]] = []

        def resolve(of_kind: dict[str, list[tuple[dict[str, Any], Live]]]) -> dict[str, Live]:
            found: dict[str, Live] = {}
            for address, objs in of_kind.items():
                # the object state knows wins; without state, the oldest; the rest are left-overs
                objs.sort(key=lambda pair: (pair[0].get("id") != known.get(address), pair[0].get("id")))
                live = found[address] = objs[0][1]
                live.deposed = [o["id"] for o, _ in objs[1:]]
            return found

        async def scan(kind: str) -> None:
            coll = COLLECTION[kind]
            mine = claims[kind]
            async for page in self._pages(f"/{coll}", coll):
                if not index:
                    index.append({(address_kind(a), v): a for a, v in known.items()})
                by_id = index[0]
                for obj in page:
                    if obj.get("archived"):
                        continue
                    address = by_id.get((kind, obj.get("id")))
                    marker = (obj.get("properties") or {}).get(MARKER)
                    renamed = None
                    if address is None and address_kind(marker) == kind:
                        if marker in wanted or marker in known:
                            address = marker
                        else:
                            address = renamed = self._renamed(marker, wanted, known, moved)
                    if address is None:
                        continue
                    live = self._normalise(kind, address, obj)
                    if renamed is not None:
                        live.found_by = f"by the address it had before its movedFrom ({marker})"
                    mine.setdefault(address, []).append((obj, live))
                    if kind in RELATION and (kind, obj["id"]) not in relations:
                        path, key = RELATION[kind]
                        task = asyncio.ensure_future(self._list(path.format(id=obj["id"]), key, RELATION_LANE))
                        relations[(kind, obj["id"])] = task
                        spawned.append(task)
            if kind not in RELATION:  # its objects are final: no relation read is to come
                final[kind] = resolve(mine)
                if inputs.finals is not None:
                    inputs.finals.put(final[kind])

        await _all([asyncio.ensure_future(scan(kind)) for kind in self.kinds], spawned)
        found: dict[str, Live] = {}
        for kind in self.kinds:
            found.update(final[kind] if kind in final else resolve(claims[kind]))
        id_to_address = {(live.kind, live.id): address for address, live in found.items()}
        for live in found.values():
            if live.kind in RELATION:
                self._set_relation(live, relations[(live.kind, live.id)].result(), id_to_address)
        return found

    async def _read_by_id(
        self, known: Mapping[str, Any], wanted: Mapping[str, str], moved: Mapping[str, str], only: set[str],
    ) -> dict[str, Live] | None:
        """``GET /{tasks|jobs|campaigns}/{id}`` of each object of ``only`` that state knows, and the
        relation read of a job or campaign: what :meth:`read` gives them, or None when only the whole
        read can tell (then it runs) -- an object of ``only`` the config wants but state has no id for
        (found by its marker), a known object gone or archived (another may carry its marker), a
        related object state does not know whose marker claims an address, or more calls than the
        whole read (estimated from state: a page per 100 objects of each list, at least one, and a
        relation read per job and campaign; both keep the same number of calls in flight, so fewer
        calls is less time). An object of ``only`` not in state or config is found by neither.
        Not seen here: another object carrying the marker of a known one (``deposed``, left over
        from an interrupted replacement); the next whole read finds it."""
        if any(a in wanted and a not in known for a in only):
            return None
        targets = {a: known[a] for a in only if a in known}
        size = min(self.page_size, MAX_PAGE)
        per_kind = {k: sum(1 for a in known if address_kind(a) == k) for k in self.kinds}
        whole = sum(max(1, -(-n // size)) for n in per_kind.values()) + per_kind["Job"] + per_kind["Campaign"]
        if sum(2 if address_kind(a) in RELATION else 1 for a in targets) > whole:
            return None
        id_to_address = {(address_kind(a) or "", v): a for a, v in known.items()}

        async def one(address: str, remote_id: Any) -> tuple[Live, list[dict[str, Any]]] | None:
            kind = address_kind(address) or ""
            try:
                obj = await self.client.json("GET", f"/{COLLECTION[kind]}/{remote_id}")
            except ApiError as exc:
                if exc.status == 404:
                    return None
                raise
            if obj.get("archived"):
                return None
            items: list[dict[str, Any]] = []
            if kind in RELATION:
                path, key = RELATION[kind]
                items = await self._list(path.format(id=remote_id), key, RELATION_LANE)
            return self._normalise(kind, address, obj), items

        read = await asyncio.gather(*(one(a, v) for a, v in targets.items()))
        pairs = [r for r in read if r is not None]
        if len(pairs) < len(read):
            return None
        for live, items in pairs:
            target = "Task" if live.kind == "Job" else "Job"
            for item in items:  # a relation's items are the objects themselves: archived flag, marker
                key = (target, item.get("id"))
                marker = (item.get("properties") or {}).get(MARKER)
                if item.get("archived"):
                    id_to_address.pop(key, None)  # the whole read names live objects only
                elif key not in id_to_address and address_kind(marker) == target and (
                    marker in wanted or marker in known or self._renamed(marker, wanted, known, moved)
                ):
                    return None
        for live, items in pairs:
            if live.kind in RELATION:
                self._set_relation(live, items, id_to_address)
        return {live.address: live for live, _ in pairs}

    @staticmethod
    def _renamed(marker: Any, wanted: Any, known: Any, moved: Mapping[str, str]) -> str | None:
        """The address an object whose marker names ``marker`` has now, when ``marker`` is the old
        address of a ``movedFrom`` (the marker of a read-only object, or of one whose platform name
        is pinned, keeps it) and state has no id for the new one; else None."""
        new = moved.get(marker) if isinstance(marker, str) else None
        return new if new is not None and new in wanted and new not in known else None

    def _set_relation(self, live: Live, items: list[dict[str, Any]], id_to_address: dict[tuple[str, Any], str]) -> None:
        field = RELATION_FIELD[live.kind]
        target = "Task" if live.kind == "Job" else "Job"
        live.attrs[field] = [
            id_to_address.get((target, item.get("id")), f"{self.name}/{target.lower()}/#{item.get('id')}") for item in items
        ]
        live.raw[field] = [item.get("id") for item in items]

    def _normalise(self, kind: str, address: str, obj: dict[str, Any]) -> Live:
        if kind == "Task":
            attrs = {
                "name": obj.get("name"),
                "components": [_component(c) for c in obj.get("components") or []],
                "properties": _props(obj.get("properties")),
            }
        elif kind == "Job":
            attrs = {
                "name": obj.get("name"),
                "description": _blank(obj.get("description")),
                "properties": _props(obj.get("properties")),
                "tasks": [],
            }
        else:
            attrs = {f: _blank(obj.get(f)) for f in CAMPAIGN_FIELDS}
            attrs["training"] = bool(obj.get("training", False))
            attrs["properties"] = _props(obj.get("properties"))
            attrs["jobs"] = []
            attrs["state"] = obj.get("state")
        return Live(address, kind, obj["id"], attrs, status=obj.get("state"), read_only=bool(obj.get("readOnly")), raw=obj)

    async def _read_relations(self, found: dict[str, Live], id_to_address: dict[tuple[str, Any], str]) -> None:

        async def relation(live: Live) -> None:
            path, key = RELATION[live.kind]
            self._set_relation(live, await self._list(path.format(id=live.id), key, RELATION_LANE), id_to_address)

        await _all([asyncio.ensure_future(relation(live)) for live in found.values() if live.kind in RELATION], [])

    async def balance(self) -> float | None:
        me = await self.client.json("GET", "/me")
        self.commission = float(me.get("commissionRate") or 0.0)
        available = ((me.get("balance") or {}).get("available") or "").split()
        try:
            return float(available[0])
        except (IndexError, ValueError):
            return None

    def comparable(self, res: Resource) -> dict[str, Any]:
        assert res.live is not None and res.desired is not None
        attrs = dict(res.live.attrs)
        if res.kind == "Campaign" and attrs.get("state") == "finished" and res.desired.get("state") in (*RUNNING, "cancelled"):
            attrs["state"] = res.desired["state"]  # it ran to the end: nothing left to do
        return attrs

    # -- planning --------------------------------------------------------------------------
    def _body(self, res: Resource) -> dict[str, Any]:
        d = res.desired or {}
        properties = {**d.get("properties", {}), MARKER: res.address}
        if res.kind == "Task":
            return {"name": d["name"], "components": d["components"], "properties": properties}
        if res.kind == "Job":
            body = {"name": d["name"], "description": d.get("description"), "properties": properties}
        else:
            body = {f: d.get(f) for f in CAMPAIGN_FIELDS}
            body["properties"] = properties
        return {k: v for k, v in body.items() if v is not None}

    def _publish_cost(self, desired: dict[str, Any]) -> float:
        pay = float(desired.get("workerPayment") or 0)
        return round(pay * int(desired.get("results") or 1) * len(desired.get("jobs") or []) * (1 + self.commission), 6)

    def _added_jobs_cost(self, res: Resource) -> float:
        """What jobs added to an active or paused campaign commit: SWARMS freezes a campaign's money
        (payment x results x jobs x (1 + commission), the publish) for every job it runs, so each
        added job freezes payment x results x (1 + commission) more. Every job not in the campaign
        yet counts; jobs removed at the same time free money, never counted (the plan states at
        most what it commits)."""
        live = res.live
        assert live is not None
        if live.status not in RUNNING:
            return 0.0  # unpublished: publishing pays for every job; cancelled/finished: no change
        added = len(set((res.desired or {}).get("jobs") or []) - set(live.attrs.get("jobs") or []))
        if added <= 0:
            return 0.0
        pay = float(live.attrs.get("workerPayment") or 0)
        return round(pay * int(live.attrs.get("results") or 1) * added * (1 + self.commission), 6)

    def _lifecycle(self, res: Resource, start: str, target: str) -> list[Operation]:
        address = res.address
        if start == target:
            return []
        if (start, target) not in TRANSITIONS:
            if start in ("cancelled", "finished"):
                raise NeedsReplace(f"the campaign is {start}; SWARMS cannot bring it back to {target}, only a new campaign can")
            raise Impossible(f"SWARMS cannot move a campaign from {start} to {target}")
        ops = []
        for action in TRANSITIONS[(start, target)]:
            cost = self._publish_cost(res.desired or {}) if action == "publish" else 0.0
            ops.append(
                self.op(address, action, f"POST /campaigns/{{id}}/{action}", target=ref(address), cost=cost,
                        destructive=action == "cancel")
            )  # fmt: skip
        return ops

    def create_ops(self, res: Resource) -> list[Operation]:
        d = res.desired or {}
        kind, address = res.kind, res.address
        coll = COLLECTION[kind]
        ops = [self.op(address, "create", f"POST /{coll}", payload=self._body(res), records="create")]
        if kind == "Job" and d.get("tasks"):
            ops.append(self.op(address, "set-tasks", "PUT /jobs/{id}/tasks", target=ref(address),
                               payload=[ref(t) for t in d["tasks"]]))  # fmt: skip
        if kind == "Campaign":
            if d.get("jobs"):
                ops.append(self.op(address, "set-jobs", "PUT /campaigns/{id}/jobs", target=ref(address),
                                   payload=[ref(j) for j in d["jobs"]]))  # fmt: skip
            if d.get("state") == "cancelled":
                raise Impossible("a new campaign cannot start out cancelled")
            ops += self._lifecycle(res, "unpublished", d.get("state", "unpublished"))
        return ops

    def published(self, res: Resource) -> bool:
        live = res.live
        assert live is not None
        return live.read_only or (res.kind == "Campaign" and live.status != "unpublished")

    def replacement_reason(self, res: Resource, fields: list[str]) -> str:
        status = res.live.status if res.live is not None else None
        if status in ("cancelled", "finished") and fields == ["jobs"]:
            raise Impossible(f"the campaign is {status}: its jobs can no longer change")
        return (f"the campaign is published (state {status}) and SWARMS keeps published campaigns read-only; "
                f"changing {', '.join(fields)} needs a new campaign (the old one is cancelled)")

    def immutable_reason(self, res: Resource, fields: list[str]) -> str:
        return (f"the {res.kind.lower()} is read-only on SWARMS (it belongs to a published campaign); "
                f"{', '.join(fields)} cannot change while that campaign runs")

    def update_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        live, d = res.live, res.desired or {}
        assert live is not None
        kind, address = res.kind, res.address
        coll = COLLECTION[kind]
        ops: list[Operation] = []
        relation = {"Job": "tasks", "Campaign": "jobs"}.get(kind)
        fields = changed - {"state"}
        if fields - {relation}:
            ops.append(self.op(address, "update", f"PUT /{coll}/{{id}}", target=live.id, payload=self._body(res)))
        if relation and relation in changed:  # (the policy replaces a published campaign first)
            cost = self._added_jobs_cost(res) if kind == "Campaign" else 0.0
            ops.append(self.op(address, f"set-{relation}", f"PUT /{coll}/{{id}}/{relation}", target=live.id,
                               payload=[ref(x) for x in d.get(relation, [])], cost=cost))  # fmt: skip
        if kind == "Campaign" and "state" in changed:
            ops += self._lifecycle(res, str(live.status), d.get("state", "unpublished"))
            for op in ops:
                op.target = live.id if op.target == ref(address) else op.target
        return ops

    def delete_ops(self, res: Resource, remote_id: Any, *, deposed: bool = False) -> list[Operation]:
        kind, address = res.kind, res.address
        coll = COLLECTION[kind]
        suffix = f"@{remote_id}" if deposed else ""
        ops = []
        status = res.live.status if res.live and res.live.id == remote_id else None
        if deposed and res.live and res.live.id != remote_id:
            status = "unknown"
        if kind == "Campaign" and status in (*RUNNING, "unknown"):
            ops.append(self.op(address, f"cancel{suffix}", "POST /campaigns/{id}/cancel", target=remote_id,
                               destructive=True, payload={"ifRunning": status == "unknown"}))  # fmt: skip
        ops.append(
            self.op(address, f"archive{suffix}", f"POST /{coll}/{{id}}/archive?deep=false", target=remote_id,
                    destructive=True, records=None if deposed else "forget")
        )  # fmt: skip
        return ops

    # -- applying --------------------------------------------------------------------------
    async def execute(self, op: Operation) -> ExecResult:
        method, path = op.call.split(" ", 1)
        path = path.replace("{id}", str(op.target))
        if op.action.startswith("cancel") and isinstance(op.payload, dict) and op.payload.get("ifRunning"):
            current = await self.client.json("GET", path.rsplit("/", 1)[0])
            if current.get("state") not in RUNNING:
                return ExecResult()
            payload = None
        else:
            payload = op.payload if method != "POST" or op.action == "create" else None
        body = await self.client.json(method, path, json=payload)
        if op.action == "create":
            return ExecResult(id=body["id"])
        return ExecResult()

    async def confirm(self, op: Operation) -> bool | None:
        """Reads the object back: a lifecycle action took when the campaign is in the state it
        leads to, and did not while it is still in a state the action leaves; an archive took when
        the object is archived; an update when the object reads as the body sent. ``PUT
        /jobs/{id}/tasks`` and ``PUT /campaigns/{id}/jobs`` replace the whole list (the python
        SDK: "replace ids"): sending one again is harmless, so it is not read."""
        action = op.action.split("@", 1)[0]
        if action in ("set-tasks", "set-jobs"):
            return False
        kind = address_kind(op.address) or ""
        obj = await self.client.json("GET", f"/{COLLECTION[kind]}/{op.target}")
        if action == "archive":
            return bool(obj.get("archived"))
        if action == "update":
            sent, now = (self._normalise(kind, op.address, {**o, "id": op.target}).attrs for o in (op.payload, obj))
            return {**sent, "state": None} == {**now, "state": None}
        if action in LEADS_TO:
            state = obj.get("state")
            if state == LEADS_TO[action][1]:
                return True
            if state in LEADS_TO[action][0] or (op.payload or {}).get("ifRunning"):  # execute checks ifRunning itself
                return False
        return None

    async def lookup(self, address: str, kind: str, desired: dict[str, Any] | None = None) -> Any | None:
        """The oldest live object of ``kind`` whose marker is ``address`` (the one :meth:`read`
        adopts), from that one list: no other list, no relation reads."""
        if kind not in COLLECTION:
            return await super().lookup(address, kind, desired)
        coll = COLLECTION[kind]
        ids = [obj["id"] async for page in self._pages(f"/{coll}", coll) for obj in page
               if not obj.get("archived") and (obj.get("properties") or {}).get(MARKER) == address]  # fmt: skip
        return min(ids) if ids else None

    # -- importing (campaignctl import) ----------------------------------------------------
    async def read_account(self, managed: dict[tuple[str, str], str]) -> dict[str, Live]:
        """Every live (not archived) task, job and campaign that ``managed`` ((kind, id) -> address)
        does not hold, as ``<provider>/<kind>/#<id>``; relations name managed objects by address."""
        lists = await asyncio.gather(*(self._list(f"/{COLLECTION[k]}", COLLECTION[k]) for k in self.kinds))
        found: dict[str, Live] = {}
        id_to_address: dict[tuple[str, Any], str] = {}
        for kind, objects in zip(self.kinds, lists, strict=True):
            for obj in objects:
                if obj.get("archived"):
                    continue
                address = managed.get((kind, str(obj.get("id"))))
                if address is None:
                    address = f"{self.name}/{kind.lower()}/#{obj.get('id')}"
                    found[address] = self._normalise(kind, address, obj)
                id_to_address[(kind, obj.get("id"))] = address
        await self._read_relations(found, id_to_address)
        return found

    def export_documents(self, live: dict[str, Live], ctx: Any) -> list[Any]:
        """Import: one file per campaign (its Schedule, jobs and their tasks), one per other job,
        ``tasks.yaml`` for tasks no imported job uses, ``components.yaml`` for components that
        several tasks share (or ``use:`` of a config Component that matches exactly)."""
        import json

        from ... import schemas
        from ...providers.export import ExportedDoc

        def key(comp: dict[str, Any]) -> str:
            return json.dumps(comp, sort_keys=True)

        def comp_spec(comp: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"type": comp["type"]}
            if comp["properties"]:
                out["properties"] = dict(comp["properties"])
            out.update({flag: True for flag in ("sticky", "optionalResult", "landscape") if comp.get(flag)})
            return out

        def base(obj: Live) -> Any:  # the name in a marker (written by a campaignctl whose state is lost), else the object's
            marker = (obj.raw.get("properties") or {}).get(MARKER)
            if isinstance(marker, str) and marker.startswith(f"{self.name}/") and address_kind(marker) == obj.kind:
                return marker.rsplit("/", 1)[-1]
            return obj.attrs.get("name") or obj.attrs.get("title")

        objects = {k: sorted((o for o in live.values() if o.kind == k), key=lambda o: str(o.id).zfill(20)) for k in self.kinds}
        kept: dict[str, list[Live]] = {}
        for kind, needed in (("Task", "components"), ("Job", "tasks"), ("Campaign", None)):
            kept[kind] = []
            for obj in objects[kind]:
                if needed and not obj.attrs[needed]:
                    ctx.skip(obj, f"it has no {needed} (a {kind} document needs at least one)")
                else:
                    ctx.assign(obj, base(obj))
                    kept[kind].append(obj)
        tasks, jobs = kept["Task"], kept["Job"]

        # components: an exact match of a config Component, else shared when several tasks use it
        pool: dict[str, str] = {}
        for cname, cdoc in ctx.config.of_kind("Component").items():
            try:
                pool.setdefault(key(_component(resolve_component(ctx.config, cdoc.spec))), cname)
            except (KeyError, TypeError, ValueError):
                continue
        counts: dict[str, int] = {}
        for obj in tasks:
            for comp in obj.attrs["components"]:
                counts[key(comp)] = counts.get(key(comp), 0) + 1
        checker = schemas.validator("swarms/components/component.json")
        shared: list[Any] = []
        for obj in tasks:
            for comp in obj.attrs["components"]:
                k = key(comp)
                if k in pool or counts[k] < 2 or not checker.is_valid(comp_spec(comp)):
                    continue
                props = comp["properties"]
                label = next((v for v in props.values() if isinstance(v, str) and v.strip()), None)
                label = label if label is not None else " ".join(f"{n} {v}" for n, v in list(props.items())[:1])
                pool[k] = ctx.unique("Component", f"{comp['type']} {label}", comp["type"].lower(), neutral=True)
                shared.append(ExportedDoc("Component", pool[k], comp_spec(comp), "components.yaml",
                                          source=f"a component {counts[k]} imported tasks share"))  # fmt: skip

        docs: dict[str, Any] = {}
        for obj in tasks:
            name = ctx.name_of(obj)
            spec: dict[str, Any] = {"name": obj.attrs["name"]} if obj.attrs["name"] != name else {}
            spec["components"] = [{"use": pool[key(c)]} if key(c) in pool else comp_spec(c) for c in obj.attrs["components"]]
            if obj.attrs["properties"]:
                spec["properties"] = dict(obj.attrs["properties"])
            docs[obj.address] = ExportedDoc("Task", name, spec, "tasks.yaml", self.name, obj, ctx.source(obj))
        for obj in jobs:
            name = ctx.name_of(obj)
            doc = ExportedDoc("Job", name, {}, f"job-{name}.yaml", self.name, obj, ctx.source(obj))
            if obj.attrs["name"] != name:
                doc.spec["name"] = obj.attrs["name"]
            if obj.attrs["description"] is not None:
                doc.spec["description"] = obj.attrs["description"]
            if obj.attrs["properties"]:
                doc.spec["properties"] = dict(obj.attrs["properties"])
            doc.spec["tasks"] = ctx.refs(doc, "tasks", obj.attrs["tasks"])
            docs[obj.address] = doc

        schedules: dict[str, str] = {}  # json of {startDate, endDate} -> Schedule name
        for sname, sdoc in ctx.config.of_kind("Schedule").items():
            sspec = sdoc.spec
            if set(sspec) - {"timeZone", "start", "end"}:
                continue
            try:
                dates = {t: to_utc(sspec[k], sspec.get("timeZone", "UTC")) for k, t in (("start", "startDate"), ("end", "endDate")) if k in sspec}
            except (ValueError, KeyError):
                continue
            schedules.setdefault(json.dumps(dates, sort_keys=True), sname)
        files: list[tuple[str, list[Any]]] = []
        for obj in objects["Campaign"]:
            name = ctx.name_of(obj)
            a = obj.attrs
            doc = ExportedDoc("Campaign", name, {}, f"campaign-{name}.yaml", self.name, obj, ctx.source(obj))
            if a["name"] != name:
                doc.spec["name"] = a["name"]
            for f in CAMPAIGN_FIELDS:
                if f not in ("name", "training", "startDate", "endDate") and a.get(f) is not None:
                    doc.spec[f] = a[f]
            if a["training"]:
                doc.spec["training"] = True
            if a["properties"]:
                doc.spec["properties"] = dict(a["properties"])
            group = [doc]
            dates = {f: a[f] for f in ("startDate", "endDate") if a.get(f) is not None}
            if dates:
                skey = json.dumps(dates, sort_keys=True)
                if skey not in schedules:
                    schedules[skey] = ctx.unique("Schedule", name, "schedule", neutral=True)
                    sspec = {"timeZone": "UTC", **{k: dates[t] for k, t in (("start", "startDate"), ("end", "endDate")) if t in dates}}
                    group.append(ExportedDoc("Schedule", schedules[skey], sspec, doc.file,
                                             source=f"startDate/endDate of {ctx.source(obj)}, in UTC"))  # fmt: skip
                doc.spec["schedule"] = schedules[skey]
            doc.spec["jobs"] = ctx.refs(doc, "jobs", a["jobs"])
            state = a.get("state")
            if state == "finished":
                doc.spec["state"] = "active"  # finished by itself; active asks nothing more of it
            elif state in ("unpublished", "active", "paused", "cancelled"):
                doc.spec["state"] = state
            else:
                doc.ignore("state", note=f"state: the platform says {state!r}, which the config cannot ask for (ignoreChanges)")
            docs[obj.address] = doc
            files.append((doc.file, group))

        # families: a campaign's file holds its jobs and their tasks; then the other jobs; then the rest
        placed: set[str] = {d.live.address for _, g in files for d in g if d.live is not None}

        def family(addresses: list[str], file: str) -> list[Any]:
            out = []
            for address in addresses:
                doc = docs.get(address)
                if doc is not None and address not in placed:
                    placed.add(address)
                    doc.file = file
                    out.append(doc)
            return out

        ordered: list[Any] = []
        for file, group in files:
            campaign = group[0].live
            assert campaign is not None
            job_docs = family(campaign.attrs["jobs"], file)
            task_docs = family([t for j in job_docs for t in j.live.attrs["tasks"]], file)
            ordered += group + job_docs + task_docs
        for obj in jobs:
            job_docs = family([obj.address], f"job-{ctx.name_of(obj)}.yaml")
            ordered += job_docs + family([t for j in job_docs for t in j.live.attrs["tasks"]], job_docs[0].file if job_docs else "")
        ordered += family([o.address for o in tasks], "tasks.yaml")
        return ordered + shared


def address_kind(address: str | None) -> str | None:
    if not address:
        return None
    return kind_of(address, SwarmsProvider.kinds) or None
