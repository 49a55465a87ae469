"""benchmarks/scale.py runs end to end on a tiny repo: the real CLI against the served sandbox."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "scale.py"


def test_scale_benchmark_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--scale", "0.02", "--latency-ms", "0", "--overhead-requests", "100"],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    for step in ("cold apply", "no-op plan", "1-field plan", "1-field apply", "baseline: GET each",
                 "in-process plan cpu_s", "in-process plan peak RSS MB", "overhead/request"):  # fmt: skip
        assert step in out, out
    noop = next(line for line in out.splitlines() if line.strip().startswith("no-op plan"))
    assert "GET=" in noop and "POST=" not in noop and "PUT=" not in noop, noop


def test_large_data_cases_print_their_table() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--large-data", "0.001,0.002"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for case in ("forEach family validate", "forEach family plan", "Microworkers task rows validate",
                 "Microworkers task rows plan", "growth from the smallest"):  # fmt: skip
        assert case in done.stdout, done.stdout
