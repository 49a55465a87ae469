"""Bounds on a paged read (issue 20): a platform's paging is followed, never trusted to end.

Every paged read (the providers' lists, ``results``' submissions) keeps a :class:`PageGuard`:

- a cursor (a next link, a ``nextPageToken``) that comes back is a loop: an error at once;
- pages that bring nothing new (empty, or every item's id already read), :data:`STALE_PAGES` in a
  row, are a loop too (numbered pages -- a ``page`` with a ``total_pages`` -- have no cursor to
  repeat: the same page again and again is how they loop);
- at most ``CAMPAIGNCTL_MAX_PAGES`` pages (default :data:`DEFAULT_MAX_PAGES`, a million objects at
  100 a page) per read: a platform that invents new cursors forever is stopped there.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from .errors import ApiError

MAX_PAGES_ENV = "CAMPAIGNCTL_MAX_PAGES"
DEFAULT_MAX_PAGES = 10_000
#: pages in a row without one new item that make a loop
STALE_PAGES = 3


def max_pages() -> int:
    """The page cap: ``CAMPAIGNCTL_MAX_PAGES`` when it is a positive number, else the default."""
    text = os.environ.get(MAX_PAGES_ENV, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_PAGES


class PageGuard:
    """One paged read's bounds. ``items(...)`` after each page with its items' ids, ``follow(cursor)``
    before asking for the next page; each raises ApiError when the paging loops or goes on too long."""

    def __init__(self, what: str, limit: int | None = None, redact: Callable[[str], str] = str) -> None:
        """``redact``: applied to a cursor's name in an error (a link may hold a secret)."""
        self.what = what
        self.redact = redact
        self.limit = limit if limit is not None else max_pages()
        self.pages = 1  # the first one, asked for without a cursor
        self._cursors: set[Hashable] = set()
        self._ids: set[Hashable] = set()
        self._stale = 0

    def items(self, ids: Iterable[Any]) -> None:
        """The ids of the items of the page just read."""
        before = len(self._ids)
        items = usable = 0
        for item_id in ids:
            items += 1
            if item_id is not None and isinstance(item_id, Hashable):
                usable += 1
                self._ids.add(item_id)
        if items and not usable:  # ids not to judge by
            return
        self._stale = self._stale + 1 if len(self._ids) == before else 0
        if self._stale >= STALE_PAGES:
            raise ApiError(
                f"the platform's pages of {self.what} loop: {STALE_PAGES} pages in a row brought only items already read, or none "
                f"(after {self.pages} pages)"
            )

    def follow(self, cursor: Hashable, shown: str | None = None) -> None:
        """Before asking for the page ``cursor`` names (``shown``: how to name it, default repr)."""
        name = self.redact(shown if shown is not None else repr(cursor))
        if cursor in self._cursors:
            raise ApiError(f"the platform's pages of {self.what} loop: {name} came back (after {self.pages} pages)")
        self._cursors.add(cursor)
        self.pages += 1
        if self.pages > self.limit:
            raise ApiError(
                f"the platform's pages of {self.what} did not end after {self.limit} pages (the cap, {MAX_PAGES_ENV}); "
                f"the next one was {name}"
            )
