"""`validate --format text|json|github` through the real CLI (issue 23, point 6)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from campaignctl.errors import Diagnostic
from campaignctl.validate_format import github
from tests.helpers import EXAMPLES, copy_example, edit_file, run_cli

ANNOTATION = re.compile(r"^::error file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+)::(?P<message>.+)$")


def test_github_annotations_name_every_problem_with_file_line_col() -> None:
    text = run_cli("validate", "invalid", cwd=EXAMPLES)
    problems = [line for line in text.err.splitlines() if re.match(r"^invalid/\S+:\d+:\d+: ", line)]
    assert text.code == 1 and problems
    done = run_cli("validate", "invalid", "--format", "github", cwd=EXAMPLES)
    assert done.code == 1, done.text
    lines = done.out.splitlines()
    assert len(lines) == len(problems)
    for line, problem in zip(lines, problems, strict=True):
        found = ANNOTATION.match(line)
        assert found, line
        assert problem.startswith(f"{found['file']}:{found['line']}:{found['col']}: ")
        assert (EXAMPLES / found["file"]).is_file()


def test_json_lists_errors_and_says_valid(tmp_path: Path) -> None:
    path = copy_example("quickstart", tmp_path)
    ok = run_cli("validate", path, "--format", "json")
    assert ok.code == 0, ok.text
    body = json.loads(ok.out)
    assert body["valid"] is True and body["errors"] == [] and body["resources"] == 6
    edit_file(path / "campaign.yaml", "workerPayment: 0.05", "workerPayment: cheap")
    bad = run_cli("validate", path, "--format", "json")
    assert bad.code == 1 and "Traceback" not in bad.err
    body = json.loads(bad.out)
    assert body["valid"] is False
    assert [(Path(e["file"]).name, e["message"].split(":")[0]) for e in body["errors"]] == [("campaign.yaml", "spec.workerPayment")]
    assert body["errors"][0]["line"] > 1
    assert run_cli("validate", path, "--format", "github").out.startswith("::error file=")


def test_github_escapes_what_would_break_a_workflow_command() -> None:
    out = github([Diagnostic("a,b:c.yaml", 3, 4, "50% off\nsecond line")], [Diagnostic("w.yaml", 1, 1, "careful")])
    assert out == "::error file=a%2Cb%3Ac.yaml,line=3,col=4::50%25 off%0Asecond line\n::warning file=w.yaml,line=1,col=1::careful\n"
