"""SWARMS sandbox: how tasks, jobs and campaigns are answered (fields, ``_links``, actions)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .common import RUNNING, task_sizes
from .context import Ctx
from .validation import CAMPAIGN_FIELDS

# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------

def render_component(comp: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": comp.get("type"),
        "sticky": bool(comp.get("sticky", False)),
        "optionalResult": bool(comp.get("optionalResult", False)),
        "landscape": bool(comp.get("landscape", False)),
        "properties": comp.get("properties") or {},
    }


def _common(ctx: Ctx, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "readOnly": ctx.read_only(kind, doc),
        "lastModifiedAt": doc["lastModifiedAt"],
        "createdAt": doc["createdAt"],
        "archived": doc["archived"],
    }


def _archive_link(ctx: Ctx, base: str, doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    if ctx.docs_only:  # link names nothing documents (the SDK follows self, copy, tasks, jobs, results, lifecycle)
        return {}
    if doc["archived"]:
        return {"unarchive": {"href": ctx.href(f"{base}/unarchive")}}
    if doc.get("state") in RUNNING:
        return {}
    return {"archive": {"href": ctx.href(f"{base}/archive")}}


def render_task(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    resources, upload = task_sizes(doc)
    out = {
        "name": doc["name"],
        "components": [render_component(c) for c in doc["components"]],
        "properties": doc["properties"],
        "resourcesSize": f"{resources}MB",
        "estimatedUploadSize": f"{upload}MB",
        **_common(ctx, "task", doc),
    }
    if ctx.hal:
        base = f"/tasks/{doc['id']}"
        out["_links"] = {"self": {"href": ctx.href(base)}, "copy": {"href": ctx.href(f"{base}/copy")},
                         **_archive_link(ctx, base, doc)}
    return out


def render_job(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    resources = upload = 0
    for sizes in ctx.task_sizes(doc["_tasks"]):
        if sizes:
            resources, upload = resources + sizes[0], upload + sizes[1]
    out = {
        "name": doc["name"],
        "description": doc["description"],
        "properties": doc["properties"],
        "resourcesSize": f"{resources}MB",
        "estimatedUploadSize": f"{upload}MB",
        **_common(ctx, "job", doc),
    }
    if ctx.hal:
        base = f"/jobs/{doc['id']}"
        out["_links"] = {"self": {"href": ctx.href(base)}, "tasks": {"href": ctx.href(f"{base}/tasks")},
                         "copy": {"href": ctx.href(f"{base}/copy")}, **_archive_link(ctx, base, doc)}
    return out


CAMPAIGN_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "publish": (("unpublished",), "active"),
    "pause": (("active",), "paused"),
    "continue": (("paused",), "active"),
    "cancel": (RUNNING, "cancelled"),
}


def render_campaign(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    out = {field: doc.get(field, default) for field, (_, default) in CAMPAIGN_FIELDS.items()}
    out["state"] = doc["state"]
    out.update(_common(ctx, "campaign", doc))
    if ctx.hal:
        base = f"/campaigns/{doc['id']}"
        links = {"self": {"href": ctx.href(base)}}
        for action, (states, _) in CAMPAIGN_ACTIONS.items():
            if doc["state"] in states:
                links[action] = {"href": ctx.href(f"{base}/{action}")}
        links["jobs"] = {"href": ctx.href(f"{base}/jobs")}
        if doc["state"] != "unpublished":  # results exist once published; the SDK finds them only by this link
            links["results"] = {"href": ctx.href(f"{base}/results")}
        links["copy"] = {"href": ctx.href(f"{base}/copy")}
        links.update(_archive_link(ctx, base, doc))
        out["_links"] = links
    return out


RENDER: dict[str, Callable[[Ctx, dict[str, Any]], dict[str, Any]]] = {
    "task": render_task, "job": render_job, "campaign": render_campaign,
}


def render_result(result: dict[str, Any], ctx: Ctx | None = None) -> dict[str, Any]:
    out = {
        "worker": result["worker"],
        "job": result["job"],
        "startedAt": result["startedAt"],
        "completedAt": result["completedAt"],
        "state": result["state"],
        "taskResults": result["taskResults"],
        "id": result["id"],
        "assignmentId": result["assignmentId"],
    }
    if ctx is not None and ctx.docs_only:  # the docs' result data: type, landscape, properties, sticky
        out["taskResults"] = [
            {**tr, "components": [{**c, "data": {k: v for k, v in c["data"].items() if k != "optionalResult"}}
                                  for c in tr.get("components", [])]}
            for tr in result["taskResults"]
        ]
    if ctx is not None and ctx.hal:
        base = f"/results/{result['id']}"
        links = {} if ctx.docs_only else {"self": {"href": ctx.href(base)}}  # GET /results/{id}: a guess
        if result["state"] in ("InReview", "SoftRejected"):
            links["approve"] = {"href": ctx.href(f"{base}/approve")}
            links["reject"] = {"href": ctx.href(f"{base}/reject")}
        if result["state"] == "InReview":  # the python SDK's name for it
            links["softReject"] = {"href": ctx.href(f"{base}/soft-reject")}
        out["_links"] = links
    return out
