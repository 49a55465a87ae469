"""Microworkers API v2, ``campaignctl import``: every template and campaign of the account that
campaignctl does not manage (``read_account``), as YAML documents (``export_documents``): shared
Schedules, task rows as data files. A mixin of the provider (its reads and normalisation)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...errors import ApiError
from ...providers.base import Live, ReadInputs
from ...providers.export import ExportedDoc
from .model import COLLECTION, DEFAULTS, HIRE_FIELDS, INTERNAL_DEFAULTS
from .rows import content_digest, job_limit, normalise_limit, summary_of


class CampaignExport:
    """Import/export of the v2 provider. Expects the provider's list reads and normalisation."""

    name: str
    _zones: dict[str, list[str]] | None
    if TYPE_CHECKING:  # provided by MicroworkersProvider

        async def _account_lists(
            self, needed: set[str] | None = None
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]: ...

        async def _list(self, path: str, **params: Any) -> list[dict[str, Any]]: ...

        def _template(self, address: str, tpl: dict[str, Any]) -> Live: ...

        def _campaign(
            self, address: str, kind: str, obj: dict[str, Any], tpl_address: dict[str, str], inputs: ReadInputs | None = None,
        ) -> Live: ...

        def _unique_tasks(self, live: Live, inputs: ReadInputs | None = None) -> bool | None: ...

        @staticmethod
        def _question(q: dict[str, Any]) -> dict[str, Any]: ...

    async def read_account(self, managed: dict[tuple[str, str], str]) -> dict[str, Live]:
        """Every template and (DEFAULT folder) campaign that ``managed`` ((kind, id) -> address) does
        not hold, as ``<provider>/<kind>/#<id>``, unique-task campaigns with their rows
        (``raw["row_table"]``: (id, data, tests) per row)."""
        templates, basic, hire = await self._account_lists()
        found: dict[str, Live] = {}
        tpl_address: dict[str, str] = {}
        for tpl in templates:
            address = managed.get(("Template", str(tpl["id"])))
            if address is None:
                address = f"{self.name}/template/#{tpl['id']}"
                found[address] = self._template(address, tpl)
            tpl_address[str(tpl["id"])] = address
        for kind, obj in [("basic", c) for c in basic] + [("hire-group", c) for c in hire]:
            if ("Campaign", str(obj["id"])) not in managed:
                address = f"{self.name}/campaign/#{obj['id']}"
                found[address] = self._campaign(address, kind, obj, tpl_address)

        async def rows(live: Live) -> None:
            live.raw["row_table"] = []
            if not self._unique_tasks(live):
                return
            try:  # not a documented route: where the platform has it, the rows are exported too
                items = await self._list(f"/{COLLECTION[live.attrs['type']]}/{live.id}/tasks")
            except ApiError as exc:
                if exc.status not in (404, 405):
                    raise
                live.attrs["tasks"] = summary_of({})  # unique rows, none to read: left to the platform
                return
            names = {q.get("id"): q.get("name") for q in live.raw.get("questions") or []}
            digests: dict[str, str] = {}
            for item in items:
                data = {kv["key"]: kv["value"] for kv in item.get("data") or []}
                tests = {names.get(tc.get("questionId"), tc.get("questionId")): list(tc.get("answers") or [])
                         for tc in item.get("testCases") or []}  # fmt: skip
                digests[str(item["id"])] = content_digest(data, tests)
                live.raw["row_table"].append((str(item["id"]), data, tests))
            live.raw["rows"] = digests
            live.attrs["tasks"] = summary_of(digests)

        await asyncio.gather(*(rows(live) for live in found.values() if live.kind == "Campaign"))
        return found

    @staticmethod
    def _schedule_from_limit(limit: dict[str, Any]) -> dict[str, Any] | None:
        """A Schedule spec that maps exactly onto ``limit`` (a normalised maximumJobLimit), or None."""
        from zoneinfo import ZoneInfo

        from ... import schemas
        from .rows import DAYS

        day_names = {v: k for k, v in DAYS.items()}

        def days(numbers: list[int]) -> list[str] | None:
            if not numbers or sorted(numbers) == list(range(7)):
                return None
            return [day_names[d] for d in sorted(numbers, key=lambda d: (d + 6) % 7)]

        std, adv = limit.get("standardSchedule"), limit.get("advancedSchedule")
        spec: dict[str, Any] = {}
        try:
            if not limit.get("enabled") or (std is None) == (adv is None):
                return None
            if std:
                spec["timeZone"] = std["timeZone"]
                if not std["allWeekdays"]:
                    spec["daysOfWeek"] = [day_names[d] for d in sorted(std["daysOfWeek"], key=lambda d: (d + 6) % 7)]
                if not std["allDay"]:
                    if len(std["workingHours"]) != 1:
                        return None
                    start, _, end = str(std["workingHours"][0]).partition("-")
                    spec["workingHours"] = {"from": start, "to": end}
                if limit.get("limitPerDay") is not None:
                    spec["limitPerDay"] = limit["limitPerDay"]
                if std["limitPerHour"] is not None:
                    spec["limitPerHour"] = std["limitPerHour"]
            else:
                assert adv is not None
                spec["timeZone"] = adv["timeZone"]
                events = adv["events"]
                if len(events) == 1 and events[0]["type"] == "recur" and "T" in str(events[0]["startRecur"]):
                    ev = events[0]  # the start/end form of a Schedule
                    spec["start"] = ev["startRecur"]
                    if ev["endRecur"] is not None:
                        spec["end"] = ev["endRecur"]
                    if days(ev["daysOfWeek"]):
                        spec["daysOfWeek"] = days(ev["daysOfWeek"])
                    if (ev["startTime"], ev["endTime"]) != ("00:00", "24:00"):
                        spec["workingHours"] = {"from": ev["startTime"], "to": ev["endTime"]}
                    if ev["limitPerDay"] is not None:
                        spec["limitPerDay"] = ev["limitPerDay"]
                else:
                    spec["events"] = []
                    for ev in events:
                        if ev["type"] == "one-time":
                            item: dict[str, Any] = {"type": "one-time", "start": ev["start"], "end": ev["end"]}
                        elif ev["type"] == "recur" and ev["endRecur"] is not None:
                            if str(ev["endTime"]) <= str(ev["startTime"]):
                                return None
                            item = {"type": "recurring", "start": f"{ev['startRecur']}T{ev['startTime']}",
                                    "end": f"{ev['endRecur']}T{ev['endTime']}"}  # fmt: skip
                            if days(ev["daysOfWeek"]):
                                item["daysOfWeek"] = days(ev["daysOfWeek"])
                        else:
                            return None
                        if ev["limitPerDay"] is not None:
                            item["limit"] = ev["limitPerDay"]
                        spec["events"].append(item)
                if adv["limitPerHour"] is not None:
                    spec["limitPerHour"] = adv["limitPerHour"]
            hours = spec.get("workingHours")
            if hours and str(hours["to"]) <= str(hours["from"]):
                return None
            if "start" in spec and "end" in spec and str(spec["end"]) <= str(spec["start"]):
                return None
            ZoneInfo(str(spec["timeZone"]))
            if not schemas.validator("Schedule.json").is_valid(spec) or job_limit(spec) != limit:
                return None
        except (KeyError, TypeError, ValueError):
            return None
        return spec

    def export_documents(self, live: dict[str, Live], ctx: Any) -> list[Any]:
        """Import: one file per campaign (the campaign, its Schedule, its template when no other
        imported campaign uses it), ``templates.yaml`` for the other templates, task rows in
        ``data/<campaign>.csv`` (``.jsonl`` when the rows differ in their columns)."""
        import json
        from html.parser import HTMLParser



        class Form(HTMLParser):  # named input/textarea/select fields, as Microworkers reads them
            def __init__(self) -> None:
                super().__init__(convert_charrefs=True)
                self.fields: dict[str, dict[str, Any]] = {}
                self.select: dict[str, Any] | None = None

            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                a = {k: v or "" for k, v in attrs}
                if tag == "option" and self.select is not None:
                    if a.get("value") and a["value"] not in self.select["options"]:
                        self.select["options"].append(a["value"])
                    return
                if tag not in ("input", "textarea", "select") or not a.get("name"):
                    return
                kind = tag if tag in ("textarea", "select") else a.get("type", "text").lower()
                if kind in ("hidden", "submit", "button", "reset", "image", "file"):
                    return
                kind = kind if kind in ("text", "textarea", "number", "email", "url", "radio", "checkbox", "select") else "text"
                q = self.fields.setdefault(a["name"], {"name": a["name"], "type": kind, "required": False, "options": []})
                q["required"] = q["required"] or "required" in a
                if kind in ("radio", "checkbox") and a.get("value") and a["value"] not in q["options"]:
                    q["options"].append(a["value"])
                if tag == "select":
                    self.select = q

            def handle_endtag(self, tag: str) -> None:
                if tag == "select":
                    self.select = None

        def derived(html: str, questions: list[dict[str, Any]]) -> bool:
            """Are the questions the platform's own reading of htmlCode (so the config can leave them out)?"""
            form = Form()
            form.feed(html or "")
            form.close()
            return [self._question(q) for q in form.fields.values()] == [self._question(q) for q in questions]

        templates = sorted((o for o in live.values() if o.kind == "Template"), key=lambda o: (str(o.attrs["title"]), str(o.id)))
        campaigns = sorted((o for o in live.values() if o.kind == "Campaign"), key=lambda o: str(o.id))
        for obj in templates + campaigns:
            ctx.assign(obj, obj.attrs["title"])
        users: dict[str, int] = {}
        for obj in campaigns:
            if obj.attrs.get("template"):
                users[obj.attrs["template"]] = users.get(obj.attrs["template"], 0) + 1
        tpl_docs: dict[str, Any] = {}
        for obj in templates:
            a = obj.attrs
            spec: dict[str, Any] = {"title": a["title"], "htmlCode": a["htmlCode"]}
            spec.update({k: a[k] for k in ("cssSection", "jsSection") if a[k]})
            if a["questions"] and not derived(a["htmlCode"], a["questions"]):
                spec["questions"] = [
                    {"name": q["name"], **({"type": q["type"]} if q["type"] != "text" else {}),
                     **({"required": True} if q["required"] else {}), **({"options": q["options"]} if q["options"] else {})}
                    for q in a["questions"]
                ]  # fmt: skip
            tpl_docs[obj.address] = ExportedDoc("Template", ctx.name_of(obj), spec, "templates.yaml", self.name, obj, ctx.source(obj))

        schedules: dict[str, str] = {}  # json of the normalised maximumJobLimit -> Schedule name
        for sname, sdoc in ctx.config.of_kind("Schedule").items():
            try:
                schedules.setdefault(json.dumps(job_limit(sdoc.spec), sort_keys=True), sname)
            except (KeyError, TypeError, ValueError):
                continue
        out: list[Any] = []
        for obj in campaigns:
            a = obj.attrs
            name = ctx.name_of(obj)
            doc = ExportedDoc("Campaign", name, {}, f"campaign-{name}.yaml", self.name, obj, ctx.source(obj))
            s = doc.spec
            s.update({k: a[k] for k in ("type", "title", "description", "categoryId", "paymentPerTask", "minutesToFinish")})
            group = [doc]
            zone = a.get("zone")
            if a["type"] == "basic" and zone is None:
                ctx.skip(obj, "the platform shows no zone for this basic campaign, and the config needs one")
                continue
            if a.get("template"):
                tname = ctx.ref(a["template"])
                if tname is None:
                    ctx.skip(obj, f"its template {a['template'].rsplit('#', 1)[-1]} no longer exists (the campaign runs a "
                                  "snapshot of it), and the config can only name an existing Template")  # fmt: skip
                    continue
                s["template"] = tname
                extra = {k: v for k, v in a["internalTemplate"].items() if v != INTERNAL_DEFAULTS[k]}
                if extra:
                    s["internalTemplate"] = extra
                tdoc = tpl_docs.get(a["template"])
                if tdoc is not None and users[a["template"]] == 1:
                    tdoc.file = doc.file
                    group.append(tpl_docs.pop(a["template"]))
            else:
                ext = a["externalTemplate"] or {}
                s["externalTemplate"] = {"url": ext.get("url")}
                for key, default in (("height", "600px"), ("width", "100%")):
                    if ext.get(key) != default:
                        s["externalTemplate"][key] = ext.get(key)
                if ext.get("parameters"):
                    s["externalTemplate"]["parameters"] = list(ext["parameters"])
            if zone and zone["id"] == "int":
                s["internationalZone"] = {"excludedCountries": zone["excludedCountries"]} if zone["excludedCountries"] else {}
            elif zone:
                s["targetedZone"] = {"id": zone["id"]}
                if sorted(zone.get("countries") or []) != sorted((self._zones or {}).get(str(zone["id"]), [])):
                    s["targetedZone"]["countries"] = zone["countries"]
            if a["type"] == "hire-group":
                s["groupId"] = a["groupId"]
                s.update({k: a[k] for k, d in HIRE_FIELDS.items() if a.get(k) != d})
            table = obj.raw.get("row_table") or []
            if a.get("tasks") is not None and table:
                self._export_rows(doc, table, name, a)
            else:
                s["availablePositions"] = a["availablePositions"]
                if a.get("tasks") is not None:
                    doc.ignore("tasks", note="tasks: the campaign has unique tasks but no rows to read; left to the platform (ignoreChanges)")
            limit = a["maximumJobLimit"]
            if limit != normalise_limit(None):
                key = json.dumps(limit, sort_keys=True)
                sspec = None if key in schedules else self._schedule_from_limit(limit)
                if key in schedules:
                    s["schedule"] = schedules[key]
                elif sspec is None:
                    doc.ignore("maximumJobLimit", note="maximumJobLimit: this limit has no exact Schedule equivalent; "
                                                       "left to the platform (ignoreChanges)")  # fmt: skip
                else:
                    schedules[key] = s["schedule"] = ctx.unique("Schedule", name, "schedule", neutral=True)
                    group.insert(1, ExportedDoc("Schedule", s["schedule"], sspec, doc.file,
                                                source=f"maximumJobLimit of {ctx.source(obj)}"))  # fmt: skip
            s.update({k: a[k] for k, d in DEFAULTS.items() if a.get(k) != d})
            if a["state"] in ("running", "paused", "stopped"):
                s["state"] = a["state"]
            else:
                doc.ignore("state", note=f"state: the campaign is {obj.status} on Microworkers, which the config cannot ask for (ignoreChanges)")
            out += group
        return out + list(tpl_docs.values())

    @staticmethod
    def _export_rows(doc: Any, table: list[tuple[str, dict[str, str], dict[str, list[str]]]], name: str, a: dict[str, Any]) -> None:
        """Write a campaign's task rows as data/<name>.csv (or .jsonl) next to its YAML."""
        import csv
        import io
        import json

        keys = list(dict.fromkeys(k for _, data, _ in table for k in data))
        questions = list(dict.fromkeys(q for _, _, tests in table for q in tests))
        representable = all(
            a_ and a_ == a_.strip() and "|" not in a_ for _, _, tests in table for answers in tests.values() for a_ in answers
        ) and all(tests[q] for _, _, tests in table for q in tests) and not any(
            k == "id" or k.startswith("test:") or k != k.strip() or not k for k in keys
        )
        if not representable:
            doc.ignore("tasks", note="tasks: some rows cannot be written as CSV/JSONL rows (column names or test answers); "
                                     "left to the platform (ignoreChanges)")  # fmt: skip
        uniform = all(list(data) == keys for _, data, _ in table) and all(
            "\n" not in v and "\r" not in v for _, data, _ in table for v in data.values())
        if uniform:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["id", *keys, *[f"test:{q}" for q in questions]])
            for row_id, data, tests in table:
                writer.writerow([row_id, *[data[k] for k in keys], *["|".join(tests.get(q, [])) for q in questions]])
            rel, text = f"data/{name}.csv", buffer.getvalue()
        else:
            lines = [json.dumps({"id": row_id, **data, **{f"test:{q}": "|".join(v) for q, v in tests.items()}}, ensure_ascii=False)
                     for row_id, data, tests in table]  # fmt: skip
            rel, text = f"data/{name}.jsonl", "\n".join(lines) + "\n"
        doc.data_files[rel] = text
        doc.spec["tasks"] = {"file": rel}
        sub = int((a.get("internalTemplate") or {}).get("numberOfSubTasks") or 1)
        same = int(a.get("numberOfWorkerOnSamePosition") or 1)
        if len(table) // sub * same != a["availablePositions"]:
            doc.ignore("availablePositions", note=(
                f"availablePositions: {a['availablePositions']} on the platform, {len(table)} rows give "
                f"{len(table) // sub * same}; left to the platform (ignoreChanges)"))
