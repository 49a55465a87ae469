"""Microworkers legacy API v1 (``https://api.microworkers.com``): basic and hire-group campaigns,
hire groups and the employer exclude list.

Protocol: header ``MicroworkersApiKey``; GET sends query parameters, PUT/POST/DELETE send form data
(arrays as ``worker[]=a&worker[]=b``); every reply is ``{"status": "SUCCESS"|"ERROR", ...}``. The
body decides, whatever the HTTP status: a 200 with ``ERROR`` is an error and a 404 with a JSON
body is the platform's own error. An error becomes an :class:`~campaignctl.errors.ApiError` naming
the endpoint and the platform's text (``error``, ``errors`` and ``errors_list``).

Kinds and field names
  * ``Campaign``: ``spec.type: basic | hire-group`` plus the v1 ``new_campaign`` fields under their
    own snake_case names (``payment_per_task``, ``available_positions``...), so the v1 pages map
    1:1. campaignctl's own fields: ``type``, ``group`` (a WorkerGroup document name), ``state``
    (``running | paused | stopped``). v1 has no schedule: validate rejects ``schedule``. Not
    supported: file attachments (``file``), and ``description_type: UNIQUE`` (it needs a CSV
    upload); campaigns are created with ``description_type=SAME``.
  * ``WorkerGroup`` (``spec.groupId``): a hire group made on the website. Never created or deleted
    by campaignctl; plan checks ``groups_list`` has it. Removing the document forgets it.
  * ``Blocklist`` (``spec.workers``): the account-wide exclude list as a set; apply POSTs the added
    ids and DELETEs the removed ones. One per provider. Removing the document only forgets it.

Identity: v1 objects carry no free-form property, so no address marker. State maps address ->
campaign_id. Without a state entry, a campaign is adopted only by an exact title match among the
live campaigns of its type that no state entry claims: the one not FINISHED, or (if all are
FINISHED) the newest; several not FINISHED -> a plan error, never a guess or a duplicate. The plan
says when it adopts ("found on the platform by its exact title"). Groups are matched by group id,
the Blocklist is the account's single exclude list.

Reads: one ``list_extend`` per campaign type with ``folder=DEFAULT`` (an archived campaign counts
as gone; the ``NO CAMPAIGNS`` error is an empty list), plus ``zones_list`` / ``categories_list`` /
``groups_list`` / the exclude list only when the config or state needs them. v1 has no balance
endpoint: :meth:`balance` returns None.

What changes how (``update_ops``)
  * speed -> ``set_speed`` (basic); zone / selected_countries -> ``retarget`` (basic);
    group -> ``change_group`` (hire-group); these need status RUNNING or PAUSED.
  * more available_positions -> ``add_positions`` (RUNNING/PAUSED) or ``restart_campaign``
    (FINISHED); the plan shows the cost, payment_per_task x positions x (1 + 10 % fee).
  * qt_required -> ``toggle_qt_required`` (any status; re-checked with get_info before it is sent,
    since a toggle repeated by a retry would undo itself).
  * state -> ``pause`` / ``resume`` / ``stop`` (destructive) / ``restart_campaign`` (a stopped campaign
    runs again; one that used all its positions counts as done for running/paused).
  * type, title, category, payment_per_task, minutes_to_finish, ttr, required_work, required_proof,
    auto_rate, file_proof, max_positions_per_worker, fewer positions -> replacement (a new campaign,
    then the old one is stopped; apply needs --allow-replace), or a plan error when the campaign is
    to stay stopped (a replacement would start a campaign nobody asked for).

Statuses: PENDING_REVIEW / PENDING_RESTART -> calls that need RUNNING or PAUSED wait (plan warning,
no call; apply again later). BLOCKED / PAUSED_ADMIN / PAUSED_SYSTEM -> a config change that needs
such a call is a plan error; a state the platform imposed is only reported (warning).
Removing a campaign from the config stops it if RUNNING/PAUSED (v1 has no delete) and forgets it.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from ...address import kind_of
from ...config.model import Config, Document, address_of
from ...errors import ApiError, Diagnostic
from ...http import ErrorParser
from ...plan.model import FieldChange, Operation, ResourceChange, ref
from ...providers.base import ExecResult, Live, Provider, ReadInputs, Resource
from ..microworkers import reference
from .kinds import KINDS
from .plan import EXCLUDE_LIST, FIELD_POLICY, CampaignChanges
from .read import (
    ADMIN_STATUSES,
    LIST,
    NO_CAMPAIGNS,
    NOTHING_ADDED,
    NOTHING_REMOVED,
    PENDING_STATUSES,
    PREFIX,
    Catalog,
    campaign_attrs,
    countries,
    error_text,
    pick_by_title,
    positions_left,
    proofs,
    v1_error,
)

BLOCKLIST_ID = "exclude_list"
#: lifecycle action -> (statuses it leads to, statuses it leaves); the other writes read back a field
V1_READ_BACK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pause": (("PAUSED",), ("RUNNING",)),
    "resume": (("RUNNING",), ("PAUSED",)),
    "stop": (("FINISHED",), ("RUNNING", "PAUSED")),
    "restart": (("RUNNING", "PENDING_RESTART", "PENDING_REVIEW"), ("FINISHED",)),
    "add-positions": ((), ()), "set-speed": ((), ()), "retarget": ((), ()), "change-group": ((), ()), "toggle-qt": ((), ()),
}  # fmt: skip
#: 4xx replies whose JSON body says what happened (429 stays with the client's retry rules)
BODY_DECIDES = tuple(s for s in range(400, 500) if s != 429)


def _from_config(inputs: ReadInputs) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """What a read needs of the config, from its inputs' desired attributes: Campaign address ->
    (type, title), what a campaign without state id is found by (v1 campaigns carry no marker);
    WorkerGroup address -> group id."""
    titles: dict[str, tuple[str, str]] = {}
    group_of: dict[str, str] = {}
    for address, kind in inputs.wanted.items():
        d = inputs.desired.get(address)
        if d is None:
            continue
        if kind == "Campaign":
            titles[address] = (d["type"], d["title"])
        elif kind == "WorkerGroup":
            group_of[address] = d["groupId"]
    return titles, group_of


def _kind_of(address: str) -> str:
    return kind_of(address, MicroworkersV1Provider.kinds)


class MicroworkersV1Provider(CampaignChanges, Provider):
    type = "microworkers-v1"
    kinds = KINDS.kinds
    pay_fields = ("payment_per_task", "minutes_to_finish")  # USD per position, the time limit of one
    references = KINDS.references
    component_lists = KINDS.component_lists
    schedule_fields = frozenset()
    official_endpoint = "https://api.microworkers.com"
    platform_name = "Microworkers API v1"
    error_parser: ClassVar[ErrorParser] = v1_error
    field_policy = FIELD_POLICY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = Catalog()
        # WorkerGroup address -> group id, of the config the reads were given (their ReadInputs):
        # what the plan sends as a campaign's group_id, as the catalogs are what it checks against
        self._group_of: dict[str, str] = {}
        self._notes: dict[str, tuple[list[str], list[str]]] = {}  # address -> (warnings, errors)

    # -- connection ------------------------------------------------------------------------
    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        key = credentials.get("apiKey") or credentials.get("token")
        return {"MicroworkersApiKey": key} if key else {}

    async def call(
        self, method: str, path: str, *, data: Any = None, params: dict[str, Any] | None = None,
        idempotent: bool | None = None, accept: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:  # fmt: skip
        """One v1 call; the body's ``status`` decides. An ERROR whose text is in ``accept`` -> None."""
        response = await self.client.request(
            method, path, data=data, params=params, idempotent=idempotent, ok_statuses=BODY_DECIDES
        )
        try:
            body = self.client.decode(response)
        except ApiError:
            if response.status_code < 400:
                raise
            raise self.client.error_from(response) from None  # an HTML error page, say
        if isinstance(body, dict) and body.get("status") == "SUCCESS":
            return body
        if isinstance(body, dict) and body.get("status") == "ERROR" and error_text(body) in accept:
            return None
        raise self.client.error_from(response)

    # -- offline ---------------------------------------------------------------------------
    @classmethod
    def check(cls, doc: Document, config: Config) -> list[Diagnostic]:
        earlier: list[Document] = []  # the documents of its kind before it (by identity: O(n), not a == per pair)
        if doc.kind in ("Blocklist", "WorkerGroup"):
            for sibling in config.named(doc.provider or "", doc.kind).values():
                if sibling is doc:
                    break
                earlier.append(sibling)
            else:
                earlier = []
        if doc.kind == "Blocklist" and earlier:
            first = earlier[0]
            return [
                doc.field_mark("name").diag(
                    f"provider {doc.provider!r} already has a Blocklist ({first.name!r}, {first.file}:{first.field_mark('name').line}); "
                    "the employer exclude list is account-wide, so there is at most one Blocklist per provider"
                )
            ]
        if doc.kind == "WorkerGroup":
            same = [d for d in earlier if str(d.spec.get("groupId")) == str(doc.spec.get("groupId"))]
            if same:
                return [
                    doc.mark("groupId").diag(
                        f"spec.groupId: hire group {doc.spec.get('groupId')} is already declared as WorkerGroup "
                        f"{same[0].name!r} ({same[0].file}:{same[0].field_mark('name').line}); declare each group once"
                    )
                ]
        return []

    def desired(self, doc: Document, config: Config) -> dict[str, Any]:
        spec = doc.spec
        if doc.kind == "WorkerGroup":
            return {"groupId": str(spec["groupId"])}
        if doc.kind == "Blocklist":
            return {"workers": sorted({str(w) for w in spec.get("workers", [])})}
        type_ = spec["type"]
        out: dict[str, Any] = {"type": type_, "title": str(spec["title"]).strip()}
        if type_ == "basic":
            out["zone"] = spec["zone"]
            out["selected_countries"] = countries(spec.get("selected_countries", []))
        else:
            out["group"] = address_of(self.name, "WorkerGroup", spec["group"])
        out.update(
            category=str(spec["category"]),
            available_positions=int(spec["available_positions"]),
            payment_per_task=round(float(spec["payment_per_task"]), 5),
        )
        if type_ == "basic":
            out["speed"] = int(spec["speed"])
        else:
            out["max_positions_per_worker"] = int(spec["max_positions_per_worker"])
        out.update(
            minutes_to_finish=int(spec["minutes_to_finish"]),
            ttr=int(spec["ttr"]),
            required_work=str(spec["required_work"]).strip(),
            required_proof=proofs(spec["required_proof"]) if type_ == "hire-group" else str(spec["required_proof"]).strip(),
            auto_rate=spec["auto_rate"],
            file_proof=int(spec["file_proof"]),
            qt_required=bool(spec.get("qt_required", True)),
            state=spec.get("state", "running"),
        )
        return out

    # -- reading ---------------------------------------------------------------------------
    async def _campaigns(self, type_: str) -> list[dict[str, Any]]:
        body = await self.call("GET", LIST[type_], params={"folder": "DEFAULT"}, accept=(NO_CAMPAIGNS,))
        items = (body or {}).get("campaigns") or []
        return [{**item, "_type": type_} for item in items if item.get("folder", "DEFAULT") == "DEFAULT"]

    async def _catalogs(self, types: set[str], groups: bool) -> None:
        """The account's zones, categories (per type) and hire groups, read liberally
        (:mod:`.microworkers_reference`); one of an unexpected shape is left unchecked and noted."""
        self.catalog.unreadable = []

        def parsed(name: str, value: Any) -> Any:
            if value is None:
                self.catalog.unreadable.append(reference.unreadable(name))
            return value

        async def zones() -> None:
            body = await self.call("GET", "/campaign_b/zones_list")
            self.catalog.zones = parsed("/campaign_b/zones_list", reference.v1_zones(body))

        async def categories(type_: str) -> None:
            body = await self.call("GET", f"{PREFIX[type_]}/categories_list")
            found = parsed(f"{PREFIX[type_]}/categories_list", reference.v1_categories(body))
            if found is not None:
                self.catalog.categories[type_] = found
            else:
                self.catalog.categories.pop(type_, None)

        async def group_list() -> None:
            body = await self.call("GET", "/campaign_hg/groups_list")
            self.catalog.groups = parsed("/campaign_hg/groups_list", reference.v1_groups(body))

        jobs = [categories(t) for t in sorted(types)]
        if "basic" in types:
            jobs.append(zones())
        if groups:
            jobs.append(group_list())
        await asyncio.gather(*jobs)

    async def read(self, inputs: ReadInputs, only: set[str] | None = None) -> dict[str, Live]:
        """With ``only``, the lists and catalogs its addresses need: v1 has no cheaper read of a few
        campaigns than ``list_extend`` (every campaign of a type in one call)."""
        known, wanted = inputs.known, inputs.wanted
        self._notes.clear()
        titles, group_of = _from_config(inputs)
        self._group_of.update(group_of)  # for the plan (a lookup's read, given one address, takes none away)
        group_address = {gid: address for address, gid in group_of.items()}
        kinds = {**{a: _kind_of(a) for a in known}, **wanted}
        if only is not None:
            kinds = {a: k for a, k in kinds.items() if a in only}
        types = {titles[a][0] for a, k in kinds.items() if k == "Campaign" and a in wanted and a in titles}
        need_groups = "hire-group" in types or "WorkerGroup" in kinds.values()
        campaigns_needed = "Campaign" in kinds.values()
        # the list of each type the config or state holds (both for a state entry whose type is not
        # recorded): a list nobody needs is not asked for, so a platform without it fails nothing
        listed = set(types)
        for address, kind in kinds.items():
            if kind == "Campaign" and address in known:
                recorded = (inputs.applied.get(address) or {}).get("type")
                listed |= {recorded} if recorded in LIST else set(LIST)
        lists = [self._campaigns(t) for t in ("basic", "hire-group") if t in listed] if campaigns_needed else []
        results = await asyncio.gather(
            asyncio.gather(*lists),
            self._catalogs(types, need_groups),
            self._exclude_list() if "Blocklist" in kinds.values() else _none(),
        )
        found: dict[str, Live] = {}
        if campaigns_needed:
            self._match_campaigns([c for batch in results[0] for c in batch], known, wanted, found, titles, group_address)
        self._read_groups(known, wanted, found, group_of)
        workers = results[2]
        if workers is not None:
            for address, kind in sorted(kinds.items()):
                if kind == "Blocklist":
                    found[address] = Live(address, "Blocklist", BLOCKLIST_ID, {"workers": workers},
                                          found_by="as the account's employer exclude list")  # fmt: skip
        return found

    def _match_campaigns(
        self, items: list[dict[str, Any]], known: Mapping[str, Any], wanted: Mapping[str, str], found: dict[str, Live],
        titles: Mapping[str, tuple[str, str]], group_address: Mapping[str, str],
    ) -> None:
        by_id = {str(c.get("campaign_id")): c for c in items}
        claimed = {str(v) for a, v in known.items() if _kind_of(a) == "Campaign"}
        for address, cid in sorted(known.items()):
            if _kind_of(address) == "Campaign" and str(cid) in by_id:
                found[address] = self._live(address, by_id[str(cid)], group_address)
        for address, kind in sorted(wanted.items()):
            if kind != "Campaign" or address in known:
                continue
            want = titles.get(address)
            if want is None:
                continue
            type_, title = want
            candidates = [
                c for c in items
                if c["_type"] == type_ and str(c.get("title", "")).strip() == title and str(c.get("campaign_id")) not in claimed
            ]  # fmt: skip
            chosen, problem = pick_by_title(candidates)
            if problem:
                self._note(address, error=problem)
            if chosen is not None:
                claimed.add(str(chosen.get("campaign_id")))
                live = self._live(address, chosen, group_address)
                live.found_by = f"by its exact title {title!r} (v1 campaigns carry no address marker)"
                found[address] = live

    def _live(self, address: str, rec: dict[str, Any], group_address: Mapping[str, str]) -> Live:
        type_ = rec["_type"]
        group = None
        if type_ == "hire-group":
            gid = str(rec.get("group_id", ""))
            group = group_address.get(gid, f"{self.name}/workergroup/#{gid}")
        attrs = campaign_attrs(rec, type_, group)
        return Live(address, "Campaign", str(rec["campaign_id"]), attrs, status=str(rec.get("campaign_status")), raw=rec)

    def _read_groups(
        self, known: Mapping[str, Any], wanted: Mapping[str, str], found: dict[str, Live], group_of: Mapping[str, str],
    ) -> None:
        unreadable = self.catalog.groups is None and any("groups_list" in u for u in self.catalog.unreadable)
        groups = self.catalog.groups or {}
        for address, kind in sorted(wanted.items()):
            if kind != "WorkerGroup":
                continue
            gid = group_of.get(address)
            if unreadable and gid is not None:  # cannot be checked: taken as it is declared
                recorded = str(known.get(address, gid))
                found[address] = Live(address, "WorkerGroup", recorded, {"groupId": recorded},
                                      found_by="as declared (groups_list could not be read)")  # fmt: skip
            elif gid in groups:
                recorded = str(known.get(address, gid))  # a changed groupId shows as a change
                found[address] = Live(address, "WorkerGroup", recorded, {"groupId": recorded},
                                      found_by=f"in groups_list ({groups[gid]})")  # fmt: skip
        for address, gid in known.items():
            if _kind_of(address) == "WorkerGroup" and address not in wanted and str(gid) in groups:
                found[address] = Live(address, "WorkerGroup", str(gid), {"groupId": str(gid)})

    async def _exclude_list(self) -> list[str]:
        body = await self.call("GET", EXCLUDE_LIST)
        return sorted({str(w.get("User ID")) for w in (body or {}).get("workers") or [] if w.get("User ID") is not None})

    def comparable(self, res: Resource) -> dict[str, Any]:
        assert res.live is not None
        attrs = dict(res.live.attrs)
        d = res.desired or {}
        if res.kind != "Campaign":
            return attrs
        status, want = res.live.status, d.get("state")
        if "positions_done" in res.live.raw:
            ran_out = positions_left(res.live.raw) <= 0
        else:  # undocumented field: one the last apply left running that is FINISHED now ran out
            ran_out = (res.applied or {}).get("state") in ("running", "paused")
        if status == "FINISHED" and want in ("running", "paused") and ran_out:
            attrs["state"] = want  # it used all its positions: nothing left to run
        elif status in ("PAUSED_ADMIN", "PAUSED_SYSTEM") and want == "paused":
            attrs["state"] = want
        return attrs

    async def balance(self) -> float | None:
        return None  # v1 has no balance endpoint

    # -- planning --------------------------------------------------------------------------
    def annotate(self, res: Resource, change: ResourceChange, ops: list[Operation]) -> None:
        if res.kind == "WorkerGroup" and res.live is None and res.desired is not None:
            # a hire group exists on the account already: one not found is an error, never a create
            change.actions = ["no-op"]
            change.errors += self.catalog.group_problems(res.desired["groupId"]) or [
                f"hire group {res.desired['groupId']} was not found in groups_list"
            ]
            return
        warnings, errors = self._notes.pop(res.address, ([], []))
        if res.desired is not None and res.kind in ("Campaign", "WorkerGroup") and change.actions != ["no-op"]:
            warnings = [*self.catalog.unreadable, *warnings]
        change.warnings += warnings
        change.errors += errors
        if res.desired is not None:
            creates = any(op.action == "create" for op in ops)
            change.errors += self._catalog_problems(res, creates, {f.path.split("[")[0] for f in change.fields})
        if res.kind == "Blocklist" and res.live is not None and res.desired is not None:
            before, after = set(res.live.attrs["workers"]), set(res.desired["workers"])
            change.fields = [f for f in (
                FieldChange("workers", None, sorted(after - before)) if after - before else None,
                FieldChange("workers", sorted(before - after), None) if before - after else None,
            ) if f]  # fmt: skip

    def _catalog_problems(self, res: Resource, creates: bool, changed: set[str]) -> list[str]:
        d = res.desired or {}
        if res.kind == "WorkerGroup":
            return self.catalog.group_problems(d["groupId"])
        if res.kind != "Campaign":
            return []
        out: list[str] = []
        zone = d.get("zone") if d["type"] == "basic" else None
        if zone and (creates or changed & {"zone", "selected_countries"}):
            out += self.catalog.zone_problems(zone, d.get("selected_countries", []))
        if creates or (zone and "zone" in changed):  # the minimum payment depends on the zone
            known_zone = zone if zone and not out else None
            out += self.catalog.category_problems(d["type"], d["category"], d["payment_per_task"], known_zone)
        return out

    def create_ops(self, res: Resource) -> list[Operation]:
        d, address = res.desired or {}, res.address
        if res.kind != "Campaign":
            return []  # WorkerGroup and Blocklist exist on the account already (handled in plan_change)
        if d["state"] == "stopped":
            self._note(address, error="a new campaign cannot start out stopped: set state running or paused")
            return []
        ops = [
            self.op(address, "create", f"POST {PREFIX[d['type']]}/new_campaign", payload=self._form(d), records="create",
                    cost=self._cost(d["payment_per_task"], d["available_positions"]))
        ]  # fmt: skip
        if d["state"] == "paused":
            self._note(address, warning="a new campaign is reviewed by Microworkers first (PENDING_REVIEW); "
                       "the pause fails until it runs: run apply again then")  # fmt: skip
            ops.append(self._action(address, d["type"], "pause", "pause", ref(address)))
        return ops

    def update_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        live, d, address = res.live, res.desired or {}, res.address
        assert live is not None
        if res.kind == "WorkerGroup":
            return [self.op(address, "record", f"(state only) groupId -> {d['groupId']}", payload={"groupId": d["groupId"]},
                            records="create")]  # fmt: skip
        if res.kind == "Blocklist":
            return self._blocklist_ops(res)
        return self._campaign_ops(res, changed)

    def delete_ops(self, res: Resource, remote_id: Any, *, deposed: bool = False) -> list[Operation]:
        address = res.address
        if res.kind != "Campaign":
            what = "hire group" if res.kind == "WorkerGroup" else "exclude list"
            self._note(address, warning=f"campaignctl stops managing the {what}; it stays on Microworkers as it is")
            return [self.op(address, "forget", "(state only)", records="forget")]
        live = res.live
        status = str(live.status) if live is not None and live.id == remote_id else "unknown"
        type_ = live.attrs.get("type", "basic") if live is not None else "basic"
        suffix = f"@{remote_id}" if deposed else ""
        if not deposed:
            self._note(address, warning="v1 has no delete: campaignctl stops the campaign (if it runs) and forgets it; "
                       "it stays in the Microworkers account")  # fmt: skip
        if status in ("RUNNING", "PAUSED"):
            return [self._action(address, type_, f"stop{suffix}", "stop", remote_id, destructive=True,
                                 records=None if deposed else "forget")]  # fmt: skip
        if status == "FINISHED":
            return [] if deposed else [self.op(address, "forget", "(state only)", records="forget")]
        why = ADMIN_STATUSES.get(status) or PENDING_STATUSES.get(status) or "status unknown"
        if deposed:
            self._note(address, warning=f"the old campaign {remote_id} is {status} ({why}) and v1 cannot stop it: "
                       "stop it on Microworkers once it runs")  # fmt: skip
            return []
        self._note(address, warning=f"the campaign is {status} ({why}) and v1 stops only RUNNING or PAUSED campaigns: "
                   "it stays in state; run apply again once it runs")  # fmt: skip
        return []

    # -- applying --------------------------------------------------------------------------
    async def execute(self, op: Operation) -> ExecResult:
        if op.action == "record":
            return ExecResult(id=op.payload["groupId"])
        method, path = op.call.split(" ")[:2]
        path = path.replace("{id}", str(op.target))
        data = dict(op.payload or {})
        accept: tuple[str, ...] = ()
        if op.action == "toggle-qt":
            want = bool(data.pop("qt_required"))
            info = await self.call("GET", path.replace("/toggle_qt_required/", "/get_info/"))
            if (str((info or {}).get("qt_required")) == "1") == want:
                return ExecResult()  # already as wanted (a retried apply must not toggle twice)
        elif op.action == "exclude-add":
            accept = (NOTHING_ADDED,)  # every id is already excluded: nothing to do
        elif op.action == "exclude-remove":
            accept = (NOTHING_REMOVED,)
        data.pop("expect", None)  # what confirm reads back, not a parameter
        # every write is sent once: one that went unanswered is read back (confirm) before it is
        # sent again (a pause repeated after it took fails with CAMPAIGN NOT RUNNING)
        body = await self.call(method, path, data=data or None, idempotent=False, accept=accept)
        if op.action == "create":
            campaign_id = (body or {}).get("campaign_id")
            if not campaign_id:
                raise ApiError(f"{path} answered SUCCESS without a campaign_id", method=method, url=path)
            return ExecResult(id=str(campaign_id))
        return ExecResult()

    async def confirm(self, op: Operation) -> bool | None:
        """After a write other than a create went unanswered (or failed with a 5xx): read it back.
        A lifecycle call (pause, resume, stop, restart_campaign) took when get_info's
        ``campaign_status`` is the one it leads to, and did not while it is one the call leaves;
        add_positions when ``available_positions`` reached what the plan expects; set_speed,
        retarget, change_group and toggle_qt_required when the field reads as sent; an exclude-list
        edit when the list holds (or no longer holds) the workers."""
        action = op.action.split("@", 1)[0]
        payload = op.payload if isinstance(op.payload, dict) else {}
        if action in ("exclude-add", "exclude-remove"):
            listed = set(await self._exclude_list())
            workers = {str(w) for w in payload.get("worker[]") or []}
            return workers <= listed if action == "exclude-add" else not workers & listed
        if action not in V1_READ_BACK:
            return None
        prefix = "/" + op.call.split(" ")[1].split("/")[1]
        info = await self.call("GET", f"{prefix}/get_info/{op.target}") or {}
        status = str(info.get("campaign_status"))
        if action in ("pause", "resume", "stop", "restart"):
            leads_to, leaves = V1_READ_BACK[action]
            if status in leads_to:
                return True
            return False if status in leaves else None
        if action == "add-positions":
            expect = payload.get("expect")
            if not isinstance(expect, int):
                return None
            try:
                return int(str(info.get("available_positions")).strip()) >= expect
            except ValueError:
                return None
        if action == "toggle-qt":
            return (str(info.get("qt_required")).strip() == "1") == bool(payload.get("qt_required"))
        fields = {"set-speed": ("speed",), "retarget": ("zone", "selected_countries"), "change-group": ("group_id",)}[action]
        for key in fields:
            sent, now = payload.get(key), info.get(key)
            if key == "selected_countries":
                sent, now = countries(sent), countries(now)
            elif key == "zone" or key == "group_id":
                sent, now = str(sent), str(now)
            else:
                sent, now = str(sent).strip(), str(now).strip()
            if sent != now:
                return False
        return True

    # -- importing (campaignctl import) ----------------------------------------------------
    async def read_account(self, managed: dict[tuple[str, str], str]) -> dict[str, Live]:
        """Every hire group, (DEFAULT folder) campaign and the exclude list (when it lists anyone)
        that ``managed`` ((kind, id) -> address) does not hold, as ``<provider>/<kind>/#<id>``."""
        results = await asyncio.gather(
            self._campaigns("basic"), self._campaigns("hire-group"), self._catalogs(set(), True), self._exclude_list()
        )
        found: dict[str, Live] = {}
        groups: dict[str, str] = {}
        for gid, gname in sorted((self.catalog.groups or {}).items()):
            address = managed.get(("WorkerGroup", gid))
            if address is None:
                address = f"{self.name}/workergroup/#{gid}"
                found[address] = Live(address, "WorkerGroup", gid, {"groupId": gid}, raw={"group_name": gname})
            groups[gid] = address
        for rec in [*results[0], *results[1]]:
            if ("Campaign", str(rec.get("campaign_id"))) in managed:
                continue
            address = f"{self.name}/campaign/#{rec['campaign_id']}"
            live = self._live(address, rec, groups)
            if rec["_type"] == "hire-group":
                gid = str(rec.get("group_id", ""))
                live.attrs["group"] = groups.get(gid, f"{self.name}/workergroup/#{gid}")
            found[address] = live
        workers = results[3]
        if workers and not any(kind == "Blocklist" for kind, _ in managed):
            address = f"{self.name}/blocklist/#{BLOCKLIST_ID}"
            found[address] = Live(address, "Blocklist", BLOCKLIST_ID, {"workers": workers})
        return found

    def export_documents(self, live: dict[str, Live], ctx: Any) -> list[Any]:
        """Import: one file per campaign, ``groups.yaml`` (hire groups) and ``blocklist.yaml``."""
        from ...providers.export import ExportedDoc

        groups = sorted((o for o in live.values() if o.kind == "WorkerGroup"), key=lambda o: str(o.id))
        campaigns = sorted((o for o in live.values() if o.kind == "Campaign"),
                           key=lambda o: (str(o.raw.get("created_datetime", "")), str(o.id)))  # fmt: skip
        out: list[Any] = []
        for obj in groups:
            name = ctx.assign(obj, obj.raw.get("group_name"), f"group-{obj.id}")
            out.append(ExportedDoc("WorkerGroup", name, {"groupId": str(obj.id)}, "groups.yaml", self.name, obj,
                                   f"hire group {obj.id} ({obj.raw.get('group_name', '')})"))  # fmt: skip
        for obj in campaigns:
            a = obj.attrs
            name = ctx.assign(obj, a["title"])
            doc = ExportedDoc("Campaign", name, {}, f"campaign-{name}.yaml", self.name, obj, ctx.source(obj))
            s = doc.spec
            s.update(type=a["type"], title=a["title"])
            if a["type"] == "basic":
                s["zone"] = a["zone"]
                if a["selected_countries"]:
                    s["selected_countries"] = a["selected_countries"]
            else:
                group = ctx.ref(a["group"])
                if group is None:
                    ctx.skip(obj, f"its hire group {a['group'].rsplit('#', 1)[-1]} is not in groups_list, so no "
                                  "WorkerGroup document can name it")  # fmt: skip
                    continue
                s["group"] = group
            s.update(category=a["category"], available_positions=a["available_positions"])
            if a["type"] == "hire-group":
                s["max_positions_per_worker"] = a["max_positions_per_worker"]
            s["payment_per_task"] = a["payment_per_task"]
            if a["type"] == "basic":
                s["speed"] = a["speed"]
            s.update({k: a[k] for k in ("minutes_to_finish", "ttr", "required_work", "required_proof", "auto_rate",
                                        "file_proof", "qt_required")})  # fmt: skip
            state = a["state"]
            if state in ("running", "paused", "stopped"):
                s["state"] = state
            elif obj.status in ("PAUSED_ADMIN", "PAUSED_SYSTEM"):
                s["state"] = "paused"
                doc.notes.append(f"state: {obj.status} on Microworkers (paused by the platform)")
            else:
                s["state"] = "running"
                doc.ignore("state", note=f"state: the campaign is {obj.status} on Microworkers, which the config cannot ask "
                                         "for; state is left to the platform (ignoreChanges)")  # fmt: skip
            out.append(doc)
        for obj in live.values():
            if obj.kind == "Blocklist":
                name = ctx.assign(obj, "excluded-workers")
                out.append(ExportedDoc("Blocklist", name, {"workers": list(obj.attrs["workers"])}, "blocklist.yaml",
                                       self.name, obj, "the employer exclude list"))  # fmt: skip
        return out


async def _none() -> None:
    return None
