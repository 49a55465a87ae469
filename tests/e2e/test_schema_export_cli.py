"""`campaignctl schema export DIR` (issue 23): a bundle for editors outside this repo, each schema
with an $id, whose entry schema picks a resource's schema by its provider's type (never by which
fields its spec has) and checks a Provider by its type."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from campaignctl.platforms import PLATFORMS
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
    platform_entries = {f"{p.schemas}/campaignctl.json" for p in PLATFORMS.values()}
    assert platform_entries <= set(sources)  # the repo's, for a repo of one platform; not in a bundle
    assert sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*.json")) == [s for s in sources if s not in platform_entries]
    for rel in sources:
        if rel not in platform_entries:
            assert json.loads((bundle / rel).read_text())["$id"] == f"https://example.org/schemas/v1/{rel}"

    doc = typo_campaign(config)
    picked = errors_of(bundle, doc, by_id=True)
    assert any("paymentPerTsk" in m for m in picked), picked
    assert not any(SWARMS in m for m in picked), picked  # no SWARMS errors
    # the repo's shared entry schema guesses no platform: a resource's spec is its platform's entry's
    assert errors_of(schema_dir(), doc, by_id=False) == []
    # a resource of a provider the config does not name: its envelope only, never a guess
    stranger = {**doc, "provider": "other"}
    assert errors_of(bundle, stranger, by_id=True) == []
    assert errors_of(bundle, {**stranger, "protected": True}, by_id=True) == ["Additional properties are not allowed ('protected' was unexpected)"]


def test_the_bundle_checks_a_provider_by_its_type(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    bundle = tmp_path / "bundle"
    assert run_cli("schema", "export", bundle, "--config", config).code == 0
    def provider(spec: dict[str, Any]) -> list[str]:
        return errors_of(bundle, {"kind": "Provider", "name": "p", "spec": spec}, by_id=True)

    for type_ in PLATFORMS:
        assert provider({"type": type_, "endpoint": "sandbox"}) == []
    assert any("is not one of" in m for m in provider({"type": "swarm", "endpoint": "sandbox"}))
    assert any("is for Microworkers providers" in m for m in provider({"type": "swarms", "endpoint": "sandbox", "auth": {"apiKeyEnv": "K"}}))
    assert provider({"type": "microworkers", "endpoint": "sandbox", "auth": {"apiKeyEnv": "K"}}) == []
    assert any("are for SWARMS providers" in m for m in provider({"type": "microworkers", "endpoint": "sandbox", "auth": {"emailEnv": "E"}}))


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
    alone = run_cli("schema", "export", tmp_path / "y", cwd=config / "data")  # no config here: no resource is picked
    assert alone.code == 0 and "by provider: none" in alone.err, alone.text
    assert errors_of(tmp_path / "y", typo_campaign(config), by_id=True) == []
