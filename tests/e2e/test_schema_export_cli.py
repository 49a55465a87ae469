"""`campaignctl schema export DIR` (issue 23, point 5): a bundle for editors outside this repo,
each schema with an $id, whose entry schema picks a resource's schema by its provider's type."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from campaignctl.schemas import schema_dir
from tests.helpers import copy_example, run_cli

#: in a message only the SWARMS Campaign schema gives (its states)
SWARMS = "'unpublished'"


def errors_of(bundle: Path, doc: dict[str, Any], by_id: bool) -> list[str]:
    """The error messages of ``doc`` against ``bundle/campaignctl.json``, resolved as an editor does:
    by each file's ``$id`` (``by_id``) or by its path."""
    registry: Registry = Registry()
    for path in bundle.rglob("*.json"):
        data = json.loads(path.read_text())
        uri = data["$id"] if by_id else path.resolve().as_uri()
        registry = registry.with_resource(uri, Resource.from_contents({**data, "$id": uri}))
    entry = json.loads((bundle / "campaignctl.json").read_text())
    if not by_id:
        entry["$id"] = (bundle / "campaignctl.json").resolve().as_uri()
    validator = Draft202012Validator(entry, registry=registry)
    return sorted(e.message for e in validator.iter_errors(doc)) + [
        sub.message for e in validator.iter_errors(doc) for sub in (e.context or [])
    ]


def typo_campaign(config: Path) -> dict[str, Any]:
    docs = list(yaml.safe_load_all((config / "campaigns.yaml").read_text()))
    doc = next(d for d in docs if d["name"] == "beta-feedback")
    doc["spec"]["paymentPerTsk"] = doc["spec"].pop("paymentPerTask")  # the typo
    return doc


def test_export_writes_every_schema_with_an_id_and_picks_by_provider_type(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    bundle = tmp_path / "bundle"
    done = run_cli("schema", "export", bundle, "--config", config, "--base-uri", "https://example.org/schemas/v1")
    assert done.code == 0, done.text
    sources = sorted(p.relative_to(schema_dir()).as_posix() for p in schema_dir().rglob("*.json"))
    assert sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*.json")) == sources
    for rel in sources:
        assert json.loads((bundle / rel).read_text())["$id"] == f"https://example.org/schemas/v1/{rel}"

    doc = typo_campaign(config)
    picked = errors_of(bundle, doc, by_id=True)
    assert any("paymentPerTsk" in m for m in picked), picked
    assert not any(SWARMS in m for m in picked), picked  # no SWARMS errors
    # the schemas as shipped in the repo guess by the payment field: the typo reads as SWARMS
    repo_errors = errors_of(schema_dir(), doc, by_id=False)
    assert any(SWARMS in m for m in repo_errors), repo_errors


def test_export_defaults_to_the_bundle_location_and_the_current_config(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    done = run_cli("schema", "export", "editor-schemas", cwd=config)
    assert done.code == 0 and "mw (microworkers)" in done.err, done.text
    bundle = config / "editor-schemas"
    assert json.loads((bundle / "document.json").read_text())["$id"] == (bundle / "document.json").resolve().as_uri()
    picked = errors_of(bundle, typo_campaign(config), by_id=True)
    assert any("paymentPerTsk" in m for m in picked) and not any(SWARMS in m for m in picked), picked
    none = run_cli("schema", "export", tmp_path / "x", "--config", config / "data")
    assert none.code == 1 and "no Provider document" in none.err
