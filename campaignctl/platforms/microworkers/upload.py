"""Microworkers task rows sent at apply time: a plan's operation names the rows of a data file it
sends (the file, its sha256, the rows' count and digest, and which rows: index ranges) in place of
the rows; apply reads them from the file when it sends them, and sends nothing unless they are
still the rows planned. A plan of 1,000,000 new rows held every row's body: 1.97 GB; now none."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import PlanError
from .rows import Rows, RowTable, _csv_rows, _jsonl_rows, _shown, content_digest, summary_of

#: task rows sent in one request at most (a create, a tasks-groups or restart call): the docs name
#: no limit; 10,000 is what the sandbox takes (its guess). More rows go in one call per 10,000.
TASKS_PER_REQUEST = 10_000


def row_parts(indexes: Iterable[int], size: int) -> list[list[list[int]]]:
    """``indexes`` (ascending) in parts of at most ``size`` rows, each part as index ranges
    ``[[start, stop], ...]`` (what an operation names of the rows it sends)."""
    parts: list[list[list[int]]] = []
    part: list[list[int]] = []
    taken = 0
    for index in indexes:
        if taken == size:
            parts.append(part)
            part, taken = [], 0
        if part and part[-1][1] == index:
            part[-1][1] += 1
        else:
            part.append([index, index + 1])
        taken += 1
    if part:
        parts.append(part)
    return parts


def upload_ref(rows: RowTable, root: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """What a plan's operation holds of the task rows it uploads from a data file, in place of the
    rows: the file (its path relative to the config directory, and sha256), how many rows and their
    digest (``summary``, :func:`rows_summary`). Apply reads the rows from the file then
    (:func:`read_upload`)."""
    return {"file": rows.path.resolve().relative_to(root.resolve()).as_posix(), "sha256": rows.sha256,
            "count": summary["count"], "digest": summary["digest"]}


@dataclass
class Upload:
    """Task rows read from their data file to be sent: each row's body, where it is (``file:line``)
    and id -> digest (what state records as sent)."""

    tasks: list[dict[str, Any]]
    sources: list[str]
    digests: dict[str, str]

    def select(self, ranges: Any) -> Upload:
        """The rows of ``ranges`` (``[[start, stop], ...]``, indexes in file order, what a plan's
        operation names of the rows it sends); PlanError on ranges that are not the file's."""
        if ranges is None:
            return self
        out = Upload([], [], {})
        ids = list(self.digests)
        for item in ranges:
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, int) for x in item)
                    and 0 <= item[0] < item[1] <= len(self.tasks)):
                raise PlanError(f"the plan names task rows {item!r} that its data file does not have ({len(self.tasks)} rows)")
            start, stop = item
            out.tasks += self.tasks[start:stop]
            out.sources += self.sources[start:stop]
            out.digests.update((i, self.digests[i]) for i in ids[start:stop])
        return out


def read_upload(root: Path, ref: dict[str, Any]) -> Upload:
    """The rows a plan's :func:`upload_ref` names, read from the data file, streamed, when apply
    sends them; PlanError (nothing is sent) unless they are the rows planned: the file's sha256,
    and the rows' count and digest (recomputed from their columns)."""
    name = str(ref.get("file"))
    base = root.resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base):
        raise PlanError(f"the plan names task data {name!r} outside the config directory {base}")
    shown = _shown(path)
    stale = f"the task data file {shown} changed since the plan was made ({{}}); nothing was sent: run plan again"
    try:
        with path.open("rb") as fh:
            sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
        if sha256 != ref.get("sha256"):
            raise PlanError(stale.format(f"sha256 {str(ref.get('sha256'))[:12]}... -> {sha256[:12]}..."))
        found = Rows()
        upload = Upload([], [], {})
        with path.open(encoding="utf-8-sig", newline="") as text:
            parsed = _jsonl_rows(text, shown, found) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv_rows(text, shown, found)
            for row in parsed:
                upload.tasks.append(row.body())
                upload.sources.append(row.source)
                upload.digests[row.id] = content_digest(row.data, row.tests)
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(stale.format(f"it cannot be read: {exc}")) from None
    now = summary_of(upload.digests)
    if found.diags or len(upload.tasks) != now["count"] or (now["count"], now["digest"]) != (ref.get("count"), ref.get("digest")):
        raise PlanError(stale.format(f"{ref.get('count')} rows, digest {ref.get('digest')} -> {len(upload.tasks)} rows, "
                                     f"digest {now['digest']}{', with problems' if found.diags else ''}"))
    return upload
