"""Microworkers API v2: templates and campaigns (basic and hire-group) with unique task rows.

Identity: v2 objects carry no free-form properties, so the state (address -> id) is the link.
Without a state entry an object is *adopted* when exactly one live object matches: a Template by
its exact ``title`` (titles are unique on Microworkers), a Campaign by its exact ``title`` among
campaigns of the same type that no state entry claims (a running/paused one is preferred over a
finished one, then the newest).

Reading: only what the docs document (the GET basic-campaign page's BasicCampaignInfoResponse) plus
what state recorded. The docs have no read of uploaded task rows: apply records the rows it sent
(``payload["recorded"]``: row id -> digest) in state, and a plan counts those as uploaded. A field
the documented answer does not carry (the create/PATCH settings it does not echo, a hire-group
campaign's group and worker fields) counts as what the last apply set. Only the lists the config or
state needs are read; reference data (categories, zones) in any plausible shape
(:mod:`.microworkers_reference`). An unanswered write other than a create is read back
(:meth:`MicroworkersProvider.confirm`) before it is sent again.

What changes how:

=========  ===========================================  ===========================================
kind       field                                        change
=========  ===========================================  ===========================================
Template   title, htmlCode, cssSection, jsSection,      ``PUT /templates/{id}`` (campaigns keep the
           questions                                    snapshot they were created with)
Campaign   autoRateNokTask, autoRateOkTask,             one ``PATCH /<type>-campaigns/{id}``
           autoRefillPositions, qtRequired,
           successRate, speed, ttr, autoSkipTask,
           notificationSettings,
           timeToWaitAfterSlotExpiration,
           visibilityDelay, maximumJobLimit (schedule),
           groupId (hire-group)
Campaign   new task rows                                ``POST .../tasks-groups`` (running/paused) or
                                                        ``POST .../restart`` (finished), queue job
Campaign   more positions (no unique tasks)             ``POST .../restart`` once finished
Campaign   state running|paused|stopped                 ``PUT .../resume|pause|stop`` (stop is
                                                        destructive); stopped -> running: restart
Campaign   anything else (title, payment, category,     replacement: a new campaign, then the old
           zone, template, minutes ...)                 one is stopped (needs --allow-replace)
Campaign   removed / edited uploaded rows, fewer        impossible (the plan says why)
           positions
=========  ===========================================  ===========================================

Removing a Campaign from the config stops it (if running) and forgets it; a Template is deleted.
Queue jobs (restart, tasks-groups) are polled until ``Uploaded``; ``Validation_Error`` output is
mapped back to the rows' source lines.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from ...address import kind_of
from ...config.model import Config, Document, address_of
from ...errors import ApiError, Diagnostic, TransportError
from ...http import ErrorParser, error_json
from ...paging import PageGuard
from ...plan.diff import same
from ...plan.model import Operation, ResourceChange, ref
from ...providers.base import (
    ExecResult,
    Impossible,
    Live,
    NeedsReplace,
    Provider,
    ReadInputs,
    Resource,
)
from ...providers.fields import REPLACE, Policy, by, each
from ...providers.schedule import check_schedule
from . import reference
from .export import CampaignExport
from .model import (
    COLLECTION,
    DEFAULT_FEE,
    DEFAULTS,
    FIXED,
    HIRE_FIELDS,
    INTERNAL_DEFAULTS,
    MIN_BASIC_POSITIONS,
    PATCHABLE,
    READ_BACK,
    STATUS,
    summary,
    summary_of,
)
from .rows import (
    Row,
    RowTable,
    check_rows_against,
    check_schedule_mw,
    id_digests,
    job_limit,
    load_rows,
    normalise_limit,
    row_changes,
    schedule_doc,
    variables_of,
)

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
    return kind_of(address, MicroworkersProvider.kinds)


class MicroworkersProvider(CampaignExport, Provider):
    type = "microworkers"
    ignore_names: ClassVar[dict[str, list[str]]] = {"internationalZone": ["zone"], "targetedZone": ["zone"], "schedule": ["maximumJobLimit"]}
    kinds = ("Template", "Campaign")
    pay_fields = ("paymentPerTask", "minutesToFinish")  # USD per position, the time limit of one
    references: ClassVar[dict[str, dict[str, str]]] = {"Campaign": {"template": "Template", "schedule": "Schedule"}}
    schedule_fields = frozenset({"start", "end", "daysOfWeek", "workingHours", "limitPerDay", "limitPerHour", "events"})
    official_endpoint = "https://ttv.microworkers.com/api/v2"
    platform_name = "Microworkers API v2"
    error_parser: ClassVar[ErrorParser] = mw_error
    #: a template is replaced in full (PUT); a campaign's FIXED fields are not PATCH fields, so
    #: they need a new campaign; more positions or task rows are added by their own calls
    field_policy: ClassVar[Policy] = {
        "Template": {"*": by("PUT /templates/{id}")},
        "Campaign": {
            **each(FIXED, REPLACE),
            **each(PATCHABLE, by("PATCH")),
            "groupId": by("PATCH"),
            "tasks": by("add-tasks"),
            "availablePositions": by("add-positions"),
            "state": by("lifecycle"),
        },
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fee = DEFAULT_FEE
        self.queue_timeout = float(self.spec.get("queueJobTimeout", 600))
        self._rows: dict[str, list[Row] | RowTable] = {}  # address -> desired rows
        self._desired: dict[str, dict[str, Any]] = {}
        self._categories: dict[str, float] | None = None  # sub-category id -> minimum payment
        self._zones: dict[str, list[str]] | None = None  # zone id -> country codes
        self._unreadable: list[str] = []  # reference lists of an unexpected shape (plan warnings)

    # -- connection ------------------------------------------------------------------------
    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        key = credentials.get("apiKey") or credentials.get("token")
        return {"MicroworkersApiKey": key} if key else {}

    # -- offline ---------------------------------------------------------------------------
    @classmethod
    def check(cls, doc: Document, config: Config) -> list[Diagnostic]:
        if doc.kind != "Campaign":
            return []
        spec = doc.spec
        diags: list[Diagnostic] = []
        schedule = schedule_doc(doc, config)
        if schedule is not None:
            diags += check_schedule(schedule, doc, cls.schedule_fields, "Microworkers")
            diags += check_schedule_mw(schedule, doc)
        kind = spec.get("type", "basic")
        if "template" in spec and "externalTemplate" in spec:
            diags.append(doc.mark("externalTemplate", key=True).diag(
                "spec: give either template (an internal Template) or externalTemplate, not both"))
        elif "template" not in spec and "externalTemplate" not in spec:
            diags.append(doc.mark().diag("spec: a campaign needs a task UI: template (a Template name) or externalTemplate"))
        if "internalTemplate" in spec and "template" not in spec:
            diags.append(doc.mark("internalTemplate", key=True).diag("spec.internalTemplate: settings of the internal template need template: <Template name>"))
        if kind == "basic" and ("internationalZone" in spec) == ("targetedZone" in spec):
            diags.append(doc.mark().diag("spec: a basic campaign needs exactly one of internationalZone or targetedZone"))
        if kind == "hire-group":
            for key in ("internationalZone", "targetedZone"):
                if key in spec:
                    diags.append(doc.mark(key, key=True).diag(f"spec.{key}: hire-group campaigns have no zone (the group decides)"))
            if "groupId" not in spec:
                diags.append(doc.mark().diag("spec.groupId: required for a hire-group campaign"))
        elif "groupId" in spec:
            diags.append(doc.mark("groupId", key=True).diag("spec.groupId: only hire-group campaigns (type: hire-group) have a group"))
        rows = load_rows(doc, config.root)
        sub = int((spec.get("internalTemplate") or {}).get("numberOfSubTasks", 1))
        same = int(spec.get("numberOfWorkerOnSamePosition", 1))
        positions = spec.get("availablePositions")
        if rows is not None:
            diags += rows.diags
            template = config.resources.get(address_of(doc.provider, "Template", spec.get("template", "")))
            if template is not None:
                tspec = template.spec
                variables = variables_of(tspec.get("htmlCode"))
                diags += check_rows_against(rows, variables, template.name)
            elif "externalTemplate" in spec:
                diags += check_rows_against(rows, variables_of(spec["externalTemplate"].get("url")), "externalTemplate")
            if not rows.diags:
                if len(rows.rows) % sub:
                    diags.append(doc.mark("tasks").diag(
                        f"spec.tasks: {len(rows.rows)} rows is not a multiple of numberOfSubTasks ({sub})"))
                derived = len(rows.rows) // sub * same
                if positions is not None and positions != derived:
                    diags.append(doc.mark("availablePositions").diag(
                        f"spec.availablePositions: {positions} does not match the task rows ({len(rows.rows)} rows / "
                        f"numberOfSubTasks {sub} x numberOfWorkerOnSamePosition {same} = {derived}); leave it out"))
                positions = derived
        else:
            template = config.resources.get(address_of(doc.provider, "Template", spec.get("template", "")))
            if template is not None and variables_of(template.spec.get("htmlCode")):
                diags.append(doc.mark().diag(
                    f"spec.tasks: template {template.name!r} uses "
                    + ", ".join("{{" + v + "}}" for v in variables_of(template.spec.get("htmlCode")))
                    + ": give task rows (tasks: {file: data/rows.csv})"))
            if positions is None:
                diags.append(doc.mark().diag("spec.availablePositions: required when the campaign has no task rows"))
        if kind == "basic" and positions is not None and positions < MIN_BASIC_POSITIONS:
            where = doc.mark("availablePositions") if "availablePositions" in spec else doc.mark("tasks")
            diags.append(where.diag(
                f"spec: a basic Microworkers campaign needs at least {MIN_BASIC_POSITIONS} positions; this one has {positions}"))
        return diags

    def desired(self, doc: Document, config: Config) -> dict[str, Any]:
        spec = doc.spec
        if doc.kind == "Template":
            out = {
                "title": spec.get("title", doc.name),
                "htmlCode": spec.get("htmlCode", ""),
                "cssSection": spec.get("cssSection", ""),
                "jsSection": spec.get("jsSection", ""),
                "questions": [self._question(q) for q in spec["questions"]] if "questions" in spec else None,
            }
            self._desired[doc.address] = out
            return out
        kind = spec.get("type", "basic")
        out = {
            "type": kind,
            "title": spec["title"],
            "description": spec["description"],
            "categoryId": str(spec["categoryId"]),
            "paymentPerTask": float(spec["paymentPerTask"]),
            "minutesToFinish": spec["minutesToFinish"],
            "zone": self._zone_spec(spec) if kind == "basic" else None,
        }
        if "template" in spec:
            out["template"] = address_of(self.name, "Template", spec["template"])
            out["internalTemplate"] = {**INTERNAL_DEFAULTS, **(spec.get("internalTemplate") or {})}
            out["externalTemplate"] = None
        else:
            ext = spec["externalTemplate"]
            out["template"] = None
            out["internalTemplate"] = None
            out["externalTemplate"] = {"url": ext["url"], "height": ext.get("height", "600px"),
                                       "width": ext.get("width", "100%"), "parameters": list(ext.get("parameters", []))}
        for key, default in DEFAULTS.items():
            out[key] = spec.get(key, default)
        schedule = schedule_doc(doc, config)
        out["maximumJobLimit"] = job_limit(schedule.spec if schedule is not None else None)
        if kind == "hire-group":
            out["groupId"] = str(spec["groupId"])
            for key, default in HIRE_FIELDS.items():
                out[key] = spec.get(key, default)
        rows = load_rows(doc, self.root)
        sub = int(out["internalTemplate"]["numberOfSubTasks"]) if out["internalTemplate"] else 1
        same = int(out.get("numberOfWorkerOnSamePosition", 1))
        if rows is not None:
            self._rows[doc.address] = rows.rows
            out["tasks"] = summary(rows.rows)
            out["availablePositions"] = len(rows.rows) // sub * same
        else:
            out["tasks"] = None
            out["availablePositions"] = spec["availablePositions"]
        out["state"] = spec.get("state", "running")
        self._desired[doc.address] = out
        return out

    @staticmethod
    def _question(q: dict[str, Any]) -> dict[str, Any]:
        return {"name": q["name"], "type": q.get("type", "text"), "required": bool(q.get("required", False)),
                "options": list(q.get("options") or [])}

    @staticmethod
    def _zone_spec(spec: dict[str, Any]) -> dict[str, Any]:
        if "internationalZone" in spec:
            return {"id": "int", "excludedCountries": sorted((spec["internationalZone"] or {}).get("excludedCountries", []))}
        zone = spec["targetedZone"]
        countries = zone.get("countries")
        return {"id": zone["id"], "countries": sorted(countries) if countries else None}

    # -- reading ---------------------------------------------------------------------------
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
                desired = (self._desired.get(address) or {}).get("type") if address in wanted else None
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
        types = {a: (inputs.applied.get(a) or self._desired.get(a) or {}).get("type", "basic")
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
                                and (self._desired.get(a) or {}).get("title") == tpl.get("title")), None)
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
                    d = self._desired.get(a) or {}
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
                    attrs["zone"] = self._optional({}, "zone", address, {"id": "int", "excludedCountries": []}, applied)
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
            attrs[key] = self._optional(obj, key, address, default, applied)
        attrs["maximumJobLimit"] = normalise_limit(obj.get("maximumJobLimit"))
        if kind == "hire-group":
            group = self._optional(obj, "groupId", address, None, applied)
            attrs["groupId"] = None if group is None else str(group)
            for key, default in HIRE_FIELDS.items():
                attrs[key] = self._optional(obj, key, address, default, applied)
        attrs["tasks"] = None
        attrs["availablePositions"] = obj.get("availablePositions")
        attrs["state"] = STATUS.get(str(obj.get("status")), str(obj.get("status")).lower())
        return Live(address, "Campaign", obj["id"], attrs, status=obj.get("status"), raw=obj)

    def _optional(self, obj: dict[str, Any], key: str, address: str, default: Any, applied_of: Mapping[str, Any]) -> Any:
        """A field the documented BasicCampaignInfoResponse does not promise (the create/PATCH
        settings it does not echo, the hire-group fields): the platform's value when it answers one,
        else what the last apply set (state), else what the config wants -- never a default that
        would plan a change (or money) only because the answer left the field out."""
        if key in obj:
            return obj[key]
        applied = applied_of.get(address)
        if isinstance(applied, dict) and key in applied:
            return applied[key]
        desired = self._desired.get(address)
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
        desired = self._desired.get(live.address) or {}
        if unique is False or (unique is None and desired.get("tasks") is None):
            return
        sent = (inputs.recorded.get(live.address) or {}).get("rows")
        rows = self._rows.get(live.address)
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
            rows = row_changes(self._rows.get(res.address, []), res.live.raw.get("rows") or {},
                               res.live.raw.get("row_columns") or {}, digest.how)  # fmt: skip
            at = change.fields.index(digest)
            change.fields[at:at + 1] = rows or [digest]
        elif change.actions == ["create"] and res.address in self._rows:  # the rows a new campaign uploads
            change.fields = row_changes(self._rows[res.address], {}, {}, "update")

    def _cost(self, payment: float, positions: int) -> float:
        return round(float(payment) * positions * (1 + self.fee), 4)

    def _check_live_config(self, d: dict[str, Any]) -> None:
        if self._categories is not None and d["categoryId"] not in self._categories:
            choices = ", ".join(sorted(self._categories))
            raise Impossible(f"categoryId {d['categoryId']!r} is not a Microworkers sub-category (GET /basic-categories); valid: {choices}")
        if self._categories is not None and d["paymentPerTask"] < self._categories[d["categoryId"]]:
            raise Impossible(f"paymentPerTask {d['paymentPerTask']} is below the minimum "
                             f"{self._categories[d['categoryId']]} USD of category {d['categoryId']}")
        zone = d.get("zone")
        if zone and self._zones is not None and zone["id"] not in self._zones:
            raise Impossible(f"zone {zone['id']!r} is unknown (GET /basic-campaigns/configuration); valid: {', '.join(self._zones)}")
        if zone and self._zones is not None and zone.get("countries"):
            outside = [c for c in zone["countries"] if c not in self._zones[zone["id"]]]
            if outside:
                raise Impossible(f"countries {', '.join(outside)} are not in zone {zone['id']}; it has: {', '.join(self._zones[zone['id']])}")

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
        rows = self._rows.get(address)
        if rows is not None:
            body["tasks"] = [r.body() for r in rows]
            payload["sources"] = [r.source for r in rows]
            payload["recorded"] = {"rows": id_digests(rows)}
        ops = [self.op(address, "create", f"POST /{coll}", payload=payload, records="create",
                       cost=self._cost(d["paymentPerTask"], d["availablePositions"]))]  # fmt: skip
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
            op = self._add_positions(res, coll, finished)
            if op is not None:
                ops.append(op)
                restarted = finished
        want = d.get("state", "running")
        current = "running" if restarted else status
        if "state" in changed or restarted:
            ops += self._lifecycle(res, coll, str(current), want)
        return ops

    def _add_positions(self, res: Resource, coll: str, finished: bool) -> Operation | None:
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
            return self.op(address, "add-positions", f"POST /{coll}/{{id}}/restart +{delta} positions", target=live.id,
                           payload={"body": {"positionsToAdd": delta}, "queue": True,
                                    "expect": {"availablePositions": int(d["availablePositions"])}},
                           cost=self._cost(payment, delta))  # fmt: skip
        live_rows: dict[str, str] = live.raw.get("rows") or {}
        rows = self._rows.get(address, [])
        desired_ids = id_digests(rows).keys()
        removed = [i for i in live_rows if i not in desired_ids]
        edited = [r for r in rows if r.id in live_rows and live_rows[r.id] != r.digest]
        problems = []
        if removed:
            problems.append(f"row(s) {', '.join(removed[:5])}{' ...' if len(removed) > 5 else ''} were uploaded and are "
                            "no longer in the task data: Microworkers cannot delete uploaded task rows")
        if edited:
            shown = ", ".join(f"{r.id} ({r.source})" for r in edited[:5])
            problems.append(f"row(s) {shown}{' ...' if len(edited) > 5 else ''} changed after upload: Microworkers cannot "
                            "edit uploaded task rows (give changed rows a new id to add them as new tasks)")
        if problems:
            raise Impossible("; ".join(problems))
        new = [r for r in rows if r.id not in live_rows]
        if not new:
            return None
        sub = int((d.get("internalTemplate") or {}).get("numberOfSubTasks", 1))
        same = int(d.get("numberOfWorkerOnSamePosition", 1))
        if len(new) % sub:
            raise Impossible(f"{len(new)} new rows is not a multiple of numberOfSubTasks ({sub})")
        positions = len(new) // sub * same
        tasks = [r.body() for r in new]
        sources = [r.source for r in new]
        recorded = {"rows": {r.id: r.digest for r in new}}
        expect = {"availablePositions": int(live.attrs.get("availablePositions") or 0) + positions}
        if finished:
            note = f"+{positions} positions ({len(new)} new rows)"
            return self.op(address, "add-positions", f"POST /{coll}/{{id}}/restart {note}", target=live.id,
                           payload={"body": {"positionsToAdd": positions, "tasks": tasks}, "sources": sources, "queue": True,
                                    "recorded": recorded, "expect": expect},
                           cost=self._cost(payment, positions))  # fmt: skip
        note = f"+{positions} positions ({len(new)} new rows)"
        return self.op(address, "add-positions", f"POST /{coll}/{{id}}/tasks-groups {note}", target=live.id,
                       payload={"body": {"tasks": tasks}, "sources": sources, "queue": True, "positions": positions,
                                "recorded": recorded, "expect": expect},
                       cost=self._cost(payment, positions))  # fmt: skip

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

    # -- applying --------------------------------------------------------------------------
    async def execute(self, op: Operation) -> ExecResult:
        method, path = op.call.split(" ")[:2]  # the call may end with a note ("+40 positions")
        path = path.replace("{id}", str(op.target))
        payload = op.payload if isinstance(op.payload, dict) else {}
        if payload.get("ifRunning"):
            current = await self.client.json("GET", path.rsplit("/", 1)[0])
            if current.get("status") not in ("RUNNING", "PAUSED", "PENDING_REVIEW"):
                return ExecResult()
            await self.client.request(method, path, idempotent=False)  # read back, never resent blindly
            return ExecResult()
        body = payload.get("body")
        sources: list[str] = payload.get("sources") or []
        if isinstance(body, dict) and body.get("tasks"):
            body = {**body, "tasks": await self._resolve_questions(body, path, op)}
        # a lifecycle PUT (pause, resume, stop) or a DELETE sent again after it took fails
        # (CampaignIsNotRunning...): it is sent once, and an unanswered one is read back (confirm)
        once = op.action.split("@", 1)[0] in READ_BACK or method == "DELETE"
        try:
            response = await self.client.request(method, path, json=body, idempotent=False if once else None)
        except ApiError as exc:
            if sources and not isinstance(exc, TransportError):  # keep "no answer" errors as they are
                raise _with_sources(exc, sources) from None
            raise
        if payload.get("queue"):
            job = response.headers.get("queue-job-id")
            if job:
                await self._wait(job, op, sources)
            return ExecResult()
        if op.action == "create":
            return ExecResult(id=self.client.decode(response)["id"])
        return ExecResult()

    async def confirm(self, op: Operation) -> bool | None:
        """Reads the object back after a write other than a create went unanswered (or failed with a
        5xx): a lifecycle call (pause, resume, stop, restart) took when the campaign's documented
        ``status`` is the one it leads to, and did not while it is still in one the call leaves;
        more positions (restart, tasks-groups) took when ``availablePositions`` reached what the
        plan expects (a queue job still running, as ``jobQueues`` shows, is waited for); a deleted
        template is gone; a PATCH when every field it sent reads back as sent (one the answer does not
        show: sending it again sets the same values, harmlessly, so False). A template PUT replaces
        the template whole: sent again (False)."""
        action = op.action.split("@", 1)[0]
        payload = op.payload if isinstance(op.payload, dict) else {}
        if op.address.split("/")[1] == "template":
            if action != "delete":
                return False
            try:
                await self.client.json("GET", f"/templates/{op.target}")
            except ApiError as exc:
                if exc.status == 404:
                    return True
                raise
            return False
        if action == "update":  # PATCH: done when every field the answer shows reads as sent
            obj = await self.client.json("GET", op.call.split(" ")[1].replace("{id}", str(op.target)))
            sent = payload.get("body") or {}
            shown = [k for k in sent if k in obj]
            if any(not same(normalise_limit(obj[k]) if k == "maximumJobLimit" else obj[k], v) for k, v in sent.items() if k in obj):
                return False
            return len(shown) == len(sent)  # else: sending it again sets the same values, harmlessly
        if action not in READ_BACK:
            return None
        path = op.call.split(" ")[1].replace("{id}", str(op.target)).rsplit("/", 1)[0]
        started = time.monotonic()
        while True:
            obj = await self.client.json("GET", path)
            status = str(obj.get("status"))
            if action == "add-positions":
                expect = (payload.get("expect") or {}).get("availablePositions")
                if isinstance(expect, int) and isinstance(obj.get("availablePositions"), int) \
                        and obj["availablePositions"] >= expect:
                    return True
                queues: dict[str, Any] = obj.get("jobQueues") if isinstance(obj.get("jobQueues"), dict) else {}
                kind = "restartCampaignJob" if "/restart" in op.call else "addPositionJob"
                entry = queues.get(kind)
                job: dict[str, Any] = entry if isinstance(entry, dict) else {}
                running = job.get("status") in ("Pending", "Uploading") or status == "PENDING_RESTART"
                if not running:
                    return False if isinstance(expect, int) else None
                if time.monotonic() - started > self.queue_timeout:
                    return None
                if job.get("id"):  # not documented in jobQueues; where answered, poll the job itself
                    await self.client.json("GET", f"/queue-jobs/{job['id']}")
                else:
                    await asyncio.sleep(0.2)
                continue
            leads_to, leaves = READ_BACK[action]
            if status in leads_to or (payload.get("ifRunning") and status not in leaves):
                return True
            if status in leaves:
                return False
            return None

    async def _resolve_questions(self, body: dict[str, Any], path: str, op: Operation) -> list[dict[str, Any]]:
        """Test cases name questions; the API wants their ids (known once the template exists)."""
        tasks = body["tasks"]
        if not any(t.get("testCases") for t in tasks):
            return [{**t, "testCases": []} for t in tasks]
        if op.action == "create":
            info = await self.client.json("GET", f"/templates/{body['internalTemplate']['id']}")
        else:
            info = await self.client.json("GET", path.rsplit("/", 1)[0])
        ids = {q.get("name"): q.get("id") for q in info.get("questions") or []}
        out = []
        for t in tasks:
            cases = [{"questionId": ids.get(tc["question"], tc["question"]), "answers": tc["answers"]} for tc in t["testCases"]]
            out.append({**t, "testCases": cases})
        return out

    async def _wait(self, job: str, op: Operation, sources: list[str]) -> None:
        started = time.monotonic()
        delay, last_note = 0.05, started
        log.info("%s: waiting for queue job %s", op.address, job)
        while True:
            info = await self.client.json("GET", f"/queue-jobs/{job}")
            status = info.get("status")
            if status == "Uploaded":
                log.info("%s: queue job %s uploaded: %s", op.address, job, info.get("output") or "")
                return
            if status in ("Validation_Error", "Upload_Error"):
                raise ApiError(_job_message(info, sources), method="GET", url=f"/queue-jobs/{job}", code=status)
            now = time.monotonic()
            if now - started > self.queue_timeout:
                raise ApiError(f"queue job {job} still {status} after {self.queue_timeout:.0f}s; run plan again later "
                               "to see whether it finished", method="GET", url=f"/queue-jobs/{job}", code="Timeout")
            if now - last_note > 10:
                log.warning("%s: queue job %s is %s (%.0fs)", op.address, job, status, now - started)
                last_note = now
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)


_TASK_INDEX = re.compile(r"tasks\[(\d+)\]")


def _at(sources: list[str], index: int) -> str:
    return sources[index] if 0 <= index < len(sources) else f"tasks[{index}]"


def _with_sources(exc: ApiError, sources: list[str]) -> ApiError:
    message = _TASK_INDEX.sub(lambda m: f"{m.group(0)} ({_at(sources, int(m.group(1)))})", exc.message)
    return ApiError(message, method=exc.method, url=exc.url, status=exc.status, code=exc.code, request_id=exc.request_id)


def _job_message(info: dict[str, Any], sources: list[str]) -> str:
    errors = info.get("errors") or []
    lines = []
    for e in errors:
        if isinstance(e, dict) and isinstance(e.get("index"), int):
            ident = f" (id {e['id']})" if e.get("id") else ""
            lines.append(f"{_at(sources, e['index'])}{ident}: {e.get('message')}")
    if not lines:
        output = str(info.get("output") or "")
        lines = [_TASK_INDEX.sub(lambda m: f"{m.group(0)} ({_at(sources, int(m.group(1)))})", x) for x in output.splitlines() if x]
    return f"queue job {info.get('id')} rejected {len(lines)} row(s):\n    " + "\n    ".join(lines[:20]) + (
        f"\n    ... and {len(lines) - 20} more" if len(lines) > 20 else "")
