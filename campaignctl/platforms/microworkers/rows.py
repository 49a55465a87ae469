"""Microworkers task data: unique task rows from inline YAML, CSV or JSONL, and the Schedule mapping.

Rows
    ``tasks: {file: data/rows.csv}`` (or ``.jsonl``; the path is relative to the YAML file that names it
    and must stay inside the config directory) or ``tasks: {rows: [{id: r1, url: ...}, ...]}``. A row is a flat mapping
    column -> value: ``id`` identifies the row (without it: a stable hash of the row's content),
    ``test:<question>`` columns become ``testCases`` (answers separated by ``|``), every other column
    becomes a ``tasks[].data`` key/value. Problems are Diagnostics pointing at ``file:line`` (the CSV
    line, the JSONL line, or the YAML item).

Schedule -> ``maximumJobLimit``
    no ``events`` and no ``start``/``end``: ``standardSchedule`` (daysOfWeek, workingHours,
    limitPerHour) with ``limitPerDay`` beside it (``maximumJobLimit.limitPerDay``, as documented); ``start``/``end``: ``advancedSchedule`` with one recurring event
    (daysOfWeek and workingHours give its days and daily window; default every day, all day);
    ``events``: ``advancedSchedule`` with one event each (one-time -> ``one-time``, recurring ->
    ``recur`` with the start/end dates and times). Top-level ``limitPerDay`` is not expressible
    together with ``events`` (Microworkers' advanced schedule has only per-event daily limits).
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import marshal
import os
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ...config.model import Config, Document
from ...errors import Diagnostic
from ...plan.model import FieldChange

ROW_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TEST_PREFIX = "test:"
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


@dataclass
class Row:
    id: str
    data: dict[str, str]
    tests: dict[str, list[str]]
    source: str  # "data/rows.csv:12"

    @cached_property
    def digest(self) -> str:
        return content_digest(self.data, self.tests)

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "data": [{"key": k, "value": v} for k, v in self.data.items()],
            "testCases": [{"question": q, "answers": a} for q, a in self.tests.items()],
        }


#: ``json.dumps(..., sort_keys=True, ensure_ascii=False)``, built once: ``dumps`` with arguments
#: builds an encoder per call, half the time of a row's digest (10,000 rows: 51 -> 23 ms)
_DIGEST_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def content_digest(data: dict[str, str], tests: dict[str, list[str]]) -> str:
    text = _DIGEST_JSON.encode({"data": data, "tests": tests})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Rows:
    rows: list[Row] | RowTable = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    diags: list[Diagnostic] = field(default_factory=list)
    file: str | None = None  # shown path of the data file
    header_line: int = 1


def variables_of(*texts: str | None) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for m in VARIABLE.finditer(text or ""):
            seen.setdefault(m.group(1))
    return list(seen)


def _shown(path: Path) -> str:
    from ...config.load import display_path

    return display_path(path)


def _row(values: dict[str, Any], source: str, diag: Any, rows: Rows) -> Iterator[Row]:
    """The row of ``values`` (none when it has a problem, which goes to ``rows.diags``)."""
    data: dict[str, str] = {}
    tests: dict[str, list[str]] = {}
    row_id: str | None = None
    for key, value in values.items():
        key = str(key).strip()
        text = "" if value is None else str(value)
        if key == "id":
            row_id = text.strip() or None
        elif key.startswith(TEST_PREFIX):
            answers = [a.strip() for a in text.split("|") if a.strip()]
            if answers:
                tests[key[len(TEST_PREFIX):]] = answers
        elif key:
            data[key] = text
    if row_id is None:
        row_id = content_digest(data, tests)
    elif not ROW_ID.match(row_id):
        rows.diags.append(diag(f"row id {row_id!r}: Microworkers task ids are 1-64 letters and digits only"))
        return
    if not data:
        rows.diags.append(diag("the row has no data columns"))
        return
    yield Row(row_id, data, tests, source)


class RowTable:
    """The rows of a task data file, kept compact: per row only its id, digest (8 bytes) and line;
    the columns are read again from the file, streamed, when the rows are iterated (1,000,000 rows
    of a 69 MB file held as Row objects took 1.1 GB). Iterating checks that the file still holds
    the same rows, in the same order."""

    def __init__(self, path: Path, shown: str, columns: list[str], ids: list[str], digests: bytearray, lines: array[int],
                 blank: dict[str, list[int]] | None = None) -> None:
        self.path, self.shown, self.columns = path, shown, columns
        self.ids, self.digests, self.lines = ids, digests, lines
        #: column -> the indexes of the rows whose value there is blank (what check_rows_against asks)
        self.blank: dict[str, list[int]] = blank or {}
        self.ragged = False  #: some rows lack columns others have (JSONL): blanks not noted for them
        self.sha256 = ""  #: of the file's bytes when it was scanned (what a plan's upload names)

    @classmethod
    def scan(cls, path: Path, shown: str, rows: Rows) -> RowTable:
        """Read the file once, streamed; its problems go to ``rows.diags``. Raises OSError and
        UnicodeDecodeError."""
        table = cls(path, shown, [], [], bytearray(), array("L"))
        first: Any = None
        for row in table._parse(rows):
            first = row.data.keys() if first is None else first
            table.ragged = table.ragged or row.data.keys() != first
            for column, value in row.data.items():
                if not value.strip():
                    table.blank.setdefault(column, []).append(len(table.ids))
            table.ids.append(row.id)
            table.digests += bytes.fromhex(row.digest)
            table.lines.append(int(row.source.rpartition(":")[2]))
        table.columns = rows.columns
        return table

    def _parse(self, rows: Rows) -> Iterator[Row]:
        with self.path.open(encoding="utf-8-sig", newline="") as fh:
            if self.path.suffix.lower() in (".jsonl", ".ndjson"):
                yield from _jsonl_rows(fh, self.shown, rows)
            else:
                yield from _csv_rows(fh, self.shown, rows)

    def __len__(self) -> int:
        return len(self.ids)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def __getitem__(self, index: int) -> Row:
        """One row, read from the file (reads up to it: for a few rows, not a loop)."""
        position = range(len(self.ids))[index]
        return next(itertools.islice(iter(self), position, None))

    def digest(self, index: int) -> str:
        return self.digests[index * 8 : index * 8 + 8].hex()

    def source(self, index: int) -> str:
        return f"{self.shown}:{self.lines[index]}"

    def id_digests(self) -> dict[str, str]:
        return {row_id: self.digest(i) for i, row_id in enumerate(self.ids)}

    def __iter__(self) -> Iterator[Row]:
        from ...errors import ConfigError

        index = 0
        for row in self._parse(Rows()):
            if index >= len(self.ids) or row.id != self.ids[index]:
                raise ConfigError(Diagnostic(self.shown, self.lines[min(index, len(self.lines) - 1)], 1,
                                             "the task data file changed while campaignctl ran; run it again"))
            row.__dict__["digest"] = self.digest(index)
            index += 1
            yield row
        if index != len(self.ids):
            raise ConfigError(Diagnostic(self.shown, 1, 1, "the task data file changed while campaignctl ran; run it again"))


def id_digests(rows: list[Row] | RowTable) -> dict[str, str]:
    """Each row's id -> its digest (a RowTable's without reading its file again)."""
    return rows.id_digests() if isinstance(rows, RowTable) else {r.id: r.digest for r in rows}


def row_columns(data: dict[str, str], tests: dict[str, list[str]]) -> dict[str, str]:
    """A row as its file's columns: the data, then ``test:<question>`` answers joined by ``|``."""
    return {**data, **{f"{TEST_PREFIX}{q}": "|".join(a) for q, a in tests.items()}}


def rows_summary(rows: list[Row] | RowTable) -> dict[str, Any]:
    """``{count, digest}`` of the rows: sha256 over ``id:digest`` lines in id order (the 16 first
    hex digits), what a plan compares for a campaign's ``tasks``. A RowTable's is hashed from its
    ids and digests, a line at a time: no dict, no text of every row (1,000,000 rows)."""
    if not isinstance(rows, RowTable):
        return summary_of(id_digests(rows))
    h = hashlib.sha256()
    ids = rows.ids
    for n, index in enumerate(sorted(range(len(ids)), key=ids.__getitem__)):
        h.update(f"{chr(10) if n else ''}{ids[index]}:{rows.digest(index)}".encode())
    return {"count": len(ids), "digest": h.hexdigest()[:16]}


def summary_of(rows: dict[str, str]) -> dict[str, Any]:
    """:func:`rows_summary` of ``id -> digest``."""
    text = "\n".join(f"{i}:{rows[i]}" for i in sorted(rows))
    return {"count": len(rows), "digest": hashlib.sha256(text.encode()).hexdigest()[:16]}


#: task rows a plan lists one by one per resource (``tasks.rows[<id>]``, in --format json and the
#: saved plan); past it one ``tasks.rows`` field counts the rest and names their data file (a plan
#: of 1,000,000 new rows listed every one: 1.97 GB)
ROWS_LISTED = 1000


def row_changes(rows: list[Row] | RowTable, live: dict[str, str], live_columns: dict[str, dict[str, str]], how: str,
                limit: int = ROWS_LISTED) -> list[FieldChange]:
    """The task rows a plan adds, changes or drops, one ``tasks.rows[<id>]`` field each (its
    columns: the row's file order; new rows in file order first, then those gone), the first
    ``limit`` of them; the rest counted in one ``tasks.rows`` field (:func:`more_rows`): what the
    plan shows in place of the rows' digest. ``live``: id -> digest of the uploaded rows,
    ``live_columns``: their columns where read."""
    out: list[FieldChange] = []
    pending = _pending(rows, live)
    if pending:  # the columns only when a row is new or changed, read up to the last one listed
        out += _added_or_changed(rows, live, live_columns, how, pending[:limit])
    gone: list[str] = []
    if live:
        wanted = set(rows.ids) if isinstance(rows, RowTable) else {r.id for r in rows}
        gone = [i for i in live if i not in wanted]
    left = max(0, limit - len(out))
    out += [FieldChange(f"tasks.rows[{i}]", live_columns.get(i, {}), None, how) for i in gone[:left]]
    more = len(pending) + len(gone) - len(out)
    if more > 0:
        out.append(more_rows(rows, more, how))
    return out


def _pending(rows: list[Row] | RowTable, live: dict[str, str]) -> list[int]:
    """The indexes of the rows that are new or changed against ``live`` (id -> digest)."""
    if isinstance(rows, RowTable):
        return [i for i, row_id in enumerate(rows.ids) if live.get(row_id) != rows.digest(i)]
    return [i for i, row in enumerate(rows) if live.get(row.id) != row.digest]


def more_rows(rows: list[Row] | RowTable, more: int, how: str) -> FieldChange:
    """The ``tasks.rows`` field of the rows a plan does not list: how many, and (rows of a data
    file) which file, by its path and sha256 -- apply reads them from it again and sends them only
    when they are still the rows planned."""
    after: dict[str, Any] = {"more": more}
    if isinstance(rows, RowTable):
        after["file"] = rows.shown
        if rows.sha256:
            after["sha256"] = rows.sha256
    return FieldChange("tasks.rows", None, after, how)


def _added_or_changed(rows: list[Row] | RowTable, live: dict[str, str], live_columns: dict[str, dict[str, str]], how: str,
                      wanted: list[int]) -> list[FieldChange]:
    out: list[FieldChange] = []
    if not wanted:
        return out
    last, chosen = wanted[-1], set(wanted)
    for index, row in enumerate(itertools.islice(iter(rows), last + 1)):
        if index not in chosen:
            continue
        if row.id not in live:
            out.append(FieldChange(f"tasks.rows[{row.id}]", None, row_columns(row.data, row.tests), how))
        else:
            out.append(FieldChange(f"tasks.rows[{row.id}]", live_columns.get(row.id, {}), row_columns(row.data, row.tests), how))
    return out


def load_rows(doc: Document, root: Path) -> Rows | None:
    """The task rows of a Campaign document (None when it has no ``tasks``); read once per loaded
    document (validation and the plan both need them)."""
    key = ("rows", root)
    if key not in doc.derived:
        doc.derived[key] = _load_rows(doc, root)
    return doc.derived[key]


def desired_rows(doc: Document | None, root: Path) -> list[Row] | RowTable | None:
    """The task rows a Campaign document wants (None: not a campaign, or one without rows)."""
    if doc is None or doc.kind != "Campaign":
        return None
    rows = load_rows(doc, root)
    return rows.rows if rows is not None else None


def _load_rows(doc: Document, root: Path) -> Rows | None:
    tasks = doc.spec.get("tasks")
    if not tasks:
        return None
    rows = Rows()
    if "rows" in tasks:
        for i, item in enumerate(tasks["rows"]):
            mark = doc.mark("tasks", "rows", i)
            rows.rows += _row(dict(item), f"{mark.file}:{mark.line}", mark.diag, rows)  # type: ignore[operator]
            for key in item:
                if str(key) not in rows.columns:
                    rows.columns.append(str(key))
        rows.file = doc.file
        rows.header_line = doc.mark("tasks").line
    else:
        _load_file(doc, root, str(tasks["file"]), rows)
    ids = rows.rows.ids if isinstance(rows.rows, RowTable) else [row.id for row in rows.rows]
    if len(set(ids)) != len(ids):  # a set of the ids, not a dict of every row's source (1,000,000 rows)
        seen: dict[str, str] = {}
        for index, row_id in enumerate(ids):
            source = rows.rows.source(index) if isinstance(rows.rows, RowTable) else rows.rows[index].source
            if row_id in seen:
                file, _, line = source.rpartition(":")
                rows.diags.append(Diagnostic(file, int(line), 1, f"duplicate row id {row_id!r} (first at {seen[row_id]})"))
            else:
                seen[row_id] = source
    return rows


def _load_file(doc: Document, root: Path, name: str, rows: Rows) -> None:
    mark = doc.mark("tasks", "file")
    base = root.resolve()
    try:
        path = (Path(doc.file).resolve().parent / name).resolve()  # relative to the YAML file that names it
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte in the name, a symlink loop
        rows.diags.append(mark.diag(f"spec.tasks.file: {name!r} is not a usable file name ({exc})"))
        return
    if Path(name).is_absolute() or not path.is_relative_to(base):
        rows.diags.append(mark.diag(f"spec.tasks.file: {name!r} is outside the config directory; keep task data next to the config"))
        return
    shown = _shown(path)
    rows.file = shown
    try:
        cache = _RowsCache(path, shown)
    except OSError as exc:
        rows.diags.append(mark.diag(f"spec.tasks.file: cannot read {name!r}: {exc.strerror}"))
        return
    remembered = cache.get()
    if remembered is not None:
        rows.columns, rows.rows = remembered
        remembered[1].sha256 = cache.sha256
        return
    try:
        table = RowTable.scan(path, shown, rows)
    except OSError as exc:
        rows.diags.append(mark.diag(f"spec.tasks.file: cannot read {name!r}: {exc.strerror}"))
        return
    except UnicodeDecodeError:  # where exactly: from the bytes (a file with a problem is parsed whole)
        rows.rows, rows.diags, rows.columns = [], [], []
        _parse_data(path, shown, path.read_bytes(), rows)
        return
    table.sha256 = cache.sha256
    rows.rows = table
    if not rows.diags:
        cache.put(rows)


class _RowsCache:
    """The rows of one data file, remembered across runs by content: parsing 100 files of 100
    rows (and each row's digest, which the plan compares) took ~0.15 s in every plan of the scale
    benchmark, on the thread that also handles the platforms' answers. One file per data file,
    ``rows-<digest of its absolute path>.bin``, in the validation cache's directory: a
    :mod:`marshal` tuple of (digest of the text, the name it is shown under and this parser's
    source; columns; rows as plain tuples). Rows with a problem are never remembered: they are
    parsed, and reported, every time. Like every cache there, it is never needed."""

    KEEP = 4096

    def __init__(self, path: Path, shown: str) -> None:
        from ...config.valid_cache import cache_dir

        directory = cache_dir()
        self.path, self.shown = path, shown
        self.file = directory / f"rows-{hashlib.blake2b(os.fsencode(path), digest_size=16).hexdigest()}.bin" if directory else None
        key = hashlib.blake2b(_parser_salt() + shown.encode("utf-8", "surrogatepass") + b"\0", digest_size=16)
        content = hashlib.sha256()  # the file's own sha256, which a plan's upload names
        with path.open("rb") as fh:  # in chunks: a 50 MB file is never in memory whole
            while chunk := fh.read(1 << 20):
                key.update(chunk)
                content.update(chunk)
        self.key, self.sha256 = key.digest(), content.hexdigest()

    def get(self) -> tuple[list[str], RowTable] | None:
        if self.file is None:
            return None
        try:
            key, columns, ids, digests, lines, blank = marshal.loads(self.file.read_bytes())
            if key != self.key:
                return None
            numbers = array("L")
            numbers.frombytes(lines)
            table = RowTable(self.path, self.shown, list(columns), ids, bytearray(digests), numbers, blank[1])
            table.ragged = blank[0]
            return list(columns), table
        except (OSError, EOFError, ValueError, TypeError):  # absent, or not what put wrote: parse
            return None

    def put(self, rows: Rows) -> None:
        from ...config.doc_cache import write_cache_file

        table = rows.rows
        if self.file is None or not isinstance(table, RowTable):
            return
        data = marshal.dumps((self.key, rows.columns, table.ids, bytes(table.digests), table.lines.tobytes(), (table.ragged, table.blank)))
        if write_cache_file(self.file, data, "rows cache"):
            _prune_rows(self.file.parent)


@functools.cache
def _prune_rows(directory: Path) -> None:
    """The newest rows files kept, once per process (a cold run writes one per data file)."""
    from ...config.doc_cache import _prune

    _prune(directory, "rows-*.bin", _RowsCache.KEEP)


@functools.cache
def _parser_salt() -> bytes:
    from ...config.valid_cache import code_digest

    return code_digest("task rows", Path(__file__))


def _parse_data(path: Path, shown: str, raw: bytes, rows: Rows) -> None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        rows.diags.append(Diagnostic(shown, line, col, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"))
        return
    stream = io.StringIO(text, newline="")
    rows.rows = list(_jsonl_rows(stream, shown, rows) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv_rows(stream, shown, rows))


def _jsonl_rows(lines: Iterator[str] | io.TextIOBase, shown: str, rows: Rows) -> Iterator[Row]:
    """The rows of a JSONL text, one line at a time; problems go to ``rows.diags``."""
    for n, line_text in enumerate(lines, 1):
        if not line_text.strip():
            continue
        diag = _diag_at(shown, n)
        try:
            item = json.loads(line_text)
            json.dumps(item, ensure_ascii=False).encode("utf-8")  # "\ud800" escapes a lone surrogate
        except UnicodeEncodeError:
            rows.diags.append(diag("a \\u escape names a lone surrogate (U+D800 to U+DFFF), which is not a character"))
            continue
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python recurses
            rows.diags.append(diag(f"not a JSON object: {exc}"))
            continue
        if not isinstance(item, dict):
            rows.diags.append(diag("each line must be a JSON object"))
            continue
        for key in item:
            if key not in rows.columns:
                rows.columns.append(key)
        yield from _row(item, f"{shown}:{n}", diag, rows)


def _csv_rows(lines: Iterator[str] | io.TextIOBase, shown: str, rows: Rows) -> Iterator[Row]:
    """The rows of a CSV text, one record at a time; problems go to ``rows.diags``."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        rows.diags.append(Diagnostic(shown, 1, 1, "empty CSV file: the first line must name the columns"))
        return
    except csv.Error as exc:
        rows.diags.append(Diagnostic(shown, 1, 1, f"bad CSV: {exc}"))
        return
    header = [h.strip() for h in header]
    rows.columns = header
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        rows.diags.append(Diagnostic(shown, 1, 1, f"duplicate column(s) {', '.join(dupes)}"))
        return
    line = reader.line_num
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.diags.append(Diagnostic(shown, start, 1, f"bad CSV: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        diag = _diag_at(shown, start)
        if len(record) != len(header):
            rows.diags.append(diag(f"{len(record)} values but the header names {len(header)} columns"))
            continue
        yield from _row(dict(zip(header, record, strict=True)), f"{shown}:{start}", diag, rows)


def _diag_at(file: str, line: int) -> Any:
    return lambda message: Diagnostic(file, line, 1, message)


def check_rows_against(rows: Rows, variables: list[str], template: str) -> list[Diagnostic]:
    """Every ``{{variable}}`` of the template must be a column, with a value in every row."""
    out: list[Diagnostic] = []
    if rows.file is None:
        return out  # the data file was refused before it was read (outside the config): that is the problem
    file = rows.file
    missing = [v for v in variables if v not in rows.columns]
    if missing:
        out.append(Diagnostic(file, rows.header_line, 1,
                              f"column(s) {', '.join(missing)} missing: template {template!r} uses "
                              + ", ".join("{{" + v + "}}" for v in missing)))
    if isinstance(rows.rows, RowTable) and not rows.rows.ragged:  # the blanks the file's one read noted
        table = rows.rows
        blank: dict[int, list[str]] = {}
        for v in variables:
            if v in rows.columns:
                for index in table.blank.get(v, []):
                    blank.setdefault(index, []).append(v)
        for index in sorted(blank):
            out.append(Diagnostic(table.shown, table.lines[index], 1,
                                  f"row {table.ids[index]!r}: empty value for template variable(s) {', '.join(blank[index])}"))
        return out
    for row in rows.rows:
        empty = [v for v in variables if v in rows.columns and not row.data.get(v, "").strip()]
        if empty:
            f, _, line = row.source.rpartition(":")
            out.append(Diagnostic(f, int(line), 1, f"row {row.id!r}: empty value for template variable(s) {', '.join(empty)}"))
    return out


# -- Schedule -> maximumJobLimit ---------------------------------------------------------------
def _days(names: list[str] | None) -> list[int]:
    return sorted(DAYS[d] for d in names) if names else []


def _split(value: str) -> tuple[str, str]:
    day, _, clock = value.partition("T")
    return day, clock


def job_limit(schedule: dict[str, Any] | None) -> dict[str, Any]:
    """The ``maximumJobLimit`` a Schedule spec maps to (normalised like the API answers it)."""
    if schedule is None:
        return normalise_limit(None)
    tz = schedule.get("timeZone", "UTC")
    per_day, per_hour = schedule.get("limitPerDay"), schedule.get("limitPerHour")
    hours = schedule.get("workingHours")
    window = f"{hours['from']}-{hours['to']}" if hours else None
    if "events" in schedule:
        events = []
        for ev in schedule["events"]:
            if ev["type"] == "one-time":
                events.append({"type": "one-time", "start": ev["start"], "end": ev["end"], "allDay": False,
                               "limitPerDay": ev.get("limit"), "limitPerHour": None})
            else:
                (sd, st), (ed, et) = _split(ev["start"]), _split(ev["end"])
                events.append({"type": "recur", "daysOfWeek": _days(ev.get("daysOfWeek") or list(DAYS)),
                               "startTime": st, "endTime": et, "startRecur": sd, "endRecur": ed,
                               "limitPerDay": ev.get("limit"), "limitPerHour": None})
        advanced = {"timeZone": tz, "limitPerHour": per_hour, "events": events}
        return normalise_limit({"enabled": True, "advancedSchedule": advanced})
    if "start" in schedule or "end" in schedule:
        start, end = schedule.get("start"), schedule.get("end")
        event = {"type": "recur", "daysOfWeek": _days(schedule.get("daysOfWeek") or list(DAYS)),
                 "startTime": hours["from"] if hours else "00:00", "endTime": hours["to"] if hours else "24:00",
                 "startRecur": start, "endRecur": end, "limitPerDay": per_day, "limitPerHour": per_hour}
        return normalise_limit({"enabled": True, "advancedSchedule": {"timeZone": tz, "limitPerHour": per_hour,
                                                                      "events": [event]}})
    standard = {"timeZone": tz, "limitPerHour": per_hour, "allDay": window is None,
                "allWeekdays": not schedule.get("daysOfWeek"), "daysOfWeek": _days(schedule.get("daysOfWeek")),
                "workingHours": [window] if window else []}
    return normalise_limit({"enabled": True, "limitPerDay": per_day, "standardSchedule": standard})


def normalise_limit(value: dict[str, Any] | None) -> dict[str, Any]:
    """``maximumJobLimit`` with every default filled in, so config and API answers compare equal.

    The documented shape (the GET basic-campaign page's JSON): ``{enabled, limitPerDay,
    distributionType, standardSchedule: {timeZone, limitPerHour, allDay, allWeekdays, daysOfWeek,
    workingHours}, advancedSchedule}``. Read liberally: a ``limitPerDay`` inside
    ``standardSchedule`` (the docs' table lists one there) counts as the top-level one when that is
    unset, and ``allWeekDays`` (the table's spelling) as ``allWeekdays``."""
    v = dict(value or {}) if isinstance(value, dict) else {}
    std = v.get("standardSchedule") if isinstance(v.get("standardSchedule"), dict) else None
    per_day = v.get("limitPerDay")
    if per_day is None and std:
        per_day = std.get("limitPerDay")
    out: dict[str, Any] = {
        "enabled": bool(v.get("enabled", False)),
        "limitPerDay": per_day,
        "distributionType": v.get("distributionType") or "asap",
        "standardSchedule": None,
        "advancedSchedule": None,
    }
    if std:
        out["standardSchedule"] = {
            "timeZone": std.get("timeZone") or "UTC",
            "limitPerHour": std.get("limitPerHour"),
            "allDay": bool(std.get("allDay", True)),
            "allWeekdays": bool(std.get("allWeekdays", std.get("allWeekDays", True))),
            "daysOfWeek": sorted(std.get("daysOfWeek") or []),
            "workingHours": list(std.get("workingHours") or []),
        }
    adv = v.get("advancedSchedule")
    if adv:
        events = []
        for ev in adv.get("events") or []:
            if ev.get("type") == "recur":
                events.append({"type": "recur", "daysOfWeek": sorted(ev.get("daysOfWeek") or []),
                               "startTime": ev.get("startTime"), "endTime": ev.get("endTime"),
                               "startRecur": ev.get("startRecur"), "endRecur": ev.get("endRecur"),
                               "limitPerDay": ev.get("limitPerDay"), "limitPerHour": ev.get("limitPerHour")})
            else:
                events.append({"type": ev.get("type"), "start": ev.get("start"), "end": ev.get("end"),
                               "allDay": bool(ev.get("allDay", False)), "limitPerDay": ev.get("limitPerDay"),
                               "limitPerHour": ev.get("limitPerHour")})
        out["advancedSchedule"] = {"timeZone": adv.get("timeZone") or "UTC", "limitPerHour": adv.get("limitPerHour"),
                                   "events": events}
    return out


def check_schedule_mw(schedule: Document, used_by: Document) -> list[Diagnostic]:
    """What the shared Schedule can say but Microworkers' maximumJobLimit cannot."""
    spec = schedule.spec
    diags = []
    if "events" in spec:
        for key in ("limitPerDay", "start", "end"):
            if key in spec:
                diags.append(schedule.mark(key, key=True).diag(
                    f"spec.{key}: Microworkers cannot combine {key} with events (advanced schedules have only "
                    f"per-event limits and dates; used by {used_by.kind} {used_by.name!r}); put it on the events"))
        for i, ev in enumerate(spec["events"]):
            if ev.get("type") == "recurring":
                (_, st), (_, et) = _split(ev["start"]), _split(ev["end"])
                if et <= st:
                    diags.append(schedule.mark("events", i, "end").diag(
                        f"spec.events[{i}].end: the daily end time {et} is not after the start time {st} "
                        "(Microworkers recurring events are one window per day)"))
    hours = spec.get("workingHours")
    if hours and hours["to"] <= hours["from"]:
        diags.append(schedule.mark("workingHours", "to").diag(
            f"spec.workingHours.to: {hours['to']} is not after from {hours['from']} (Microworkers windows do not cross midnight)"))
    if "limitPerHour" in spec and "limitPerDay" in spec and spec["limitPerHour"] > spec["limitPerDay"]:
        diags.append(schedule.mark("limitPerHour").diag("spec.limitPerHour: larger than limitPerDay"))
    return diags


def schedule_doc(doc: Document, config: Config) -> Document | None:
    name = doc.spec.get("schedule")
    return config.of_kind("Schedule").get(name) if name else None
