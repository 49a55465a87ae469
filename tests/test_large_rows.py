"""Large task data (issue 23, point 2): rows are streamed and kept compact, not held as objects."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import copy_example


def test_200000_task_rows_validate_in_bounded_memory(tmp_path: Path) -> None:
    """Held as Row objects, 200,000 rows (14 MB of CSV) took ~250 MB more; streamed and kept as
    id + digest + line, the whole validate stays under 150 MB (1,000,000 rows: 176-190 MB)."""
    config = copy_example("microworkers-survey", tmp_path)
    with (config / "data" / "rows.csv").open("w") as fh:
        fh.write("id,url,brand\n")
        fh.writelines(f"site{i:07d},https://site{i:07d}.example.com/page,Brand number {i}\n" for i in range(200_000))
    env = {**os.environ, "CAMPAIGNCTL_CACHE_DIR": "off", "NO_COLOR": "1"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "campaignctl", "validate", str(config)], env=env,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        assert proc.returncode == 0, err.read().decode()
    peak_mb = usage.ru_maxrss / 1024
    assert peak_mb < 150, f"validate of 200,000 rows peaked at {peak_mb:.0f} MB"
