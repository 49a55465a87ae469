"""Every example on its platform against the sandbox in both modes (issue 19, finding 9): normal, and
docs-only (``CAMPAIGNCTL_SANDBOX_DOCS_ONLY=1``: no guessed field, link or route). A provider that
needs a guess fails here. Each converges: apply, an empty plan, an edit, apply, an empty plan."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import copy_example, edit_file, run_cli

#: example -> (file, text, replacement): an edit its platform makes in place
EXAMPLES = {
    "quickstart": ("campaign.yaml", "state: active", "state: paused"),  # SWARMS
    "microworkers-survey": ("campaigns.yaml", "speed: 500", "speed: 400"),  # Microworkers API v2
    "microworkers-legacy": ("campaigns.yaml", "speed: 100", "speed: 250"),  # Microworkers legacy API v1
}


@pytest.mark.parametrize("mode", ["normal", "docs-only"])
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_converges_with_an_edit(tmp_path: Path, example: str, mode: str) -> None:
    config = copy_example(example, tmp_path)
    env = {"CAMPAIGNCTL_SANDBOX_DOCS_ONLY": "1" if mode == "docs-only" else ""}
    applied = run_cli("apply", config, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    empty = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert empty.code == 0, empty.text

    file, old, new = EXAMPLES[example]
    edit_file(config / file, old, new)
    edited = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert edited.code == 2, edited.text
    assert "to replace" in edited.out and "0 to replace, 0 to delete" in edited.out, edited.out
    applied = run_cli("apply", config, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    again = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert again.code == 0, again.text
