"""A config of many files stays linear (issue 23, point 2): the document cache is pruned once per
load, not once per file, and keeps one entry per file of the config even past its KEEP."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaignctl.config import doc_cache
from campaignctl.validation import load_config


def test_the_document_cache_is_pruned_once_and_keeps_every_file_of_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(doc_cache, "KEEP", 20)
    config = tmp_path / "repo"
    config.mkdir()
    (config / "p.yaml").write_text("kind: Provider\nname: swarms\nspec: {type: swarms, endpoint: sandbox}\n")
    for i in range(40):
        (config / f"t{i:02d}.yaml").write_text(f"kind: Task\nname: t{i}\nprovider: swarms\nspec: {{components: [{{type: Text, properties: {{text: q{i}}}}}]}}\n")
    prunes: list[Path] = []
    real = doc_cache._prune
    monkeypatch.setattr(doc_cache, "_prune", lambda directory, *a, **k: (prunes.append(directory), real(directory, *a, **k)))
    assert len(load_config(config).resources) == 40
    assert len(prunes) == 1  # once for the 41 files written, not once per file
    assert len(list((tmp_path / "cache").glob("docs-*.bin"))) == 41  # past KEEP: none of its own evicted
    parsed: list[str] = []
    from campaignctl.config import yamlparse

    compose = yamlparse.compose_build
    monkeypatch.setattr(yamlparse, "compose_build", lambda text, file, offset: (parsed.append(file), compose(text, file, offset))[1])
    assert len(load_config(config).resources) == 40
    assert parsed == []  # the second run parses nothing: every file came from the cache
