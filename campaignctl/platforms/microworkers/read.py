"""Microworkers API v2: reading live state (the account's lists, or campaigns by id, and the
reference data), normalised to the shape of the desired attributes; the rows a campaign holds as
far as state recorded them. A mixin of :mod:`campaignctl.platforms.microworkers.provider`."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ...address import kind_of
from ...errors import ApiError
from ...http import error_json
from ...paging import PageGuard
from ...providers.base import Live, ReadInputs
from . import reference
from .model import COLLECTION, DEFAULTS, HIRE_FIELDS, INTERNAL_DEFAULTS, KINDS, STATUS
from .rows import desired_rows, id_digests, normalise_limit, summary_of

if TYPE_CHECKING:
    from ...http import ApiClient

log = logging.getLogger("campaignctl.microworkers")


def mw_error(response: httpx.Response) -> tuple[str | None, str]:
    """problem+json: ``title`` is the error code, ``detail`` the message, ``errors`` the fields."""
    body, text = error_json(response)
    if text is not None:
        return None, text
    if not isinstance(body, dict):
        return None, response.reason_phrase
    code = body.get("title") or body.get("code")
    message = str(body.get("detail") or body.get("message") or response.reason_phrase)
    errors = body.get("errors") or []
    if errors and isinstance(errors, list):
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors[:10] if isinstance(e, dict))
        if fields and fields not in message:
            message = fields
    return (str(code) if code is not None else None), message


def _num(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _kind_of(address: str) -> str:
    return kind_of(address, KINDS)


class CampaignReads:
    """The v2 reads: everything a read needs of the config comes in its ``ReadInputs`` (the
    desired attributes, the documents), nothing from ``desired``. Expects the provider's
    ``client``, ``name``, ``page_size``, ``root``; sets what it learns of the account (reference
    data, the fee) for the plan."""

    name: str
    page_size: int
    root: Path
    fee: float
    _categories: dict[str, float] | None
    _zones: dict[str, list[str]] | None
    _unreadable: list[str]
    if TYPE_CHECKING:  # provided by Provider

        @property
        def client(self) -> ApiClient: ...

    @staticmethod
    def _question(q: dict[str, Any]) -> dict[str, Any]:
        return {"name": q["name"], "type": q.get("type", "text"), "required": bool(q.get("required", False)),
                "options": list(q.get("options") or [])}


    async def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        guard = PageGuard(path, redact=self.client.redact)  # a token that comes back, endless pages
        while True:
            query: dict[str, Any] = {"pageSize": min(self.page_size, 100), **params}
            if token:
                query["nextPageToken"] = token
            body = await self.client.json("GET", path, params=query)
            page = body.get("items") or []
            guard.items(item.get("id") for item in page if isinstance(item, dict))
            items += page
            token = body.get("nextPageToken")
            if not token:
                return items
            guard.follow(str(token), f"nextPageToken {token!r}")

    async def _optional_get(self, path: str) -> Any:
        """A read the plan can do without (reference data, the balance; known from third-party
        client code, not the docs): a platform without the route (404, 405, 501) answers None."""
        try:
            return await self.client.json("GET", path)
        except ApiError as exc:
            if exc.status in (404, 405, 501):
                log.info("%s: GET %s answered HTTP %s; planning without it", self.name, path, exc.status)
                return None
            raise

    async def _reference_data(self) -> None:
        categories, config = await asyncio.gather(
            self._optional_get("/basic-categories"), self._optional_get("/basic-campaigns/configuration")
        )
        self._categories = reference.v2_categories(categories)
        self._zones = reference.v2_zones(config)
        self._unreadable = [reference.unreadable(name) for name, parsed in (
            ("GET /basic-categories", self._categories), ("GET /basic-campaigns/configuration (zones)", self._zones))
            if parsed is None]  # fmt: skip
        rate = ((config if isinstance(config, dict) else {}).get("fee") or {})
        rate = rate.get("rate") if isinstance(rate, dict) else None
        if isinstance(rate, (int, float)):
            self.fee = float(rate)

    async def _account_lists(self, needed: set[str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Templates, basic and hire-group campaigns (and the reference data to read them with).
        ``needed`` (None: all): the lists to read, of "Template", "basic", "hire-group"; a list
        nobody needs is not asked for, so a platform without it fails nothing."""
        want = {"Template", *COLLECTION} if needed is None else needed

        async def listing(name: str, path: str, **params: Any) -> list[dict[str, Any]]:
            return await self._list(path, **params) if name in want else []

        async def reference_data() -> None:
            if want & set(COLLECTION):
                await self._reference_data()

        templates, basic, hire, _ = await asyncio.gather(
            listing("Template", "/templates"),
            listing("basic", "/basic-campaigns", sort="id"),
            listing("hire-group", "/hire-group-campaigns", sort="id"),
            reference_data(),
        )
        return templates, basic, hire

    def _lists_needed(self, inputs: ReadInputs) -> set[str]:
        """The lists a plan reads: templates when the config or state holds a Template; the
        campaigns of each type the config or state holds (both for a state entry whose type state
        does not say)."""
        known, wanted = inputs.known, inputs.wanted
        needed: set[str] = set()
        for address in set(known) | set(wanted):
            kind = _kind_of(address)
            if kind == "Template":
                needed.add("Template")
            elif kind == "Campaign":
                desired = (inputs.desired.get(address) or {}).get("type") if address in wanted else None
                applied = (inputs.applied.get(address) or {}).get("type")
                needed |= {t for t in (desired, applied) if t in COLLECTION}
                if address in known and applied not in COLLECTION:
                    needed |= set(COLLECTION)
        return needed

    async def _campaigns_by_id(self, inputs: ReadInputs, only: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        """(basic, hire-group) campaigns of ``only`` that state knows, one ``GET`` each, in place of
        the two lists: ``read`` then matches them as it matches the lists (a known campaign is only
        ever found by its id, so one gone or archived is simply absent). None when a campaign of
        ``only`` the config wants has no state id (found by its title among all) or the GETs would
        outnumber the list pages (estimated from state: a page per 100 campaigns of each type, at
        least one)."""
        known, wanted = inputs.known, inputs.wanted
        if any(a in wanted and a not in known and _kind_of(a) == "Campaign" for a in only):
            return None
        types = {a: (inputs.applied.get(a) or inputs.desired.get(a) or {}).get("type", "basic")
                 for a in known if _kind_of(a) == "Campaign"}  # fmt: skip
        size = min(self.page_size, 100)
        pages = sum(max(1, -(-sum(1 for t in types.values() if t == kind) // size)) for kind in COLLECTION)
        targets = [a for a in only if a in types]
        if len(targets) > pages:
            return None

        async def one(address: str) -> tuple[str, dict[str, Any]] | None:
            first = types[address] if types[address] in COLLECTION else "basic"
            for kind in (first, *(k for k in COLLECTION if k != first)):  # the type state recorded, then the other
                try:
                    obj = await self.client.json("GET", f"/{COLLECTION[kind]}/{known[address]}")
                except ApiError as exc:
                    if exc.status == 404:
                        continue
                    raise
                return (kind, obj) if obj.get("folder", "DEFAULT") == "DEFAULT" else None  # the lists show DEFAULT only
            return None

        read = [r for r in await asyncio.gather(*(one(a) for a in targets)) if r is not None]
        return [obj for kind, obj in read if kind == "basic"], [obj for kind, obj in read if kind == "hire-group"]

    async def read(self, inputs: ReadInputs, only: set[str] | None = None) -> dict[str, Live]:
        """Templates by state id or exact title, campaigns by state id or exact title (the two lists),
        and the task rows of unique-task campaigns when needed. With ``only``, its campaigns may be
        read by id instead (:meth:`_campaigns_by_id`); templates and reference data are read whole."""
        known, wanted = inputs.known, inputs.wanted
        needed = self._lists_needed(inputs)
        by_id_read = await self._campaigns_by_id(inputs, only) if only is not None else None
        if by_id_read is None:
            templates, basic, hire = await self._account_lists(needed)
        else:
            basic, hire = by_id_read
            (templates, _, _), _ = await asyncio.gather(self._account_lists(needed - set(COLLECTION)),
                                                        self._reference_data())
        found: dict[str, Live] = {}
        claimed = {(_kind_of(a), str(v)) for a, v in known.items()}
        by_id = {(_kind_of(a), str(v)): a for a, v in known.items()}
        tpl_address: dict[str, str] = {}
        # templates: by state id, else by exact title
        for tpl in templates:
            address = by_id.get(("Template", str(tpl["id"])))
            if address is None:
                address = next((a for a, k in wanted.items() if k == "Template" and a not in known and a not in found
                                and (inputs.desired.get(a) or {}).get("title") == tpl.get("title")), None)
            if address is not None:
                found[address] = self._template(address, tpl)
                tpl_address[str(tpl["id"])] = address
        campaigns = [("basic", c) for c in basic] + [("hire-group", c) for c in hire]
        candidates: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for kind, obj in campaigns:
            address = by_id.get(("Campaign", str(obj["id"])))
            if address is not None:
                found[address] = self._campaign(address, kind, obj, tpl_address, inputs)
            elif ("Campaign", str(obj["id"])) not in claimed:
                for a, k in wanted.items():
                    d = inputs.desired.get(a) or {}
                    if k == "Campaign" and a not in known and d.get("title") == obj.get("title") and d.get("type") == kind:
                        candidates.setdefault(a, []).append((kind, obj))
        for address, objs in candidates.items():
            objs.sort(key=lambda ko: (ko[1].get("status") != "FINISHED", ko[1].get("created") or ""), reverse=True)
            kind, obj = objs[0]
            found[address] = self._campaign(address, kind, obj, tpl_address, inputs)
        await asyncio.gather(*(self._read_rows(live, inputs) for live in found.values() if live.kind == "Campaign"))
        return found

    def _template(self, address: str, tpl: dict[str, Any]) -> Live:
        attrs = {
            "title": tpl.get("title"),
            "htmlCode": tpl.get("htmlCode") or "",
            "cssSection": tpl.get("cssSection") or "",
            "jsSection": tpl.get("jsSection") or "",
            "questions": [self._question(q) for q in tpl.get("questions") or []],
        }
        return Live(address, "Template", tpl["id"], attrs, raw=tpl)

    def _campaign(
        self, address: str, kind: str, obj: dict[str, Any], tpl_address: dict[str, str], inputs: ReadInputs | None = None,
    ) -> Live:
        applied = inputs.applied if inputs is not None else {}
        desired = inputs.desired if inputs is not None else {}
        attrs: dict[str, Any] = {
            "type": kind,
            "title": obj.get("title"),
            "description": obj.get("description"),
            "categoryId": str(obj.get("categoryId")),
            "paymentPerTask": _num(obj.get("paymentPerTask")),
            "minutesToFinish": obj.get("minutesToFinish"),
            "zone": None,
        }
        geo = obj.get("geoZone")
        if kind == "basic" and isinstance(geo, dict):
            codes = sorted(reference.country_codes(geo.get("countries")))
            if geo.get("id") == "int":
                everything = (self._zones or {}).get("int")
                if everything:
                    attrs["zone"] = {"id": "int", "excludedCountries": sorted(set(everything) - set(codes))}
                else:  # which countries are left out cannot be told without the zone's list
                    attrs["zone"] = self._optional({}, "zone", address, {"id": "int", "excludedCountries": []}, applied, desired)
            else:
                attrs["zone"] = {"id": geo.get("id"), "countries": codes}
        internal = obj.get("internalTemplate")
        if internal:
            tid = str(internal.get("id"))
            attrs["template"] = tpl_address.get(tid, f"{self.name}/template/#{tid}")
            attrs["internalTemplate"] = {k: internal.get(k, d) for k, d in INTERNAL_DEFAULTS.items()}
            attrs["externalTemplate"] = None
        else:
            ext = obj.get("externalTemplate") or {}
            attrs["template"] = None
            attrs["internalTemplate"] = None
            attrs["externalTemplate"] = {"url": ext.get("url"), "height": ext.get("height"), "width": ext.get("width"),
                                         "parameters": list(ext.get("parameters") or [])}
        for key, default in DEFAULTS.items():
            attrs[key] = self._optional(obj, key, address, default, applied, desired)
        attrs["maximumJobLimit"] = normalise_limit(obj.get("maximumJobLimit"))
        if kind == "hire-group":
            group = self._optional(obj, "groupId", address, None, applied, desired)
            attrs["groupId"] = None if group is None else str(group)
            for key, default in HIRE_FIELDS.items():
                attrs[key] = self._optional(obj, key, address, default, applied, desired)
        attrs["tasks"] = None
        attrs["availablePositions"] = obj.get("availablePositions")
        attrs["state"] = STATUS.get(str(obj.get("status")), str(obj.get("status")).lower())
        return Live(address, "Campaign", obj["id"], attrs, status=obj.get("status"), raw=obj)

    @staticmethod
    def _optional(
        obj: dict[str, Any], key: str, address: str, default: Any, applied_of: Mapping[str, Any], desired_of: Mapping[str, Any],
    ) -> Any:
        """A field the documented BasicCampaignInfoResponse does not promise (the create/PATCH
        settings it does not echo, the hire-group fields): the platform's value when it answers one,
        else what the last apply set (state), else what the config wants -- never a default that
        would plan a change (or money) only because the answer left the field out."""
        if key in obj:
            return obj[key]
        applied = applied_of.get(address)
        if isinstance(applied, dict) and key in applied:
            return applied[key]
        desired = desired_of.get(address)
        if desired is not None and key in desired:
            return desired[key]
        return default

    def _unique_tasks(self, live: Live, inputs: ReadInputs | None = None) -> bool | None:
        """Does the campaign take unique task rows? From what the platform documents (a
        ``csvUploadJob`` in ``jobQueues``: rows came with the create; template ``variables``: the
        rows fill them), an undocumented ``uniqueTasks`` where answered, and what state recorded
        (rows sent, or the attributes applied); None when nothing tells."""
        raw = live.raw
        if isinstance(raw.get("uniqueTasks"), bool):
            return bool(raw["uniqueTasks"])
        queues = raw.get("jobQueues")
        if (isinstance(queues, dict) and queues.get("csvUploadJob")) or raw.get("variables"):
            return True
        if inputs is None:  # an object no state entry names (import): nothing recorded
            return None
        if (inputs.recorded.get(live.address) or {}).get("rows"):
            return True
        applied = inputs.applied.get(live.address)
        if isinstance(applied, dict) and "tasks" in applied:
            return applied["tasks"] is not None
        return None

    async def _read_rows(self, live: Live, inputs: ReadInputs) -> None:
        """The rows a unique-task campaign holds, as far as campaignctl can know them. The documented
        API has no read of uploaded rows (and rows cannot be edited or deleted, only added), so they
        are the rows state recorded as sent (row id -> digest); a state written before rows were
        recorded counts the config's rows when the last apply uploaded exactly those. When nothing
        tells (adopted, or state lost), the config's rows are taken as uploaded: nothing is sent,
        and the plan says so."""
        unique = self._unique_tasks(live, inputs)
        live.raw["unique"] = unique
        live.raw["rows"] = {}
        desired = inputs.desired.get(live.address) or {}
        if unique is False or (unique is None and desired.get("tasks") is None):
            return
        sent = (inputs.recorded.get(live.address) or {}).get("rows")
        rows = desired_rows(inputs.documents.get(live.address), self.root)
        applied = (inputs.applied.get(live.address) or {}).get("tasks")
        if isinstance(sent, dict):
            digests = {str(k): str(v) for k, v in sent.items()}
        elif rows is not None and isinstance(applied, dict) and summary_of(id_digests(rows)) == applied:
            digests = id_digests(rows)
        else:
            digests = id_digests(rows or [])
            live.raw["rows_unknown"] = True
        live.raw["rows"] = digests
        live.attrs["tasks"] = summary_of(digests)

    async def balance(self) -> float | None:
        me = await self._optional_get("/accounts/me")
        try:
            return float(me["balance"])
        except (KeyError, TypeError, ValueError):
            return None
