"""Files of known answers: a Review's gold file, ``sandbox submit --truth``. CSV with a header
``task, field, answer`` (other columns ignored): one row per (task, field) whose answer is known."""
from __future__ import annotations

import csv
from pathlib import Path

from ..errors import CampaignctlError


def read_answers(path: Path) -> dict[tuple[str, str], str]:
    """A truth (or gold) CSV: header ``task, field, answer``; -> {(task, field): answer}.
    Bad rows -> CampaignctlError naming file:line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignctlError(f"{path}: cannot read it ({exc.__class__.__name__}: {exc})") from None
    reader = csv.reader(text.splitlines())
    out: dict[tuple[str, str], str] = {}
    header: list[str] | None = None
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = [c for c in ("task", "field", "answer") if c not in header]
            if missing:
                raise CampaignctlError(f"{path}:{line}: the header must name task, field, answer (missing {', '.join(missing)})")
            continue
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        task, name, answer = row.get("task", ""), row.get("field", ""), row.get("answer")
        if not task or not name or answer is None or answer == "":
            raise CampaignctlError(f"{path}:{line}: a row needs a task, a field and an answer")
        if (task, name) in out and out[(task, name)] != answer:
            raise CampaignctlError(f"{path}:{line}: task {task!r} field {name!r} has two different answers")
        out[(task, name)] = answer
    if header is None:
        raise CampaignctlError(f"{path}: empty (a header task, field, answer and one row per known answer expected)")
    return out
