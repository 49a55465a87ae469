"""Cold loading on two cores (campaignctl.config.load.SchemaHelper): the same diagnostics, the same
validation cache and document cache as loading in one process, and a helper that fails changes
nothing but the time. Each case runs load_config in a fresh interpreter: the helper forks, and
only a process with no other thread may (pytest's may have some)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import copy_example

TASKS = 60

SCRIPT = """
import json, os, sys
from campaignctl.config import load
from campaignctl.errors import ConfigError
from campaignctl.validation import load_config
mode = sys.argv[2]
load.SchemaHelper.MIN_CHECKS = 10 if mode != "off" else 10**9
started = []
real_start = load.SchemaHelper.start.__func__
def start(cls, raws, passed, caches):
    helper = real_start(cls, raws, passed, caches)
    started.append(helper is not None)
    if helper is not None and mode == "broken":
        os.kill(helper.pid, 9)  # the child dies before it answers
    return helper
load.SchemaHelper.start = classmethod(start)
validated = []  # the jsonschema validations this process ran (the child's are not seen here)
real_validator = load.schemas.validator
def validator(rel):
    validated.append(rel)
    return real_validator(rel)
load.schemas.validator = validator
from campaignctl.config import yamlload
parsed = []  # chunks parsed, not taken from the document cache
real_build = yamlload._compose_build
def build(*args):
    parsed.append(1)
    return real_build(*args)
yamlload._compose_build = build
try:
    load_config(sys.argv[1])
    diags = []
except ConfigError as exc:
    diags = [str(d) for d in exc.diagnostics]
cache = [p for p in os.listdir(os.environ["CAMPAIGNCTL_CACHE_DIR"]) if p.startswith("valid-")]
size = os.path.getsize(os.path.join(os.environ["CAMPAIGNCTL_CACHE_DIR"], cache[0])) if cache else 0
print(json.dumps({"helper": started, "diags": diags, "cached": size, "specs": sum(r == "swarms/Task.json" for r in validated), "parsed": len(parsed)}))
"""


def make_repo(root: Path, broken: int) -> Path:
    copy_example("quickstart", root.parent, to=root)
    docs = []
    for i in range(TASKS):
        head = f"kind: Task\nname: bulk-{i}\nprovider: swarms\nspec:\n  components:\n    - type: Text\n"
        # the first ``broken`` break the spec's schema: a component without its properties
        docs.append(head if i < broken else head + f"      properties: {{text: 'Item {i}'}}\n")
    (root / "bulk.yaml").write_text("---\n".join(docs), encoding="utf-8")
    return root


def check(repo: Path, cache: Path, mode: str, **environ: str) -> dict:
    cache.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "CAMPAIGNCTL_CACHE_DIR": str(cache), "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           **environ}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(repo), mode], capture_output=True, text=True,
                          env=env, timeout=120, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    assert done.returncode == 0 and not done.stderr, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("broken", [0, 4])
def test_the_helper_gives_the_diagnostics_and_cache_of_one_process(tmp_path: Path, broken: int) -> None:
    repo = make_repo(tmp_path / "repo", broken)
    alone = check(repo, tmp_path / "cache-alone", "off")
    helped = check(repo, tmp_path / "cache-helped", "on")
    assert alone["helper"] == [False] and helped["helper"] == [True]
    assert helped["diags"] == alone["diags"]
    assert len(alone["diags"]) == broken and all("bulk.yaml" in d for d in alone["diags"])
    assert helped["cached"] == alone["cached"] > 0  # every spec that passed is remembered, by either process
    # this process validated its share, and again the specs with a problem (to report them)
    assert alone["specs"] >= TASKS and helped["specs"] <= alone["specs"] - TASKS // 4  # the child took ~35%
    again = check(repo, tmp_path / "cache-helped", "on")  # now warm: nothing left to share out
    assert again["helper"] == [False] and again["diags"] == alone["diags"]
    # the helper wrote the document cache: no chunk is parsed again
    assert helped["parsed"] >= TASKS and again["parsed"] == 0


def test_a_helper_that_dies_changes_nothing_but_the_time(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", 3)
    alone = check(repo, tmp_path / "cache-alone", "off")
    broken = check(repo, tmp_path / "cache-broken", "broken")
    assert broken["helper"] == [True]
    assert broken["diags"] == alone["diags"] and broken["cached"] == alone["cached"]
    assert broken["specs"] >= TASKS  # its share was validated here
    after = check(repo, tmp_path / "cache-broken", "on")  # the killed helper wrote no document cache
    assert after["diags"] == alone["diags"] and after["parsed"] == broken["parsed"] >= TASKS


def test_the_environment_turns_the_helper_off(tmp_path: Path) -> None:
    """``CAMPAIGNCTL_SCHEMA_HELPER=off``: one process does it all (how the lead measures the
    helper's worth), with the same diagnostics and caches."""
    repo = make_repo(tmp_path / "repo", 2)
    helped = check(repo, tmp_path / "cache-helped", "on")
    off = check(repo, tmp_path / "cache-off", "on", CAMPAIGNCTL_SCHEMA_HELPER="off")
    assert helped["helper"] == [True] and off["helper"] == [False]
    assert off["diags"] == helped["diags"] and off["cached"] == helped["cached"] > 0
    assert off["specs"] >= TASKS  # every spec validated here
