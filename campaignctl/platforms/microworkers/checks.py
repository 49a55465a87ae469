"""Microworkers API v2: the platform's rules a campaign must keep, offline (``check``: the task UI,
zones, groups, task rows against the template, positions) and against the account's reference data
(``check_live_config``: category, minimum payment, zone and its countries). Used by
:mod:`campaignctl.platforms.microworkers.provider` and its change mapping (:mod:`.plan`)."""
from __future__ import annotations

from typing import Any

from ...config.model import Config, Document, address_of
from ...errors import Diagnostic
from ...providers.base import Impossible
from ...providers.schedule import check_schedule
from .model import MIN_BASIC_POSITIONS
from .rows import check_rows_against, check_schedule_mw, load_rows, schedule_doc, variables_of


def check_campaign(doc: Document, config: Config, schedule_fields: frozenset[str]) -> list[Diagnostic]:
    """The offline check of a Campaign document (the provider's ``check``)."""
    if doc.kind != "Campaign":
        return []
    spec = doc.spec
    diags: list[Diagnostic] = []
    schedule = schedule_doc(doc, config)
    if schedule is not None:
        diags += check_schedule(schedule, doc, schedule_fields, "Microworkers")
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


def check_live_config(d: dict[str, Any], categories: dict[str, float] | None, zones: dict[str, list[str]] | None) -> None:
    """A desired campaign against the account's reference data (None: not known, not checked):
    raises :class:`Impossible` with what is wrong."""
    if categories is not None and d["categoryId"] not in categories:
        choices = ", ".join(sorted(categories))
        raise Impossible(f"categoryId {d['categoryId']!r} is not a Microworkers sub-category (GET /basic-categories); valid: {choices}")
    if categories is not None and d["paymentPerTask"] < categories[d["categoryId"]]:
        raise Impossible(f"paymentPerTask {d['paymentPerTask']} is below the minimum "
                         f"{categories[d['categoryId']]} USD of category {d['categoryId']}")
    zone = d.get("zone")
    if zone and zones is not None and zone["id"] not in zones:
        raise Impossible(f"zone {zone['id']!r} is unknown (GET /basic-campaigns/configuration); valid: {', '.join(zones)}")
    if zone and zones is not None and zone.get("countries"):
        outside = [c for c in zone["countries"] if c not in zones[zone["id"]]]
        if outside:
            raise Impossible(f"countries {', '.join(outside)} are not in zone {zone['id']}; it has: {', '.join(zones[zone['id']])}")
