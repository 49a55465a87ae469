"""``plan --format markdown``: the plan as pull-request comment(s).

A plan is rendered as one or more *parts*, each strictly shorter than ``limit`` characters (GitHub
refuses comments over 65,536), each valid Markdown on its own (no unclosed fence or ``<details>``).
Parts are split only between resource blocks; values are never cut (:mod:`.values`), but a single
block too large for a part (GitHub's limit) loses its last lines, with a note saying how many.
Every part starts with two hidden lines, so CI can find and update its comments in place::

    <!-- campaignctl-plan -->
    <!-- campaignctl-plan part 1/3 -->

User data (names, descriptions, reasons, values) is escaped: backslash escapes in Markdown text,
HTML escapes inside ``<summary>``, and code fences longer than any backtick run they contain.
"""
from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from .. import __version__
from .model import Drift, Operation, Plan, ResourceChange
from .render import describe_actions, shown_call
from .values import diff_line, fields_lines, object_lines

MARKER = "<!-- campaignctl-plan -->"
LIMIT = 65000
#: rows of the destructive-changes table and drift entries shown before "... and N more"
SECTION_ROWS = 50
VALUE_CHARS = 300  # an API call's line is cut after this many characters (values are not: see .values)
TEXT_CHARS = 500  # a reason, warning or error line


def part_marker(i: int, n: int) -> str:
    return f"<!-- campaignctl-plan part {i}/{n} -->"


# ----------------------------------------------------------------------------------- escaping

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def md(text: Any, limit: int = TEXT_CHARS) -> str:
    """User text for Markdown prose, list items and table cells: one line, inert."""
    out = _MD_SPECIAL.sub(r"\\\1", _clip(_one_line(text), limit))
    out = re.sub(r"^([-+=])", r"\\\1", out)  # no list item / heading underline at the start
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", out)  # no ordered list


def h(text: Any, limit: int = TEXT_CHARS) -> str:
    """User text inside raw HTML (``<summary>``)."""
    return html.escape(_clip(_one_line(text), limit), quote=True)


def fence(lines: Sequence[str], info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    bar = "`" * max(3, longest + 1)
    return "\n".join([bar + info, *lines, bar])


def code(text: Any, limit: int = VALUE_CHARS) -> str:
    """An inline code span that backticks in ``text`` cannot close early (not for table cells)."""
    body = _clip(_one_line(text), limit)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    bar = "`" * (longest + 1)
    if longest or body.startswith(" ") or body.endswith(" "):
        body = f" {body} "
    return f"{bar}{body}{bar}"


def _money(value: float) -> str:
    return f"{value:.2f} USD"


# ----------------------------------------------------------------------------------- sections

def _diff_lines(change: ResourceChange) -> list[str]:
    """The resource's changes as ```` ```diff ```` lines, every value in full (:mod:`.values`)."""
    lines: list[str] = []
    if change.actions == ["create"] and change.after:  # its fields: the task rows it uploads
        lines += [diff_line(x) for x in object_lines("+", change.after)]
    lines += [diff_line(x) for x in fields_lines(change.fields, paired=True)]
    if not change.fields and change.actions == ["delete"] and change.before:
        lines += [diff_line(x) for x in object_lines("-", change.before)]
    return lines


def _call_line(op: Operation, number: int) -> str:
    extra = f"   {_money(op.cost)}" if op.cost else ""
    if op.destructive:
        extra += "   (destructive)"
    return f"{number:>3}. {_clip(_one_line(shown_call(op)), VALUE_CHARS)}{extra}"


def _is_destructive(change: ResourceChange, ops: dict[str, Operation]) -> bool:
    return (
        change.is_replace
        or change.actions == ["delete"]
        or any(ops[i].destructive for i in change.operations if i in ops)
    )


def _shown(plan: Plan) -> list[ResourceChange]:
    return [c for c in plan.changes if c.actions != ["no-op"] or c.operations or c.errors]


def _summary_line(change: ResourceChange) -> str:
    symbol = change.symbol if change.actions != ["no-op"] else "~"
    text = f"<code>{h(symbol)}</code> <b>{h(change.address, 200)}</b> — {h(describe_actions(change), 200)}"
    if change.remote_id is not None:
        text += f" <sub>id {h(change.remote_id, 80)}</sub>"
    if change.protect and "delete" in change.actions:
        text += " <b>(protected)</b>"
    if change.errors:
        text += " <b>cannot be made</b>"
    return text


def resource_block(
    change: ResourceChange, ops: dict[str, Operation], numbers: dict[str, int], keep: float = 1.0
) -> str:
    """One ``<details>`` block; ``keep`` (0..1) is the share of each list shown, for truncation."""
    notes = [f"- **Why:** {md(r)}" for r in change.reasons]
    notes += [f"- ⚠️ {md(w)}" for w in change.warnings]
    notes += [f"- ❌ **Cannot be made:** {md(e)}" for e in change.errors]
    diff = _diff_lines(change)
    calls = [_call_line(ops[i], numbers[i]) for i in change.operations if i in ops]
    lists = [notes, diff, calls]
    kept = [items[: math.ceil(len(items) * keep)] for items in lists]
    opened = " open" if _is_destructive(change, ops) or change.errors else ""
    out = [f"<details{opened}><summary>{_summary_line(change)}</summary>", ""]
    if kept[0]:
        out += [*kept[0], ""]
    if kept[1]:
        out += [fence(kept[1], "diff"), ""]
    if kept[2]:
        out += ["API calls, in apply order:", "", fence(kept[2], "text"), ""]
    dropped = sum(len(a) - len(b) for a, b in zip(lists, kept, strict=False))
    if dropped:
        total = sum(map(len, lists))
        out += [
            f"_… {dropped} of {total} lines of this resource are not shown (too large for one comment): "
            + "run `campaignctl plan` or read the saved plan for all of them._",
            "",
        ]
    out.append("</details>")
    return "\n".join(out)


def _fit(build: Callable[[float], str], budget: int) -> str:
    """``build(1.0)`` if it fits in ``budget`` characters, else the largest share that does."""
    full = build(1.0)
    if len(full) <= budget:
        return full
    lo, hi = 0, 1000  # build(lo / 1000) fits (assumed for 0), build(hi / 1000) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(build(mid / 1000)) <= budget:
            lo = mid
        else:
            hi = mid
    text = build(lo / 1000)
    if len(text) > budget:  # the fixed parts, or a single line (a value of ~64,000 characters), are too large
        text = "<details><summary>(a resource too large to show)</summary>\n\n_Not shown: too large for one comment._\n\n</details>"
    return text


def _cost_lines(plan: Plan) -> list[str]:
    by_provider: dict[str, float] = {}
    for op in plan.operations:
        by_provider[op.provider] = by_provider.get(op.provider, 0.0) + op.cost
    parts = [f"{md(name, 100)}: {_money(v)}" for name, v in sorted(by_provider.items()) if v]
    line = f"**Cost:** this plan commits **{_money(plan.cost)}**"
    line += f" ({'; '.join(parts)})." if parts else "."
    balances = [f"{md(name, 100)}: {_money(v)}" for name, v in sorted(plan.balances.items()) if v is not None]
    if balances:
        line += f" Available balance: {'; '.join(balances)}."
    return [line]


def _alert(kind: str, lines: list[str]) -> list[str]:
    return [f"> [!{kind}]", *(f"> {line}" for line in lines)]


def _destructive_section(plan: Plan, ops: dict[str, Operation], rows: int) -> list[str]:
    risky = [c for c in plan.changes if _is_destructive(c, ops)]
    if not risky:
        return []
    out = [
        f"### ⚠️ Destructive changes and replacements ({len(risky)})",
        "",
        "| | Resource | Change | Why |",
        "|---|---|---|---|",
    ]
    for change in risky[:rows]:
        what = describe_actions(change)
        destructive_calls = [ops[i].action for i in change.operations if i in ops and ops[i].destructive]
        if destructive_calls:
            what += f"; destructive: {', '.join(destructive_calls)}"
        if change.protect:
            what += " (protected)"
        why = "; ".join(change.reasons) or ("removed from the configuration" if change.actions == ["delete"] else "")
        out.append(f"| {code(change.symbol)} | {md(change.address, 200)} | {md(what, 200)} | {md(why)} |")
    if len(risky) > rows:
        out += ["", f"_… and {len(risky) - rows} more; every resource is listed below._"]
    return out


def _drift_item(d: Drift, fields: int) -> str:
    """One drifted object in the summary: the paths that changed (their values: :func:`drift_block`)."""
    head = f"- **{md(d.address, 200)}** ({md(d.provider, 100)}): {md(d.kind, 50)}"
    shown = [code(f.path, 200) for f in d.fields[:fields]]
    if len(d.fields) > fields:
        shown.append(f"… {len(d.fields) - fields} more")
    return head + (" — " + ", ".join(shown) if shown else "")


DRIFT_DETAILS = "### Drift in full (before: last applied, after: live now)"


def drift_block(d: Drift, keep: float = 1.0) -> str:
    """One drifted object's changes, every value in full, as a ``<details>`` block; ``keep`` as in
    :func:`resource_block`."""
    diff = [diff_line(x) for x in fields_lines(d.fields, paired=True)]
    kept = diff[: math.ceil(len(diff) * keep)]
    out = [f"<details><summary><b>{h(d.address, 200)}</b> — changed on the platform</summary>", ""]
    if kept:
        out += [fence(kept, "diff"), ""]
    if len(kept) < len(diff):
        out += [
            f"_… {len(diff) - len(kept)} of {len(diff)} lines of this object are not shown (too large for one comment): "
            + "run `campaignctl drift` for all of them._",
            "",
        ]
    out.append("</details>")
    return "\n".join(out)


def _drift_section(plan: Plan, rows: int) -> list[str]:
    if not plan.drift:
        return []
    out = [
        f"### Drift: {len(plan.drift)} object(s) changed outside campaignctl",
        "",
        "Live values differ from what the last apply recorded (before: last applied, after: live now).",
        "",
    ]
    out += [_drift_item(d, max(1, rows // 5)) for d in plan.drift[:rows]]
    if len(plan.drift) > rows:
        out += ["", f"_… and {len(plan.drift) - rows} more._"]
    if any(d.fields for d in plan.drift):
        out += ["", "_Every value in full: “Drift in full”, after the changes._"]
    return out


def preamble(plan: Plan, rows: int = SECTION_ROWS) -> str:
    ops = {op.id: op for op in plan.operations}
    counts = plan.counts()
    digest = plan.config_digest[:12] or "-"
    out = [
        "## campaignctl plan",
        "",
        f"<sub>campaignctl {h(__version__)} · config {h(digest)} · planned {h(plan.created_at or '-')}</sub>",
        "",
        "| Create | Update | Replace | Delete | API calls |",
        "|---:|---:|---:|---:|---:|",
        f"| {counts['create']} | {counts['update']} | {counts['replace']} | {counts['delete']} | {len(plan.operations)} |",
        "",
        *_cost_lines(plan),
        "",
        *_refusals_section(plan, rows),
    ]
    if plan.warnings:
        warnings = [md(w) for w in plan.warnings[:rows]]
        out += [*_alert("WARNING", warnings if len(warnings) == 1 else [f"- {w}" for w in warnings]), ""]
    if plan.errors:
        msg = f"**{len(plan.errors)} change(s) cannot be made**; nothing can be applied until they are resolved:"
        out += [*_alert("CAUTION", [msg, *(f"- {md(e)}" for e in plan.errors[:rows])]), ""]
    for section in (_destructive_section(plan, ops, rows), _drift_section(plan, rows)):
        if section:
            out += [*section, ""]
    shown = _shown(plan)
    if shown:
        out.append(f"### Changes ({len(shown)} resource(s))")
    else:
        out.append("**No changes.** The platforms match the configuration.")
    return "\n".join(out)


# ----------------------------------------------------------------------------------- refusals

def _refusals_section(plan: Plan, rows: int) -> list[str]:
    """A ``[!CAUTION]`` block: what ``campaignctl apply`` refuses without an override, each with
    its flag (a reviewer who approves one passes that flag on merge)."""
    if not plan.refusals:
        return []
    head = f"**`campaignctl apply` will refuse this plan** without an override ({len(plan.refusals)}):"
    items = [f"- `{r.flag}`: {md(r.reason)}" for r in plan.refusals[:rows]]
    if len(plan.refusals) > rows:
        items.append(f"- … and {len(plan.refusals) - rows} more")
    return [*_alert("CAUTION", [head, *items]), ""]


# ----------------------------------------------------------------------------------- parts

def _header(i: int, n: int) -> str:
    head = f"{MARKER}\n{part_marker(i, n)}"
    if i > 1:
        head += f"\n\n## campaignctl plan (continued, part {i}/{n})"
    return head


def _footer(i: int, n: int) -> str:
    return f"_Continued in part {i + 1}/{n}._"


def _assemble(i: int, n: int, blocks: list[str]) -> str:
    body = [_header(i, n), *blocks]
    if i < n:
        body.append(_footer(i, n))
    return "\n\n".join(body) + "\n"


def render_markdown(plan: Plan, limit: int = LIMIT) -> list[str]:
    """The plan as Markdown parts, each shorter than ``limit`` characters."""
    ops = {op.id: op for op in plan.operations}
    numbers = {op.id: i + 1 for i, op in enumerate(plan.operations)}
    shown = _shown(plan)
    worst = len(shown) + 1  # never more parts than blocks
    # the room a part has for blocks: what header, footer and separators can take at most
    reserve = len(_header(worst, worst)) + len(_footer(worst, worst)) + 2 * 2 + 1
    budget = limit - 1 - reserve
    if budget < 2000:
        raise ValueError(f"limit {limit} is too small for a plan comment")

    rows = SECTION_ROWS
    first = preamble(plan, rows)
    while len(first) > budget and rows > 0:
        rows //= 2
        first = preamble(plan, rows)
    if len(first) > budget:  # only the free text of warnings/errors can do this
        first = "## campaignctl plan\n\n_The summary is too large for a comment: run `campaignctl plan`._"
    blocks = [first] + [_fit(partial(resource_block, c, ops, numbers), budget) for c in shown]
    drifted = [d for d in plan.drift if d.fields]
    if drifted:
        blocks += [DRIFT_DETAILS] + [_fit(partial(drift_block, d), budget) for d in drifted]

    groups: list[list[str]] = [[]]
    size = 0
    for block in blocks:
        extra = len(block) + (2 if groups[-1] else 0)
        if groups[-1] and size + extra > budget:
            groups.append([])
            extra, size = len(block), 0
        groups[-1].append(block)
        size += extra
    n = len(groups)
    parts = [_assemble(i + 1, n, group) for i, group in enumerate(groups)]
    assert all(len(p) < limit for p in parts)
    return parts


def join_parts(parts: list[str]) -> str:
    """All parts in one text (stdout): each part starts with its markers, a blank line between."""
    return "\n".join(parts)
