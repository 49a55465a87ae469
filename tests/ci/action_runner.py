"""Runs a composite GitHub Action's shell steps as the runner would, short of GitHub itself.

Each ``run:`` step goes to ``bash --noprofile --norc -eo pipefail`` (the runner's ``shell: bash``)
with the step's ``env`` (its ``${{ }}`` expressions evaluated), ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY`` and ``GITHUB_ACTION_PATH``; ``if:`` conditions are evaluated (with the
implicit ``success()``); ``uses:`` steps (setup-python, upload-artifact, github-script) are recorded
as not run, and so is the step that installs campaignctl (the test runs the checkout's own)."""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT

ACTION = ROOT / "action.yml"
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@dataclass
class Run:
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # step id -> its outputs
    ran: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # uses: steps whose condition held
    failed: str | None = None  # the step that failed
    log: str = ""
    summary: str = ""


def _python(expr: str) -> str:
    out = re.sub(r"\bsteps\.([\w-]+)\.outputs\.([\w-]+)", r'S("\1", "\2")', expr)
    out = re.sub(r"\binputs\.([\w-]+)", r'I["\1"]', out)
    out = re.sub(r"\bgithub\.([\w]+)", r'G["\1"]', out)
    out = out.replace("&&", " and ").replace("||", " or ")
    out = re.sub(r"!(?!=)", " not ", out)
    return out.replace("cancelled()", "False").replace("always()", "True").replace("failure()", "FAILED").replace("success()", "(not FAILED)")


def evaluate(expr: str, run: Run, inputs: dict[str, str], github: dict[str, str]) -> Any:
    names = {
        "S": lambda step, name: run.outputs.get(step, {}).get(name, ""),
        "I": inputs, "G": github, "FAILED": run.failed is not None,
    }
    return eval(_python(expr), {"__builtins__": {}}, names)  # noqa: S307 - our own action.yml's expressions


def substitute(text: str, run: Run, inputs: dict[str, str], github: dict[str, str]) -> str:
    return EXPR.sub(lambda m: str(evaluate(m.group(1), run, inputs, github)), text)


def should_run(step: dict[str, Any], run: Run, inputs: dict[str, str], github: dict[str, str]) -> bool:
    cond = str(step.get("if", "success()"))
    cond = EXPR.sub(lambda m: m.group(1), cond)
    if not re.search(r"\b(always|failure|cancelled)\(\)", cond):
        cond = f"success() && ({cond})"
    return bool(evaluate(cond, run, inputs, github))


def run_action(inputs: dict[str, str], cwd: Path, env: dict[str, str], github: dict[str, str] | None = None) -> Run:
    action = yaml.safe_load(ACTION.read_text())
    given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items() if "${{" not in str(spec.get("default", ""))}
    given.update(inputs)
    context = {"event_name": "pull_request", "run_id": "1", "run_attempt": "1", **(github or {})}
    run = Run()
    summary = cwd / "step-summary.md"
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("id") or f"step{index}"
        if not should_run(step, run, given, context):
            continue
        if "uses" in step or name == "install":
            run.not_run.append(name)
            continue
        output = cwd / f".github-output-{name}"
        output.write_text("")
        step_env = {k: substitute(str(v), run, given, context) for k, v in (step.get("env") or {}).items()}
        full_env = {
            **os.environ, **env, **step_env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(cwd), "GITHUB_ACTIONS": "true", "CI": "true",
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd, env=full_env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False,
        )
        run.log += f"--- {name} (exit {done.returncode})\n{done.stdout}{done.stderr}"
        run.ran.append(name)
        run.outputs[name] = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if done.returncode != 0 and run.failed is None:
            run.failed = name
    run.summary = summary.read_text() if summary.exists() else ""
    assert "Traceback" not in run.log, run.log
    return run
