"""`campaignctl validate`: one clear `file:line:col: message` per mistake, exit 1, never a traceback.

Drives the real CLI in a subprocess. `examples/invalid/` holds one file per mistake (each opens with
`# Mistake:`) plus valid supporting documents (`# Valid:`); the scenarios below write small configs
to tmp_path.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import copy_example

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "examples" / "invalid"
QUICKSTART = ROOT / "examples" / "quickstart"

DIAG = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")

PROVIDER = """\
kind: Provider
name: swarms
spec: {type: swarms, endpoint: sandbox}
"""

FIVE_STARS = """\
kind: Component
name: five-stars
spec:
  type: Rating
  properties: {steps: 5, halfSteps: false}
"""


def validate(path: Path | str, cwd: Path) -> tuple[int, str, list[tuple[str, int, int, str]]]:
    """Run `python -m campaignctl validate PATH` in ``cwd``: exit code, all output, parsed diagnostics."""
    proc = subprocess.run(
        [sys.executable, "-m", "campaignctl", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
        env={**_env(), "NO_COLOR": "1"},
    )
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    diags = []
    for line in output.splitlines():
        m = DIAG.match(line)
        if m:
            diags.append((m["file"], int(m["line"]), int(m["col"]), m["message"]))
    return proc.returncode, output, diags


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNCTL_")}


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def locate(path: Path, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` outside comment lines."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        start = 0
        while (col := line.find(needle, start)) >= 0:
            seen += 1
            if seen == nth:
                return number, col + 1
            start = col + 1
    raise AssertionError(f"{needle!r} (#{nth}) not in {path}")


def only(diags: list[tuple[str, int, int, str]], output: str) -> tuple[str, int, int, str]:
    assert len(diags) == 1, output
    return diags[0]


# -- examples/invalid ------------------------------------------------------------------------

#: mistake file -> (text at the offending node, its occurrence outside comments, message parts)
EXPECTED: dict[str, tuple[str, int, list[str]]] = {
    "yaml-syntax-error.yaml": (": how", 1, ["YAML syntax error", "mapping values are not allowed here", "quote"]),
    "unknown-kind.yaml": ("Campain", 1, ["kind: 'Campain' is not one of", "(did you mean 'Campaign'?)"]),
    "unknown-field.yaml": ("titel", 1, ["spec: unknown field 'titel' (did you mean 'title'?)"]),
    "wrong-type.yaml": ("three", 1, ["spec.results: expected integer, got string 'three'"]),
    "missing-required-field.yaml": ("spec", 1, ["spec: missing required field 'tasks'"]),
    "unknown-reference.yaml": ("rate-foto", 1, ["spec.tasks[1]: unknown Task 'rate-foto' (did you mean 'rate-photo'?)"]),
    "duplicate-name.yaml": ("batch-twice", 2, ["duplicate Job 'batch-twice' for provider 'swarms'", "first defined at", "duplicate-name.yaml:3"]),
    "reference-cycle.yaml": ("stars-a", 1, ["reference cycle: component/stars-a -> component/stars-b -> component/stars-a"]),
    "unknown-component-type.yaml": ("Slider", 1, ["spec.components[1].type: 'Slider' is not one of", "Rating"]),
    "component-missing-attribute.yaml": ("properties", 1, ["spec.components[0].properties: missing required field 'steps'"]),
    "undefined-provider.yaml": ("swarm", 1, ["undefined provider 'swarm' (did you mean 'swarms'?)"]),
    "swarms-schedule-days-of-week.yaml": ("daysOfWeek", 1, ["spec.daysOfWeek: SWARMS cannot express", "Campaign 'weekday-rating'"]),
    "python-object-tag.yaml": ("!!python", 1, ["unsupported YAML tag '!!python/object/apply:os.system'"]),
}


@pytest.fixture(scope="module")
def invalid_run() -> tuple[int, str, list[tuple[str, int, int, str]]]:
    return validate(INVALID.relative_to(ROOT), ROOT)


def _mistake_files() -> list[str]:
    files = sorted(INVALID.rglob("*.y*ml"))
    mistakes = []
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(("# Mistake:", "# Valid:")), f"{path.name} must say what it is on line 1"
        if first.startswith("# Mistake:"):
            mistakes.append(path.name)
    return mistakes


def test_invalid_example_covers_every_listed_mistake() -> None:
    assert sorted(_mistake_files()) == sorted(EXPECTED)


def test_invalid_example_exits_1_with_one_line_per_mistake_file(invalid_run) -> None:
    code, output, diags = invalid_run
    assert code == 1, output
    files = [Path(file).name for file, *_ in diags]
    assert sorted(files) == sorted(EXPECTED), output  # exactly one per mistake file, none elsewhere
    assert f"{len(EXPECTED)} problem(s)" in output


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_example_points_at_the_offending_node(invalid_run, name: str) -> None:
    _, output, diags = invalid_run
    needle, nth, parts = EXPECTED[name]
    (file, line, col, message), = [d for d in diags if Path(d[0]).name == name]
    assert Path(file) == Path("examples/invalid") / name
    assert (line, col) == locate(INVALID / name, needle, nth), output
    for part in parts:
        assert part in message, message


def test_quickstart_is_valid() -> None:
    code, output, diags = validate(QUICKSTART.relative_to(ROOT), ROOT)
    assert code == 0, output
    assert diags == []
    assert "valid" in output


# -- scenarios ---------------------------------------------------------------------------------


def test_every_error_is_reported_at_once_across_files(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "components.yaml", FIVE_STARS)
    write(tmp_path, "a/tasks.yaml", "kind: Task\nname: t1\nprovider: swarms\nspec:\n  components:\n    - use: five-starz\n")
    write(tmp_path, "b/jobs.yml", "kind: Job\nname: j1\nprovider: swarms\nspec:\n  tasks: [t1, t2]\n")
    write(
        tmp_path,
        "campaign.yaml",
        "kind: Campaign\nname: c1\nprovider: swarms\nspec:\n  title: C\n  workerPayment: free\n  jobs: [j1]\n---\n"
        "kind: Campaign\nname: c2\nprovider: swarms\nspec:\n  title: C2\n  state: activ\n",
    )
    code, output, diags = validate(".", tmp_path)
    assert code == 1, output
    got = {(Path(f).as_posix(), line, col): msg for f, line, col, msg in diags}
    assert len(got) == 4, output
    assert "unknown Component 'five-starz' (did you mean 'five-stars'?)" in got[("a/tasks.yaml", 6, 12)]
    assert "spec.tasks[1]: unknown Task 't2'" in got[("b/jobs.yml", 5, 15)]
    assert "spec.workerPayment: expected number, got string 'free'" in got[("campaign.yaml", 6, 18)]
    assert "'activ' is not one of" in got[("campaign.yaml", 14, 10)]
    assert "(did you mean 'active'?)" in got[("campaign.yaml", 14, 10)]


def test_duplicate_keys(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "job.yaml", "kind: Job\nname: j\nprovider: swarms\nspec:\n  tasks: [a]\n  tasks: [b]\n")
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert only(diags, output) == ("job.yaml", 6, 3, "duplicate key 'tasks' (first at line 5)")


def test_anchor_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]  # 9**12 strings
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "bomb.yaml", "kind: Component\nname: boom\nspec:\n  type: Text\n  properties:\n    " + "\n    ".join(lines) + "\n")
    started = time.monotonic()
    code, output, diags = validate(".", tmp_path)
    assert time.monotonic() - started < 20
    assert code == 1
    file, line, col, message = only(diags, output)
    assert file == "bomb.yaml" and 6 <= line <= 17 and col >= 1
    assert "too large after expanding aliases" in message


def test_deep_nesting(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "deep.yaml", "kind: Component\nname: deep\nspec: " + "[" * 150 + "]" * 150 + "\n")
    write(tmp_path, "deeper.yaml", "kind: Component\nname: deeper\nspec: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert len(diags) == 2, output
    deep = next(d for d in diags if d[0] == "deep.yaml")
    assert deep[1] == 3 and deep[3] == "nesting deeper than 100 levels"
    deeper = next(d for d in diags if d[0] == "deeper.yaml")
    assert "nesting" in deeper[3] and "deep" in deeper[3]


def test_non_utf8_file(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    (tmp_path / "latin1.yaml").write_bytes("kind: Component\nname: café\n".encode("latin-1"))
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    file, line, col, message = only(diags, output)
    assert (file, line, col) == ("latin1.yaml", 2, 10)
    assert "not UTF-8" in message and "0xe9" in message


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path, "empty/README.md", "no yaml here\n")
    code, output, diags = validate("empty", tmp_path)
    assert code == 1
    file, _, _, message = only(diags, output)
    assert file == "empty"
    assert "no *.yaml or *.yml files found" in message


def test_missing_directory(tmp_path: Path) -> None:
    code, output, diags = validate("nowhere", tmp_path)
    assert code == 1
    assert only(diags, output)[3] == "no such file or directory"


def test_use_override_is_merged_and_checked(tmp_path: Path) -> None:
    """An override replaces `steps` and keeps every other property; a bad override is reported at it."""
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "components.yaml", FIVE_STARS)
    good = "kind: Task\nname: t\nprovider: swarms\nspec:\n  components:\n    - use: five-stars\n      properties: {steps: 10}\n"
    write(tmp_path, "task.yaml", good)
    code, output, diags = validate(".", tmp_path)
    assert code == 0 and diags == [], output

    from campaignctl.config.load import resolve_component
    from campaignctl.validation import load_config

    config = load_config(tmp_path)
    item = config.resources["swarms/task/t"].spec["components"][0]
    assert resolve_component(config, item) == {"type": "Rating", "properties": {"steps": 10, "halfSteps": False}}

    write(tmp_path, "task.yaml", good.replace("{steps: 10}", "{steps: 0}"))
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    file, line, col, message = only(diags, output)
    assert (file, line, col) == ("task.yaml", 7, 27)
    assert message == "spec.components[0].properties.steps (after use: five-stars): 0 is less than the minimum of 1"


def test_component_deriving_from_component(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "components.yaml", FIVE_STARS + "---\nkind: Component\nname: three-stars\nspec:\n  use: five-stars\n  properties:\n    steps: three\n")
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert only(diags, output) == (
        "components.yaml",
        12,
        12,
        "spec.properties.steps (after use: five-stars): expected integer, got string 'three'",
    )


SCHEDULED = """\
kind: Schedule
name: s
spec:
  timeZone: {tz}
  start: "{start}"
  end: "{end}"
---
kind: Campaign
name: c
provider: swarms
spec: {{title: C, schedule: s}}
"""


def test_schedule_end_before_start(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "s.yaml", SCHEDULED.format(tz="Europe/Berlin", start="2026-12-20T18:00", end="2026-12-01T09:00"))
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert only(diags, output) == ("s.yaml", 6, 8, "spec.end: 2026-12-01T09:00 is not after start 2026-12-20T18:00")


def test_unknown_time_zone(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "s.yaml", SCHEDULED.format(tz="Mars/Olympus_Mons", start="2026-12-01T09:00", end="2026-12-20T18:00"))
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert only(diags, output) == ("s.yaml", 4, 13, "spec.timeZone: unknown time zone 'Mars/Olympus_Mons'")


def test_platform_rules_are_checked_even_when_other_files_have_errors(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", PROVIDER)
    write(tmp_path, "s.yaml", SCHEDULED.format(tz="UTC", start="2026-12-20T18:00", end="2026-12-01T09:00"))
    write(tmp_path, "broken.yaml", "kind: Job\nname: j\nprovider: swarms\nspec: {tasks: [nope]}\n")
    code, output, diags = validate(".", tmp_path)
    assert code == 1
    assert sorted((f, line) for f, line, *_ in diags) == [("broken.yaml", 4), ("s.yaml", 6)], output


def test_a_microworkers_typo_is_one_microworkers_error_not_swarms_ones(tmp_path: Path) -> None:
    """Issue 23: the spec of a Campaign is checked by its provider's platform's schema, whatever
    fields it has: a misspelt paymentPerTask is that one field, reported once."""
    config = copy_example("microworkers-survey", tmp_path)
    campaigns = config / "campaigns.yaml"
    text = campaigns.read_text()
    assert text.count("paymentPerTask: 0.75") == 1
    campaigns.write_text(text.replace("paymentPerTask: 0.75", "paymentPerTsk: 0.75"))
    code, output, diags = validate(".", config)
    assert code == 1
    file, line, _, message = only(diags, output)
    assert (file, line) == ("campaigns.yaml", text[: text.index("paymentPerTask: 0.75")].count("\n") + 1)
    assert "paymentPerTsk" in message and "paymentPerTask" in message, message  # unknown field, did you mean
