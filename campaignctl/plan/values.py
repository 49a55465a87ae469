"""Values of a plan for people, in full: the lines the text, Markdown and drift renderers print.

Nothing a change sets is cut. What may be left out is only what does not change, always with a
note saying how much:

- a scalar: ``~ path: before -> after`` (JSON-quoted, whole);
- a multi-line string: a unified line diff (difflib), 3 unchanged lines of context around each
  change, ``# N unchanged lines hidden`` for the rest; a new or removed one: every line;
- a nested structure (components, schedules, templates): one line per changed leaf, by path
  (``~ components[1].properties.url: "a" -> "b"``), as Terraform shows nested blocks;
  ``# N unchanged fields hidden`` for the leaves around them; a new or removed one: every leaf;
- task rows (``tasks.rows[<id>]`` changes): the first :data:`ROWS_SHOWN` of a run, then
  ``# ... and N more task rows`` (the JSON plan and the saved plan hold them, up to the number a
  plan lists; a ``tasks.rows`` field counts the rest and names their data file).

A :class:`Line` is rendered two ways: :func:`text_line` (``plan``, ``apply``, ``drift``, ``show``:
the sign after the indentation) and :func:`diff_line` (Markdown's ```` ```diff ```` blocks: the
sign in the first column, where highlighters look for it).
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import FieldChange

CONTEXT = 3  # unchanged lines shown around each change of a multi-line string
ROWS_SHOWN = 20  # task rows shown per resource before "... and N more rows"
_INDENT = "    "
_ROW_PATH = re.compile(r"^(?P<parent>tasks\.rows)\[[^\]]*\]")


@dataclass
class Line:
    sign: str  # "+" added, "-" removed, "~" changed, " " unchanged context, "#" a note, "@" a hunk header
    text: str
    depth: int = 0  # lines of a multi-line string sit one level under their field


def scalar(value: Any) -> str:
    """A value on one line, whole: JSON (strings quoted, escapes visible)."""
    return json.dumps(value, default=str, ensure_ascii=False)


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value.rstrip("\n") or "\r" in value)


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value) and not _flat(value)


def _flat(value: Any) -> bool:
    """Not a structure: a scalar, an empty list or mapping, or a list of scalars (shown whole on one line)."""
    if isinstance(value, dict):
        return not value
    if isinstance(value, list):
        return not any(isinstance(x, (dict, list)) or _multiline(x) for x in value)
    return True


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _note(how: str) -> str:
    return "" if how == "update" else f"  # {how}"


# ----------------------------------------------------------------------------- whole values

def value_lines(sign: str, path: str, value: Any, note: str = "") -> list[Line]:
    """A whole value that is added (``+``) or removed (``-``): every leaf, every line."""
    if _container(value):
        out: list[Line] = []
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            out += value_lines(sign, _join(path, key), item)
        if note and out:
            out[0].text += note
        return out
    if _multiline(value):
        lines = value.splitlines()
        return [Line(sign, f"{path}: ({len(lines)} lines){note}"), *(Line(sign, x, 1) for x in lines)]
    return [Line(sign, f"{path}: {scalar(value)}{note}")]


def object_lines(sign: str, obj: dict[str, Any]) -> list[Line]:
    """A whole object (a create, a delete): its fields, nested ones leaf by leaf. Unset fields
    (null, empty lists and mappings) are left out."""
    out: list[Line] = []
    for key, value in obj.items():
        if value in (None, [], {}):
            continue
        out += value_lines(sign, str(key), value)
    return out


# ----------------------------------------------------------------------------- changes

def change_lines(f: FieldChange, paired: bool = False) -> list[Line]:
    """One field change in full. ``paired``: a changed scalar as a ``-`` line and a ``+`` line (for
    diff blocks) instead of one ``~ before -> after`` line."""
    note = _note(f.how)
    if f.before is None and f.after is None:
        return [Line("~", f"{f.path}: null{note}")]
    if f.before is None:
        return value_lines("+", f.path, f.after, note)
    if f.after is None:
        return value_lines("-", f.path, f.before, note)
    out: list[Line] = []
    hidden = _changed(f.path, f.before, f.after, paired, out)
    if note and out:  # on the first line that is not the old value's
        next((x for x in out if x.sign != "-"), out[0]).text += note
    if hidden:
        out.append(Line("#", f"{f.path}: {hidden} unchanged field(s) hidden"))
    return out


def _leaves(value: Any) -> int:
    if isinstance(value, dict) and value:
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list) and value:
        return sum(_leaves(v) for v in value)
    return 1


def _changed(path: str, before: Any, after: Any, paired: bool, out: list[Line]) -> int:
    """Lines for ``before`` -> ``after`` at ``path`` into ``out``; returns the unchanged leaves left out."""
    if before == after and type(before) is type(after):
        return _leaves(before)
    if isinstance(before, dict) and isinstance(after, dict) and before and after:
        hidden = 0
        for key in before:
            if key in after:
                hidden += _changed(_join(path, key), before[key], after[key], paired, out)
            else:
                out += value_lines("-", _join(path, key), before[key])
        for key in after:
            if key not in before:
                out += value_lines("+", _join(path, key), after[key])
        return hidden
    if isinstance(before, list) and isinstance(after, list) and before and after:
        return _list_changed(path, before, after, paired, out)
    if _multiline(before) or _multiline(after):
        out += text_diff(path, before, after)
        return 0
    if _container(before) or _container(after):  # a type change around a structure: old out, new in
        out += value_lines("-", path, before) + value_lines("+", path, after)
        return 0
    if paired:
        out += [Line("-", f"{path}: {scalar(before)}"), Line("+", f"{path}: {scalar(after)}")]
    else:
        out.append(Line("~", f"{path}: {scalar(before)} -> {scalar(after)}"))
    return 0


def _list_changed(path: str, before: list[Any], after: list[Any], paired: bool, out: list[Line]) -> int:
    """Items matched up by difflib (by content): unchanged ones hidden, inserted and removed ones
    whole, replaced ones item by item (paths by the new index)."""
    keys_b = [json.dumps(x, sort_keys=True, default=str) for x in before]
    keys_a = [json.dumps(x, sort_keys=True, default=str) for x in after]
    hidden = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, keys_b, keys_a, autojunk=False).get_opcodes():
        if tag == "equal":
            hidden += sum(_leaves(x) for x in before[i1:i2])
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            hidden += _changed(_join(path, j1 + k), before[i1 + k], after[j1 + k], paired, out)
        for i in range(i1 + pairs, i2):
            out += value_lines("-", _join(path, i), before[i])
        for j in range(j1 + pairs, j2):
            out += value_lines("+", _join(path, j), after[j])
    return hidden


def text_diff(path: str, before: Any, after: Any) -> list[Line]:
    """A multi-line string changed: a unified line diff with :data:`CONTEXT` lines of context."""
    b = before.splitlines() if isinstance(before, str) else [scalar(before)]
    a = after.splitlines() if isinstance(after, str) else [scalar(after)]
    head = Line("~", f"{path}: ({len(b)} -> {len(a)} lines)")
    if b == a:  # only line endings or a final newline differ: say so, with both texts whole
        return [head, Line("#", "only the line endings or the final newline differ:", 1),
                Line("-", scalar(before), 1), Line("+", scalar(after), 1)]
    out = [head]
    shown_to = 0  # lines of ``before`` accounted for
    for group in difflib.SequenceMatcher(None, b, a, autojunk=False).get_grouped_opcodes(CONTEXT):
        first = group[0]
        if first[1] > shown_to:
            out.append(Line("#", f"{first[1] - shown_to} unchanged line(s) hidden", 1))
        out.append(Line("@", f"@@ -{first[1] + 1},{group[-1][2] - first[1]} +{first[3] + 1},{group[-1][4] - first[3]} @@", 1))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [Line(" ", x, 1) for x in b[i1:i2]]
                continue
            out += [Line("-", x, 1) for x in b[i1:i2]]
            out += [Line("+", x, 1) for x in a[j1:j2]]
        shown_to = group[-1][2]
    if len(b) > shown_to:
        out.append(Line("#", f"{len(b) - shown_to} unchanged line(s) hidden", 1))
    return out


def fields_lines(fields: Iterable[FieldChange], paired: bool = False) -> list[Line]:
    """Every field change of a resource (or a drifted object) in full; task rows past
    :data:`ROWS_SHOWN` of a run under one parent are counted, not listed, and so are those a
    plan itself does not list (its ``tasks.rows`` field: how many, and their data file)."""
    out: list[Line] = []
    run_parent, run_length, more = "", 0, 0
    for f in fields:
        unlisted = _unlisted_rows(f)
        if unlisted is not None:  # the end of its run: one note for the rows shown nowhere here
            out.append(Line("#", _more_rows_note(more if run_parent else 0, unlisted)))
            run_parent, run_length, more = "", 0, 0
            continue
        m = _ROW_PATH.match(f.path)
        parent = m.group("parent") if m else ""
        if parent != run_parent:
            if more:
                out.append(Line("#", _more_rows_note(more, None)))
            run_parent, run_length, more = parent, 0, 0
        if parent:
            run_length += 1
            if run_length > ROWS_SHOWN:
                more += 1
                continue
        out += _row_line(f, paired) if parent else change_lines(f, paired)
    if more:
        out.append(Line("#", _more_rows_note(more, None)))
    return out


def _unlisted_rows(f: FieldChange) -> dict[str, Any] | None:
    """The ``tasks.rows`` field of the task rows a plan counts without listing them (``{more,
    file, sha256}``), else None."""
    after = f.after
    if f.path == "tasks.rows" and f.before is None and isinstance(after, dict) and isinstance(after.get("more"), int):
        return after
    return None


def _more_rows_note(listed: int, unlisted: dict[str, Any] | None) -> str:
    """``... and N more task rows``: ``listed`` that --format json and the saved plan hold, and the
    rows they do not list (``unlisted``: how many, and the data file apply reads them from)."""
    if unlisted is None:
        return f"... and {listed} more task rows (every one in --format json and the saved plan)"
    count = int(unlisted["more"])
    source = f"rows of {unlisted['file']}" if unlisted.get("file") else "rows"
    if unlisted.get("sha256"):
        source += f" (sha256 {str(unlisted['sha256'])[:16]})"
    rest = f"{count} listed nowhere: the {source}, which apply reads again and sends only while unchanged"
    if not listed:
        return f"... and {count} more task rows, {rest}"
    return f"... and {listed + count} more task rows ({listed} in --format json and the saved plan, {rest})"


def _row_line(f: FieldChange, paired: bool) -> list[Line]:
    """A task row added or removed on one line, ``id: column=value, ...`` (every column, whole)."""
    value, sign = (f.after, "+") if f.before is None else (f.before, "-")
    plain = isinstance(value, dict) and value and not any(isinstance(v, (dict, list)) or _multiline(v) for v in value.values())
    if (f.before is not None and f.after is not None) or not plain:
        return change_lines(f, paired)
    columns = ", ".join(f"{k}={scalar(v)}" for k, v in value.items())
    return [Line(sign, f"{f.path}: {columns}{_note(f.how)}")]


# ----------------------------------------------------------------------------- printing

def text_line(line: Line) -> str:
    """For the text plan: ``~ path: a -> b``; the lines of a multi-line string indented under it."""
    sign = "" if line.sign == "@" else f"{line.sign} "
    return f"{_INDENT * line.depth}{sign}".rstrip() if not line.text else f"{_INDENT * line.depth}{sign}{line.text}"


def diff_line(line: Line) -> str:
    """For a Markdown ```` ```diff ```` block: the sign in the first column (``#`` notes and
    ``@@`` hunk headers as they are)."""
    if line.sign == "@":
        return line.text
    return f"{line.sign} {_INDENT * line.depth}{line.text}" if line.text else line.sign
