"""plan --format json (schemas/plan.json) and --format markdown (PR comments), and the CI examples."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaignctl import __version__, schemas
from campaignctl.plan import FORMATS
from campaignctl.plan.json_format import to_document
from campaignctl.plan.markdown import MARKER, part_marker, render_markdown
from campaignctl.plan.model import (
    Drift,
    FieldChange,
    Operation,
    Plan,
    ResourceChange,
    ref,
)
from campaignctl.plan.output import emit, write_parts
from tests.helpers import (
    CANARY,
    ROOT,
    Server,
    assert_no_canary,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
)

EXAMPLES = ["quickstart", "microworkers-survey", "microworkers-legacy"]
#: an edit per example that the platform makes in place (one "update")
EDITS = {
    # the campaign is active: its tasks are read-only on SWARMS (an edit of one is an error in the plan)
    "quickstart": ("campaign.yaml", "state: active", "state: paused", "swarms/campaign/image-rating"),
    "microworkers-survey": ("campaigns.yaml", "speed: 500", "speed: 400", "mw/campaign/website-survey"),
    "microworkers-legacy": ("blocklist.yaml", '- "5e6f7a8b"', '- "5e6f7a8b"\n    - "99999999"', "mw-legacy/blocklist/excluded-workers"),
}
DIGEST = "ab" * 32


def plan_validator() -> Any:
    return schemas.validator("plan.json")


def assert_schema_valid(document: dict[str, Any]) -> None:
    errors = [(list(e.absolute_path), e.message) for e in plan_validator().iter_errors(document)]
    assert not errors, errors


# ------------------------------------------------------------------------------ hand-built plans

def rc(address: str, actions: list[str], **kw: Any) -> ResourceChange:
    provider, kind, name = address.split("/")
    return ResourceChange(address, provider, kind.capitalize(), name, actions, **kw)


def op(address: str, action: str, call: str, **kw: Any) -> Operation:
    return Operation(f"{address}#{action}", address, address.split("/")[0], action, call, **kw)


def mixed_plan() -> Plan:
    """One resource of every action, two providers, a $ref payload, drift and a balance warning."""
    ops = [
        op("swarms/task/new", "create", "POST /tasks", payload={"name": "new", "components": [{"type": "Text"}]}, records="create"),
        op("swarms/job/j", "set-tasks", "PUT /jobs/{id}/tasks", target=7, payload=[ref("swarms/task/new")],
           after=["swarms/task/new#create"]),
        op("swarms/campaign/c", "create", "POST /campaigns", payload={"title": "Pipe | and `tick`"}, records="create"),
        op("swarms/campaign/c", "publish", "POST /campaigns/{id}/publish", target=ref("swarms/campaign/c"), cost=12.5,
           after=["swarms/campaign/c#create"]),
        op("swarms/campaign/c", "cancel", "POST /campaigns/{id}/cancel", target=3, destructive=True,
           after=["swarms/campaign/c#publish"]),
        op("mw/campaign/old", "stop", "PUT /basic-campaigns/{id}/stop", target="a1b2", destructive=True),
    ]
    changes = [
        rc("swarms/task/new", ["create"], after={"name": "new", "components": [{"type": "Text"}]},
           operations=["swarms/task/new#create"]),
        rc("swarms/job/j", ["update"], before={"tasks": []}, after={"tasks": ["swarms/task/new"]}, remote_id=7,
           fields=[FieldChange("tasks", [], ["swarms/task/new"])], operations=["swarms/job/j#set-tasks"]),
        rc("swarms/campaign/c", ["create", "delete"], before={"title": "Old"}, after={"title": "Pipe | and `tick`"},
           remote_id=3, fields=[FieldChange("title", "Old", "Pipe | and `tick`", "forces replacement")],
           reasons=["published campaigns are read-only | a new one is made"], lifecycle=["publish"], cost=12.5,
           protect=True, operations=["swarms/campaign/c#create", "swarms/campaign/c#publish", "swarms/campaign/c#cancel"]),
        rc("mw/campaign/old", ["delete"], before={"title": "Gone"}, remote_id="a1b2", operations=["mw/campaign/old#stop"]),
        rc("mw/template/same", ["no-op"], before={"html": "<p>x</p>"}, after={"html": "<p>x</p>"}, remote_id="t1"),
    ]
    return Plan(
        changes=changes,
        operations=ops,
        config_digest=DIGEST,
        config_root="/somewhere",
        created_at="2026-01-02T03:04:05Z",
        balances={"swarms": 10.0, "mw": None},
        warnings=["provider swarms: this plan commits 12.50 USD but only 10.00 USD is available"],
        drift=[Drift("swarms/job/j", "swarms", "changed", [FieldChange("description", "a", "b`c")]),
               Drift("mw/campaign/old", "mw", "deleted")],
    )


def big_plan(n: int = 300, fields: int = 12) -> Plan:
    changes, ops = [], []
    for i in range(n):
        address = f"swarms/task/t-{i:03d}"
        kind = ["update", "create", "delete"][i % 3]
        o1 = op(address, kind, f"PUT /tasks/{i}")
        o2 = op(address, "set-x", f"PUT /tasks/{i}/x", after=[o1.id])
        ops += [o1, o2]
        flist = [FieldChange(f"components[{k}].properties.text", "old " * 15 + str(k), "new " * 15 + str(k)) for k in range(fields)]
        changes.append(rc(address, [kind], remote_id=i, fields=flist if kind == "update" else [],
                          before={"name": f"t-{i}"} if kind != "create" else None,
                          after={"name": f"t-{i}", "text": "x" * 200} if kind != "delete" else None,
                          operations=[o1.id, o2.id]))
    return Plan(changes=changes, operations=ops, config_digest=DIGEST, created_at="2026-01-02T03:04:05Z")


# ------------------------------------------------------------------------------ markdown checks

def structure_problems(part: str) -> list[str]:
    """Unclosed/stray fences and <details>, checked the way CommonMark reads fences."""
    problems: list[str] = []
    fence: str | None = None
    depth = 0
    for n, line in enumerate(part.splitlines(), 1):
        if fence is not None:
            if re.fullmatch(r"`{3,}\s*", line) and len(line.strip()) >= len(fence):
                fence = None
            continue
        opening = re.match(r"(`{3,})", line)
        if opening:
            fence = opening.group(1)
            continue
        depth += len(re.findall(r"<details[ >]", line))
        depth -= line.count("</details>")
        if depth < 0:
            problems.append(f"line {n}: </details> without <details>")
            depth = 0
    if fence is not None:
        problems.append("unclosed code fence")
    if depth:
        problems.append(f"{depth} unclosed <details>")
    return problems


def summaries(part: str) -> list[str]:
    return re.findall(r"<details(?: open)?><summary><code>[^<]*</code> <b>([^<]+)</b>", part)


def table_cells(row: str) -> list[str]:
    """Cells of a GFM table row: split on pipes not escaped with a backslash."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


# ================================================================================ json: unit

def test_formats_offered() -> None:
    assert FORMATS == ["text", "json", "markdown"]


def test_json_document_shape() -> None:
    plan = mixed_plan()
    doc = to_document(plan)
    assert_schema_valid(doc)
    assert doc["format_version"] == "1.1"
    assert doc["campaignctl_version"] == __version__
    assert (doc["created_at"], doc["config_digest"]) == ("2026-01-02T03:04:05Z", DIGEST)
    by_address = {r["address"]: r for r in doc["resource_changes"]}
    assert [r["address"] for r in doc["resource_changes"]] == [c.address for c in plan.changes]

    new = by_address["swarms/task/new"]
    assert (new["type"], new["name"], new["provider"]) == ("task", "new", "swarms")
    assert new["change"]["actions"] == ["create"]
    assert new["change"]["before"] is None and new["change"]["after"]["name"] == "new"
    assert new["change"]["after_unknown"] == {"id": True}
    assert new["remote_id"] is None

    job = by_address["swarms/job/j"]
    assert job["change"]["actions"] == ["update"] and job["change"]["after_unknown"] == {}
    assert job["fields"] == [{"path": "tasks", "before": [], "after": ["swarms/task/new"], "how": "update"}]
    assert job["remote_id"] == 7

    camp = by_address["swarms/campaign/c"]
    assert camp["change"]["actions"] == ["create", "delete"]
    assert camp["change"]["after_unknown"] == {"id": True}  # the replacement gets a new id
    assert camp["protect"] is True and camp["cost"] == 12.5 and camp["lifecycle"] == ["publish"]
    assert camp["reasons"] == ["published campaigns are read-only | a new one is made"]
    assert camp["fields"][0]["how"] == "forces replacement"
    assert camp["operations"] == ["swarms/campaign/c#create", "swarms/campaign/c#publish", "swarms/campaign/c#cancel"]

    assert by_address["mw/campaign/old"]["change"]["actions"] == ["delete"]
    assert by_address["mw/campaign/old"]["change"]["after"] is None
    assert by_address["mw/template/same"]["change"]["actions"] == ["no-op"]

    assert doc["summary"] == {"create": 1, "update": 1, "replace": 1, "delete": 1, "no-op": 1, "api_calls": 6, "has_changes": True}
    assert doc["cost"] == {"total": 12.5, "by_provider": {"mw": 0.0, "swarms": 12.5}, "currency": "USD",
                           "balances": {"mw": None, "swarms": 10.0}}
    assert doc["warnings"] == plan.warnings and doc["errors"] == []
    assert doc["drift"] == [
        {"address": "swarms/job/j", "provider": "swarms", "kind": "changed",
         "fields": [{"path": "description", "before": "a", "after": "b`c", "how": "update"}]},
        {"address": "mw/campaign/old", "provider": "mw", "kind": "deleted", "fields": []},
    ]


def test_json_operations_in_plan_order_with_refs() -> None:
    doc = to_document(mixed_plan())
    assert [o["id"] for o in doc["operations"]] == [o.id for o in mixed_plan().operations]
    set_tasks = doc["operations"][1]
    # a remote id known only during apply stays a {"$ref": address} placeholder, and is listed
    assert set_tasks["payload"] == [{"$ref": "swarms/task/new"}]
    assert set_tasks["refs"] == ["swarms/task/new"]
    assert set_tasks["call"] == "PUT /jobs/7/tasks"  # a known id is filled in
    assert set_tasks["after"] == ["swarms/task/new#create"]
    publish = doc["operations"][3]
    assert publish["target"] == {"$ref": "swarms/campaign/c"} and publish["call"] == "POST /campaigns/{id}/publish"
    assert publish["cost"] == 12.5 and publish["destructive"] is False
    assert [o["destructive"] for o in doc["operations"]] == [False, False, False, False, True, True]
    # serialisable as is, and round-trips
    assert json.loads(json.dumps(doc)) == doc


def test_json_errors_and_no_changes() -> None:
    plan = mixed_plan()
    plan.changes[0].errors.append("the platform cannot do that")
    doc = to_document(plan)
    assert_schema_valid(doc)
    assert doc["errors"] == ["swarms/task/new: the platform cannot do that"]
    assert doc["resource_changes"][0]["errors"] == ["the platform cannot do that"]

    quiet = Plan(changes=[rc("swarms/task/a", ["no-op"], before={}, after={}, remote_id=1)], operations=[])
    doc = to_document(quiet)
    assert_schema_valid(doc)
    assert doc["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0, "no-op": 1, "api_calls": 0, "has_changes": False}
    assert doc["cost"]["total"] == 0 and doc["cost"]["by_provider"] == {"swarms": 0.0}


def test_saved_plan_format_is_unchanged() -> None:
    plan = mixed_plan()
    saved = plan.to_dict()
    assert "changes" in saved and "resource_changes" not in saved
    assert Plan.from_dict(json.loads(json.dumps(saved))).to_dict() == saved


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: d.update(extra=1), []),
    (lambda d: d["resource_changes"][0].update(mode="managed"), ["resource_changes", 0]),
    (lambda d: d["resource_changes"][0]["change"].update(actions=["update", "create"]), ["resource_changes", 0, "change", "actions"]),
    (lambda d: d["resource_changes"][0]["change"].update(actions=["replace"]), ["resource_changes", 0, "change", "actions"]),
    (lambda d: d["cost"].update(currency="EUR"), ["cost", "currency"]),
    (lambda d: d.update(format_version="2.0"), ["format_version"]),
    (lambda d: d["operations"][0].update(headers={}), ["operations", 0]),
    (lambda d: d.pop("summary"), []),
])
def test_schema_is_strict(mutate: Any, where: list[Any]) -> None:
    doc = to_document(mixed_plan())
    mutate(doc)
    errors = list(plan_validator().iter_errors(doc))
    assert [list(e.absolute_path) for e in errors] == [where], [e.message for e in errors]


# ================================================================================ markdown: unit

def test_markdown_small_plan() -> None:
    parts = render_markdown(mixed_plan())
    assert len(parts) == 1
    md = parts[0]
    assert md.startswith(f"{MARKER}\n{part_marker(1, 1)}\n")
    assert structure_problems(md) == []
    assert "## campaignctl plan" in md
    assert "| Create | Update | Replace | Delete | API calls |" in md
    assert "| 1 | 1 | 1 | 1 | 6 |" in md
    assert "**Cost:** this plan commits **12.50 USD** (swarms: 12.50 USD). Available balance: swarms: 10.00 USD." in md
    assert "> [!WARNING]\n> provider swarms: this plan commits 12.50 USD but only 10.00 USD is available" in md

    # the destructive section comes before the resources and names replace, delete and the stop call
    head, _, resources = md.partition("### Changes")
    destructive = head[head.index("### ⚠️ Destructive changes and replacements (2)"):]
    rows = [line for line in destructive.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # header + 2
    assert all(len(table_cells(r)) == 4 for r in rows)
    assert "swarms/campaign/c" in rows[1] and "(protected)" in rows[1] and "destructive: cancel" in rows[1]
    assert "published campaigns are read\\-only \\| a new one is made" not in rows[1]  # only what needs escaping is
    assert "published campaigns are read-only \\| a new one is made" in rows[1]
    assert "mw/campaign/old" in rows[2] and "removed from the configuration" in rows[2]

    drift = head[head.index("### Drift: 2 object(s) changed outside campaignctl"):]
    assert "- **swarms/job/j** (swarms): changed — `description`\n" in drift  # the paths; the values in full below
    assert "### Drift in full (before: last applied, after: live now)" in resources
    details = resources[resources.index("### Drift in full"):]
    assert "<b>swarms/job/j</b> — changed on the platform</summary>\n\n```diff\n- description: \"a\"\n+ description: \"b`c\"\n```" in details
    assert "- **mw/campaign/old** (mw): deleted" in drift

    # one <details> per shown resource (the no-op one is not shown); destructive ones open
    assert summaries(resources) == ["swarms/task/new", "swarms/job/j", "swarms/campaign/c", "mw/campaign/old"]
    assert "<details open><summary><code>+/-</code> <b>swarms/campaign/c</b>" in resources
    assert "<details><summary><code>+</code> <b>swarms/task/new</b> — create</summary>" in resources
    assert "mw/template/same" not in md
    assert "```diff\n- tasks: []\n+ tasks: [\"swarms/task/new\"]\n```" in resources
    assert "```diff\n- title: \"Old\"\n+ title: \"Pipe | and `tick`\"  # forces replacement\n```" in resources
    assert "```text\n  3. POST /campaigns\n  4. POST /campaigns/{id}/publish   12.50 USD\n  5. POST /campaigns/3/cancel   (destructive)\n```" in resources
    assert "  2. PUT /jobs/7/tasks" in resources
    assert "```diff\n- title: \"Gone\"\n```" in resources  # a delete shows what goes


def test_markdown_escapes_user_data() -> None:
    evil = "```` </details> <details> <!-- campaignctl-plan --> *bold* [x](http://e) a|b"
    change = rc("swarms/task/t", ["update"], remote_id="<b>1</b>",
                fields=[FieldChange("text", "ok", evil)], reasons=[evil], warnings=["- not a list\nsecond line"])
    change.actions = ["delete", "create"]
    plan = Plan(changes=[change], operations=[], warnings=[evil])
    md = render_markdown(plan)[0]
    assert structure_problems(md) == []
    # nothing from user data opens or closes HTML, a comment or a link outside a code block
    outside = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", md, flags=re.DOTALL | re.MULTILINE)

    def unescaped(pattern: str) -> int:
        return len(re.findall(r"(?<!\\)" + pattern, outside))

    assert unescaped("<details") == unescaped("</details>") == 1
    assert unescaped("<!--") == 2  # the two markers
    assert unescaped(r"\]\(") == 0 and unescaped(r"\*bold") == 0
    assert "\\<details\\>" in outside and "\\[x\\](http://e)" in outside  # shown as typed
    # the diff block's fence is longer than the 4-backtick run inside it
    assert "`````diff\n- text: \"ok\"\n+ text: \"```` </details>" in md
    # in the table the pipe is escaped, so the row keeps its 4 cells
    row = next(line for line in md.splitlines() if line.startswith("| ") and "swarms/task/t" in line)
    assert len(table_cells(row)) == 4 and "a\\|b" in row
    # in <summary> (raw HTML) the id is HTML-escaped; a warning is one list item
    assert "<sub>id &lt;b&gt;1&lt;/b&gt;</sub>" in md
    assert "- ⚠️ \\- not a list second line" in md


def test_markdown_no_changes() -> None:
    plan = Plan(changes=[rc("swarms/task/a", ["no-op"], remote_id=1)], operations=[], balances={"swarms": 5.0})
    (md,) = render_markdown(plan)
    assert "**No changes.** The platforms match the configuration." in md
    assert "| 0 | 0 | 0 | 0 | 0 |" in md and "<details" not in md
    assert "this plan commits **0.00 USD**." in md


def test_markdown_300_resources_split_into_parts() -> None:
    plan = big_plan(300)
    parts = render_markdown(plan)
    n = len(parts)
    assert n > 1
    for i, part in enumerate(parts, 1):
        assert len(part) < 65000
        assert part.startswith(f"{MARKER}\n{part_marker(i, n)}\n"), part[:100]
        assert part.count(MARKER) == 1 and part.count(part_marker(i, n)) == 1
        assert structure_problems(part) == [], i
        assert part.endswith("</details>\n" if i == n else f"_Continued in part {i + 1}/{n}._\n")
        if i > 1:
            assert f"## campaignctl plan (continued, part {i}/{n})" in part
    assert "| 100 | 100 | 0 | 100 | 600 |" in parts[0]
    # every resource exactly once across the parts, in plan order, none truncated
    shown = [a for part in parts for a in summaries(part)]
    assert shown == [c.address for c in plan.changes]
    assert not any("are not shown" in p for p in parts)
    # the 100 deletes: the destructive table shows 50 and says how many more
    assert "### ⚠️ Destructive changes and replacements (100)" in parts[0]
    assert "_… and 50 more; every resource is listed below._" in parts[0]
    # parts are filled: all but the last hold more than half the limit
    assert all(len(p) > 32500 for p in parts[:-1])


def test_markdown_smaller_limit() -> None:
    parts = render_markdown(big_plan(30, fields=3), limit=6000)
    assert len(parts) >= 3
    assert all(len(p) < 6000 and structure_problems(p) == [] for p in parts)
    assert len([a for p in parts for a in summaries(p)]) == 30


def test_markdown_oversized_block_is_truncated() -> None:
    plan = big_plan(3)
    huge = plan.changes[0]
    huge.fields = [FieldChange(f"rows[{k}]", "x" * 250, "y" * 250) for k in range(2000)]
    parts = render_markdown(plan)
    assert all(len(p) < 65000 and structure_problems(p) == [] for p in parts)
    assert [a for p in parts for a in summaries(p)] == [c.address for c in plan.changes]
    truncated = next(p for p in parts if "t-000" in p)
    note = re.search(r"_… (\d+) of (\d+) lines of this resource are not shown", truncated)
    assert note and int(note.group(2)) == 4000 + 2 and 0 < int(note.group(1)) < 4002
    assert "- rows[0]: " in truncated  # the beginning is kept
    assert len(truncated) > 50000  # and as much as fits


def test_emit_markdown_and_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = big_plan(300)
    parts = render_markdown(plan)
    out_dir = tmp_path / "parts"
    out_dir.mkdir()
    (out_dir / f"plan-{len(parts) + 5}.md").write_text("stale")
    (out_dir / "notes.md").write_text("kept")
    emit(plan, "markdown", False, parts_dir=out_dir)
    captured = capsys.readouterr()
    assert captured.out == "\n".join(parts)
    for i in range(1, len(parts) + 1):
        assert f"\n\n{MARKER}\n{part_marker(i, len(parts))}\n" in "\n\n" + captured.out
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(["notes.md", *(f"plan-{i}.md" for i in range(1, len(parts) + 1))])
    assert [(out_dir / f"plan-{i}.md").read_text(encoding="utf-8") for i in range(1, len(parts) + 1)] == parts
    assert f"Wrote the markdown plan in {len(parts)} part(s)" in captured.err

    emit(plan, "json", False)
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(to_document(plan)))


# ================================================================================ end to end

def cli_json(*args: Any, code: int | None = 0) -> dict[str, Any]:
    result = run_cli("plan", *args, "--format", "json")
    if code is not None:
        assert result.code == code, result.text
    doc = json.loads(result.out)
    assert_schema_valid(doc)
    return doc


@pytest.mark.parametrize("example", EXAMPLES)
def test_json_plan_of_every_example(tmp_path: Path, example: str) -> None:
    config = copy_example(example, tmp_path)
    fresh = cli_json(config)
    actions = [r["change"]["actions"] for r in fresh["resource_changes"]]
    assert ["create"] in actions and all(a in (["create"], ["no-op"], ["update"]) for a in actions)
    if example == "quickstart":
        assert all(a == ["create"] for a in actions)
    for r in fresh["resource_changes"]:
        assert r["change"]["after_unknown"] == ({"id": True} if r["change"]["actions"] == ["create"] else {})
        assert r["address"] == f"{r['provider']}/{r['type']}/{r['name']}"
    assert fresh["summary"]["create"] == actions.count(["create"])
    assert fresh["summary"]["api_calls"] == len(fresh["operations"]) > 0
    assert fresh["cost"]["total"] > 0 and fresh["cost"]["currency"] == "USD"
    assert fresh["cost"]["total"] == pytest.approx(sum(fresh["cost"]["by_provider"].values()))
    ids = [o["id"] for o in fresh["operations"]]
    for i, o in enumerate(fresh["operations"]):  # plan order: dependencies first
        assert all(ids.index(dep) < i for dep in o["after"])

    applied = run_cli("apply", config, "--auto-approve")
    assert applied.code == 0, applied.text
    settled = cli_json(config, "--detailed-exitcode")
    assert all(r["change"]["actions"] == ["no-op"] for r in settled["resource_changes"])
    assert settled["operations"] == [] and settled["summary"]["has_changes"] is False
    assert all(r["remote_id"] is not None for r in settled["resource_changes"])

    file, old, new, address = EDITS[example]
    edit_file(config / file, old, new)
    edited = cli_json(config, "--detailed-exitcode", code=2)
    changed = [r for r in edited["resource_changes"] if r["change"]["actions"] != ["no-op"]]
    assert [(r["address"], r["change"]["actions"]) for r in changed] == [(address, ["update"])]
    assert changed[0]["fields"] and changed[0]["change"]["after_unknown"] == {}
    assert edited["summary"]["update"] == 1 and edited["summary"]["has_changes"] is True
    assert {o["address"] for o in edited["operations"]} == {address}


def test_markdown_plan_cli(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    (parts_dir / "plan-2.md").write_text("stale part of an earlier plan")
    result = run_cli("plan", config, "--detailed-exitcode", "-out", tmp_path / "plan.json",
                     "--format", "markdown", "--markdown-parts", parts_dir)
    assert result.code == 2, result.text
    assert result.out.startswith(f"{MARKER}\n{part_marker(1, 1)}\n")
    assert structure_problems(result.out) == []
    assert "| 6 | 0 | 0 | 0 | 10 |" in result.out
    assert "**Cost:** this plan commits **0.36 USD** (swarms: 0.36 USD)." in result.out
    assert summaries(result.out) == [
        "swarms/campaign/image-rating", "swarms/job/describe-batch-1", "swarms/job/rate-batch-1",
        "swarms/task/describe-photo", "swarms/task/rate-beach", "swarms/task/rate-forest",
    ]
    assert "POST /campaigns/{id}/publish   0.36 USD" in result.out
    assert sorted(p.name for p in parts_dir.iterdir()) == ["plan-1.md"]
    assert (parts_dir / "plan-1.md").read_text(encoding="utf-8") == result.out
    assert "Wrote the markdown plan in 1 part(s)" in result.err
    saved = json.loads((tmp_path / "plan.json").read_text())  # -out still writes the saved-plan format
    assert "changes" in saved and "resource_changes" not in saved

    # the saved plan applies; afterwards the markdown says there is nothing to do
    assert run_cli("apply", tmp_path / "plan.json", "--auto-approve").code == 0
    after = run_cli("plan", config, "--format", "markdown", "--markdown-parts", parts_dir)
    assert after.code == 0 and "**No changes.**" in after.out
    assert (parts_dir / "plan-1.md").read_text(encoding="utf-8") == after.out

    # a replacement is called out before the resources
    edit_file(config / "campaign.yaml", "workerPayment: 0.05", "workerPayment: 0.07")
    replaced = run_cli("plan", config, "--format", "markdown")
    head = replaced.out.partition("### Changes")[0]
    assert "### ⚠️ Destructive changes and replacements (1)" in head
    assert "swarms/campaign/image-rating" in head and "(protected)" in head
    assert "<details open><summary><code>+/-</code> <b>swarms/campaign/image-rating</b>" in replaced.out


def test_markdown_parts_with_another_format_and_bad_dir(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    result = run_cli("plan", config, "--format", "json", "--markdown-parts", tmp_path / "p")
    assert result.code == 0, result.text
    assert_schema_valid(json.loads(result.out))
    assert (tmp_path / "p" / "plan-1.md").read_text(encoding="utf-8").startswith(MARKER)
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad = run_cli("plan", config, "--markdown-parts", blocker / "sub")
    assert bad.code == 1 and "Error" in bad.err and "plan-1.md" not in bad.out


def test_no_secret_in_json_or_markdown(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    env = point_at_server(config, sandbox_server)
    assert env["SWARMS_TOKEN"] == CANARY
    doc = run_cli("plan", config, "--format", "json", env=env)  # run_cli asserts the canary is not in the output
    assert doc.code == 0, doc.text
    assert_schema_valid(json.loads(doc.out))
    md = run_cli("plan", config, "--format", "markdown", "--markdown-parts", tmp_path / "parts", env=env)
    assert md.code == 0 and MARKER in md.out
    assert_no_canary(tmp_path)


# ================================================================================ CI examples

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
ACTION = ROOT / "action.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def campaignctl_invocations(text: str) -> list[tuple[str, list[str]]]:
    """(command, options) of every `campaignctl <command> ...` run in shell text (a line, or after && ; | $( )."""
    found = []
    for m in re.finditer(r"(?:^|&&|;|\||\$\()\s*campaignctl\s+([a-z][a-z-]*)([^\n|>;&]*)", text, flags=re.MULTILINE):
        options = [t.split("=", 1)[0] for t in m.group(2).split() if t.startswith("-")]
        found.append((m.group(1), options))
    return found


def run_scripts(workflow: dict[str, Any]) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def action_steps() -> list[dict[str, Any]]:
    return list(yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"])


def action_scripts() -> list[str]:
    return [step["run"] for step in action_steps() if "run" in step]


def test_workflow_parses_and_does_the_job() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"] and "schedule" in triggers
    plan_job, apply_job = workflow["jobs"]["plan"], workflow["jobs"]["apply"]
    assert "pull_request" in plan_job["if"] and "push" in apply_job["if"]
    assert apply_job["concurrency"]["group"] and apply_job["concurrency"]["cancel-in-progress"] is False
    assert plan_job["permissions"]["pull-requests"] == "write"
    uses = [s.get("uses", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert sum(u.startswith("<owner>/campaignctl@") for u in uses) == 3
    action_uses = [s.get("uses", "") for s in action_steps()]
    for action in ("actions/setup-python@", "actions/upload-artifact@", "actions/github-script@"):
        assert any(u.startswith(action) for u in action_uses), action
    # secrets only through env, from secrets.*
    assert all(re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", v) for k, v in workflow["env"].items() if "secrets" in str(v))
    assert any("secrets." in str(v) for v in workflow["env"].values())
    assert "secrets." not in "\n".join(run_scripts(workflow) + action_scripts())

    scripts = "\n".join(action_scripts())
    calls = campaignctl_invocations(scripts)
    commands = [c for c, _ in calls]
    assert commands.count("validate") == 1 and commands.count("plan") == 1 and commands.count("apply") == 1
    pr_plan = next(opts for c, opts in calls if c == "plan")
    assert {"--detailed-exitcode", "-out", "--format", "--markdown-parts"} <= set(pr_plan)
    assert 'campaignctl apply "$PLAN_FILE" --auto-approve $OVERRIDES' in scripts

    # the comment script finds its comments by the markers campaignctl writes
    script = next(s["with"]["script"] for s in action_steps() if s.get("id") == "comment")
    assert f"'{MARKER}'" in script
    found = re.search(r"/(\^<!-- campaignctl-plan -->.*?-->)/", script)
    assert found, "no marker regex in the comment script"
    js_regex = found.group(1)
    parts = render_markdown(big_plan(300))
    for i, part in enumerate(parts, 1):
        m = re.match(js_regex.replace("\\/", "/"), part)
        assert m and (int(m.group(1)), int(m.group(2))) == (i, len(parts))
    assert "updateComment" in script and "createComment" in script and "deleteComment" in script


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "campaignctl-validate"]
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["entry"] == "campaignctl validate"
    files = re.compile(hook["files"])
    assert files.search("campaigns/a.yaml") and files.search("b.yml") and not files.search("c.json")
    assert not files.search("a.yaml.bak")


def test_ci_files_use_real_commands_and_options() -> None:
    texts = "\n".join(run_scripts(yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))) + action_scripts())
    texts += "\n" + "\n".join(h["entry"] for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")))
    used: dict[str, set[str]] = {}
    for command, options in campaignctl_invocations(texts):
        used.setdefault(command, set()).update(options)
    assert set(used) == {"validate", "plan", "show", "apply", "drift"}
    for command, flags in used.items():
        help_text = run_cli(command, "--help")
        assert help_text.code == 0, help_text.text
        for option in flags:
            assert re.search(rf"(?<![\w-]){re.escape(option)}\b", help_text.out), f"campaignctl {command} has no {option}"


# the action's shell steps as GitHub runs them: tests/ci/test_action.py


NODE_HARNESS = r"""
const fs = require('fs');
const [scriptPath, commentsPath] = process.argv.slice(2);
const script = fs.readFileSync(scriptPath, 'utf8');
const comments = JSON.parse(fs.readFileSync(commentsPath, 'utf8'));
const calls = [];
const issues = {
  listComments: async () => ({ data: comments }),
  updateComment: async (p) => { calls.push(['update', p.comment_id, p.body]); },
  createComment: async (p) => { calls.push(['create', p.issue_number, p.body]); },
  deleteComment: async (p) => { calls.push(['delete', p.comment_id]); },
};
const github = {
  rest: { issues },
  paginate: async (fn, params) => {
    if (fn !== issues.listComments || params.issue_number !== 7 || params.owner !== 'o') throw new Error('bad paginate');
    return comments;
  },
};
const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 }, serverUrl: 'https://github.com', runId: 42 };
const core = { warning: (m) => calls.push(['warning', m]) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', 'require', script)(github, context, core, require)
  .then(() => process.stdout.write(JSON.stringify(calls)))
  .catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the actions/github-script step")
def test_comment_script_updates_comments_in_place(tmp_path: Path) -> None:
    script = next(s["with"]["script"] for s in action_steps() if s.get("id") == "comment")
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "harness.js").write_text(NODE_HARNESS)

    def run(parts: list[str] | None, comments: list[dict[str, Any]]) -> list[list[Any]]:
        work = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        if parts is not None:
            write_parts(parts, work / "campaignctl-parts")
        (work / "comments.json").write_text(json.dumps(comments))
        proc = subprocess.run(["node", str(tmp_path / "harness.js"), str(tmp_path / "script.js"), "comments.json"],
                              cwd=work, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    bot = {"login": "github-actions[bot]"}
    old = render_markdown(big_plan(300))
    assert len(old) > 3
    comments = [{"id": 100 + i, "user": bot, "body": part} for i, part in enumerate(old)]
    comments += [
        {"id": 1, "user": {"login": "alice"}, "body": old[0]},  # someone quoting the plan: never touched
        {"id": 2, "user": bot, "body": "another bot comment"},
        {"id": 3, "user": bot, "body": f"see {MARKER}"},
    ]
    # a smaller plan: two parts update the first two comments, the stale ones are deleted
    new = render_markdown(big_plan(60))
    assert len(new) == 2
    calls = run(new, comments)
    assert calls == [["update", 100, new[0]], ["update", 101, new[1]],
                     *(["delete", 100 + i] for i in range(2, len(old)))]
    # the first plan of a pull request: created in order
    assert run(new, [comments[-1]]) == [["create", 7, new[0]], ["create", 7, new[1]]]
    # no plan written (validate or plan failed): the comment says so instead of showing a stale plan
    failed = run(None, comments[:1])
    assert failed[0][0] == "warning"
    assert failed[1][:2] == ["update", 100]
    assert failed[1][2].startswith(f"{MARKER}\n{part_marker(1, 1)}\n")
    assert "**No plan**" in failed[1][2] and "https://github.com/o/r/actions/runs/42" in failed[1][2]
