"""The JSON Schemas in schemas/: well-formed, and they accept good documents and pin-point bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from campaignctl import schemas
from campaignctl.platforms import PLATFORMS
from campaignctl.schema_export import platform_entry

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_FILES = sorted(SCHEMAS.rglob("*.json"))
COMPONENT_TYPES = [
    "AudioRecording", "BinaryChoice", "BinaryImageChoice", "ImageMarker", "Rating", "Stepper",
    "TextInput", "Toggle", "VideoRecording", "Audio", "Image", "Text", "Video",
]


def entry_of(provider_type: str) -> str:
    """The editor entry schema of a repo whose providers are of ``provider_type``."""
    return f"{PLATFORMS[provider_type].schemas}/campaignctl.json"


#: the entry schema of a SWARMS repo
SWARMS = entry_of("swarms")
EXAMPLES = SCHEMAS.parent / "examples"
MODELINE = "# yaml-language-server: $schema="


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry() -> Registry:
    resources = []
    for path in SCHEMA_FILES:
        contents = _load(path)
        contents["$id"] = path.as_uri()
        resources.append((path.as_uri(), Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def validator(registry: Registry, rel: str) -> Draft202012Validator:
    uri = (SCHEMAS / rel).as_uri()
    return Draft202012Validator(registry.contents(uri), registry=registry)


def errors(registry: Registry, rel: str, instance) -> list:
    return list(validator(registry, rel).iter_errors(instance))


def assert_valid(registry: Registry, rel: str, instance) -> None:
    errs = errors(registry, rel, instance)
    assert not errs, [(list(e.absolute_path), e.message) for e in errs]


def assert_error(registry: Registry, rel: str, instance, path: list, *fragments: str, count: int = 1) -> None:
    """The expected error (at `path`, every fragment in its message) and `count` errors in all."""
    errs = errors(registry, rel, instance)
    found = [(list(e.absolute_path), e.message) for e in errs]
    assert any(
        list(e.absolute_path) == path and all(f in e.message for f in fragments) for e in errs
    ), found
    assert len(errs) == count, found  # and nothing else is reported


# --------------------------------------------------------------------------- the files themselves

def test_expected_files_exist():
    names = {p.relative_to(SCHEMAS).as_posix() for p in SCHEMA_FILES}
    expected = {
        "document.json", "campaignctl.json", "Provider.json", "Schedule.json",
        "swarms/Component.json", "swarms/components/component.json", "swarms/Task.json", "swarms/Job.json",
        "swarms/Campaign.json", *(f"swarms/components/{t}.json" for t in COMPONENT_TYPES),
        *(f"{p.schemas}/{name}" for p in PLATFORMS.values() for name in ("Provider.json", "campaignctl.json")),
    }
    assert expected <= names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SCHEMAS).as_posix())
def test_schema_file_is_valid_draft_2020_12(path: Path):
    schema = _load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema, "no $id: the loader registers files under their file:// URI"
    assert schema.get("title") and schema.get("description")
    Draft202012Validator.check_schema(schema)


def _declared_properties(node, where=""):
    """Yield (location, name, subschema) for every declared property, skipping conditional branches."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("if", "then", "else", "not", "dependentSchemas"):
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield where, name, sub
                    yield from _declared_properties(sub, f"{where}/properties/{name}")
            else:
                yield from _declared_properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _declared_properties(item, f"{where}/{i}")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SCHEMAS).as_posix())
def test_every_property_has_a_description(path: Path):
    missing = [
        f"{where}/{name}"
        for where, name, sub in _declared_properties(_load(path))
        if isinstance(sub, dict) and not sub.get("description")
    ]
    assert not missing


def test_component_type_enum_matches_files():
    schema = _load(SCHEMAS / "swarms/components/component.json")
    assert schema["properties"]["type"]["enum"] == COMPONENT_TYPES
    assert [b["if"]["properties"]["type"]["const"] for b in schema["allOf"]] == COMPONENT_TYPES


# --------------------------------------------------------------------------- good documents

PROVIDER_SANDBOX = {"kind": "Provider", "name": "swarms", "spec": {"type": "swarms", "endpoint": "sandbox"}}
COMPONENT = {"kind": "Component", "name": "five-stars", "spec": {"type": "Rating", "properties": {"steps": 5, "halfSteps": False}}}
TASK = {
    "kind": "Task",
    "name": "rate-image",
    "provider": "swarms",
    "spec": {
        "components": [
            {"type": "Text", "properties": {"text": "How good is this photo?", "style": "Question"}},
            {"type": "Image", "properties": {"url": "https://example.org/a.jpg"}, "sticky": True},
            {"type": "BinaryImageChoice", "properties": {
                "option1": {"id": "a", "url": "https://example.org/a.jpg", "label": "A"},
                "option2": {"id": "b", "url": "https://example.org/b.jpg"},
            }},
            {"type": "Stepper", "properties": {"min": 0, "max": 10, "step": 0.5, "start": 5}},
            {"type": "Toggle", "properties": {"label": "Blurry?", "checkedByDefault": False, "explanation": "x"}},
            {"type": "VideoRecording", "properties": {"orientation": "portrait", "maxDurationInSeconds": 30}},
            {"type": "TextInput"},
            {"type": "Video", "properties": {"url": "https://example.org/v.mp4", "mustWatch": True, "playAudio": False}},
            {"use": "five-stars"},
            {"use": "five-stars", "properties": {"steps": 10}, "optionalResult": True},
        ],
        "properties": {"team": "vision"},
    },
}
JOB = {"kind": "Job", "name": "rate-batch-1", "provider": "swarms",
       "spec": {"description": "Batch 1", "tasks": ["rate-image", "rate-image"]}}
SCHEDULE = {"kind": "Schedule", "name": "december",
            "spec": {"timeZone": "UTC", "start": "2026-12-01T09:00", "end": "2026-12-20T18:00"}}
CAMPAIGN = {
    "kind": "Campaign",
    "name": "image-rating",
    "provider": "swarms",
    "protect": True,
    "ignoreChanges": ["description"],
    "movedFrom": "old-image-rating",
    "spec": {
        "title": "Review model images",
        "description": "Rate 20 images",
        "estDuration": "10 sec",
        "maxWorkTime": "10 min",
        "maxUploadTime": "4 hours",
        "maxReviewTime": "3hours",
        "workerPayment": 0.01,
        "results": 3,
        "maxResultsPerWorker": 1,
        "workerGroup": 1,
        "training": False,
        "jobs": ["rate-batch-1"],
        "schedule": "december",
        "state": "active",
    },
}
GOOD_DOCUMENTS = [PROVIDER_SANDBOX, COMPONENT, TASK, JOB, SCHEDULE, CAMPAIGN]


@pytest.mark.parametrize("doc", GOOD_DOCUMENTS, ids=lambda d: d["kind"])
def test_good_documents_pass(registry, doc):
    assert_valid(registry, "document.json", doc)
    assert_valid(registry, "campaignctl.json", doc)
    assert_valid(registry, SWARMS, doc)


@pytest.mark.parametrize("spec", [
    {"type": "swarms", "endpoint": "https://api.swarms.com", "auth": {"tokenEnv": "SWARMS_TOKEN"},
     "parallelism": 8, "timeout": 30, "pageSize": 100},
    {"type": "swarms", "endpoint": "https://api.swarms.com", "auth": {"emailEnv": "SWARMS_EMAIL", "passwordEnv": "SWARMS_PASSWORD"}},
    {"type": "microworkers", "endpoint": "https://ttv.microworkers.com/api/v2", "auth": {"apiKeyEnv": "MW_API_KEY"}, "timeout": 2.5},
    {"type": "microworkers-v1", "endpoint": "http://127.0.0.1:8080", "auth": {"tokenEnv": "MW_KEY"}},
    {"type": "microworkers", "endpoint": "sandbox"},
], ids=["token", "email-password", "apikey", "v1-token-http", "sandbox"])
def test_provider_auth_forms(registry, spec):
    assert_valid(registry, "Provider.json", spec)
    assert_valid(registry, f"{PLATFORMS[spec['type']].schemas}/Provider.json", spec)
    assert_valid(registry, "campaignctl.json", {"kind": "Provider", "name": "p", "spec": spec})
    assert_valid(registry, entry_of(spec["type"]), {"kind": "Provider", "name": "p", "spec": spec})
    assert not list(schemas.validator("Provider.json").iter_errors(spec))  # the loader's, composed


def test_advanced_and_standard_schedules(registry):
    assert_valid(registry, "Schedule.json", {
        "timeZone": "Europe/Berlin", "start": "2026-12-01T09:00", "end": "2026-12-20T18:00",
        "daysOfWeek": ["mon", "tue", "fri"], "workingHours": {"from": "09:00", "to": "17:30"},
        "limitPerDay": 100, "limitPerHour": 10,
    })
    assert_valid(registry, "Schedule.json", {
        "timeZone": "America/New_York", "limitPerHour": 5,
        "events": [
            {"type": "one-time", "start": "2026-12-24T08:00", "end": "2026-12-24T20:00", "limit": 50},
            {"type": "recurring", "start": "2026-12-01T09:00", "end": "2026-12-31T17:00", "daysOfWeek": ["sat", "sun"]},
        ],
    })


def test_every_component_type_validates_its_properties(registry):
    minimal = {"AudioRecording": {}, "BinaryChoice": {"option1": "yes", "option2": "no"},
               "BinaryImageChoice": {"option1": {"id": "1", "url": "u"}, "option2": {"id": "2", "url": "v"}},
               "ImageMarker": {"url": "u"}, "Rating": {"steps": 5}, "Stepper": {"min": 1, "max": 3},
               "TextInput": {"hint": "h"}, "Toggle": {"label": "l"}, "VideoRecording": {"orientation": "any"},
               "Audio": {"url": "u", "autoplay": True, "repeat": False, "mustListen": True}, "Image": {"url": "u"},
               "Text": {"text": "t", "style": "Html"}, "Video": {"url": "u"}}
    assert sorted(minimal) == sorted(COMPONENT_TYPES)
    for t, props in minimal.items():
        assert_valid(registry, "swarms/components/component.json", {"type": t, "properties": props})
        assert errors(registry, "swarms/components/component.json", {"type": t, "properties": {**props, "bogus": 1}})


# --------------------------------------------------------------------------- bad documents

def _task(*components):
    return {"kind": "Task", "name": "t", "provider": "swarms", "spec": {"components": list(components)}}


def test_unknown_attribute_on_rating(registry):
    doc = _task({"type": "Text", "properties": {"text": "hi"}}, {"type": "Rating", "properties": {"steps": 5, "halfStep": True}})
    assert_error(registry, SWARMS, doc, ["spec", "components", 1, "properties"], "'halfStep' was unexpected")


def test_rating_missing_steps(registry):
    doc = _task({"type": "Rating", "properties": {"halfSteps": True}})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0, "properties"], "'steps' is a required property")
    doc = _task({"type": "Rating"})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0], "'properties' is a required property")


def test_wrong_type(registry):
    doc = _task({"type": "Rating", "properties": {"steps": "five"}})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0, "properties", "steps"], "'five' is not of type 'integer'")
    doc = _task({"type": "Audio", "properties": {"url": "u", "autoplay": "yes"}})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0, "properties", "autoplay"], "not of type 'boolean'")


def test_unknown_component_type(registry):
    doc = _task({"type": "Slider", "properties": {"min": 1}})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0, "type"], "'Slider' is not one of")


def test_use_reference_is_checked_as_a_use(registry):
    doc = _task({"use": "five-stars", "type": "Rating"})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0], "'type' was unexpected")
    doc = _task({"use": "Bad Name!"})
    assert_error(registry, SWARMS, doc, ["spec", "components", 0, "use"], "does not match")


def test_empty_components(registry):
    doc = _task()
    assert_error(registry, SWARMS, doc, ["spec", "components"], "should be non-empty")


def _campaign(**spec):
    return {"kind": "Campaign", "name": "c", "provider": "swarms", "spec": {"title": "T", **spec}}


def test_misspelt_campaign_field(registry):
    assert_error(registry, SWARMS, _campaign(workerPaymnet=0.1), ["spec"], "'workerPaymnet' was unexpected")


def test_bad_duration(registry):
    assert_valid(registry, SWARMS, _campaign(maxWorkTime="10 minutes", estDuration="1 day"))
    assert_error(registry, SWARMS, _campaign(maxWorkTime="10 mins"), ["spec", "maxWorkTime"], "does not match")
    assert_error(registry, SWARMS, _campaign(estDuration="ten sec"), ["spec", "estDuration"], "does not match")


def test_schedule_and_start_date_are_exclusive(registry):
    assert_valid(registry, SWARMS, _campaign(startDate="2026-12-01T09:00", endDate="2026-12-02T09:00"))
    doc = _campaign(schedule="december", startDate="2026-12-01T09:00")
    assert_error(registry, SWARMS, doc, ["spec", "startDate"], "should not be valid under", "not allowed together with schedule")


def test_bad_date_format(registry):
    doc = _campaign(endDate="2026-12-01 09:00")
    assert_error(registry, SWARMS, doc, ["spec", "endDate"], "does not match")


def test_bad_state(registry):
    assert_error(registry, SWARMS, _campaign(state="finished"), ["spec", "state"], "'finished' is not one of")


def test_campaign_needs_title(registry):
    doc = {"kind": "Campaign", "name": "c", "provider": "swarms", "spec": {"results": 3}}
    assert_error(registry, SWARMS, doc, ["spec"], "'title' is a required property")


def test_provider_missing_on_task(registry):
    doc = {"kind": "Task", "name": "t", "spec": {"components": [{"type": "Image", "properties": {"url": "u"}}]}}
    assert_error(registry, "document.json", doc, [], "'provider' is a required property")
    assert_error(registry, "campaignctl.json", doc, [], "'provider' is a required property")


def test_provider_forbidden_on_schedule(registry):
    doc = {**SCHEDULE, "provider": "swarms"}
    assert_error(registry, "campaignctl.json", doc, ["provider"], "should not be valid under", "only allowed on resources")


def test_bad_envelope(registry):
    assert_error(registry, "campaignctl.json", {**JOB, "kind": "Jobs"}, ["kind"], "'Jobs' is not one of")
    assert_error(registry, "campaignctl.json", {**JOB, "name": "-bad"}, ["name"], "does not match")
    assert_error(registry, "campaignctl.json", {**JOB, "protected": True}, [], "'protected' was unexpected")


def test_job_tasks(registry):
    bad = {**JOB, "spec": {"tasks": []}}
    assert_error(registry, SWARMS, bad, ["spec", "tasks"], "should be non-empty")
    bad = {**JOB, "spec": {"tasks": ["a"], "propertise": {}}}
    assert_error(registry, SWARMS, bad, ["spec"], "'propertise' was unexpected")


@pytest.mark.parametrize(("spec", "path", "fragment"), [
    ({"type": "swarms", "endpoint": "api.swarms.com"}, ["endpoint"], "does not match"),
    ({"type": "swarms", "endpoint": "sandbox", "auth": {"tokenEnv": "swarms-token"}}, ["auth", "tokenEnv"], "does not match"),
    ({"type": "swarms", "endpoint": "sandbox", "auth": {"emailEnv": "E"}}, ["auth"], "'passwordEnv' is a dependency"),
    ({"type": "swarms", "endpoint": "sandbox", "auth": {"apiKeyEnv": "K"}}, ["auth", "apiKeyEnv"], "should not be valid under"),
    ({"type": "microworkers", "endpoint": "sandbox", "auth": {"tokenEnv": "T", "apiKeyEnv": "K"}}, ["auth", "apiKeyEnv"], "either tokenEnv or apiKeyEnv"),
    ({"type": "microworkers-v1", "endpoint": "sandbox", "auth": {"emailEnv": "E"}}, ["auth", "emailEnv"], "are for SWARMS providers"),
    ({"type": "swarms", "endpoint": "sandbox", "auth": {}}, ["auth"], "should be non-empty"),
    ({"type": "swarms", "endpoint": "sandbox", "auth": {"token": "abc"}}, ["auth"], "'token' was unexpected"),
    ({"type": "swarms", "endpoint": "sandbox", "parallelism": 0}, ["parallelism"], "less than the minimum"),
    ({"type": "swarms", "endpoint": "sandbox", "pageSize": 101}, ["pageSize"], "greater than the maximum"),
    ({"type": "swarms", "endpoint": "sandbox", "timeout": 0}, ["timeout"], "less than or equal to the minimum"),
])
def test_bad_providers(registry, spec, path, fragment):
    """One error, the same from the platform's entry schema (an editor) and the loader's schema."""
    doc = {"kind": "Provider", "name": "p", "spec": spec}
    assert_error(registry, entry_of(spec["type"]), doc, ["spec", *path], fragment)
    found = [(list(e.absolute_path), e.message) for e in schemas.validator("Provider.json").iter_errors(spec)]
    assert len(found) == 1 and found[0][0] == path and fragment in found[0][1], found


def test_the_provider_type_is_checked_by_the_loader_and_by_a_platform_entry(registry):
    doc = {"kind": "Provider", "name": "p", "spec": {"type": "swarm", "endpoint": "sandbox"}}
    assert_valid(registry, "campaignctl.json", doc)  # the shared schemas name no platform
    assert_error(registry, SWARMS, doc, ["spec", "type"], "'swarms' was expected")
    (error,) = schemas.validator("Provider.json").iter_errors(doc["spec"])
    assert list(error.absolute_path) == ["type"] and error.validator == "enum"
    assert sorted(error.validator_value) == sorted(PLATFORMS)  # the registry's types, every one
    # a Microworkers provider in a SWARMS repo's file: its entry schema says so
    mw = {**doc, "spec": {"type": "microworkers", "endpoint": "sandbox", "auth": {"apiKeyEnv": "K"}}}
    assert_error(registry, SWARMS, mw, ["spec", "type"], "'swarms' was expected", count=2)


def test_provider_auth_mixed_forms(registry):
    spec = {"type": "swarms", "endpoint": "sandbox", "auth": {"tokenEnv": "T", "emailEnv": "E", "passwordEnv": "P"}}
    doc = {"kind": "Provider", "name": "p", "spec": spec}
    assert_error(registry, SWARMS, doc, ["spec", "auth", "emailEnv"], "either tokenEnv or emailEnv", count=2)
    assert len(list(schemas.validator("Provider.json").iter_errors(spec))) == 2
    spec = {"type": "microworkers", "endpoint": "sandbox", "auth": {"emailEnv": "E", "passwordEnv": "P"}}
    doc = {"kind": "Provider", "name": "p", "spec": spec}
    assert_error(registry, entry_of("microworkers"), doc, ["spec", "auth", "passwordEnv"], "are for SWARMS providers", count=2)
    assert len(list(schemas.validator("Provider.json").iter_errors(spec))) == 2


@pytest.mark.parametrize(("spec", "path", "fragment"), [
    ({"start": "2026-12-01T9:00"}, ["start"], "does not match"),
    ({"daysOfWeek": ["mon", "mon"]}, ["daysOfWeek"], "non-unique"),
    ({"daysOfWeek": ["monday"]}, ["daysOfWeek", 0], "is not one of"),
    ({"workingHours": {"from": "09:00"}}, ["workingHours"], "'to' is a required property"),
    ({"limitPerDay": 0}, ["limitPerDay"], "less than the minimum"),
    ({"events": [{"type": "one-time", "start": "2026-12-01T09:00", "end": "2026-12-01T10:00", "daysOfWeek": ["mon"]}]},
     ["events", 0, "daysOfWeek"], "should not be valid under"),
    ({"events": [{"type": "weekly", "start": "2026-12-01T09:00", "end": "2026-12-01T10:00"}]}, ["events", 0, "type"], "is not one of"),
    ({"daysOfWeek": ["mon"], "events": [{"type": "one-time", "start": "2026-12-01T09:00", "end": "2026-12-01T10:00"}]},
     ["daysOfWeek"], "should not be valid under"),
    ({"timezone": "UTC"}, [], "'timezone' was unexpected"),
])
def test_bad_schedules(registry, spec, path, fragment):
    doc = {"kind": "Schedule", "name": "s", "spec": spec}
    assert_error(registry, "campaignctl.json", doc, ["spec", *path], fragment)


# --------------------------------------------------------------------------- the platforms' schemas

def test_the_platform_entry_schemas_are_made_from_the_registry():
    """schemas/<p>/campaignctl.json is schema_export.platform_entry(p): the shared entry schema,
    the platform's part of the Provider spec, the kinds it brings and its provider's kinds."""
    for platform in PLATFORMS.values():
        on_disk = _load(SCHEMAS / platform.schemas / "campaignctl.json")
        assert on_disk == json.loads(json.dumps(platform_entry(platform))), platform.type
        picked = {b["if"]["properties"]["kind"]["const"]: b["then"]["properties"]["spec"]["$ref"] for b in on_disk["allOf"]}
        assert all((SCHEMAS / platform.schemas / ref).is_file() for ref in picked.values())


def test_the_schema_folders_agree_with_the_registry():
    """The loader reads the platforms' folders (it is below the registry, which names their code):
    each registry platform's folder has its Provider part, with its type, and its shared kinds."""
    assert schemas.platform_folders() == {p.type: p.schemas for p in PLATFORMS.values()}
    for platform in PLATFORMS.values():
        assert _load(SCHEMAS / platform.schemas / "Provider.json")["properties"]["type"]["const"] == platform.type
        for kind in platform.shared_kinds:
            assert schemas.kind_schema(kind, None) == f"{platform.schemas}/{kind}.json"
        for kind in ("Campaign", "Task", "Template"):
            assert schemas.kind_schema(kind, platform.type) == f"{platform.schemas}/{kind}.json"
    assert schemas.kind_schema("Schedule", None) == "Schedule.json"
    assert schemas.composed()["Provider.json"]["properties"]["type"]["enum"] == list(schemas.platform_folders())


def _typo_campaign() -> dict:
    docs = yaml.safe_load_all((EXAMPLES / PLATFORMS["microworkers"].example / "campaigns.yaml").read_text())
    doc = next(d for d in docs if d["name"] == "beta-feedback")
    doc["spec"]["paymentPerTsk"] = doc["spec"].pop("paymentPerTask")
    return doc


def test_a_microworkers_typo_gives_microworkers_errors_not_swarms_ones(registry):
    """Issue 23: the Campaign schema is picked by the provider's platform, not by which payment
    field the spec has. A Microworkers repo's entry schema checks every Campaign as a Microworkers
    one: a misspelt paymentPerTask is that field's error, not a page of SWARMS ones."""
    doc = _typo_campaign()
    found = [(list(e.absolute_path), e.message) for e in errors(registry, entry_of("microworkers"), doc)]
    assert (["spec"], "Additional properties are not allowed ('paymentPerTsk' was unexpected)") in found, found
    assert not any("unpublished" in m or "'title'" in m or "results" in m for _, m in found), found  # SWARMS words
    assert len(found) <= 2, found  # the misspelt field (and its missing required twin), nothing else
    # the shared entry schema checks no resource's spec: no guess at a platform
    assert_valid(registry, "campaignctl.json", doc)
    assert "paymentPerTask" not in json.dumps([_load(SCHEMAS / "campaignctl.json"), _load(SCHEMAS / "document.json")])


def test_every_example_names_its_platforms_entry_schema_and_validates_against_it(registry):
    """Each platform's example points its modeline at schemas/<p>/campaignctl.json, and every
    document there passes it (as an editor checks it: the files as they are, stock jsonschema)."""
    checked = 0
    for platform in PLATFORMS.values():
        files = sorted((EXAMPLES / platform.example).rglob("*.yaml"))
        assert files, platform.example
        for file in files:
            first = file.read_text().splitlines()[0]
            assert first.startswith(MODELINE), file
            target = (file.parent / first[len(MODELINE):]).resolve()
            assert target == SCHEMAS / platform.schemas / "campaignctl.json", file
            for doc in yaml.safe_load_all(file.read_text()):
                assert_valid(registry, entry_of(platform.type), doc)
                checked += 1
    assert checked >= 15
