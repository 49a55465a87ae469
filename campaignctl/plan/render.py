"""Plan renderers. Each takes a Plan and returns text; the CLI prints it on stdout.

Every value is shown in full (:mod:`.values`): only unchanged context is left out, with a note.
"""
from __future__ import annotations

from .model import Drift, FieldChange, Operation, Plan, ResourceChange
from .values import Line, fields_lines, object_lines, text_line

Style = dict[str, str]
PLAIN: Style = {}
ANSI: Style = {"+": "\x1b[32m", "~": "\x1b[33m", "-": "\x1b[31m", "-/+": "\x1b[35m", "+/-": "\x1b[35m", "!": "\x1b[31m", "end": "\x1b[0m", "dim": "\x1b[2m"}


def _paint(text: str, key: str, style: Style) -> str:
    return f"{style[key]}{text}{style['end']}" if key in style else text


def _lines(lines: list[Line], indent: str, style: Style) -> list[str]:
    """Value lines (:mod:`.values`) under a resource, painted by their sign on a terminal."""
    return [indent + _paint(text_line(x), x.sign, style) if x.sign in "+-~" else indent + text_line(x) for x in lines]


def shown_call(op: Operation) -> str:
    """The call with the remote id filled in where it is already known."""
    if op.target is not None and not isinstance(op.target, dict):
        return op.call.replace("{id}", str(op.target))
    return op.call


def describe_actions(change: ResourceChange) -> str:
    if change.is_replace:
        return "replace (new object first, then the old one is removed)" if change.actions[0] == "create" else "replace"
    word = {"create": "create", "update": "update", "delete": "delete", "no-op": "no change"}[change.actions[0]]
    if change.lifecycle and change.actions == ["update"] and not change.fields:
        word = " + ".join(change.lifecycle)
    elif change.lifecycle and change.actions != ["delete"]:
        word += " (" + ", ".join(a for a in change.lifecycle) + ")"
    return word


def render_drift(drift: list[Drift], style: Style = PLAIN) -> str:
    """Objects changed on the platform outside campaignctl since the last apply ("" when none)."""
    if not drift:
        return ""
    lines = [f"Changed outside campaignctl since the last apply ({len(drift)} object(s)):", ""]
    for d in drift:
        if d.kind == "deleted":
            lines.append(f"  {_paint('!', '!', style)} {d.address}  deleted on the platform")
            continue
        lines.append(f"  {_paint('!', '!', style)} {d.address}  changed on the platform")
        lines += _lines(fields_lines(FieldChange(f.path, f.before, f.after) for f in d.fields), "      ", style)
    return "\n".join(lines) + "\n"


def render_text(plan: Plan, style: Style = PLAIN) -> str:
    ops = {op.id: op for op in plan.operations}
    numbers = {op.id: i + 1 for i, op in enumerate(plan.operations)}
    lines: list[str] = []
    if plan.drift:
        lines.append(render_drift(plan.drift, style))
    shown = [c for c in plan.changes if c.actions != ["no-op"] or c.operations or c.errors]
    if not shown:
        lines.append("No changes. The platforms match the configuration.")
    else:
        lines.append("campaignctl will perform the following actions:")
        lines.append("")
    for change in shown:
        symbol = change.symbol if change.actions != ["no-op"] else "~"
        head = f"{_paint(symbol.rjust(3), symbol, style)} {change.address}  {describe_actions(change)}"
        if change.remote_id is not None:
            head += _paint(f"  [id {change.remote_id}]", "dim", style)
        if change.protect and change.actions != ["no-op"] and ("delete" in change.actions):
            head += "  (protected)"
        lines.append(head)
        for reason in change.reasons:
            lines.append(f"      # {reason}")
        if change.actions == ["create"] and change.after:
            lines += _lines(object_lines("+", change.after), "      ", style)
        lines += _lines(fields_lines(change.fields), "      ", style)  # a create's: the task rows it uploads
        for warning in change.warnings:
            lines.append(f"      {_paint('!', '!', style)} {warning}")
        for error in change.errors:
            lines.append(f"      {_paint('error:', '!', style)} {error}")
        for op_id in change.operations:
            op = ops.get(op_id)
            if op is None:
                continue
            extra = f"  ({op.cost:.2f} USD)" if op.cost else ""
            lines.append(_paint(f"      {numbers[op_id]:>3}. {shown_call(op)}{extra}", "dim", style))
        lines.append("")
    for warning in plan.warnings:
        lines.append(f"Warning: {warning}")
    lines += refusal_lines(plan, style)
    counts = plan.counts()
    summary = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, "
        f"{counts['delete']} to delete; {len(plan.operations)} API call(s)"
    )
    if plan.cost:
        summary += f"; commits {plan.cost:.2f} USD"
    lines.append(summary + ".")
    if plan.errors:
        lines.append(f"{len(plan.errors)} change(s) cannot be made (see 'error:' above); nothing can be applied until they are resolved.")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- refusals

def refusal_lines(plan: Plan, style: Style = PLAIN) -> list[str]:
    """What apply would refuse without an override (``plan.refusals``, see plan.safety), each
    with its flag; nothing when there is none."""
    if not plan.refusals:
        return []
    lines = [f"Apply will refuse this plan without an override ({len(plan.refusals)}):"]
    for refusal in plan.refusals:
        lines.append(f"  {_paint('!', '!', style)} [{refusal.flag}] {refusal.reason}")
    return [*lines, ""]
