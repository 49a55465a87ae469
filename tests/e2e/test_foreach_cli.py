"""forEach (issue 23, point 1): one resource per data row, through the real CLI and the sandbox."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import FOREACH_FAMILY as FAMILY
from tests.helpers import FOREACH_JOB as JOB
from tests.helpers import changed_addresses, edit_file, run_cli
from tests.helpers import write_foreach_config as write_config


def summary(plan: str) -> str:
    found = re.search(r"Plan: .*", plan)
    assert found, plan
    return found.group(0)


def test_a_1000_row_family_validates_plans_applies_and_follows_its_rows(tmp_path: Path) -> None:
    config = write_config(tmp_path, 1000, FAMILY)
    checked = run_cli("validate", config)
    assert checked.code == 0, checked.text

    first = run_cli("plan", config, "--detailed-exitcode", timeout=300)
    assert first.code == 2, first.text
    assert "Plan: 1000 to create, 0 to update, 0 to replace, 0 to delete" in first.out
    created = changed_addresses(first.out)
    assert created == sorted(created) and len(created) == 1000
    assert created[0] == "swarms/task/rate-photo[p0001]" and created[-1] == "swarms/task/rate-photo[p1000]"
    assert '"https://example.org/777.jpg"' in first.out and "How good is photo p0777?" in first.out

    applied = run_cli("apply", config, "--auto-approve", timeout=600)
    assert applied.code == 0, applied.text
    again = run_cli("plan", config, "--detailed-exitcode", timeout=300)
    assert again.code == 0 and "No changes" in again.out, again.text

    # one row edited: exactly that member updated
    edit_file(config / "data" / "photos.csv", "https://example.org/500.jpg", "https://example.org/500b.jpg")
    edited = run_cli("plan", config, "--detailed-exitcode", timeout=300)
    assert edited.code == 2, edited.text
    assert summary(edited.out).startswith("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete"), edited.out
    assert changed_addresses(edited.out) == ["swarms/task/rate-photo[p0500]"]
    assert run_cli("apply", config, "--auto-approve", timeout=600).code == 0

    # one row dropped: exactly that member deleted (archived, the platform's way)
    edit_file(config / "data" / "photos.csv", "p0321,https://example.org/321.jpg\n", "")
    dropped = run_cli("plan", config, "--detailed-exitcode", timeout=300)
    assert dropped.code == 2, dropped.text
    assert summary(dropped.out).startswith("Plan: 0 to create, 0 to update, 0 to replace, 1 to delete"), dropped.out
    assert changed_addresses(dropped.out) == ["swarms/task/rate-photo[p0321]"]


def test_a_reference_to_the_family_lists_every_member_in_row_order_and_target_selects_members(tmp_path: Path) -> None:
    config = write_config(tmp_path, 12, FAMILY, JOB)
    plan = run_cli("plan", config, "--format", "json")
    assert plan.code == 0, plan.text
    changes = {c["address"]: c for c in json.loads(plan.out)["resource_changes"]}
    tasks = changes["swarms/job/photo-batch"]["change"]["after"]["tasks"]
    assert tasks == [f"swarms/task/rate-photo[p{i:04d}]" for i in range(1, 13)]

    targeted = run_cli("plan", config, "--target", "swarms/task/rate-photo[p000*]")
    assert targeted.code == 0, targeted.text
    assert changed_addresses(targeted.out) == [f"swarms/task/rate-photo[p000{i}]" for i in range(1, 10)]
    family = run_cli("plan", config, "--target", "swarms/task/rate-photo")
    assert len(changed_addresses(family.out)) == 12, family.out

    # one member by name (quoted in a flow list: YAML reads a bare '[' there as a list)
    edit_file(config / "main.yaml", "tasks: [rate-photo]", 'tasks: ["rate-photo[p0003]", "rate-photo[p0001]"]')
    one = run_cli("plan", config, "--format", "json")
    changes = {c["address"]: c for c in json.loads(one.out)["resource_changes"]}
    assert changes["swarms/job/photo-batch"]["change"]["after"]["tasks"] == ["swarms/task/rate-photo[p0003]", "swarms/task/rate-photo[p0001]"]


def test_errors_name_the_template_and_the_data_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, 5, FAMILY.replace("row.url", "row.urll"))
    bad = run_cli("validate", config)
    assert bad.code == 1, bad.text
    # the template's file:line:col, the first failing data row's line, the other rows counted
    assert re.search(r"main\.yaml:16:39: template, row at .*photos\.csv:2: .*urll.*columns: id, url \(and 4 more row\(s\)\)", bad.err), bad.err

    config = write_config(tmp_path / "dup", 5, FAMILY)
    edit_file(config / "data" / "photos.csv", "p0004,", "p0002,")
    dup = run_cli("validate", config)
    assert dup.code == 1, dup.text
    assert re.search(r"main\.yaml:12:\d+: .*photos\.csv:5: key 'p0002' again \(first at line 3\)", dup.err), dup.err

    config = write_config(tmp_path / "nokey", 2, FAMILY.replace("key: id", "key: ident"))
    nokey = run_cli("validate", config)
    assert nokey.code == 1 and "no column 'ident' (forEach.key); columns: id, url" in nokey.err, nokey.text

    config = write_config(tmp_path / "syntax", 2, FAMILY.replace("{{ row.url }}", "{{ row.url }"))
    syntax = run_cli("validate", config)
    assert syntax.code == 1 and re.search(r"main\.yaml:16:\d+: template: ", syntax.err), syntax.text

    config = write_config(tmp_path / "missing", 2, FAMILY.replace("data/photos.csv", "data/nope.csv"))
    missing = run_cli("validate", config)
    assert missing.code == 1 and "forEach.file 'data/nope.csv': no such file" in missing.err, missing.text

    config = write_config(tmp_path / "single", 2, FAMILY, JOB)
    campaign = "kind: Campaign\nname: c\nprovider: swarms\nspec: {title: T, workerPayment: 0.01, results: 1, jobs: [photo-batch]}\n"
    (config / "more.yaml").write_text(campaign)
    edit_file(config / "main.yaml", "name: photo-batch", "name: photo-batch\nforEach: {file: data/photos.csv, key: id}")
    family_job = run_cli("plan", config, "--format", "json")
    assert family_job.code == 0, family_job.text  # a list of jobs naming a family of jobs: every member
    jobs = {c["address"]: c for c in json.loads(family_job.out)["resource_changes"]}["swarms/campaign/c"]["change"]["after"]["jobs"]
    assert jobs == ["swarms/job/photo-batch[p0001]", "swarms/job/photo-batch[p0002]"]


def test_every_platform_a_campaign_family_from_jsonl_with_typed_values(tmp_path: Path) -> None:
    """forEach on other kinds and platforms: Microworkers v2 and v1 campaigns, from JSONL rows
    whose numbers stay numbers in a one-expression string."""
    from tests.helpers import copy_example

    config = copy_example("microworkers-legacy", tmp_path)
    (config / "data").mkdir()
    rows = [{"batch": f"b{i}", "positions": 40 + i, "pay": 0.1 + i / 100} for i in range(1, 4)]
    (config / "data" / "batches.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    edit_file(config / "campaigns.yaml", "name: moderate-images\n", "name: moderate-images\nforEach: {file: data/batches.jsonl, key: batch}\n")
    edit_file(config / "campaigns.yaml", "title: Moderate 20 user images", 'title: "Moderate images, batch {{ row.batch }}"')
    edit_file(config / "campaigns.yaml", "available_positions: 40", 'available_positions: "{{ row.positions }}"')
    edit_file(config / "campaigns.yaml", "payment_per_task: 0.10", 'payment_per_task: "{{ row.pay }}"')
    first = run_cli("plan", config, "--format", "json")
    assert first.code == 0, first.text
    changes = {c["address"]: c["change"] for c in json.loads(first.out)["resource_changes"]}
    member = changes["mw-legacy/campaign/moderate-images[b2]"]
    assert member["actions"] == ["create"] and member["after"]["available_positions"] == 42, member
    assert member["after"]["title"] == "Moderate images, batch b2"
    assert "mw-legacy/campaign/moderate-images" not in changes
    assert run_cli("apply", config, "--auto-approve").code == 0
    assert run_cli("plan", config, "--detailed-exitcode").code == 0

    # a family where one object is meant: an error naming a member, at the reference
    edit_file(config / "groups.yaml", "name: image-moderators\n", "name: image-moderators\nforEach: {file: data/batches.jsonl, key: batch}\n")
    single = run_cli("validate", config)
    assert single.code == 1, single.text
    assert re.search(r"campaigns\.yaml:\d+:\d+: spec\.group: 'image-moderators' is a forEach family; name one of its members such as 'image-moderators\[b1\]'", single.err), single.err

    survey = copy_example("microworkers-survey", tmp_path)
    (survey / "data" / "sites.csv").write_text("site,url\nacme,https://acme.example\nglobex,https://globex.example\n")
    edit_file(survey / "campaigns.yaml", "name: website-survey\n", "name: website-survey\nforEach: {file: data/sites.csv, key: site}\n")
    edit_file(survey / "campaigns.yaml", "title: First impression of a company website", 'title: "First impression of {{ row.url }}"')
    plan = run_cli("plan", survey, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert {"mw/campaign/website-survey[acme]", "mw/campaign/website-survey[globex]"} <= set(changed_addresses(plan.out))
    assert "First impression of https://globex.example" in plan.out
