"""SWARMS sandbox: create, read, update, delete, copy and archive of tasks, jobs and campaigns."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .account import release_frozen
from .common import KINDS, RUNNING, ApiError, P, illegal_state, read_only, timestamp
from .context import Ctx, Handler, ensure_writable
from .paging import list_page, page_links
from .render import RENDER
from .validation import validate_campaign, validate_job, validate_task

# --------------------------------------------------------------------------------------------
# tasks, jobs, campaigns: CRUD
# --------------------------------------------------------------------------------------------

VALIDATE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "task": validate_task, "job": validate_job, "campaign": validate_campaign,
}


def new_doc(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    stamp = timestamp()
    doc = {**fields, "archived": False, "createdAt": stamp, "lastModifiedAt": stamp}
    if kind == "job":
        doc["_tasks"] = []
    if kind == "campaign":
        doc.update(state="unpublished", _jobs=[], _frozen="0", _paid="0")
    return doc


def touch(doc: dict[str, Any]) -> dict[str, Any]:
    doc["lastModifiedAt"] = timestamp()
    return doc


def collection_handlers(plural: str) -> dict[str, Handler]:
    kind = KINDS[plural]

    async def list_all(ctx: Ctx) -> Any:
        page = list_page(ctx, kind)
        if kind == "job":  # each job's sizes add up its tasks': those not known read in one query
            ctx.task_sizes([t for d in page.items for t in d["_tasks"]])
        return {"_links": page_links(ctx, page), plural: [RENDER[kind](ctx, d) for d in page.items]}

    async def create(ctx: Ctx) -> Any:
        fields = VALIDATE[kind](await ctx.body_object())
        with ctx.store.transaction():
            doc = ctx.store.insert(P, kind, new_doc(kind, fields))
        return 201, RENDER[kind](ctx, doc)

    async def get_one(ctx: Ctx) -> Any:
        return RENDER[kind](ctx, ctx.get(kind, ctx.path_id()))

    async def update(ctx: Ctx) -> Any:
        body = await ctx.body_object()
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            ensure_writable(ctx, kind, doc)
            doc.update(VALIDATE[kind](body))
            ctx.store.put(P, kind, doc["id"], touch(doc))
        return RENDER[kind](ctx, doc)

    async def delete(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            DELETE[kind](ctx, doc)
        return {}

    async def copy(ctx: Ctx) -> Any:
        deep = ctx.flag("deep") if kind != "task" else False
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            clone = copy_doc(ctx, kind, doc, deep, {})
        return 201, RENDER[kind](ctx, clone)

    async def archive(ctx: Ctx) -> Any:
        deep = ctx.flag("deep") if kind != "task" else False
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            if kind == "campaign" and doc["state"] in RUNNING:
                raise illegal_state(
                    f"cannot archive campaign {doc['id']} in state '{doc['state']}'; cancel it first"
                )
            if kind != "campaign" and ctx.read_only(kind, doc):
                raise read_only(kind, doc["id"], "it is used by an active or paused campaign")
            set_archived(ctx, kind, doc, True, deep)
        return RENDER[kind](ctx, ctx.get(kind, doc["id"]))

    async def unarchive(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            set_archived(ctx, kind, doc, False, True)
        return RENDER[kind](ctx, ctx.get(kind, doc["id"]))

    return {"list": list_all, "create": create, "get": get_one, "update": update, "delete": delete,
            "copy": copy, "archive": archive, "unarchive": unarchive}


def _delete_member(kind: str, parent: str, field: str) -> Callable[[Ctx, dict[str, Any]], None]:
    """Deleting a task or job: refused while an active or paused campaign uses it, else it is taken
    out of every job / campaign that lists it."""

    def delete(ctx: Ctx, doc: dict[str, Any]) -> None:
        if ctx.is_locked(kind, doc["id"]):
            raise ApiError(409, 3005, "resource in use", f"{kind} {doc['id']} is used by an active or paused campaign")
        for owner in ctx.store.list(P, parent):
            if doc["id"] in owner[field]:
                owner[field] = [m for m in owner[field] if m != doc["id"]]
                ctx.store.put(P, parent, owner["id"], touch(owner))
        ctx.store.delete(P, kind, doc["id"])

    return delete


def _delete_campaign(ctx: Ctx, doc: dict[str, Any]) -> None:
    if doc["state"] in RUNNING:
        raise ApiError(409, 3002, "campaign must be cancelled before delete",
                       f"campaign {doc['id']} is {doc['state']}; cancel it before deleting it")
    release_frozen(ctx, doc)
    for result in ctx.store.list(P, "result", where={"_campaign": doc["id"]}):
        ctx.store.delete(P, "result", result["id"])
    ctx.store.delete(P, "campaign", doc["id"])


DELETE: dict[str, Callable[[Ctx, dict[str, Any]], None]] = {
    "task": _delete_member("task", "job", "_tasks"), "job": _delete_member("job", "campaign", "_jobs"),
    "campaign": _delete_campaign,
}
CHILD = {"campaign": ("job", "_jobs"), "job": ("task", "_tasks")}


def copy_doc(ctx: Ctx, kind: str, doc: dict[str, Any], deep: bool, copied: dict[tuple[str, int], int]) -> dict[str, Any]:
    """Insert a copy (same name, unpublished, not archived); deep copies children once each."""
    fields = {k: v for k, v in doc.items() if k not in ("id", "archived", "createdAt", "lastModifiedAt")}
    clone = new_doc(kind, {k: v for k, v in fields.items() if not k.startswith("_") and k != "state"})
    if kind in CHILD:
        child_kind, attr = CHILD[kind]
        children = list(doc[attr])
        if deep:
            mapped = []
            for child_id in children:
                key = (child_kind, child_id)
                if key not in copied:
                    child = ctx.store.get(P, child_kind, child_id)
                    if child is None:
                        continue
                    copied[key] = copy_doc(ctx, child_kind, child, True, copied)["id"]
                mapped.append(copied[key])
            children = mapped
        clone[attr] = children
    return ctx.store.insert(P, kind, clone)


def set_archived(ctx: Ctx, kind: str, doc: dict[str, Any], archived: bool, deep: bool) -> None:
    if doc["archived"] != archived:
        doc["archived"] = archived
        ctx.store.put(P, kind, doc["id"], touch(doc))
        if kind == "task":
            ctx._tasks.pop(doc["id"], None)
    if deep and kind in CHILD:
        child_kind, attr = CHILD[kind]
        for child_id in dict.fromkeys(doc[attr]):
            child = ctx.store.get(P, child_kind, child_id)
            if child is not None:
                set_archived(ctx, child_kind, child, archived, True)
