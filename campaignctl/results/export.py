"""``results export``: every submission of a campaign as JSONL or CSV, one row each.

Columns: ``id, worker, state`` (the platform's word), ``rating`` (``""`` while waiting, else
OK/NOK/REVISE), ``started``, ``submitted`` (ISO 8601 UTC), the platform's own columns, then one
per component result / question / proof. JSONL keeps values as they are (numbers, booleans,
lists); CSV writes lists joined with ``; ``, booleans as ``true``/``false``, nothing for null.
JSONL rows stream out as pages arrive; CSV needs every answer column for its header, so it writes
once the last page is in.

Workers write the answers and the platforms name the columns, so a CSV cell could be a formula
that a spreadsheet runs when the file is opened (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``).
As OWASP recommends ("CSV Injection"), a CSV cell (header included) that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a single quote in front, unless it is a plain
number (``-2.5`` stays a number; ``-2+3+cmd`` does not); ``raw=True`` (``--raw``) writes them as
they are. JSONL is always exact.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from .common import Progress, Reviewer

BASE_COLUMNS = ("id", "worker", "state", "rating", "started", "submitted")
FORMATS = ("jsonl", "csv")


@dataclass
class Exported:
    count: int = 0
    last_submitted: datetime | None = None


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(csv_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading ``'`` on a cell a
    spreadsheet would read as a formula (see the module's docstring)."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


async def export(
    reviewer: Reviewer, stream: IO[str], *, fmt: str = "jsonl", rating: str | None = None,
    state: str | None = None, since: datetime | None = None, progress: Progress | None = None, raw: bool = False,
) -> Exported:
    """Write the campaign's submissions to ``stream``; ``rating`` / ``state`` keep one neutral rating /
    one platform state, ``since`` those submitted at that second or later (so a resumed export
    loses nothing; rows of the boundary second come again, the ``id`` tells them apart). ``raw``:
    CSV cells that look like formulas are not neutralised."""
    done = Exported()
    rows: list[dict[str, Any]] = []
    async for sub in reviewer.submissions(since=since, progress=progress):
        if since is not None and (sub.submitted is None or sub.submitted < since):
            continue
        if rating is not None and sub.rating != rating:
            continue
        if state is not None and sub.state != state:
            continue
        done.count += 1
        if sub.submitted and (done.last_submitted is None or sub.submitted > done.last_submitted):
            done.last_submitted = sub.submitted
        if fmt == "jsonl":
            stream.write(json.dumps(sub.row(), ensure_ascii=False) + "\n")
        else:
            rows.append(sub.row())
    if fmt == "csv":
        columns = list(BASE_COLUMNS) + list(reviewer.columns)
        for row in rows:
            columns += [c for c in row if c not in columns]
        cell = str if raw else csv_safe
        writer = csv.writer(stream, lineterminator="\n")
        # with "\n" as the line end, the csv module quotes a cell holding "\n" but not one holding
        # a lone "\r", which most readers take for a line end: a worker's answer could end the row
        # and start a forged one. A row with a "\r" anywhere is written with every cell quoted.
        quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
        for cells in ([cell(c) for c in columns], *([cell(csv_value(row.get(c))) for c in columns] for row in rows)):
            (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
    stream.flush()
    return done
