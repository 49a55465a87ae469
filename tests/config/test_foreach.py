"""forEach expansion (config/foreach.py) without a platform call: schemas, caches, the sandbox."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaignctl import schemas
from campaignctl.errors import ConfigError
from campaignctl.validation import load_config
from tests.helpers import FOREACH_FAMILY as FAMILY
from tests.helpers import write_foreach_config as write_config


def test_the_editor_schema_takes_foreach_and_member_references() -> None:
    doc = {"kind": "Task", "name": "rate-photo", "provider": "swarms", "forEach": {"file": "data/p.csv", "key": "id"},
           "spec": {"components": [{"type": "Text", "properties": {"text": "{{ row.id }}"}}]}}
    assert list(schemas.validator("swarms/campaignctl.json").iter_errors(doc)) == []
    job = {"kind": "Job", "name": "j", "provider": "swarms", "spec": {"tasks": ["rate-photo", "rate-photo[p0001]"]}}
    assert list(schemas.validator("swarms/campaignctl.json").iter_errors(job)) == []
    doc["forEach"] = {"file": "data/p.xlsx", "key": "id"}
    assert list(schemas.validator("swarms/campaignctl.json").iter_errors(doc)) != []


def test_a_data_row_is_checked_again_after_a_cached_pass(tmp_path: Path) -> None:
    """The data file is part of the config's digest: a row edited after a passing (cached) run is
    checked, not taken from the validation cache."""
    config = write_config(tmp_path, 3, FAMILY.replace("style: Question", 'style: "{{ row.style }}"'))
    (config / "data" / "photos.csv").write_text("id,url,style\np1,https://e.org/1.jpg,Question\np2,https://e.org/2.jpg,Question\n")
    assert len(load_config(config).resources) == 2
    assert len(load_config(config).resources) == 2  # from the cache
    (config / "data" / "photos.csv").write_text("id,url,style\np1,https://e.org/1.jpg,Question\np2,https://e.org/2.jpg,Shout\n")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "Shout" in str(err.value) and "main.yaml:15:" in str(err.value)


def test_templates_run_sandboxed(tmp_path: Path) -> None:
    config = write_config(tmp_path, 2, FAMILY.replace("{{ row.url }}", "{{ row.__class__.__mro__ }}"))
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "unsafe" in str(err.value) and "main.yaml:16:" in str(err.value)


def test_jsonl_rows_with_typed_values_and_a_numeric_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, 0, FAMILY.replace("data/photos.csv", "data/photos.jsonl"))
    rows = [{"id": 7, "url": "https://e.org/7.jpg"}, {"id": 8, "url": "https://e.org/8.jpg"}]
    (config / "data" / "photos.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    loaded = load_config(config)
    members = [d for d in loaded.documents if d.kind == "Task"]
    assert [d.name for d in members] == ["rate-photo[7]", "rate-photo[8]"]
    assert members[1].spec["components"][1]["properties"]["url"] == "https://e.org/8.jpg"
    assert members[1].mark("components", 1).line == 16  # a member keeps its template's positions
    (config / "data" / "photos.jsonl").write_text('{"id": 7}\n[1, 2]\n')
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "photos.jsonl:2:1: a JSONL row must be an object" in str(err.value)
