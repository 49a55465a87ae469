"""SWARMS sandbox: cursor paging, ordering and search of the list routes."""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..store import Store

if TYPE_CHECKING:
    pass
from .common import P, invalid, route_path
from .context import Ctx

# --------------------------------------------------------------------------------------------
# paging
# --------------------------------------------------------------------------------------------

ORDER_FIELDS = ("id", "name", "lastModifiedAt", "createdAt")


@dataclass
class Page:
    items: list[Any]
    next: int | None = None
    previous: int | None = None


def int_param(ctx: Ctx, name: str, *, default: int | None, lo: int, hi: int | None = None) -> int | None:
    raw = ctx.query(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name}: must be an integer (got {raw!r})") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise invalid(f"{name}: must be {bound} (got {value})")
    return value


def cursor_params(ctx: Ctx) -> tuple[int, int | None, int | None]:
    limit = int_param(ctx, "limit", default=10, lo=1, hi=100)
    after = int_param(ctx, "after", default=None, lo=0)
    before = int_param(ctx, "before", default=None, lo=0)
    if after is not None and before is not None:
        raise invalid("after, before: use only one of them")
    assert limit is not None
    return limit, after, before


def order_param(ctx: Ctx) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for raw in ctx.request.query_params.getlist("order"):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("-+")
            if name not in ORDER_FIELDS:
                raise invalid(f"order: must be one of {', '.join(ORDER_FIELDS)}, optionally prefixed by '-' (got {part!r})")
            keys.append((name, desc))
    return keys or [("id", False)]


def search_words(ctx: Ctx) -> list[str]:
    return re.findall(r"\w+", (ctx.query("search") or "").casefold())


def name_matches(words: list[str]) -> Callable[[dict[str, Any]], bool] | None:
    if not words:
        return None

    def match(doc: dict[str, Any]) -> bool:
        name_words = set(re.findall(r"\w+", str(doc.get("name", "")).casefold()))
        return all(word in name_words for word in words)

    return match


def _scan(
    store: Store, kind: str, *, start: int | None, asc: bool, where: dict[str, Any] | None,
    pred: Callable[[dict[str, Any]], bool] | None, chunk: int,
) -> Iterator[dict[str, Any]]:
    """Objects past ``start`` in id order (ascending or descending), fetched ``chunk`` at a time."""
    cursor = start
    while True:
        rows = store.list(
            P, kind, where=where, after=cursor if asc else None, before=None if asc else cursor,
            limit=chunk, descending=not asc,
        )
        for row in rows:
            if pred is None or pred(row):
                yield row
        if len(rows) < chunk:
            return
        cursor = rows[-1]["id"]


def page_by_id(
    store: Store, kind: str, *, limit: int, after: int | None, before: int | None, asc: bool = True,
    where: dict[str, Any] | None = None, pred: Callable[[dict[str, Any]], bool] | None = None,
) -> Page:
    """A page in id order, paged in SQL (never loads the table)."""
    chunk = limit + 1 if pred is None else 250

    def scan(start: int | None, forward: bool, size: int = chunk) -> Iterator[dict[str, Any]]:
        return _scan(store, kind, start=start, asc=forward == asc, where=where, pred=pred, chunk=size)

    probe = 1 if pred is None else 250
    if before is None:
        items = list(itertools.islice(scan(after, True), limit + 1))
        has_next = len(items) > limit
        items = items[:limit]
        has_prev = bool(items) and next(scan(items[0]["id"], False, probe), None) is not None
    else:
        items = list(itertools.islice(scan(before, False), limit + 1))
        has_prev = len(items) > limit
        items = items[:limit][::-1]
        has_next = bool(items) and next(scan(items[-1]["id"], True, probe), None) is not None
    return Page(items, items[-1]["id"] if has_next else None, items[0]["id"] if has_prev else None)


def page_sorted(items: list[dict[str, Any]], *, limit: int, after: int | None, before: int | None) -> Page:
    """A page of an in-memory ordered list; cursors are ids of items in the list."""
    ids = [item["id"] for item in items]

    def position(cursor: int, name: str) -> int:
        try:
            return ids.index(cursor)
        except ValueError:
            raise invalid(f"{name}: {cursor} is not an item of this listing") from None

    if before is not None:
        end = position(before, "before")
        start = max(0, end - limit)
    else:
        start = position(after, "after") + 1 if after is not None else 0
        end = min(len(items), start + limit)
    window = items[start:end]
    return Page(
        window,
        window[-1]["id"] if window and end < len(items) else None,
        window[0]["id"] if window and start > 0 else None,
    )


def page_positions(items: list[Any], *, limit: int, after: int | None, before: int | None) -> Page:
    """A page of a list that may repeat ids; cursors are 1-based positions."""
    total = len(items)
    if after is not None:
        start = min(after, total)
        end = min(total, start + limit)
    elif before is not None:
        end = min(max(before - 1, 0), total)
        start = max(0, end - limit)
    else:
        start, end = 0, min(total, limit)
    window = items[start:end]
    return Page(window, end if window and end < total else None, start + 1 if window and start > 0 else None)


def page_links(ctx: Ctx, page: Page) -> dict[str, Any]:
    kept = [(k, v) for k, v in ctx.request.query_params.multi_items() if k not in ("after", "before")]
    path = route_path(ctx.request.scope)
    links: dict[str, Any] = {}
    if page.next is not None:
        links["next"] = {"href": ctx.href(path, [("after", str(page.next)), *kept])}
    if page.previous is not None:
        links["previous"] = {"href": ctx.href(path, [("before", str(page.previous)), *kept])}
    return links


def sort_docs(docs: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    docs = sorted(docs, key=lambda d: d["id"])
    for field, desc in reversed(keys):
        if field == "name":
            docs.sort(key=lambda d: str(d.get("name", "")).casefold(), reverse=desc)
        else:
            docs.sort(key=lambda d, f=field: d[f], reverse=desc)  # type: ignore[misc]
    return docs


def list_page(ctx: Ctx, kind: str) -> Page:
    limit, after, before = cursor_params(ctx)
    keys = order_param(ctx)
    pred = name_matches(search_words(ctx))
    if len(keys) == 1 and keys[0][0] == "id":
        return page_by_id(ctx.store, kind, limit=limit, after=after, before=before, asc=not keys[0][1], pred=pred)
    docs = ctx.store.list(P, kind)
    if pred is not None:
        docs = [d for d in docs if pred(d)]
    return page_sorted(sort_docs(docs, keys), limit=limit, after=after, before=before)
