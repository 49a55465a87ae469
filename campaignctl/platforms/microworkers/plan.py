"""Microworkers API v2: how a desired template or campaign becomes v2 calls (the change mapping
documented in :mod:`campaignctl.platforms.microworkers.provider`). A mixin of the provider."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...plan.model import Operation, ResourceChange, ref
from ...providers.base import Impossible, NeedsReplace, Resource
from .checks import check_live_config
from .model import COLLECTION, HIRE_FIELDS, PATCHABLE
from .rows import RowTable, desired_rows, id_digests, row_changes
from .upload import TASKS_PER_REQUEST, row_parts, upload_ref


class CampaignChanges:
    """The v2 change mapping. Expects the provider's ``op`` and the attributes below; a campaign's
    task rows come from its document (``Resource.doc``), never from the provider."""

    root: Path
    fee: float
    _categories: dict[str, float] | None
    _zones: dict[str, list[str]] | None
    _unreadable: list[str]
    if TYPE_CHECKING:  # provided by Provider

        def op(self, address: str, action: str, call: str, **kwargs: Any) -> Operation: ...

    def comparable(self, res: Resource) -> dict[str, Any]:
        assert res.live is not None and res.desired is not None
        attrs = dict(res.live.attrs)
        d = res.desired
        if res.kind == "Template":
            if d.get("questions") is None:
                attrs["questions"] = None  # derived by the platform from htmlCode
            return attrs
        zone, want = attrs.get("zone"), d.get("zone")
        everything = (self._zones or {}).get(str((zone or {}).get("id")))
        if zone and want and zone.get("id") == want.get("id") and want.get("countries") is None \
                and "countries" in zone and (everything is None or sorted(zone["countries"]) == sorted(everything)):
            attrs["zone"] = {**zone, "countries": None}  # "all countries of the zone"
        slots = res.live.raw.get("slotsCount")  # the platform's reply as is: check its shape
        untaken = (slots.get("unTaken") if isinstance(slots, dict) else 0) or 0
        if attrs.get("state") == "stopped" and d.get("state") in ("running", "paused") and not untaken:
            attrs["state"] = d["state"]  # it ran to the end: nothing left to resume
        return attrs

    # -- planning --------------------------------------------------------------------------
    def replacement_reason(self, res: Resource, fields: list[str]) -> str:
        return (f"Microworkers cannot change {', '.join(fields)} of a started campaign (not a PATCH field): "
                "a new campaign is created, then the old one is stopped")

    def annotate(self, res: Resource, change: ResourceChange, ops: list[Operation]) -> None:
        if res.kind == "Campaign" and res.desired is not None and change.actions != ["no-op"]:
            change.warnings += self._unreadable
        if res.live is not None and res.live.raw.get("rows_unknown"):
            change.warnings.append(
                "state holds no record of the task rows uploaded to this campaign (it was adopted, or the state "
                "was lost) and Microworkers documents no read of them: the config's rows are taken as uploaded, "
                "so none is sent; give new rows to a campaign campaignctl created")
        digest = next((f for f in change.fields if f.path == "tasks.digest"), None)
        if digest is not None and res.live is not None:  # the rows themselves, not their digest
            wanted = desired_rows(res.doc, self.root)
            rows = row_changes(wanted if wanted is not None else [], res.live.raw.get("rows") or {},
                               res.live.raw.get("row_columns") or {}, digest.how)  # fmt: skip
            at = change.fields.index(digest)
            change.fields[at:at + 1] = rows or [digest]
        elif change.actions == ["create"] and (wanted := desired_rows(res.doc, self.root)) is not None:
            change.fields = row_changes(wanted, {}, {}, "update")  # the rows a new campaign uploads

    def _cost(self, payment: float, positions: int) -> float:
        return round(float(payment) * positions * (1 + self.fee), 4)

    def _check_live_config(self, d: dict[str, Any]) -> None:
        check_live_config(d, self._categories, self._zones)

    def _campaign_body(self, res: Resource) -> dict[str, Any]:
        d = res.desired or {}
        body: dict[str, Any] = {k: d[k] for k in ("title", "description", "categoryId", "paymentPerTask", "minutesToFinish")}
        if d.get("template"):
            body["internalTemplate"] = {"id": ref(d["template"]), **{k: v for k, v in d["internalTemplate"].items() if v is not None}}
        else:
            body["externalTemplate"] = d["externalTemplate"]
        zone = d.get("zone")
        if zone and zone["id"] == "int":
            body["internationalZone"] = {"id": "int", "excludedCountries": zone["excludedCountries"]}
        elif zone:
            body["targetedZone"] = {"id": zone["id"], **({"countries": zone["countries"]} if zone.get("countries") else {})}
        for key in PATCHABLE:
            body[key] = d[key]
        if d["type"] == "hire-group":
            body["groupId"] = d["groupId"]
            for key in HIRE_FIELDS:
                body[key] = d[key]
        body["availablePositions"] = d["availablePositions"]
        return body

    def create_ops(self, res: Resource) -> list[Operation]:
        d = res.desired or {}
        address = res.address
        if res.kind == "Template":
            body = {k: d[k] for k in ("title", "htmlCode", "cssSection", "jsSection")}
            if d.get("questions") is not None:
                body["questions"] = d["questions"]
            return [self.op(address, "create", "POST /templates", payload={"body": body}, records="create")]
        self._check_live_config(d)
        if d.get("state") == "stopped":
            raise Impossible("a new campaign cannot start out stopped (Microworkers starts every campaign it creates)")
        coll = COLLECTION[d["type"]]
        body = self._campaign_body(res)
        payload: dict[str, Any] = {"body": body}
        rows = desired_rows(res.doc, self.root)
        parts: list[list[list[int]]] = []
        note = ""
        if isinstance(rows, RowTable):  # a data file's rows: named here, read from the file at apply
            sub, same = _sub_same(d)
            parts = row_parts(range(len(rows)), TASKS_PER_REQUEST // sub * sub) or [[]]  # a file of no rows: the create
            named = upload_ref(rows, self.root, d["tasks"])
            payload["rows"] = {**named, "ranges": parts[0]}
            body["availablePositions"] = _count(parts[0]) // sub * same
            note = f" ({_count(parts[0])} of {len(rows)} rows)" if len(parts) > 1 else ""
        elif rows is not None:
            body["tasks"] = [r.body() for r in rows]
            payload["sources"] = [r.source for r in rows]
            payload["recorded"] = {"rows": id_digests(rows)}
        ops = [self.op(address, "create", f"POST /{coll}{note}", payload=payload, records="create",
                       cost=self._cost(d["paymentPerTask"], body["availablePositions"]))]  # fmt: skip
        if parts[1:]:  # the rows past the create's: tasks-groups, TASKS_PER_REQUEST a call
            ops += self._row_uploads(res, coll, named, parts[1:], ref(address), body["availablePositions"], restart=False)
        if d.get("state") == "paused":
            ops.append(self.op(address, "pause", f"PUT /{coll}/{{id}}/pause", target=ref(address)))
        return ops

    def update_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        live, d = res.live, res.desired or {}
        assert live is not None
        address = res.address
        if res.kind == "Template":
            body = {k: d[k] for k in ("title", "htmlCode", "cssSection", "jsSection")}
            if d.get("questions") is not None:
                body["questions"] = d["questions"]
            return [self.op(address, "update", "PUT /templates/{id}", target=live.id, payload={"body": body})]
        coll = COLLECTION[d["type"]]
        ops: list[Operation] = []
        patch = sorted(changed & (set(PATCHABLE) | ({"groupId"} if d["type"] == "hire-group" else set())))
        if patch:
            ops.append(self.op(address, "update", f"PATCH /{coll}/{{id}}", target=live.id,
                               payload={"body": {k: d[k] for k in patch}}))  # fmt: skip
        status = live.attrs.get("state")
        finished = live.status == "FINISHED"
        restarted = False
        if changed & {"tasks", "availablePositions"}:
            added = self._add_positions(res, coll, finished)
            ops += added
            restarted = finished and bool(added)
        want = d.get("state", "running")
        current = "running" if restarted else status
        if "state" in changed or restarted:
            ops += self._lifecycle(res, coll, str(current), want)
        return ops

    def _add_positions(self, res: Resource, coll: str, finished: bool) -> list[Operation]:
        live, d = res.live, res.desired or {}
        assert live is not None
        address = res.address
        payment = d["paymentPerTask"]
        unique = live.raw.get("unique")
        if unique is not None and (d.get("tasks") is None) == unique:  # known, not guessed from an absent field
            raise NeedsReplace("switching between unique task rows and plain positions needs a new campaign")
        if d.get("tasks") is None:
            delta = int(d["availablePositions"]) - int(live.attrs.get("availablePositions") or 0)
            if delta < 0:
                raise Impossible(f"Microworkers cannot take positions away ({live.attrs.get('availablePositions')} -> {d['availablePositions']})")
            if not finished:
                raise Impossible(
                    f"Microworkers adds positions to a campaign without task rows only by restarting it once it is "
                    f"finished (it is {live.status}); set state: stopped first, or wait until it finishes")
            return [self.op(address, "add-positions", f"POST /{coll}/{{id}}/restart +{delta} positions", target=live.id,
                            payload={"body": {"positionsToAdd": delta}, "queue": True,
                                     "expect": {"availablePositions": int(d["availablePositions"])}},
                            cost=self._cost(payment, delta))]  # fmt: skip
        live_rows: dict[str, str] = live.raw.get("rows") or {}
        wanted = desired_rows(res.doc, self.root)
        rows = wanted if wanted is not None else []
        if isinstance(rows, RowTable):
            desired_ids: Any = set(rows.ids)
            edited = [(i, rows.source(n)) for n, i in enumerate(rows.ids) if i in live_rows and live_rows[i] != rows.digest(n)]
            new = [n for n, i in enumerate(rows.ids) if i not in live_rows]
        else:
            desired_ids = {r.id for r in rows}
            edited = [(r.id, r.source) for r in rows if r.id in live_rows and live_rows[r.id] != r.digest]
            new = [n for n, r in enumerate(rows) if r.id not in live_rows]
        removed = [i for i in live_rows if i not in desired_ids]
        problems = []
        if removed:
            problems.append(f"row(s) {', '.join(removed[:5])}{' ...' if len(removed) > 5 else ''} were uploaded and are "
                            "no longer in the task data: Microworkers cannot delete uploaded task rows")
        if edited:
            shown = ", ".join(f"{i} ({source})" for i, source in edited[:5])
            problems.append(f"row(s) {shown}{' ...' if len(edited) > 5 else ''} changed after upload: Microworkers cannot "
                            "edit uploaded task rows (give changed rows a new id to add them as new tasks)")
        if problems:
            raise Impossible("; ".join(problems))
        if not new:
            return []
        sub, same = _sub_same(d)
        if len(new) % sub:
            raise Impossible(f"{len(new)} new rows is not a multiple of numberOfSubTasks ({sub})")
        before = int(live.attrs.get("availablePositions") or 0)
        if isinstance(rows, RowTable):  # named, read from the file at apply, TASKS_PER_REQUEST a call
            named = upload_ref(rows, self.root, d["tasks"])
            return self._row_uploads(res, coll, named, row_parts(new, TASKS_PER_REQUEST // sub * sub), live.id, before,
                                     restart=finished)
        chosen = [rows[n] for n in new]
        positions = len(chosen) // sub * same
        tasks = [r.body() for r in chosen]
        sources = [r.source for r in chosen]
        recorded = {"rows": {r.id: r.digest for r in chosen}}
        expect = {"availablePositions": before + positions}
        note = f"+{positions} positions ({len(chosen)} new rows)"
        if finished:
            return [self.op(address, "add-positions", f"POST /{coll}/{{id}}/restart {note}", target=live.id,
                            payload={"body": {"positionsToAdd": positions, "tasks": tasks}, "sources": sources, "queue": True,
                                     "recorded": recorded, "expect": expect},
                            cost=self._cost(payment, positions))]  # fmt: skip
        return [self.op(address, "add-positions", f"POST /{coll}/{{id}}/tasks-groups {note}", target=live.id,
                        payload={"body": {"tasks": tasks}, "sources": sources, "queue": True, "positions": positions,
                                 "recorded": recorded, "expect": expect},
                        cost=self._cost(payment, positions))]  # fmt: skip

    def _row_uploads(self, res: Resource, coll: str, named: dict[str, Any], parts: list[list[list[int]]], target: Any,
                     before: int, *, restart: bool) -> list[Operation]:
        """One call per part of a data file's rows (``named``: :func:`.upload.upload_ref`), each a queue
        job adding the part's positions: ``POST .../tasks-groups``, the first ``POST .../restart``
        when the campaign is finished. The first is ``add-positions``, the next
        ``add-positions@rows-<first row>``; apply reads each part from the file when it sends it."""
        d = res.desired or {}
        sub, same = _sub_same(d)
        ops, expect = [], before
        for n, part in enumerate(parts):
            count = _count(part)
            positions = count // sub * same
            expect += positions
            note = f"+{positions} positions ({count} new rows" + (f" from row {part[0][0] + 1})" if len(parts) > 1 or isinstance(target, dict) else ")")
            payload: dict[str, Any] = {"body": {}, "rows": {**named, "ranges": part}, "queue": True, "positions": positions,
                                       "expect": {"availablePositions": expect}}
            call = f"POST /{coll}/{{id}}/tasks-groups {note}"
            if restart and n == 0:
                payload["body"] = {"positionsToAdd": positions}
                del payload["positions"]
                call = f"POST /{coll}/{{id}}/restart {note}"
            action = "add-positions" if n == 0 and not isinstance(target, dict) else f"add-positions@rows-{part[0][0] + 1}"
            ops.append(self.op(res.address, action, call, target=target, payload=payload, cost=self._cost(d["paymentPerTask"], positions)))
        return ops

    def _lifecycle(self, res: Resource, coll: str, current: str, want: str) -> list[Operation]:
        live = res.live
        assert live is not None
        address = res.address
        if current == want:
            return []
        if current == "blocked":
            raise Impossible("the campaign is blocked by Microworkers; its state cannot change")
        if want == "stopped":
            return [self.op(address, "stop", f"PUT /{coll}/{{id}}/stop", target=live.id, destructive=True)]
        ops = []
        if current == "stopped":
            ops.append(self.op(address, "restart", f"POST /{coll}/{{id}}/restart", target=live.id,
                               payload={"body": {"positionsToAdd": 0}, "queue": True}))  # fmt: skip
            current = "running"
        if current == "running" and want == "paused":
            ops.append(self.op(address, "pause", f"PUT /{coll}/{{id}}/pause", target=live.id))
        elif current == "paused" and want == "running":
            ops.append(self.op(address, "resume", f"PUT /{coll}/{{id}}/resume", target=live.id))
        return ops

    def delete_ops(self, res: Resource, remote_id: Any, *, deposed: bool = False) -> list[Operation]:
        address = res.address
        suffix = f"@{remote_id}" if deposed else ""
        if res.kind == "Template":
            return [self.op(address, f"delete{suffix}", "DELETE /templates/{id}", target=remote_id, destructive=True,
                            records=None if deposed else "forget")]  # fmt: skip
        kind = (res.live.attrs.get("type") if res.live else None) or (res.desired or {}).get("type", "basic")
        coll = COLLECTION[kind]
        return [self.op(address, f"stop{suffix}", f"PUT /{coll}/{{id}}/stop", target=remote_id, destructive=True,
                        payload={"ifRunning": True}, records=None if deposed else "forget")]  # fmt: skip


def _sub_same(d: dict[str, Any]) -> tuple[int, int]:
    """(rows per position: numberOfSubTasks, workers per position: numberOfWorkerOnSamePosition)."""
    return int((d.get("internalTemplate") or {}).get("numberOfSubTasks") or 1), int(d.get("numberOfWorkerOnSamePosition", 1))


def _count(ranges: list[list[int]]) -> int:
    return sum(stop - start for start, stop in ranges)
