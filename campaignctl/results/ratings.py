"""Ratings files, the per-row outcome report and the local ledger of ratings already sent.

A ratings file is CSV: ``id, rating, comment, bonus`` (+ ``until`` on SWARMS), with a header row
(any order; other columns are ignored, so an export with a filled-in ``rating`` column works) or
without one (then the columns are positional). Every row is checked before anything is sent, and
every bad row is reported with its line number at once.

The ledger (``.campaignctl/ratings-<campaign>.jsonl``) gets one line per rating the platform
accepted, appended and flushed to disk right after the call, so a run that dies midway can be
re-run with the same file: a row whose exact decision (id, rating, comment, bonus) is in the
ledger is skipped.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from ..fsutil import open_private
from .common import RATINGS, Outcome, RatingRow, ResultsError, Reviewer, parse_time

COLUMNS = ("id", "rating", "comment", "bonus", "until")
ID_ALIASES = ("id", "result", "result_id", "task", "task_id", "id_task", "slot", "slot_id", "submission")
REPORT_COLUMNS = ("line", "id", "rating", "bonus", "outcome", "message")


class RatingsFileError(ResultsError):
    """Bad rows in a ratings file; the message lists each with its line number."""


def _header(cells: list[str]) -> dict[str, int] | None:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    if "rating" not in names:
        return None
    out: dict[str, int] = {}
    for index, name in enumerate(names):
        key = "id" if name in ID_ALIASES else name
        if key in COLUMNS and key not in out:
            out[key] = index
    return out


def _bonus(text: str, reviewer: Reviewer, problems: list[str]) -> Decimal | None:
    raw = text.strip().removeprefix("$").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.append(f"bonus {text!r} is not a number")
        return None
    if not value.is_finite() or value < 0:
        problems.append(f"bonus {text!r} must be a positive amount of USD")
        return None
    if value == 0:
        return None
    if not reviewer.supports_bonus:
        problems.append(f"{reviewer.platform} has no bonuses: leave the bonus empty")
        return None
    payment = reviewer.payment()
    if payment is not None and not payment * Decimal("0.1") <= value <= payment * 2:
        problems.append(
            f"bonus {raw} USD is outside the allowed {payment * Decimal('0.1'):g}..{payment * 2:g} USD "
            f"(0.1x..2x the payment per task, {payment:g} USD)"
        )
    return value


def _records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with the line each starts on."""
    reader = csv.reader(io.StringIO(text))
    out = []
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if any(c.strip() for c in cells):
            out.append((line, cells))
    return out


def _row(cells: list[str], columns: dict[str, int], reviewer: Reviewer, line: int, seen: dict[str, int]) -> tuple[RatingRow, list[str]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[str] = []
    ident, rating_raw, comment = cell("id"), cell("rating"), cell("comment")
    rating = rating_raw.upper()
    if not ident:
        problems.append("the id is empty")
    elif (why := reviewer.check_id(ident)) is not None:
        problems.append(why)
    elif ident in seen:
        problems.append(f"id {ident} is rated twice (also on line {seen[ident]})")
    else:
        seen[ident] = line
    if rating and rating not in RATINGS:
        problems.append(f"rating {rating_raw!r} is not OK, NOK or REVISE")
    if rating in ("NOK", "REVISE") and not comment:
        problems.append(f"a comment is mandatory when rating {rating} (it tells the worker why)")
    bonus = _bonus(cell("bonus"), reviewer, problems)
    until = None
    if cell("until"):
        if not reviewer.supports_until:
            problems.append(f"{reviewer.platform} takes no until date: leave it empty")
        elif rating != "REVISE":
            problems.append("until is only for REVISE (the date until the worker can redo the job)")
        else:
            try:
                until = parse_time(cell("until"))
            except ResultsError as exc:
                problems.append(f"until: {exc}")
    return RatingRow(line, ident, rating, comment, bonus, until), problems


def parse_ratings(text: str, reviewer: Reviewer, source: str = "ratings.csv") -> tuple[list[RatingRow], list[str]]:
    """Rows and problems (``source:line: message``) of a ratings file's text."""
    records = _records(text)
    if not records:
        return [], [f"{source}: no ratings in the file"]
    first_line, first = records[0]
    columns = _header(first)
    if columns is None:
        if first[0].strip().lower() in ID_ALIASES:
            return [], [f"{source}:{first_line}: the header has no rating column"]
        columns = {name: i for i, name in enumerate(COLUMNS)}  # no header: positional
    elif "id" not in columns:
        return [], [f"{source}:{first_line}: the header has no id column (one of {', '.join(ID_ALIASES)})"]
    else:
        records = records[1:]
    rows: list[RatingRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in records:
        row, row_problems = _row(cells, columns, reviewer, line, seen)
        rows.append(row)
        if row_problems:
            problems.append(f"{source}:{line}: " + "; ".join(row_problems))
    if not rows and not problems:
        problems.append(f"{source}: no ratings in the file")
    return rows, problems


def read_ratings(path: Path, reviewer: Reviewer) -> list[RatingRow]:
    """Every row of ``path``, checked; any bad row -> RatingsFileError listing them all."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RatingsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RatingsFileError(f"{path}: cannot read it ({exc})") from None
    rows, problems = parse_ratings(text, reviewer, str(path))
    if problems:
        raise RatingsFileError(
            f"{len(problems)} bad row(s) in {path}; nothing was sent:\n  " + "\n  ".join(problems)
        )
    return rows


# -- the report --------------------------------------------------------------------------------
def write_report(outcomes: list[Outcome], stream: IO[str]) -> None:
    writer = csv.DictWriter(stream, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for outcome in sorted(outcomes, key=lambda o: o.row.line):
        writer.writerow(outcome.record())


# -- the ledger --------------------------------------------------------------------------------
def ledger_path(root: Path, campaign_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", campaign_name)
    return root / ".campaignctl" / f"ratings-{safe}.jsonl"


class Ledger:
    """Ratings sent for one campaign (its address and remote id), one JSON line each."""

    def __init__(self, path: Path, address: str, remote_id: Any) -> None:
        self.path = path
        self.address = address
        self.remote_id = str(remote_id)
        self.sent: dict[tuple[str, str, str, str], str] = {}  # decision -> when
        self._file: IO[str] | None = None
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by a crash: that call's outcome is re-read from the platform
                if entry.get("address") == address and str(entry.get("campaign")) == self.remote_id:
                    key = (str(entry["id"]), entry["rating"], entry.get("comment", ""), entry.get("bonus") or "")
                    self.sent[key] = entry.get("at", "")

    def has(self, row: RatingRow) -> str | None:
        """When the same decision was sent before (None: never)."""
        return self.sent.get(row.key())

    def add(self, row: RatingRow) -> None:
        if self._file is None:
            self._file = open_private(self.path, "a")  # 0600: worker ids are personal data
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = {"at": at, "address": self.address, "campaign": self.remote_id, "id": row.id, "rating": row.rating,
                 "comment": row.comment, "bonus": str(row.bonus) if row.bonus else None, "line": row.line}
        self._file.write(json.dumps(entry, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.sent[row.key()] = at

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
