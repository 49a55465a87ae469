"""Microworkers API v2: templates and campaigns (basic and hire-group) with unique task rows.

Identity: v2 objects carry no free-form properties, so the state (address -> id) is the link.
Without a state entry an object is *adopted* when exactly one live object matches: a Template by
its exact ``title`` (titles are unique on Microworkers), a Campaign by its exact ``title`` among
campaigns of the same type that no state entry claims (a running/paused one is preferred over a
finished one, then the newest).

Reading: only what the docs document (the GET basic-campaign page's BasicCampaignInfoResponse) plus
what state recorded. The docs have no read of uploaded task rows: apply records the rows it sent
(:meth:`sent_record`: row id -> digest) in state, and a plan counts those as uploaded.

Task rows of a data file are not held in the plan: its operations name the file (path, sha256, the
rows' count and digest, which rows), and apply reads the rows from it when it sends them, refusing
rows that are not the ones planned (:mod:`.upload`); at most 10,000 rows a call (a create carries
the first 10,000, ``tasks-groups`` calls the rest). A field
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
                                                        ``POST .../restart`` (finished), queue job;
                                                        10,000 rows a call
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

The provider is split along its seams: :mod:`.checks` (the platform's rules), :mod:`.read` (live
state), :mod:`.plan` (the change mapping above), :mod:`.execution` (writes, queue jobs, read-backs),
:mod:`.export` (``campaignctl import``); this module holds the class and its desired state.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ...config.model import Config, Document, address_of
from ...errors import Diagnostic
from ...http import ErrorParser
from ...providers.base import Provider
from ...providers.fields import REPLACE, Policy, by, each
from .checks import check_campaign
from .execution import CampaignWrites
from .export import CampaignExport
from .kinds import KINDS
from .model import (
    DEFAULT_FEE,
    DEFAULTS,
    FIXED,
    HIRE_FIELDS,
    INTERNAL_DEFAULTS,
    PATCHABLE,
)
from .plan import CampaignChanges
from .read import CampaignReads, mw_error
from .rows import job_limit, load_rows, rows_summary, schedule_doc
from .upload import Upload

__all__ = ["MicroworkersProvider", "mw_error"]


class MicroworkersProvider(CampaignExport, CampaignWrites, CampaignChanges, CampaignReads, Provider):
    type = "microworkers"
    ignore_names: ClassVar[dict[str, list[str]]] = {"internationalZone": ["zone"], "targetedZone": ["zone"], "schedule": ["maximumJobLimit"]}
    kinds = KINDS.kinds
    pay_fields = ("paymentPerTask", "minutesToFinish")  # USD per position, the time limit of one
    references = KINDS.references
    component_lists = KINDS.component_lists
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
        self._categories: dict[str, float] | None = None  # sub-category id -> minimum payment
        self._zones: dict[str, list[str]] | None = None  # zone id -> country codes
        self._unreadable: list[str] = []  # reference lists of an unexpected shape (plan warnings)
        self._uploads: dict[tuple[Any, ...], Upload] = {}  # a data file's rows read at apply, once, by what names them
        self._sent: dict[str, Upload] = {}  # operation id -> the rows it sends

    # -- connection ------------------------------------------------------------------------
    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        key = credentials.get("apiKey") or credentials.get("token")
        return {"MicroworkersApiKey": key} if key else {}

    # -- offline ---------------------------------------------------------------------------
    @classmethod
    def check(cls, doc: Document, config: Config) -> list[Diagnostic]:
        return check_campaign(doc, config, cls.schedule_fields)

    def desired(self, doc: Document, config: Config) -> dict[str, Any]:
        spec = doc.spec
        if doc.kind == "Template":
            return {
                "title": spec.get("title", doc.name),
                "htmlCode": spec.get("htmlCode", ""),
                "cssSection": spec.get("cssSection", ""),
                "jsSection": spec.get("jsSection", ""),
                "questions": [self._question(q) for q in spec["questions"]] if "questions" in spec else None,
            }
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
            out["tasks"] = rows_summary(rows.rows)
            out["availablePositions"] = len(rows.rows) // sub * same
        else:
            out["tasks"] = None
            out["availablePositions"] = spec["availablePositions"]
        out["state"] = spec.get("state", "running")
        return out

    @staticmethod
    def _zone_spec(spec: dict[str, Any]) -> dict[str, Any]:
        if "internationalZone" in spec:
            return {"id": "int", "excludedCountries": sorted((spec["internationalZone"] or {}).get("excludedCountries", []))}
        zone = spec["targetedZone"]
        countries = zone.get("countries")
        return {"id": zone["id"], "countries": sorted(countries) if countries else None}
