"""Creating campaigns in the Microworkers API v2 sandbox (``POST /basic-campaigns``, ``POST /hire-group-campaigns``).

All field errors of a body are reported at once (400 ValidationFailed); then an unknown category
(CategoryUnknown) and the money (NotEnoughMoneyToStartCampaign). Rows given in ``tasks`` are
validated synchronously and stored with an already Uploaded ``csvUploadJob``.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import data
from .model import (
    BASIC,
    HIRE_GROUP,
    JOB_TYPES,
    SLOT_COUNTERS,
    TEMPLATE_IDS,
    P,
    charge,
    cost,
    gen_row_ids,
    insert_rows,
    new_job,
    now,
    save,
)
from .rules import (
    PATCHABLE,
    ApiError,
    Checker,
    check_rows,
    check_settings,
    limit,
    ranged,
    rows_list,
    validation_failed,
)
from .settings import PlatformSettings
from .templates import variables_of

if TYPE_CHECKING:
    from ..core import Sandbox

# -- body parts -----------------------------------------------------------------------
COMMON_FIELDS = {"title", "description", "categoryId", "availablePositions", "paymentPerTask", "minutesToFinish",
                 "internalTemplate", "externalTemplate", "tasks"} | PATCHABLE
BASIC_FIELDS = COMMON_FIELDS | {"internationalZone", "targetedZone"}
HIRE_GROUP_FIELDS = COMMON_FIELDS | {"groupId", "maxPositionPerWorker", "numberOfWorkerOnSamePosition", "taskOrder"}


def _zone(c: Checker, body: dict[str, Any]) -> dict[str, Any] | None:
    intl, targeted = body.get("internationalZone"), body.get("targetedZone")
    if (intl is None) == (targeted is None):
        c.add("internationalZone", "Give exactly one of internationalZone or targetedZone.")
        return None
    if intl is not None:
        if (z := c.obj(intl, "internationalZone")) is None:
            return None
        c.unknown(z, {"id", "excludedCountries"}, "internationalZone.")
        if z.get("id", "int") != "int":
            c.add("internationalZone.id", "Must be 'int'.")
        excluded = c.array(z.get("excludedCountries", []), "internationalZone.excludedCountries") or []
        if len(excluded) > limit("excludedCountries", "max"):
            c.add("internationalZone.excludedCountries",
                  f"At most {limit('excludedCountries', 'max')} countries may be excluded.")
        for i, code in enumerate(excluded):
            if not isinstance(code, str) or code not in data.COUNTRIES:
                c.add(f"internationalZone.excludedCountries[{i}]", f"Unknown country code {code!r}.")
        if len(set(map(str, excluded))) != len(excluded):
            c.add("internationalZone.excludedCountries", "Countries must be unique.")
        return {"id": "int", "excludedCountries": excluded}
    if (z := c.obj(targeted, "targetedZone")) is None:
        return None
    c.unknown(z, {"id", "countries"}, "targetedZone.")
    zid = z.get("id")
    if zid not in data.TARGETED_ZONES:
        c.add("targetedZone.id", f"Unknown zone; one of: {', '.join(data.TARGETED_ZONES)}.")
        return None
    countries = c.array(z.get("countries") or data.zone_countries(zid), "targetedZone.countries") or []
    for i, code in enumerate(countries):
        if not isinstance(code, str) or code not in data.zone_countries(zid):
            c.add(f"targetedZone.countries[{i}]", f"Country {code!r} is not in zone {zid}.")
    return {"id": zid, "countries": countries}


def _internal_template(sb: Sandbox, c: Checker, value: Any) -> dict[str, Any] | None:
    f = "internalTemplate"
    if (t := c.obj(value, f)) is None:
        return None
    c.unknown(t, {"id", "ratingMethodId", "numberOfSubTasks", "displaySubTasksOnSamePage", "adminInstructions",
                  "numberOfFileProofs", "allowedFileTypes"}, f + ".")
    n = TEMPLATE_IDS.decode(t["id"]) if isinstance(t.get("id"), str) else None
    tpl = sb.store.get(P, "template", n) if n else None
    if tpl is None:
        c.add(f + ".id", f"Template {t.get('id')!r} was not found.")
    method = c.integer(t.get("ratingMethodId", 3), f + ".ratingMethodId", 1, 3)
    admin = t.get("adminInstructions")
    if method in (1, 2) and not (isinstance(admin, str) and admin.strip()):
        c.add(f + ".adminInstructions", "Required when Microworkers staff rate or review (ratingMethodId 1 or 2).")
    elif admin is not None:
        c.string(admin, f + ".adminInstructions", empty=True)
    types = t.get("allowedFileTypes")
    if (types is not None and c.array(types, f + ".allowedFileTypes") is not None
            and not all(isinstance(x, str) and x for x in types)):
        c.add(f + ".allowedFileTypes", "Must be a list of file extensions.")
    return {  # **decision**: an empty text or list is kept, and answered, as null (as a database column would)
        "adminInstructions": admin or None,
        "numberOfSubTasks": c.integer(t.get("numberOfSubTasks", 1), f + ".numberOfSubTasks",
                                      limit("numberOfSubTasks", "min"), limit("numberOfSubTasks", "max")),
        "displaySubTasksOnSamePage": c.boolean(t.get("displaySubTasksOnSamePage", False),
                                               f + ".displaySubTasksOnSamePage"),
        "ratingMethodId": method,
        "id": t.get("id"),
        "numberOfFileProofs": c.integer(t.get("numberOfFileProofs", 0), f + ".numberOfFileProofs",
                                        limit("numberOfFileProofs", "min"), limit("numberOfFileProofs", "max")),
        "allowedFileTypes": types or None,
        "_template": tpl,
    }


def _external_template(c: Checker, value: Any) -> dict[str, Any] | None:
    f = "externalTemplate"
    if (t := c.obj(value, f)) is None:
        return None
    c.unknown(t, {"url", "height", "width", "parameters"}, f + ".")
    url = c.string(t.get("url"), f + ".url")
    if url is not None and not url.startswith(("https://", "http://")):
        c.add(f + ".url", "Must be an http(s) URL.")
    params = c.array(t.get("parameters", []), f + ".parameters") or []
    if not all(isinstance(p, str) and p for p in params):
        c.add(f + ".parameters", "Must be a list of input names.")
    return {"url": url, "height": c.string(t.get("height", "600px"), f + ".height"),
            "width": c.string(t.get("width", "100%"), f + ".width"), "parameters": params}


def create_campaign(sb: Sandbox, body: Any, kind: str) -> dict[str, Any]:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError
    c.unknown(b, BASIC_FIELDS if kind == BASIC else HIRE_GROUP_FIELDS)
    title = c.string(b.get("title"), "title", max_len=limit("titleLength", "max"))
    description = c.string(b.get("description"), "description")
    category = b.get("categoryId")
    category = str(category) if isinstance(category, (str, int)) and not isinstance(category, bool) else None
    if category is None:
        c.add("categoryId", "Required: the ID of a sub-category (see GET /basic-categories).")
    zone = _zone(c, b) if kind == BASIC else None
    min_pos = limit("availablePositions" if kind == BASIC else "hireGroupAvailablePositions", "min")
    positions = c.integer(b.get("availablePositions"), "availablePositions", min_pos)
    payment = c.money(b.get("paymentPerTask"), "paymentPerTask")
    if payment is not None and category in data.SUBCATEGORIES:
        minimum = Decimal(data.SUBCATEGORIES[category][1])
        if payment < minimum:
            c.add("paymentPerTask", f"Must be at least {minimum} USD for category {category}.")
    minutes = ranged(c, b, "minutesToFinish")
    if "minutesToFinish" not in b:
        c.add("minutesToFinish", "Required.")
    settings = check_settings(c, b, fill_defaults=True)
    internal = external = None
    if (b.get("internalTemplate") is None) == (b.get("externalTemplate") is None):
        msg = "Give exactly one of internalTemplate or externalTemplate."
        c.add("internalTemplate", msg)
        c.add("externalTemplate", msg)
    elif b.get("internalTemplate") is not None:
        internal = _internal_template(sb, c, b["internalTemplate"])
    else:
        external = _external_template(c, b["externalTemplate"])
    tpl = (internal or {}).pop("_template", None)
    variables = variables_of(tpl["htmlCode"]) if tpl else variables_of((external or {}).get("url") or "")
    questions = tpl["questions"] if tpl else []
    hire: dict[str, Any] = {}
    if kind == HIRE_GROUP:
        group = b.get("groupId")
        group = str(group) if isinstance(group, (str, int)) and not isinstance(group, bool) else None
        if group not in data.HIRE_GROUPS:
            c.add("groupId", "Unknown hire group (see GET /hire-groups).")
        hire = {"groupId": group, "maxPositionPerWorker": ranged(c, b, "maxPositionPerWorker", 1),
                "numberOfWorkerOnSamePosition": ranged(c, b, "numberOfWorkerOnSamePosition", 1),
                "taskOrder": c.choice(b.get("taskOrder", "random"), "taskOrder", data.TASK_ORDERS)}
    sub = (internal or {}).get("numberOfSubTasks") or 1
    same = hire.get("numberOfWorkerOnSamePosition") or 1
    rows: list[dict[str, Any]] = []
    unique = b.get("tasks") is not None
    if unique:
        raw = rows_list(c, b["tasks"]) or []
        rows, row_errors = check_rows(raw, variables, {q["id"] for q in questions}, set())
        for e in row_errors:
            c.add(e["field"], e["message"])
        if positions is not None and raw and (len(raw) % sub or len(raw) // sub * same != positions):
            c.add("availablePositions", f"Must equal the number of task rows / numberOfSubTasks ({sub}) x "
                                        f"numberOfWorkerOnSamePosition ({same}); {len(raw)} rows were given.")
    elif variables:
        c.add("tasks", f"Required: the template uses variables {', '.join(variables)}.")
    c.done()
    if category not in data.SUBCATEGORIES:
        raise ApiError(400, "CategoryUnknown", f"Category {category!r} is unknown.",
                       [{"field": "categoryId", "message": "Unknown sub-category."}])
    assert positions is not None and payment is not None
    if kind == HIRE_GROUP and positions % same:
        raise validation_failed([("availablePositions", "Must be a multiple of numberOfWorkerOnSamePosition.")])
    charge(sb, cost(payment, positions))
    cid = sb.store.next_id(P, "campaign")
    created = now()
    doc: dict[str, Any] = {
        "id": cid, "kind": kind, "folder": "DEFAULT", "state": "REVIEW", "createdTs": created,
        "reviewUntil": created + max(0.0, sb.settings.of(PlatformSettings).review_seconds), "approvedTs": None, "finishedTs": None,
        "title": title, "description": description, "categoryId": category, "zone": zone,
        "availablePositions": positions, "paymentPerTask": str(payment), "minutesToFinish": minutes,
        **settings, **hire, "internalTemplate": internal, "externalTemplate": external,
        "htmlCode": tpl["htmlCode"] if tpl else "", "cssSection": tpl["cssSection"] if tpl else "",
        "jsSection": tpl["jsSection"] if tpl else "", "variables": variables, "questions": questions,
        "uniqueTasks": unique, "tasksCount": 0, "subTasks": sub, "workersPerPosition": same,
        "jobQueues": dict.fromkeys(JOB_TYPES), "slotCounts": dict.fromkeys(SLOT_COUNTERS.values(), 0),
        "positionsUsed": 0, "slotSeq": 0, "nextGroup": 0, "refillGroups": [],
    }
    sb.store.insert(P, "campaign", doc, id=cid)
    if unique:
        gen_row_ids(rows, f"{cid}:create", set())
        insert_rows(sb, doc, rows)
        new_job(sb, doc, "csvUploadJob", [], [], 0, Decimal(0), status="Uploaded",
                output=f"{len(rows)} tasks uploaded.")
        save(sb, doc)
    return doc
