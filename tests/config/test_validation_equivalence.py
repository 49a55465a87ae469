"""Validation: the dispatching ``allOf`` reports exactly what stock jsonschema reports, and the
cache of passed documents skips only documents that passed, with the same schemas."""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from campaignctl import schemas
from campaignctl.config import valid_cache
from campaignctl.errors import ConfigError
from campaignctl.platforms import PLATFORMS
from campaignctl.validation import load_config
from tests.helpers import copy_example

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@cache
def stock_validator(rel: str) -> Draft202012Validator:
    """The stock jsonschema validator of ``schemas/<rel>``, with the registry as the schemas are."""
    registry: Registry = Registry()
    docs = {}
    for path in sorted(schemas.schema_dir().rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("$id", path.resolve().as_uri())
        docs[path.relative_to(schemas.schema_dir()).as_posix()] = data
        registry = registry.with_resource(data["$id"], Resource.from_contents(data))
    for name, data in schemas.composed().items():  # the Provider schema the loader composes, as the loader registers it
        data = {**data, "$id": (schemas.schema_dir() / name).resolve().with_suffix(".composed.json").as_uri()}
        docs[name] = data
        registry = registry.with_resource(data["$id"], Resource.from_contents(data))
    return Draft202012Validator(docs[rel], registry=registry)


def errors(validator: Any, instance: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(map(str, e.absolute_path)), e.validator, e.message, tuple(map(str, e.relative_schema_path)))
        for e in validator.iter_errors(instance)
    )


def component_cases() -> list[Any]:
    """Every component of the examples, each with its type swapped for every other type, its
    properties emptied, removed, or of a wrong type, and a few that are not objects at all."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str) and "properties" in node and "use" not in node:
                found.append(json.loads(json.dumps(node)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    import yaml

    for file in EXAMPLES.rglob("*.yaml"):
        try:
            for doc in yaml.safe_load_all(file.read_text()):
                walk(doc)
        except yaml.YAMLError:
            continue  # examples/invalid
    types = schemas.schema("swarms/components/component.json")["properties"]["type"]["enum"]
    cases: list[Any] = [None, 3, "Text", [], {}, {"type": 7}, {"type": None}, {"type": "Nope", "properties": {}}]
    for component in found:
        for t in types:
            cases.append({**component, "type": t})
        cases.append({**component, "properties": {}})
        cases.append({k: v for k, v in component.items() if k != "properties"})
        cases.append({**component, "properties": "text"})
        cases.append({**component, "extra": True})
    return cases


def test_examples_have_components_of_several_types() -> None:
    assert len({c.get("type") for c in component_cases() if isinstance(c, dict)}) >= 13


@pytest.mark.parametrize("rel", ["swarms/components/component.json", "swarms/Component.json", "swarms/Task.json"])
def test_dispatching_validator_reports_what_stock_jsonschema_reports(rel: str) -> None:
    ours, stock = schemas.validator(rel), stock_validator(rel)
    for case in component_cases():
        instance = {"components": [case]} if rel == "swarms/Task.json" else case
        assert errors(ours, instance) == errors(stock, instance), instance


def test_every_schema_agrees_with_stock_jsonschema_on_the_examples() -> None:
    import yaml

    checked = 0
    for file in EXAMPLES.rglob("*.yaml"):
        try:
            docs = [d for d in yaml.safe_load_all(file.read_text()) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        for doc in docs:
            assert errors(schemas.validator("document.json"), doc) == errors(stock_validator("document.json"), doc)
            for rel in (f"{doc.get('kind')}.json", *(f"{p.schemas}/{doc.get('kind')}.json" for p in PLATFORMS.values())):
                if schemas.has_schema(rel) and isinstance(doc.get("spec"), dict):
                    broken = copy.deepcopy(doc["spec"])
                    broken["unexpected"] = 1
                    for spec in (doc["spec"], broken):
                        assert errors(schemas.validator(rel), spec) == errors(stock_validator(rel), spec), (file, rel)
                        checked += 1
    assert checked > 20


# -- the cache of passed documents -----------------------------------------------------------
@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    """Counts the documents validated; the cache in a directory of this test's own."""
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    calls = {"n": 0}
    real = schemas.validator

    class Counting:
        def __init__(self, rel: str) -> None:
            self.inner = real(rel)

        def iter_errors(self, instance: Any) -> Any:
            calls["n"] += 1
            return self.inner.iter_errors(instance)

    monkeypatch.setattr(schemas, "validator", Counting)
    return calls


def quickstart(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path, to=tmp_path / "repo")


def test_a_second_load_validates_only_what_changed(counted: dict[str, int], tmp_path: Path) -> None:
    repo = quickstart(tmp_path)
    first = load_config(repo)
    cold = counted["n"]
    assert cold >= 2 * len(first.documents)
    counted["n"] = 0
    load_config(repo)
    assert counted["n"] == 0
    campaign = repo / "campaign.yaml"
    campaign.write_text(campaign.read_text().replace("title: Review model images", "title: Review model images again", 1))
    load_config(repo)
    assert counted["n"] == 2  # that document's envelope and spec


def test_the_envelopes_of_an_unchanged_file_are_not_looked_at_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from campaignctl.config import load as load_module

    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    looked: list[str] = []
    real = load_module.schema_diagnostics

    def spy(rel: str, instance: Any, root: Any, prefix: Any, passed: Any = valid_cache.OFF) -> Any:
        if rel == "document.json":
            looked.append(instance["name"])
        return real(rel, instance, root, prefix, passed)

    monkeypatch.setattr(load_module, "schema_diagnostics", spy)
    repo = quickstart(tmp_path)
    first = load_config(repo)
    assert len(looked) == len(first.documents)
    looked.clear()
    assert load_config(repo).documents == first.documents and looked == []  # one key per file, all known
    campaign = repo / "campaign.yaml"
    campaign.write_text(campaign.read_text().replace("title: Review model images", "title: Review model images again", 1))
    load_config(repo)
    assert sorted(looked) == ["december", "image-rating"]  # that file's documents only
    (repo / "extra.yaml").write_text("kind: Schedule\nname: s\nspec: {timeZone: UTC}\nkidn: typo\n")
    for _ in range(2):  # a file with a problem is never trusted whole
        with pytest.raises(ConfigError, match="kidn"):
            load_config(repo)


def test_the_cache_file_is_searched_for_a_few_keys_and_made_a_dict_for_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    keys = [bytes([i]) * valid_cache.DIGEST for i in range(1, 9)]
    first = valid_cache.ValidCache(valid_cache.cache_dir())
    for key in keys:
        first.add(key)
    first.save()
    straddling = keys[2][8:] + keys[3][:8]  # in the file's bytes, but across two digests
    cache = valid_cache.ValidCache(valid_cache.cache_dir())
    assert keys[5] in cache and straddling not in cache and b"\0" * valid_cache.DIGEST not in cache
    assert cache._known is None  # answered from the bytes
    cache.add(straddling)
    for _ in range(valid_cache.SCANS):
        assert keys[0] in cache
    assert cache._known is not None and list(cache.known) == keys  # then a dict, in the file's order
    assert keys[7] in cache and straddling in cache and straddling in cache.added
    cache.save()
    assert list(valid_cache.ValidCache(valid_cache.cache_dir()).known) == [*keys, straddling]


def test_a_document_with_a_problem_is_reported_on_every_run(counted: dict[str, int], tmp_path: Path) -> None:
    repo = quickstart(tmp_path)
    (repo / "extra.yaml").write_text("kind: Schedule\nname: s\nspec: {unknownField: 1}\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknownField"):
            load_config(repo)


def test_the_cache_follows_the_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    a = valid_cache.ValidCache(valid_cache.cache_dir())
    valid_cache._bundle.cache_clear()
    monkeypatch.setattr(valid_cache, "__version__", "another")
    try:
        b = valid_cache.ValidCache(valid_cache.cache_dir())
        assert a.path != b.path and a.key("x.json", {}) != b.key("x.json", {})
    finally:
        valid_cache._bundle.cache_clear()


def test_a_corrupt_or_unwritable_cache_is_ignored(counted: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = quickstart(tmp_path)
    load_config(repo)
    (file,) = (tmp_path / "cache").glob("valid-*.bin")
    file.write_bytes(file.read_bytes()[:-3])  # cut mid-digest
    counted["n"] = 0
    load_config(repo)
    assert counted["n"] > 0  # everything validated again, no error
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(blocker / "cache"))
    load_config(repo)  # cannot write: still loads


def test_the_cache_can_be_turned_off(counted: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", "off")
    repo = quickstart(tmp_path)
    load_config(repo)
    counted["n"] = 0
    load_config(repo)
    assert counted["n"] > 0
    assert not (tmp_path / "cache").exists()


# -- the whole config's checks (references, cycles, platform rules, task rows) -----------------
@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the whole-config checks ran (and what they found)."""
    from campaignctl.config import load

    found: list[int] = []
    real = load._validate

    def counting(*args: Any) -> Any:
        diags = real(*args)
        found.append(len(diags))
        return diags

    monkeypatch.setattr(load, "_validate", counting)
    return found


def test_the_checks_of_an_unchanged_config_are_remembered(checks: list[int], counted: dict[str, int], tmp_path: Path) -> None:
    repo = copy_example("microworkers-survey", tmp_path, to=tmp_path / "repo")
    (rows,) = repo.rglob("*.csv")
    first = load_config(repo)
    assert checks == [0]
    again = load_config(repo)
    assert checks == [0] and again.digest == first.digest  # the same files: not checked again
    rows.write_text(rows.read_text() + rows.read_text().splitlines()[-1] + "\n")  # a row twice: its id
    with pytest.raises(ConfigError, match="duplicate row id"):
        load_config(repo)
    with pytest.raises(ConfigError, match="duplicate row id"):  # a config with a problem: every time
        load_config(repo)
    assert checks == [0, 1, 1]


def test_the_checks_are_not_remembered_without_the_cache(checks: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", "off")
    repo = quickstart(tmp_path)
    load_config(repo)
    load_config(repo)
    assert checks == [0, 0]


def test_an_unusable_data_file_name_is_reported_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_example("microworkers-survey", tmp_path, to=tmp_path / "repo")
    campaigns = repo / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text().replace("tasks: {file: data/rows.csv}", 'tasks: {file: "data/ro\\0ws.csv"}', 1))
    with pytest.raises(ConfigError, match="not a usable file name"):
        load_config(repo)
